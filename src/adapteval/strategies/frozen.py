"""Frozen features for a view: cached embeddings, or a baseline fitted on training items."""

from __future__ import annotations

from typing import Any

import numpy as np

from adapteval.contracts.strategy import CellContext
from adapteval.core.keys import item_key
from adapteval.data.task import View


def pair_features(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The usual sentence-pair combination [u, v, |u - v|, u * v]."""
    return np.hstack([u, v, np.abs(u - v), u * v])


def _key(item: Any) -> Any:
    """Texts key themselves; arrays (images) are unhashable and key by content."""
    return item if isinstance(item, str) else item_key(item)


def frozen_features(ctx: CellContext, fit: View, views: list[View]) -> list[Any]:
    """Features of each view; a non-pretrained model is fitted on ``fit`` first."""
    model = ctx.model
    if not model.pretrained:
        return model.fit_transform(fit.items, fit.pairs, [(v.items, v.pairs) for v in views])
    assert ctx.embed is not None
    rows: dict[Any, int] = {}  # an item (text, or the content key of an array) -> its row
    unique: list[Any] = []
    for v in views:
        for t in v.items + (v.pairs or []):
            if rows.setdefault(_key(t), len(rows)) == len(unique):
                unique.append(t)
    emb = ctx.embed(unique)
    out = []
    for v in views:
        u = emb[[rows[_key(t)] for t in v.items]]
        if v.pairs is not None:
            u = pair_features(u, emb[[rows[_key(t)] for t in v.pairs]])
        out.append(u)
    return out
