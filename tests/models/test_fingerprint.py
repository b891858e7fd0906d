"""A model's fingerprint is hashed once per weight file and read back while the file is
unchanged (same size, modification time and inode); a rewritten file is hashed again."""

from __future__ import annotations

import hashlib
import os
import shutil

from adapteval.models.fingerprint import folder_fingerprint


def _by_hand(folder) -> str:
    h = hashlib.sha256()
    for p in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(p.relative_to(folder)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:20]


def test_fingerprint_is_read_back_while_the_files_are_unchanged(tmp_path, monkeypatch):
    monkeypatch.setenv("ADAPTEVAL_CACHE", str(tmp_path / "cache"))
    model = tmp_path / "model"
    model.mkdir()
    weights = model / "model.safetensors"
    weights.write_bytes(os.urandom(3 << 20))
    (model / "config.json").write_text('{"hidden_size": 8}')
    first = folder_fingerprint(model)
    assert first == _by_hand(model)
    assert len(list((tmp_path / "cache" / "fingerprints").iterdir())) == 1

    # Same bytes count, same mtime, same inode: the stored value comes back without a read
    # (shown by changing the content behind the stamp's back).
    st = weights.stat()
    with weights.open("r+b") as fh:
        fh.write(b"\0" * 16)
    os.utime(weights, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert folder_fingerprint(model) == first

    # A real rewrite moves the modification time: hashed again, and the value follows.
    os.utime(weights, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert folder_fingerprint(model) == _by_hand(model) != first

    # A copy elsewhere (another path, other inodes) is hashed, and gives the same value.
    copy = tmp_path / "copy"
    shutil.copytree(model, copy)
    assert folder_fingerprint(copy) == _by_hand(model)


def test_an_unwritable_cache_only_costs_the_reuse(tmp_path, monkeypatch):
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the cache folder should be")
    monkeypatch.setenv("ADAPTEVAL_CACHE", str(blocked))
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.safetensors").write_bytes(b"weights")
    assert folder_fingerprint(model) == _by_hand(model)
