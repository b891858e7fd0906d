"""Image cells of sections: a thumbnail adapteval encodes itself, shown as an <img> in HTML
(everything around it escaped) and as a short description in the terminal, Markdown and
JSON views; a stored thumbnail that is not a small PNG is n/a, never embedded."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from adapteval.contracts.images import from_text, image_cell, overlay, thumbnail, to_text
from adapteval.contracts.section import Cell, SectionTable, columns, plain
from adapteval.report.html import cell as html_cell
from adapteval.report.markdown import section_table
from adapteval.terminal.render import shown
from image_samples import fashion

EVIL = '"><script>alert(1)</script>'


@pytest.fixture(scope="module")
def shirt() -> np.ndarray:
    return fashion(1)[0][0]


def decoded(c: Cell) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(c.value)))


def test_a_thumbnail_keeps_small_images_and_shrinks_large_ones(shirt):
    c = image_cell(shirt, "a shirt")
    assert c.kind == "image" and c.value.startswith(b"\x89PNG")
    np.testing.assert_array_equal(decoded(c), shirt)  # lossless, same size
    big = np.repeat(np.repeat(shirt, 10, 0), 10, 1)  # 280 x 280
    assert thumbnail(big).shape == (96, 96, 3)
    assert decoded(image_cell(big, "big")).shape == (96, 96, 3)
    assert len(to_text(big)) < 20_000
    np.testing.assert_array_equal(from_text(to_text(shirt)), shirt)


def test_only_small_pngs_come_back_from_stored_text(shirt):
    jpeg = io.BytesIO()
    Image.fromarray(shirt).save(jpeg, format="JPEG")
    huge = io.BytesIO()
    Image.new("RGB", (2000, 2000)).save(huge, format="PNG")
    for bad in (base64.b64encode(jpeg.getvalue()).decode(), "not base64 at all!",
                base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"garbage").decode(),
                base64.b64encode(huge.getvalue()).decode(), None, 42):
        assert from_text(bad) is None
        c = image_cell(bad, "stored")
        assert c.kind == "na" and c.reason
    with pytest.raises(ValueError, match="PNG bytes"):
        Cell.image(b"<svg onload=alert(1)>", "x")


def test_every_view_shows_an_image_its_own_way_and_escapes_the_label(shirt):
    c = image_cell(shirt, EVIL)
    html = str(html_cell(c))
    assert html.startswith('<img class="thumb" src="data:image/png;base64,')
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'width="56" height="56"' in html  # a 28-pixel image shown twice as large
    assert plain(c) == f"[image: {EVIL}]" and shown(c) == plain(c)
    t = SectionTable(columns("item", "label"))
    t.add(c, "coat")
    md = section_table(t)
    assert '| [image: "&gt;&lt;script&gt;alert(1)&lt;/script&gt;] | coat |' in md
    assert "<script>" not in md and "base64" not in md


def test_overlay_paints_positive_red_and_negative_blue():
    grey = np.full((8, 8, 3), 100, np.uint8)
    heat = np.array([[1.0, 0.0], [0.0, -0.5]])
    out = overlay(grey, heat)
    assert out.shape == grey.shape and out.dtype == np.uint8
    top_left, bottom_right, untouched = out[0, 0], out[7, 7], out[0, 7]
    assert top_left[0] > 150 and top_left[2] < 100  # red, strongest
    assert bottom_right[2] > untouched[2] and bottom_right[0] < 100  # blue, weaker
    np.testing.assert_array_equal(untouched, [100, 100, 100])
    np.testing.assert_array_equal(overlay(grey, np.zeros((2, 2))), grey)
