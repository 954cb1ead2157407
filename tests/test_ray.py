"""Extraction and detection on a local 2-CPU Ray cluster: same results as one process, no video
lost or doubled when a worker process is killed, clear errors without Ray."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import ray
from _extract_media import make_video
from _ray_helpers import (SMALL, BlindNodeFactory, DiesInWorkersFactory, FullDiskFactory, KillingFactory,
                          Holder, RaisingFactory, die_always, die_once)
from click.testing import CliRunner
from video_helpers import FAST_DUAD, small_store

from extract import ray_runner
from extract.ray_runner import BackboneSpec, RayConnectionError, RayOptions, extract_on_ray
from extract.run import ExtractOptions, extract_videos
from extract.store import FeatureStore
from videoad import video
from videoad.cli.extract_cmd import extract as extract_cmd
from videoad.cli.video_cmd import detect as detect_cmd
from videoad.ray_detect import RayTasks
from videoad.scores import read_scores

TESTS = Path(__file__).resolve().parent
SMALL_ARGS = ["--backbone-opt", "size=64x48", "--backbone-opt", "grid=2", "-q", "--recursive"]
KEYS = [f"{'cam_b' if i % 2 else 'cam_a'}/v{i}.mp4" for i in range(8)]

# one xdist worker runs the module (`--dist loadgroup`): one local cluster of 2 CPUs at a time
pytestmark = pytest.mark.xdist_group("ray")


@pytest.fixture(scope="module")
def cluster():
    """A fresh local cluster with 2 CPUs; workers find the test helpers on their PYTHONPATH."""
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "RAY_USAGE_STATS_ENABLED")}
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS), saved["PYTHONPATH"]]))
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"  # no network calls from the test cluster
    ray.init(address="local", num_cpus=2, include_dashboard=False,
             object_store_memory=128 * 2**20, logging_level="WARNING")
    yield
    ray.shutdown()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    """8 videos in two folders, 21 to 69 frames (1 to 4 clips), different motion."""
    root = tmp_path_factory.mktemp("videos")
    for i in range(8):
        cam = "cam_b" if i % 2 else "cam_a"
        make_video(root / cam / f"v{i}.mp4", 21 + 16 * (i % 4), speed=1 + i % 3)
    return root


def options(**kw) -> ExtractOptions:
    return ExtractOptions(recursive=True, progress=False, workers=1, **kw)


@pytest.fixture(scope="module")
def reference(videos, tmp_path_factory):
    """The single-process store."""
    from extract.backbones.motion import MotionBackbone

    out = tmp_path_factory.mktemp("reference")
    assert extract_videos(videos, out, MotionBackbone(**SMALL), options()).ok
    return out


def assert_same_store(got: Path, want: Path) -> None:
    a, b = FeatureStore(got), FeatureStore(want)
    assert a.keys() == b.keys() == sorted(KEYS)
    for key in a.keys():
        x, y = a.load(key), b.load(key)
        np.testing.assert_array_equal(x.features, y.features, err_msg=key)
        np.testing.assert_array_equal(x.frames, y.frames, err_msg=key)
        assert {k: v for k, v in x.attrs.items() if k != "created"} == \
               {k: v for k, v in y.attrs.items() if k != "created"}, key


def files_in(root: Path) -> list[str]:
    """The feature files and any temporary file (logs and manifests aside)."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if p.is_file() and p.suffix in (".h5", ".tmp"))


def manifest(root: Path) -> dict:
    return json.loads((root / "manifest.json").read_text())


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def test_store_on_ray_equals_the_single_process_store(cluster, videos, reference, tmp_path):
    out = tmp_path / "out"
    summary = extract_on_ray(videos, out, BackboneSpec("motion", SMALL), options(),
                             RayOptions(workers=2))
    assert summary.ok and len(summary.done) == 8, summary.report()
    # 21, 37, 53, 69 frames at 25 fps (two videos each), cut at the motion defaults: the frame-rate cap
    # samples 9, 15, 22, 28 of them (10 fps), a 16-frame clip every 4 sampled frames: 0 + 0 + 2 + 4
    assert summary.clips == sum(r.n_clips for r in summary.done) == 12
    assert_same_store(out, reference)
    assert files_in(out) == [k + ".h5" for k in sorted(KEYS)]  # no temporary file left
    m = manifest(out)
    assert m["complete"] and m["keys"] == sorted(KEYS)
    assert {k: e["status"] for k, e in m["videos"].items()} == dict.fromkeys(sorted(KEYS), "done")
    assert m["settings"] == manifest(reference)["settings"]

    # the CLI on the same (already connected) cluster resumes: nothing left to do
    rerun = CliRunner().invoke(extract_cmd, [str(videos), "-o", str(out), *SMALL_ARGS, "--ray"])
    assert rerun.exit_code == 0, rerun.output
    assert "0 done, 8 skipped" in rerun.output
    assert ray.is_initialized()  # the CLI did not close a connection it did not open


