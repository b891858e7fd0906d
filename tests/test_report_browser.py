"""The HTML report of a small real run, opened in headless Chromium: every section and
plot is there, no script error happens, and a <script> hidden in the data shows as text
and never runs. An image run's report shows its thumbnails (decoded by the browser) and
its corruption curves. The screenshot is kept as a test artefact in ``test-artifacts/report.png``
(or under $ADAPTEVAL_ARTIFACTS)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import adapteval
from adapteval.analyses import ANALYSES, Analysis
from adapteval.data import bundled
from adapteval.report import write_report
from image_plugins import MODEL, registered
from image_samples import fashion

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
EVIL = "<script>window.__injected = 1</script>"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


class FirstTexts(Analysis):
    """Keeps the first test texts with their predictions, as analyses keep examples."""

    name = "test-first-texts"

    def run(self, ctx):
        texts = list(ctx.split.test.items[:6])
        pred = ctx.predictor.predict(texts)
        classes = ctx.cell.task.classes
        return {"agreement": float((pred == ctx.split.test.y[:6]).mean()),
                "examples": [{"text": t, "pred": str(classes[p])}
                             for t, p in zip(texts, pred, strict=True)]}


@pytest.fixture(scope="module")
def report_file(tmp_path_factory) -> Path:
    import torch

    torch.set_num_threads(1)
    ANALYSES.register(FirstTexts, replace=True)
    tmp = tmp_path_factory.mktemp("browser")
    frame = pd.read_csv(bundled.HERE / "sentiment-yelp.csv")
    frame.loc[::2, "text"] = frame.loc[::2, "text"] + " " + EVIL
    frame["label"] = frame["label"].map({0: "negative", 1: f"positive {EVIL}"})
    frame.to_csv(tmp / "yelp-injected.csv", index=False)
    suite = {
        "name": "browser",
        "models": ["all-MiniLM-L6-v2"],
        "baselines": ["tfidf"],
        "tasks": [{"name": "yelp", "path": str(tmp / "yelp-injected.csv"), "max_train": 200,
                   "max_test": 100},
                  {"name": "spam", "bundled": "sms-spam", "max_train": 200, "max_test": 100}],
        "strategies": ["probe", {"name": "kshot", "samples_per_label": 8, "n_experiments": 2}],
        "analyses": [{"name": "test-first-texts", "strategies": ["probe"]}],
        "seeds": [0, 1],
        "output_dir": str(tmp / "out"),
        "bootstrap": {"n_resamples": 200},
    }
    try:
        results = adapteval.run(suite)
    finally:
        ANALYSES._items.pop("test-first-texts")
    assert any(EVIL in e["text"] for r in results.analysis("test-first-texts")
               for e in r.result["examples"])
    return write_report(results, tmp / "report.html")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One headless Chromium (offline) for the module: opens a tab on a file and collects
    its page errors, warnings and any request leaving the file (one Playwright session:
    two at once cannot run in one thread)."""
    if not CHROMIUM.is_file():
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (`make test` installs it)")
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=str(CHROMIUM),
            headless=True, args=FLAGS, viewport={"width": 1280, "height": 900}, offline=True)

        def open_page(path: Path):
            tab = context.new_page()
            problems: list[str] = []
            tab.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
            tab.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
                   if m.type in ("error", "warning") else None)
            tab.on("request", lambda r: problems.append(f"request: {r.url}")
                   if not r.url.startswith(("file:", "data:")) else None)
            tab.goto(path.as_uri(), wait_until="load")
            return tab, problems

        yield open_page
        context.close()


@pytest.fixture(scope="module")
def page(report_file, browser):
    return browser(report_file)


def test_report_opens_with_every_section_and_plot_and_no_error(page, tmp_path):
    tab, problems = page
    sections = tab.eval_on_selector_all("main section", "els => els.map(e => e.id)")
    assert sections == ["overview", "flexibility", "customizability", "stability", "other",
                        "provenance"]
    plots = tab.eval_on_selector_all(
        "figure.plot", "els => els.map(e => [e.dataset.plot, e.querySelectorAll('svg').length,"
        " e.getBoundingClientRect().width])")
    names = [p[0] for p in plots]
    for expected in ("flexibility-scatter", "task-bars", "ladder", "gains-baseline",
                     "gains-probe", "seed-spread"):
        assert expected in names
    assert all(n_svg == 1 and width > 300 for _, n_svg, width in plots)
    rows = tab.eval_on_selector_all("table.leaderboard tbody tr", "els => els.length")
    assert rows == 4  # MiniLM and tfidf, probe and kshot
    assert problems == []

    shot = tmp_path / "report.png"
    tab.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    dest = Path(os.environ.get("ADAPTEVAL_ARTIFACTS") or ARTIFACTS)
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, dest / "report.png")


def test_script_in_the_data_shows_as_text_and_never_runs(page):
    tab, problems = page
    assert tab.evaluate("typeof window.__injected") == "undefined"
    assert tab.evaluate("document.scripts.length") == 0
    examples = tab.inner_text("#other")
    assert EVIL in examples  # the dataset text, shown literally
    assert f"positive {EVIL}" in tab.inner_text("#provenance")  # a class label from the data
    assert problems == []


