"""Inputs by modality: a model kind, strategy or analysis that does not accept a task's
items is rejected when the plan is built, in one line, before any work."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapteval.analyses import ANALYSES, Analysis
from adapteval.cli import app
from adapteval.core.errors import IncompatibleError
from adapteval.core.plugin import TEXT, TEXT_PAIR
from adapteval.data.task import load_task
from adapteval.models.kinds import MODEL_KINDS, Tfidf
from adapteval.plan import build_plan
from adapteval.strategies import STRATEGIES, Strategy
from adapteval.suite.schema import suite_from_dict
from adapteval.suite.specs import TaskSpec

ROWS = 40


class TextOnlyStrategy(Strategy):
    name = "text-only-test"
    description = "test strategy that takes single texts only"
    modalities = frozenset({TEXT})


class TextOnlyKind(Tfidf):
    name = "text-only-tfidf-test"
    description = "test model kind that takes single texts only"
    modalities = frozenset({TEXT})


class TextOnlyAnalysis(Analysis):
    name = "text-only-analysis-test"
    description = "test analysis that takes single texts only"
    modalities = frozenset({TEXT})


@pytest.fixture
def registered():
    items = [(STRATEGIES, STRATEGIES.register(TextOnlyStrategy)),
             (MODEL_KINDS, MODEL_KINDS.register(TextOnlyKind())),
             (ANALYSES, ANALYSES.register(TextOnlyAnalysis))]
    yield
    for registry, item in items:
        registry._items.pop(item.name)


def _pairs(folder: Path) -> Path:
    lines = ["premise,hypothesis,label"]
    lines += [f"premise number {i},hypothesis {'same' if i % 2 else 'other'} {i},{i % 2}"
              for i in range(ROWS)]
    (folder / "pairs.csv").write_text("\n".join(lines) + "\n")
    return folder


def _suite(folder: Path, **extra):
    data = {"models": ["tfidf"], "baselines": [],
            "tasks": [{"name": "nli", "path": "pairs.csv", "text": "premise",
                       "text_pair": "hypothesis"}], **extra}
    return suite_from_dict(data, source="suite.yaml", base_dir=_pairs(folder))


def test_a_task_declares_its_modality(tmp_path):
    _pairs(tmp_path)
    pair = load_task(TaskSpec(name="nli", path="pairs.csv", text="premise",
                              text_pair="hypothesis"), tmp_path)
    single = load_task(TaskSpec(name="p", path="pairs.csv", text="premise"), tmp_path)
    assert (pair.modality, single.modality) == (TEXT_PAIR, TEXT)


def test_text_pairs_are_accepted_by_the_built_in_plugins(tmp_path):
    plan = build_plan(_suite(tmp_path))
    assert plan.tasks[0].modality == TEXT_PAIR and plan.cells


@pytest.mark.parametrize(("extra", "what", "field"), [
    ({"strategies": ["text-only-test"]}, "strategy 'text-only-test'", "strategies[0]"),
    ({"models": [{"source": "tfidf", "kind": "text-only-tfidf-test"}]},
     "model 'tfidf' (text-only-tfidf-test)", "models[0]"),
    ({"analyses": ["text-only-analysis-test"]}, "analysis 'text-only-analysis-test'",
     "analyses[0]"),
])
def test_a_plugin_that_does_not_accept_the_items_is_rejected(tmp_path, registered, extra,
                                                               what, field):
    with pytest.raises(IncompatibleError) as err:
        build_plan(_suite(tmp_path, **extra))
    line = err.value.one_line()
    assert f"suite.yaml: {field}" in line
    assert f"{what} does not accept the text_pair items of task 'nli'" in line
    assert "it accepts text" in line


def test_the_cli_rejects_a_mismatch_in_one_line_with_exit_2(tmp_path, registered):
    _pairs(tmp_path)
    (tmp_path / "suite.yaml").write_text(
        "models: [tfidf]\nbaselines: []\nstrategies: [text-only-test]\n"
        "tasks:\n  - {name: nli, path: pairs.csv, text: premise, text_pair: hypothesis}\n")
    result = CliRunner().invoke(app, ["run", str(tmp_path / "suite.yaml"), "--quiet"])
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert "does not accept the text_pair items of task 'nli'" in lines[0]
    assert not (tmp_path / "adapteval-results").exists()
