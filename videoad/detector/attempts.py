"""DUAD's restart attempts in other processes, beside the first (`attempt_processes`).

Each attempt of a fit with `restarts` is seeded on its own (seed + 1000 k) and never reads
another's result, yet they ran one after the other on one core: the video defaults fit twice on
every group (cell rows never settle), and a single group (one camera, `--pooled`) left a second
core idle for the whole fit. Under `attempt_processes(n)` a fit starts its later attempts in up
to n - 1 spawned processes as it begins its first; an attempt the rule does not need (the first
settled) is stopped unread. Each process runs its attempt with this process's torch and BLAS
thread counts, so the result is bit for bit that of the attempts in turn (tests check it); an
attempt whose process fails is fitted here instead, as before.

Only for CPU fits on a numpy array of at most `MAX_BYTES` (a copy goes to each process); a
DataFrame, a GPU, or a larger array fit in turn. Off unless asked (the commands ask): a spawned
process imports the caller's main module, so a script calling it needs the
`if __name__ == "__main__":` guard that multiprocessing asks of every script.
"""
from __future__ import annotations

import contextlib
import logging
import os
import pickle
import traceback
from typing import Iterator

import numpy as np

from extract.spawning import spawn_context

log = logging.getLogger(__name__)

#: the largest input sent to an attempt's process (its copy costs memory and the time to send it)
MAX_BYTES = 256 * 2**20
#: the fewest rows for which `when_worth_it` starts processes: a process takes seconds to start
#: (torch and scikit-learn imported anew), about what an attempt on fewer rows takes
#: (benchmarks/bench_attempts.py)
WORTH_ROWS = 8192

_processes: int | None = None  # None: not asked; `when_worth_it` may decide
_worth_it = False


@contextlib.contextmanager
def attempt_processes(n: int) -> Iterator[None]:
    """Within the block, DUAD fits with restarts run up to `n` attempts at once (1: in turn)."""
    global _processes
    if not (isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1):
        raise ValueError(f"attempt processes must be a whole number >= 1, got {n!r}")
    before, _processes = _processes, int(n)
    try:
        yield
    finally:
        _processes = before


@contextlib.contextmanager
def when_worth_it() -> Iterator[None]:
    """Within the block, fits of at least `WORTH_ROWS` rows run two attempts at once where this
    process may use two cores, unless `attempt_processes` said otherwise (the commands' default
    where groups are fitted one at a time)."""
    global _worth_it
    before, _worth_it = _worth_it, True
    try:
        yield
    finally:
        _worth_it = before


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _videoad_main() -> bool:
    """Whether this process is a `videoad` command: a spawned process imports the main module
    again, which a user's script may not guard (it would run again there), the commands do."""
    import sys

    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and (spec.name or "").split(".")[0] == "videoad":
        return True
    return os.path.basename(getattr(main, "__file__", "") or "") == "videoad"  # the console script


def processes_for(det, X) -> int:
    """How many attempts of `det`'s fit on `X` run at once here (1: in turn)."""
    asked = _processes
    if asked is None:
        worth = (_worth_it and isinstance(X, np.ndarray) and X.shape[0] >= WORTH_ROWS and _cores() >= 2
                 and _videoad_main())
        asked = 2 if worth else 1
    if asked <= 1 or int(det.restarts) < 1 or not isinstance(X, np.ndarray) or X.nbytes > MAX_BYTES:
        return 1
    if str(det.device) not in ("cpu", "auto") or (str(det.device) == "auto" and _cuda()):
        return 1
    return min(asked, int(det.restarts) + 1)


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _limits() -> tuple[int, dict[str, int]]:
    """This process's torch threads and its BLAS / OpenMP pools' thread counts."""
    import torch
    from threadpoolctl import threadpool_info

    pools: dict[str, int] = {}
    for pool in threadpool_info():
        api = pool["user_api"]
        pools[api] = min(pools.get(api, pool["num_threads"]), pool["num_threads"])
    return torch.get_num_threads(), pools


def _die_with(parent: int) -> None:
    """End this process when `parent` ends: a scheduler's SIGKILL or a SIGTERM to the command alone
    runs no `finally` there, and the attempt went on for minutes, orphaned (found in review)."""
    import signal
    import threading
    import time

    try:  # Linux: the kernel sends the signal as the parent exits
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - no prctl here (not Linux): the watch below does it
        pass

    def watch() -> None:  # elsewhere (and if the parent ended before the call above): its id changes
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="videoad-attempt-parent").start()


def _child(conn, cls, params: dict, X: np.ndarray, seed: int, limits, parent: int | None = None) -> None:
    """Fit one attempt of a `cls` (DUAD) fit, as its `fit` runs each, at `seed`, and send the fitted
    detector back. The class comes pickled by name, so this module imports nothing of DUAD's."""
    if parent is not None:
        _die_with(parent)
    try:
        import torch
        from threadpoolctl import threadpool_limits

        torch_threads, pools = limits
        torch.set_num_threads(torch_threads)
        with threadpool_limits(limits=pools or None):
            det = cls(**{**params, "random_state": seed})
            super(cls, det).fit(X)  # one attempt, as DUAD.fit runs each (its own loop of attempts not run)
        # plain pickle, tensors by value: a Connection's pickler shares torch tensors through
        # descriptors this process hands out, gone once it exits
        conn.send_bytes(pickle.dumps(("ok", det), protocol=pickle.HIGHEST_PROTOCOL))
    except BaseException:  # noqa: BLE001 - said to the parent, which fits the attempt itself
        conn.send_bytes(pickle.dumps(("error", traceback.format_exc(limit=4))))
    finally:
        conn.close()


class Attempts:
    """The later attempts of one fit, started at once in their own processes."""

    def __init__(self, det, X: np.ndarray, seeds: dict[int, int], processes: int):
        params = det.get_params(deep=False)
        limits = _limits()
        log.info("fitting restart attempt(s) %s in their own process(es) beside the first (%d rows)",
                 sorted(seeds)[:processes - 1], X.shape[0])
        ctx = spawn_context()  # Ctrl-C is this process's to answer: it stops them (`stop`)
        self._running: dict[int, tuple] = {}
        for k in sorted(seeds)[:processes - 1]:
            here, there = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_child, args=(there, type(det), params, X, seeds[k], limits, os.getpid()),
                               daemon=True, name=f"videoad-attempt-{k}")
            proc.start()
            there.close()
            self._running[k] = (proc, here)

    def result(self, k: int):
        """Attempt k's fitted detector, or None when it did not run here or its process failed
        (the caller then fits it itself)."""
        if k not in self._running:
            return None
        proc, conn = self._running.pop(k)
        status, value = "error", None
        try:
            # a process that died before it took its end of the pipe leaves no end-of-file to read
            while not conn.poll(0.5):
                if not proc.is_alive() and not conn.poll(0.5):
                    value = f"its process ended without a result (exit code {proc.exitcode})"
                    break
            else:
                status, value = pickle.loads(conn.recv_bytes())
        except (EOFError, OSError, pickle.UnpicklingError) as exc:
            value = f"its process ended without a result ({exc!r}, exit code {proc.exitcode})"
        finally:
            conn.close()
            proc.join(timeout=30)
        if status == "ok":
            return value
        log.warning("restart attempt %d failed in its own process; fitting it here instead: %s", k, value)
        return None

    def stop(self) -> None:
        """Stop the attempts not read (the rule did not need them)."""
        for proc, conn in self._running.values():
            proc.terminate()
            conn.close()
        for proc, _ in self._running.values():
            proc.join(timeout=30)
        self._running.clear()
