"""Process-wide defaults set on import: no telemetry, no chatter, no surprise downloads."""

from __future__ import annotations

import os
import platform
import sys
from importlib.metadata import PackageNotFoundError, version

QUIET_DEFAULTS = {
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
    "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
    "DO_NOT_TRACK": "true",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "RAY_USAGE_STATS_ENABLED": "0",
    "ORT_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
}


def apply_defaults() -> None:
    for key, value in QUIET_DEFAULTS.items():
        os.environ.setdefault(key, value)


def downloads_allowed() -> bool:
    """Hub downloads happen only when asked for (``--allow-download`` or the env var)."""
    return os.environ.get("ADAPTEVAL_ALLOW_DOWNLOAD", "").lower() in ("1", "true", "yes")


def silence_libraries() -> None:
    """Keep transformers and datasets quiet; adapteval shows its own progress."""
    import logging
    import warnings

    for name in ("transformers", "datasets", "huggingface_hub", "sentence_transformers"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        from transformers.utils import logging as tlog

        tlog.set_verbosity_error()
        tlog.disable_progress_bar()
    except ImportError:  # pragma: no cover - transformers is a dependency
        pass
    warnings.filterwarnings("ignore", module="transformers")
    warnings.filterwarnings("ignore", category=FutureWarning)


def threads() -> int | None:
    """Thread count for torch and onnxruntime (``--threads`` / ADAPTEVAL_THREADS); None keeps
    the libraries' defaults. Fewer threads than cores helps on a machine shared with other
    jobs, where oversubscribed threads mostly wait on each other."""
    value = os.environ.get("ADAPTEVAL_THREADS", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


LIBRARIES = ("adapteval", "torch", "transformers", "scikit-learn", "peft", "onnxruntime")
"""The distributions whose versions each cell's provenance records."""


def library_versions(names: tuple[str, ...] = LIBRARIES) -> dict[str, str | None]:
    """Installed version of each distribution (None: not installed), read from package
    metadata: nothing is imported to learn it."""
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def runtime() -> dict[str, object]:
    """The interpreter and machine a cell ran on, and torch's thread count when torch is
    already loaded (None otherwise: loading it only to ask would cost seconds)."""
    torch = sys.modules.get("torch")
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "threads": int(torch.get_num_threads()) if torch is not None else None,
        "threads_setting": threads(),
    }
