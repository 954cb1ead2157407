"""The paper's detector core: DUAD and its pluggable initial clusterers; `registry`, the one
table of detectors. Names resolve on first use, so importing the package imports no model."""
from __future__ import annotations

__all__ = ["DUAD", "load_detector", "save_detector"]


def __getattr__(name: str):
    if name == "DUAD":
        from videoad.detector.duad import DUAD

        return DUAD
    if name in ("load_detector", "save_detector"):
        from videoad.detector import persistence

        return getattr(persistence, name)
    raise AttributeError(f"module 'videoad.detector' has no attribute {name!r}")
