"""Time and peak memory of `videoad evaluate`'s pooling at dataset scale: each video's frames pooled
as runs of one score and label (weighted rows, since 2026-12-06) against every frame pooled one by
one (the way before), on a synthetic scores folder written with the project's own writer. Each side
evaluates in a fresh process of its own; the figures (pooled, tail dropped, anomalous only, per
category, per video) are compared. One run:

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_evaluate.py --videos 100,300

Videos run 600-3,600 clips at stride 16 and 30 fps (a UCF-Crime-like spread, about 4.7x its frame
count per video), half of them normal, 13 categories.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def make(root: Path, n_videos: int) -> Path:
    """A scores folder of `n_videos` videos and its labels (video,start,end); returns the labels."""
    from videoad.scores import ScoreSet, VideoScores, write_scores

    rng = np.random.default_rng(0)
    videos, lines = [], ["video,start,end"]
    for i in range(n_videos):
        n = int(rng.integers(600, 3600))
        starts = np.arange(n) * 16
        frames = np.stack([starts, starts + 15], axis=1)
        scores = rng.gamma(2.0, 0.1, n)
        key = f"C{i % 13:02d}/v{i:05d}.mp4"
        if i % 2:
            a = int(rng.integers(0, n - 40))
            scores[a:a + 30] += 0.6
            lines.append(f"{key},{a * 16 + 1},{(a + 30) * 16}")
        else:
            lines.append(f"{key},,")
        videos.append(VideoScores(key, scores, frames, n * 16 + 7, 30.0, category=key.split("/")[0]))
    write_scores(root / "scores", ScoreSet(videos, {"protocol": "synthetic", "config": {"overlap": "mean"}}))
    (root / "gt.csv").write_text("\n".join(lines) + "\n")
    return root / "gt.csv"


def evaluate(root: str, way: str) -> dict:
    """The evaluation's figures, its seconds and this process's peak resident memory."""
    import resource

    from videoad import metrics
    from videoad.datasets.annotations import read_annotations
    from videoad.scores import read_scores

    if way == "before":  # every frame a row, as pooled before
        metrics._runs = lambda s, y: (np.asarray(s), np.asarray(y), np.ones(np.size(s), np.int64))
    scores, ann = read_scores(Path(root) / "scores"), read_annotations(Path(root) / "gt.csv")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    ev = metrics.evaluate_scores(scores, ann)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": seconds, "added_mb": (peak - before) / 1024, "peak_mb": peak / 1024, "figures": ev.as_dict()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--videos", default="100,300", help="comma-separated video counts")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        json.dump(evaluate(*args.child), sys.stdout)
        return
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for n in (int(v) for v in args.videos.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            make(Path(tmp), n)
            got = {way: json.loads(subprocess.run([sys.executable, __file__, "--child", tmp, way], check=True,
                                                  capture_output=True, text=True, env=env).stdout)
                   for way in ("now", "before")}
        same = got["now"]["figures"] == got["before"]["figures"]
        frames = got["now"]["figures"]["pooled"]["n_frames"]
        print(f"{n} videos, {frames:,} frames: evaluation {got['now']['seconds']:.1f} s now, "
              f"{got['before']['seconds']:.1f} s before; memory it added over reading the scores "
              f"{got['now']['added_mb']:.0f} MB now, {got['before']['added_mb']:.0f} MB before (peaks "
              f"{got['now']['peak_mb']:.0f} and {got['before']['peak_mb']:.0f} MB); every figure identical: {same}")


if __name__ == "__main__":
    main()
