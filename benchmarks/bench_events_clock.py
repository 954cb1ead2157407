"""Time the events of variable-rate videos: seconds from each frame's own time (`scores.FrameClock`)
with the clock built once per video, against a clock rebuilt at every call (how it was until
2026-12-06: the event tracker asks for seconds clip by clip, so the cost grew with clips x frames).
Same scores, same events, one run; prints the figures and writes
benchmarks/results/events_clock.{json,md} (`--out` for another folder):

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_events_clock.py --frames 20000
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _results  # noqa: E402


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
    ap.add_argument("--out", type=Path, default=None, help="results folder [default: benchmarks/results]")
    args = ap.parse_args()
    run = _results.Run()

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
    ratio = timings["rebuilt per call"] / timings["built once"]
    print(f"{args.frames} frames, {len(cached.scores)} clips, {len(found['built once'])} event(s): "
          f"built once {timings['built once']:.3f} s, rebuilt per call {timings['rebuilt per call']:.3f} s "
          f"(ratio {ratio:.0f})")
    run.write("events_clock", "Events of a variable-rate video: the frame clock built once against rebuilt per call",
              " ".join(__doc__.split("\n\n")[0].split()).split(" Same scores, same events, one run;")[0]
              + " Same scores, same events (checked), one run.",
              ["| frames | clips | events (the same both ways) | clock built once, s | rebuilt per call (before), s "
               "| ratio |", "|---|---|---|---|---|---|",
               f"| {args.frames} | {len(cached.scores)} | {len(found['built once'])} | {timings['built once']:.3f} | "
               f"{timings['rebuilt per call']:.3f} | **{ratio:.0f}x** |"],
              {"frames": args.frames, "clips": len(cached.scores), "events": len(found["built once"]),
               "seconds": timings, "ratio": ratio}, args.out)


if __name__ == "__main__":
    main()
