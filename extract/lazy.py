"""A module imported on first use: `torch = lazy_import("torch")`.

Decode workers are spawned processes that unpickle the backbone to prepare clips; they never run
a network. The torch backbones' modules name torch at the top, so without this each worker
imported torch before decoding a frame (2.5 s each on this project's 2-core machine:
benchmarks/bench_worker_start.py). The stdlib's `importlib.util.LazyLoader` defers running the
module until an attribute is read; where the module is already imported, that module is returned.
"""
from __future__ import annotations

import importlib.util
import sys
import threading
from types import ModuleType

_LOCK = threading.Lock()


def lazy_import(name: str) -> ModuleType:
    """`name` as a module object whose import runs on its first attribute access."""
    with _LOCK:
        if name in sys.modules:
            return sys.modules[name]
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        loader = importlib.util.LazyLoader(spec.loader)
        spec.loader = loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        loader.exec_module(module)
        return module


def is_loaded(name: str) -> bool:
    """Whether `name` has really been imported, not only named by `lazy_import` (a lazy module
    becomes a plain module when its import runs)."""
    return type(sys.modules.get(name)) is ModuleType
