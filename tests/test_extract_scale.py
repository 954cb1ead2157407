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