def test_a_shard_run_on_ray_merges_with_a_shard_run_locally(cluster, videos, reference, tmp_path):
    from extract.backbones.motion import MotionBackbone
    from extract.manifest import merge_shards

    out = tmp_path / "out"
    on_ray = extract_on_ray(videos, out, BackboneSpec("motion", SMALL), options(shard=(0, 2)),
                            RayOptions(workers=2))
    assert sorted(r.key for r in on_ray.done) == sorted(KEYS)[0::2]
    assert extract_videos(videos, out, MotionBackbone(**SMALL), options(shard=(1, 2))).ok
    report = merge_shards(out)
    assert report.ok and report.n_done == 8, report.problems
    assert_same_store(out, reference)


def test_a_worker_killed_mid_video_loses_and_doubles_nothing(cluster, videos, reference, tmp_path):
    out, marker = tmp_path / "out", tmp_path / "killed"
    # the first actor to reach its 2nd forward batch SIGKILLs itself, once in the whole run
    summary = extract_on_ray(videos, out, KillingFactory(marker, at=2), options(),
                             RayOptions(workers=2))
    assert summary.ok and len(summary.done) == 8, summary.report()
    victim = int(marker.read_text())
    assert victim != os.getpid() and not alive(victim)  # a real worker process died
    m = manifest(out)
    assert sorted(m["videos"]) == m["keys"] == sorted(KEYS)  # each video listed once
    retried = {k: e["note"] for k, e in m["videos"].items() if "worker lost" in e.get("note", "")}
    assert len(retried) == 1, m["videos"]
    assert f"pid {victim}" in next(iter(retried.values()))
    assert files_in(out) == [k + ".h5" for k in sorted(KEYS)]  # one file each, no temporaries
    assert_same_store(out, reference)


_STOPPED_BY_SIGTERM = """
import os, signal, sys, threading, time
from pathlib import Path
from _ray_helpers import StallingFactory
from extract.ray_runner import RayOptions, extract_on_ray
from extract.run import ExtractOptions

videos, out, marker = map(Path, sys.argv[1:])

def stop():  # once one actor stalls on a video and the other has finished two: a scheduler's stop
    while not (marker.exists() and len(list(out.rglob("*.h5"))) >= 2):
        time.sleep(0.1)
    os.kill(os.getpid(), signal.SIGTERM)

threading.Thread(target=stop, daemon=True).start()
try:
    extract_on_ray(videos, out, StallingFactory(marker), ExtractOptions(recursive=True, progress=False, workers=1),
                   RayOptions(address="local", workers=2), num_cpus=2, include_dashboard=False,
                   object_store_memory=128 * 2**20, logging_level="WARNING")
except KeyboardInterrupt:
    print("stopped; SIGTERM handler put back:", signal.getsignal(signal.SIGTERM) is signal.SIG_DFL)
    sys.exit(130)
"""


