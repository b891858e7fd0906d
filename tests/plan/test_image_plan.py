"""Image tasks through the plan: the frozen strategies and the non-pretrained baselines
take them, each baseline runs on the tasks of its modality, text-only plugins are
refused in one line, and a run stores cells that ``adapteval results`` prints."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from tests.conftest import count_rows
from typer.testing import CliRunner

from adapteval.analyses import ANALYSES
from adapteval.cli import app
from adapteval.core.errors import IncompatibleError
from adapteval.core.plugin import IMAGE
from adapteval.data.task import load_task
from adapteval.models.baselines import PixelBaseline, pixel_features
from adapteval.plan import build_plan
from adapteval.strategies import STRATEGIES
from adapteval.suite.schema import suite_from_dict
from adapteval.suite.specs import TaskSpec


def _suite(tmp_path, **extra):
    data = {"models": ["majority"], "tasks": [
        {"name": "digits", "bundled": "digits", "max_train": 300, "max_test": 150}], **extra}
    return suite_from_dict(data, source="suite.yaml", base_dir=tmp_path)


def test_default_baselines_follow_each_tasks_modality(tmp_path):
    plan = build_plan(_suite(tmp_path, tasks=["sms-spam", {"name": "digits",
                                                            "bundled": "digits"}]))
    runs = {(c.model.label, c.task.name) for c in plan.cells}
    assert runs == {("majority", "sms-spam"), ("majority", "digits"),
                    ("tfidf", "sms-spam"), ("pixels", "digits")}
    image_only = build_plan(_suite(tmp_path))
    assert [m.label for m in image_only.models] == ["majority", "pixels"]


def test_probe_and_kshot_take_images_and_tfidf_is_refused_in_one_line(tmp_path):
    assert IMAGE in STRATEGIES["probe"].modalities and IMAGE in STRATEGIES["kshot"].modalities
    plan = build_plan(_suite(tmp_path, strategies=["probe", "kshot"]))
    assert {c.strategy.name for c in plan.cells} == {"probe", "kshot"}
    with pytest.raises(IncompatibleError) as err:
        build_plan(_suite(tmp_path, baselines=["majority", "tfidf"]))
    assert ("model 'tfidf' (tfidf) does not accept the image items of task 'digits'"
            in err.value.one_line())


TEXT_ONLY_ANALYSES = [n for n in ANALYSES.names() if IMAGE not in ANALYSES[n].modalities]


def test_word_level_analyses_are_the_text_only_ones():
    assert {"counterfactual", "eec"} <= set(TEXT_ONLY_ANALYSES)
    assert not {"robustness", "attribution", "calibration"} & set(TEXT_ONLY_ANALYSES)


@pytest.mark.parametrize("name", TEXT_ONLY_ANALYSES)
def test_text_only_analyses_are_refused_for_image_tasks(tmp_path, name):
    with pytest.raises(IncompatibleError, match="does not accept the image items"):
        build_plan(_suite(tmp_path, analyses=[name]))


@pytest.mark.parametrize("name", ["robustness", "attribution"])
def test_corruption_robustness_and_pixel_attribution_plan_on_image_tasks(tmp_path, name):
    plan = build_plan(_suite(tmp_path, analyses=[name]))
    assert plan.cells


TEXT_ONLY = [n for n in STRATEGIES.names() if IMAGE not in STRATEGIES[n].modalities]


def test_the_prompting_strategies_are_text_only():
    assert {"zeroshot", "icl"} <= set(TEXT_ONLY)


@pytest.mark.parametrize("strategy", TEXT_ONLY)
def test_text_only_strategies_are_refused_for_image_tasks(tmp_path, strategy):
    with pytest.raises(IncompatibleError, match=f"strategy '{strategy}' does not accept"):
        build_plan(_suite(tmp_path, strategies=[strategy]))


@pytest.mark.slow
def test_pixel_baseline_equals_scikit_learn_on_the_same_pixels(tmp_path):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # small fits: BLAS threads only contend
        _compare_with_scikit_learn(tmp_path, LogisticRegression, StandardScaler)


def _compare_with_scikit_learn(tmp_path, LogisticRegression, StandardScaler):  # noqa: N803
    task = load_task(TaskSpec(name="f", bundled="fashion-mnist"), tmp_path)
    split = task.split(0)

    def reference(items):  # Pillow directly: 16x16 bilinear, RGB, scaled to [0, 1]
        return np.stack([np.asarray(Image.fromarray(x).resize((16, 16), Image.BILINEAR),
                                    dtype=np.float32).reshape(-1) / 255 for x in items])

    x_train, x_test = reference(split.train.items), reference(split.test.items)
    np.testing.assert_array_equal(pixel_features(split.test.items), x_test)
    scaler = StandardScaler().fit(x_train)
    ref = LogisticRegression(C=1.0, max_iter=2000).fit(scaler.transform(x_train), split.train.y)
    expected = ref.predict(scaler.transform(x_test))
    model = PixelBaseline()
    f_train, f_test = model.fit_transform(split.train.items, None,
                                          [(split.train.items, None), (split.test.items, None)])
    head = model.head(regression=False).fit(f_train, split.train.y)
    got = head.predict(f_test)
    np.testing.assert_array_equal(got, expected)
    assert (got == split.test.y).mean() > 0.7  # far above chance (0.1)


@pytest.mark.slow
def test_a_run_on_image_tasks_stores_cells_and_results_prints_them(tmp_path):
    (tmp_path / "suite.yaml").write_text(
        "models: [majority]\n"
        "tasks:\n  - fashion-mnist\n"
        "  - {name: digits, bundled: digits, max_train: 300, max_test: 150}\n"
        "strategies: [probe, {name: kshot, samples_per_label: 4, n_experiments: 2}]\n")
    out = tmp_path / "out"
    run = CliRunner().invoke(app, ["run", str(tmp_path / "suite.yaml"), "-o", str(out),
                                   "--quiet"])
    assert run.exit_code == 0, run.output
    assert count_rows(out / "results.sqlite", "SELECT COUNT(*) FROM cells") == 8
    shown = CliRunner().invoke(app, ["results", str(out)])
    assert shown.exit_code == 0, shown.output
    assert "pixels" in shown.output and "fashion-mnist" in shown.output
    again = CliRunner().invoke(app, ["run", str(tmp_path / "suite.yaml"), "-o", str(out)])
    assert "0 run, 8 already in the store" in again.output
    exported = CliRunner().invoke(app, ["predictions", str(out), "--task", "fashion-mnist"])
    assert exported.exit_code == 0, exported.output
    assert len([ln for ln in exported.stdout.splitlines() if ln.startswith("fashion-mnist,")]) \
        == 4 * 300  # 2 models x 2 strategies x 300 test images


@pytest.mark.slow
def test_the_python_api_runs_in_memory_images(tmp_path):
    import adapteval
    from adapteval.data.bundled import digits

    x, y = digits()
    suite = {"models": ["majority"], "output_dir": str(tmp_path / "out"),
             "tasks": [{"name": "mem", "images": {"train": x[:400], "test": x[400:600]},
                        "labels": {"train": y[:400], "test": y[400:600]}}]}
    results = adapteval.run(suite)
    scores = results.summary().set_index(["model", "metric"])["value"]
    assert scores[("pixels", "accuracy")] > 0.8 > scores[("majority", "accuracy")]
    from adapteval.api import run_full

    _, again, _ = run_full(suite)  # the same pixels: the same keys, nothing computed again
    assert (again.ran, again.skipped_done) == (0, 2)


MIXED = ["sms-spam", {"name": "digits", "bundled": "digits", "max_train": 300, "max_test": 150}]


def test_a_mixed_suite_pairs_each_model_strategy_and_analysis_with_its_modality(tmp_path):
    plan = build_plan(_suite(tmp_path, models=["all-MiniLM-L6-v2", "efficientnet-lite0"],
                             tasks=MIXED, baselines=["majority"],
                             strategies=["probe", "zeroshot"],
                             analyses=["counterfactual", "calibration"]))
    runs = {(c.model.label, c.task.name, c.strategy.name) for c in plan.cells}
    assert ("all-MiniLM-L6-v2", "digits", "probe") not in runs
    assert ("efficientnet-lite0", "sms-spam", "probe") not in runs
    assert {("all-MiniLM-L6-v2", "sms-spam", "probe"), ("efficientnet-lite0", "digits", "probe"),
            ("majority", "digits", "probe")} <= runs
    assert not any(task == "digits" and s == "zeroshot" for _, task, s in runs)
    jobs = [j for js in plan.jobs().values() for j in js]
    assert {j.cell.task.name for j in jobs if j.analysis.name == "counterfactual"} == {"sms-spam"}
    assert {j.cell.task.name for j in jobs if j.analysis.name == "calibration"} == {
        "sms-spam", "digits"}
    assert ("all-MiniLM-L6-v2, zeroshot, counterfactual (text only): not on digits"
            in plan.skipped)
    assert plan.shortlist_groups() == [["all-MiniLM-L6-v2"], ["efficientnet-lite0"]]
    assert [t.name for t in plan.model_tasks(plan.models[1])] == ["digits"]


def test_a_model_that_names_a_task_of_another_modality_is_refused(tmp_path):
    suite = _suite(tmp_path, models=[{"source": "all-MiniLM-L6-v2", "tasks": ["digits"]}],
                   tasks=MIXED, baselines=[])
    with pytest.raises(IncompatibleError) as err:
        build_plan(suite)
    assert "does not accept the image items of task 'digits'" in err.value.one_line()
