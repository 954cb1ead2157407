"""Spawned processes that leave Ctrl-C to the main process (`spawn_context`, `process_pool`).

A Ctrl-C in a terminal is a SIGINT to its whole process group: to the main process, which answers
it with one line (`videoad.cli`), and to every worker it spawned, where it was a traceback of
whatever the worker was doing (importing, waiting for a task) beside that line. Every process the
project spawns (extract's decode workers, the report's drawing pools, DUAD's restart attempts)
starts from `spawn_context`, with SIGINT ignored from its first instruction; the main process
stops them.
"""
from __future__ import annotations

import contextlib
import signal
import threading
from multiprocessing.context import SpawnContext, SpawnProcess
from typing import Callable, Iterator


@contextlib.contextmanager
def _interrupts_ignored() -> Iterator[None]:
    """SIGINT ignored meanwhile in this process, which a process started meanwhile inherits (Python
    keeps an ignored SIGINT ignored). A Ctrl-C in that instant is not seen: pressed again, it is."""
    if threading.current_thread() is not threading.main_thread():  # no handler to set from there
        yield
        return
    handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, handler)


class _DeafProcess(SpawnProcess):
    def start(self) -> None:
        with _interrupts_ignored():
            super().start()


class _DeafContext(SpawnContext):
    Process = _DeafProcess


def spawn_context() -> SpawnContext:
    """multiprocessing's "spawn" context (no inherited locks, threads or device contexts) whose
    processes start deaf to Ctrl-C: a SIGINT reaching one still importing printed its traceback."""
    return _DeafContext()


@contextlib.contextmanager
def process_pool(workers: int, initializer: Callable | None = None, initargs: tuple = ()) -> Iterator:
    """A `ProcessPoolExecutor` of `spawn_context` processes. On Ctrl-C (KeyboardInterrupt in the block)
    its processes are ended at once: deaf to it, they went on with every task handed to them, and
    leaving the block waited for those (a chunk of timelines or event clips each, seconds to minutes)."""
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(workers, mp_context=spawn_context(), initializer=initializer, initargs=initargs)
    stopped = False
    try:
        yield pool
    except KeyboardInterrupt:
        stopped = True
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.terminate()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=stopped)
