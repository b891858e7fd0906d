"""ONNX encoders (onnxruntime), for frozen strategies: check that an exported or
quantized artefact still fits the tasks.

The graph's inputs are read from the model (some take ``token_type_ids``, some do
not); the token-level output (batch, sequence, hidden) is pooled like a Hugging Face
encoder. ONNX files carry no tokenizer, so the suite names one (``tokenizer:``), unless
the model's folder has tokenizer files.

The graph runs on the CPU, or on a CUDA device when the installed onnxruntime has its
CUDA provider (``onnxruntime-gpu``); it computes in the precision it was exported in,
so ``dtype`` may only be ``auto`` or ``float32``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from adapteval.core.devices import CPU, Placement, cuda_count, resolve_device
from adapteval.core.env import threads
from adapteval.core.errors import ConfigError, ModelLoadError
from adapteval.models.hf import Pooling
from adapteval.models.tokens import length_sorted_batches, pool_numpy
from adapteval.suite.specs import ModelSpec


def find_onnx_file(path: Path, *, where: str) -> Path:
    if path.is_file() and path.suffix == ".onnx":
        return path
    if path.is_dir():
        found = sorted(path.rglob("*.onnx"))
        if len(found) == 1:
            return found[0]
        if found:
            raise ModelLoadError(
                f"folder has {len(found)} .onnx files", where=where, value=str(path),
                fix="point source at one of them: " + ", ".join(p.name for p in found[:4]),
            )
    raise ModelLoadError(
        "no .onnx file found", where=where, value=str(path), fix="point source at a .onnx file"
    )


CUDA_PROVIDER = "CUDAExecutionProvider"


def cuda_provider() -> bool:
    """Whether the installed onnxruntime has its CUDA provider (``onnxruntime-gpu``)."""
    import transformers  # noqa: F401  # before onnxruntime, see ONNXEncoder

    try:
        import onnxruntime as ort
    except ImportError:
        return False
    return CUDA_PROVIDER in ort.get_available_providers()


def onnx_placement(device: str, dtype: str, *, where: str = "") -> Placement:
    """Where an ONNX graph runs: the CPU, or CUDA with onnxruntime's CUDA provider
    (``auto`` takes it when both a GPU and the provider are here); one ConfigError line
    for anything else, before any work."""
    def field(name: str) -> str | None:
        return f"{where}.{name}" if where else None

    if dtype not in ("auto", "float32"):
        raise ConfigError(
            "an ONNX model computes in the precision its graph was exported in",
            where=field("dtype"), value=dtype,
            fix="remove dtype: (or export the graph in that precision)",
        )
    if device == "auto":
        return Placement("cuda:0", "float32") if cuda_count() and cuda_provider() else CPU
    if device == "mps":
        raise ConfigError("ONNX models run on the CPU or a CUDA device", where=field("device"),
                          value=device, fix="use device: auto, cpu or cuda")
    resolved = resolve_device(device, where=where)
    if resolved == "cpu":
        return CPU
    if not cuda_provider():
        raise ConfigError(
            "onnxruntime here has no CUDA provider (it runs ONNX models on the CPU only)",
            where=field("device"), value=device,
            fix="pip install onnxruntime-gpu, or use device: cpu",
        )
    return Placement(resolved, "float32")


class ONNXEncoder:
    """A frozen encoder served by onnxruntime on the CPU or a CUDA device."""

    kind = "onnx"
    pretrained = True

    def __init__(self, spec: ModelSpec, model_file: Path, tokenizer_dir: Path, *, where: str = "",
                 placement: Placement | None = None):
        # transformers must be imported before onnxruntime: the other order makes
        # onnxruntime's native telemetry look up a remote host (seen with 1.32)
        from transformers import AutoTokenizer

        try:
            import onnxruntime as ort
        except ImportError:
            raise ModelLoadError(
                "ONNX models need onnxruntime, which is not installed", where=where,
                fix="pip install 'adapteval[onnx]'",
            ) from None
        if hasattr(ort, "disable_telemetry_events"):
            ort.disable_telemetry_events()
        self.spec = spec
        self.folder = model_file.parent
        self.placement = placement or onnx_placement(spec.device, spec.dtype, where=where)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads() or os.cpu_count() or 1
        options.log_severity_level = 3
        providers: list = ["CPUExecutionProvider"]
        if self.placement.type == "cuda":
            index = int(self.placement.device.split(":")[1])
            providers = [(CUDA_PROVIDER, {"device_id": index}), "CPUExecutionProvider"]
        try:
            self.session = ort.InferenceSession(str(model_file), options, providers=providers)
        except Exception as exc:
            raise ModelLoadError(
                f"onnxruntime cannot load the model ({type(exc).__name__})", where=where,
                value=str(model_file), fix="check that the file is a complete ONNX graph",
            ) from None
        self.tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
        self.inputs = [i.name for i in self.session.get_inputs()]
        unknown = set(self.inputs) - {"input_ids", "attention_mask", "token_type_ids"}
        if unknown:
            raise ModelLoadError(
                f"graph needs inputs adapteval cannot feed: {sorted(unknown)}", where=where,
                value=str(model_file), fix="export with input_ids/attention_mask(/token_type_ids)",
            )
        self.output, self.dim = self._token_output(where, model_file)
        mode = "mean" if spec.pooling == "auto" else spec.pooling
        max_length = spec.max_length or min(getattr(self.tokenizer, "model_max_length", 512), 512)
        self.pooling = Pooling(mode, bool(spec.normalize), int(max_length))

    def _token_output(self, where: str, model_file: Path) -> tuple[str, int]:
        """The first float output shaped (batch, sequence, hidden) with a fixed hidden size."""
        outs = self.session.get_outputs()
        named = [o for o in outs if o.name in ("last_hidden_state", "token_embeddings")]
        for o in named + outs:
            if "float" in o.type and len(o.shape) == 3 and isinstance(o.shape[2], int):
                return o.name, int(o.shape[2])
        raise ModelLoadError(
            "graph has no token-level float output (batch, sequence, hidden)", where=where,
            value=[o.name for o in outs], fix="export the encoder's last hidden state",
        )

    def encode(
        self,
        texts: list[str],
        *,
        batch_size: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for idx, batch in length_sorted_batches(
            self.tokenizer, texts, batch_size or self.spec.batch_size, self.pooling.max_length
        ):
            if "token_type_ids" in self.inputs and "token_type_ids" not in batch:
                batch["token_type_ids"] = np.zeros_like(batch["input_ids"])
            feed = {k: batch[k] for k in self.inputs}
            (hidden,) = self.session.run([self.output], feed)
            out[idx] = pool_numpy(hidden, batch["attention_mask"], self.pooling.mode,
                                  self.pooling.normalize)
            if progress is not None:
                progress(len(idx))
        return out


def initializer_counts(path: Path) -> tuple[int, int]:
    """(total, non-zero) numbers in an ONNX graph's initializers."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    total = nonzero = 0
    for init in graph.initializer:
        arr = numpy_helper.to_array(init)
        total += arr.size
        nonzero += int(np.count_nonzero(arr))
    return total, nonzero
