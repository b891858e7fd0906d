"""Numbers without a value: a rank correlation of constant predictions (the majority
baseline on a regression task), a spread over one seed or one task. Each reads as n/a with
its reason in every view (terminal, HTML, Markdown, JSON), is in no tie group, is left out
of plots with a note, makes a rule fail saying why, and is computed without a warning."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import warnings

import pytest
from rich.console import Console
from scipy.stats import ConstantInputWarning

import adapteval
from adapteval.analyses import ANALYSES, AnalysisRow
from adapteval.contracts.section import Cell, SectionTable, columns, plain
from adapteval.presentation import all_sections
from adapteval.presentation.scores import scores_table
from adapteval.report import write_report
from adapteval.results import Results
from adapteval.summaries.labels import Labels
from adapteval.terminal import all_tables
from adapteval.verdict import verdict

SPEARMAN = "Spearman undefined: constant predictions"
CRITERIA = ["spearman >= 0.3 on every task"]  # (a sigma_P rule on one task is refused)


@pytest.fixture(scope="module")
def lengths(shared, tmp_path_factory):
    """A real regression task: SMS messages (SMS Spam Collection) scored by the log of their
    word count."""
    folder = tmp_path_factory.mktemp("undefined")
    lines = (shared / "sms-spam" / "SMSSpamCollection").read_text(encoding="utf-8").splitlines()
    path = folder / "lengths.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        for line in lines[:400]:
            text = line.split("\t", 1)[1]
            w.writerow([text, round(math.log(len(text.split()) + 1), 4)])
    return folder, path


@pytest.fixture(scope="module")
def results(lengths) -> Results:
    """The TF-IDF probe with the default baselines (majority, TF-IDF) on one task, one
    seed: the majority's Spearman is undefined, sigma_P and the std over seeds too."""
    folder, path = lengths
    spec = {"name": "undefined", "models": ["tfidf"],
            "tasks": [{"name": "lengths", "path": str(path), "type": "regression",
                       "max_train": 300}],
            "seeds": [0], "output_dir": str(folder / "out"), "bootstrap": {"n_resamples": 200},
            "criteria": CRITERIA}
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConstantInputWarning)
        res = adapteval.run(spec)
        res.summary(), res.ties()  # scoring happens here, on first read
    return res