def test_a_sigterm_of_the_driver_stops_the_run_as_ctrl_c_does_and_a_rerun_completes(cluster, videos, reference,
                                                                                    tmp_path):
    """Ray's SIGTERM handler raised SystemExit, which Ray's wait turned into exit status 1 ("some videos
    failed") with no word; now a SIGTERM is a Ctrl-C: the videos finished are recorded, the rest rerun."""
    out, marker = tmp_path / "out", tmp_path / "stalled"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), str(TESTS.parent)]),
           "RAY_USAGE_STATS_ENABLED": "0"}
    run = subprocess.run([sys.executable, "-c", _STOPPED_BY_SIGTERM, str(videos), str(out), str(marker)],
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 130, run.stdout + run.stderr
    assert "SIGTERM handler put back: True" in run.stdout
    done = sorted(k for k, e in manifest(out)["videos"].items() if e["status"] == "done")
    assert all(f.endswith(".h5") for f in files_in(out))  # no temporaries left
    kept = [f.removesuffix(".h5") for f in files_in(out)]  # one written as the stop came may be unrecorded yet:
    # the stop follows the second file's rename, and on a loaded machine comes before the driver records it
    assert len(kept) >= 2 and done and set(done) <= set(kept)
    summary = extract_on_ray(videos, out, BackboneSpec("motion", SMALL), options(), RayOptions(workers=2))
    assert summary.ok and sorted(r.key for r in summary.skipped) == kept, summary.report()
    assert_same_store(out, reference)


def test_a_video_that_kills_every_worker_fails_after_max_attempts(cluster, videos, tmp_path):
    single = videos / "cam_b" / "v3.mp4"  # 69 frames: clips at the motion defaults (a shorter one has none)
    out = tmp_path / "out"
    summary = extract_on_ray(single, out, KillingFactory(tmp_path / "m", at=1, once=False),
                             options(), RayOptions(workers=1, max_attempts=2))
    assert [r.key for r in summary.failed] == ["v3.mp4"]
    assert "2 attempts, each lost its worker" in summary.failed[0].reason
    assert files_in(out) == []
    m = manifest(out)
    assert m["complete"] and m["videos"]["v3.mp4"]["status"] == "failed"


def test_a_full_store_stops_the_run_on_ray_as_it_does_locally(cluster, videos, tmp_path):
    """An actor's OutputError (disk full, read-only) failed its video and the run went on: every
    other video was decoded and computed to fail on write. It stops the run, as locally."""
    from extract.store import OutputError

    with pytest.raises(OutputError, match="no space left") as stopped:
        extract_on_ray(videos, tmp_path / "out", FullDiskFactory(), options(), RayOptions(workers=1))
    summary = stopped.value.summary
    assert len(summary.failed) == 1 and not summary.done, summary.report()
    assert "no space left" in summary.failed[0].reason
    m = manifest(tmp_path / "out")
    assert not m["complete"] and [e["status"] for e in m["videos"].values()] == ["failed"]


def test_decode_workers_that_cannot_start_on_an_actor_stop_the_run(cluster, videos, tmp_path):
    """An actor whose decode workers die as they start raised for its video, and the run went on to
    fail every video the same way; it stops with the workers' error, as a local run does."""
    from extract.run import WorkerStartError

    with pytest.raises(WorkerStartError, match=r"decode workers die as they start \(exit code 7"):
        extract_on_ray(videos, tmp_path / "out", DiesInWorkersFactory(), options(), RayOptions(workers=1))
    entries = manifest(tmp_path / "out")["videos"]
    assert not any(e.get("status") == "failed" for e in entries.values()), entries


def test_a_node_that_does_not_see_the_store_or_a_video_stops_the_run_naming_it(cluster, videos, tmp_path):
    """An actor on a node without the shared filesystem made the output folder on its own disk, wrote
    the features there and reported them done (the store never got them); one that did not see the
    input failed each video it was given as "the source is gone (deleted or moved ...)", which the
    driver sees, taking more work the faster it failed. Both stop the run, naming the node."""
    import re
    import socket

    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match=rf"Ray node {socket.gethostname()} does not see the output folder {re.escape(str(out))}, "
                                        r"which the driver does: .*shared filesystem"):
        extract_on_ray(videos, out, BlindNodeFactory(out), options(), RayOptions(workers=1))
    m = manifest(out)
    assert not m["complete"] and not m["videos"], m["videos"]
    video = videos / "cam_b" / "v3.mp4"
    with pytest.raises(RuntimeError, match=rf"does not see the video {re.escape(str(video))}, which the driver does"):
        extract_on_ray(video, tmp_path / "out2", BlindNodeFactory(video), options(), RayOptions(workers=1))
    assert not manifest(tmp_path / "out2")["videos"]  # not failed: rerun on a mended cluster, it is done


