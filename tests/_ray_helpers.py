"""Backbones and tasks that kill their own Ray worker process, for the Ray fault tests.

They live in an importable module (the tests put this folder on the workers' PYTHONPATH), so
that Ray and the decode processes unpickle them by reference.
"""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from extract.backbones.motion import MotionBackbone

SMALL = {"size": "64x48", "grid": 2}


def _claim(marker: Path) -> bool:
    """True for exactly one caller across processes: the one that creates `marker`."""
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return False
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    return True


class _Killing(MotionBackbone):
    """The small motion backbone whose process SIGKILLs itself at its `at`-th forward batch:
    the first process to get there (`once`), or every process (`once` False)."""

    def __init__(self, marker: str, at: int, once: bool) -> None:
        super().__init__(**SMALL)
        self.marker, self.at, self.once, self.calls = Path(marker), at, once, 0

    def forward_batch(self, batch):
        self.calls += 1
        if self.calls == self.at and (_claim(self.marker) if self.once else True):
            os.kill(os.getpid(), signal.SIGKILL)
        return super().forward_batch(batch)


class KillingFactory:
    """`make_backbone` for `extract_on_ray` that builds a `_Killing` backbone on each actor."""

    def __init__(self, marker: Path, at: int = 2, once: bool = True) -> None:
        self.marker, self.at, self.once = str(marker), at, once

    def __call__(self) -> _Killing:
        return _Killing(self.marker, self.at, self.once)


def die_once(marker: str, value: int) -> int:
    """A task for `RayTasks` that kills its worker process the first time it runs."""
    if _claim(Path(marker)):
        os.kill(os.getpid(), signal.SIGKILL)
    return value * 2


def die_always(value: int) -> int:
    """A task for `RayTasks` that kills its worker process every time it runs (a fit killed for memory)."""
    os.kill(os.getpid(), signal.SIGKILL)
    return value


class Holder:
    """An actor that only holds the resources it was given (another job's on a busy cluster)."""

    def ready(self) -> bool:
        return True


class FullDiskFactory:
    """`make_backbone` for `extract_on_ray` whose actor's store is full: every feature file it
    writes fails with "no space left" (as a full disk), checked through the run's own writer."""

    def __call__(self) -> MotionBackbone:
        import errno

        import extract.run as run

        def full(root, key, *args, **kwargs):
            from extract.store import output_error

            raise output_error(Path(root), OSError(errno.ENOSPC, "No space left on device"))

        run.write_video = full  # this actor process only
        return MotionBackbone(**SMALL)


class DiesInWorkersFactory:
    """`make_backbone` whose backbone no decode worker can rebuild (each dies as it starts)."""

    def __call__(self):
        from _extract_media import DiesInWorker

        return DiesInWorker(**SMALL)


class BlindNodeFactory:
    """`make_backbone` for `extract_on_ray` whose actor stands on a node that does not see the paths
    under `hidden` (no shared filesystem there, or one mounted elsewhere): `os.path.exists` says so."""

    def __init__(self, hidden: Path) -> None:
        self.hidden = str(hidden)

    def __call__(self) -> MotionBackbone:
        seen, hidden = os.path.exists, self.hidden
        os.path.exists = lambda p: False if os.fspath(p).startswith(hidden) else seen(p)  # this actor process only
        return MotionBackbone(**SMALL)


class _OptionsFail(MotionBackbone):
    def options(self):
        raise KeyError("boom")


class RaisingFactory:
    """`make_backbone` whose backbone raises from inside the actor's run (a bug: outside the local
    runner's own catches), as the actor writes a video's features."""

    def __call__(self) -> MotionBackbone:
        return _OptionsFail(**SMALL)


class _Stalling(MotionBackbone):
    """The small motion backbone whose process, the first to claim `marker`, stalls at its first forward
    batch (a video that never finishes) while the others work."""

    def __init__(self, marker: str) -> None:
        super().__init__(**SMALL)
        self.marker = Path(marker)

    def forward_batch(self, batch):
        if _claim(self.marker):
            time.sleep(600)  # stopped with its actor when the driver stops
        return super().forward_batch(batch)


class StallingFactory:
    """`make_backbone` for `extract_on_ray` that builds a `_Stalling` backbone on each actor."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __call__(self) -> _Stalling:
        return _Stalling(self.marker)
