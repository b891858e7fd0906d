"""The analyses that read predictions or call the predictor run on image tasks too: a real
Fashion-MNIST task read from a CSV of PNG paths with a group and a domain column goes
through the plan, a pixel classifier, calibration, fairness, domain transfer, robustness
and attribution, and acceptance rules on their numbers are judged. The text-only analyses
are refused before any work, in one line."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from PIL import Image

import adapteval
from adapteval.analyses import ANALYSES
from adapteval.core.errors import IncompatibleError
from adapteval.core.plugin import IMAGE
from adapteval.exports import predictions, write
from image_plugins import MODEL, registered
from image_samples import fashion

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def clothes_csv(tmp_path_factory):
    """600 Fashion-MNIST images as PNG files; the group is whether the item has an even
    index, the domain whether it was flipped left-right (a real shift for a pixel model)."""
    images, labels = fashion(600, "train")
    folder = tmp_path_factory.mktemp("clothes")
    (folder / "img").mkdir()
    rows = []
    for i, (im, y) in enumerate(zip(images, labels, strict=True)):
        flipped = i % 3 == 0
        buf = io.BytesIO()
        Image.fromarray(im[:, ::-1] if flipped else im).save(buf, format="PNG")
        (folder / "img" / f"{i}.png").write_bytes(buf.getvalue())
        rows.append({"picture": f"img/{i}.png", "label": int(y),
                     "site": "even" if i % 2 == 0 else "odd",
                     "source": "flipped" if flipped else "upright"})
    pd.DataFrame(rows).to_csv(folder / "clothes.csv", index=False)
    return folder / "clothes.csv"


def task(path, **kw):
    return {"name": "clothes", "path": str(path), "image": "picture", "group": "site",
            "domain": "source", **kw}


def test_prediction_analyses_run_on_an_image_task(clothes_csv, tmp_path):
    with registered():
        res = adapteval.run({
            "name": "image-analyses", "models": [MODEL], "baselines": [],
            "tasks": [task(clothes_csv)], "strategies": ["test-pixel-probe"],
            "analyses": ["calibration", "fairness", "transfer",
                         {"name": "robustness", "corruptions": ["contrast"], "severities": [2, 4],
                          "max_items": 30},
                         {"name": "attribution", "n_items": 3, "patches": 4}],
            "criteria": ["calibration.ece <= 0.5", "fairness.largest_gap <= 0.5",
                         "robustness.flip_rate <= 0.9"],
            "seeds": [0], "output_dir": str(tmp_path / "out"), "bootstrap": {"n_resamples": 100}})
    (cell,) = res.rows
    assert res.labels[cell.key].task == "clothes"
    got = {a.name: a.result for a in res.analyses}
    assert set(got) == {"calibration", "fairness", "transfer", "robustness", "attribution"}
    assert 0 <= got["calibration"]["ece"] <= 1
    assert [g["group"] for g in got["fairness"]["groups"]] == ["even", "odd"]
    assert got["robustness"]["modality"] == "image" and got["robustness"]["n_items"] == 30
    assert got["attribution"]["modality"] == "image"
    transfer = got["transfer"]
    assert transfer["mode"] == "domains"
    assert {t["domain"] for t in transfer["targets"]} == {"flipped", "upright"}
    assert all(0 <= t["accuracy"] <= 1 for t in transfer["targets"])
    (verdict,) = res.verdict()
    assert [r["passed"] for r in verdict["rules"]] == [True, True, True]
    # per-item predictions hold the pixels; a written file says what each image is
    frame = predictions(res)
    assert frame["image"].iloc[0].shape == (28, 28, 3) and "text" not in frame
    assert write(frame, None).splitlines()[1].count("28x28 image") == 1


@pytest.mark.parametrize("name", ["counterfactual", "eec"])
def test_text_only_analyses_are_refused_before_work(clothes_csv, tmp_path, name):
    assert IMAGE not in ANALYSES.get(name).modalities
    with registered(), pytest.raises(IncompatibleError, match=f"analysis {name!r} does not "
                                     "accept the image items of task 'clothes'"):
        adapteval.run({"name": "x", "models": [MODEL], "baselines": [],
                       "tasks": [task(clothes_csv)], "strategies": ["test-pixel-probe"],
                       "analyses": [name], "output_dir": str(tmp_path / "out")})


def test_declared_modalities():
    images = {n for n in ANALYSES.names() if IMAGE in ANALYSES.get(n).modalities}
    assert images >= {"calibration", "fairness", "transfer", "robustness", "attribution",
                      "compression", "cost"}
    assert not images & {"counterfactual", "eec"}
