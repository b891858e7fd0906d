"""Hugging Face vision encoders: ViT, ConvNeXt, ResNet, DINOv2 and CLIP's vision tower.

A folder (or hub cache snapshot) with ``config.json``, safetensors weights and
``preprocessor_config.json`` loads with ``AutoModel`` (``CLIPVisionModel`` for a full CLIP
checkpoint) and ``AutoImageProcessor``; remote code stays off and pickled weights are
refused unless ``allow_pickle`` (as for text models). Preprocessing is exactly the
folder's image processor, in its Pillow implementation (the torchvision one is not used).

Pooled features, per family:

- ViT (``vit``, ``deit``): the [CLS] token of the last hidden state, after the final layer
  norm, as ``ViTForImageClassification`` reads it; ViT's ``pooler`` (a dense + tanh) is
  not used, since most checkpoints do not train it;
- DINOv2, CLIP vision: ``pooler_output``, the layer-normed [CLS] token;
- ConvNeXt: ``pooler_output``, the layer-normed spatial mean of the last stage;
- ResNet: ``pooler_output``, the spatial mean of the last stage;
- any other model: ``pooler_output`` when it has one, else the mean over tokens (or over
  space for a feature map).

Imported only when such a model loads (it imports torch).
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch

from adapteval.core.devices import Placement, resolve_placement
from adapteval.core.env import silence_libraries
from adapteval.core.errors import ModelLoadError
from adapteval.models.hf import weight_format
from adapteval.models.image_body import ImageBody
from adapteval.models.images import ImageEncoder, check_image
from adapteval.suite.specs import ModelSpec

CLS_FAMILIES = frozenset({"vit", "deit"})
LORA_TARGETS: dict[str, list[str]] = {
    "convnext": ["pwconv1", "pwconv2"],
    "resnet": ["convolution"],
}
"""Default LoRA targets of convolutional families: the pointwise (Linear) layers of
ConvNeXt blocks; ResNet's convolutions. Vision transformers (ViT, DINOv2, CLIP) get
their query/value projections, found by name as for text models (``q_proj``/``v_proj``
in current transformers, ``query``/``value`` in older releases)."""


def pool_output(out: Any, model_type: str) -> torch.Tensor:
    """One feature vector per image from a vision model's output (see the module doc)."""
    if model_type in CLS_FAMILIES:
        return out.last_hidden_state[:, 0]
    pooled = getattr(out, "pooler_output", None)
    if pooled is not None:
        return pooled.flatten(1)
    hidden = out.last_hidden_state
    return hidden.mean(dim=(2, 3)) if hidden.ndim == 4 else hidden.mean(dim=1)


class ProcessorPreprocess:
    """A folder's image processor applied to uint8 RGB arrays (channels last)."""

    def __init__(self, processor: Any) -> None:
        self.processor = processor

    def __call__(self, images: list[np.ndarray]) -> np.ndarray:
        checked = [check_image(im, i) for i, im in enumerate(images)]
        out = self.processor(images=checked, return_tensors="np",
                             input_data_format="channels_last")["pixel_values"]
        return np.ascontiguousarray(out, dtype=np.float32)


def load_processor(folder: Path, *, where: str) -> Any:
    from transformers import AutoImageProcessor

    try:
        try:
            return AutoImageProcessor.from_pretrained(folder, backend="pil")
        except TypeError:  # transformers before the backend argument
            return AutoImageProcessor.from_pretrained(folder, use_fast=False)
    except (OSError, ValueError, KeyError) as exc:
        raise ModelLoadError(
            f"cannot load the image processor: {str(exc).splitlines()[0][:140]}",
            where=where, value=str(folder),
            fix="the folder needs preprocessor_config.json (saved by the model's image processor)",
        ) from None


def model_class(model_type: str) -> Any:
    from transformers import AutoModel, CLIPVisionModel

    return CLIPVisionModel if model_type == "clip" else AutoModel


class HFVisionEncoder(ImageEncoder):
    """A frozen Hugging Face vision model and its image processor."""

    kind = "hf-vision"
    pretrained = True

    def __init__(self, spec: ModelSpec, folder: Path, *, where: str = "",
                 placement: Placement | None = None) -> None:
        from transformers import AutoConfig

        silence_libraries()
        self.spec, self.folder = spec, folder
        self.placement = placement or resolve_placement(spec.device, spec.dtype, where=where)
        self.device, self.dtype = self.placement.torch_device(), self.placement.torch_dtype()
        use_safetensors = weight_format(folder, spec, where=where)
        try:
            config = AutoConfig.from_pretrained(folder, trust_remote_code=False)
            self.model_type = str(config.model_type)
            cls = model_class(self.model_type)
            if spec.random_init:  # a control: same architecture, no pretraining
                with torch.random.fork_rng(devices=[]):
                    torch.manual_seed(spec.init_seed)
                    vision = config.vision_config if self.model_type == "clip" else config
                    self.model = cls.from_config(vision).to(self.dtype)
            else:
                self.model = cls.from_pretrained(folder, use_safetensors=use_safetensors,
                                                 dtype=self.dtype, trust_remote_code=False)
        except pickle.UnpicklingError:
            raise ModelLoadError(
                "pickled weights hold more than tensors, so weights_only loading refused them",
                where=where, value=str(folder), fix="use a safetensors copy from a source you trust",
            ) from None
        except (OSError, ValueError, KeyError) as exc:
            raise ModelLoadError(
                f"cannot load vision model: {str(exc).splitlines()[0][:140]}", where=where,
                value=str(folder), fix="the folder needs config.json and safetensors weights",
            ) from None
        self.model.to(self.device).eval()
        self.preprocess = ProcessorPreprocess(load_processor(folder, where=where))
        self.pooling = None
        with torch.inference_mode():  # the feature width, from one blank image
            probe = self.preprocess([np.zeros((8, 8, 3), np.uint8)])
            self.dim = int(self.features(torch.from_numpy(probe).to(self.device,
                                                                     self.dtype)).shape[1])

    def features(self, pixels: Any) -> Any:
        return pool_output(self.model(pixel_values=pixels), self.model_type)

    def trainable_body(self) -> Any:
        """A fresh trainable copy of the model (the frozen one's weights)."""
        import copy

        return VisionBody(copy.deepcopy(self.model), self.model_type, self.dim)


class VisionBody(ImageBody):
    """A Hugging Face vision model whose output is the pooled feature vector; everything
    trains. ``lora_targets``: the layers LoRA adapts by default in this family. (No
    ``config`` attribute: peft would take the wrapper for a transformers model.)"""

    def __init__(self, model: Any, model_type: str, dim: int) -> None:
        super().__init__(dim)
        self.model = model
        self.model_type = model_type
        self.lora_targets = LORA_TARGETS.get(model_type)
        self.trainable()

    def forward(self, pixel_values: Any) -> Any:
        return pool_output(self.model(pixel_values=pixel_values), self.model_type)
