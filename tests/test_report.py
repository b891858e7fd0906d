"""The report: every analysis section is built from results shaped as the analysis contract
says, shown when it has data and left out when not; every number is in the JSON export;
text from data and configs is escaped in HTML and Markdown."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import numpy as np
import pytest

import adapteval
from adapteval.analyses import ANALYSES, AnalysisRow
from adapteval.report import build_document, render, write_report
from adapteval.report.html import KNOWN
from adapteval.results import Results

pytestmark = pytest.mark.slow

EVIL = "<script>window.__injected = 1</script>"


def suite(tmp_path, tiny_bert, **over):
    """tfidf and majority baselines and a tiny random BERT (probe, and a few fine-tuning
    steps so cells carry training curves) on two bundled tasks, two seeds."""
    s = {
        "name": "report-unit",
        "models": [{"source": str(tiny_bert), "name": "tiny"}],
        "baselines": ["majority", "tfidf"],
        "tasks": [{"name": "yelp", "bundled": "sentiment-yelp", "max_train": 200},
                  {"name": "spam", "bundled": "sms-spam", "max_train": 200, "max_test": 200}],
        "strategies": ["probe", {"name": "finetune", "max_steps": 4, "batch_size": 16,
                                 "eval_every": 2}],
        "seeds": [0, 1],
        "output_dir": str(tmp_path / "out"),
        "bootstrap": {"n_resamples": 200},
    }
    s.update(over)
    return s


@pytest.fixture(scope="module")
def spec(tmp_path_factory, tiny_bert) -> dict:
    return suite(tmp_path_factory.mktemp("report"), tiny_bert)


@pytest.fixture(scope="module")
def results(spec) -> Results:
    import torch

    torch.set_num_threads(1)
    return adapteval.run(spec)


def row(name, result, *, model="tfidf", task="yelp", strategy="probe", seed=0) -> AnalysisRow:
    return AnalysisRow(key=f"{name}-{model}-{task}-{seed}", cell_key="", name=name, model=model,
                       task=task, strategy=strategy, seed=seed, config={"name": name},
                       result=result, version="0", created_at=0.0, duration_s=0.0)


def contract_rows() -> list[AnalysisRow]:
    """One or two seeds of every analysis in the contract, with the keys it fixes."""
    rows = []
    for seed, shift in ((0, 0.0), (1, 0.02)):
        rows += [
            row("robustness", {
                "clean_accuracy": 0.8 + shift, "mean_drop": 0.05, "worst_drop": 0.1 + shift,
                "flip_rate": 0.07,
                "perturbations": [{"name": "typos", "accuracy": 0.7, "drop": 0.1 + shift,
                                   "flip_rate": 0.1, "changed_fraction": 0.9},
                                  {"name": "casing", "accuracy": 0.78, "drop": 0.02,
                                   "flip_rate": 0.03, "changed_fraction": 1.0}],
                "examples": [{"perturbation": "typos", "original": f"good {EVIL}",
                              "perturbed": "godo", "before": "1", "after": "0"}]}, seed=seed),
            row("calibration", {
                "ece": 0.04 + shift, "mce": 0.1, "brier": 0.12, "nll": 0.4, "n_bins": 2,
                "bins": [{"lo": 0.5, "hi": 0.75, "confidence": 0.6, "accuracy": 0.5 + shift,
                          "count": 10},
                         {"lo": 0.75, "hi": 1.0, "confidence": 0.9, "accuracy": 0.85,
                          "count": 30}],
                "temperature": {"T": 1.3, "ece": 0.02, "brier": 0.11, "nll": 0.38}}, seed=seed),
            row("fairness", {
                "group_column": "domain", "largest_gap": 0.1 + shift,
                "largest_gap_ci": [0.02 + shift, 0.2],
                "demographic_parity_difference": 0.05,
                "demographic_parity_difference_ci": [0.01, 0.09 + shift],
                "equalized_odds_difference": 0.08, "equalized_odds_difference_ci": [0.0, 0.15],
                "groups": [{"group": EVIL, "n": 40, "accuracy": 0.8},
                           {"group": "b", "n": 60, "accuracy": 0.7 + shift}]}, seed=seed),
            row("counterfactual", {"flip_rate": 0.02, "mean_abs_gap": 0.01 + shift,
                                   "max_gap": 0.2, "n_pairs": 50, "examples": []}, seed=seed),
            row("eec", {"counterfactual_gap": 0.03, "attributes": {
                "gender": {"mean_gap": 0.01, "mean_abs_gap": 0.03, "max_gap": 0.2,
                           "p_value": 0.04 + shift, "n_pairs": 100},
                "race": {"mean_gap": -0.01, "mean_abs_gap": 0.02, "max_gap": 0.1,
                         "p_value": 0.5, "n_pairs": 100}}}, seed=seed),
            row("attribution", {
                "method": "occlusion", "comprehensiveness": 0.3, "sufficiency": 0.1,
                "random_comprehensiveness": 0.05, "random_sufficiency": 0.3,
                "faithfulness_margin": 0.25 + shift,
                "examples": [{"tokens": ["great", EVIL, "food"], "scores": [0.8, -0.4, 0.0],
                              "label": "1", "pred": "1"}]}, seed=seed),
            row("transfer", {"source": "yelp", "targets": [
                {"task": "yelp", "domain": None, "accuracy": 0.8 + shift, "in_domain": True,
                 "correct": [1, 1, 1, 0]},
                {"task": "spam", "domain": None, "accuracy": 0.55, "in_domain": False,
                 "correct": [1, 0]}]},
                seed=seed),
            row("compression", {
                "levels": [{"method": "magnitude", "amount": 0.0, "sparsity": 0.0,
                            "accuracy": 0.8, "retention": 1.0},
                           {"method": "magnitude", "amount": 0.5, "sparsity": 0.5,
                            "accuracy": 0.76, "retention": 0.95 + shift}],
                "retention_auc": 0.97, "max_sparsity_99": 0.3, "max_sparsity_95": 0.5},
                seed=seed),
        ]
    rows.append(row("cost", {"params": 22_700_000, "disk_mb": 87.0, "latency_ms_p50": 4.0,
                             "latency_ms_p95": 9.5, "throughput_per_s": 250.0,
                             "peak_memory_mb": 300.0}))
    return rows


def digest(name, rows):
    """The numbers an analysis' sections carry for the report (``Section.data``)."""
    return next((s.data for s in ANALYSES.get(name).sections(rows) if s.data is not None), None)


