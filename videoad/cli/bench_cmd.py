"""`videoad bench ...`: the paper's benchmarks, each a subcommand living in `videoad.bench`."""
from __future__ import annotations

import importlib

import click

# (module, attribute) of each benchmark subcommand
_BENCH_COMMANDS = [
    ("videoad.bench.kddcup", "kddcup_cmd"),
    ("videoad.bench.images", "images_cmd"),
    ("videoad.bench.scale", "scale_cmd"),
]


@click.group()
def bench() -> None:
    """Reproduce the paper's benchmarks with the baselines run beside ours."""


for _module, _attr in _BENCH_COMMANDS:
    try:
        _cmd = getattr(importlib.import_module(_module), _attr)
    except ModuleNotFoundError as exc:
        if exc.name != _module:
            raise
        continue
    bench.add_command(_cmd)
