"""The customizability ladder users read: per model and task, each strategy that ran in
rung order (zeroshot → icl → kshot → probe → lora → finetune) with its score and CI, the
paired gain over the rung below it and over the TF-IDF baseline, in the terminal summary
(within 80 columns), the HTML, Markdown and JSON reports; a decoder (starting at
zero-shot) and an encoder (starting at k-shot) side by side."""

from __future__ import annotations

import io
import json
import os
import subprocess

import numpy as np
import pandas as pd
import pytest
import yaml
from rich.cells import cell_len
from rich.console import Console
from tests.conftest import CLI

import adapteval
from adapteval.report import write_report
from adapteval.results import Results
from adapteval.strategies import STRATEGIES
from adapteval.terminal import summary_view

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]

SEEDS = [0, 1, 2]


def minilm_suite(out) -> dict:
    """all-MiniLM-L6-v2 and the TF-IDF baseline on a small SMS-spam split: k-shot, the
    frozen probe and a very short fine-tune, three seeds."""
    return {
        "name": "ladder-minilm",
        "models": ["all-MiniLM-L6-v2"],
        "baselines": ["tfidf"],
        "tasks": [{"name": "spam", "bundled": "sms-spam", "max_train": 120, "max_test": 80}],
        "strategies": [{"name": "kshot", "samples_per_label": 4, "n_experiments": 2}, "probe",
                       {"name": "finetune", "max_steps": 3, "batch_size": 8}],
        "seeds": SEEDS,
        "output_dir": str(out),
        "bootstrap": {"n_resamples": 200},
    }


@pytest.fixture(scope="module")
def minilm_run(tmp_path_factory, one_torch_thread) -> tuple[dict, Results]:
    spec = minilm_suite(tmp_path_factory.mktemp("ladder") / "out")
    return spec, adapteval.run(spec)


def per_seed(results: Results, model: str, strategy: str) -> dict[int, float]:
    """The stored primary score of each seed of one model and strategy."""
    cells = results.to_pandas()
    mine = cells[(cells["model"] == model) & (cells["strategy"] == strategy)
                 & (cells["metric"] == "accuracy")]
    return dict(zip(mine["seed"], mine["value"], strict=True))


