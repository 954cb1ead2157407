"""Time the events of variable-rate videos: seconds from each frame's own time (`scores.FrameClock`)
with the clock built once per video, against a clock rebuilt at every call (how it was until
2026-12-06: the event tracker asks for seconds clip by clip, so the cost grew with clips x frames).
Same scores, same events, one run:

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_events_clock.py --frames 20000
"""
from __future__ import annotations

import argparse
import time

import numpy as np


def video(n_frames: int, seed: int = 0):
    from videoad.scores import VideoScores

    rng = np.random.default_rng(seed)
    times = np.cumsum(rng.uniform(0.03, 0.05, n_frames))
    times -= times[0]
    starts = np.arange(0, n_frames - 16, 4)
    scores = rng.random(len(starts))
    scores[100:120] = 5.0  # one event
    return VideoScores("cam.mp4", scores, np.stack([starts, starts + 15], 1), n_frames, 25.0, threshold=1.0,
                       frame_times=times)


def main() -> None:
    from videoad.events import find_events
    from videoad.scores import FrameClock, ScoreSet, VideoScores

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=20000)
    args = ap.parse_args()

    class Rebuilt(VideoScores):  # the baseline: a clock per call
        def _clock(self):
            return FrameClock(self.frame_times, self.fps)

    cached = video(args.frames)
    rebuilt = Rebuilt(**{f: getattr(cached, f) for f in cached.__dataclass_fields__})
    timings, found = {}, {}
    for name, v in (("built once", cached), ("rebuilt per call", rebuilt)):
        t0 = time.perf_counter()
        found[name] = [(e.start_s, e.end_s) for e in find_events(ScoreSet([v], {})).events]
        timings[name] = time.perf_counter() - t0
    assert found["built once"] == found["rebuilt per call"], found
    print(f"{args.frames} frames, {len(cached.scores)} clips, {len(found['built once'])} event(s): "
          f"built once {timings['built once']:.3f} s, rebuilt per call {timings['rebuilt per call']:.3f} s "
          f"(ratio {timings['rebuilt per call'] / timings['built once']:.0f})")


if __name__ == "__main__":
    main()
