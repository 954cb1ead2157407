"""`videoad detect --ray`: the per-group fits as Ray tasks instead of local processes.

`RayTasks` is an executor for `video.detect` / `video.score`: it takes the same (function,
args) tasks that the local `videoad.video.run._run` gets and returns their results in task order, so the
grouping, seeding and score assembly stay `video`'s and a group's scores do not depend on
where it was fitted. Each task asks Ray for `cpus` CPUs (the fit's torch threads) and `gpus`
GPUs (0 by default: the DUAD autoencoders of clip features are small).

A task whose worker process or node dies is run again by Ray (`max_retries`); one whose worker dies
on every try stops the run (`RayWorkerLost`, naming the task and its group). Its result is taken
once, and a retried fit rewrites the same model files. An exception raised by a fit is not retried:
it stops the run, as it does locally. Tasks run in the driver's working folder, so relative store
paths mean the same on every node (the shared-filesystem assumption).
"""
from __future__ import annotations

import os
from typing import Any, Callable, Sequence

from extract.ray_runner import (RayClusterLost, RayConnectionError, check_fits, cluster_gone, connect, import_ray,
                                ray_session, task_error)


class RayWorkerLost(RayConnectionError):
    """A fit whose Ray worker died on every try (killed for memory, its node lost): a RayConnectionError,
    so that the commands say it in one line as they say a lost cluster, not with Ray's traceback."""


def _lost_words(exc: BaseException, index: int, n: int, args: tuple, tries: int) -> str:
    """What to say of task `index` (0-based) of `n` whose worker died `tries` times. The group's name is
    the last argument of `video`'s per-group tasks."""
    which = f"task {index + 1} of {n}" + (f", group {args[-1]!r}" if args and isinstance(args[-1], str) else "")
    first = (str(exc).strip().splitlines() or [""])[0]
    return (f"a fit on Ray ({which}) lost its worker {tries} times ({type(exc).__name__}: {first}); out of "
            "memory is the usual cause (more --ray-cpus runs fewer fits at once on a node, each with more memory), "
            "else a node lost: no scores were written; rerun the same command")


#: seconds between checks that the cluster still answers while fits run
CHECK_EVERY_S = 5.0

__all__ = ["RayTasks", "RayWorkerLost", "ray_session"]


def _in_folder(folder: str, fn: Callable, *args: Any) -> Any:
    if os.path.isdir(folder):
        os.chdir(folder)
    return fn(*args)


class RayTasks:
    """Executor `(tasks, n_jobs) -> results` on a Ray cluster.

    Uses this process's Ray connection, or makes one on the first call to `address` (see
    `extract.ray_runner.ray_session`; `init_kwargs` go to `ray.init`) and keeps it for later
    calls (`detect --fit-on` fits, then scores); Ray closes it when the process exits.
    `n_jobs` is ignored: the cluster's free CPUs (GPUs) decide how many fits run at once.
    """

    def __init__(self, cpus: float = 1.0, gpus: float = 0.0, max_retries: int = 3,
                 progress: bool = True, address: str | None = None, **init_kwargs: Any) -> None:
        self.cpus, self.gpus, self.max_retries, self.progress = cpus, gpus, max_retries, progress
        self.address, self.init_kwargs = address, init_kwargs

    def __call__(self, tasks: Sequence[tuple[Callable, tuple]], n_jobs: int = 1) -> list:
        if not tasks:
            return []
        from extract.progress import console_bar

        ray = import_ray()
        if not ray.is_initialized():
            connect(ray, self.address, **self.init_kwargs)
        check_fits(ray, self.cpus, self.gpus, "fit (--ray-cpus: the config's threads_per_job by default)")
        remote = ray.remote(_in_folder).options(num_cpus=self.cpus, num_gpus=self.gpus,
                                                max_retries=self.max_retries,
                                                retry_exceptions=False)
        here = os.getcwd()
        refs = [remote.remote(here, fn, *args) for fn, args in tasks]
        pending = list(refs)
        # a bar on a terminal, a line now and then in a log (as the local executor's, `run_with_bar`):
        # tqdm's alone said nothing in a log until the summary
        with console_bar(quiet=not self.progress, total=len(refs), unit="group", desc="detect",
                         dynamic_ncols=True) as bar:
            try:
                while pending:
                    done, pending = ray.wait(pending, num_returns=1, timeout=CHECK_EVERY_S)
                    if not done:  # a cluster that went away answers no wait: Ray ends the process later
                        gone = cluster_gone(ray)
                        if gone:
                            pending = []
                            raise RayClusterLost(f"the Ray cluster stopped answering during the run ({gone}): "
                                                 "no scores were written; start the cluster again and rerun "
                                                 "the same command")
                        continue
                    try:
                        ray.get(done)  # a failed fit stops the run now, not at the end
                    except ray.exceptions.RayTaskError as exc:  # as a local fit raises it
                        raise task_error(exc) from None
                    except ray.exceptions.RayError as exc:  # its worker died on each of its tries
                        index = refs.index(done[0])
                        raise RayWorkerLost(_lost_words(exc, index, len(refs), tasks[index][1],
                                                        self.max_retries + 1)) from None
                    bar.update(len(done))
            except BaseException:
                for ref in pending:
                    ray.cancel(ref, force=True)
                raise
        return ray.get(refs)