def test_analysis_sections_average_seeds_as_the_contract_reads():
    rows = contract_rows()
    by = {name: [r for r in rows if r.name == name] for name in KNOWN}

    rob = digest("robustness", by["robustness"])
    assert rob["summary"][0]["clean_accuracy"] == pytest.approx(0.81)
    assert rob["summary"][0]["n_seeds"] == 2
    typos = next(p for p in rob["perturbations"] if p["name"] == "typos")
    assert typos["drop"] == pytest.approx(0.11) and typos["changed_fraction"] == 0.9
    assert rob["examples"][0]["original"] == f"good {EVIL}"

    cal = digest("calibration", by["calibration"])
    assert cal["summary"][0]["ece"] == pytest.approx(0.05)
    assert cal["summary"][0]["T"] == 1.3 and cal["summary"][0]["ece_after"] == 0.02
    low = cal["diagrams"][0]["bins"][0]  # 10 + 10 items, accuracies 0.5 and 0.52
    assert low["count"] == 20 and low["accuracy"] == pytest.approx(0.51)

    fair = digest("fairness", by["fairness"])
    assert fair["summary"][0]["largest_gap"] == pytest.approx(0.11)
    assert fair["summary"][0]["largest_gap_ci"] == [0.02, 0.2]
    assert fair["summary"][0]["demographic_parity_difference_ci"] == [0.01, pytest.approx(0.11)]
    assert {g["group"] for g in fair["groups"]} == {EVIL, "b"}

    eec = digest("eec", by["eec"])
    gender = next(a for a in eec["attributes"] if a["attribute"] == "gender")
    assert gender["p_value"] == pytest.approx(0.05) and gender["min_p_value"] == 0.04

    attr = digest("attribution", by["attribution"])
    tokens = attr["examples"][0]["tokens"]
    assert [t["weight"] for t in tokens] == [1.0, 0.5, 0.0]
    assert [t["sign"] for t in tokens] == ["pos", "neg", "zero"]

    tr = digest("transfer", by["transfer"])["matrices"][0]
    assert tr["sources"] == ["yelp"] and tr["targets"] == ["yelp", "spam"]
    assert tr["values"][0] == [pytest.approx(0.81), 0.55]
    assert tr["in_domain"] == [[True, False]]

    comp = digest("compression", by["compression"])
    assert comp["curves"][0]["points"][1]["retention"] == pytest.approx(0.96)
    assert digest("cost", by["cost"])["models"][0]["latency_ms_p95"] == 9.5
    params = digest("cost", by["cost"])["models"][0]["params"]
    assert params == 22_700_000 and isinstance(params, int)  # shown as a count: 22,700,000
    assert digest("counterfactual", by["counterfactual"])["summary"][0]["mean_abs_gap"] == \
        pytest.approx(0.02)
    for name in KNOWN:
        assert ANALYSES.get(name).sections([]) == [], name  # no rows: no section


