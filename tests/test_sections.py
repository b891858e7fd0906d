"""Presentation sections: plain data built next to each analysis (and once for the
Results-level tables), drawn by the terminal with the same characters as before."""

from __future__ import annotations

import ast
from pathlib import Path

from rich.console import Console

from adapteval.analyses import ANALYSES, AnalysisRow
from adapteval.contracts import section
from adapteval.contracts.section import Cell, SectionTable, columns
from adapteval.terminal import render


def row(name, result, *, model="tfidf", task="yelp", strategy="probe", seed=0) -> AnalysisRow:
    return AnalysisRow(key=f"{name}-{model}-{task}-{seed}", cell_key="", name=name, model=model,
                       task=task, strategy=strategy, seed=seed, config={"name": name},
                       result=result, version="0", created_at=0.0, duration_s=0.0)


def text(table: SectionTable, width: int = 200) -> str:
    console = Console(width=width, record=True)
    console.print(render.table(table))
    return console.export_text()


def test_the_section_model_is_plain_data():
    """contracts/section.py imports no renderer (rich, jinja2, matplotlib)."""
    tree = ast.parse(Path(section.__file__).read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import)
                for a in n.names}
    imported |= {(n.module or "").split(".")[0] for n in ast.walk(tree)
                 if isinstance(n, ast.ImportFrom)}
    assert not imported & {"rich", "jinja2", "matplotlib", "pandas", "adapteval"}


def test_cells_read_as_the_terminal_always_printed_them():
    shown = {
        "score": Cell(0.85912, "number"),
        "with std": Cell(0.85912, "number", std=0.0304),
        "ci": Cell.interval(0.8236, 0.8914),
        "signed ci": Cell.interval(-0.0031, 0.0832, "+.3f"),
        "value and ci": Cell(0.037, "number", "+.3f", ci=(0.015, 0.059)),
        "label": Cell(0.8113, "number", label="sentiment-imdb"),
        "pair": Cell((0.8601, 0.8123), "pair"),
        "nan": Cell.of(float("nan")),
        "percent": Cell.of(1 / 3, ".0%"),
        "count": Cell(3, "count"),
        "g": Cell.of(0.047941, ".4g"),
        "n/a": Cell.of(None, ".4g", text="n/a"),
    }
    assert {k: render.text(c) for k, c in shown.items()} == {
        "score": "0.859", "with std": "0.859 ±0.030", "ci": "[0.824, 0.891]",
        "signed ci": "[-0.003, +0.083]", "value and ci": "+0.037 [+0.015, +0.059]",
        "label": "sentiment-imdb (0.811)", "pair": "0.860 / 0.812", "nan": "—",
        "percent": "33%", "count": "3", "g": "0.04794", "n/a": "n/a",
    }
    assert render.text(Cell(0.8, "number", strong=True)) == "[bold]0.800[/]"
    assert render.text(Cell("ACCEPTABLE", strong=True, status="good")) == \
        "[bold green]ACCEPTABLE[/]"
    assert render.text(Cell("sentiment-yelp", note="timed while busy")) == \
        "sentiment-yelp [dim](timed while busy)[/]"
    assert render.text(Cell("", note="not measured")) == "[dim](not measured)[/]"


def test_a_table_draws_its_groups_caption_and_alignment():
    table = SectionTable(columns("model", "score", left=("model",)), caption="Scores")
    table.add("a", Cell(0.5, "number"))
    table.add("b", Cell.na(), new_group=True)
    out = text(table)
    assert out.splitlines()[0].startswith("Scores")
    assert "│ a     │ 0.500 │" in out and "│ b     │     — │" in out
    assert "├" in out  # a rule between the two groups


def test_an_analysis_without_its_own_sections_gets_a_table_of_its_numbers():
    """The default section: the ``scalars`` it offers per model, strategy and task, mean
    over seeds (seeds 0 and 1 average to 0.81)."""
    rows = [row("robustness", {"clean_accuracy": 0.8 + s / 50, "mean_drop": 0.05,
                               "worst_drop": 0.1, "flip_rate": 0.07}, seed=s) for s in (0, 1)]
    (sec,) = ANALYSES.get("robustness").sections(rows)
    (table,) = sec.tables
    assert sec.key == "robustness"
    assert [c.name for c in table.columns][:4] == ["model", "strategy", "task", "clean_accuracy"]
    assert [render.text(c) for c in table.rows[0].cells][:4] == ["tfidf", "probe", "yelp", "0.810"]
    assert table.caption.startswith("robustness: ") and "(mean over seeds)" in table.caption
    assert ANALYSES.get("robustness").sections([]) == []


def test_compression_adds_its_curve_after_its_numbers():
    levels = [{"method": "magnitude", "amount": a, "label": f"magnitude {a:.0%}",
               "sparsity": a, "accuracy": 0.8 - a / 10, "retention": 1 - a / 8}
              for a in (0.0, 0.5)]
    rows = [row("compression", {"levels": levels, "retention_auc": 0.97,
                                "max_sparsity_99": 0.3, "max_sparsity_95": 0.5})]
    numbers, curve = ANALYSES.get("compression").sections(rows)
    assert numbers.key == "compression" and curve.key == "compression_curve"
    out = text(curve.tables[0])
    assert "Compression curve" in out and "magnitude 50%" in out and "50.0%" in out
    assert "0.938" in out  # retention 1 - 0.5 / 8