def no_warning(fn, *args, **kw):
    """fn(...) with every warning an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return fn(*args, **kw)


def test_the_majority_spearman_is_undefined_with_its_reason_and_no_tie_group(results):
    summary = results.summary().set_index(["model", "metric"])
    majority = summary.loc[("majority", "spearman")]
    assert math.isnan(majority["value"]) and majority["undefined"]["value"] == SPEARMAN
    assert summary.loc[("majority", "mse"), "value"] > 0  # defined metrics are untouched
    ties = results.ties()
    assert list(ties["model"]) == ["tfidf"]  # the majority is in no tie group
    table = scores_table(results)
    row = next(r for r in table.rows if r.cells[1].value == "majority")
    assert [plain(c) for c in row.cells[4:]] == ["n/a", "n/a", "n/a"]
    assert f"n/a: {SPEARMAN}" in table.legend


def test_every_view_shows_na_with_the_reason_without_a_warning(results, tmp_path):
    html = no_warning(write_report, results, tmp_path / "r.html").read_text()
    md = no_warning(write_report, results, tmp_path / "r.md", "md").read_text()
    doc = json.loads(no_warning(write_report, results, tmp_path / "r.json", "json").read_text())
    for text in (html, md):
        assert f"n/a: {SPEARMAN}" in text
        assert "±nan" not in text and ">nan<" not in text
    assert f'title="{SPEARMAN}"' in html
    lead = next(r for r in doc["leaderboard"] if r["model"] == "majority")
    assert lead["value"] is None and lead["tie_group"] is None
    assert lead["undefined"]["value"] == SPEARMAN and lead["undefined"]["tie_group"] == SPEARMAN
    flex = next(r for r in doc["flexibility"] if r["model"] == "majority")
    assert flex["P_avg"] is None and SPEARMAN in flex["undefined"]["P_avg"]

    out = io.StringIO()
    console = Console(file=out, width=120, color_system=None)
    for t in no_warning(all_tables, results):
        console.print(t)
    terminal = out.getvalue()
    assert f"n/a: {SPEARMAN}" in terminal and "nan" not in terminal


def test_plots_leave_undefined_points_out_and_say_so(results):
    flex = next(s for s in all_sections(results) if s.key == "flexibility")
    bars = next(p for p in flex.plots if p.kind == "task-bars")
    assert {r["model"] for r in bars.data} == {"tfidf"}
    assert any("majority · probe" in n and SPEARMAN in n for n in flex.notes)
    # one task: sigma_P has no value, so there is no scatter at all
    assert "flexibility-scatter" not in [p.kind for p in flex.plots]
    assert any("sigma_P undefined: one task" in n for n in flex.notes)


def test_one_task_and_one_seed_spreads_are_na(results, tmp_path):
    flex = results.flexibility().set_index("model")
    assert math.isnan(flex.loc["tfidf", "sigma_P"])
    assert flex.loc["tfidf", "undefined"] == {"sigma_P": "sigma_P undefined: one task"}
    summary = results.summary().set_index(["model", "metric"])
    assert math.isnan(summary.loc[("tfidf", "spearman"), "std"])
    assert summary.loc[("tfidf", "spearman"), "undefined"] == {"std": "std undefined: one seed"}
    sections = {s.key: s for s in all_sections(results)}
    shown = [plain(c) for r in sections["flexibility"].tables[0].rows for c in r.cells]
    assert "0.000" not in shown
    stab = sections["stability"].written()[0]
    std = [c.name for c in stab.columns].index("std")
    assert {plain(r.cells[std]) for r in stab.rows} == {"n/a"}
    assert "n/a: std undefined: one seed" in stab.legend
    md = write_report(results, tmp_path / "r.md", "md").read_text()
    assert "n/a: sigma_P undefined: one task" in md


def test_a_rule_on_an_undefined_number_fails_and_says_why(results, tmp_path):
    # the candidate judged on the majority's constant predictions
    mine = [r for r in results.rows if r.model_fingerprint.startswith("majority")]
    relabelled = Results(mine, labels={r.key: Labels("tfidf", "lengths", "probe", 0)
                                       for r in mine},
                         bootstrap=results.bootstrap, plan=results.plan)
    v = no_warning(verdict, relabelled, results.plan)
    spearman = {c.rule: c for c in v.candidates[0].checks}["spearman >= 0.3 on every task"]
    assert not spearman.passed and spearman.value is None and spearman.undefined == SPEARMAN
    assert not v.acceptable
    entry = relabelled.verdict()[0]["rules"][0]
    assert entry["undefined"] == {"value": SPEARMAN} and entry["passed"] is False
    md = write_report(relabelled, tmp_path / "v.md", "md").read_text()
    assert "FAIL" in md and f"n/a: {SPEARMAN}" in md
    assert "tfidf · probe fails: spearman &gt;= 0.3 on every task" in md


def test_the_scores_show_the_chosen_regularisation_and_capped_classes(results):
    rows = [dataclasses.replace(r, info={**r.info, "regularization": {"alpha": 0.1},
                                         "capped": {"spam": 2, "ham": 3}})
            if r.model_fingerprint.startswith("tfidf") else r for r in results.rows]
    res = Results(rows, labels=results.labels, bootstrap=results.bootstrap)
    table = scores_table(res)
    tfidf = next(r for r in table.rows if r.cells[1].value == "tfidf")
    assert tfidf.cells[2].value == "probe" and tfidf.cells[2].note == "alpha=0.1; capped: 2 classes"
    majority = next(r for r in table.rows if r.cells[1].value == "majority")
    assert majority.cells[2].note is None
    grid = next(s for s in all_sections(res) if s.key == "overview").written()[0]
    cell = next(r for r in grid.rows if r.cells[0].value == "tfidf").cells[2]
    assert cell.note == "g1; alpha=0.1; capped: 2 classes"  # the reports' grid says so too


def test_counts_and_settings_read_as_integers():
    row = AnalysisRow(key="c", cell_key="", name="calibration", model="m", task="t",
                      strategy="probe", seed=0, config={"name": "calibration"},
                      result={"ece": 0.04, "mce": 0.1, "brier": 0.12, "nll": 0.4, "n_bins": 15,
                              "bins": [{"lo": 0.5, "hi": 1.0, "confidence": 0.7,
                                        "accuracy": 0.6, "count": 10}]},
                      version="0", created_at=0.0, duration_s=0.0)
    (section,) = ANALYSES.get("calibration").sections([row, dataclasses.replace(row, seed=1)])
    table = section.written()[0]
    bins = [c.name for c in table.columns].index("bins")
    assert plain(table.rows[0].cells[bins]) == "15"


def test_a_nan_number_never_prints_nan_and_its_reason_joins_the_legend():
    t = SectionTable(columns("a", "b", "c"))
    t.add(Cell(float("nan"), "number"), Cell.of(0.5, std=float("nan")),
          Cell.of(None, reason="no items"))
    t.add(Cell.interval(float("nan"), 1.0), Cell.na("no items"), Cell.na())
    assert [[plain(c) for c in r.cells] for r in t.rows] == [
        ["n/a", "0.500", "n/a"], ["—", "n/a", "—"]]
    assert t.legend == "n/a: no items"
