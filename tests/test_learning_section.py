"""The learning-curve section: its terminal tables keep every number whole at 80
columns, its written tables carry every point, its plot draws, the JSON holds each draw."""

from __future__ import annotations

import json

from tests.summaries.test_curves import _curve_rows, _results
from tests.test_terminal import cut_numbers

from adapteval.presentation.learning import learning_data, learning_section

EIGHT = {1: [0.5, 0.52, 0.48, 0.5, 0.51], 2: [0.55] * 5, 4: [0.6] * 5, 8: [0.7] * 5,
         16: [0.8] * 5, 32: [0.85] * 5, 64: [0.88] * 5}


def _section():
    rows = (_curve_rows("all-MiniLM-L6-v2", "probe", EIGHT, full=0.9)
            + _curve_rows("MiniLM-L3-onnx", "probe", {k: [v[0] - 0.1] * 5 if k < 8 else
                                                      [v[0] + 0.05] * 5 for k, v in EIGHT.items()},
                          full=0.92)
            + _curve_rows("tfidf", "kshot", EIGHT, full=0.7))
    return _results(rows), learning_section(_results(rows))


def test_terminal_tables_keep_every_number_whole_at_80_columns():
    _, section = _section()
    assert [t.key for t in section.tables] == ["learning-curves", "curve-crossings"]
    for t in section.tables:
        assert cut_numbers(t, 80) == [], t.caption


def test_written_tables_and_json_carry_every_point_and_draw():
    results, section = _section()
    points = next(t for t in section.report_tables if t.key == "learning-points")
    assert len(points.rows) == 3 * 8
    data = json.loads(json.dumps(learning_data(results)))
    assert len(data["points"]) == 24
    assert data["points"][0]["draw_values"] == [0.5, 0.52, 0.48, 0.5, 0.51]
    assert {r["size"] for r in data["ranking"]} >= {"1", "64", "full"}


def test_the_plot_draws_curves_bands_and_markers():
    import adapteval.report.curve_plots  # noqa: F401
    from adapteval.report.plots import draw, drawable

    _, section = _section()
    (spec,) = section.plots
    assert drawable(spec)
    assert all(c["size_95"] is not None for c in spec.data["curves"])
    svg = draw(spec)
    assert svg.startswith("<svg") and "all-MiniLM-L6-v2 · probe" in svg


def test_tuning_section_lists_the_chosen_values_whole_at_80_columns():
    from adapteval.presentation.learning import tuning_section

    rows = _curve_rows("all-MiniLM-L6-v2", "lora", {8: [0.7]}, full=0.85)
    for r, lr in zip(rows, (1e-3, 2e-4), strict=True):
        r.info["tuning"] = {"chosen": {"learning_rate": lr}, "metric": "accuracy",
                            "protocol": "holdout", "n_selection_fit": 13, "n_validation": 3,
                            "n_refit": 16, "trials": [{"learning_rate": 2e-4, "accuracy": 0.6},
                                                      {"learning_rate": 1e-3, "accuracy": 0.7}]}
    section = tuning_section(_results(rows))
    (t,) = section.tables
    assert cut_numbers(t, 80) == []
    chosen = [r.cells[2].value for r in t.rows]
    assert chosen == ["learning_rate=0.0002", "learning_rate=0.001"]  # full, then size 8
    assert [r.cells[1].value for r in t.rows] == ["task · full", "task · 8"]
    assert [r.cells[3].value for r in t.rows] == [0.6, 0.7]  # each chosen one's score
