"""Bundled demo tasks: small attributed slices of public datasets (see ATTRIBUTION.md),
and scikit-learn's own copy of the UCI digits (``digits``: 8x8 images, 0..16 scaled to
0..255)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from adapteval.core.errors import ConfigError
from adapteval.suite.specs import TaskSpec

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class BundledTask:
    name: str
    file: str
    description: str
    domain: str | None = None
    label_words: dict[str, str] | None = None
    prompt: str | None = None
    format: str = "csv"
    class_names: dict[str, str] | None = None


SENTIMENT = {"0": "negative", "1": "positive"}
SENTIMENT_PROMPT = "Is the sentiment of this review positive or negative?"
FASHION_CLASSES = dict(zip("0123456789", ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
                           strict=True))
"""Fashion-MNIST's label codes and the article each stands for (its README)."""

BUNDLED: dict[str, BundledTask] = {
    t.name: t
    for t in (
        BundledTask("sentiment-amazon", "sentiment-amazon.csv",
                    "binary sentiment, Amazon product reviews (500)", "domain",
                    SENTIMENT, SENTIMENT_PROMPT),
        BundledTask("sentiment-imdb", "sentiment-imdb.csv",
                    "binary sentiment, IMDb movie reviews (500)", "domain",
                    SENTIMENT, SENTIMENT_PROMPT),
        BundledTask("sentiment-yelp", "sentiment-yelp.csv",
                    "binary sentiment, Yelp restaurant reviews (500)", "domain",
                    SENTIMENT, SENTIMENT_PROMPT),
        BundledTask("sms-spam", "sms-spam.csv", "binary ham/spam SMS, imbalanced (1000)",
                    None, {"ham": "no", "spam": "yes"}, "Is this text message spam?"),
        BundledTask("fashion-mnist", "fashion-mnist", "10-class 28x28 gray article images "
                    "(600 train / 300 test)", format="idx", class_names=FASHION_CLASSES),
        BundledTask("digits", "", "10-class 8x8 handwritten digits, scikit-learn's copy "
                    "(1797)", format="arrays"),
    )
}


def resolve(spec: TaskSpec, *, where: str) -> tuple[TaskSpec, Path]:
    """Turn ``bundled: NAME`` into a spec that reads the shipped file."""
    entry = BUNDLED.get(spec.bundled or "")
    if entry is None:
        raise ConfigError(
            f"unknown bundled task {spec.bundled!r}", where=where,
            fix=f"bundled tasks: {', '.join(BUNDLED)} (or give path: to your own file)",
        )
    if entry.format == "arrays":
        images, labels = digits()
        return spec.model_copy(update={"bundled": None, "images": images,
                                       "labels": labels}), HERE
    if entry.format != "csv":
        return spec.model_copy(update={"bundled": None, "path": entry.file,
                                       "format": entry.format,
                                       "class_names": spec.class_names or entry.class_names}), HERE
    update = {"bundled": None, "path": entry.file, "format": "csv", "text": "text",
              "label": "label", "domain": spec.domain or entry.domain,
              "label_words": spec.label_words or entry.label_words,
              "prompt": spec.prompt or entry.prompt}
    return spec.model_copy(update=update), HERE


def digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits as (1797, 8, 8) uint8 images (0..16 scaled to 0..255,
    rounded) and their labels."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return np.rint(d.images * (255.0 / 16.0)).astype(np.uint8), d.target.copy()
