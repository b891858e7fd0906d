"""Hugging Face encoders: local folders, catalog short names or hub ids.

sentence-transformers folders keep their pooling (``1_Pooling/config.json``),
normalisation (a ``Normalize`` module) and ``max_seq_length``. Remote code is off unless
the suite opts in; safetensors weights are used, and pickled ``.bin`` weights are
refused unless ``allow_pickle: true`` (and then loaded with ``weights_only``).

The encoder computes where its placement says (``device``/``dtype`` of the spec,
:mod:`adapteval.core.devices`): weights are loaded in that dtype and moved to that
device, batches follow them, and features come back as float32 on the CPU.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from adapteval.core.devices import Placement, resolve_placement
from adapteval.core.env import downloads_allowed, silence_libraries
from adapteval.core.errors import ModelLoadError
from adapteval.models.catalog import CATALOG, lookup
from adapteval.models.tokens import length_sorted_batches
from adapteval.suite.specs import ModelSpec

SAFE_PATTERNS = ["*.json", "*.txt", "*.model", "*.safetensors", "1_Pooling/*", "2_Normalize/*"]


@dataclass(frozen=True)
class Pooling:
    mode: str  # mean | cls | max
    normalize: bool
    max_length: int


def is_hub_id(source: str) -> bool:
    """Whether ``source`` is spelled as a Hugging Face hub id (``name`` or ``org/name``;
    letters, digits, ``-``, ``_`` and ``.``, so ``BAAI/bge-small-en-v1.5`` is one)."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    if source.startswith((".", "/", "~")) or "\\" in source:
        return False
    try:
        validate_repo_id(source)
    except HFValidationError:
        return False
    return True


def hub_cache_dir() -> str:
    from huggingface_hub import constants

    return str(constants.HF_HUB_CACHE)


def resolve_model_dir(spec: ModelSpec, base_dir: Path, *, where: str = "") -> Path:
    """Find the folder holding a model's files, without touching the network unless allowed."""
    entry = lookup(spec.source)
    if entry is not None and entry.locate is not None:
        return entry.path()
    local = Path(spec.source).expanduser()
    local = local if local.is_absolute() else base_dir / local
    if local.is_dir():
        return local
    if local.exists() or not is_hub_id(spec.source):
        raise ModelLoadError(
            "model folder not found" if not local.exists() else "model path is not a folder",
            where=where, value=spec.source,
            fix=f"give an existing folder, a hub id, or a short name ({', '.join(CATALOG)})",
        )
    from huggingface_hub import snapshot_download

    patterns = SAFE_PATTERNS + (["*.bin"] if spec.allow_pickle else [])
    try:
        return Path(
            snapshot_download(
                spec.source, revision=spec.revision, local_files_only=True, allow_patterns=patterns
            )
        )
    except Exception:
        if not downloads_allowed():
            raise ModelLoadError(
                "unknown model: not a short name, a local folder or in the Hugging Face cache "
                f"({hub_cache_dir()}), and downloads are off",
                where=where, value=spec.source,
                fix=f"use a short name ({', '.join(CATALOG)}), a local folder, or run with "
                "--allow-download on a connected machine",
            ) from None
    try:
        return Path(
            snapshot_download(
                spec.source, revision=spec.revision, allow_patterns=patterns, etag_timeout=5
            )
        )
    except Exception as exc:
        raise ModelLoadError(
            f"could not download model ({type(exc).__name__})", where=where, value=spec.source,
            fix="check the hub id and revision, and the network",
        ) from None


def read_pooling(folder: Path, spec: ModelSpec, config_max: int | None) -> Pooling:
    """Pooling as the sentence-transformers folder says, overridden by the spec."""
    mode, normalize, max_length = "mean", False, None
    modules_file = folder / "modules.json"
    if modules_file.is_file():
        modules = json.loads(modules_file.read_text())
        for module in modules:
            kind = module.get("type", "")
            if kind.endswith("Pooling"):
                cfg = json.loads((folder / module["path"] / "config.json").read_text())
                if cfg.get("pooling_mode_cls_token"):
                    mode = "cls"
                elif cfg.get("pooling_mode_max_tokens"):
                    mode = "max"
            elif kind.endswith("Normalize"):
                normalize = True
        st_cfg = folder / "sentence_bert_config.json"
        if st_cfg.is_file():
            max_length = json.loads(st_cfg.read_text()).get("max_seq_length")
    if spec.pooling != "auto":
        mode = spec.pooling
    if spec.normalize is not None:
        normalize = spec.normalize
    max_length = spec.max_length or max_length or min(config_max or 512, 512)
    return Pooling(mode, normalize, int(max_length))


def weight_format(folder: Path, spec: ModelSpec, *, where: str = "") -> bool:
    """Return whether to use safetensors; refuse pickled weights unless allowed."""
    if any(folder.glob("*.safetensors")):
        return True
    if any(folder.glob("*.bin")) or any(folder.glob("*.pt")):
        if not spec.allow_pickle:
            raise ModelLoadError(
                "model has only pickled weights (.bin), which can run arbitrary code when loaded",
                where=where, value=str(folder),
                fix="convert it to safetensors, or set allow_pickle: true if you trust its source",
            )
        return False
    raise ModelLoadError(
        "no weights found in model folder", where=where, value=str(folder),
        fix="the folder needs model.safetensors (or pytorch_model.bin with allow_pickle: true)",
    )