def test_an_actor_times_a_video_by_its_own_clock(videos, tmp_path):
    """The manifest's seconds of a video were the actor's clock less the driver's (a monotonic clock
    counts from each machine's boot): on another node, days or a negative number."""
    import time

    from extract.ray_runner import ExtractWorker
    from extract.run import _Job
    from extract.sources import find_sources

    source = find_sources(videos / "cam_b").sources[0]
    job = _Job(source, source.fingerprint(), "{}", False, ("pyav",), started=time.monotonic() - 86400)
    worker = ExtractWorker(BackboneSpec("motion", SMALL), options(), str(tmp_path))
    try:
        result, unwritable = worker.extract(job)
    finally:
        worker.runner.shutdown()
    assert result.status == "done" and unwritable is None
    assert 0 <= result.seconds < 60, result.seconds


def test_the_progress_bar_on_ray_counts_clips(cluster, videos, tmp_path, capfd):
    """On Ray the bar always read "0.0 clips/s": the driver never counted the actors' clips."""
    import re

    opts = ExtractOptions(recursive=True, progress=True, workers=1)
    summary = extract_on_ray(videos / "cam_b" / "v3.mp4", tmp_path / "out", BackboneSpec("motion", SMALL), opts,
                             RayOptions(workers=1))
    assert summary.ok and summary.clips > 0
    rates = [float(x) for x in re.findall(r"([\d.]+) clips/s", capfd.readouterr().err)]
    assert rates and rates[-1] > 0, rates


def test_a_first_actor_a_busy_cluster_cannot_place_yet_is_warned_of_while_it_waits(cluster, videos, reference,
                                                                                   tmp_path, monkeypatch):
    """The driver waited for the first actor in silence, for ever on a cluster kept busy; the warning
    every WAIT_WARNING_S came only once that actor had started."""
    monkeypatch.setattr(ray_runner, "WAIT_WARNING_S", 0.5, raising=False)
    blocker = ray.remote(num_cpus=2)(Holder).remote()  # another job holds both CPUs
    assert ray.get(blocker.ready.remote())
    warned = threading.Event()

    class FreeOnWarning(logging.Handler):
        def emit(self, record):
            if "no Ray actor is ready yet" in record.getMessage() and not warned.is_set():
                warned.set()
                ray.kill(blocker)  # the other job ends: the run goes on

    handler = FreeOnWarning()
    ray_runner.log.addHandler(handler)
    safety = threading.Timer(60, lambda: ray.kill(blocker))  # without the warning the run must still end
    safety.start()
    try:
        summary = extract_on_ray(videos, tmp_path / "out", BackboneSpec("motion", SMALL), options(),
                                 RayOptions(workers=2))
    finally:
        safety.cancel()
        ray_runner.log.removeHandler(handler)
    assert warned.is_set()
    assert summary.ok, summary.report()
    assert_same_store(tmp_path / "out", reference)


def test_an_actor_that_cannot_build_the_backbone_stops_the_run_with_the_reason(cluster, videos, tmp_path):
    with pytest.raises(RuntimeError, match="needs pretrained weights"):
        extract_on_ray(videos, tmp_path / "out", BackboneSpec("c3d", {}), options())


def test_an_actor_runs_a_torch_backbone_on_the_cpus_ray_gave_it(cluster, tmp_path):
    from extract.ray_runner import ExtractWorker

    spec = BackboneSpec("c3d", {"random_init": True, "width": 16})
    actor = ray.remote(ExtractWorker).options(num_cpus=2).remote(spec, options(), str(tmp_path), None, 2)
    try:
        info = ray.get(actor.info.remote())
    finally:
        ray.kill(actor)
    assert info["torch_threads"] == 2 and info["describe"]["backbone"] == "c3d"
    assert info["pid"] != os.getpid()


def test_a_cuda_backbone_asks_ray_for_a_gpu_and_uses_the_one_it_gets(cluster, tmp_path, monkeypatch):
    from extract import backbones, ray_runner

    spec = BackboneSpec("c3d", {"device": "cuda:3", "random_init": True})
    pool = ray_runner._Pool(ray, spec, options(), tmp_path, RayOptions())
    assert pool.resources == {"CPU": 1.0, "GPU": 1.0} and pool.size == 1
    assert ray_runner._Pool(ray, spec, options(), tmp_path, RayOptions(gpus_per_worker=0.25)).resources["GPU"] == 0.25
    built = []
    monkeypatch.setattr(backbones, "get_backbone", lambda name, **kw: built.append(kw))
    monkeypatch.setattr(ray_runner, "_ray_gpu_ids", lambda: [3])  # inside a GPU actor
    spec()
    monkeypatch.setattr(ray_runner, "_ray_gpu_ids", lambda: [])   # no GPU from Ray: as given
    spec()
    assert [kw["device"] for kw in built] == ["cuda", "cuda:3"]


