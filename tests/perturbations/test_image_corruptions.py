"""Seeded image corruptions: each is deterministic per seed, keeps the image form, and
moves real images further from the clean ones at every step of severity."""

from __future__ import annotations

import numpy as np
import pytest

from adapteval.core.errors import ConfigError, DataError
from adapteval.perturbations.images import (
    BUILTIN_CORRUPTIONS,
    CORRUPTIONS,
    SEVERITIES,
    corrupt_images,
    get_corruption,
    list_corruptions,
    register_corruption,
)
from adapteval.perturbations.registry import list_perturbations
from image_samples import digits, fashion

NAMES = sorted(BUILTIN_CORRUPTIONS)
RANDOM = sorted(n for n, (_, random) in BUILTIN_CORRUPTIONS.items() if random)


@pytest.fixture(scope="module")
def clothes() -> list[np.ndarray]:
    return fashion(60)[0]


def distance(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    """Mean absolute pixel difference (0..255) over a set of images."""
    return float(np.mean([np.abs(x.astype(int) - y).mean() for x, y in zip(a, b, strict=True)]))


def test_the_built_ins_are_registered_apart_from_the_text_perturbations():
    expected = ["brightness", "contrast", "defocus_blur", "gaussian_blur", "gaussian_noise",
                "jpeg", "occlude", "pixelate", "rotate"]
    assert expected == NAMES
    assert set(NAMES) <= set(list_corruptions())
    assert not set(NAMES) & set(list_perturbations())  # text perturbations stay text
    assert all(get_corruption(n).modalities == frozenset({"image"}) for n in NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_distance_to_the_clean_image_grows_with_severity(name, clothes):
    dist = [distance(corrupt_images(clothes, name, severity=s, seed=0), clothes)
            for s in SEVERITIES]
    assert dist[0] > 0.5, f"{name} barely changes the images at severity 1: {dist}"
    assert (np.diff(dist) > 0).all(), f"{name}: {np.round(dist, 2)}"


@pytest.mark.parametrize("name", NAMES)
def test_tiny_grey_digits_stay_valid_grey_rgb_and_still_grow(name):
    images = digits(40)[0]
    dist = []
    for s in SEVERITIES:
        out = corrupt_images(images, name, severity=s, seed=0)
        assert all(o.shape == (8, 8, 3) and o.dtype == np.uint8 for o in out)
        if name != "occlude":  # grey in, grey out (the occluding patch is grey too)
            assert all((o[..., 0] == o[..., 1]).all() and (o[..., 1] == o[..., 2]).all()
                       for o in out), name
        dist.append(distance(out, images))
    assert (np.diff(dist) >= 0).all() and dist[-1] > dist[0], dist


@pytest.mark.parametrize("name", NAMES)
def test_deterministic_per_seed_and_per_item(name, clothes):
    first = corrupt_images(clothes[:12], name, severity=3, seed=4)
    again = corrupt_images(clothes[:12], name, severity=3, seed=4)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    # an item's corruption depends on its index, not on the other items
    alone = corrupt_images([clothes[7]], name, severity=3, seed=4, start=7)[0]
    assert np.array_equal(alone, first[7])
    by_row = corrupt_images(clothes[5:8], name, severity=3, seed=4, index=[5, 6, 7])
    assert all(np.array_equal(a, b) for a, b in zip(by_row, first[5:8], strict=True))
    other = corrupt_images(clothes[:12], name, severity=3, seed=5)
    same = all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))
    assert same == (name not in RANDOM), f"{name}: another seed {'did not change' if same else 'changed'} it"


def test_colour_images_of_odd_sizes_keep_their_shape():
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
              for h, w in ((17, 40), (64, 33), (3, 5))]
    for name in NAMES:
        for s in (1, 5):
            out = corrupt_images(images, name, severity=s, seed=1)
            assert [o.shape for o in out] == [i.shape for i in images], name
            assert all(o.dtype == np.uint8 for o in out)


def test_a_user_corruption_is_registered_and_checked():
    def invert(image, rng, severity):
        return (255 - image).astype(np.uint8)

    try:
        register_corruption("test_invert", invert, "invert the colours", random=False)
        img = np.zeros((4, 4, 3), np.uint8)
        assert corrupt_images([img], "test_invert", severity=1, seed=0)[0].max() == 255
        with pytest.raises(ConfigError, match="already registered"):
            register_corruption("test_invert", invert, "again")
        register_corruption("test_bad", lambda im, rng, s: im[:2], "wrong shape")
        with pytest.raises(ConfigError, match="not uint8"):
            corrupt_images([img], "test_bad", severity=1, seed=0)
    finally:
        for n in ("test_invert", "test_bad"):
            CORRUPTIONS._items.pop(n, None)


def test_bad_calls_are_one_line_errors(clothes):
    with pytest.raises(ConfigError, match="unknown corruption 'jpg'.*did you mean 'jpeg'"):
        corrupt_images(clothes[:1], "jpg", severity=1, seed=0)
    with pytest.raises(ConfigError, match="severity must be an int from 1 to 5"):
        corrupt_images(clothes[:1], "jpeg", severity=6, seed=0)
    with pytest.raises(DataError, match=r"uint8 array of shape \(height, width, 3\)"):
        corrupt_images([clothes[0][..., 0]], "jpeg", severity=1, seed=0)
    with pytest.raises(DataError, match="images\\[0\\]"):
        corrupt_images([clothes[0].astype(np.float32)], "jpeg", severity=1, seed=0)
