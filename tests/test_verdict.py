"""Acceptance criteria: both rule forms, errors before any work, verdict numbers equal to
the Results numbers they come from, and the exit codes of `adapteval check`."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
import yaml
from scipy import stats
from tests.conftest import CLI

import adapteval
from adapteval.analyses import ANALYSES, Analysis
from adapteval.core.errors import ConfigError
from adapteval.core.plugin import Number
from adapteval.suite.rules import parse_rule
from adapteval.suite.schema import suite_from_dict


class PositiveRate(Analysis):
    """Share of test items predicted as class 1, from the stored predictions."""

    name = "test-positive-rate"
    needs_predictor = False
    offers = {"positive_rate": Number(0.0, 1.0)}

    def run(self, ctx):
        return {"positive_rate": float((ctx.predictions.y_pred[0] == 1).mean())}


@pytest.fixture(autouse=True, scope="module")
def registered():
    ANALYSES.register(PositiveRate, replace=True)
    yield
    ANALYSES._items.pop(PositiveRate.name)


def suite(tmp_path, criteria, **extra):
    return {
        "name": "gate", "models": ["tfidf"], "baselines": ["majority"],
        "tasks": [{"name": "yelp", "bundled": "sentiment-yelp"},
                  {"name": "spam", "bundled": "sms-spam"}],
        "seeds": [0, 1], "analyses": [PositiveRate.name], "criteria": criteria,
        "output_dir": str(tmp_path / "out"), "bootstrap": {"n_resamples": 200}, **extra,
    }


@pytest.mark.parametrize(("text", "expected"), [
    ("accuracy >= 0.85 on every task (ci_low)",
     {"metric": "accuracy", "op": ">=", "threshold": 0.85, "scope": "every_task",
      "statistic": "ci_low"}),
    ("flip_rate <= 0.10", {"metric": "flip_rate", "op": "<=", "threshold": 0.10}),
    ("flip_rate <= 10%", {"metric": "flip_rate", "op": "<=", "threshold": 0.10}),
    ("ece <= 0.05 on worst task", {"metric": "ece", "op": "<=", "threshold": 0.05,
                                   "scope": "worst_task"}),
    ("sigma_P <= 0.05", {"metric": "sigma_P", "op": "<=", "threshold": 0.05}),
    ("latency_ms_p95 <= 20", {"metric": "latency_ms_p95", "op": "<=", "threshold": 20.0}),
    ("macro_f1 > .7 on task sms-spam (upper CI bound) for probe",
     {"metric": "macro_f1", "op": ">", "threshold": 0.7, "scope": "task:sms-spam",
      "statistic": "ci_high", "strategy": "probe"}),
    ("mcc==1e-1 on average", {"metric": "mcc", "op": "==", "threshold": 0.1, "scope": "mean"}),
])
def test_compact_rules_read_as_the_mapping_form(text, expected):
    assert parse_rule(text) == expected


@pytest.mark.parametrize(("rule", "message"), [
    ("accuracy about 0.8", "cannot read rule"),
    ("accuracy >= 0.8 on most tasks", "unknown scope 'most tasks'"),
    ("accuracy >= 0.8 (median)", r"unknown statistic \(median\)"),
    ({"metric": "accuracy", "op": "=>", "threshold": 0.8}, "criteria\\[0\\].op"),
    ({"metric": "accuracy", "op": ">=", "threshold": 0.8, "colour": 1}, "unknown key 'colour'"),
])
def test_unreadable_rules_name_their_place(rule, message):
    with pytest.raises(ConfigError, match=message) as err:
        suite_from_dict({"models": ["tfidf"], "tasks": ["sms-spam"], "criteria": [rule]},
                        source="s.yaml")
    assert "s.yaml: criteria[0]" in str(err.value)


@pytest.mark.parametrize(("criteria", "extra", "message"), [
    (["acuracy >= 0.8"], {}, "unknown metric 'acuracy'.*did you mean 'accuracy'"),
    (["attribution_margin >= 0"], {}, "unknown metric"),
    (["faithfulness_margin >= 0.1"], {}, "comes from the 'attribution' analysis.*add attribution"),
    (["accuracy >= 1.5"], {}, r"threshold outside the range of accuracy \[0, 1\]"),
    (["log_loss < -0.1"], {}, "threshold outside the range of log_loss"),
    (["positive_rate >= 0.5 on task imdb"], {}, "unknown task 'imdb'"),
    ([{"metric": "accuracy", "op": ">=", "threshold": 0.5, "scope": "somewhere"}], {},
     "unknown scope"),
    (["accuracy >= 0.5 for lora"], {}, "unknown strategy 'lora'"),
    (["P_avg >= 0.5 on worst task"], {}, "one number per model and strategy"),
    ([{"metric": "seed_std", "op": "<=", "threshold": 0.1, "statistic": "ci_high"}], {},
     "seed_std has no confidence interval"),
    (["seed_std <= 0.01"], {"seeds": [0]}, "seed_std needs at least two seeds"),
    (["failure_rate <= 0"], {"baselines": []}, "failure_rate compares with the majority"),
    (["r2 >= 0.5"], {}, "metric 'r2' applies to none of the suite's tasks"),
    (["mcc >= 0.5"], {"metrics": ["accuracy"]}, "'mcc' is not among the suite's metrics"),
])
def test_bad_criteria_fail_at_plan_time_before_any_work(tmp_path, criteria, extra, message):
    with pytest.raises(ConfigError, match=message) as err:
        adapteval.run(suite(tmp_path, criteria, **extra))
    assert "criteria[0]" in str(err.value)
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_verdict_values_are_the_results_numbers(tmp_path):
    criteria = [
        "accuracy >= 0.7 on every task (ci_low)",
        "accuracy >= 0.99 on task spam",
        "macro_f1 >= 0.5 on average (ci_high)",
        "log_loss <= 0.9 on worst task",
        "P_avg >= 0.8 (ci_low)",
        "sigma_P <= 0.5",
        "worst >= 0.6",
        "seed_std <= 0.2",
        "failure_rate <= 0",
        "positive_rate >= 0.1 on every task (ci_low)",
    ]
    v = adapteval.check(suite(tmp_path, criteria))
    res = adapteval.run(suite(tmp_path, criteria))  # all stored: read back, same bootstrap
    assert [(c.model, c.strategy) for c in v.candidates] == [("tfidf", "probe")]  # no baseline
    checks = {c.rule: c for c in v.candidates[0].checks}
    summary = res.summary()
    mine = summary[(summary["model"] == "tfidf") & (summary["strategy"] == "probe")]

    def per_task(metric, col="value"):
        rows = mine[mine["metric"] == metric]
        return dict(zip(rows["task"], rows[col], strict=True))

    every = checks["accuracy >= 0.7 on every task (ci_low)"]
    lows = per_task("accuracy", "ci_low")
    assert every.value == pytest.approx(min(lows.values()))
    assert every.where == min(lows, key=lows.get)
    assert {e["where"]: e["ci_low"] for e in every.evidence} == pytest.approx(lows)
    spam = checks["accuracy >= 0.99 on task spam"]
    assert spam.value == pytest.approx(per_task("accuracy")["spam"])
    assert spam.passed is (spam.value >= 0.99)
    worst_ll = checks["log_loss <= 0.9 on worst task"]
    assert worst_ll.value == pytest.approx(max(per_task("log_loss").values()))

    flex = res.flexibility().set_index(["model", "strategy"]).loc[("tfidf", "probe")]
    assert checks["P_avg >= 0.8 (ci_low)"].value == pytest.approx(flex["ci_low"])
    assert checks["sigma_P <= 0.5"].value == pytest.approx(flex["sigma_P"])
    assert checks["worst >= 0.6"].value == pytest.approx(flex["worst_score"])
    mean_f1 = checks["macro_f1 >= 0.5 on average (ci_high)"]
    assert mean_f1.value > np.mean(list(per_task("macro_f1").values()))  # upper bound of the mean

    stab = res.stability()
    stab = stab[(stab["model"] == "tfidf") & (stab["strategy"] == "probe")]
    assert checks["seed_std <= 0.2 on every task"].value == pytest.approx(stab["std"].max())
    assert checks["failure_rate <= 0 on every task"].value == pytest.approx(
        stab["failure_rate"].max())

    # an analysis number over two seeds: mean of the stored results, t-interval over seeds
    pr = checks["positive_rate >= 0.1 on every task (ci_low)"]
    per_task = {}
    for r in res.analysis(PositiveRate.name):
        if r.model == "tfidf":
            per_task.setdefault(r.task, []).append(r.result["positive_rate"])
    lows = {t: stats.t.interval(0.95, len(x) - 1, loc=np.mean(x),
                                scale=stats.sem(x))[0] for t, x in per_task.items()}
    assert pr.value == pytest.approx(min(lows.values()))
    assert {e["where"]: e["mean"] for e in pr.evidence} == pytest.approx(
        {t: np.mean(x) for t, x in per_task.items()})
    for c in v.candidates[0].checks:
        if c.scope not in ("mean", "worst_task"):
            assert c.passed is all(e["passed"] for e in c.evidence)
    assert v.candidates[0].acceptable is all(c.passed for c in v.candidates[0].checks)


def write_suite(folder, criteria, **extra):
    data = {"name": "gate", "models": ["tfidf"], "baselines": ["majority"],
            "tasks": ["sentiment-yelp"], "seeds": [0], "output_dir": "out",
            "bootstrap": {"n_resamples": 200}, **extra}
    if criteria is not None:
        data["criteria"] = criteria
    path = folder / f"suite-{len(list(folder.glob('suite-*.yaml')))}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def check(*args):
    return subprocess.run([*CLI, "check", *map(str, args), "--quiet"], capture_output=True,
                          text=True)


@pytest.mark.slow
def test_check_exit_codes_through_the_cli(tmp_path):
    passing = write_suite(tmp_path, ["accuracy >= 0.6 on every task (ci_low)"])
    failing = write_suite(tmp_path, ["accuracy >= 0.6", "accuracy >= 0.95 on every task"])

    ok = check(passing)
    assert ok.returncode == 0, ok.stderr
    assert "acceptable: best is tfidf (probe)" in ok.stdout and "pass" in ok.stdout

    bad = check(failing, "--format", "json", "--model", "tfidf")
    assert bad.returncode == 3, bad.stderr
    v = json.loads(bad.stdout)
    assert v["acceptable"] is False and v["model"] == "tfidf" and v["best"] is None
    (cand,) = v["candidates"]
    assert [c["passed"] for c in cand["checks"]] == [True, False]
    acc = adapteval.results(failing).summary().set_index(["model", "metric"])
    assert cand["checks"][1]["value"] == pytest.approx(acc.loc[("tfidf", "accuracy"), "value"])

    for args, message in [
        ((write_suite(tmp_path, None),), "no acceptance criteria"),
        ((passing, "--model", "majority"), "'majority' is a baseline, not a candidate"),
    ]:
        proc = check(*args)
        assert proc.returncode == 2 and message in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_latency_timed_on_a_busy_machine_says_so(tmp_path, monkeypatch):
    """Latency rules carry a caution when the timing shared the cores with other work."""
    from adapteval.analyses import cost
    from adapteval.terminal import verdict_table

    monkeypatch.setattr(cost, "machine_load", lambda: {"load_1m": 7.5, "cpus": 2})
    rules = ["latency_ms_p95 <= 10000", "accuracy >= 0.5"]
    spec = suite(tmp_path, rules, analyses=[{"name": "cost", "memory": False}])
    v = adapteval.check(spec)
    latency, accuracy = v.candidates[0].checks
    assert latency.passed and "timed while busy: load 7.5 on 2 cores" in latency.note
    assert "busy" not in accuracy.note
    from rich.console import Console

    console = Console(width=200, record=True)
    console.print(verdict_table(v))
    assert "timed while busy: load 7.5 on 2 cores" in console.export_text()
    stored = adapteval.results(suite_from_dict(spec))
    table = cost.cost_table(stored)
    assert set(table.loc[table["model"] == "tfidf", "load_1m"]) == {7.5}
    from adapteval.report import write_report

    html = write_report(stored, tmp_path / "report.html").read_text()
    assert "timed while busy: load 7.5 on 2 cores" in html  # the report's verdict says it too


@pytest.mark.slow
def test_a_rule_without_a_measurement_fails_and_says_why(tmp_path):
    """An analysis limited to the probe gives k-shot nothing to judge: the rule fails
    (a gate never passes on a missing number) and the table says it was not measured."""
    from rich.console import Console

    from adapteval.terminal import verdict_table

    spec = suite(tmp_path, ["positive_rate >= 0.05"],
                 strategies=["probe", {"name": "kshot", "samples_per_label": 4,
                                       "n_experiments": 2}],
                 analyses=[{"name": PositiveRate.name, "strategies": ["probe"]}])
    v = adapteval.check(spec)
    by = {c.strategy: c.checks[0] for c in v.candidates}
    assert by["probe"].value is not None and by["probe"].passed
    assert by["kshot"].value is None and not by["kshot"].passed
    assert "not measured" in by["kshot"].note
    console = Console(width=200, record=True)
    console.print(verdict_table(v))
    assert "(not measured: no stored result for this model and strategy)" in console.export_text()


@pytest.mark.slow
def test_a_rule_reads_every_listed_entry_of_its_analysis(tmp_path):
    """Robustness listed twice (text perturbations on the text task, image corruptions on
    the image task): a rule on its flip rate judges the pixel baseline by the image entry
    and TF-IDF by the text one; each check's number is that entry's stored flip rate."""
    spec = {
        "name": "two-entries", "models": ["tfidf", "pixels"], "baselines": [],
        "tasks": [{"name": "yelp", "bundled": "sentiment-yelp", "max_train": 200,
                   "max_test": 60},
                  {"name": "fmnist", "bundled": "fashion-mnist", "max_train": 200,
                   "max_test": 60}],
        "seeds": [0],
        "analyses": [{"name": "robustness", "tasks": ["yelp"], "perturbations": ["typos"],
                      "max_items": 30},
                     {"name": "robustness", "tasks": ["fmnist"],
                      "corruptions": ["gaussian_noise"], "severities": [5], "max_items": 30}],
        "criteria": ["robustness.flip_rate <= 1.0 on every task",
                     "robustness.flip_rate <= 0.2 on task:fmnist"],
        "output_dir": str(tmp_path / "out"), "bootstrap": {"n_resamples": 100},
    }
    v = adapteval.check(spec)
    stored = {(r.model, r.task): r.result["flip_rate"]
              for r in adapteval.results(suite_from_dict(spec)).analysis("robustness")}
    assert set(stored) == {("tfidf", "yelp"), ("pixels", "fmnist")}
    by = {c.model: c.checks for c in v.candidates}
    for model, task in stored:
        every = by[model][0]
        assert every.value == pytest.approx(stored[(model, task)]) and every.where == task
        assert every.passed and "not measured" not in every.note
    assert by["pixels"][1].value == pytest.approx(stored[("pixels", "fmnist")])
