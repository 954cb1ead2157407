"""The `--ray [ADDRESS]` options of `videoad extract` and `videoad detect`, and their calls.

Kept apart from the commands so that each command gains a decorator and one branch; Ray itself
is imported only when `--ray` is given (and its absence is a usage error naming the extra).
"""
from __future__ import annotations

import sys
from typing import Any, Callable

import click

from .settings import FiniteFloat

_ADDRESS_HELP = ("Run on a Ray cluster (pip install 'videoad[ray]'): at ADDRESS (host:port, "
                 "ray://host:port, auto), else $RAY_ADDRESS, else the cluster `ray start` "
                 "left on this machine, else a new local one. Write --ray=ADDRESS or put "
                 "--ray after the other arguments.")


def _parse_address(_ctx, _param, value: str | None) -> str | None:
    """None: no Ray. "": Ray's own lookup. Anything else must look like an address, so that
    `--ray videos/` (click takes the next word as the value) is caught rather than dialled."""
    if value is None:
        return None
    if value and value not in ("auto", "local") and ":" not in value:
        raise click.BadParameter(f"{value!r} is not a Ray address (host:port, ray://host:port, "
                                 "auto); write --ray=ADDRESS, or put --ray after INPUT")
    host_port = value.split("://", 1)[-1]  # ray://host takes Ray's default port
    port = host_port.rpartition(":")[2]
    if ":" in host_port and not port.isdigit():  # Ray said it only once the run had begun, exit status 1
        raise click.BadParameter(f"{value!r}: the port {port!r} is not a number (host:port, ray://host:port)")
    from extract.ray_runner import RayUnavailable, import_ray

    try:
        import_ray()
    except RayUnavailable as exc:
        raise click.BadParameter(str(exc)) from None
    return value


def _common(command: Callable, gpu_help: str, cpu_help: str) -> Callable:
    command = click.option("--ray-gpus", type=FiniteFloat(min=0), default=None,
                           metavar="G", help=gpu_help)(command)
    command = click.option("--ray-cpus", type=FiniteFloat(min=0, min_open=True),
                           default=None, metavar="C",
                           help=cpu_help)(command)
    return click.option("--ray", "ray_address", is_flag=False, flag_value="", default=None,
                        metavar="[ADDRESS]", callback=_parse_address, help=_ADDRESS_HELP)(command)


def extract_options(command: Callable) -> Callable:
    command = click.option("--ray-workers", type=click.IntRange(min=1), default=None,
                           metavar="N", help="Ray actors [default: as many as the cluster's "
                           "CPUs, or GPUs, hold].")(command)
    return _common(command, "GPUs per Ray actor [default: 1 with --device cuda, else 0]; "
                            "0.5 puts two actors on each GPU.",
                   "CPUs per Ray actor, also its torch threads [default: 1].")


def detect_options(command: Callable) -> Callable:
    return _common(command, "GPUs per group fit on Ray [default: 0].",
                   "CPUs per group fit on Ray [default: the config's threads_per_job].")


def _without_ray(given: dict[str, Any]) -> None:
    """--ray-workers/--ray-cpus/--ray-gpus mean nothing without --ray: refused, not ignored."""
    named = [f"--{name.replace('_', '-')}" for name, value in given.items() if value is not None]
    if named:
        raise click.UsageError(f"{', '.join(named)} without --ray: give --ray (or leave them out)")


def pop_extract_settings(flags: dict[str, Any]) -> dict[str, Any]:
    """Take the Ray options out of `extract`'s **flags (address None: no Ray)."""
    settings = {name: flags.pop(name, None) for name in ("ray_address", "ray_workers", "ray_cpus", "ray_gpus")}
    if settings["ray_address"] is None:
        _without_ray({k: v for k, v in settings.items() if k != "ray_address"})
    return settings


def extract_on_ray(input_path: str, output: str, backbone: str, kwargs: dict[str, Any],
                   options, ray: dict[str, Any], progress=None):
    """`extract_videos` on Ray; the actors build `backbone` from its name and arguments (`progress`:
    a bar to advance, as there)."""
    from extract.ray_runner import BackboneSpec, RayOptions
    from extract.ray_runner import extract_on_ray as run

    settings = RayOptions(address=ray["ray_address"] or None, workers=ray["ray_workers"],
                          cpus_per_worker=ray["ray_cpus"] or 1.0, gpus_per_worker=ray["ray_gpus"])
    try:
        return run(input_path, output, BackboneSpec(backbone, dict(kwargs)), options, settings, progress=progress)
    except RuntimeError as exc:  # an actor could not build the backbone, or kept dying
        raise click.ClickException(str(exc)) from None


def detect_executor(ray_address: str | None, ray_cpus: float | None, ray_gpus: float | None,
                    threads_per_job: int):
    """The executor for `video.detect` / `video.score`: Ray's with --ray; without it the local one
    with the groups fitted shown (a fit of minutes said nothing): a bar on a terminal, a line now
    and then in a log (`extract.progress.console_bar`)."""
    if ray_address is None:
        _without_ray({"ray_cpus": ray_cpus, "ray_gpus": ray_gpus})
        from videoad.video.run import run_with_bar

        return run_with_bar
    from videoad.ray_detect import RayTasks

    # a bar only where someone watches, as extract's: redirected to a log it was one \r-joined line per fit
    return RayTasks(cpus=ray_cpus or float(threads_per_job), gpus=ray_gpus or 0.0,
                    address=ray_address or None, progress=sys.stderr.isatty())
