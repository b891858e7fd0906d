"""What a run says while and after it works: the plan first (what will run, what is
stored), plain progress lines in a log (rich bars on a terminal), a resume line whose
numbers add up, a short summary (every table on request), and help without fake types."""

from __future__ import annotations

import io
import re

import pytest
import yaml
from rich.console import Console
from typer.testing import CliRunner

from adapteval.cli import app
from adapteval.cli import common as cli_common
from adapteval.core.progress import LineReporter, RichReporter

SUITE = {
    "name": "progress",
    "models": ["tfidf"],
    "baselines": [],
    "tasks": ["sms-spam", "sentiment-amazon"],
    "strategies": ["probe"],
    "seeds": [0],
    "metrics": ["accuracy", "log_loss"],
    "bootstrap": {"n_resamples": 100},
}


def write(folder, **changes) -> str:
    path = folder / "suite.yaml"
    path.write_text(yaml.safe_dump({**SUITE, **changes}))
    return str(path)


def invoke(*args: str, env: dict[str, str] | None = None):
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def test_a_log_gets_one_plain_line_per_finished_cell(workdir):
    res = invoke("run", write(workdir))
    done = [line for line in res.stderr.splitlines() if re.match(r"\[\d/2\] done ", line)]
    assert [d.split(" (")[0] for d in done] == [
        "[1/2] done tfidf · sms-spam · probe · seed 0",
        "[2/2] done tfidf · sentiment-amazon · probe · seed 0"]
    assert all(d.endswith("elapsed)") for d in done)
    assert "\x1b" not in res.stderr  # no bars, no control characters in a log


def test_bars_on_a_terminal_lines_elsewhere_nothing_when_quiet(monkeypatch):
    monkeypatch.delenv("ADAPTEVAL_PROGRESS", raising=False)
    monkeypatch.setattr(cli_common, "err", Console(file=io.StringIO(), force_terminal=True))
    assert isinstance(cli_common.reporter(False), RichReporter)
    monkeypatch.setattr(cli_common, "err", Console(file=io.StringIO(), force_terminal=False))
    assert isinstance(cli_common.reporter(False), LineReporter)
    assert type(cli_common.reporter(True)).__name__ == "Reporter"


def test_the_resume_line_counts_cells_that_only_needed_their_analyses(workdir):
    first = invoke("run", write(workdir), "--quiet")
    assert "2 cells: 2 run, 0 already in the store" in first.stderr
    again = invoke("run", write(workdir, analyses=[{"name": "calibration"}]), "--quiet")
    line = next(x for x in again.stderr.splitlines() if " cells: " in x)
    assert line.startswith("2 cells: 0 run, 0 already in the store, 2 stored with 2 analyses "
                           "run"), line
    total, *parts = (int(n) for n in re.findall(r"(\d+) (?:cells|run|already|stored)", line))
    assert total == sum(parts)


def test_the_plan_comes_first_and_dry_run_trains_nothing(workdir):
    suite = write(workdir)
    dry = invoke("run", suite, "--dry-run")
    assert "Plan: 2 cells" in dry.stdout and "0 of them in the store" in dry.stdout
    assert "dry run" in dry.stdout
    assert "tasks: sms-spam, sentiment-amazon; seeds: 0" in dry.stdout
    ran = invoke("run", suite)
    assert "Plan: 2 cells" in ran.stderr  # printed before any cell ran
    assert ran.stderr.index("Plan: 2 cells") < ran.stderr.index("[1/2] done")
    more = invoke("run", write(workdir, seeds=[0, 1]), "--dry-run")
    assert "Plan: 4 cells (model × strategy × task × seed), 2 of them in the store" in more.stdout
    row = next(x for x in more.stdout.splitlines() if x.startswith("│ tfidf"))
    assert [int(n) for n in re.findall(r"\b\d+\b", row)] == [2, 4, 2, 2, 0]


def test_a_run_ends_with_a_summary_and_prints_every_table_on_request(workdir):
    suite = write(workdir, criteria=["accuracy >= 0.5 on every task"])
    short = invoke("run", suite, "--quiet")
    assert "Best per task" in short.stdout and "P_avg" in short.stdout
    assert "verdict: acceptable; best is tfidf (probe)" in short.stdout
    assert "report: adapteval report" in short.stdout
    assert "Scores: mean" not in short.stdout and "Stability" not in short.stdout
    full = invoke("run", suite, "--quiet", "--tables")
    assert "Best per task" in full.stdout and "Scores: mean" in full.stdout
    everything = invoke("results", suite)
    assert "Scores: mean" in everything.stdout


@pytest.mark.parametrize("command", ["run", "demo"])
def test_help_shows_no_type_for_flags_and_a_real_one_for_values(command):
    res = invoke(command, "--help", env={"COLUMNS": "120", "TERMINAL_WIDTH": "120"})
    lines = {m.group(1): line for line in res.stdout.splitlines()
             if (m := re.search(r"(--[a-z-]+)", line))}
    assert "<bool>" not in res.stdout and "<str>" not in res.stdout
    for flag in ("--quiet", "--tables", "--help"):
        assert re.search(rf"{flag}\S*\s+(-q\s+)?[a-z(]", lines[flag], re.I), lines[flag]
    if command == "run":
        assert "INTEGER" in lines["--workers"] and "ADDRESS" in lines["--address"]
        assert "--dry-run" in lines


@pytest.mark.slow
def test_the_plan_says_what_the_shortlist_chose_and_why(workdir, tiny_bert, minilm_path):
    from tests.conftest import build_tiny_bert

    other = build_tiny_bert(workdir / "other", minilm_path, seed=1)
    suite = write(workdir, models=[{"source": str(tiny_bert), "name": "enc-a"},
                                   {"source": str(other), "name": "enc-b"}],
                  tasks=["sms-spam"], shortlist=1,
                  strategies=["probe", {"name": "kshot", "samples_per_label": 4,
                                        "n_experiments": 1}])
    dry = invoke("run", suite, "--dry-run", env={"COLUMNS": "80"})
    assert "Shortlist: the top 1 of 2 candidates by logme" in dry.stdout
    rows = {line.split()[1]: line for line in dry.stdout.splitlines()
            if line.startswith("│ enc-")}
    chosen = next(m for m, line in rows.items() if "probe, kshot" in line)
    left = next(m for m, line in rows.items() if "probe only" in line)
    assert {chosen, left} == {"enc-a", "enc-b"}
    assert re.search(rf"│ {chosen} +│ +1 │", rows[chosen])  # position 1, then its scores
    assert f"left out: shortlist: adapting only {chosen}; not {left}" in dry.stdout
    plan_rows = [x for x in dry.stdout.splitlines() if x.startswith(f"│ {left} ")]
    assert any("kshot" not in x for x in plan_rows)
