"""LoRA: low-rank adapters on the attention projections; the model's own weights stay.

The same training loop as ``finetune``, but a fresh copy of the encoder gets peft LoRA
adapters (rank ``r``, scale ``alpha / r``) on its query/value projections, and only the
adapters and the task head train. Default targets come from a small table of common
architectures (encoders and decoder-only LMs), else from Linear layers named like
query/value projections.

Image bodies say their own default targets (``lora_targets``): EfficientNet-Lite's 1x1
convolutions (each block's expansion and projection, and the head's), a low-rank update
of a per-pixel linear map; ViT, DINOv2 and CLIP vision: query/value projections (found by
name); ConvNeXt: the two pointwise Linear layers of each block; ResNet: its convolutions
(peft adapts Conv2d layers with convolutions of the same kernel and stride). Batch
norm layers keep the pretrained statistics, so the network outside the adapters is
exactly the pretrained one.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field

from adapteval.contracts.strategy import STRATEGIES
from adapteval.core.errors import IncompatibleError
from adapteval.strategies.finetune import TrainedStrategy
from adapteval.strategies.train_params import TrainParams

TARGETS: dict[str, list[str]] = {
    "bert": ["query", "value"],
    "roberta": ["query", "value"],
    "xlm-roberta": ["query", "value"],
    "camembert": ["query", "value"],
    "electra": ["query", "value"],
    "albert": ["query", "value"],
    "mpnet": ["q", "v"],
    "distilbert": ["q_lin", "v_lin"],
    "deberta-v2": ["query_proj", "value_proj"],
    "t5": ["q", "v"],
    "mt5": ["q", "v"],
    "modernbert": ["Wqkv"],
    "nomic_bert": ["Wqkv"],
    # decoder-only language models
    "llama": ["q_proj", "v_proj"],
    "mistral": ["q_proj", "v_proj"],
    "mixtral": ["q_proj", "v_proj"],
    "qwen2": ["q_proj", "v_proj"],
    "qwen3": ["q_proj", "v_proj"],
    "gemma": ["q_proj", "v_proj"],
    "gemma2": ["q_proj", "v_proj"],
    "phi": ["q_proj", "v_proj"],
    "phi3": ["qkv_proj"],
    "olmo": ["q_proj", "v_proj"],
    "gpt2": ["c_attn"],
    "gpt_neox": ["query_key_value"],
    "gptj": ["q_proj", "v_proj"],
    "falcon": ["query_key_value"],
    "bloom": ["query_key_value"],
    "opt": ["q_proj", "v_proj"],
}
QUERY_VALUE = re.compile(r"^(q|v|query|value)(_proj|_lin)?$", re.IGNORECASE)
FUSED = re.compile(r"^(w?qkv|qkv_proj|in_proj|c_attn|query_key_value)$", re.IGNORECASE)


class LoraParams(TrainParams):
    learning_rate: float = Field(default=5e-4, gt=0, le=1)
    r: int = Field(default=8, ge=1, le=1024, description="adapter rank")
    alpha: float = Field(default=16.0, gt=0, description="adapter scale is alpha / r")
    lora_dropout: float = Field(default=0.1, ge=0, lt=1, description="dropout on adapter inputs")
    target_modules: list[str] | None = Field(
        default=None, min_length=1, description="module names to adapt; default: per architecture"
    )


def linear_names(model: Any) -> set[str]:
    """Last name component of every Linear layer (and of GPT-2's Conv1D, a Linear with
    transposed weights, and of Conv2d layers, which peft adapts too)."""
    import torch

    kinds: tuple[type, ...] = (torch.nn.Linear, torch.nn.Conv2d)
    try:
        from transformers.pytorch_utils import Conv1D

        kinds += (Conv1D,)
    except ImportError:  # pragma: no cover - transformers always has it
        pass
    return {n.rsplit(".", 1)[-1] for n, m in model.named_modules() if isinstance(m, kinds)}


def conv1d_targets(model: Any, targets: list[str]) -> bool:
    """Whether the targets are GPT-2 style Conv1D layers (weights stored transposed)."""
    try:
        from transformers.pytorch_utils import Conv1D
    except ImportError:  # pragma: no cover
        return False
    return any(isinstance(m, Conv1D) and n.rsplit(".", 1)[-1] in targets
               for n, m in model.named_modules())


def default_targets(model: Any) -> list[str]:
    """Query/value projections of ``model``: its own ``lora_targets`` (image bodies), from
    the table, else found by name."""
    names = linear_names(model)
    own = getattr(model, "lora_targets", None)
    if own and set(own) <= names:
        return list(own)
    config = getattr(model, "config", None)
    known = TARGETS.get(getattr(config, "model_type", ""), [])
    if known and set(known) <= names:
        return known
    for pattern in (QUERY_VALUE, FUSED):
        found = sorted(n for n in names if pattern.match(n))
        if found:
            return found
    raise IncompatibleError(
        f"no attention projections found to attach LoRA adapters to ({type(model).__name__})",
        fix=f"set target_modules: to some of its Linear layers: {', '.join(sorted(names)[:12])}",
    )


@STRATEGIES.register
class Lora(TrainedStrategy):
    name = "lora"
    description = "LoRA adapters on the attention projections + linear head (encoder frozen)"
    rung = 4
    Params = LoraParams

    def prepare(self, encoder: Any) -> Any:
        try:
            from peft import LoraConfig, inject_adapter_in_model
        except ImportError:
            raise IncompatibleError(
                "the lora strategy needs the peft package", fix="pip install 'adapteval[lora]'"
            ) from None

        p: LoraParams = self.params  # type: ignore[assignment]
        targets = p.target_modules or default_targets(encoder)
        missing = set(targets) - linear_names(encoder)
        if missing:
            raise IncompatibleError(
                f"target_modules not found in {type(encoder).__name__}", value=sorted(missing),
                fix=f"Linear layers: {', '.join(sorted(linear_names(encoder))[:12])}",
            )
        config = LoraConfig(
            r=p.r, lora_alpha=p.alpha, lora_dropout=p.lora_dropout, target_modules=targets,
            bias="none", fan_in_fan_out=conv1d_targets(encoder, targets),
        )
        model = inject_adapter_in_model(config, encoder)
        for name, param in model.named_parameters():  # only the adapters train
            param.requires_grad_("lora_" in name)
        return model
