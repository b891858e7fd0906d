"""The trainable form of an image model: a torch module from pixels to its pooled feature
vector, with every weight trainable and batch norm on the pretrained statistics."""

from __future__ import annotations

from typing import Any

import torch

from adapteval.models.images import freeze_batch_norm


class ImageBody(torch.nn.Module):
    """Base of image bodies: subclasses hold the network and define ``forward`` from a
    pixel batch to features; ``feature_dim`` is their width."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.feature_dim = dim

    def trainable(self) -> ImageBody:
        for param in self.parameters():
            param.requires_grad_(True)
        return self

    def train(self, mode: bool = True) -> Any:
        super().train(mode)
        freeze_batch_norm(self)  # pretrained statistics, in training as in prediction
        return self
