"""Peak memory of encoding, measured in this (fresh) process; run by ``cost.memory_mb``.

Reads a JSON request on stdin (model kind, spec, files, optional compression level, texts)
and prints one JSON line: ``resident_mb`` (RSS with the model loaded) and
``peak_memory_mb`` (how far RSS rose above that while encoding). The kernel's high-water
mark is reset after loading (``/proc/self/clear_refs``), so the peak is the encoding's
alone; without that file the lifetime ``ru_maxrss`` is used (an upper bound that may
include loading).

A request may list several compression ``levels``: the interpreter and its libraries start
once, and each level is measured in a process forked from it (POSIX), so every level
starts from the same clean state.
"""

from __future__ import annotations

import base64
import gc
import json
import os
import resource
import sys
from pathlib import Path
from typing import Any

import numpy as np

from adapteval.core.memory import MB, reset_high_water, status_kb
from adapteval.models.compress import Level, compressed
from adapteval.models.kinds import MODEL_KINDS
from adapteval.models.ref import ModelRef
from adapteval.suite.specs import ModelSpec


def as_json(items: list[Any] | None) -> list[Any] | None:
    """Items as the JSON request carries them: texts as they are, an image array as its
    shape and base64 bytes."""
    if items is None:
        return None
    return [{"shape": list(x.shape), "uint8": base64.b64encode(x.tobytes()).decode("ascii")}
            if isinstance(x, np.ndarray) else x for x in items]


def from_json(items: list[Any] | None) -> list[Any] | None:
    """The items of ``as_json`` back (image arrays rebuilt)."""
    if items is None:
        return None
    return [np.frombuffer(base64.b64decode(x["uint8"]), np.uint8).reshape(x["shape"])
            if isinstance(x, dict) else x for x in items]


def load(request: dict[str, Any], level: dict[str, Any] | None) -> Any:
    """The model as the run loads it, compressed to ``level`` if given; returns a function
    texts -> features."""
    spec = ModelSpec.model_validate(request["spec"])
    folder = Path(request["folder"]) if request["folder"] else None
    tok = Path(request["tokenizer_folder"]) if request["tokenizer_folder"] else None
    kind = MODEL_KINDS.get(request["kind"])
    # the fingerprint keys nothing here
    ref = ModelRef(spec.label, spec, kind.name, folder, "peak-memory", tok, kind.pretrained)
    model = kind.load(ref)
    if level:
        model.model = compressed(model.model, Level(**level))
    return kind.runtime(ref, model, from_json(request["fit_texts"])).encode


def measure(request: dict[str, Any], level: dict[str, Any] | None) -> dict[str, Any]:
    encode = load(request, level)
    texts, batch = from_json(request["texts"]) or [], int(request["batch_size"])
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
    return {"resident_mb": base / MB, "peak_memory_mb": max(0, (peak or 0) - base) / MB,
            "memory_method": method}


def forked(request: dict[str, Any], level: dict[str, Any] | None) -> dict[str, Any]:
    """``measure`` in a child process forked from this one (when the OS can fork)."""
    if not hasattr(os, "fork"):
        return measure(request, level)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: measure, report through the pipe, leave without cleanup
        os.close(read)
        try:
            out = json.dumps(measure(request, level))
        except Exception as exc:  # reported, not raised: the parent stays in charge
            out = json.dumps({"peak_memory_mb": None, "memory_error": repr(exc)[:300]})
        with os.fdopen(write, "w") as fh:
            fh.write(out)
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as fh:
        data = fh.read()
    os.waitpid(pid, 0)
    return json.loads(data)


def main() -> int:
    request = json.loads(sys.stdin.read())
    # the package's libraries are loaded (``-m`` imported ``adapteval.analyses``); the
    # kind's own load once here too, before any fork
    MODEL_KINDS.get(request["kind"]).preload()
    results = [forked(request, level) for level in request.get("levels") or [None]]
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