def test_html_shows_every_section_with_its_plots_and_escapes_text(results):
    full = Results(results.rows, labels=results.labels, bootstrap=results.bootstrap,
                   analyses=contract_rows())
    html = render(build_document(full), "html")
    for sid in ("overview", "flexibility", "customizability", "stability", "compression",
                "acceptability", "provenance"):
        assert f'<section id="{sid}">' in html, sid
    for plot in ("flexibility-scatter", "task-bars", "transfer-heatmap", "seed-spread",
                 "gains-baseline", "gains-probe", "training-curve",
                 "retention-curves", "robustness-drops", "reliability-diagram",
                 "fairness-groups"):
        block = re.search(rf'data-plot="{plot}"><svg[^>]*>', html)
        assert block is not None, plot
    for heading in ("Robustness", "Calibration", "Fairness", "Counterfactual swaps",
                    "Equity Evaluation Corpus", "Attributions", "Cost"):
        assert f">{heading}</h3>" in html, heading
    # no raw <script> anywhere: data text is escaped, in tables and in SVG text alike
    assert "<script" not in html.lower()
    assert "&lt;script&gt;window.__injected = 1&lt;/script&gt;" in html
    assert 'class="tok"' in html and "rgba(200,60,60,1.0)" in html
    # offline: nothing fetched from elsewhere
    assert not re.search(r'(src|href)="(https?:)?//', html)


def test_sections_without_data_are_left_out(results):
    html = render(build_document(results), "html")
    for sid in ("overview", "flexibility", "stability", "provenance"):
        assert f'<section id="{sid}">' in html
    for sid in ("compression", "acceptability", "other"):
        assert f'id="{sid}"' not in html and f'href="#{sid}"' not in html
    assert 'data-plot="transfer-heatmap"' not in html and "Attributions" not in html


def test_json_export_holds_every_number_of_the_results(results, tmp_path):
    path = write_report(results, tmp_path / "r.json", "json")
    doc = json.loads(path.read_text())
    frame = results.to_pandas()
    assert len(doc["cells"]) == len(frame)
    exported = {(c["key"], c["metric"]): c for c in doc["cells"]}
    for r in frame.itertuples():
        c = exported[(r.key, r.metric)]
        assert c["value"] == pytest.approx(r.value) and c["ci_low"] == pytest.approx(r.ci_low)
    flex = results.flexibility()
    assert [f["P_avg"] for f in doc["flexibility"]] == pytest.approx(list(flex["P_avg"]))
    assert len(doc["scores"]) == len(results.summary())
    ties = results.ties()
    board = {(b["task"], b["model"], b["strategy"]): b["tie_group"] for b in doc["leaderboard"]}
    assert all(board[(t.task, t.model, t.strategy)] == t.tie_group for t in ties.itertuples())
    prov = doc["provenance"]
    assert prov["seeds"] == [0, 1]
    assert {m["model"] for m in prov["models"]} == {"tiny", "tfidf", "majority"}
    curves = {(c["model"], c["task"], c["seed"]): c["points"] for c in doc["curves"]}
    assert len(curves) == 4 and all(len(p) == 2 for p in curves.values())
    assert all(len(t["fingerprints"]) == 1 for t in prov["tasks"])


def test_markdown_summary_has_the_leaderboard_and_escapes(results):
    evil = Results(results.rows, labels=results.labels, bootstrap=results.bootstrap,
                   analyses=[row("my-probe", {"score": 0.5, "examples": []}, model=f"a|{EVIL}")])
    md = render(build_document(evil), "md")
    best = results.summary().query("task == 'yelp' and metric == 'accuracy'")["value"].max()
    assert f"**{best:.3f}**" in md
    assert "### Flexibility" in md and "### my-probe" in md
    assert "<script" not in md and "a\\|&lt;script&gt;" in md


