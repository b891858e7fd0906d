"""Every reader loads real data into the same task shape."""

from __future__ import annotations

import csv
import json

import numpy as np
import pandas as pd
import pytest

from adapteval.core.errors import DataError
from adapteval.data.task import load_task
from adapteval.suite.specs import TaskSpec


def _sms(shared, n=300) -> pd.DataFrame:
    frame = pd.read_csv(shared / "sms-spam" / "SMSSpamCollection", sep="\t", header=None,
                        names=["label", "text"], quoting=csv.QUOTE_NONE, dtype=str,
                        keep_default_na=False)
    return frame.head(n)


def test_headerless_tsv_with_quotes_as_text_keeps_every_imdb_row(shared, tmp_path):
    spec = TaskSpec(name="imdb", path=str(shared / "sentiment-sentences" / "imdb_labelled.txt"),
                    format="tsv", header=False, columns=["sentence", "label"], quoting=False,
                    text="sentence")
    task = load_task(spec, tmp_path)
    assert len(task.frame) == 1000  # quoting on would swallow rows at stray double quotes
    assert task.type == "binary" and task.classes == ("0", "1")
    assert any('"' in t for t in task.frame["text"])


def test_csv_with_multiline_quoted_fields(shared, tmp_path):
    spec = TaskSpec(name="banking", files={"train": str(shared / "banking77" / "train.csv"),
                                           "test": str(shared / "banking77" / "test.csv")},
                    label="category")
    task = load_task(spec, tmp_path)
    assert task.type == "multiclass" and len(task.classes) == 77
    split = task.split(0)
    assert (len(split.train), len(split.test)) == (10003, 3080)


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl", "parquet"])
def test_each_file_format_gives_the_same_task(shared, tmp_path, fmt):
    frame = _sms(shared)
    path = tmp_path / f"sms.{fmt}"
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "tsv":
        frame.to_csv(path, sep="\t", index=False)
    elif fmt == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in frame.to_dict("records")))
    else:
        frame.to_parquet(path)
    task = load_task(TaskSpec(name="sms", path=str(path)), tmp_path)
    assert task.frame["text"].tolist() == frame["text"].tolist()
    assert task.classes == ("ham", "spam")
    assert task.frame["y"].tolist() == (frame["label"] == "spam").astype(int).tolist()


def test_saved_hf_dataset_dict_keeps_its_splits(shared, tmp_path):
    import datasets

    frame = _sms(shared, 400)
    dd = datasets.DatasetDict({
        "train": datasets.Dataset.from_pandas(frame.iloc[:300], preserve_index=False),
        "test": datasets.Dataset.from_pandas(frame.iloc[300:], preserve_index=False),
    })
    dd.save_to_disk(str(tmp_path / "sms_hf"))
    task = load_task(TaskSpec(name="sms", path=str(tmp_path / "sms_hf")), tmp_path)
    split = task.split(123)
    assert task.has_given_split and (len(split.train), len(split.test)) == (300, 100)
    assert split.test.items == frame["text"].iloc[300:].tolist()


def test_saved_hf_dataset_without_splits_is_split_by_seed(shared, tmp_path):
    import datasets

    datasets.Dataset.from_pandas(_sms(shared, 400), preserve_index=False).save_to_disk(
        str(tmp_path / "flat"))
    task = load_task(TaskSpec(name="sms", path=str(tmp_path / "flat"), test_size=0.25), tmp_path)
    assert not task.has_given_split and len(task.split(0).test) == 100


def test_column_mapping_text_pair_domain_and_group(tmp_path):
    rows = [{"q": f"question {i}", "a": f"answer {i % 7}", "score": i / 10 + 0.05,
             "src": "web" if i % 2 else "mail", "who": "x" if i % 3 else "y"} for i in range(40)]
    path = tmp_path / "pairs.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    spec = TaskSpec(name="sts", path=str(path), text="q", text_pair="a", label="score",
                    domain="src", group="who")
    task = load_task(spec, tmp_path)
    assert task.type == "regression" and task.classes is None
    split = task.split(0)
    assert split.train.pairs is not None and len(split.train.pairs) == len(split.train.items)
    assert set(split.test.domains) <= {"web", "mail"} and set(split.test.groups) <= {"x", "y"}


def test_text_that_looks_missing_stays_text(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("text,label\nNA,a\nnull,b\nfine,a\nok,b\n")
    task = load_task(TaskSpec(name="t", path=str(path)), tmp_path)
    assert task.frame["text"].tolist()[:2] == ["NA", "null"]


def test_split_column_names_the_splits(tmp_path):
    path = tmp_path / "t.csv"
    lines = ["text,label,part"] + [f"item {i},{'ab'[i % 2]},{'train' if i < 16 else 'dev' if i < 20 else 'test'}" for i in range(28)]
    path.write_text("\n".join(lines))
    task = load_task(TaskSpec(name="t", path=str(path), split_column="part"), tmp_path)
    split = task.split(0)
    assert (len(split.train), len(split.validation), len(split.test)) == (16, 4, 8)


def test_broken_parquet_is_a_data_error(tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 this is not a parquet file")
    with pytest.raises(DataError, match="cannot read Parquet"):
        load_task(TaskSpec(name="t", path=str(path)), tmp_path)


def test_labels_are_encoded_consistently_across_splits(shared, tmp_path):
    frame = _sms(shared, 200)
    frame.iloc[:150].to_csv(tmp_path / "train.csv", index=False)
    frame.iloc[150:].to_csv(tmp_path / "test.csv", index=False)
    task = load_task(TaskSpec(name="t", files={"train": "train.csv", "test": "test.csv"}), tmp_path)
    split = task.split(0)
    decoded = np.array(task.classes)[split.test.y]
    assert decoded.tolist() == frame["label"].iloc[150:].tolist()


def test_json_lines_saved_as_txt_are_read_as_json_lines(tmp_path):
    path = tmp_path / "d.txt"
    path.write_text("".join(f'{{"text": "item {i}", "label": "{"ab"[i % 2]}"}}\n' for i in range(10)))
    task = load_task(TaskSpec(name="t", path=str(path)), tmp_path)
    assert len(task.frame) == 10 and task.classes == ("a", "b")
