"""Pure model transforms for compression sweeps: prune, drop layers, quantize.

Every transform works on a copy: the loaded encoder (shared by all cells of a model) and a
fine-tuned task model are never changed. ``compressed(module, level)`` is the one entry
point; ``linear_sparsity`` counts the zeros the transforms leave in Linear weights.

- ``magnitude``: global unstructured L1 pruning of every Linear weight of the transformer
  (``torch.nn.utils.prune.global_unstructured`` with ``L1Unstructured``), made permanent;
  ``amount`` is the fraction of those weights set to zero.
- ``drop_layers``: the top ``amount`` transformer layers removed (structured; smaller and
  faster, unlike unstructured zeros in dense kernels).
- ``int8``: dynamic int8 quantization of Linear layers
  (``torch.ao.quantization.quantize_dynamic``); weights stored as int8, activations
  quantized on the fly.

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
SKIPPED = ("pooler.",)  # computed by BERT-style encoders, unused by pooled-token heads


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


def prunable_linears(model: torch.nn.Module) -> list[tuple[str, torch.nn.Linear]]:
    """The Linear layers whose weights pruning and sparsity are about (not the pooler)."""
    import torch

    return [(n, m) for n, m in model.named_modules()
            if isinstance(m, torch.nn.Linear) and not n.startswith(SKIPPED)]


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
    """Zero the ``amount`` fraction of smallest-magnitude Linear weights, over all layers
    at once (global), in place; the pruning is made permanent (no masks left)."""
    from torch.nn.utils import prune

    targets = [(m, "weight") for _, m in prunable_linears(model)]
    if amount > 0 and targets:
        prune.global_unstructured(targets, pruning_method=prune.L1Unstructured, amount=amount)
        for module, name in targets:
            prune.remove(module, name)
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


def linear_weights(model: torch.nn.Module) -> list[torch.Tensor]:
    """Float weights of the (possibly quantized) Linear layers outside the pooler."""
    import torch
    from torch.ao.nn.quantized.dynamic import Linear as QLinear

    out = []
    for name, m in model.named_modules():
        if name.startswith(SKIPPED):
            continue
        if isinstance(m, QLinear):
            out.append(m.weight().dequantize())
        elif isinstance(m, torch.nn.Linear):
            out.append(m.weight.detach())
    return out


def linear_sparsity(model: torch.nn.Module) -> float:
    """Share of exact zeros among the Linear weights (what pruning targets)."""
    weights = linear_weights(model)
    total = sum(w.numel() for w in weights)
    zeros = sum(int((w == 0).sum()) for w in weights)
    return zeros / total if total else 0.0


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
