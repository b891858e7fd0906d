"""Per-example predictions: ``adapteval predictions`` and ``adapteval.predictions`` give
each stored cell's test items with the task's own ids, texts and label strings, class
probabilities, and the items two models disagree on; the report lists the most
confident mistakes, its texts escaped."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.conftest import CLI

import adapteval
from adapteval.api import predictions, write_report
from adapteval.contracts.strategy import Predictions
from adapteval.data import bundled
from adapteval.store import ResultStore

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def domains_file(folder: Path) -> Path:
    """A three-class task (which site a review is from) with string ids, markup in every
    text and a few texts repeated under new ids (so some test items also occur in train)."""
    parts = []
    for name in ("amazon", "imdb", "yelp"):
        f = pd.read_csv(bundled.HERE / f"sentiment-{name}.csv").head(60)
        parts.append(pd.DataFrame({"text": "<em>" + f["text"] + "</em> & co", "site": name}))
    frame = pd.concat(parts, ignore_index=True)
    frame = pd.concat([frame, frame.iloc[::15]], ignore_index=True)
    frame.insert(0, "item", [f"rv-{i:04d}" for i in range(len(frame))])
    path = folder / "domains.csv"
    frame.to_csv(path, index=False)
    return path


def snapshot_of(tiny_bert: Path, folder: Path) -> Path:
    """The tiny model laid out as a Hugging Face cache snapshot of one commit."""
    target = folder / "hub" / "models--tiny--bert" / "snapshots" / COMMIT
    shutil.copytree(tiny_bert, target)
    return target


def suite(folder: Path, tiny_bert: Path) -> dict:
    data = domains_file(folder)
    return {
        "name": "predictions",
        "models": [{"source": str(snapshot_of(tiny_bert, folder)), "name": "tiny",
                    "batch_size": 8}],
        "baselines": ["majority", "tfidf"],
        "tasks": [{"name": "domains", "path": str(data), "text": "text", "label": "site",
                   "id": "item"},
                  {"name": "spam", "bundled": "sms-spam", "max_train": 200, "max_test": 150}],
        "strategies": ["probe", {"name": "kshot", "samples_per_label": 4, "n_experiments": 3}],
        "seeds": [0, 1],
        "output_dir": str(folder / "out"),
        "bootstrap": {"n_resamples": 100},
    }


def small_run(tmp_path_factory, tiny_bert) -> tuple[Path, dict, adapteval.Results]:
    """(suite file, the suite, its results) of a real small run, with torch on one
    thread; made once per session (a second module reads the same store back)."""
    import torch
    import yaml

    folder = tmp_path_factory.getbasetemp() / "predictions-run"
    path = folder / "suite.yaml"
    if path.exists():
        spec = yaml.safe_load(path.read_text())
        return path, spec, adapteval.run(path)
    folder.mkdir()
    spec = suite(folder, tiny_bert)
    path.write_text(yaml.safe_dump(spec))
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        res = adapteval.run(path)
    finally:
        torch.set_num_threads(before)
    return path, spec, res


@pytest.fixture(scope="module")
def run(tmp_path_factory, tiny_bert):
    return small_run(tmp_path_factory, tiny_bert)


def source_rows(spec: dict, task: str) -> pd.DataFrame:
    """The task's data file, read here on its own: row i is the file's i-th data row."""
    t = next(t for t in spec["tasks"] if t["name"] == task)
    if "bundled" in t:
        return pd.read_csv(bundled.HERE / f"{t['bundled']}.csv").rename(columns={"label": "gold"})
    f = pd.read_csv(t["path"])
    return f.rename(columns={t["label"]: "gold", t["id"]: "id"})


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def read(path: Path) -> pd.DataFrame:
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype={"id": str, "gold": str, "pred": str})
    if path.suffix == ".jsonl":
        return pd.read_json(path, lines=True, dtype={"id": str, "gold": str, "pred": str})
    return pd.read_parquet(path)


def check_items(frame: pd.DataFrame, spec: dict) -> None:
    """Ids, texts and gold labels are the task's own, row by row."""
    for task, got in frame.groupby("task"):
        src = source_rows(spec, task)
        want = src.iloc[got["row"].to_numpy()]
        ids = want["id"].astype(str) if "id" in src else got["row"].astype(str)
        assert list(got["id"].astype(str)) == list(ids)
        assert list(got["text"]) == list(want["text"])
        assert list(got["gold"].astype(str)) == list(want["gold"].astype(str))


@pytest.mark.parametrize("ext", [".csv", ".jsonl", ".parquet"])
def test_export_holds_the_tasks_items_labels_and_probabilities(run, tmp_path, ext):
    path, spec, res = run
    out = tmp_path / f"preds{ext}"
    done = cli("predictions", str(path), "--out", str(out))
    assert done.returncode == 0, done.stderr
    frame = read(out)
    n_test = {r.key: r.info["n_test"] for r in res.rows}
    assert len(frame) == sum(n_test.values())  # every test item of every cell, once
    assert set(map(tuple, frame[["model", "task", "strategy", "seed"]].drop_duplicates()
                   .to_numpy())) == {(r.model, r.task, r.strategy, r.seed) for r in res.rows}
    check_items(frame, spec)
    assert set(frame.loc[frame["task"] == "domains", "gold"]) == {"amazon", "imdb", "yelp"}
    assert set(frame.loc[frame["task"] == "spam", "gold"]) == {"ham", "spam"}
    for task, classes in (("domains", ["amazon", "imdb", "yelp"]), ("spam", ["ham", "spam"])):
        part = frame[frame["task"] == task]
        p = part[[f"p_{c}" for c in classes]].to_numpy(dtype=float)
        assert np.allclose(p.sum(1), 1.0, atol=1e-6)
        assert list(np.asarray(classes)[p.argmax(1)]) == list(part["pred"].astype(str))
        assert np.allclose(part["confidence"], p.max(1))
        assert list(part["correct"].astype(bool)) == list(part["pred"].astype(str)
                                                         == part["gold"].astype(str))


