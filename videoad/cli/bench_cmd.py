"""`videoad bench ...`: the paper's benchmarks, each a subcommand living in `videoad.bench`.

The benchmark modules import scikit-learn's metrics (over a second), so they are imported when
their subcommand is asked for, not when `videoad` starts: every `videoad` command, and every
decode worker that `videoad extract` spawns (a spawned process imports the `videoad` script
again), would pay for them otherwise.
"""
from __future__ import annotations

import importlib

import click

# subcommand name -> (module, attribute)
_BENCH_COMMANDS = {
    "kddcup": ("videoad.bench.kddcup", "kddcup_cmd"),
    "images": ("videoad.bench.images", "images_cmd"),
    "scale": ("videoad.bench.scale", "scale_cmd"),
}


class _LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_BENCH_COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in _BENCH_COMMANDS:
            return None
        module, attr = _BENCH_COMMANDS[name]
        command = getattr(importlib.import_module(module), attr)
        if not isinstance(command, click.Command):
            raise RuntimeError(f"videoad bench: {module} has no click command {attr!r}")
        return command


@click.group(cls=_LazyGroup)
def bench() -> None:
    """Reproduce the paper's benchmarks with the baselines run beside ours."""
