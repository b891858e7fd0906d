"""The terminal never cuts a number: every table of a demo-shaped run (the demo's
analyses, criteria, shortlist and ensembles, plus fine-tuning as the examples have),
its plan and its summary, drawn at 80 and 120 columns, shows each score, interval,
count and P_avg whole; names may wrap or fold, and a table too wide is split with its
name columns repeated."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from importlib import resources

import pytest
import yaml
from rich.cells import cell_len
from rich.console import Console
from tests.conftest import build_tiny_bert

from adapteval.contracts.section import Cell, SectionTable, columns, plain
from adapteval.terminal import table

WIDTHS = (80, 120)
NUMERIC = ("number", "ci", "pair", "count")
EEC = "eec/Equity-Evaluation-Corpus.csv"  # the acceptability example's analysis
NUMBER = re.compile(r"[-+±]?\d[\d.,]*%?")


def draw(renderable, width: int) -> str:
    console = Console(width=width, file=io.StringIO(), record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


def number_words(text: str) -> list[str]:
    """Words of a text that are numbers, without the brackets around them."""
    return [w.strip("()[],;:") for w in text.split() if NUMBER.fullmatch(w.strip("()[],;:"))]


def cut_numbers(t: SectionTable, width: int) -> list[str]:
    """The values of ``t`` that do not appear whole when drawn at ``width`` (a number
    cell's characters on one line; a number inside a text as a whole word)."""
    out = draw(table(t), width)
    lines = out.splitlines()
    assert max(cell_len(line) for line in lines) <= width, out
    cut = []
    for row in t.rows:
        for c in row.cells:
            s = plain(c)
            if c.kind in NUMERIC:  # a label in front may wrap above its value
                s = plain(replace(c, label=None))
                if not any(s in line for line in lines):
                    cut.append(s)
            else:
                cut += [w for w in number_words(s)
                        if not re.search(rf"(?<![\w.]){re.escape(w)}(?![\w]|\.\d)", out)]
    if "…" in out and not any("…" in plain(c) for r in t.rows for c in r.cells):
        cut.append("…")
    return cut


def wide_table() -> SectionTable:
    """The flexibility summary's shape: names, then nine columns of numbers and CIs."""
    t = SectionTable(
        columns("model", "strategy", "P_avg [CI]", "sigma_P", "worst task", "OOD gap [CI]",
                "retention AUC", "p95 ms", "params (M)", left=("model", "strategy", "worst task")),
        caption="Flexibility summary", legend="— = not measured")
    for model in ("all-MiniLM-L6-v2", "MiniLM-L3-onnx", "all-MiniLM-L6-v2 + MiniLM-L3-onnx"):
        for strategy in ("probe", "kshot"):
            t.add(model, strategy, Cell(0.8123, ci=(0.7901, 0.8302), kind="number"),
                  Cell(0.0512, "number"), Cell(0.7021, "number", label="sentiment-amazon"),
                  Cell.of(0.0123, "+.3f", ci=(-0.0101, 0.0302)), Cell.of(0.9012),
                  Cell.of(12.34, ".1f"), Cell.of(22.71, ".1f"))
    return t


@pytest.mark.parametrize("width", [*WIDTHS, 60])
def test_a_table_wider_than_the_console_is_split_not_cut(width):
    t = wide_table()
    assert cut_numbers(t, width) == []
    out = draw(table(t), width)
    if width < 120:  # too wide: continued below, each part naming its rows
        assert "(continued)" in out
        parts = out.split("(continued)")
        assert all("MiniLM-L3-onnx" in p.replace("\n", "") or "MiniLM-L3" in p for p in parts)
    assert out.count("— = not measured") == 1


def test_numbers_keep_their_column_alignment():
    t = SectionTable(columns("model", "score", left=("model",)))
    t.add("a", Cell(0.5, "number"))
    t.add("b", Cell(12.25, "number"))
    lines = [line for line in draw(table(t), 80).splitlines() if "0.500" in line or "12.250" in line]
    assert lines[0].index("0.500") + 5 == lines[1].index("12.250") + 6


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory, minilm_path, shared):
    """The demo's suite with two tiny random encoders under the demo's model names
    (everything else as the demo: tasks, strategies, analyses, criteria, shortlist,
    ensembles), smaller where it only costs time (fewer items, seeds and levels), plus
    what the examples add: a short fine-tuning and the EEC analysis."""
    import adapteval.api as api
    from adapteval.execution.driver import plan_status
    from adapteval.store import ResultStore

    root = tmp_path_factory.mktemp("demo-terminal")
    a = build_tiny_bert(root / "enc-a", minilm_path, seed=0)
    b = build_tiny_bert(root / "enc-b", minilm_path, seed=1)
    with resources.as_file(resources.files("adapteval") / "suites" / "demo.yaml") as path:
        suite = yaml.safe_load(path.read_text())
    suite["models"] = [{"source": str(a), "name": "all-MiniLM-L6-v2"},
                       {"source": str(b), "name": "MiniLM-L3-onnx"}]
    suite["tasks"] = [{"name": t, "bundled": t, "max_train": 120, "max_test": 80}
                      for t in suite["tasks"] if isinstance(t, str)]  # the text tasks
    image = {"efficientnet-lite0", "pixels"}
    for an in suite["analyses"]:
        if "models" in an:
            an["models"] = [m for m in an["models"] if m not in image]
    suite["analyses"] = [an for an in suite["analyses"]
                         if an.get("tasks") != ["fashion-mnist"] and an.get("models") != []]
    suite["seeds"] = [0, 1]
    suite["bootstrap"] = {"n_resamples": 200}
    suite["strategies"] = ["probe", {"name": "kshot", "samples_per_label": 8, "n_experiments": 2},
                           {"name": "finetune", "epochs": 1, "max_steps": 3, "max_length": 32}]
    for an in suite["analyses"]:
        if an["name"] == "robustness":
            an["max_items"] = 20
        if an["name"] == "attribution":
            an["n_items"], an["n_examples"] = 4, 1
        if an["name"] == "compression":
            an["magnitude"] = [0.0, 0.5]
    suite["analyses"].append({"name": "eec", "path": str(shared / EEC), "models": ["tfidf"],
                              "strategies": ["probe"], "tasks": ["sentiment-yelp"]})
    results, summary, ranking = api.run_full(suite, output_dir=root / "out")
    store = ResultStore(root / "out")
    try:
        status = plan_status(results.plan, store, ranking)
    finally:
        store.close()
    return results, ranking, status


