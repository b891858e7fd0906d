"""adapteval: does a pretrained model fit *your* tasks?

Adapt candidate models to your labelled tasks (frozen probe, k-shot, ...), score them
with confidence intervals, and summarise customizability and flexibility::

    import adapteval
    results = adapteval.run("suite.yaml")
    results.to_pandas()
"""

from adapteval.core.env import apply_defaults

apply_defaults()

from adapteval._version import __version__  # noqa: E402
from adapteval.api import check, predictions, rank, results, run  # noqa: E402
from adapteval.core.errors import (  # noqa: E402
    AdaptEvalError,
    ConfigError,
    DataError,
    IncompatibleError,
    ModelLoadError,
)
from adapteval.results import Results  # noqa: E402
from adapteval.suite.schema import Suite, load_suite  # noqa: E402
from adapteval.suite.specs import ModelSpec, StrategySpec, TaskSpec  # noqa: E402

__all__ = [
    "AdaptEvalError", "ConfigError", "DataError", "IncompatibleError", "ModelLoadError",
    "ModelSpec", "Results", "StrategySpec", "Suite", "TaskSpec", "__version__", "load_suite",
    "check", "predictions", "rank", "results", "run",
]