def test_verdict_is_rendered_when_results_offer_one(results):
    class WithVerdict(Results):
        def verdict(self):
            return [{"model": "tiny", "strategy": "probe", "acceptable": False,
                     "rules": [{"rule": "accuracy >= 0.9", "value": 0.8, "passed": False}]}]

    judged = WithVerdict(results.rows, labels=results.labels, bootstrap=results.bootstrap)
    html = render(build_document(judged), "html")
    assert 'id="verdict"' in html and "not acceptable" in html and "accuracy &gt;= 0.9" in html
    assert 'id="verdict"' not in render(build_document(results), "html")


def test_plots_escape_labels_and_scale():
    from adapteval.report import plots

    svg = plots.task_bars([{"model": EVIL, "strategy": "probe", "task": "a $x$ & b",
                            "metric": "accuracy", "value": 0.8, "ci_low": 0.7, "ci_high": 0.9}])
    assert svg.startswith("<svg") and 'class="plot-svg"' in svg
    assert "<script" not in svg and "&lt;script&gt;" in svg and "a $x$ &amp; b" in svg
    assert np.isfinite(float(re.search(r'viewBox="0 0 ([\d.]+)', svg).group(1)))


def test_robustness_labels_read_level_one_row_each_and_reliability_shows_counts():
    """Fourteen perturbation names never overlap: each on its own row, unrotated, rows at
    least a font size apart; a reliability diagram shows how many items each bin holds."""
    from adapteval.perturbations import PERTURBATIONS
    from adapteval.report import plots

    names = PERTURBATIONS.names()
    assert len(names) >= 14
    per = [{"model": "m", "strategy": "probe", "name": n, "drop": 0.01 * i}
           for i, n in enumerate(names)]
    svg = plots.perturbation_drops(per)
    labels = {m["text"]: m for m in re.finditer(
        r'<text style="font-size: (?P<size>[\d.]+)px[^"]*" x="[\d.]+" y="(?P<y>[\d.]+)" '
        r'transform="rotate\((?P<angle>[-\d.]+) [^"]*"[^>]*>(?P<text>[^<]+)</text>', svg)}
    shown = [labels[plots.short(n, 30)] for n in names]
    assert {float(m["angle"]) for m in shown} == {0.0}
    ys = sorted(float(m["y"]) for m in shown)
    assert min(b - a for a, b in itertools.pairwise(ys)) >= float(shown[0]["size"])

    bins = [{"lo": 0.5, "hi": 0.75, "confidence": 0.6, "accuracy": 0.55, "count": 12},
            {"lo": 0.75, "hi": 1.0, "confidence": 0.9, "accuracy": 0.85, "count": 31}]
    svg = plots.reliability([{"task": "t", "bins": bins}])
    assert "items per bin" in svg and ">12<" in svg and ">31<" in svg


def test_tensorboard_and_mlflow_hold_the_stored_numbers(spec, results, tmp_path):
    from mlflow.tracking import MlflowClient
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from adapteval.report import track
    from adapteval.report.tensorboard import run_dir

    out = Path(spec["output_dir"])
    again = adapteval.run(spec, tensorboard=tmp_path / "tb", mlflow=True)  # nothing to run
    assert len(again) == len(results)
    frame = results.to_pandas()
    for row in results.rows:
        events = EventAccumulator(str(tmp_path / "tb" / run_dir(results, row.key))).Reload()
        for r in frame[frame["key"] == row.key].itertuples():
            (final,) = events.Scalars(f"score/{r.metric}")
            assert final.value == pytest.approx(r.value, abs=1e-6)
            assert events.Scalars(f"score/{r.metric}_ci_low")[0].value == pytest.approx(
                r.ci_low, abs=1e-6)
        curve = row.info.get("curve") or []
        loss = events.Scalars("train/loss") if curve else []
        assert [(e.step, round(e.value, 5)) for e in loss] == [
            (p["step"], round(p["train_loss"], 5)) for p in curve]
    assert sum(bool(r.info.get("curve")) for r in results.rows) == 4
    # written once: a second pass adds no duplicate points
    assert track(results, out, tensorboard=tmp_path / "tb")["tensorboard"] == {
        "cells": 0, "analyses": 0}

    db = out / "mlflow.db"
    assert db.is_file()
    client = MlflowClient(tracking_uri=f"sqlite:///{db}")
    exp = client.get_experiment_by_name("adapteval: report-unit")
    runs = client.search_runs([exp.experiment_id], max_results=1000)
    assert len(runs) == len(results)
    for run in runs:
        key = run.data.tags["adapteval.cell_key"]
        lab = results.labels[key]
        p = run.data.params
        assert (p["model"], p["task"], p["strategy"], int(p["seed"])) == (
            lab.model, lab.task, lab.strategy, lab.seed)
        for r in frame[frame["key"] == key].itertuples():
            assert run.data.metrics[r.metric] == pytest.approx(r.value)
            assert run.data.metrics[f"{r.metric}_ci_high"] == pytest.approx(r.ci_high)
        cell = next(c for c in results.rows if c.key == key)
        if lab.strategy == "finetune":
            assert p["strategy.max_steps"] == "4"
            history = client.get_metric_history(run.info.run_id, "train_loss")
            assert [h.step for h in history] == [q["step"] for q in cell.info["curve"]]
            assert [h.value for h in history] == pytest.approx(
                [q["train_loss"] for q in cell.info["curve"]])
    # the report as an artifact; cells already logged are not logged twice
    report = write_report(results, tmp_path / "report.html")
    done = track(results, out, mlflow=True, report=report)["mlflow"]
    assert done["runs_added"] == 0
    assert [a.path for a in client.list_artifacts(done["report_run"])] == ["report.html"]
    assert (out / "mlflow-artifacts").is_dir()


