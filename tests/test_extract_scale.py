"""Extraction's bookkeeping at a dataset's size: what a run does per video must not grow with the
number of videos already done (UCF-Crime's 1,900 videos; a camera's month in one-minute files)."""
from __future__ import annotations

from pathlib import Path

from extract.run import RunSummary, VideoResult, _Runner


class _CountingResults(dict):
    """A results dict that counts the entries every pass over its values reads."""

    read = 0

    def values(self):
        for value in super().values():
            type(self).read += 1
            yield value


class _Manifest:
    def record(self, key, entry):
        pass


class _Progress:
    def __init__(self):
        self.shown = ""

    def finished(self, job, n_frames):
        pass

    def set_postfix_str(self, text, refresh=False):
        self.shown = text


def test_recording_a_video_reads_no_pass_over_the_run(tmp_path):
    """After each video the runner showed the rate and the failures so far, counted over every
    result of the run: a pass over all the videos per video, 1.3 s of a 1,900-video run's main
    process in its profile and quadratic beyond (43,200 one-minute files: some 10 minutes). The
    count is now kept as results come in, and stays the one the summary holds."""
    summary = RunSummary()
    summary.results = _CountingResults({f"old/{i}.mp4": VideoResult(f"old/{i}.mp4", "failed" if i % 1000 == 0
                                                                    else "skipped") for i in range(5000)})
    progress = _Progress()
    runner = _Runner(None, None, None, Path(tmp_path), _Manifest(), summary, progress)
    _CountingResults.read = 0
    for i in range(200):
        runner._record(VideoResult(f"new/{i}.mp4", "failed" if i % 50 == 0 else "done", n_frames=10))
    runner._record(VideoResult("old/0.mp4", "done", n_frames=10))  # a failure redone: no longer one
    runner._record(VideoResult("old/1.mp4", "failed", reason="x"))  # a skipped video failing now
    assert _CountingResults.read < 1000, _CountingResults.read  # 200 records over 5,000 results: no pass each
    assert progress.shown.endswith(f", {len(summary.failed)} failed") and len(summary.failed) == 5 - 1 + 4 + 1


def test_the_manifests_rewrites_take_a_bounded_share_of_a_long_run(tmp_path, monkeypatch):
    """The manifest was rewritten once a second whatever its size: a save of UCF-Crime's 1,900 videos
    took 17 ms, of 20,000 videos 135 ms (12% of the main process, which also batches the clips through
    the backbone; benchmarks/bench_manifest.py), the share growing with the videos listed. Here each write costs 0.1 ms per video listed (on a clock of the
    test's own) and a video takes 50 ms: the saves take at most SAVE_SHARE of the run, still come
    often, and the end's save lists every video."""
    from extract import manifest as m

    clock = [0.0]
    writes = []

    def write(path, data):
        cost = 1e-4 * len(data["videos"])
        writes.append((clock[0], cost, len(data["videos"])))
        clock[0] += cost

    monkeypatch.setattr(m.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(m, "_write_json", write)
    keys = [f"cam/{i:05d}.mp4" for i in range(5000)]
    manifest = m.Manifest(tmp_path, input_root="/in", settings={}, n_videos_total=len(keys), keys=keys)
    for key in keys:
        clock[0] += 0.05
        manifest.record(key, {"status": "done"})
    writing = sum(cost for _, cost, _ in writes)
    share = 0.05  # extract.manifest.SAVE_SHARE
    assert writing <= 1.01 * share * clock[0], (writing, clock[0])
    gaps = [b[0] - (a[0] + a[1]) for a, b in zip(writes, writes[1:])]
    assert len(writes) > 50 and all(g <= max(1.0, a[1] / share) + 0.05 for g, a in zip(gaps, writes)), gaps
    manifest.finish()
    assert writes[-1][2] == len(keys)


def test_loading_a_video_reads_its_attributes_once(tmp_path, monkeypatch):
    """`FeatureStore.load` read every attribute of the file again although the run had read them
    (screening, `read_attrs`' cache): two thirds of loading 1,900 imported videos (3.2 s of 0.95 s
    now, benchmarks/bench_store_load.py). It takes them from that cache where the cache holds the
    very file it opened, a copy each time, and a file rewritten since is read anew."""
    import numpy as np

    from extract import store as st

    def attrs(note):
        return {"n_frames": 96, "fps": 30.0, "clip_len": 16, "stride": 16, "backbone": "x", "note": note}

    def frames(n):
        return np.stack([np.arange(n) * 16, np.arange(n) * 16 + 15], 1)

    root = tmp_path / "store"
    st.write_video(root, "cam/v.mp4", np.ones((3, 4)), frames(3), attrs("first"))
    fs = st.FeatureStore(root)
    assert fs.attrs("cam/v.mp4")["note"] == "first"
    reads = [0]
    real = st._from_attr

    def counted(value):
        reads[0] += 1
        return real(value)

    monkeypatch.setattr(st, "_from_attr", counted)
    v = fs.load("cam/v.mp4")
    assert reads[0] == 0 and v.attrs["note"] == "first" and v.n_clips == 3
    v.attrs["note"] = "a caller's own change"
    assert fs.load("cam/v.mp4").attrs["note"] == "first" and fs.attrs("cam/v.mp4")["note"] == "first"
    st.write_video(root, "cam/v.mp4", np.zeros((5, 4)), frames(5), attrs("second"))  # rewritten since
    v = fs.load("cam/v.mp4")
    assert v.attrs["note"] == "second" and v.n_clips == 5 and reads[0] > 0
    before = reads[0]
    assert fs.attrs("cam/v.mp4")["note"] == "second" and reads[0] == before  # what load read is kept