def test_stdout_csv_and_filters(run):
    path, spec, res = run
    done = cli("predictions", str(path), "--model", "tfidf", "--task", "spam",
               "--strategy", "probe", "--seed", "1")
    assert done.returncode == 0, done.stderr
    frame = pd.read_csv(io.StringIO(done.stdout), dtype={"id": str})
    cell = next(r for r in res.rows
                if (r.model, r.task, r.strategy, r.seed) == ("tfidf", "spam", "probe", 1))
    p = Predictions.from_bytes(cell.predictions)
    assert list(frame["row"]) == list(p.rows)
    assert list(frame["pred"]) == [cell.classes[c] for c in p.y_pred[0]]
    assert np.allclose(frame[["p_ham", "p_spam"]].to_numpy(), p.proba[0], atol=1e-6)
    bad = cli("predictions", str(path), "--model", "nope")
    assert bad.returncode == 2 and "--model" in bad.stderr and "tfidf" in bad.stderr


def test_kshot_probabilities_are_the_mean_over_experiments(run):
    path, spec, res = run
    frame = predictions(path, strategy="kshot", model="tiny", task="domains", seed=0)
    cell = next(r for r in res.rows
                if (r.model, r.task, r.strategy, r.seed) == ("tiny", "domains", "kshot", 0))
    p = Predictions.from_bytes(cell.predictions)
    assert p.proba.shape[0] == 3 and set(frame["experiments"]) == {3}
    mean = p.proba.mean(0)
    assert np.allclose(frame[["p_amazon", "p_imdb", "p_yelp"]].to_numpy(), mean, atol=1e-6)
    assert list(frame["pred"]) == [cell.classes[c] for c in mean.argmax(1)]


def test_disagree_lists_exactly_the_items_two_models_predict_differently(run, tmp_path):
    path, spec, res = run
    full = predictions(path)
    keys = ["task", "strategy", "seed", "row"]
    a = full[full["model"] == "tiny"].set_index(keys)["pred"]
    b = full[full["model"] == "tfidf"].set_index(keys)["pred"]
    want = {k for k in a.index if a[k] != b[k]}
    assert want  # a random tiny model and tf-idf do disagree somewhere
    out = tmp_path / "disagree.csv"
    done = cli("predictions", str(path), "--disagree", "tiny", "tfidf", "-o", str(out))
    assert done.returncode == 0, done.stderr
    got = pd.read_csv(out, dtype={"id": str})
    assert {tuple(k) for k in got[keys].to_numpy()} == want and len(got) == len(want)
    assert (got["pred:tiny"] != got["pred:tfidf"]).all()
    check_items(got, spec)


def test_a_bare_store_reads_its_texts_back_or_says_what_is_missing(run, tmp_path):
    path, spec, res = run
    store = Path(spec["output_dir"])
    frame = predictions(store, task="domains")  # no suite: the cells' reference
    assert frame.attrs["missing"] == {}
    check_items(frame, spec)
    data = Path(spec["tasks"][0]["path"])
    moved = data.with_suffix(".moved")
    data.rename(moved)
    try:
        done = cli("predictions", str(store), "--task", "domains")
    finally:
        moved.rename(data)
    assert done.returncode == 0, done.stderr
    assert "domains: no id, text" in done.stderr and "cannot be read" in done.stderr
    frame = pd.read_csv(io.StringIO(done.stdout))
    assert "text" not in frame and {"row", "gold", "pred", "p_amazon"} <= set(frame.columns)


def test_report_lists_the_most_confident_mistakes_escaped(run, tmp_path):
    path, spec, res = run
    html = (tmp_path / "r.html")
    write_report(path, html)
    text = html.read_text()
    assert "Most confident mistakes" in text
    assert "<em>" not in text and "&lt;em&gt;" in text  # every domains text has markup
    full = predictions(path)
    wrong = full[(~full["correct"].astype(bool)) & (full["model"] == "tiny")]
    body = text[text.index('<table class="mistakes">'):]
    body = body[: body.index("</table>")]
    shown = [cells for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
             if len(cells := re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)) == 9]
    assert shown
    for (task, strategy), part in wrong.groupby(["task", "strategy"]):
        top = part.groupby("row")["confidence"].max().sort_values(ascending=False).head(3)
        rows = [s for s in shown if s[0] == task and s[1] == "tiny" and s[2] == strategy]
        assert [float(s[7]) for s in rows] == pytest.approx(list(top.round(4)), abs=1e-4)
    assert not any(s[1] in ("majority", "tfidf") for s in shown)  # baselines left out


def test_store_predictions_match_the_export(run):
    """The export is the stored predictions, not a recomputation."""
    path, spec, res = run
    frame = predictions(Path(spec["output_dir"]))
    store = ResultStore(Path(spec["output_dir"]))
    try:
        rows = store.rows()
    finally:
        store.close()
    for r in rows:
        part = frame[(frame["model"] == r.model) & (frame["task"] == r.task)
                     & (frame["strategy"] == r.strategy) & (frame["seed"] == r.seed)]
        p = Predictions.from_bytes(r.predictions)
        assert list(part["row"]) == list(p.rows)
        assert list(part["gold"]) == [r.classes[c] for c in p.y_true]
