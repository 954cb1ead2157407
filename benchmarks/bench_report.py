"""Time the analyst's side over many videos: the scores folder, events, timelines (`videoad plot`),
the report.

Synthetic scores shaped like a UCF-Crime run (N videos of 300-3,000 clips at stride 16, 30 fps, a
few bursts each), no source videos (the report notes that). Timelines and the events' pictures
are drawn in one process and in worker processes in the same run, so the ratio is measured on
the same machine state; the scores folder's segments.csv is written and read by videoad and by a
row-by-row `csv` baseline (the way it was read and written until 2026-12-06) in the same run.
Then a report in one process is rerun into its folder twice, as an analyst reruns it: with
nothing changed, and with one video's scores changed (a quiet video, inside the shared y-range):
each rerun draws only the timelines whose inputs changed (videoad.timeline_cache); its seconds
and the timelines it drew (by their files' inodes) are printed beside the first report's. In one
process, so that the ratio is the kept timelines' alone: worker processes gain or lose with the
machine's load (above), and a rerun's few timelines are drawn in the main process anyway.
Prints the figures and writes benchmarks/results/report_<N>videos.{json,md} (`--out` for another
folder):

    OMP_NUM_THREADS=1 MPLBACKEND=Agg .venv/bin/python benchmarks/bench_report.py --videos 200
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def scoreset(n_videos: int, seed: int = 0):
    from videoad.scores import ScoreSet, VideoScores

    rng = np.random.default_rng(seed)
    videos = []
    for i in range(n_videos):
        n = int(rng.integers(300, 3000))
        starts = np.arange(n) * 16
        s = rng.normal(0.2, 0.02, n)
        for c in rng.integers(0, n - 30, int(rng.integers(0, 3))):
            s[c:c + 30] += 0.3
        videos.append(VideoScores(f"Cat{i % 13}/v{i:04d}.mp4", s, np.stack([starts, starts + 15], 1), n * 16, 30.0,
                                  f"Cat{i % 13}", "all", "", 0.3))
    return ScoreSet(videos, {"protocol": "transductive"})


def rows_baseline(scores, folder: Path) -> float:
    """Seconds to write segments.csv with one csv.writer row per clip and read it back with
    csv.DictReader, a row at a time (the baseline of the column reader and writer)."""
    import csv

    from videoad.scores import COLUMNS

    t = time.perf_counter()
    with open(folder / "rows.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        w.writerows([v.video, v.category, v.group, i, int(a), int(b), f"{a / v.fps:.3f}", f"{(b + 1) / v.fps:.3f}",
                     repr(float(s))] for v in scores for i, ((a, b), s) in enumerate(zip(v.frames, v.scores)))
    per_video: dict[str, list] = {}
    with open(folder / "rows.csv", newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            per_video.setdefault(r["video"], []).append(
                (int(r["clip"]), int(r["start_frame"]), int(r["end_frame"]), float(r["score"])))
    arrays = {k: np.asarray(sorted(v), dtype=np.float64) for k, v in per_video.items()}
    assert len(arrays) == len(scores)
    return time.perf_counter() - t


def one_changed(scores, events):
    """`scores` with one quiet video's first clips raised a little: under its alarm line, inside the
    run's y-range (so that no other video's timeline, event or number changes)."""
    from videoad.plots import shared_ylim
    from videoad.scores import ScoreSet

    videos = [dataclasses.replace(v, scores=v.scores.copy()) for v in scores]
    quiet = next(v for v in videos if not events.of(v.video))
    quiet.scores[:10] = np.minimum(quiet.scores[:10] + 0.01, quiet.threshold - 0.001)
    changed = ScoreSet(videos, scores.meta)
    assert shared_ylim(changed.videos) == shared_ylim(scores.videos)
    return changed


def timed_report(scores, folder: Path, events, workers) -> tuple[float, int]:
    """(seconds, timelines drawn) of one `build_report` into `folder`: a timeline is drawn where its
    file is a new one (pictures are written through a temporary and a rename)."""
    from videoad.report import build_report

    def files():
        return {p.name: p.stat().st_ino for p in (folder / "timelines").glob("*.png")} if folder.exists() else {}

    before = files()
    t = time.perf_counter()
    build_report(scores, folder, events=events, clips=False, workers=workers)
    seconds = time.perf_counter() - t
    return seconds, sum(before.get(name) != ino for name, ino in files().items())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--videos", type=int, default=200)
    ap.add_argument("--workers", type=int, default=None, help="processes for the parallel runs [default: the cores]")
    ap.add_argument("--out", type=Path, default=None, help="results folder [default: benchmarks/results]")
    args = ap.parse_args()
    import _results

    run = _results.Run()
    from videoad.events import find_events
    from videoad.plots import plot_run
    from videoad.scores import read_scores, write_scores

    scores = scoreset(args.videos)
    work = Path(tempfile.mkdtemp(prefix="bench-report-"))
    try:
        baseline = rows_baseline(scores, work)
        t = time.perf_counter()
        write_scores(work / "scores", scores)
        t_write = time.perf_counter() - t
        t = time.perf_counter()
        assert len(read_scores(work / "scores")) == len(scores)
        t_read = time.perf_counter() - t
    finally:
        shutil.rmtree(work, ignore_errors=True)
    t = time.perf_counter()
    events = find_events(scores)
    t_events = time.perf_counter() - t
    work = Path(tempfile.mkdtemp(prefix="bench-report-"))
    try:
        t = time.perf_counter()
        plot_run(scores, work / "one", thumbnails=0, events=events, workers=1)
        one = time.perf_counter() - t
        t = time.perf_counter()
        plot_run(scores, work / "many", thumbnails=0, events=events, workers=args.workers)
        many = time.perf_counter() - t
        from videoad.evidence import write_evidence

        t = time.perf_counter()  # the events' pictures (no footage here: each says so), one process
        write_evidence(scores, events, work / "ev-one", clips=False, workers=1)
        ev_one = time.perf_counter() - t
        t = time.perf_counter()
        write_evidence(scores, events, work / "ev-many", clips=False, workers=args.workers)
        ev_many = time.perf_counter() - t
        report, _ = timed_report(scores, work / "report", events, args.workers)
        first, first_drawn = timed_report(scores, work / "rerun", events, 1)
        same, same_drawn = timed_report(scores, work / "rerun", events, 1)  # nothing changed
        changed = one_changed(scores, events)
        one, one_drawn = timed_report(changed, work / "rerun", find_events(changed), 1)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{args.videos} videos, {sum(len(v.scores) for v in scores)} clips, {len(events.events)} events "
          f"({platform.node()}, {os.cpu_count()} cores)")
    print(f"scores folder: write {t_write:.2f} s + read {t_read:.2f} s; row-by-row csv baseline {baseline:.2f} s; "
          f"ratio {baseline / (t_write + t_read):.2f}")
    print(f"events: {t_events:.2f} s")
    print(f"timelines, one process: {one:.1f} s; worker processes ({args.workers or 'cores'}): {many:.1f} s; "
          f"ratio {one / many:.2f}")
    print(f"event pictures, one process: {ev_one:.1f} s; worker processes ({args.workers or 'cores'}): "
          f"{ev_many:.1f} s; ratio {ev_one / ev_many:.2f}")
    print(f"report (timelines and event pictures in worker processes, page): {report:.1f} s")
    print(f"report in one process: first {first:.1f} s ({first_drawn} of {args.videos} timelines drawn); rerun, "
          f"nothing changed: {same:.1f} s ({same_drawn} drawn), ratio first/rerun {first / same:.2f}; rerun, one "
          f"video's scores changed: {one:.1f} s ({one_drawn} drawn), ratio {first / one:.2f}")
    clips = sum(len(v.scores) for v in scores)
    workers = args.workers or os.cpu_count()
    table = ["| what | one process / the way before, s | now, s | ratio |", "|---|---|---|---|",
             f"| segments.csv written and read: row-by-row `csv` baseline / videoad's columns | {baseline:.2f} | "
             f"{t_write + t_read:.2f} | **{baseline / (t_write + t_read):.2f}x** |",
             f"| timelines (`videoad plot`): one process / {workers} worker processes | {one:.1f} | {many:.1f} | "
             f"**{one / many:.2f}x** |",
             f"| the events' pictures: one process / {workers} worker processes | {ev_one:.1f} | {ev_many:.1f} | "
             f"**{ev_one / ev_many:.2f}x** |",
             f"| events found | | {t_events:.2f} | |",
             f"| the report (timelines and pictures in worker processes, the page) | | {report:.1f} | |",
             f"| the report in one process rerun, nothing changed: the first ({first_drawn} timelines drawn) / the "
             f"rerun ({same_drawn} drawn) | {first:.1f} | {same:.1f} | **{first / same:.2f}x** |",
             f"| the report in one process rerun, one video's scores changed: the first / the rerun ({one_drawn} "
             f"drawn) | {first:.1f} | {one:.1f} | **{first / one:.2f}x** |"]
    run.write(f"report_{args.videos}videos", f"The analyst's side over {args.videos} synthetic videos",
              f"{args.videos} synthetic videos shaped like a UCF-Crime run ({clips} clips at stride 16, 30 fps, "
              f"{len(events.events)} events), no source videos (so the events' pictures are drawn without footage); "
              "each way and its baseline measured in the same run, one after the other.",
              table, {"videos": args.videos, "clips": clips, "events": len(events.events), "workers": workers,
                      "seconds": {"segments_baseline": baseline, "segments_write": t_write, "segments_read": t_read,
                                  "events": t_events, "timelines_one": one, "timelines_workers": many,
                                  "pictures_one": ev_one, "pictures_workers": ev_many, "report": report,
                                  "report_one_process": first, "report_rerun_unchanged": same,
                                  "report_rerun_one_changed": one},
                      "timelines_drawn": {"report_one_process": first_drawn, "report_rerun_unchanged": same_drawn,
                                          "report_rerun_one_changed": one_drawn}},
              args.out)


if __name__ == "__main__":
    main()
