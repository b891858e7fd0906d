"""Where results and embeddings go: a folder is a folder whatever dots its name has."""

from __future__ import annotations

import pytest

from adapteval.core.paths import sqlite_file
from adapteval.features import EmbeddingCache
from adapteval.store import RESULTS_FILE, ResultStore


@pytest.mark.parametrize("name", ["out", "results-v1.5", "run.2026.12"])
def test_a_store_folder_with_dots_in_its_name_is_a_folder(tmp_path, name):
    store = ResultStore(tmp_path / name)
    cache = EmbeddingCache(tmp_path / name / "cache")
    assert store.path == tmp_path / name / RESULTS_FILE and store.path.is_file()
    assert cache.path.parent == tmp_path / name / "cache" and cache.path.is_file()


def test_an_explicit_sqlite_file_is_used_as_given(tmp_path):
    assert sqlite_file(tmp_path / "mine.sqlite", "results.sqlite") == tmp_path / "mine.sqlite"
    ResultStore(tmp_path / "store-file.sqlite").conn.close()
    (tmp_path / "store-file.sqlite").rename(tmp_path / "existing")
    assert sqlite_file(tmp_path / "existing", "results.sqlite") == tmp_path / "existing"
    (tmp_path / "notes").write_text("not a database")
    assert sqlite_file(tmp_path / "notes", "results.sqlite") == tmp_path / "notes" / "results.sqlite"
