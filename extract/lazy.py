"""A module imported on first use: `torch = lazy_import("torch")`.

Decode workers are spawned processes that unpickle the backbone to prepare clips; they never run
a network. The torch backbones' modules name torch at the top, so without this each worker
imported torch before decoding a frame (2.1-2.3 s each on this project's 2-core machine, and its
teardown at exit: benchmarks/bench_worker_start.py).

The stand-in is not put in `sys.modules`: the first attribute read runs a real `import` (under
Python's import lock, so threads that get there together import once), and every read is
forwarded to the module in `sys.modules`. importlib's `LazyLoader` would swap the module in place,
but its first access is not thread-safe before Python 3.13.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType
from typing import Any


class _LazyModule(ModuleType):
    def __getattr__(self, attr: str) -> Any:  # only reached for what the stand-in lacks
        name = self.__name__
        module = sys.modules.get(name) or importlib.import_module(name)
        return getattr(module, attr)


def lazy_import(name: str) -> ModuleType:
    """A stand-in for module `name` that imports it when an attribute is first read; the module
    itself where it is already imported. A missing module fails here, not at first use."""
    if name in sys.modules:
        return sys.modules[name]
    if importlib.util.find_spec(name) is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    return _LazyModule(name)


def is_loaded(name: str) -> bool:
    """Whether module `name` has been imported (a stand-in does not count)."""
    return name in sys.modules