def test_detect_on_ray_says_its_progress_in_a_log(monkeypatch, capsys):
    """Where standard error is no terminal (a log), Ray's fits said nothing until the summary
    (tqdm's bar, one \\r-joined line): now a plain line now and then, as the local executor's. Ray
    itself is not started: a stand-in answers the calls RayTasks makes."""
    from types import SimpleNamespace

    from extract import progress
    from videoad import ray_detect

    class Remote:
        def __init__(self, fn):
            self.fn = fn

        def options(self, **_):
            return self

        def remote(self, *args):
            return self.fn(*args)  # the result stands for its reference

    fake = SimpleNamespace(is_initialized=lambda: True, remote=Remote, get=lambda refs: refs,
                           wait=lambda pending, num_returns, timeout: (pending[:1], pending[1:]),
                           exceptions=SimpleNamespace(RayTaskError=RuntimeError, RayError=RuntimeError))
    monkeypatch.setattr(ray_detect, "import_ray", lambda: fake)
    monkeypatch.setattr(ray_detect, "check_fits", lambda *a, **k: None)
    monkeypatch.setattr(progress, "EVERY_S", 0.0)  # a line at every update
    assert RayTasks()([(abs, (-2,)), (abs, (-3,))]) == [2, 3]
    err = capsys.readouterr().err
    assert "detect: 1/2 groups, 50.0%" in err and "detect: 2/2 groups, 100.0%" in err, err
    assert RayTasks(progress=False)([(abs, (-2,))]) == [2]
    assert capsys.readouterr().err == ""


def test_detect_on_ray_equals_the_local_fits(cluster, tmp_path):
    store = tmp_path / "store"
    small_store(store)
    cfg = video.DetectConfig(mode="per-video", detector="duad", params=FAST_DUAD, min_clips=50, seed=3)
    local = video.detect(store, cfg)
    remote = video.detect(store, cfg, executor=RayTasks(progress=False))
    assert [v.video for v in remote] == [v.video for v in local] == ["A/a1.mp4", "A/a2.mp4"]
    for x, y in zip(remote, local):
        np.testing.assert_array_equal(x.scores, y.scores)
        assert x.threshold == y.threshold
    assert [g["status"] for g in remote.groups] == ["fitted", "fitted", "skipped"]

    result = CliRunner().invoke(detect_cmd, [str(store), "-o", str(tmp_path / "scores"), "--per-category",
                                             "--detector", "pca", "--min-clips", "50", "--ray"])
    assert result.exit_code == 0, result.output
    assert [v.video for v in read_scores(tmp_path / "scores")] == ["A/a1.mp4", "A/a2.mp4"]
    assert "group/s" not in result.output  # no progress bar where nobody watches (a log file: \r-joined lines)


def test_a_group_fit_whose_worker_dies_is_run_again_once(cluster, tmp_path):
    marker = tmp_path / "died"
    assert RayTasks(progress=False)([(die_once, (str(marker), 21)), (die_once, (str(marker), 1))]) == [42, 2]
    assert not alive(int(marker.read_text()))


def test_a_group_fit_whose_worker_keeps_dying_stops_the_run_naming_it(cluster, tmp_path):
    """After its retries, Ray's WorkerCrashedError came out raw: `detect --ray` ended in a traceback."""
    with pytest.raises(RayConnectionError) as caught:
        RayTasks(progress=False, max_retries=1)([(die_once, (str(tmp_path / "m"), 1)), (die_always, (3,))])
    words = str(caught.value)
    assert "task 2 of 2" in words and "2 times" in words and "WorkerCrashedError" in words, words
    assert "no scores were written" in words


