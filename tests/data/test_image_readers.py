"""Image tasks: every source gives the same uint8 RGB items for the same images."""

from __future__ import annotations

import gzip
import io
import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from adapteval.core.errors import ConfigError, DataError
from adapteval.core.plugin import IMAGE
from adapteval.data.images import to_rgb
from adapteval.data.task import load_task
from adapteval.suite.specs import TaskSpec

N = 40  # Fashion-MNIST test images written out in each format


@pytest.fixture(scope="module")
def fashion(shared):
    """The first N test images (28x28 gray) and labels, read straight from the IDX files."""
    folder = shared / "fashion-mnist"
    with gzip.open(folder / "t10k-images-idx3-ubyte.gz") as fh:
        raw = fh.read()
    x = np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 28, 28)[:N]
    with gzip.open(folder / "t10k-labels-idx1-ubyte.gz") as fh:
        y = np.frombuffer(fh.read(), np.uint8, offset=8)[:N]
    return x, y


def _png(gray: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(gray, "L").save(buf, format="PNG")
    return buf.getvalue()


def _expected(x: np.ndarray) -> list[np.ndarray]:
    return [np.repeat(g[..., None], 3, axis=2) for g in x]


def _same_items(task, x, y) -> None:
    assert task.modality == IMAGE
    items = task.frame["image"].tolist()
    assert len(items) == len(x)
    for got, want in zip(items, _expected(x), strict=True):
        assert got.dtype == np.uint8 and got.shape == (28, 28, 3)
        np.testing.assert_array_equal(got, want)
    assert [task.classes[c] for c in task.frame["y"]] == [str(v) for v in y]


def test_idx_folder_reads_fashion_mnist_with_its_splits(shared, tmp_path, fashion):
    task = load_task(TaskSpec(name="f", path=str(shared / "fashion-mnist"), max_train=500,
                              max_test=200), tmp_path)
    assert task.modality == IMAGE and task.type == "multiclass" and len(task.classes) == 10
    assert (task.frame["split"] == "train").sum() == 60000
    test_items = task.frame.loc[task.frame["split"] == "test", "image"].tolist()[:N]
    for got, want in zip(test_items, _expected(fashion[0]), strict=True):
        np.testing.assert_array_equal(got, want)
    split = task.split(0)
    assert (len(split.train), len(split.test)) == (500, 200)
    assert split.train.items[0].shape == (28, 28, 3)


def test_idx_file_lists_gzipped_or_not_in_any_order(shared, tmp_path, fashion):
    d = shared / "fashion-mnist"
    (tmp_path / "imgs.idx3").write_bytes(gzip.decompress((d / "t10k-images-idx3-ubyte.gz")
                                                         .read_bytes()))
    files = {"train": [str(d / "t10k-labels-idx1-ubyte.gz"), "imgs.idx3"],
             "test": [str(d / "t10k-images-idx3-ubyte.gz"), str(d / "t10k-labels-idx1-ubyte.gz")]}
    task = load_task(TaskSpec(name="f", files=files), tmp_path)
    train = task.frame[task.frame["split"] == "train"]
    for got, want in zip(train["image"].tolist()[:N], _expected(fashion[0]), strict=True):
        np.testing.assert_array_equal(got, want)


def test_image_folder_with_and_without_split_folders(tmp_path, fashion):
    x, y = fashion
    for i, (g, label) in enumerate(zip(x, y, strict=True)):
        (tmp_path / "flat" / str(label)).mkdir(parents=True, exist_ok=True)
        (tmp_path / "flat" / str(label) / f"{i:03d}.png").write_bytes(_png(g))
        split = "train" if i < 30 else "test"
        (tmp_path / "split" / split / str(label)).mkdir(parents=True, exist_ok=True)
        (tmp_path / "split" / split / str(label) / f"{i:03d}.png").write_bytes(_png(g))
    task = load_task(TaskSpec(name="f", path="flat", id="file"), tmp_path)
    order = np.argsort([f"{label}/{i:03d}" for i, label in enumerate(y)], kind="stable")
    _same_items(task, x[order], y[order])
    assert task.ids[0] == f"{y[order][0]}/{order[0]:03d}.png"
    task = load_task(TaskSpec(name="f", path="split"), tmp_path)
    assert set(task.frame["split"]) == {"train", "test"}


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet", "parquet-bytes"])
def test_tables_with_an_image_path_or_bytes_column(tmp_path, fashion, fmt):
    x, y = fashion
    (tmp_path / "data" / "img").mkdir(parents=True)
    for i, g in enumerate(x):
        (tmp_path / "data" / "img" / f"{i}.png").write_bytes(_png(g))
    frame = pd.DataFrame({"picture": [f"img/{i}.png" for i in range(N)], "label": y})
    path = tmp_path / "data" / f"t.{fmt.split('-')[0]}"
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "jsonl":
        path.write_text("".join(json.dumps({"picture": p, "label": int(v)}) + "\n"
                                for p, v in zip(frame["picture"], y, strict=True)))
    elif fmt == "parquet":
        frame.to_parquet(path)
    else:
        frame.assign(picture=[_png(g) for g in x]).to_parquet(path)
    _same_items(load_task(TaskSpec(name="f", path=f"data/{path.name}", image="picture"),
                          tmp_path), x, y)


def test_jsonl_with_data_uris(tmp_path, fashion):
    import base64

    x, y = fashion
    uris = ["data:image/png;base64," + base64.b64encode(_png(g)).decode() for g in x]
    (tmp_path / "t.jsonl").write_text("".join(json.dumps({"img": u, "label": int(v)}) + "\n"
                                              for u, v in zip(uris, y, strict=True)))
    _same_items(load_task(TaskSpec(name="f", path="t.jsonl", image="img"), tmp_path), x, y)


def test_saved_hugging_face_dataset_with_an_image_feature(tmp_path, fashion):
    import datasets

    x, y = fashion
    features = datasets.Features({"img": datasets.Image(),
                                  "label": datasets.ClassLabel(num_classes=10)})
    ds = datasets.Dataset.from_dict({"img": [Image.fromarray(g, "L") for g in x],
                                     "label": y.tolist()}, features=features)
    datasets.DatasetDict({"train": ds.select(range(30)), "test": ds.select(range(30, N))}) \
        .save_to_disk(str(tmp_path / "saved"))
    task = load_task(TaskSpec(name="f", path="saved", image="img"), tmp_path)
    _same_items(task, x, y)
    assert task.frame["split"].tolist() == ["train"] * 30 + ["test"] * (N - 30)


def test_in_memory_arrays_from_python(tmp_path, fashion):
    x, y = fashion
    _same_items(load_task(TaskSpec(name="f", images=x, labels=y), tmp_path), x, y)
    task = load_task(TaskSpec(name="f", images={"train": list(x[:30]), "test": x[30:]},
                              labels={"train": y[:30], "test": y[30:]}), tmp_path)
    _same_items(task, x, y)
    assert task.has_given_split
    with pytest.raises(DataError, match="not integers 0..255"):
        load_task(TaskSpec(name="f", images=x / 255.0, labels=y), tmp_path)


def test_digits_scaled_to_uint8(tmp_path):
    from sklearn.datasets import load_digits

    task = load_task(TaskSpec(name="digits", bundled="digits"), tmp_path)
    d = load_digits()
    assert task.modality == IMAGE and len(task.frame) == 1797 and len(task.classes) == 10
    first = task.frame["image"].iloc[0]
    assert first.shape == (8, 8, 3) and first.dtype == np.uint8
    np.testing.assert_array_equal(first[..., 0], np.rint(d.images[0] * 255 / 16).astype(np.uint8))
    assert first.max() == 255 or d.images[0].max() < 16


def test_modes_decode_to_uint8_rgb_as_documented():
    gray = np.array([[0, 128], [255, 7]], np.uint8)
    np.testing.assert_array_equal(to_rgb(Image.fromarray(gray, "L")),
                                  np.repeat(gray[..., None], 3, axis=2))
    # RGBA: composited on white; half-transparent red -> (255, 128, 128)
    rgba = np.zeros((1, 3, 4), np.uint8)
    rgba[0, 0] = (255, 0, 0, 128)
    rgba[0, 1] = (0, 0, 255, 255)
    rgba[0, 2] = (0, 0, 0, 0)
    out = to_rgb(Image.fromarray(rgba, "RGBA"))
    assert out[0].tolist() == [[255, 127, 127], [0, 0, 255], [255, 255, 255]]
    # palette: the palette's colours
    pal = Image.new("P", (2, 1))
    pal.putpalette([10, 20, 30, 200, 100, 0] + [0] * 762)
    pal.putpixel((1, 0), 1)
    assert to_rgb(pal)[0].tolist() == [[10, 20, 30], [200, 100, 0]]
    # 16-bit gray: full range scaled to 0..255
    sixteen = Image.fromarray(np.array([[0, 65535, 32896]], np.uint16))
    assert sixteen.mode.startswith("I;16")
    assert to_rgb(sixteen)[0, :, 0].tolist() == [0, 255, 128]
    # a 16-bit PNG read back from disk gives the same
    buf = io.BytesIO()
    sixteen.save(buf, format="PNG")
    assert to_rgb(Image.open(io.BytesIO(buf.getvalue())))[0, :, 0].tolist() == [0, 255, 128]


def test_mixed_sizes_are_kept(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for i, size in enumerate([(5, 7), (9, 3), (4, 4), (6, 2)]):
        Image.new("RGB", size, (i, 0, 0)).save(tmp_path / "ab"[i % 2] / f"{i}.png")
    task = load_task(TaskSpec(name="m", path="."), tmp_path)
    assert sorted(x.shape for x in task.frame["image"]) == sorted(
        [(7, 5, 3), (3, 9, 3), (4, 4, 3), (2, 6, 3)])


def test_fingerprint_follows_pixels(tmp_path, fashion):
    x, y = fashion
    base = load_task(TaskSpec(name="f", images=x, labels=y), tmp_path).fingerprint
    again = load_task(TaskSpec(name="f", images=x.copy(), labels=y), tmp_path).fingerprint
    changed = x.copy()
    changed[3, 10, 10] ^= 1
    assert base == again
    assert load_task(TaskSpec(name="f", images=changed, labels=y), tmp_path).fingerprint != base


def test_bundled_fashion_mnist_slice(tmp_path, shared):
    task = load_task(TaskSpec(name="fashion-mnist", bundled="fashion-mnist"), tmp_path)
    split = task.split(0)
    assert (len(split.train), len(split.test)) == (600, 300)
    assert np.bincount(split.train.y).tolist() == [60] * 10
    # the slice holds the published images unchanged
    full = load_task(TaskSpec(name="f", path=str(shared / "fashion-mnist")), tmp_path)
    published = {x.tobytes() for x in full.frame["image"]}
    assert all(x.tobytes() in published for x in split.test.items)
    # its classes carry the articles' names, in label-code order (the dataset's README)
    assert task.classes[0] == "T-shirt/top" and task.classes[9] == "Ankle boot"
    assert full.classes == tuple("0123456789")


def test_class_names_rename_numeric_labels_and_keep_the_codes(tmp_path, fashion):
    x, y = fashion
    plain = load_task(TaskSpec(name="f", images=x, labels=y), tmp_path)
    named = load_task(TaskSpec(name="f", images=x, labels=y, class_names={0: "top", 9: "boot"}),
                      tmp_path)
    assert named.classes == ("top", *"12345678", "boot")
    assert (named.frame["y"] == plain.frame["y"]).all()
    assert named.fingerprint != plain.fingerprint  # the names are part of what is reported
    with pytest.raises(ConfigError, match="two classes the same name"):
        load_task(TaskSpec(name="f", images=x, labels=y, class_names={0: "1"}), tmp_path)


@pytest.mark.parametrize("side", [10_000, 14_000])  # Pillow's bomb warning, then its error
def test_pillows_own_bomb_checks_are_data_errors(tmp_path, side):
    from adapteval.data.images import decode

    Image.new("1", (side, side)).save(tmp_path / "big.png")
    with pytest.raises(DataError, match="too large to decode safely") as err:
        decode(tmp_path / "big.png", name="big.png", where="t", max_pixels=10**9)
    assert "big.png" in str(err.value) and "max_pixels" in str(err.value)


def test_bad_bytes_in_a_table_name_the_row(tmp_path, fashion):
    frame = pd.DataFrame({"img": [_png(fashion[0][0]), b"\x89PNG broken"], "label": [0, 1]})
    frame.to_parquet(tmp_path / "t.parquet")
    with pytest.raises(DataError, match="bytes of row 2"):
        load_task(TaskSpec(name="t", path="t.parquet", image="img"), tmp_path)