def draw(renderable, width: int = 80) -> str:
    console = Console(width=width, file=io.StringIO(), record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


def test_every_built_in_strategy_has_its_place_on_the_ladder():
    assert {n: STRATEGIES.get(n).rung for n in ("kshot", "probe", "lora", "finetune")} == {
        "kshot": 2, "probe": 3, "lora": 4, "finetune": 5}


def test_the_ladder_lists_the_rungs_that_ran_in_order(minilm_run):
    _, results = minilm_run
    ladder = results.ladder()
    assert list(ladder["model"].unique()) == ["all-MiniLM-L6-v2"]  # the baseline is the reference
    assert list(ladder["strategy"]) == ["kshot", "probe", "finetune"]
    assert list(ladder["rung"]) == [2.0, 3.0, 5.0]
    assert list(ladder["previous"].iloc[1:]) == ["kshot", "probe"]
    assert (ladder["n_seeds"] == len(SEEDS)).all()
    assert ((ladder["ci_low"] <= ladder["value"]) & (ladder["value"] <= ladder["ci_high"])).all()


def test_each_gain_is_the_paired_difference_of_the_stored_seed_scores(minilm_run):
    _, results = minilm_run
    ladder = results.ladder().set_index("strategy")
    model = "all-MiniLM-L6-v2"
    for strategy, below, base in (("probe", "kshot", "probe"), ("finetune", "probe", "probe"),
                                  ("kshot", None, "kshot")):
        mine = per_seed(results, model, strategy)
        row = ladder.loc[strategy]
        if below is not None:
            theirs = per_seed(results, model, below)
            assert row["gain_over_previous"] == pytest.approx(
                np.mean([mine[s] - theirs[s] for s in SEEDS]), abs=1e-12)
            assert row["gain_std"] == pytest.approx(
                np.std([mine[s] - theirs[s] for s in SEEDS], ddof=1), abs=1e-12)
            assert row["gain_ci_low"] <= row["gain_over_previous"] <= row["gain_ci_high"]
        tfidf = per_seed(results, "tfidf", base)
        assert row["baseline"] == f"tfidf · {base}"
        assert row["gain_over_baseline"] == pytest.approx(
            np.mean([mine[s] - tfidf[s] for s in SEEDS]), abs=1e-12)
    # the lowest rung has no gain below it, and says why
    first = ladder.loc["kshot"]
    assert np.isnan(first["gain_over_previous"]) and np.isnan(first["gain_ci_low"])
    assert "lowest rung" in first["undefined"]["gain_over_previous"]


def test_the_ladder_gains_agree_with_the_customizability_table(minilm_run):
    _, results = minilm_run
    ladder = results.ladder().set_index("strategy")
    gains = results.customizability()
    over_probe = gains[(gains["strategy"] == "finetune") & (gains["over"] == "probe")].iloc[0]
    row = ladder.loc["finetune"]
    assert (row["gain_over_previous"], row["gain_ci_low"], row["gain_ci_high"]) == (
        over_probe["gain"], over_probe["ci_low"], over_probe["ci_high"])
    assert "prompting" not in set(gains["over"])  # no zero-shot cells ran for an encoder


def test_a_store_read_without_its_suite_has_the_same_ladder(minilm_run):
    spec, results = minilm_run
    again = adapteval.results(spec["output_dir"])
    cols = ["model", "strategy", "rung", "value", "gain_over_previous", "gain_over_baseline"]
    pd.testing.assert_frame_equal(again.ladder()[cols], results.ladder()[cols])


def test_the_reports_show_the_ladder(minilm_run, tmp_path):
    _, results = minilm_run
    html = write_report(results, tmp_path / "r.html").read_text()
    part = html[html.index('id="customizability"'):]
    ladder = part[part.index('id="ladder"'):part.index('id="curves"')]
    assert part.index('id="ladder"') < part.index('data-plot="gains-baseline"')  # first
    assert 'data-plot="ladder"' in ladder  # the plot: rungs along, score with CI whiskers
    assert all(s in ladder for s in ("kshot", "probe", "finetune", "tfidf · probe"))
    gain = results.ladder().set_index("strategy").loc["probe", "gain_over_previous"]
    assert f"{gain:+.3f}" in ladder

    md = write_report(results, tmp_path / "r.md", "md").read_text()
    assert "### Customizability ladder" in md and f"{gain:+.3f}" in md
    doc = json.loads(write_report(results, tmp_path / "r.json", "json").read_text())
    assert [r["strategy"] for r in doc["ladder"]] == ["kshot", "probe", "finetune"]
    assert doc["ladder"][0]["gain_over_previous"] is None
    assert doc["ladder"][0]["undefined"]["gain_over_previous"]


def test_the_run_summary_ends_with_the_ladder_within_80_columns(minilm_run):
    _, results = minilm_run
    out = draw(summary_view(results))
    assert max(cell_len(line) for line in out.splitlines()) <= 80, out
    table = out[out.index("Customizability ladder"):]
    lines = [line for line in table.splitlines() if line.startswith("│")]
    names = [line.split("│")[1].strip() for line in lines]
    assert names[:4] == ["all-MiniLM-L6-v2", "kshot", "probe", "finetune"]
    row = results.ladder().set_index("strategy").loc["finetune"]
    shown = f"{row.gain_over_previous:+.3f} [{row.gain_ci_low:+.3f}, {row.gain_ci_high:+.3f}]"
    assert shown in table  # whole, on one line


def test_the_cli_run_prints_the_ladder_at_80_columns(minilm_run, tmp_path):
    spec, _ = minilm_run
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(spec))  # every cell is stored: the run only reads them
    proc = subprocess.run([*CLI, "run", str(path)], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "80"}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Customizability ladder" in proc.stdout
    assert max(cell_len(line) for line in proc.stdout.splitlines()) <= 80, proc.stdout