def test_an_error_raised_on_ray_reads_as_the_same_error_raised_locally(cluster, videos, tmp_path):
    """Ray hands back a task's exception as its own wrapper, whose text is the remote traceback in
    terminal colours: `detect --ray` said "Error: \\x1b[36mray::_in_folder()\\x1b[39m (pid=..., ip=...)"
    and the traceback where locally it says the error's one line; a video's manifest reason read
    "the Ray actor raised RayTaskError(KeyError): ray::ExtractWorker.extract() ...". Both now carry
    the error itself (its type, so that the commands' own catches still apply)."""
    missing = str(tmp_path / "gone" / "a.h5")
    with pytest.raises(FileNotFoundError) as local:
        os.stat(missing)
    with pytest.raises(FileNotFoundError) as remote:
        RayTasks(progress=False)([(os.stat, (missing,))])
    assert str(remote.value) == str(local.value), str(remote.value)

    summary = extract_on_ray(videos / "cam_b" / "v3.mp4", tmp_path / "out", RaisingFactory(), options(),
                             RayOptions(workers=1))
    assert [r.reason for r in summary.failed] == ["the Ray actor raised KeyError: 'boom'"]


def test_without_ray_the_flag_names_the_extra_and_nothing_runs(tmp_path, monkeypatch):
    make_video(tmp_path / "in" / "v.mp4", 20)
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails
    cli = CliRunner()
    result = cli.invoke(extract_cmd, [str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--ray"])
    assert result.exit_code == 2 and "pip install 'videoad[ray]'" in result.output
    assert not (tmp_path / "out").exists()
    small_store(tmp_path / "store")
    result = cli.invoke(detect_cmd, [str(tmp_path / "store"), "-o", str(tmp_path / "s"), "--ray=auto"])
    assert result.exit_code == 2 and "pip install 'videoad[ray]'" in result.output
    # `--ray INPUT` would take INPUT as the address: refused with the fix
    result = cli.invoke(extract_cmd, ["--ray", str(tmp_path / "in"), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and "write --ray=ADDRESS" in result.output


def test_the_packages_import_without_ray():
    code = ("import sys; sys.modules['ray'] = None\n"
            "import extract, videoad, videoad.cli, extract.ray_runner, videoad.ray_detect\n"
            "from extract.ray_runner import RayUnavailable, import_ray\n"
            "try:\n    import_ray()\nexcept RayUnavailable as e:\n    print(e)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "pip install 'videoad[ray]'" in done.stdout
    lazy = subprocess.run([sys.executable, "-c", "import sys, videoad.cli, extract.ray_runner, "
                           "videoad.ray_detect; print('ray' in sys.modules)"],
                          capture_output=True, text=True, timeout=120)
    assert lazy.stdout.strip() == "False", lazy.stderr


def test_an_unreachable_address_or_an_impossible_request_is_named_at_once(tmp_path, monkeypatch):
    """`--ray 127.0.0.1:1` stalled ~12 minutes in Ray's retries (detect then printed a traceback); a
    request no node can hold (--ray-cpus 4 on 2, --device cuda without a GPU) waited for ever; the
    motion backbone, which runs on the CPU, asked for a GPU per actor under --device cuda."""
    from extract.ray_runner import RayConnectionError, check_fits, connect

    class NoInit:
        def init(self, **kwargs):
            raise AssertionError("ray.init was called for an address nobody answers at")

    with pytest.raises(RayConnectionError, match=r"no Ray cluster at 127.0.0.1:1: Connection refused"):
        connect(NoInit(), "127.0.0.1:1")
    small_store(tmp_path / "f")
    monkeypatch.setattr(ray, "is_initialized", lambda: False)  # as a fresh process is (other tests share one)
    res = CliRunner().invoke(detect_cmd, [str(tmp_path / "f"), "-o", str(tmp_path / "s"), "--ray=127.0.0.1:1"])
    assert res.exit_code == 1 and res.output.startswith("Error: no Ray cluster at 127.0.0.1:1"), res.output
    for bad in ("127.0.0.1:notaport", "head:", "ray://head:x"):  # a usage error, before any work
        res = CliRunner().invoke(detect_cmd, [str(tmp_path / "f"), "-o", str(tmp_path / "s"), f"--ray={bad}"])
        assert res.exit_code == 2 and "is not a number" in res.output, (bad, res.output)

    class TwoCpus:
        def nodes(self):
            return [{"Alive": True, "Resources": {"CPU": 2.0}}]

    check_fits(TwoCpus(), 1.0, 0.0, "actor")
    with pytest.raises(RayConnectionError, match=r"no node of the Ray cluster has the 4 CPU\(s\) and 0 GPU\(s\)"):
        check_fits(TwoCpus(), 4.0, 0.0, "actor")
    with pytest.raises(RayConnectionError, match=r"the largest: 2 CPUs, 0 GPUs"):
        check_fits(TwoCpus(), 1.0, 1.0, "actor")
    # the motion backbone's actors ask for no GPU whatever --device says
    from videoad.cli import ray_opts

    seen = {}

    def capture(input_path, output, backbone, kwargs, options, ray):
        seen.update(kwargs)
        raise SystemExit(0)

    monkeypatch.setattr(ray_opts, "extract_on_ray", capture)
    make_video(tmp_path / "in" / "v.mp4", 20)
    CliRunner().invoke(extract_cmd, [str(tmp_path / "in"), "-o", str(tmp_path / "o"), "--device", "cuda", "--ray"])
    assert "device" not in seen


# -- a cluster that goes away mid-run (its head killed, `ray stop --force`) ---------------------------
def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nothing listens there


def _gone_ray(port: int):
    from types import SimpleNamespace

    return SimpleNamespace(get_runtime_context=lambda: SimpleNamespace(gcs_address=f"127.0.0.1:{port}"))


def test_a_lost_actor_on_a_cluster_whose_head_is_gone_stops_the_extraction_naming_it(tmp_path):
    """The head gone, each video in flight was retried on actors that never came, until Ray ended
    the process a minute later with a C++ message and exit status 1 ("some videos failed")."""
    import socket
    from collections import deque
    from types import SimpleNamespace

    from extract.ray_runner import RayClusterLost, RayRunner, cluster_gone

    assert "127.0.0.1" in cluster_gone(_gone_ray(_closed_port()))
    from extract.ray_runner import _host_port

    assert _host_port("[::1]:6379") == ("::1", 6379) == _host_port("::1:6379")  # Ray writes IPv6 so
    assert _host_port("10.0.0.5:6379") == ("10.0.0.5", 6379)
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        assert cluster_gone(_gone_ray(listening.getsockname()[1])) is None
    runner = object.__new__(RayRunner)  # the bookkeeping a lost actor reaches
    killed = []
    runner.pool = SimpleNamespace(ray=_gone_ray(_closed_port()), kill=killed.append, hosts={})
    runner.actors, runner.inflight, runner.cluster_lost = {"actor": None}, {}, False
    with pytest.raises(RayClusterLost, match="stopped answering during the run.*rerun the same command"):
        runner._lost("actor", None, RuntimeError("Socket closed"), deque(), {})
    assert runner.cluster_lost and not killed  # nothing to stop on a cluster that is gone


def test_detect_on_a_cluster_whose_head_is_gone_stops_naming_it(monkeypatch):
    """detect --ray waited on fits that never answered, printed nothing, and ended a minute later."""
    from types import SimpleNamespace

    import videoad.ray_detect as ray_detect
    from extract.ray_runner import RayClusterLost

    fake = _gone_ray(_closed_port())
    fake.is_initialized = lambda: True
    fake.nodes = lambda: []
    fake.remote = lambda fn: SimpleNamespace(options=lambda **kw: SimpleNamespace(remote=lambda *a: object()))
    fake.wait = lambda pending, num_returns, timeout=None: ([], pending)
    cancelled = []
    fake.cancel = lambda ref, force: cancelled.append(ref)
    monkeypatch.setattr(ray_detect, "import_ray", lambda: fake)
    with pytest.raises(RayClusterLost, match="no scores were written; start the cluster again"):
        RayTasks(progress=False)([(print, ("a",)), (print, ("b",))])
    assert not cancelled


def test_an_address_refused_where_a_token_exists_says_how_to_send_it(tmp_path, monkeypatch):
    """`ray start --head` turns token authentication on by itself when ~/.ray/auth_token exists, and a
    driver given an address sends no token without RAY_AUTH_MODE=token: "no Ray cluster", the cluster running."""
    from extract import ray_runner

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)
    assert ray_runner._token_hint("10.0.0.5:6379") is None  # no token here
    (tmp_path / ".ray").mkdir()
    (tmp_path / ".ray" / "auth_token").write_text("x" * 64)
    assert "export RAY_AUTH_MODE=token" in ray_runner._token_hint("10.0.0.5:6379")
    assert ray_runner._token_hint("this machine") is None
    monkeypatch.setenv("RAY_AUTH_MODE", "token")
    assert ray_runner._token_hint("10.0.0.5:6379") is None


def test_a_stale_record_of_a_cluster_ray_start_left_is_named_at_once(tmp_path, monkeypatch):
    """`--ray` alone joins the cluster a `ray start` on this machine recorded in
    <tmp>/ray/ray_current_cluster; where that cluster is gone (its head killed, a node lost) the
    record stays, and Ray retried its dead address for minutes (over 5 measured) with its own lines
    only: `videoad extract --ray` over 200 videos never started. Now named within seconds, with what
    to do; a record where a cluster answers, and an address given, are left to Ray as before."""
    import socket

    from extract.ray_runner import RayConnectionError, connect

    class NoInit:
        def init(self, **kwargs):
            raise AssertionError("ray.init was called to join a cluster nothing answers at")

    monkeypatch.setenv("RAY_TMPDIR", str(tmp_path))
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    record = tmp_path / "ray" / "ray_current_cluster"
    record.parent.mkdir()
    record.write_text("127.0.0.1:1")
    for address in (None, "auto"):
        with pytest.raises(RayConnectionError, match=r"no Ray cluster at 127.0.0.1:1, the one a `ray start` on "
                                                     r"this machine recorded .*ray_current_cluster\): Connection "
                                                     r"refused; .*`ray stop`.*--ray=local"):
            connect(NoInit(), address)
    small_store(tmp_path / "f")
    monkeypatch.setattr(ray, "is_initialized", lambda: False)  # as a fresh process is (other tests share one)
    monkeypatch.setattr(ray, "init", NoInit().init)
    res = CliRunner().invoke(detect_cmd, [str(tmp_path / "f"), "-o", str(tmp_path / "s"), "--ray"])
    assert res.exit_code == 1 and res.output.startswith("Error: no Ray cluster at 127.0.0.1:1, the one"), res.output

    class Joined(Exception):
        pass

    def joins(**kwargs):
        raise Joined(kwargs)

    with socket.socket() as live:  # a record where something answers: Ray's to join, as before
        live.bind(("127.0.0.1", 0))
        live.listen()
        record.write_text(f"127.0.0.1:{live.getsockname()[1]}")
        with pytest.raises(Joined):
            connect(type("R", (), {"init": staticmethod(joins)})(), None)
    record.unlink()  # no record: a local cluster, Ray's own start
    with pytest.raises(Joined):
        connect(type("R", (), {"init": staticmethod(joins)})(), None)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="finds a process's open files in /proc (Linux)")
def test_a_ctrl_c_while_ray_init_starts_a_local_cluster_stops_what_it_started(tmp_path, monkeypatch):
    """Ctrl-C during `ray.init`'s start of a local cluster ended the run with its one line, but left the
    cluster's dashboard and runtime-env agents running (their raylet gone) for a minute or more: Ray had
    not recorded them yet for its shutdown. Now the processes logging into the session folder that
    this start made are stopped; those of an earlier session of this process, or another's, are not."""
    from extract.ray_runner import connect

    monkeypatch.setenv("RAY_TMPDIR", str(tmp_path))
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    sleeper = [sys.executable, "-c", "import time; time.sleep(600)"]

    def logging_into(session: Path) -> subprocess.Popen:
        (session / "logs").mkdir(parents=True)
        with open(session / "logs" / "raylet.out", "w") as log:
            return subprocess.Popen(sleeper, stdout=log)

    earlier = logging_into(tmp_path / "ray" / f"session_2026-01-01_00-00-00_000000_{os.getpid()}")
    others = logging_into(tmp_path / "ray" / f"session_2026-12-07_17-00-00_000000_{os.getpid() + 1}")
    started = []

    class Interrupted:
        def init(self, **kwargs):  # as Ray's start of a node, cut short by Ctrl-C
            started.append(logging_into(tmp_path / "ray" / f"session_2026-12-07_17-18-52_234084_{os.getpid()}"))
            raise KeyboardInterrupt

    try:
        with pytest.raises(KeyboardInterrupt):
            connect(Interrupted(), "local")
        assert started[0].wait(timeout=60) == -9  # stopped, not left behind
        assert earlier.poll() is None and others.poll() is None
    finally:
        for proc in (earlier, others, *started):
            proc.kill()
            proc.wait()