def test_mlflow_logging_and_report_stay_on_the_machine(spec, results, tmp_path):
    """The CLI report with --mlflow under strace: no connect() outside loopback."""
    import subprocess

    from tests.conftest import CLI
    from tests.test_offline import _strace, _user_env, check_connects

    strace = _strace()
    trace = tmp_path / "connect.trace"
    proc = subprocess.run(
        [strace, "-f", "-e", "trace=connect", "-o", str(trace), *CLI, "report",
         spec["output_dir"], "-o", str(tmp_path / "r.html"), "--mlflow-uri",
         f"sqlite:///{tmp_path / 'mlflow.db'}"],
        capture_output=True, text=True, env=_user_env(), cwd=tmp_path, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"logged {len(results)} new run(s)" in proc.stderr
    check_connects(trace.read_text())


def test_compare_pairs_by_test_items_and_says_when_it_cannot(spec, results, tmp_path):
    from typer.testing import CliRunner

    from adapteval.cli import app
    from adapteval.report.compare import compare

    rows = compare(results, results, model_a="tfidf", model_b="tiny")
    gains = results.customizability().query("over == 'baseline' and strategy == 'probe'")
    probe = [r for r in rows if r["strategy"] == "probe"]
    assert len(probe) == 2 and all(r["paired"] for r in probe)
    for r in probe:  # B - A paired over seeds equals the gain of tiny over tfidf
        g = gains[gains["task"] == r["task"]].iloc[0]
        assert r["difference"] == pytest.approx(g["gain"])
        assert r["difference_ci"] == pytest.approx([g["ci_low"], g["ci_high"]])
        assert 0.0 <= r["p_value"] <= 1.0
        assert r["significant"] == (g["ci_low"] > 0 or g["ci_high"] < 0)
    same = compare(results, results)
    assert all(r["difference"] == 0 and r["p_value"] == 1.0 and r["better"] == "tie"
               for r in same)

    other = adapteval.run({**spec, "models": ["tfidf"], "baselines": [], "seeds": [2],
                           "strategies": ["probe"], "output_dir": str(tmp_path / "b")})
    unpaired = compare(results, other)
    assert [r["model_a"] for r in unpaired] == ["tfidf", "tfidf"]
    for r in unpaired:
        assert not r["paired"] and r["unpaired_reason"] == "different seeds"
        assert r["difference_ci"] is None and r["p_value"] is None
        assert r["significant"] == (r["b_ci"][0] > r["a_ci"][1] or r["a_ci"][0] > r["b_ci"][1])

    runner = CliRunner()
    res = runner.invoke(app, ["compare", spec["output_dir"], str(tmp_path / "b"), "-f", "json"])
    assert res.exit_code == 0, res.output
    printed = json.loads(res.stdout)
    assert [(r["task"], r["paired"]) for r in printed] == [(r["task"], False) for r in unpaired]
    assert [r["difference"] for r in printed] == pytest.approx(
        [r["difference"] for r in unpaired])
    bad = runner.invoke(app, ["compare", spec["output_dir"], str(tmp_path / "b"),
                              "--model-b", "nope"])
    assert bad.exit_code == 2
