"""Process-wide defaults set on import: no telemetry, no chatter, no surprise downloads."""

from __future__ import annotations

import os

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