@pytest.fixture(scope="module")
def decoder_and_encoder(tmp_path_factory, smollm2_ref, one_torch_thread) -> Results:
    """SmolLM2-135M-Instruct (zero-shot, then the probe on its embeddings) beside
    all-MiniLM-L6-v2 (k-shot, probe) and the TF-IDF baseline, two seeds."""
    spec = {
        "name": "ladder-llm",
        "models": ["SmolLM2-135M-Instruct", "all-MiniLM-L6-v2"],
        "baselines": ["tfidf"],
        "tasks": [{"name": "spam", "bundled": "sms-spam", "max_train": 60, "max_test": 40}],
        "strategies": [{"name": "zeroshot"},
                       {"name": "kshot", "samples_per_label": 4, "n_experiments": 2,
                        "models": ["all-MiniLM-L6-v2", "tfidf"]},
                       "probe"],
        "seeds": [0, 1],
        "output_dir": str(tmp_path_factory.mktemp("ladder-llm") / "out"),
        "bootstrap": {"n_resamples": 200},
    }
    return adapteval.run(spec)


def test_a_decoder_climbs_from_zero_shot_beside_an_encoder(decoder_and_encoder, tmp_path):
    results = decoder_and_encoder
    ladder = results.ladder()
    steps = {m: list(g["strategy"]) for m, g in ladder.groupby("model", sort=False)}
    assert steps == {"SmolLM2-135M-Instruct": ["zeroshot", "probe"],
                     "all-MiniLM-L6-v2": ["kshot", "probe"]}
    llm = ladder[ladder["model"] == "SmolLM2-135M-Instruct"].set_index("strategy")
    assert llm.loc["zeroshot", "rung"] == 0.0
    mine = per_seed(results, "SmolLM2-135M-Instruct", "probe")
    prompt = per_seed(results, "SmolLM2-135M-Instruct", "zeroshot")
    gain = np.mean([mine[s] - prompt[s] for s in (0, 1)])
    assert llm.loc["probe", "gain_over_previous"] == pytest.approx(gain, abs=1e-12)

    gains = results.customizability()
    over_prompt = gains[gains["over"] == "prompting"]
    assert list(over_prompt["model"]) == ["SmolLM2-135M-Instruct"]  # the encoder has no prompt
    assert over_prompt.iloc[0]["reference"] == "SmolLM2-135M-Instruct · zeroshot"
    assert over_prompt.iloc[0]["gain"] == pytest.approx(gain, abs=1e-12)

    out = draw(summary_view(results))
    assert max(cell_len(line) for line in out.splitlines()) <= 80, out
    table = out[out.index("Customizability ladder"):]
    names = [line.split("│")[1].strip() for line in table.splitlines() if line.startswith("│")]
    assert names[:6] == ["SmolLM2-135M-Instruct", "zeroshot", "probe",
                         "all-MiniLM-L6-v2", "kshot", "probe"]
    html = write_report(results, tmp_path / "r.html").read_text()
    assert 'data-plot="ladder"' in html and "zeroshot" in html


def test_over_several_tasks_the_plot_averages_each_rung(tmp_path):
    """One seed, two tasks: the plot shows P_avg per rung; the terminal heads each
    ladder with its model and task."""
    from adapteval.presentation.ladder import ladder_section

    spec = {**minilm_suite(tmp_path / "out"), "seeds": [0],
            "tasks": [{"name": "spam", "bundled": "sms-spam", "max_train": 120, "max_test": 80},
                      {"name": "yelp", "bundled": "sentiment-yelp", "max_train": 120,
                       "max_test": 80}],
            "strategies": [{"name": "kshot", "samples_per_label": 4, "n_experiments": 2},
                           "probe"]}
    results = adapteval.run(spec)
    section = ladder_section(results)
    (plot,) = section.plots
    assert plot.kind == "ladder" and plot.data["averaged"]
    flex = results.flexibility().set_index(["model", "strategy"])
    for p in plot.data["points"]:
        assert p["value"] == pytest.approx(flex.loc[(p["model"], p["strategy"]), "P_avg"])
    assert [r["label"] for r in plot.data["references"]] == ["tfidf · probe"]
    out = draw(summary_view(results))
    assert max(cell_len(line) for line in out.splitlines()) <= 80, out
    names = [line.split("│")[1].strip() for line in
             out[out.index("Customizability ladder"):].splitlines() if line.startswith("│")]
    assert names == ["all-MiniLM-L6-v2 · spam", "kshot", "probe",
                     "all-MiniLM-L6-v2 · yelp", "kshot", "probe"]
    html = write_report(results, tmp_path / "r.html").read_text()
    assert 'data-plot="ladder"' in html
