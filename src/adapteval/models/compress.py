"""Pure model transforms for compression sweeps: prune, drop layers, quantize.

Every transform works on a copy: the loaded encoder (shared by all cells of a model) and a
fine-tuned task model are never changed. ``compressed(module, level)`` is the one entry
point; ``weight_sparsity`` counts the zeros the transforms leave in the prunable weights.

The prunable weights are those the model's features are computed with: every Linear,
convolution (1-d and 2-d, and the GPT-2 family's ``Conv1D``) outside the parts the
features never pass through (a BERT pooler, EfficientNet's ImageNet classifier ``_fc``).

- ``magnitude``: global unstructured L1 pruning of every prunable weight
  (``torch.nn.utils.prune.global_unstructured`` with ``L1Unstructured``), made permanent;
  ``amount`` is the fraction of those weights set to zero.
- ``drop_layers``: the top ``amount`` transformer layers removed (structured; smaller and
  faster, unlike unstructured zeros in dense kernels).
- ``int8``: dynamic int8 quantization of Linear layers
  (``torch.ao.quantization.quantize_dynamic``); weights stored as int8, activations
  quantized on the fly. It leaves convolutions in float: ``int8_share`` says which share
  of the prunable weights it covers (none for a convolutional network such as
  EfficientNet-Lite, which the compression analysis therefore refuses it for).

Attention-head pruning is not offered: transformers 5 removed ``prune_heads``.
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import torch

Method = Literal["magnitude", "drop_layers", "int8"]
UNUSED = frozenset({"pooler", "_fc"})
"""Module names whose weights no feature passes through: a BERT-style encoder's pooler
(pooled-token heads do not read it), EfficientNet's ImageNet classifier."""


@dataclass(frozen=True)
class Level:
    """One point of a compression sweep."""

    method: Method
    amount: float  # magnitude: fraction pruned; drop_layers: layers dropped; int8: 0

    @property
    def is_identity(self) -> bool:
        return self.method != "int8" and self.amount == 0

    @property
    def label(self) -> str:
        if self.method == "magnitude":
            return f"magnitude {self.amount:.0%}"
        if self.method == "drop_layers":
            return f"drop {int(self.amount)} layer(s)"
        return "int8"

    def config(self) -> dict[str, Any]:
        return {"method": self.method, "amount": self.amount}


CONVOLUTIONAL = frozenset({"efficientnet-lite"})
"""Model kinds whose features use no Linear layer (int8 would convert none of them)."""


def sweep(magnitude: list[float], drop_layers: list[int], int8: bool) -> list[Level]:
    """The levels of a sweep, uncompressed first (int8: only for a model whose features
    pass through Linear layers, ``int8_share`` > 0, the only ones it converts)."""
    out = [Level("magnitude", 0.0)]
    out += [Level("magnitude", a) for a in magnitude if a > 0]
    out += [Level("drop_layers", float(n)) for n in drop_layers]
    return out + ([Level("int8", 0.0)] if int8 else [])


def _unused(name: str) -> bool:
    return bool(UNUSED.intersection(name.split(".")))


def _prunable(module: torch.nn.Module) -> bool:
    import torch

    return (isinstance(module, (torch.nn.Linear, torch.nn.Conv1d, torch.nn.Conv2d))
            or (type(module).__name__ == "Conv1D"  # transformers' GPT-2 layer
                and isinstance(getattr(module, "weight", None), torch.nn.Parameter)))


def prunable_layers(model: torch.nn.Module) -> list[tuple[str, torch.nn.Module]]:
    """The layers whose weights pruning and sparsity are about (see the module docstring)."""
    return [(n, m) for n, m in model.named_modules() if _prunable(m) and not _unused(n)]


def merge_adapters(model: torch.nn.Module) -> torch.nn.Module:
    """Fold injected peft LoRA adapters into their base Linear layers (in place), so the
    compressed model is the plain architecture with the adapted weights."""
    try:
        from peft.tuners.tuners_utils import BaseTunerLayer
    except ImportError:
        return model
    for name, module in list(model.named_modules()):
        if isinstance(module, BaseTunerLayer):
            module.merge()
            parent_name, _, child = name.rpartition(".")
            parent = model.get_submodule(parent_name) if parent_name else model
            setattr(parent, child, module.get_base_layer())
    return model


