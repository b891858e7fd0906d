"""Bad input: one clear line (what, where, the bad value, the fix), exit code 2, no
traceback, nothing written."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from tests.conftest import CLI, build_tiny_bert
from typer.testing import CliRunner

from adapteval.cli import app

CORPUS = Path(__file__).parent / "bad_inputs"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "expect.txt").is_file())


def _case(name: str, tmp: Path) -> tuple[Path, list[str], list[str]]:
    """Copy a corpus case to a scratch folder: its suite, its expected message fragments
    (expect.txt, one a line) and extra command-line arguments (args.txt, one a line)."""
    folder = tmp / name
    shutil.copytree(CORPUS / name, folder, symlinks=True)
    expected = (folder / "expect.txt").read_text().splitlines()
    args_file = folder / "args.txt"
    args = args_file.read_text().splitlines() if args_file.is_file() else []
    return folder / "suite.yaml", [e for e in expected if e], args


def _tree(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.lstat().st_size for p in root.rglob("*")}


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES)
def test_bad_input_gives_one_clear_line_and_exit_2(case, tmp_path):
    path, expected, args = _case(case, tmp_path)
    before = _tree(tmp_path)
    result = CliRunner().invoke(app, ["run", str(path), "--quiet", *args])
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in expected:
        assert fragment in lines[0], lines[0]
    assert _tree(tmp_path) == before, "a rejected suite wrote files"


def _write(tmp: Path, body: str) -> Path:
    (tmp / "suite.yaml").write_text(body)
    return tmp / "suite.yaml"


def test_pickled_model_is_refused_with_the_fix(tmp_path, minilm_path):
    folder = build_tiny_bert(tmp_path / "legacy", minilm_path, safetensors=False)
    path = _write(tmp_path, f"models:\n  - {folder}\ntasks: [sms-spam]\n")
    result = CliRunner().invoke(app, ["run", str(path)])
    assert result.exit_code == 2
    assert "pickled weights" in result.stderr and "allow_pickle: true" in result.stderr


@pytest.mark.parametrize("case", ["yaml-syntax", "unknown-metric", "nan-labels", "workers-zero"])
@pytest.mark.slow
def test_real_process_exit_code_and_no_traceback(case, tmp_path):
    path, expected, args = _case(case, tmp_path)
    proc = subprocess.run([*CLI, "run", str(path), *args], capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert expected[0] in proc.stderr and proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


@pytest.mark.slow
def test_debug_flag_shows_the_traceback(tmp_path):
    path, _, _ = _case("unknown-metric", tmp_path)
    proc = subprocess.run([*CLI, "--debug", "run", str(path)], capture_output=True, text=True)
    assert proc.returncode != 0 and "Traceback" in proc.stderr
