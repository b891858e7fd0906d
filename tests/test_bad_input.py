"""Bad input: one clear line (what, where, the bad value, the fix), exit code 2, no
traceback, nothing written."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from tests.conftest import CLI, build_tiny_bert
from typer.testing import CliRunner

from adapteval.cli import app

GOOD_TASK = "  - {name: spam, bundled: sms-spam}\n"
# eight rows, two classes: a valid small training file
TRAIN = "text,label\n" + "".join(f"t{i} words,{'xy'[i % 2]}\n" for i in range(8))


def suite(body: str, tasks: str = GOOD_TASK, models: str = "  - tfidf\n") -> str:
    text = ""
    if models is not None:
        text += "models:\n" + models
    if tasks is not None:
        text += "tasks:\n" + tasks
    return text + body


def task(path: str, extra: str = "") -> str:
    return f"  - {{name: t, path: {path}{', ' + extra if extra else ''}}}\n"


CASES: dict[str, tuple[str, dict[str, str | bytes], list[str]]] = {
    "yaml syntax": ("models: [tfidf\ntasks: x\n", {}, ["YAML syntax error", "suite.yaml:"]),
    "empty suite": ("", {}, ["a suite must be a mapping", "empty file"]),
    "unknown top key": (suite("modls: []\n"), {}, ["unknown key 'modls'", "valid keys", "models"]),
    "unknown task key": (suite("", tasks="  - {name: s, bundled: sms-spam, colum: x}\n"), {},
                         ["tasks[0] (s)", "unknown key 'colum'", "text_pair"]),
    "wrong type": (suite("seeds: abc\n"), {}, ["seeds", "valid list", "abc"]),
    "bad literal": (suite("", tasks=task("d.csv", "format: xlsx")), {},
                    ["tasks[0] (t).format", "'csv'", "xlsx"]),
    "out of range": (suite("", tasks=task("d.csv", "test_size: 1.5")), {},
                     ["test_size", "less than 1", "1.5"]),
    "no models": (suite("", models="  []\n"), {}, ["models", "at least 1 item"]),
    "duplicate tasks": (suite("", tasks=GOOD_TASK * 2), {}, ["must be unique", "spam"]),
    "missing data file": (suite("", tasks=task("nope.csv")), {}, ["data file not found", "nope.csv"]),
    "missing column": (suite("", tasks=task("d.csv", "label: sentiment")),
                       {"d.csv": "text,label\na,x\nb,y\nc,x\nd,y\n"},
                       ["label column 'sentiment' not found", "columns: text, label"]),
    "empty data file": (suite("", tasks=task("d.csv")), {"d.csv": ""}, ["file is empty"]),
    "not utf-8": (suite("", tasks=task("d.csv")), {"d.csv": b"text,label\n\xff\xfe bad,x\nok,y\n"},
                  ["not valid utf-8", "offset", "encoding:"]),
    "broken jsonl": (suite("", tasks=task("d.jsonl")),
                     {"d.jsonl": '{"text": "a", "label": 1}\n{"text": "b", label: 2}\n'},
                     ["line 2 is not valid JSON"]),
    "one class only": (suite("", tasks=task("d.csv")), {"d.csv": "text,label\na,x\nb,x\nc,x\nd,x\n"},
                       ["only one class", "'x'"]),
    "nan labels": (suite("", tasks=task("d.jsonl")),
                   {"d.jsonl": '{"text": "a", "label": "x"}\n{"text": "b", "label": null}\n'
                               '{"text": "c", "label": "y"}\n{"text": "d", "label": "y"}\n'},
                   ["label is missing", "row 2"]),
    "unseen test labels": (suite("", tasks="  - {name: t, files: {train: tr.csv, test: te.csv}}\n"),
                           {"tr.csv": "text,label\na,x\nb,y\n", "te.csv": "text,label\nc,z\n"},
                           ["never occur in train", "'z'"]),
    "missing train split": (suite("", tasks="  - {name: t, files: {test: te.csv}}\n"),
                            {"te.csv": "text,label\na,x\nb,y\n"}, ["train split is empty or missing"]),
    "duplicate ids": (suite("", tasks=task("d.csv", "id: uid")),
                      {"d.csv": "uid,text,label\n1,a,x\n2,b,y\n2,c,x\n3,d,y\n"},
                      ["duplicate values", "'2'"]),
    "unknown model": (suite("", models="  - bert-base-nonexistent\n"), {},
                      ["unknown model", "bert-base-nonexistent", "all-MiniLM-L6-v2"]),
    "missing model folder": (suite("", models="  - ./models/mine\n"), {},
                             ["model folder not found", "./models/mine"]),
    "unknown metric": (suite("metrics: [acuracy]\n"), {},
                       ["metrics[0]", "unknown metric 'acuracy'", "did you mean 'accuracy'"]),
    "inapplicable metrics": (suite("metrics: [mse]\n"), {},
                             ["none of the listed metrics applies", "accuracy"]),
    "unknown strategy": (suite("strategies: [fintune]\n"), {},
                         ["unknown strategy 'fintune'", "kshot", "probe"]),
    "bad strategy parameter": (suite("strategies: [{name: kshot, k: 3}]\n"), {},
                               ["unknown parameter 'k'", "samples_per_label"]),
    "bad strategy value": (suite("strategies: [{name: kshot, samples_per_label: 0}]\n"), {},
                           ["samples_per_label", "greater than or equal to 1", "0"]),
    "columns count mismatch": (suite("", tasks=task("d.tsv", "header: false, columns: [text, label, extra]")),
                               {"d.tsv": "".join(f"row {i}\t{'ab'[i % 2]}\n" for i in range(12))},
                               ["columns: gives 3 names", "rows have 2 fields"]),
    "negative seed": (suite("seeds: [-1]\n"), {}, ["seeds[0]", "greater than or equal to 0", "-1"]),
    "unknown encoding": (suite("", tasks=task("d.csv", "encoding: latin-99")), {},
                         ["encoding", "unknown text encoding 'latin-99'", "utf-8"]),
    "output_dir is a file": (suite("output_dir: out\n"), {"out": "a file"},
                             ["output_dir is a file", "folder"]),
    "unknown estimator": (suite("rank: {estimators: [logmee]}\n"), {},
                          ["suite.yaml: rank.estimators[0]", "unknown estimator 'logmee'", "logme"]),
    "too few rows to split": (suite("", tasks=task("d.csv")), {"d.csv": "text,label\na,x\nb,y\nc,x\nd,y\n"},
                              ["cannot split the data for seed 0", "more rows per class"]),
    "unknown bundled task": (suite("", tasks="  - sentiment-twitter\n"), {},
                             ["unknown bundled task 'sentiment-twitter'", "sentiment-imdb"]),
    "not a store": (suite("output_dir: out\n"), {"out/results.sqlite": "not a database"},
                    ["not an adapteval store"]),
    "folder is not a dataset": (suite("", tasks=task("somedir")), {"somedir/x.txt": "hi"},
                                ["not a saved Hugging Face dataset"]),
    # --- suite shape and field values ---
    "top level is a list": ("- models: [tfidf]\n  tasks: [sms-spam]\n", {},
                            ["a suite must be a mapping", "'models' and 'tasks'", "'list'"]),
    "task field wrong type": (suite("", tasks=task("d.csv", "header: maybe")), {"d.csv": TRAIN},
                              ["tasks[0] (t).header", "valid boolean", "'maybe'"]),
    "two data sources": (suite("", tasks="  - {name: t, bundled: sms-spam, path: d.csv}\n"),
                         {"d.csv": TRAIN},
                         ["tasks[0] (t)", "exactly one of bundled, path or files", "bundled, path"]),
    "files without test": (suite("", tasks="  - {name: t, files: {train: tr.csv}}\n"),
                           {"tr.csv": TRAIN}, ["tasks[0] (t)", "files needs a 'test' entry"]),
    "unknown split key in files": (
        suite("", tasks="  - {name: t, files: {train: tr.csv, test: te.csv, dev: d.csv}}\n"),
        {"tr.csv": TRAIN, "te.csv": TRAIN, "d.csv": TRAIN},
        ["tasks[0] (t).files.dev", "'validation'", "'dev'"]),
    "confidence above 1": (suite("bootstrap: {confidence: 1.5}\n"), {},
                           ["bootstrap.confidence", "less than 1", "1.5"]),
    "too few resamples": (suite("bootstrap: {n_resamples: 10}\n"), {},
                          ["bootstrap.n_resamples", "greater than or equal to 100", "10"]),
    "shortlist zero": (suite("shortlist: 0\n"), {},
                       ["shortlist", "greater than or equal to 1", "(got 0)"]),
    "unknown baseline": (suite("baselines: [bert]\n"), {},
                         ["baselines[0]", "'majority' or 'tfidf'", "'bert'"]),
    # --- models ---
    "model listed twice": (suite("", models="  - all-MiniLM-L6-v2\n  - all-MiniLM-L6-v2\n"), {},
                           ["models", "must be unique", "'all-MiniLM-L6-v2' appears twice"]),
    "onnx without tokenizer": (suite("", models="  - paraphrase-MiniLM-L3-v2-onnx\n"), {},
                               ["models[0] (paraphrase-MiniLM-L3-v2-onnx)", "needs a tokenizer",
                                "set tokenizer:"]),
    "tokenizer for a hf model": (
        suite("", models="  - {source: all-MiniLM-L6-v2, tokenizer: all-MiniLM-L6-v2}\n"), {},
        ["models[0] (all-MiniLM-L6-v2)", "applies to ONNX models only", "remove it"]),
    "unknown pooling": (suite("", models="  - {source: all-MiniLM-L6-v2, pooling: sum}\n"), {},
                        ["models[0] (all-MiniLM-L6-v2).pooling", "'mean'", "'sum'"]),
    "hub id without download": (suite("", models="  - someorg/some-model\n"), {},
                                ["models[0] (someorg/some-model)", "downloads are off",
                                 "--allow-download"]),
    # --- strategies ---
    "kshot zero experiments": (suite("strategies: [{name: kshot, n_experiments: 0}]\n"), {},
                               ["strategies[0]", "n_experiments", "greater than or equal to 1",
                                "(got 0)"]),
    "finetune typo parameter": (suite("strategies: [{name: finetune, max_step: 3}]\n"), {},
                                ["strategies[0]", "unknown parameter 'max_step'", "max_steps"]),
    "negative learning rate": (suite("strategies: [{name: finetune, learning_rate: -1}]\n"), {},
                               ["strategies[0]", "learning_rate", "greater than 0", "-1"]),
    "strategy without name": (suite("strategies: [{samples_per_label: 4}]\n"), {},
                              ["strategies[0].name", "required field is missing"]),
    # --- data files and columns ---
    "nan labels in test split": (
        suite("", tasks="  - {name: t, files: {train: tr.csv, test: te.csv}}\n"),
        {"tr.csv": TRAIN, "te.csv": "text,label\nc,x\nd,\n"},
        ["label is missing", "split 'test'", "fill in their labels"]),
    "empty test file": (suite("", tasks="  - {name: t, files: {train: tr.csv, test: te.csv}}\n"),
                        {"tr.csv": TRAIN, "te.csv": ""},
                        ["tasks[0] (t).files.test", "file is empty", "te.csv"]),
    "header-only test file": (
        suite("", tasks="  - {name: t, files: {train: tr.csv, test: te.csv}}\n"),
        {"tr.csv": TRAIN, "te.csv": "text,label\n"},
        ["test split is empty or missing", "['train']", "provide a test split"]),
    "jsonl line is a list": (suite("", tasks=task("d.jsonl")),
                             {"d.jsonl": '{"text": "a", "label": "x"}\n["b", "y"]\n'},
                             ["line 2 is not a JSON object", '["b", "y"]', "one JSON object"]),
    "ragged csv row": (suite("", tasks=task("d.csv")),
                       {"d.csv": "text,label\na,x\nb,y,z,w\nc,x\nd,y\n"},
                       ["tasks[0] (t).path", "Expected 2 fields in line 3, saw 4",
                        "check the delimiter"]),
    "broken parquet": (suite("", tasks=task("d.parquet")), {"d.parquet": "not parquet"},
                       ["cannot read Parquet file", "d.parquet", "is Parquet"]),
    "unknown file suffix": (suite("", tasks=task("d.xlsx")), {"d.xlsx": "x"},
                            ["cannot tell the format", "'.xlsx'", "set format:"]),
    "missing text column": (suite("", tasks=task("d.csv", "text: body")), {"d.csv": TRAIN},
                            ["text column 'body' not found", "set text:", "text, label"]),
    "missing text_pair column": (suite("", tasks=task("d.csv", "text_pair: hypothesis")),
                                 {"d.csv": TRAIN},
                                 ["text_pair column 'hypothesis' not found", "set text_pair:"]),
    "missing split column": (suite("", tasks=task("d.csv", "split_column: part")),
                             {"d.csv": TRAIN},
                             ["split_column column 'part' not found", "set split_column:"]),
    "missing id column": (suite("", tasks=task("d.csv", "id: uid")), {"d.csv": TRAIN},
                          ["id column 'uid' not found", "set id:"]),
    "unknown split name": (suite("", tasks=task("d.csv", "split_column: split")),
                           {"d.csv": "text,label,split\n" + "".join(
                               f"t{i},{'xy'[i % 2]},{['train', 'test', 'tset'][i % 3]}\n"
                               for i in range(12))},
                           ["unknown split name in column 'split'", "'tset'", "train, validation"]),
    "too few rows": (suite("", tasks=task("d.csv")), {"d.csv": "text,label\na,x\nb,y\n"},
                     ["dataset has only 2 rows", "too few to split"]),
    "binary type on three classes": (
        suite("", tasks=task("d.csv", "type: binary")),
        {"d.csv": "text,label\n" + "".join(f"t{i},{'abc'[i % 3]}\n" for i in range(12))},
        ["type is binary but the labels have 3 classes", "['a', 'b', 'c']", "type: multiclass"]),
    "regression with classification metrics": (
        suite("metrics: [accuracy]\n", tasks=task("d.csv")),
        {"d.csv": "text,label\n" + "".join(f"t{i},{i * 0.37:.2f}\n" for i in range(12))},
        ["none of the listed metrics applies to regression task 't'", "['accuracy']",
         "mae, mse, r2, spearman"]),
}


def _write(tmp: Path, body: str, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        p = tmp / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content) if isinstance(content, bytes) else p.write_text(content)
    (tmp / "suite.yaml").write_text(body)
    return tmp / "suite.yaml"


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_gives_one_clear_line_and_exit_2(case, tmp_path):
    body, files, expected = CASES[case]
    path = _write(tmp_path, body, files)
    before = {p for p in tmp_path.rglob("*")}
    result = CliRunner().invoke(app, ["run", str(path), "--quiet"])
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in expected:
        assert fragment in lines[0], lines[0]
    created = {p for p in tmp_path.rglob("*")} - before
    assert not [p for p in created if p.name == "results.sqlite" and p.stat().st_size > 0]


def test_pickled_model_is_refused_with_the_fix(tmp_path, minilm_path):
    folder = build_tiny_bert(tmp_path / "legacy", minilm_path, safetensors=False)
    path = _write(tmp_path, suite("", models=f"  - {folder}\n"), {})
    result = CliRunner().invoke(app, ["run", str(path)])
    assert result.exit_code == 2
    assert "pickled weights" in result.stderr and "allow_pickle: true" in result.stderr


@pytest.mark.parametrize("case", ["yaml syntax", "unknown metric", "nan labels"])
def test_real_process_exit_code_and_no_traceback(case, tmp_path):
    body, files, expected = CASES[case]
    path = _write(tmp_path, body, files)
    proc = subprocess.run([*CLI, "run", str(path)], capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert expected[0] in proc.stderr and proc.stdout == ""


def test_debug_flag_shows_the_traceback(tmp_path):
    body, files, _ = CASES["unknown metric"]
    path = _write(tmp_path, body, files)
    proc = subprocess.run([*CLI, "--debug", "run", str(path)], capture_output=True, text=True)
    assert proc.returncode != 0 and "Traceback" in proc.stderr
