"""Where a model computes and in what precision: ``device`` and ``dtype`` of a model spec.

``device: auto`` takes CUDA when a CUDA device is present, else MPS on Apple silicon,
else the CPU; ``dtype: auto`` is float32 on the CPU and MPS and bfloat16 on CUDA
(float16 where the GPU has no bfloat16). Both resolve before any work: an absent device
or a precision the device cannot run is one ``ConfigError`` line.

``Placement.key`` is what enters a model's feature key: nothing for the CPU in float32
(so results stored before devices existed keep their keys), else the device type and
dtype, because both change the numbers (the GPU's index does not).

torch is imported only where a GPU may be present (an NVIDIA or ROCm driver, macOS),
so resolving on a plain CPU machine stays cheap.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from dataclasses import dataclass
from typing import Any

from adapteval.core.errors import ConfigError

DEVICES = ("auto", "cpu", "cuda", "cuda:N", "mps")
DTYPES = ("auto", "float32", "bfloat16", "float16")
_CUDA = re.compile(r"cuda(:\d+)?")


@dataclass(frozen=True)
class Placement:
    """A resolved device (``cpu``, ``cuda:0``, ``mps``) and dtype (``float32``, ...)."""

    device: str
    dtype: str

    @property
    def type(self) -> str:
        return self.device.split(":", 1)[0]

    @property
    def key(self) -> dict[str, str]:
        if self.type == "cpu" and self.dtype == "float32":
            return {}
        return {"device": self.type, "dtype": self.dtype}

    def torch_device(self) -> Any:
        import torch

        return torch.device(self.device)

    def torch_dtype(self) -> Any:
        import torch

        return getattr(torch, self.dtype)


CPU = Placement("cpu", "float32")


def _field(where: str, name: str) -> str | None:
    return f"{where}.{name}" if where else None


def _gpu_driver() -> bool:
    """Whether an NVIDIA (or ROCm) driver is loaded, known without importing torch."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return False
    return (os.path.exists("/proc/driver/nvidia/version") or os.path.exists("/dev/kfd")
            or sys.platform == "win32")


@functools.cache
def cuda_count() -> int:
    """CUDA devices torch can use here (0 without a driver, torch not imported then)."""
    if not _gpu_driver():
        return 0
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


@functools.cache
def mps_available() -> bool:
    if sys.platform != "darwin":
        return False
    import torch

    return bool(torch.backends.mps.is_available())


@functools.cache
def _cuda_bf16(device: str) -> bool:
    import torch

    with torch.cuda.device(device):
        return bool(torch.cuda.is_bf16_supported())


def resolve_device(device: str = "auto", *, where: str = "") -> str:
    """``device`` as it will be used here (``cpu``, ``cuda:0``, ``mps``), or one
    ConfigError line: an unknown spelling or a device this machine does not have."""
    if device == "auto":
        return "cuda:0" if cuda_count() else ("mps" if mps_available() else "cpu")
    if _CUDA.fullmatch(device):
        index = int(device.split(":")[1]) if ":" in device else 0
        count = cuda_count()
        if index >= count:
            have = (f"{count} CUDA device{'s' * (count != 1)}: cuda:0"
                    + (f" to cuda:{count - 1}" if count > 1 else "")) if count else "no CUDA device"
            raise ConfigError(
                f"device {device!r} is not available here ({have})",
                where=_field(where, "device"), value=device,
                fix="use device: auto or cpu (or --device cpu), or run on a machine with that GPU",
            )
        return f"cuda:{index}"
    if device == "mps":
        if not mps_available():
            raise ConfigError(
                "device 'mps' is not available here (no Apple GPU)",
                where=_field(where, "device"), value=device,
                fix="use device: auto or cpu (or --device cpu)",
            )
        return device
    if device == "cpu":
        return device
    raise ConfigError("unknown device", where=_field(where, "device"), value=device,
                      fix=f"use one of {', '.join(DEVICES)}")


def resolve_placement(device: str = "auto", dtype: str = "auto", *, where: str = "") -> Placement:
    """``device`` and ``dtype`` as they will be used here, or one ConfigError line."""
    device = resolve_device(device, where=where)
    kind = device.split(":", 1)[0]
    if dtype == "auto":
        dtype = "float32" if kind != "cuda" else ("bfloat16" if _cuda_bf16(device) else "float16")
    elif dtype not in DTYPES:
        raise ConfigError("unknown dtype", where=_field(where, "dtype"), value=dtype,
                          fix=f"use one of {', '.join(DTYPES)}")
    elif kind == "cuda" and dtype == "bfloat16" and not _cuda_bf16(device):
        raise ConfigError(
            f"{device} has no bfloat16 support", where=_field(where, "dtype"), value=dtype,
            fix="use dtype: float16 or float32",
        )
    elif kind == "cpu" and dtype == "float16":
        raise ConfigError(
            "float16 is not supported for computing on the CPU",
            where=_field(where, "dtype"), value=dtype,
            fix="use dtype: float32 or bfloat16 on the CPU, or a CUDA device",
        )
    return Placement(device, dtype)


def cpu_only(device: str, dtype: str, *, what: str, where: str = "") -> None:
    """Refuse a device or dtype a CPU-only model cannot honour (``what`` names it)."""
    if device not in ("auto", "cpu"):
        raise ConfigError(f"device does not apply to {what} (it computes on the CPU)",
                          where=_field(where, "device"), value=device,
                          fix="remove device: from this model (or set device: cpu)")
    if dtype != "auto":
        raise ConfigError(f"dtype does not apply to {what}", where=_field(where, "dtype"),
                          value=dtype, fix="remove dtype: from this model")
