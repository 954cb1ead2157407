"""Fault test: SIGKILL an extraction mid-run, rerun, and compare with an uninterrupted run."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from _extract_media import make_video
from extract.backbones.motion import MotionBackbone
from extract.run import ExtractOptions, extract_videos
from extract.store import FeatureStore

TESTS = Path(__file__).resolve().parent
N_VIDEOS = 8


def test_sigkill_mid_run_then_rerun_matches_an_uninterrupted_run(tmp_path):
    videos = tmp_path / "in"
    for i in range(N_VIDEOS):
        make_video(videos / f"cam{i % 2}" / f"v{i}.mp4", 48, speed=1 + i % 3)
    keys = sorted(f"cam{i % 2}/v{i}.mp4" for i in range(N_VIDEOS))
    options = dict(recursive=True, progress=False, workers=2)
    reference = extract_videos(videos, tmp_path / "ref", MotionBackbone(size="64x48", grid=2),
                               ExtractOptions(**options))
    assert reference.ok

    # the same extraction through the CLI, slowed to ~1 s per video so it can be cut mid-run
    out = tmp_path / "out"
    code = "from videoad.cli.extract_cmd import extract; extract()"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), str(TESTS.parent)]),
           "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(videos), "-o", str(out), "--recursive", "-q",
         "--decoders", "_extract_media:slow_pyav", "--backbone-opt", "size=64x48",
         "--backbone-opt", "grid=2"],
        env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while len(list(out.rglob("*.h5"))) < 2 and process.poll() is None:
        assert time.monotonic() < deadline, "the run made no progress"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # main process and decode workers alike
    process.wait()
    assert process.returncode == -signal.SIGKILL, process.stdout.read().decode()
    time.sleep(0.5)  # let orphaned workers notice (they exit on a closed pipe)

    survivors = {p.relative_to(out).as_posix()[:-3]: p.stat().st_mtime_ns for p in out.rglob("*.h5")}
    assert 2 <= len(survivors) < N_VIDEOS, "the kill did not land mid-run"
    assert json.loads((out / "manifest.json").read_text())["complete"] is False
    # what a kill during a write leaves behind: a temporary that must never pass for done
    leftover = out / "cam1" / ".v7.mp4.h5.4242-deadbeef.tmp"
    leftover.parent.mkdir(exist_ok=True)
    leftover.write_bytes(b"\x89HDF\r\n half")
    assert FeatureStore(out).keys() == sorted(survivors)  # the temporary is not listed

    rerun = extract_videos(videos, out, MotionBackbone(size="64x48", grid=2),
                           ExtractOptions(**options))
    assert rerun.ok
    assert sorted(r.key for r in rerun.skipped) == sorted(survivors)
    assert sorted(r.key for r in rerun.done) == sorted(set(keys) - set(survivors))
    assert {k: (out / f"{k}.h5").stat().st_mtime_ns for k in survivors} == survivors
    assert not list(out.rglob("*.tmp"))

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] is True
    assert sorted(manifest["videos"]) == keys
    assert all(entry["status"] == "done" for entry in manifest["videos"].values())
    store, ref = FeatureStore(out), FeatureStore(tmp_path / "ref")
    assert store.keys() == ref.keys() == keys
    for key in keys:
        got, want = store.load(key), ref.load(key)
        np.testing.assert_array_equal(got.features, want.features)
        np.testing.assert_array_equal(got.frames, want.frames)
        assert got.attrs["n_frames"] == want.attrs["n_frames"] == 48


def _dead_pid() -> str:
    """The id of a process that has ended (a temporary's writer that was killed)."""
    return subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()


def test_an_unsharded_rerun_clears_the_temporaries_of_videos_gone_from_its_input(tmp_path):
    """A rerun cleared the temporaries a kill left for the videos of its own input alone: one of a
    video removed from the input since, of another sharding, or of a run killed before its
    rerun with --shard, stayed in the store for good. An unsharded run (which holds the store
    alone) now clears every one whose writer is gone and says so; a shard still clears its own
    videos' alone (another shard may be writing, on another machine), and never a running
    writer's, nor a file that is not the store's."""
    videos = tmp_path / "in"
    for name in ("a.mp4", "b.mp4"):
        make_video(videos / name, 32)
    out = tmp_path / "out"
    options = dict(progress=False, workers=1, stride=16, max_fps=0)
    assert extract_videos(videos, out, MotionBackbone(size="64x48", grid=2), ExtractOptions(**options)).ok
    dead = _dead_pid()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (out / "sub").mkdir()
        stale = [out / f".gone.mp4.h5.{dead}-ab12cd34.tmp", out / "sub" / f".old.mp4.h5.{dead}-0.tmp",
                 out / f".gone.mp4.h5.{dead}-scene.tmp", out / f".{'v' * 120}~0123456789ab.{dead}-1.tmp",
                 out / f".manifest.shard-1-of-4.json.{dead}-2.tmp"]
        kept = [out / f".c.mp4.h5.{alive.pid}-ef56ab78.tmp",  # a writer running now
                out / f".notes.txt.{dead}-3.tmp", out / "sub" / f".manifest.json.{dead}-4.tmp"]  # not the store's
        for p in stale + kept:
            p.write_bytes(b"\x89HDF\r\n half")

        shard = extract_videos(videos, out, MotionBackbone(size="64x48", grid=2),
                               ExtractOptions(**options, shard=(0, 2)))
        assert [p for p in stale + kept if not p.exists()] == []  # none of them its own videos'
        assert "temporary" not in shard.report()

        rerun = extract_videos(videos / "a.mp4", out, MotionBackbone(size="64x48", grid=2),
                               ExtractOptions(**options))
        assert rerun.ok and [r.key for r in rerun.skipped] == ["a.mp4"]
        assert [p.name for p in stale if p.exists()] == [] and all(p.exists() for p in kept)
        report = rerun.report()
        assert f"removed 5 half-written temporary file(s) an interrupted run left in {out}: " in report
        assert f".gone.mp4.h5.{dead}-ab12cd34.tmp" in report and "and 2 more" in report
        again = extract_videos(videos / "a.mp4", out, MotionBackbone(size="64x48", grid=2), ExtractOptions(**options))
        assert "temporary" not in again.report()  # said once
    finally:
        alive.kill()
        alive.wait()


def test_merge_clears_the_temporaries_of_a_shard_killed_and_run_again_otherwise(tmp_path):
    """A shard killed mid-write and rerun under another sharding left its temporary for good (no
    shard owns its video); `videoad merge`, which runs once no shard writes, removes it, said."""
    from extract.manifest import merge_shards

    videos = tmp_path / "in"
    for name in ("a.mp4", "b.mp4", "c.mp4"):
        make_video(videos / name, 32)
    out = tmp_path / "out"
    options = dict(progress=False, workers=1, stride=16, max_fps=0)
    for i in range(2):
        extract_videos(videos, out, MotionBackbone(size="64x48", grid=2), ExtractOptions(**options, shard=(i, 2)))
    left = out / f".b.mp4.h5.{_dead_pid()}-ab12cd34.tmp"  # shard 1/3's, killed; 1/3 never rerun
    left.write_bytes(b"half")
    report = merge_shards(out)
    assert report.ok and report.n_shards == 2 and not left.exists()
    assert report.notes == [f"removed 1 half-written temporary file(s) an interrupted run left in {out}: {left.name}"]