def test_a_regression_report_with_an_undefined_score_opens_with_its_reasons(
        browser, shared, tmp_path):
    """The majority baseline's Spearman on a regression task has no value: the report
    opens, shows n/a with the reason, draws the per-task bars without it and says so."""
    import csv
    import math
    import warnings

    from scipy.stats import ConstantInputWarning

    lines = (shared / "sms-spam" / "SMSSpamCollection").read_text(encoding="utf-8").splitlines()
    with (tmp_path / "lengths.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        for line in lines[:300]:
            text = line.split("\t", 1)[1]
            w.writerow([text, round(math.log(len(text.split()) + 1), 4)])
    suite = {"name": "lengths", "models": ["tfidf"],
             "tasks": [{"name": "lengths", "path": str(tmp_path / "lengths.csv"),
                        "type": "regression"}],
             "seeds": [0], "output_dir": str(tmp_path / "out"), "bootstrap": {"n_resamples": 200}}
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConstantInputWarning)
        path = write_report(adapteval.run(suite), tmp_path / "report.html")
    tab, problems = browser(path)
    overview = tab.inner_text("#overview")
    assert "n/a: Spearman undefined: constant predictions" in overview
    assert "nan" not in overview
    plots = tab.eval_on_selector_all("figure.plot", "els => els.map(e => [e.dataset.plot,"
                                     " e.getBoundingClientRect().width])")
    assert "task-bars" in dict(plots)
    assert "flexibility-scatter" not in dict(plots)  # one task: sigma_P has no value
    assert all(width > 300 for _, width in plots)
    flexibility = tab.inner_text("#flexibility")
    assert "Not in the bars: majority · probe · lengths" in flexibility
    assert "n/a: sigma_P undefined: one task" in flexibility
    assert problems == []


def test_robustness_labels_do_not_overlap_on_screen(browser, tmp_path):
    """Every perturbation's name, as the browser lays the plot out, has a box that
    overlaps no other name's."""
    from adapteval.perturbations import PERTURBATIONS
    from adapteval.report import plots

    per = [{"model": m, "strategy": "probe", "name": n, "drop": 0.01 * i}
           for m in ("all-MiniLM-L6-v2", "tfidf") for i, n in enumerate(PERTURBATIONS.names())]
    page = tmp_path / "drops.html"
    page.write_text(f'<!DOCTYPE html><html><body style="width:760px">'
                    f'{plots.perturbation_drops(per)}</body></html>')
    tab, problems = browser(page)
    names = [plots.short(n, 30) for n in PERTURBATIONS.names()]
    boxes = tab.evaluate("""names => [...document.querySelectorAll('svg text')]
        .filter(t => names.includes(t.textContent.trim()))
        .map(t => { const r = t.getBoundingClientRect();
                    return [t.textContent.trim(), r.left, r.top, r.right, r.bottom]; })""",
                         names)
    assert sorted(b[0] for b in boxes) == sorted(names)
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            apart = a[3] <= b[1] or b[3] <= a[1] or a[4] <= b[2] or b[4] <= a[2]
            assert apart, f"{a[0]!r} overlaps {b[0]!r}"
    assert problems == []


@pytest.fixture(scope="module")
def image_report(tmp_path_factory) -> Path:
    """Fashion-MNIST (real, 500 train / 200 test), a class name carrying a script, through
    robustness, attribution and calibration into the report."""
    images, labels = fashion(700, "train")
    names = np.array(["T-shirt", "trouser", "pullover", "dress", f"coat {EVIL}", "sandal",
                      "shirt", "sneaker", "bag", "boot"])
    tmp = tmp_path_factory.mktemp("images")
    with registered():
        results = adapteval.run({
            "name": "images", "models": [MODEL],
            "baselines": [],
            "tasks": [{"name": "clothes", "images": {"train": images[:500], "test": images[500:]},
                       "labels": {"train": names[labels[:500]], "test": names[labels[500:]]}}],
            "strategies": ["test-pixel-probe"],
            "analyses": [{"name": "robustness", "corruptions": ["gaussian_noise", "jpeg",
                                                                "occlude"],
                          "severities": [1, 3, 5], "max_items": 40},
                         {"name": "attribution", "n_items": 4, "n_examples": 2, "patches": 7},
                         "calibration"],
            "criteria": ["robustness.flip_rate <= 0.5", "attribution.faithfulness_margin >= 0.05"],
            "output_dir": str(tmp / "out"), "bootstrap": {"n_resamples": 100}})
        return write_report(results, tmp / "report.html")


def test_an_image_report_shows_its_thumbnails_and_curves(browser, image_report):
    tab, problems = browser(image_report)
    images = tab.eval_on_selector_all(
        "img", "els => els.map(e => [e.closest('section').id, e.complete, e.naturalWidth,"
        " e.getBoundingClientRect().width, e.getAttribute('src').slice(0, 22), e.alt])")
    by_section = {}
    for section, complete, natural, width, src, _alt in images:
        assert complete and natural > 0 and width >= 56, (section, natural, width)
        assert src == "data:image/png;base64,"
        by_section[section] = by_section.get(section, 0) + 1
    # the most confident mistakes (3), robustness examples (3 x clean and corrupted),
    # attribution examples (2 x image and heat map)
    assert by_section == {"overview": 3, "acceptability": 10}
    assert any(alt.startswith("attributions towards") for *_, alt in images)
    plots = tab.eval_on_selector_all("figure.plot", "els => els.map(e => e.dataset.plot)")
    assert {"robustness-severity", "robustness-drops", "faithfulness-curves"} <= set(plots)
    text = tab.inner_text("#acceptability")
    assert "severity 5" in text and "deletion_auc" in text
    assert tab.evaluate("typeof window.__injected") == "undefined"
    assert tab.evaluate("document.scripts.length") == 0
    assert f"coat {EVIL}" in tab.inner_text("#provenance")  # the class name, as text
    assert problems == []