def last_token_index(mask: Any) -> Any:
    """Index of each row's last real token, whichever side the padding is on."""
    import torch

    positions = torch.arange(mask.shape[1], device=mask.device).expand_as(mask)
    return (positions * mask.long()).argmax(1)


class HFEncoder:
    """A frozen transformer encoder with sentence-transformers style pooling."""

    kind = "hf"
    pretrained = True

    def __init__(self, spec: ModelSpec, folder: Path, *, where: str = "",
                 placement: Placement | None = None) -> None:
        import torch
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        silence_libraries()
        self.spec = spec
        self.folder = folder
        self.placement = placement or resolve_placement(spec.device, spec.dtype, where=where)
        self.device, self.dtype = self.placement.torch_device(), self.placement.torch_dtype()
        use_safetensors = weight_format(folder, spec, where=where)
        try:
            config = AutoConfig.from_pretrained(folder, trust_remote_code=spec.trust_remote_code)
            self.tokenizer = AutoTokenizer.from_pretrained(
                folder, trust_remote_code=spec.trust_remote_code
            )
            if spec.random_init:  # a control: same architecture, no pretraining
                torch.manual_seed(spec.init_seed)  # drawn in float32, whatever the dtype
                self.model = AutoModel.from_config(config).to(self.dtype)
            else:
                self.model = AutoModel.from_pretrained(
                    folder,
                    config=config,
                    trust_remote_code=spec.trust_remote_code,
                    use_safetensors=use_safetensors,
                    dtype=self.dtype,
                )
        except ModelLoadError:
            raise
        except pickle.UnpicklingError as exc:  # torch.load(weights_only=True) met a non-tensor
            raise ModelLoadError(
                "pickled weights hold more than tensors, so weights_only loading refused them"
                + "".join(f" ({ln.strip()[:120]})" for ln in str(exc).splitlines()
                          if "GLOBAL" in ln)[:130], where=where, value=str(folder),
                fix="use a safetensors copy from a source you trust",
            ) from None
        except ValueError as exc:
            if "trust_remote_code" in str(exc):
                raise ModelLoadError(
                    "model needs custom code from its folder, which is off by default",
                    where=where, value=spec.source,
                    fix="set trust_remote_code: true only if you trust its source",
                ) from None
            raise ModelLoadError(
                f"cannot load model: {str(exc).splitlines()[0]}", where=where, value=str(folder)
            ) from None
        except OSError as exc:
            raise ModelLoadError(
                f"cannot load model: {str(exc).splitlines()[0]}", where=where, value=str(folder),
                fix="the folder needs config.json, tokenizer files and weights",
            ) from None
        self.model.to(self.device).eval()
        self.pooling = read_pooling(folder, spec, getattr(config, "max_position_embeddings", None))
        self.dim = int(config.hidden_size)
        self._torch = torch

    def length_sorted_batches(self, texts: list[str], batch_size: int):
        """(indices, dict of torch tensors) per batch; see ``models.tokens.length_sorted_batches``."""
        torch = self._torch
        for idx, arrays in length_sorted_batches(
            self.tokenizer, texts, batch_size, self.pooling.max_length
        ):
            yield idx, {k: torch.from_numpy(v).to(self.device) for k, v in arrays.items()
                        if k not in self.unused_inputs}

    unused_inputs: tuple[str, ...] = ()
    """Tokenizer outputs the model does not take (decoders: ``token_type_ids``)."""

    def texts_for_embedding(self, texts: list[str]) -> list[str]:
        """What is encoded for ``texts`` (decoders may put an instruction first)."""
        return texts

    def pool(self, hidden, mask):
        torch = self._torch
        if self.pooling.mode == "cls":
            out = hidden[:, 0]
        elif self.pooling.mode == "last":
            out = hidden[torch.arange(hidden.shape[0], device=hidden.device),
                         last_token_index(mask)]
        elif self.pooling.mode == "max":
            out = hidden.masked_fill(~mask.bool().unsqueeze(-1), -1e9).max(dim=1).values
        else:
            m = mask.unsqueeze(-1).to(hidden.dtype)
            out = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
        if self.pooling.normalize:
            out = torch.nn.functional.normalize(out, p=2, dim=1)
        return out

    def encode(
        self,
        texts: list[str],
        *,
        batch_size: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Embed texts (float32, one row per text, in input order); hidden states are
        pooled in float32 whatever the model's dtype."""
        torch = self._torch
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        with torch.inference_mode():
            for idx, batch in self.length_sorted_batches(self.texts_for_embedding(texts),
                                                         batch_size or self.spec.batch_size):
                hidden = self.model(**batch).last_hidden_state.float()
                out[idx] = self.pool(hidden, batch["attention_mask"]).cpu().numpy()
                if progress is not None:
                    progress(len(idx))
        return out

