"""Where a torch computation runs: the one device resolver of the project. `extract` uses it for
the backbones, `videoad` for the detectors (extract never imports videoad; videoad may import
extract). Torch only.

"auto" (or None: no preference) is CUDA when torch sees a GPU, else the CPU; "cpu"; "cuda" or
"cuda:N", which must exist: asking for CUDA where torch sees none is an error that says so,
never a silent fall-back to the CPU. Anything else is an error naming what is accepted.
"""
from __future__ import annotations

from .lazy import lazy_import

torch = lazy_import("torch")  # imported on first use: decode workers never need it

ACCEPTED = "'auto', 'cpu' (or 'cpu:N'), 'cuda' or 'cuda:N'"


def check_device_text(device) -> str | None:
    """`device` as given, refused (ValueError naming what is accepted) unless it is None, "auto",
    "cpu", "cpu:N" (torch's name of the CPU too), "cuda" or "cuda:N"; no torch needed (the motion backbone and `watch` check it before
    any model: "banana" was taken with a warning, or in silence)."""
    import re

    if device is None:
        return None
    text = str(device).strip()
    if not re.fullmatch(r"auto|cpu(:\d+)?|cuda(:\d+)?", text):
        raise ValueError(f"device {text!r} not understood; use {ACCEPTED}")
    return text


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """The torch.device for a device setting (see the module docstring); "cuda" is cuda:0."""
    text = "auto" if device is None else str(device).strip()
    if text == "auto":
        return torch.device("cuda", 0) if torch.cuda.is_available() else torch.device("cpu")
    try:
        dev = torch.device(text)
    except RuntimeError:
        raise ValueError(f"device {text!r} not understood; use {ACCEPTED}") from None
    if dev.type == "cpu":
        return torch.device("cpu")
    if dev.type != "cuda":
        raise ValueError(f"device {text!r}: only 'cpu' and 'cuda[:N]' are supported (or 'auto')")
    if not torch.cuda.is_available():
        raise ValueError(
            f"device {text!r} requested, but CUDA is not available to torch {torch.__version__} "
            "(CPU-only build or no visible GPU); use 'cpu' (--device cpu) or 'auto'"
        )
    index = 0 if dev.index is None else dev.index
    if index >= torch.cuda.device_count():
        raise ValueError(f"device {text!r}: only {torch.cuda.device_count()} CUDA device(s) visible")
    return torch.device("cuda", index)