def magnitude_prune(model: torch.nn.Module, amount: float) -> torch.nn.Module:
    """Zero the ``amount`` fraction of smallest-magnitude prunable weights, over all layers
    at once (global), in place; the pruning is made permanent (no masks left)."""
    import torch
    from torch.nn.utils import prune

    targets = [(m, "weight") for _, m in prunable_layers(model)]
    if amount > 0 and targets:
        # pruning flattens the weights with views: channels-last ones are made
        # contiguous first, and put back in their layout afterwards
        last = {id(m) for m, _ in targets if m.weight.dim() == 4 and not m.weight.is_contiguous()
                and m.weight.is_contiguous(memory_format=torch.channels_last)}
        for m, _ in targets:
            m.weight.data = m.weight.data.contiguous()
        prune.global_unstructured(targets, pruning_method=prune.L1Unstructured, amount=amount)
        for module, name in targets:
            prune.remove(module, name)
            if id(module) in last:
                module.weight.data = module.weight.data.contiguous(
                    memory_format=torch.channels_last)
    return model


def layer_stack(model: torch.nn.Module) -> tuple[torch.nn.Module, str]:
    """(owner, attribute) of the ModuleList of transformer layers."""
    import torch

    n_layers = getattr(getattr(model, "config", None), "num_hidden_layers", None)
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.ModuleList) and len(module) == n_layers and n_layers:
            owner_name, _, attr = name.rpartition(".")
            return (model.get_submodule(owner_name) if owner_name else model), attr
    raise ValueError(f"no stack of {n_layers} transformer layers in {type(model).__name__}")


def drop_top_layers(model: torch.nn.Module, n: int) -> torch.nn.Module:
    """Remove the top ``n`` transformer layers, in place (keeps at least one)."""
    import torch

    owner, attr = layer_stack(model)
    layers = getattr(owner, attr)
    if not 0 <= n < len(layers):
        raise ValueError(f"cannot drop {n} of {len(layers)} layers")
    if n:
        setattr(owner, attr, torch.nn.ModuleList(list(layers)[: len(layers) - n]))
        model.config.num_hidden_layers = len(layers) - n
    return model


def quantize_int8(model: torch.nn.Module) -> torch.nn.Module:
    """Dynamic int8 quantization of every Linear layer (returns a new module)."""
    import torch
    from torch.ao.quantization import quantize_dynamic

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*deprecated.*")
        return quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


def compressed(model: torch.nn.Module, level: Level) -> torch.nn.Module:
    """A compressed copy of ``model`` (the original is untouched), in eval mode."""
    out = merge_adapters(copy.deepcopy(model))
    if level.method == "magnitude":
        out = magnitude_prune(out, level.amount)
    elif level.method == "drop_layers":
        out = drop_top_layers(out, int(level.amount))
    else:
        out = quantize_int8(out)
    return out.eval()


def prunable_weights(model: torch.nn.Module) -> list[torch.Tensor]:
    """Float weights of the prunable layers, int8 Linear layers dequantized."""
    from torch.ao.nn.quantized.dynamic import Linear as QLinear

    out = []
    for name, m in model.named_modules():
        if _unused(name):
            continue
        if isinstance(m, QLinear):
            out.append(m.weight().dequantize())
        elif _prunable(m):
            out.append(m.weight.detach())
    return out


def weight_sparsity(model: torch.nn.Module) -> float:
    """Share of exact zeros among the prunable weights (what pruning targets)."""
    weights = prunable_weights(model)
    total = sum(w.numel() for w in weights)
    zeros = sum(int((w == 0).sum()) for w in weights)
    return zeros / total if total else 0.0


def int8_share(model: torch.nn.Module) -> float:
    """Share of the prunable weights that dynamic int8 quantization converts (those of
    Linear layers)."""
    import torch

    layers = prunable_layers(model)
    total = sum(m.weight.numel() for _, m in layers)
    linear = sum(m.weight.numel() for _, m in layers if isinstance(m, torch.nn.Linear))
    return linear / total if total else 0.0


def parameter_counts(model: torch.nn.Module) -> tuple[int, int]:
    """(total, non-zero) numbers in the model's weights, quantized Linear weights included."""
    import torch
    from torch.ao.nn.quantized.dynamic import Linear as QLinear

    total = nonzero = 0
    for p in model.parameters():
        total += p.numel()
        nonzero += int(torch.count_nonzero(p.detach()))
    for m in model.modules():
        if isinstance(m, QLinear):
            w = m.weight().int_repr()
            b = m.bias()
            total += w.numel() + (b.numel() if b is not None else 0)
            nonzero += int(torch.count_nonzero(w)) + (
                int(torch.count_nonzero(b)) if b is not None else 0)
    return total, nonzero


def state_dict_bytes(model: torch.nn.Module) -> int:
    """Size of the model's saved state dict (what a deployment would store)."""
    import io

    import torch

    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    return buf.tell()
