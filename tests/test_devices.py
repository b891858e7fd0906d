"""Devices and precision: ``device``/``dtype`` per model and ``--device`` on the CLI.

An absent device or an unsupported dtype is one line, exit 2, before any work; the
CPU in float32 keeps the feature keys from before devices existed; bfloat16 on the CPU
really runs (and is keyed apart); training keeps a float32 head and float32 master
weights under a low-precision body. GPU-only checks skip here with their reason.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from tests.conftest import CLI

from adapteval.api import as_suite, run_full
from adapteval.cli.common import on_device
from adapteval.core.devices import CPU, Placement, cuda_count, mps_available, resolve_placement
from adapteval.core.errors import ConfigError
from adapteval.data.task import load_task
from adapteval.execution.cells import placement_of
from adapteval.models.hf import HFEncoder
from adapteval.models.kinds import load_model, resolve_model
from adapteval.models.onnx import onnx_placement
from adapteval.store import ResultStore
from adapteval.strategies import CellContext, training
from adapteval.strategies.finetune import FineTune
from adapteval.strategies.lora import Lora, LoraParams
from adapteval.strategies.train_params import TrainParams
from adapteval.suite.specs import ModelSpec, TaskSpec

HAS_CUDA = cuda_count() > 0
NEEDS_CUDA = pytest.mark.skipif(not HAS_CUDA, reason="needs a CUDA device (none here)")
NO_CUDA = pytest.mark.skipif(HAS_CUDA, reason="this machine has a CUDA device")
ON_CPU_ONLY = pytest.mark.skipif(HAS_CUDA or mps_available(),
                                 reason="auto takes the GPU on this machine")
# ModelRef.key of all-MiniLM-L6-v2 (and its random-weights control, and the TF-IDF
# baseline) as computed before devices existed: CPU float32 keys must not move.
MINILM_KEY = "7028bac148ed13561a7d8ca18de8f91a"
MINILM_RANDOM_KEY = "9d2c6c192411d5902a85f3f65164b58c"
TFIDF_KEY = "b3d293bb795b413ea926782b8bc7873d"
FAST = {"max_steps": 6, "batch_size": 8, "eval_batch_size": 32}

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def ref_of(**spec):
    return resolve_model(ModelSpec(**spec), Path("."), where="m")


# resolving ---------------------------------------------------------------------------

@ON_CPU_ONLY
def test_auto_is_the_cpu_in_float32_without_a_gpu():
    assert resolve_placement() == CPU and CPU.key == {}


def test_bfloat16_on_the_cpu_is_keyed_by_device_type_and_dtype():
    p = resolve_placement("cpu", "bfloat16")
    assert p == Placement("cpu", "bfloat16")
    assert p.key == {"device": "cpu", "dtype": "bfloat16"}
    assert p.torch_dtype() is torch.bfloat16 and p.torch_device() == torch.device("cpu")


@NO_CUDA
@pytest.mark.parametrize("device", ["cuda", "cuda:3"])
def test_an_absent_cuda_device_is_one_line_naming_the_model_and_the_fix(device):
    with pytest.raises(ConfigError) as exc:
        resolve_placement(device, where="suite.yaml: models[0] (m)")
    line = exc.value.one_line()
    assert "\n" not in line and f"'{device}'" in line and "models[0] (m).device" in line
    assert "no CUDA device" in line and "use device: auto or cpu" in line


@pytest.mark.skipif(mps_available(), reason="this machine has an Apple GPU")
def test_mps_off_apple_silicon_is_refused():
    with pytest.raises(ConfigError, match="'mps' is not available"):
        resolve_placement("mps")


def test_float16_on_the_cpu_and_unknown_values_are_refused():
    with pytest.raises(ConfigError, match="float16 is not supported for computing on the CPU"):
        resolve_placement("cpu", "float16")
    with pytest.raises(ConfigError, match="unknown device"):
        resolve_placement("gpu")
    with pytest.raises(ConfigError, match="unknown dtype"):
        resolve_placement("cpu", "int8")


def test_resolving_on_a_cpu_machine_does_not_import_torch():
    code = ("import sys; from adapteval.core.devices import resolve_placement; "
            "resolve_placement(); resolve_placement('cpu', 'bfloat16'); "
            "print('torch' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    gpu_possible = HAS_CUDA or Path("/proc/driver/nvidia/version").exists() or \
        Path("/dev/kfd").exists() or sys.platform == "darwin"
    assert proc.stdout.strip() == ("True" if gpu_possible else "False")


def test_baselines_compute_on_the_cpu_and_refuse_a_gpu():
    assert ref_of(source="tfidf").placement is None
    assert ref_of(source="tfidf", device="cpu").key == TFIDF_KEY
    with pytest.raises(ConfigError, match="device does not apply to the tfidf baseline"):
        ref_of(source="tfidf", device="cuda")
    with pytest.raises(ConfigError, match="dtype does not apply to the majority baseline"):
        ref_of(source="majority", dtype="bfloat16")


@ON_CPU_ONLY
def test_onnx_runs_on_the_cpu_in_its_own_precision():
    assert onnx_placement("auto", "auto") == CPU
    assert onnx_placement("cpu", "float32") == CPU
    with pytest.raises(ConfigError, match="precision its graph was exported in"):
        onnx_placement("cpu", "bfloat16")
    with pytest.raises(ConfigError, match="ONNX models run on the CPU or a CUDA device"):
        onnx_placement("mps", "auto")


@NEEDS_CUDA
def test_onnx_on_cuda_needs_the_cuda_provider():
    from adapteval.models.onnx import cuda_provider

    if cuda_provider():
        assert onnx_placement("cuda", "auto").type == "cuda"
    else:
        with pytest.raises(ConfigError, match="no CUDA provider"):
            onnx_placement("cuda", "auto")


# keys ----------------------------------------------------------------------------------

@ON_CPU_ONLY
def test_cpu_float32_feature_keys_are_those_from_before_devices():
    assert ref_of(source="all-MiniLM-L6-v2").key == MINILM_KEY
    assert ref_of(source="all-MiniLM-L6-v2", device="cpu", dtype="float32").key == MINILM_KEY
    assert ref_of(source="all-MiniLM-L6-v2", random_init=True).key == MINILM_RANDOM_KEY
    assert ref_of(source="tfidf").key == TFIDF_KEY


def test_bfloat16_gets_its_own_feature_key():
    bf16 = ref_of(source="all-MiniLM-L6-v2", device="cpu", dtype="bfloat16")
    assert bf16.placement == Placement("cpu", "bfloat16")
    assert bf16.key != ref_of(source="all-MiniLM-L6-v2", device="cpu").key


# encoding and training ------------------------------------------------------------------

@pytest.mark.slow
def test_a_bfloat16_encoder_loads_in_bfloat16_and_returns_float32(minilm_path):
    texts = ["a fine film", "the service was slow and rude", "ok"]
    f32 = HFEncoder(ModelSpec(source="all-MiniLM-L6-v2"), minilm_path)
    bf16 = HFEncoder(ModelSpec(source="all-MiniLM-L6-v2", dtype="bfloat16"), minilm_path)
    assert next(bf16.model.parameters()).dtype is torch.bfloat16
    a, b = f32.encode(texts), bf16.encode(texts)
    assert b.dtype == np.float32 and not np.array_equal(a, b)
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cos.min() > 0.99


@pytest.mark.slow
def test_a_bfloat16_probe_cell_scores_like_float32_and_records_its_dtype(tmp_path):
    suite = {
        "models": [{"source": "all-MiniLM-L6-v2", "name": "f32", "device": "cpu"},
                   {"source": "all-MiniLM-L6-v2", "name": "bf16", "dtype": "bfloat16"}],
        "tasks": [{"name": "yelp", "bundled": "sentiment-yelp", "max_train": 400,
                   "max_test": 400}],
        "strategies": ["probe"], "baselines": [], "metrics": ["accuracy"],
        "output_dir": str(tmp_path / "out"),
    }
    results, _, _ = run_full(suite)
    frame = results.to_pandas().set_index("model")
    assert frame.loc["f32", "key"] != frame.loc["bf16", "key"]
    assert abs(frame.loc["f32", "value"] - frame.loc["bf16", "value"]) <= 0.02
    assert frame.loc["f32", "value"] > 0.7  # a real score, not chance
    store = ResultStore(tmp_path / "out")
    try:
        prov = {r.model: r.provenance for r in store.rows()}
    finally:
        store.close()
    assert (prov["f32"]["device"], prov["f32"]["dtype"]) == ("cpu", "float32")
    assert (prov["bf16"]["device"], prov["bf16"]["dtype"]) == ("cpu", "bfloat16")


def small_task(tmp: Path):
    spec = TaskSpec(name="yelp", bundled="sentiment-yelp", max_train=48, max_test=24)
    return load_task(spec, tmp)


@pytest.mark.parametrize("strategy", [FineTune(TrainParams(**FAST)),
                                      Lora(LoraParams(**FAST))], ids=["finetune", "lora"])
def test_a_bfloat16_body_trains_with_float32_head_and_master_weights(strategy, tiny_bert,
                                                                     tmp_path, monkeypatch):
    enc = HFEncoder(ModelSpec(source=str(tiny_bert), dtype="bfloat16"), tiny_bert)
    built = []
    real = training.TaskModel.__init__

    def keep(self, *args, **kwargs):
        real(self, *args, **kwargs)
        built.append(self)

    monkeypatch.setattr(training.TaskModel, "__init__", keep)
    task = small_task(tmp_path)
    preds = strategy.fit(CellContext(task, task.split(0), enc, 0)).predictions
    (model,) = built
    assert model.compute_dtype is torch.bfloat16 and model.head.weight.dtype is torch.float32
    params = dict(model.encoder.named_parameters())
    assert all(q.dtype is torch.float32 for q in params.values() if q.requires_grad)
    if strategy.name == "lora":  # the frozen pretrained weights stay in bfloat16
        assert all(q.dtype is torch.bfloat16 for q in params.values() if not q.requires_grad)
    assert np.isfinite(preds.proba).all() and preds.info["steps"] == 6


def test_a_float32_body_trains_without_casts_or_autocast(tiny_bert, tmp_path):
    enc = HFEncoder(ModelSpec(source=str(tiny_bert)), tiny_bert)
    body = training.load_encoder(enc)
    model = training.TaskModel(body, enc.pool, 2, 0.1, torch.Generator().manual_seed(0))
    assert model.compute_dtype is None and training.loss_scaler(model) is None
    assert model.device == torch.device("cpu")


def test_a_float16_body_scales_its_loss(tiny_bert, tmp_path):
    """float16 computes on CUDA only; its loss-scaling path runs here on a float16 body
    built directly (CPU autocast supports float16)."""
    enc = HFEncoder(ModelSpec(source=str(tiny_bert)), tiny_bert)
    body = training.load_encoder(enc).to(torch.float16)
    model = training.TaskModel(body, enc.pool, 2, 0.0, torch.Generator().manual_seed(0))
    assert model.compute_dtype is torch.float16
    assert isinstance(training.loss_scaler(model), torch.amp.GradScaler)
    task = small_task(tmp_path)
    from adapteval.strategies.text_batches import encode_view

    fit = encode_view(enc.tokenizer, task.split(0).train, 64)
    objective = training.Objective.for_task(2, "accuracy", fit.y)
    before = {n: q.detach().clone() for n, q in model.named_parameters()}
    loop = training.train(model, fit, None, objective, TrainParams(**FAST),
                          np.random.default_rng(0), enc.tokenizer.pad_token_id)
    assert loop.steps == 6
    moved = [n for n, q in model.named_parameters() if not torch.equal(q, before[n])]
    assert any(n.startswith("head.") for n in moved) and any(n.startswith("encoder.") for n in moved)


def test_a_random_weights_control_in_bfloat16_keeps_its_float32_draw(tiny_bert):
    spec = {"source": str(tiny_bert), "random_init": True, "init_seed": 3}
    f32 = HFEncoder(ModelSpec(**spec), tiny_bert)
    bf16 = HFEncoder(ModelSpec(**spec, dtype="bfloat16"), tiny_bert)
    for (name, a), (_, b) in zip(f32.model.named_parameters(), bf16.model.named_parameters(),
                                 strict=True):
        assert torch.equal(a.to(torch.bfloat16), b), name


@NEEDS_CUDA
def test_cuda_features_match_the_cpu_and_training_measures_cuda_memory(minilm_path, tiny_bert,
                                                                       tmp_path):
    texts = ["a fine film", "the service was slow and rude"]
    cpu = HFEncoder(ModelSpec(source="all-MiniLM-L6-v2", device="cpu"), minilm_path)
    gpu = HFEncoder(ModelSpec(source="all-MiniLM-L6-v2", device="cuda", dtype="float32"),
                    minilm_path)
    np.testing.assert_allclose(cpu.encode(texts), gpu.encode(texts), atol=1e-4)
    enc = HFEncoder(ModelSpec(source=str(tiny_bert), device="cuda"), tiny_bert)
    task = small_task(tmp_path)
    info = FineTune(TrainParams(**FAST)).fit(CellContext(task, task.split(0), enc, 0)).predictions.info
    assert info["train_peak_memory_of"] == "cuda" and info["train_peak_memory_mb"] > 0


# provenance and the CLI -----------------------------------------------------------------

def test_provenance_names_the_placement_or_the_cpu_for_baselines(minilm_path):
    ref = ref_of(source="all-MiniLM-L6-v2", dtype="bfloat16")
    assert placement_of(load_model(ref), ref) == {"device": "cpu", "dtype": "bfloat16"}
    tfidf = ref_of(source="tfidf")
    assert placement_of(load_model(tfidf), tfidf) == {"device": "cpu", "dtype": None}


def test_the_device_option_overrides_pretrained_models_only(tmp_path):
    path = tmp_path / "suite.yaml"
    path.write_text("models:\n  - {source: all-MiniLM-L6-v2, device: cuda}\n  - tfidf\n"
                    "tasks: [sms-spam]\n")
    suite = on_device(path, "cpu")
    assert [m.device for m in suite.models] == ["cpu", "auto"]
    assert suite.source == as_suite(path).source and on_device(path, None) == path


def _suite(tmp: Path, model: str) -> Path:
    (tmp / "suite.yaml").write_text(f"models:\n  - {model}\ntasks: [sms-spam]\n")
    return tmp / "suite.yaml"


def _one_line_exit_2(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@NO_CUDA
@pytest.mark.slow
@pytest.mark.parametrize("command", ["validate", "run"])
def test_cli_refuses_an_absent_device_before_any_work(command, tmp_path):
    path = _suite(tmp_path, "{source: all-MiniLM-L6-v2, device: cuda}")
    proc = subprocess.run([*CLI, command, str(path)], capture_output=True, text=True)
    _one_line_exit_2(proc, "models[0] (all-MiniLM-L6-v2).device", "'cuda'",
                     "not available here (no CUDA device)", "use device: auto or cpu")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["suite.yaml"]  # nothing written
    proc = subprocess.run([*CLI, command, str(_suite(tmp_path, "all-MiniLM-L6-v2")),
                           "--device", "cuda"], capture_output=True, text=True)
    _one_line_exit_2(proc, "--device", "'cuda'", "not available here")


@pytest.mark.slow
def test_cli_refuses_float16_on_the_cpu_and_accepts_device_cpu(tmp_path):
    path = _suite(tmp_path, "{source: all-MiniLM-L6-v2, device: cpu, dtype: float16}")
    proc = subprocess.run([*CLI, "validate", str(path)], capture_output=True, text=True)
    _one_line_exit_2(proc, "models[0] (all-MiniLM-L6-v2).dtype", "'float16'",
                     "use dtype: float32 or bfloat16 on the CPU")
    proc = subprocess.run([*CLI, "validate", str(_suite(tmp_path, "all-MiniLM-L6-v2")),
                           "--device", "cpu"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("ok: 1 pretrained model"), proc.stderr
