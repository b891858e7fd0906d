"""Content fingerprints of model folders: a hash of the weights and config files.

Hashing 90 MB of weights takes seconds, so a fingerprint is computed once and kept in
the cache folder (:func:`adapteval.core.paths.cache_root`) under the files' paths, sizes,
modification times and inodes; while none of those changes it is read back. Rewriting a
file changes its modification time (and replacing it, its inode), so the hash is
recomputed then. The value is the same whether it was read back or computed.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from adapteval.core.paths import cache_root

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".onnx", ".h5", ".msgpack")
CONFIG_NAMES = (
    "config.json",
    "modules.json",
    "sentence_bert_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
    "special_tokens_map.json",
)
FINGERPRINTS = "fingerprints"


def fingerprint_files(paths: list[Path], *, root: Path) -> str:
    """Hash of the files' paths relative to ``root`` and their bytes (read back from the
    cache while the files are unchanged)."""
    paths = sorted(paths)
    stamp = _stamp(paths, root)
    cached = _read(stamp)
    if cached is not None:
        return cached
    h = hashlib.sha256()
    for p in paths:
        h.update(str(p.relative_to(root)).encode())
        with p.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    value = h.hexdigest()[:20]
    _write(stamp, value)
    return value


def folder_fingerprint(folder: Path) -> str:
    """Hash of every weight file and config file in a model folder (recursively)."""
    files = [
        p
        for p in folder.rglob("*")
        if p.is_file()
        and (p.suffix in WEIGHT_SUFFIXES or p.name in CONFIG_NAMES or p.parent.name.endswith("Pooling"))
    ]
    return fingerprint_files(files, root=folder)


def _stamp(paths: list[Path], root: Path) -> str:
    """What identifies the files without reading them: absolute path, size, modification
    time (ns) and inode of each."""
    parts = [str(Path(root).resolve())]
    for p in paths:
        st = p.stat()
        parts.append([str(p.relative_to(root)), st.st_size, st.st_mtime_ns, st.st_ino])
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:32]


def _read(stamp: str) -> str | None:
    try:
        value = (cache_root() / FINGERPRINTS / stamp).read_text().strip()
    except OSError:
        return None
    return value if len(value) == 20 and all(c in "0123456789abcdef" for c in value) else None


def _write(stamp: str, value: str) -> None:
    """Written atomically; a cache folder that cannot be written only costs the reuse."""
    folder = cache_root() / FINGERPRINTS
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        with os.fdopen(fd, "w") as fh:
            fh.write(value)
        os.replace(tmp, folder / stamp)
    except OSError:
        pass