def demo_tables(results, ranking, status) -> list[SectionTable]:
    from adapteval import presentation
    from adapteval.presentation.plan import plan_section
    from adapteval.ranking import ranking_agreement
    from adapteval.terminal.summary import summary_tables

    sections = [*presentation.all_sections(results),
                *presentation.ranking_sections(ranking, ranking_agreement(ranking, results)),
                plan_section(status)]
    return [t for s in sections for t in s.tables] + summary_tables(results)


@pytest.mark.slow
@pytest.mark.parametrize("width", WIDTHS)
def test_every_demo_table_shows_every_number_whole(demo_run, width):
    results, ranking, status = demo_run
    tables = demo_tables(results, ranking, status)
    captions = " ".join(t.caption for t in tables)
    for shown in ("Scores", "Flexibility", "Customizability", "Acceptance", "Shortlist",
                  "Plan", "Best per task", "Flexibility summary", "Stability", "Domain transfer",
                  "robustness", "calibration", "Compression", "Error overlap", "eec"):
        assert shown in captions, shown
    cut = {t.caption[:40]: c for t in tables if (c := cut_numbers(t, width))}
    assert cut == {}


@pytest.mark.slow
def test_the_summary_names_the_best_per_task_and_the_verdict(demo_run):
    from adapteval.terminal import summary_view

    results, _, _ = demo_run
    out = draw(summary_view(results, ["report: here.html"]), 80)
    for task in ("sentiment-amazon", "sentiment-imdb", "sentiment-yelp", "sms-spam"):
        assert task in out
    assert "P_avg" in out and "sigma_P" in out
    assert "verdict:" in out and "report: here.html" in out
    assert "Customizability:" not in out  # the full tables only on request
