"""Peak memory of encoding, measured in this (fresh) process; run by ``cost.memory_mb``.

Reads a JSON request on stdin (model kind, spec, files, optional compression level, texts)
and prints one JSON line: ``resident_mb`` (RSS with the model loaded) and
``peak_memory_mb`` (how far RSS rose above that while encoding). The kernel's high-water
mark is reset after loading (``/proc/self/clear_refs``), so the peak is the encoding's
alone; without that file the lifetime ``ru_maxrss`` is used (an upper bound that may
include loading).
"""

from __future__ import annotations

import gc
import json
import resource
import sys
from pathlib import Path
from typing import Any

MB = 1024


def status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def reset_high_water() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def load(request: dict[str, Any]) -> Any:
    """The model as the run loads it, compressed when the request names a level; returns
    a function texts -> features."""
    from adapteval.config import ModelSpec
    from adapteval.execute import load_model
    from adapteval.plan import ModelRef

    spec = ModelSpec.model_validate(request["spec"])
    folder = Path(request["folder"]) if request["folder"] else None
    tok = Path(request["tokenizer_folder"]) if request["tokenizer_folder"] else None
    model = load_model(ModelRef(spec.label, spec, request["kind"], folder, "probe", tok))
    if request["kind"] == "tfidf":
        return model.vectorizer(request["fit_texts"]).transform
    if request.get("level"):
        from adapteval.models.compress import Level, compressed

        model.model = compressed(model.model, Level(**request["level"]))
    return lambda texts: model.encode(texts, batch_size=len(texts))


def main() -> int:
    request = json.loads(sys.stdin.read())
    encode = load(request)
    texts, batch = request["texts"], int(request["batch_size"])
    gc.collect()
    before = status_kb("VmRSS")
    exact = before is not None and reset_high_water()
    for i in range(0, len(texts), batch):
        encode(texts[i : i + batch])
    if exact:
        peak = status_kb("VmHWM")
        method = "VmHWM after clear_refs"
    else:  # ru_maxrss is in KiB on Linux
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        method = "ru_maxrss (lifetime peak)"
    base = before or 0
    print(json.dumps({"resident_mb": base / MB, "peak_memory_mb": max(0, (peak or 0) - base) / MB,
                      "memory_method": method}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
