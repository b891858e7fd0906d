"""Peak memory of a block of work in this process: the CPU's resident high-water mark
(reset at the start where Linux allows, ``/proc/self/clear_refs``) or, on a CUDA device,
torch's peak allocation on it."""

from __future__ import annotations

import resource
import sys
from pathlib import Path
from typing import Any

MB = 1024  # kB per MB in /proc and ru_maxrss (Linux)


def status_kb(field: str) -> int | None:
    """A ``/proc/self/status`` field in kB (``VmRSS``, ``VmHWM``), or None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def reset_high_water() -> bool:
    """Reset the kernel's resident high-water mark (``VmHWM``) to the current RSS."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


class PeakMemory:
    """``with PeakMemory(device) as m: ...`` then ``m.info()``: the peak in MB, what was
    measured (``rss`` rise above the start, ``rss_lifetime`` when the mark could not be
    reset, ``cuda`` allocation) and the start."""

    def __init__(self, device: Any = None) -> None:
        self.device = device
        self.cuda = getattr(device, "type", str(device or "cpu")).startswith("cuda")
        self.start_mb = self.peak_mb = 0.0
        self.how = "rss"

    def __enter__(self) -> PeakMemory:
        if self.cuda:
            import torch

            torch.cuda.reset_peak_memory_stats(self.device)
            self.start_mb = torch.cuda.memory_allocated(self.device) / 2**20
            self.how = "cuda"
        else:
            if not reset_high_water():
                self.how = "rss_lifetime"
            self.start_mb = (status_kb("VmRSS") or 0) / MB
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.cuda:
            import torch

            self.peak_mb = torch.cuda.max_memory_allocated(self.device) / 2**20 - self.start_mb
            return
        hwm = status_kb("VmHWM")
        if hwm is None or self.how == "rss_lifetime":
            scale = 1 if sys.platform != "darwin" else 1024  # bytes there
            hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale
        self.peak_mb = max(0.0, hwm / MB - self.start_mb)

    def info(self) -> dict[str, Any]:
        return {"peak_memory_mb": round(self.peak_mb, 1), "peak_memory_of": self.how,
                "memory_at_start_mb": round(self.start_mb, 1)}
