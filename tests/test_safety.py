"""Safe artefacts: a model folder's code never runs unless the suite opts in, pickled
weights are refused unless allowed and then loaded with ``weights_only`` (so a pickle
that carries code is rejected without running it), YAML tags cannot build Python
objects, and no output path climbs out of the output directory."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import torch
from tests.conftest import build_tiny_bert

from adapteval.core.errors import ConfigError, ModelLoadError
from adapteval.core.paths import inside
from adapteval.models.hf import HFEncoder
from adapteval.suite.schema import load_suite
from adapteval.suite.specs import ModelSpec


class _Payload:
    """Unpickling this runs a shell command: what a booby-trapped checkpoint does."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_custom_model_code_is_not_run_without_opt_in(tmp_path, tiny_bert):
    folder = tmp_path / "custom"
    shutil.copytree(tiny_bert, folder)
    marker = tmp_path / "code-ran"
    (folder / "configuration_evil.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).touch()\n"
        "from transformers import BertConfig\n"
        "class EvilConfig(BertConfig):\n    model_type = 'evil-bert'\n"
    )
    config = json.loads((folder / "config.json").read_text())
    config.update(model_type="evil-bert",
                  auto_map={"AutoConfig": "configuration_evil.EvilConfig"})
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match="trust_remote_code: true"):
        HFEncoder(ModelSpec(source=str(folder)), folder)
    assert not marker.exists()


def test_pickled_weights_load_with_weights_only(tmp_path, minilm_path):
    plain = build_tiny_bert(tmp_path / "plain", minilm_path, safetensors=False)
    with pytest.raises(ModelLoadError, match="pickled weights"):
        HFEncoder(ModelSpec(source=str(plain)), plain)
    enc = HFEncoder(ModelSpec(source=str(plain), allow_pickle=True), plain)  # a plain one loads
    assert enc.encode(["hello"]).shape == (1, 32)

    trapped = tmp_path / "trapped"
    shutil.copytree(plain, trapped)
    marker = tmp_path / "pickle-ran"
    state = torch.load(trapped / "pytorch_model.bin", weights_only=True)
    state["extra"] = _Payload(marker)
    torch.save(state, trapped / "pytorch_model.bin")
    with pytest.raises(ModelLoadError, match="weights_only"):
        HFEncoder(ModelSpec(source=str(trapped), allow_pickle=True), trapped)
    assert not marker.exists()


def test_yaml_tags_cannot_build_python_objects(tmp_path):
    marker = tmp_path / "yaml-ran"
    (tmp_path / "suite.yaml").write_text(
        f"name: !!python/object/apply:os.system ['touch {marker}']\n"
        "models: [tfidf]\ntasks: [sms-spam]\n"
    )
    with pytest.raises(ConfigError, match="YAML"):
        load_suite(tmp_path / "suite.yaml")
    assert not marker.exists()


def test_output_paths_stay_inside_the_output_directory(tmp_path):
    root = tmp_path / "out"
    root.mkdir()
    assert inside(root, "cache") == (root / "cache").resolve()
    assert inside(root, "reports", "suite.html") == (root / "reports" / "suite.html").resolve()
    for parts in (("..", "x"), ("a/../../x",), ("reports", "../../etc/passwd")):
        with pytest.raises(ConfigError, match="stay inside the output directory"):
            inside(root, *parts)
    with pytest.raises(ConfigError, match="relative to the output directory"):
        inside(root, "/etc/passwd")
    (root / "link").symlink_to(tmp_path)  # a symlink pointing out is caught too
    with pytest.raises(ConfigError, match="stay inside"):
        inside(root, "link", "x")


@pytest.mark.parametrize("field,value", [("name", "../up"), ("name", "/abs"),
                                         ("task", "../../t"), ("task", "..")])
def test_names_that_would_escape_are_rejected(tmp_path, field, value):
    task = {"name": value if field == "task" else "t", "bundled": "sms-spam"}
    suite = {"name": value if field == "name" else "s", "models": ["tfidf"], "tasks": [task]}
    (tmp_path / "suite.yaml").write_text(json.dumps(suite))
    with pytest.raises(ConfigError, match="must not contain"):
        load_suite(tmp_path / "suite.yaml")
