"""Domain transfer: the matrix diagonal is the cell's own stored result, off-diagonal
cells and the domain-column mode agree with a direct scikit-learn computation, and bad
groups fail before any work."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from tests.conftest import CLI, SHARED

import adapteval
from adapteval.core.errors import ConfigError
from adapteval.data.task import load_task
from adapteval.suite.specs import TaskSpec

SENTIMENT = ["sentiment-amazon", "sentiment-imdb", "sentiment-yelp"]


def tfidf_accuracy(train_texts, train_y, test_texts, test_y) -> float:
    """The TF-IDF baseline built by hand: word 1-2 grams, sublinear tf, LR with C=10."""
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1, max_features=50_000)
    x = vec.fit_transform(train_texts)
    head = LogisticRegression(C=10.0, max_iter=2000).fit(x, train_y)
    return float((head.predict(vec.transform(test_texts)) == test_y).mean())


@pytest.fixture(scope="module")
def three_tasks(tmp_path_factory, one_torch_thread):
    out = tmp_path_factory.mktemp("transfer")
    return adapteval.run({
        "name": "transfer", "baselines": ["tfidf"],
        "models": [{"source": "paraphrase-MiniLM-L3-v2-onnx", "name": "L3",
                    "tokenizer": "all-MiniLM-L6-v2"}],
        "tasks": SENTIMENT,
        "strategies": ["probe", {"name": "kshot", "samples_per_label": 8, "n_experiments": 3}],
        "seeds": [0, 1], "analyses": ["transfer"], "output_dir": str(out / "out"),
        "bootstrap": {"n_resamples": 300},
    })


@pytest.mark.slow
def test_diagonal_is_the_cells_own_stored_result(three_tasks):
    res = three_tasks
    summary = res.summary()
    acc = summary[summary["metric"] == "accuracy"].set_index(["model", "task", "strategy"])
    matrices = {(m.model, m.strategy): m for m in res.transfer_matrix()}
    assert set(matrices) == {("L3", "probe"), ("L3", "kshot"),
                             ("tfidf", "probe"), ("tfidf", "kshot")}
    for (model, strategy), m in matrices.items():
        assert m.labels == SENTIMENT and m.n_seeds == 2 and len(m.cells) == 9
        for task in SENTIMENT:
            ref = acc.loc[(model, task, strategy)]
            cell = m.cells[(task, task)]
            assert cell.value == pytest.approx(ref["value"], abs=1e-12)
            assert (cell.ci_low, cell.ci_high) == pytest.approx((ref["ci_low"], ref["ci_high"]))
    # the predictor left by the cell reproduces its stored test predictions
    for row in res.analysis("transfer"):
        (own,) = [t for t in row.result["targets"] if t["in_domain"]]
        assert own["task"] == row.task
        assert own["recomputed_accuracy"] == pytest.approx(own["accuracy"], abs=1e-12)


@pytest.mark.slow
def test_off_diagonal_matches_a_direct_fit_and_the_summary_adds_up(three_tasks):
    res = three_tasks
    tasks = {n: load_task(TaskSpec(name=n, bundled=n), Path.cwd()) for n in SENTIMENT}
    m = next(x for x in res.transfer_matrix() if x.model == "tfidf")
    for source, target in (("sentiment-amazon", "sentiment-imdb"),
                           ("sentiment-yelp", "sentiment-amazon")):
        direct = []
        for seed in (0, 1):
            train = tasks[source].split(seed).train
            test = tasks[target].split(seed).test
            direct.append(tfidf_accuracy(train.items, train.y, test.items, test.y))
        assert m.cells[(source, target)].value == pytest.approx(np.mean(direct), abs=1e-9)
    values = m.values().to_numpy()
    off = values[~np.eye(3, dtype=bool)]
    assert m.in_domain.value == pytest.approx(np.trace(values) / 3)
    assert m.out_domain.value == pytest.approx(off.mean())
    assert m.gap.value == pytest.approx(np.trace(values) / 3 - off.mean())
    assert m.gap.ci_low <= m.gap.value <= m.gap.ci_high
    assert m.worst[2] == pytest.approx(off.min())
    row = res.transfer_summary().set_index(["model", "strategy"]).loc[("tfidf", "probe")]
    assert row["gap"] == pytest.approx(m.gap.value)
    flex = res.flexibility_summary().set_index(["model", "strategy"])
    assert flex.loc[("tfidf", "probe"), "ood_gap"] == pytest.approx(m.gap.value)
    # k-shot heads of TF-IDF score other tasks in their own draws' feature spaces
    assert np.isfinite(flex.loc[("tfidf", "kshot"), "ood_gap"])


def domain_file(folder: Path, per_domain: int = 160) -> Path:
    """The three real review files as one CSV with a domain column (a seeded sample)."""
    frames = []
    for domain, file in (("amazon", "amazon_cells"), ("imdb", "imdb"), ("yelp", "yelp")):
        f = pd.read_csv(SHARED / "sentiment-sentences" / f"{file}_labelled.txt",
                        sep="\t", header=None, names=["text", "label"], quoting=3)
        frames.append(f.sample(per_domain, random_state=0).assign(domain=domain))
    path = folder / "reviews.csv"
    pd.concat(frames).to_csv(path, index=False)
    return path


def test_domain_column_mode_refits_per_domain_like_a_direct_fit(tmp_path):
    path = domain_file(tmp_path)
    spec = {"name": "reviews", "path": str(path), "domain": "domain"}
    res = adapteval.run({
        "name": "domains", "models": ["tfidf"], "baselines": [], "tasks": [spec],
        "analyses": ["transfer"], "seeds": [3], "output_dir": str(tmp_path / "out"),
        "bootstrap": {"n_resamples": 200},
    })
    (row,) = res.analysis("transfer")
    assert row.result["mode"] == "domains" and len(row.result["targets"]) == 9
    (m,) = res.transfer_matrix()
    assert m.mode == "domains" and m.labels == ["amazon", "imdb", "yelp"]
    split = load_task(TaskSpec(**spec), tmp_path).split(3)
    tr, te = split.train, split.test
    for t in row.result["targets"]:
        src, dst = t["source_domain"], t["domain"]
        a, b = tr.domains == src, te.domains == dst
        assert t["n_train"] == int(a.sum()) and t["n"] == int(b.sum())
        expected = tfidf_accuracy([x for x, k in zip(tr.items, a, strict=True) if k], tr.y[a],
                                  [x for x, k in zip(te.items, b, strict=True) if k], te.y[b])
        assert t["accuracy"] == pytest.approx(expected, abs=1e-12)
        assert m.cells[(src, dst)].value == pytest.approx(expected, abs=1e-12)
        assert t["in_domain"] == (src == dst)


def suite(tmp_path, tasks, analysis) -> dict:
    return {"name": "bad", "models": ["tfidf"], "baselines": [], "tasks": tasks,
            "analyses": [analysis], "output_dir": str(tmp_path / "out")}


@pytest.mark.parametrize(
    ("tasks", "analysis", "message"),
    [
        (SENTIMENT[:2] + ["sms-spam"], {"name": "transfer", "group": ["sentiment-amazon", "sms-spam"]},
         "group tasks have different labels: 'sentiment-amazon' has \\['0', '1'\\], "
         "'sms-spam' has \\['ham', 'spam'\\]"),
        (SENTIMENT[:2], {"name": "transfer", "group": ["sentiment-amazon", "sst2"]},
         "group names unknown task 'sst2'"),
        (SENTIMENT[:2], {"name": "transfer", "group": ["sentiment-amazon"]},
         "group needs two or more distinct tasks"),
        (["sms-spam"], {"name": "transfer", "mode": "domains"},
         "transfer mode 'domains' needs a domain column"),
        (["sms-spam", "sentiment-amazon"], "transfer", "transfer applies to no task"),
        (SENTIMENT[:2], {"name": "transfer", "mode": "sideways"}, "mode: input should be"),
    ],
)
def test_bad_transfer_settings_fail_before_any_work(tmp_path, tasks, analysis, message):
    with pytest.raises(ConfigError, match=message):
        adapteval.run(suite(tmp_path, tasks, analysis))
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_cli_reports_a_label_mismatch_in_one_line_with_exit_code_2(tmp_path):
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(suite(
        tmp_path, ["sentiment-amazon", "sms-spam"],
        {"name": "transfer", "group": ["sentiment-amazon", "sms-spam"]})))
    proc = subprocess.run([*CLI, "validate", str(path)], capture_output=True, text=True)
    assert proc.returncode == 2
    lines = [x for x in proc.stderr.splitlines() + proc.stdout.splitlines() if x.strip()]
    assert len(lines) == 1 and "analyses[0].group: group tasks have different labels" in lines[0]
