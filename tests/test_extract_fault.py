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
