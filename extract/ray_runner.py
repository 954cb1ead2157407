"""Extraction on a Ray cluster: the local per-video unit of work, spread over actors.

    driver  `extract_on_ray` = `extract_videos` itself (listing, shards, resume, manifest,
            progress bar) with `RayRunner` in place of the local `_Runner`: it hands out one
            video at a time and records each result as it comes back.
    actors  `ExtractWorker`, one per CPU slot (or GPU share): builds the backbone once, then
            extracts one video per call with a local `_Runner` (its own decode process, the
            same clip, batch and write code), writing `<key>.h5` atomically to the output.

Assumptions: every node sees the input and the output folders at the same absolute paths (a
shared filesystem) and runs the same Python environment with videoad installed. Actors check
that they built the same backbone (weights checksum included) as the first one.

A video whose actor dies (killed, out of memory, node lost) goes to a fresh actor, up to
`max_attempts` times, then is recorded as failed. Files appear by atomic rename and the
manifest is keyed by video, so a retried video ends with one file and one manifest entry.
Ray is imported only here and only when called: `pip install 'videoad[ray]'`.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from .backbones.base import Backbone
from .run import (_IMAGE_WEIGHT, ExtractOptions, RunSummary, VideoResult, WorkerStartError, _Job, _Progress,
                  _Runner, _remove_stale_temporaries, extract_videos)
from .sources import absolute_path
from .store import OutputError

log = logging.getLogger(__name__)

RAY_HINT = "this needs Ray, which is not installed: pip install 'videoad[ray]'"


class RayUnavailable(ImportError):
    """`--ray` was asked for but Ray cannot be imported."""


def import_ray():
    try:
        import ray
    except ImportError as exc:
        raise RayUnavailable(f"{RAY_HINT} ({exc})") from exc
    return ray


class RayConnectionError(RuntimeError):
    """No Ray cluster at the address given, or none that can hold one actor's (task's) resources."""


#: seconds between the driver's warnings while the cluster cannot place an actor yet (a busy cluster:
#: Ray itself says so in its autoscaler's log only)
WAIT_WARNING_S = 120.0

#: seconds a cluster's address is given to answer before `connect` says no cluster is there (Ray's
#: own retries took about 12 minutes for an address nothing listens on)
CONNECT_TIMEOUT_S = 10.0


def _host_port(address: str) -> tuple[str, int]:
    """(host, port) of "host:port", "[v6]:port" (Ray's own form of an IPv6 address) or "v6:port";
    a ValueError where the port is not a number."""
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def _ray_temp_dir() -> str:
    """Where Ray keeps its sessions and the record of the latest `ray start` on this machine."""
    try:
        from ray._common.utils import get_ray_address_file  # where this Ray keeps it

        return os.path.dirname(get_ray_address_file(None))
    except Exception:  # noqa: BLE001 - another Ray's layout: the place Ray has used since 1.x
        base = os.environ.get("RAY_TMPDIR") or (os.environ.get("TMPDIR") if sys.platform.startswith("linux") else
                                                None) or "/tmp"
        return os.path.join(base, "ray")


def _own_sessions(temp_dir: str | None) -> set[str]:
    """The session folders named for this process: a local cluster `ray.init` starts is one."""
    root = Path(temp_dir or _ray_temp_dir())
    return {str(p) for p in root.glob(f"session_*_{os.getpid()}") if p.is_dir()}


def _stop_half_started(sessions: set[str]) -> list[int]:
    """Kill the processes that log into `sessions` (Linux: their open files under /proc), and
    return their ids. A Ctrl-C during `ray.init`'s start of a local cluster left its dashboard and
    runtime-env agents running, their raylet gone, for a minute or more; Ray had not yet
    recorded them for `ray.shutdown`."""
    prefixes = tuple(s.rstrip("/") + "/" for s in sessions)
    killed = []
    for entry in Path("/proc").glob("[0-9]*") if prefixes else ():
        if int(entry.name) == os.getpid():
            continue
        try:
            targets = [os.readlink(fd) for fd in (entry / "fd").iterdir()]
        except OSError:  # gone, or another user's
            continue
        if any(t.startswith(prefixes) for t in targets):
            try:
                os.kill(int(entry.name), signal.SIGKILL)
                killed.append(int(entry.name))
            except OSError:
                pass
    return killed


def recorded_cluster() -> tuple[str, str] | None:
    """(file, address) of the cluster a `ray start` on this machine recorded as its latest
    (`<RAY_TMPDIR, else TMPDIR, else /tmp>/ray/ray_current_cluster`, as Ray finds it), which `ray.init`
    joins when given no address (or "auto") and no $RAY_ADDRESS; None where there is no such record."""
    path = os.path.join(_ray_temp_dir(), "ray_current_cluster")
    try:
        with open(path, encoding="utf-8") as fh:
            address = fh.read().strip()
    except (OSError, UnicodeDecodeError):
        return None
    return (path, address) if address else None


def _unreachable(address: str | None) -> str | None:
    """Why `address` (or $RAY_ADDRESS) in host:port form cannot be reached, else None (reachable,
    or a form Ray resolves itself: auto, local, ray://, none)."""
    address = address or os.environ.get("RAY_ADDRESS")
    if not address or address in ("auto", "local") or "://" in address or ":" not in address:
        return None
    return _no_answer(address)


def _stale_record() -> str | None:
    """What to say where `ray.init` without an address would join the cluster a `ray start` here
    recorded (`recorded_cluster`) and nothing answers there, else None: a head killed or lost leaves
    its record behind, and Ray retried the dead address for minutes with its own lines only."""
    if os.environ.get("RAY_ADDRESS"):
        return None
    found = recorded_cluster()
    if found is None or "://" in found[1] or ":" not in found[1]:
        return None
    why = _no_answer(found[1])
    if why is None:
        return None
    return (f"no Ray cluster at {found[1]}, the one a `ray start` on this machine recorded ({found[0]}): {why}; "
            "start it again (`ray start --head`), or clear the record of a cluster that is gone with `ray stop`, or "
            "give --ray=local for a new local cluster")


def _no_answer(address: str) -> str | None:
    """Why nothing answers at "host:port" within CONNECT_TIMEOUT_S, else None."""
    try:
        with socket.create_connection(_host_port(address), timeout=CONNECT_TIMEOUT_S):
            return None
    except ValueError:
        return None  # not host:port after all: Ray's to say
    except OSError as exc:
        return exc.strerror or str(exc) or type(exc).__name__


def task_error(exc: BaseException) -> BaseException:
    """The exception a Ray task (or actor call) raised, out of Ray's wrapper (`RayTaskError`, whose
    text is the remote traceback in terminal colours): what a local run raises, with its one line of
    text; the remote traceback goes with it as a note. `exc` itself where it wraps nothing."""
    cause = getattr(exc, "cause", None)
    if not isinstance(cause, Exception):
        return exc
    remote = getattr(exc, "traceback_str", None)
    if remote and hasattr(cause, "add_note"):
        cause.add_note(f"raised on Ray: {remote.strip()}")
    return cause


class RayClusterLost(RayConnectionError):
    """The cluster stopped answering during a run (its head, or the whole cluster, went away)."""


def cluster_gone(ray) -> str | None:
    """Why the connected cluster's head (its GCS) cannot be reached now, else None: after a lost
    actor, told apart from a worker or a node that died. Ray itself retries for a minute, then ends
    the process with a C++ message and exit status 1, which read as "some videos failed"."""
    try:
        address = ray.get_runtime_context().gcs_address
    except Exception:  # noqa: BLE001 - not connected, or an API this Ray lacks: no verdict
        return None
    try:
        with socket.create_connection(_host_port(str(address or "")), timeout=3.0):
            return None
    except ValueError:
        return None
    except OSError as exc:
        return f"its head at {address}: {exc.strerror or exc}"


def connect(ray, address: str | None = None, **init_kwargs: Any) -> None:
    """`ray.init`, with "no cluster there" as a RayConnectionError naming the address (Ray raises a
    ConnectionError with its own traceback, after minutes of retries for an address nobody
    answers at: a host:port is tried first, within CONNECT_TIMEOUT_S)."""
    hint = "(start one with `ray start --head`, or leave the address out for a local one)"
    if address in (None, "", "auto"):  # Ray joins the cluster `ray start` recorded here, if any
        stale = _stale_record()
        if stale:
            raise RayConnectionError(stale)
    why = _unreachable(address)
    if why:
        raise RayConnectionError(f"no Ray cluster at {address or os.environ.get('RAY_ADDRESS')}: {why} {hint}")
    before = _own_sessions(init_kwargs.get("_temp_dir"))
    try:
        ray.init(address=address, **init_kwargs)
    except KeyboardInterrupt:  # Ctrl-C while a local cluster starts: stop what it had started
        _stop_half_started(_own_sessions(init_kwargs.get("_temp_dir")) - before)
        raise
    except ConnectionError as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        named = address or os.environ.get("RAY_ADDRESS") or "this machine"
        raise RayConnectionError(f"no Ray cluster at {named}: {first} {_token_hint(named) or hint}") from None
    _stop_on_sigterm()


def _stop_on_sigterm() -> None:
    """After `ray.init`, a SIGTERM (a scheduler's or service manager's stop) stops the run as Ctrl-C does:
    finished work recorded, the CLI's "interrupted" and exit status 130. Ray's own handler raised SystemExit,
    which Ray's wait turns into exit status 1, read as "some videos failed", with nothing said. A second
    SIGTERM is ignored so as not to break into the first stop's cleanup (SIGKILL is the hard stop)."""
    if threading.current_thread() is not threading.main_thread():
        return  # only the main thread may set a handler (Ray's own is not set there either)
    stopping: list[bool] = []

    def terminate(_signum, _frame):
        if not stopping:
            stopping.append(True)
            raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)


def _token_hint(address: str) -> str | None:
    """Where a token may be what failed: `ray start --head` turns token authentication on by itself
    when ~/.ray/auth_token exists (a local `--ray` run writes it), and a driver given an address
    does not send the token unless RAY_AUTH_MODE=token: "no cluster", with the cluster running."""
    if address in ("this machine", "auto") or os.environ.get("RAY_AUTH_MODE"):
        return None
    token = Path("~/.ray/auth_token").expanduser()
    if not token.is_file():
        return None
    return (f"(if a cluster runs there: {token} exists, and a cluster started with `ray start --head` on a "
            "machine that has it requires the token, which a driver given an address sends only with "
            "RAY_AUTH_MODE=token set: export RAY_AUTH_MODE=token and run again)")


def check_fits(ray, cpus: float, gpus: float, what: str) -> None:
    """A RayConnectionError when no node of the cluster has `cpus` CPUs and `gpus` GPUs: the actor
    (task) would wait for ever, Ray's autoscaler complaining in its own log only."""
    nodes = [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")]
    if not nodes or any(r.get("CPU", 0) >= cpus and r.get("GPU", 0) >= gpus for r in nodes):
        return
    best = max(nodes, key=lambda r: (r.get("GPU", 0), r.get("CPU", 0)))
    raise RayConnectionError(f"no node of the Ray cluster has the {cpus:g} CPU(s) and {gpus:g} GPU(s) one {what} "
                             f"asks for (the largest: {best.get('CPU', 0):g} CPUs, {best.get('GPU', 0):g} GPUs): "
                             "ask for less (--ray-cpus, --ray-gpus; --device cpu) or add such a node")


@contextmanager
def ray_session(address: str | None = None, **init_kwargs: Any) -> Iterator[Any]:
    """Connect to `address` (None: $RAY_ADDRESS, else a cluster `ray start` left on this
    machine, else a new local one) unless this process is connected already; disconnect after, and put
    back the SIGTERM handler that `ray.init` and `connect` replace."""
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    previous = signal.getsignal(signal.SIGTERM)  # `ray.init` and `connect` replace it
    try:
        connect(ray, address, **init_kwargs)
        try:
            yield ray
        finally:
            ray.shutdown()
    finally:
        if previous is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, previous)


@dataclass(frozen=True)
class BackboneSpec:
    """A registered backbone by name and arguments: picklable, built on the actor that runs it."""

    name: str
    kwargs: dict = field(default_factory=dict)

    @property
    def device(self) -> str:
        return str(self.kwargs.get("device") or "cpu")

    def __call__(self) -> Backbone:
        from .backbones import get_backbone

        kwargs = dict(self.kwargs)
        if self.device.startswith("cuda") and _ray_gpu_ids():
            kwargs["device"] = "cuda"  # Ray shows an actor only its own GPU, as cuda:0
        return get_backbone(self.name, **kwargs)


def _ray_gpu_ids() -> list:
    try:
        import ray
    except ImportError:
        return []
    return list(ray.get_gpu_ids()) if ray.is_initialized() else []


@dataclass
class RayOptions:
    address: str | None = None        # see `ray_session`
    workers: int | None = None        # actors; None: as many as the cluster's CPUs (GPUs) hold
    cpus_per_worker: float = 1.0      # also the torch threads of a torch backbone
    gpus_per_worker: float | None = None  # None: 1 when the backbone's device is CUDA, else 0
    max_attempts: int = 3             # a video whose actor dies this many times fails


class NotShared(RuntimeError):
    """A Ray node does not see the store, or a video, at the path the driver does: no shared
    filesystem there (or one mounted elsewhere). Every video sent to that node would fail, or be
    written to the node's own disk and recorded as done."""

    def __init__(self, what: str, path: str, host: str) -> None:
        super().__init__(what, path, host)
        self.what, self.path, self.host = what, path, host

    def __str__(self) -> str:
        return (f"the Ray node {self.host} does not see the {self.what} {self.path}, which the driver does: every "
                "node must see the input and output folders at the same paths (a shared filesystem, mounted alike "
                "on each); mount it there or leave that node out of the cluster, then rerun the same command (the "
                "videos finished are kept)")


class _Discard:
    """The actor's manifest: the driver owns the real one."""

    def record(self, key: str, entry: dict) -> None:
        pass


class ExtractWorker:
    """The Ray actor: one backbone, one local runner, one video per `extract` call."""

    def __init__(self, make_backbone: Callable[[], Backbone], options: ExtractOptions,
                 output: str, expected: dict | None = None, threads: int = 1) -> None:
        from tqdm import tqdm

        self.backbone = make_backbone()
        if "torch" in sys.modules:  # a torch backbone: its threads are the CPUs Ray gave us
            sys.modules["torch"].set_num_threads(threads)
        described = self.backbone.describe()
        if expected is not None and described != expected:
            raise ValueError(f"{socket.gethostname()} built a different backbone than the first "
                             f"actor ({described} vs {expected}): every node must see the same "
                             "weights and code")
        options = replace(options, progress=False)
        self.runner = _Runner(self.backbone, options.clip_spec(self.backbone), options,
                              Path(output), _Discard(), RunSummary(),
                              _Progress(tqdm(disable=True), options, [], RunSummary(), 0))

    def info(self) -> dict:
        return {"name": self.backbone.name, "clip_len": self.backbone.clip_len,
                "default_stride": getattr(self.backbone, "default_stride", None),
                "default_max_fps": getattr(self.backbone, "default_max_fps", None),
                "dim": self.backbone.dim, "describe": self.backbone.describe(),
                "pid": os.getpid(), "host": socket.gethostname(),
                "torch_threads": sys.modules["torch"].get_num_threads() if "torch" in sys.modules else None}

    def extract(self, job: _Job) -> tuple[VideoResult, tuple[int, str] | None]:
        """The video's result, and (errno, message) when the store cannot be written (disk full,
        read-only): the driver then stops the run, as a local run stops. `NotShared` where this
        node does not see the store or the video (the driver, which listed both, does)."""
        job.started = time.monotonic()  # the driver's clock is another host's: its seconds are no video's
        for what, path in (("output folder", self.runner.output), ("video", job.source.path)):
            if not os.path.exists(path):  # a store folder made here would hold features the driver never sees
                raise NotShared(what, str(path), socket.gethostname())
        try:
            self.runner.run([job])
        except OutputError as exc:
            return self.runner.summary.results.pop(job.source.key), (exc.errno, str(exc))
        return self.runner.summary.results.pop(job.source.key), None


class _Planned(Backbone):
    """The driver's stand-in for the actors' backbone: the clip length and description that
    planning and resume need, without weights in memory or a GPU on the driver."""

    def __init__(self, info: dict) -> None:
        self.name, self.clip_len = info["name"], info["clip_len"]
        self.default_stride = info.get("default_stride")  # the driver plans clips as the actors cut them
        self.default_max_fps = info.get("default_max_fps")
        self._dim, self._described = info["dim"], info["describe"]

    @property
    def dim(self) -> int:
        return self._dim

    def describe(self) -> dict:
        return dict(self._described)

    def preprocess(self, clip):
        raise RuntimeError("this backbone runs on the Ray actors")

    forward_batch = preprocess


class _Pool:
    """Starts the actors, and replaces the ones that die."""

    def __init__(self, ray, make_backbone, options: ExtractOptions, output: Path,
                 settings: RayOptions) -> None:
        gpus = settings.gpus_per_worker
        if gpus is None:
            gpus = 1.0 if str(getattr(make_backbone, "device", "cpu")).startswith("cuda") else 0.0
        self.ray, self.make_backbone, self.options, self.output = ray, make_backbone, options, output
        self.resources = {"CPU": settings.cpus_per_worker, "GPU": gpus}
        self.actor_class = ray.remote(ExtractWorker).options(
            num_cpus=settings.cpus_per_worker, num_gpus=gpus, max_restarts=0)
        self.size = settings.workers or _capacity(ray, settings.cpus_per_worker, gpus)
        self.threads = max(1, int(settings.cpus_per_worker))
        self.expected: dict | None = None
        self.hosts: dict[Any, str] = {}

    def start(self):
        """A new actor and the reference of its `info` (ready once the backbone is built)."""
        actor = self.actor_class.remote(self.make_backbone, self.options, str(self.output),
                                        self.expected, self.threads)
        return actor, actor.info.remote()

    def warn_waiting(self) -> None:
        log.warning("no Ray actor is ready yet (each needs %s); the cluster has %s free", self.resources,
                    self.ray.available_resources())

    def first_info(self, ref) -> dict:
        """The first actor's `info` (`start`), warned of every WAIT_WARNING_S while it waits for room."""
        while not self.ray.wait([ref], timeout=WAIT_WARNING_S)[0]:
            self.warn_waiting()
        return self.ray.get(ref)

    def kill(self, actor) -> None:
        try:
            self.ray.kill(actor, no_restart=True)
        except Exception:  # noqa: BLE001 - already gone
            pass


def _capacity(ray, cpus: float, gpus: float) -> int:
    total = ray.cluster_resources()
    fits = [total.get("CPU", 0) / cpus] if cpus > 0 else []
    if gpus > 0:
        fits.append(total.get("GPU", 0) / gpus)
    return max(1, int(min(fits)) if fits else 1)


class RayRunner(_Runner):
    """`_Runner`'s outcome bookkeeping (manifest, progress, failure rules) over Ray actors."""

    def __init__(self, *args, pool: _Pool, first, settings: RayOptions) -> None:
        super().__init__(*args)
        self.pool, self.settings = pool, settings
        self.actors = {first: None}  # actor -> its pending reference (None: idle)
        self.inflight: dict[Any, tuple[Any, _Job | None]] = {}
        self.start_losses = 0
        self.cluster_lost = False  # `cluster_gone` said so: no actor is stopped (nothing answers)

    def run(self, jobs: list[_Job]) -> None:
        queue = deque(sorted(jobs, key=lambda j: -j.fingerprint["size"]
                             * (1.0 if j.source.kind == "video" else _IMAGE_WEIGHT)))
        attempts: dict[str, list[str]] = {j.source.key: [] for j in jobs}
        waited = time.monotonic()
        while queue or self._busy():
            # as many actors as there is work for, up to the pool size: also replaces lost ones
            while queue and len(self.actors) < min(self.pool.size, len(queue) + self._busy()):
                self._start()
            for actor, ref in list(self.actors.items()):
                if ref is None and queue:
                    job = queue.popleft()
                    job.started = job.started or time.monotonic()
                    self._send(actor, actor.extract.remote(job), job)
            done, _ = self.pool.ray.wait(list(self.inflight), num_returns=1, timeout=1.0)
            if not done and time.monotonic() - waited > WAIT_WARNING_S and not self._busy():
                self.pool.warn_waiting()
                waited = time.monotonic()
            for ref in done:
                actor, job = self.inflight.pop(ref)
                self.actors[actor] = None
                try:
                    value = self.pool.ray.get(ref)
                except self.pool.ray.exceptions.RayActorError as exc:
                    self._lost(actor, job, exc, queue, attempts)
                    continue
                except Exception as exc:  # noqa: BLE001 - a bug on the actor: this video fails
                    cause = task_error(exc)  # the actor's exception, out of Ray's wrapper
                    if isinstance(cause, NotShared) and job is not None:
                        if cause.what == "video" and not job.source.path.exists():
                            self._fail(job, "no file there")  # gone for the driver too: that video's failure
                            continue
                        raise NotShared(cause.what, cause.path, cause.host) from None
                    self._retire(actor)
                    if isinstance(cause, WorkerStartError):
                        # every actor's decode workers would die alike: stop, as a local run stops
                        raise WorkerStartError(str(cause)) from None
                    if job is None:
                        raise
                    log.warning("%s: the Ray actor raised %s", job.source.key, exc)  # the remote traceback
                    self._fail(job, f"the Ray actor raised {type(cause).__name__}: {cause}")
                    continue
                if job is None:
                    self._ready(actor, value)
                    continue
                result, unwritable = value
                self._done(result, attempts[job.source.key])
                if unwritable:  # no later video could be saved: stop as a local run stops
                    raise OutputError(*unwritable)

    def _send(self, actor, ref, job: _Job | None) -> None:
        self.actors[actor] = ref
        self.inflight[ref] = (actor, job)

    def _start(self) -> None:
        actor, ref = self.pool.start()
        self._send(actor, ref, None)

    def _ready(self, actor, info: dict) -> None:
        self.pool.hosts[actor] = f"{info['host']} pid {info['pid']}"
        log.info("Ray actor ready on %s", self.pool.hosts[actor])

    def _retire(self, actor) -> None:
        self.actors.pop(actor, None)
        self.pool.kill(actor)

    def _lost(self, actor, job: _Job | None, exc: Exception, queue: deque,
              attempts: dict[str, list[str]]) -> None:
        """An actor died (the loop starts another): its video goes first in line, or fails
        when it has now taken `max_attempts` actors down with it."""
        gone = cluster_gone(self.pool.ray)
        if gone:  # not this actor alone: nothing can run, nor be stopped, on a cluster that is gone
            self.cluster_lost = True
            raise RayClusterLost(f"the Ray cluster stopped answering during the run ({gone}): the videos "
                                 "finished are kept; start the cluster again and rerun the same command")
        self._retire(actor)
        if getattr(exc, "actor_init_failed", False):
            raise RuntimeError(f"a Ray actor could not build the backbone: {exc}") from None
        where = self.pool.hosts.pop(actor, "a Ray actor")
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if job is None:
            self.start_losses += 1
            if self.start_losses > self.pool.size + self.settings.max_attempts:
                raise RuntimeError(f"Ray actors keep dying before their first video: {first_line}")
        else:
            tries = attempts[job.source.key]
            tries.append(f"worker lost on {where} ({type(exc).__name__}: {first_line})")
            log.warning("%s: %s", job.source.key, tries[-1])
            if len(tries) >= self.settings.max_attempts:
                self._fail(job, f"{len(tries)} attempts, each lost its worker: " + "; ".join(tries))
            else:
                queue.appendleft(job)

    def _busy(self) -> int:
        return sum(job is not None for _, job in self.inflight.values())

    def _done(self, result: VideoResult, lost: list[str]) -> None:
        if lost:
            result.note = "; ".join([*lost, "retried"] + ([result.note] if result.note else []))
        if result.status == "done":
            self.summary.clips += result.n_clips or 0
            self.computed += result.n_clips or 0  # the progress bar's clips/s
        self._record(result)

    def shutdown(self) -> None:
        """Stop every actor and wait until they are gone, then delete the temporary files
        that the actors that died wrote half (no writer is left to finish them)."""
        refs = list(self.inflight)
        for actor in list(self.actors) if not self.cluster_lost else []:
            self._retire(actor)
        if refs and not self.cluster_lost:
            self.pool.ray.wait(refs, num_returns=len(refs), timeout=30)
        self.inflight.clear()
        _remove_stale_temporaries(self.output, sorted(self.manifest.data.get("keys", [])))


def extract_on_ray(input_path: str | os.PathLike | Sequence[str | os.PathLike], output: str | os.PathLike,
                   make_backbone: Callable[[], Backbone], options: ExtractOptions | None = None,
                   settings: RayOptions | None = None, *, progress=None, **init_kwargs: Any) -> RunSummary:
    """`extract_videos` on a Ray cluster (`input_path`: a path or a list of them, as there);
    `make_backbone` (e.g. a `BackboneSpec`) runs on each actor. `progress`: a bar to advance, as
    `extract_videos` takes one. `init_kwargs` go to `ray.init` when this call connects."""
    options = options or ExtractOptions()
    settings = settings or RayOptions()
    if settings.max_attempts < 1:
        raise ValueError("max_attempts must be >= 1")
    output = absolute_path(output)  # as extract_videos makes it (no `..` kept)
    with ray_session(settings.address, **init_kwargs) as ray:
        pool = _Pool(ray, make_backbone, options, output, settings)
        check_fits(ray, pool.resources["CPU"], pool.resources["GPU"], "extraction actor")
        first, ref = pool.start()
        try:
            info = pool.first_info(ref)
        except ray.exceptions.RayActorError as exc:
            pool.kill(first)
            raise RuntimeError(f"the first Ray actor could not start: {exc}") from None
        pool.expected = info["describe"]
        pool.hosts[first] = f"{info['host']} pid {info['pid']}"

        def runner(*args: Any) -> RayRunner:
            return RayRunner(*args, pool=pool, first=first, settings=settings)

        try:
            return extract_videos(input_path, output, _Planned(info), options, runner=runner, progress=progress)
        finally:
            pool.kill(first)
