"""Time the analyst's side over many videos: the scores folder, events, timelines (`videoad plot`),
the report.

Synthetic scores shaped like a UCF-Crime run (N videos of 300-3,000 clips at stride 16, 30 fps, a
few bursts each), no source videos (the report notes that). Timelines and the events' pictures
are drawn in one process and in worker processes in the same run, so the ratio is measured on
the same machine state; the scores folder's segments.csv is written and read by videoad and by a
row-by-row `csv` baseline (the way it was read and written until 2026-12-06) in the same run.
Then a report in one process is rerun into its folder twice, as an analyst reruns it: with
nothing changed, and with one video's scores changed (a quiet video, inside the shared y-range):
each rerun draws only the timelines, and makes only the event pictures, whose inputs changed
(videoad.output_keys); its seconds and the timelines and event pictures it wrote (by their files'
inodes) are printed beside the first report's. In one process, so that the ratio is the kept
files' alone: worker processes gain or lose with the machine's load (above), and a rerun's few
files are made in the main process anyway. `--footage SCORES`: also a report with clips of a
scores folder whose sources are video files, and its rerun (the clips are what a rerun with
footage cost most; the synthetic run has no footage).
Prints the figures and writes benchmarks/results/report_<N>videos.{json,md} (`--out` for another
folder):

    OMP_NUM_THREADS=1 MPLBACKEND=Agg .venv/bin/python benchmarks/bench_report.py --videos 200

and with footage (`OUT/scores`: the scores of the three sample videos of /work/shared/data/videos):

    OMP_NUM_THREADS=1 MPLBACKEND=Agg .venv/bin/videoad run /work/shared/data/videos -o OUT --min-clips 20
    OMP_NUM_THREADS=1 MPLBACKEND=Agg .venv/bin/python benchmarks/bench_report.py --videos 200 --footage OUT/scores
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


def timed_report(scores, folder: Path, events, workers, **kw) -> tuple[float, int, int, int]:
    """(seconds, timelines drawn, event pictures made, event clips made) of one `build_report` into
    `folder`: a file is written where it is a new one (written through a temporary and a rename), told by
    its inode and its modification time together: a file written anew may take the inode just freed."""
    from videoad.report import build_report

    kinds = {"timelines": ("timelines", ("*.png",)), "pictures": ("events", ("*.png",)),
             "clips": ("events", ("*.mp4", "*.webm"))}

    def files(sub, globs):
        return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for g in globs for p in (folder / sub).glob(g)}

    before = {kind: files(*where) for kind, where in kinds.items()}
    t = time.perf_counter()
    build_report(scores, folder, events=events, workers=workers, **{"clips": False, **kw})
    seconds = time.perf_counter() - t
    return (seconds, *(sum(before[kind].get(name) != ino for name, ino in files(*where).items())
                       for kind, where in kinds.items()))


def footage_reruns(scores_dir: Path, work: Path) -> dict:
    """A report with clips of a scores folder whose sources are video files, in one process, and
    its rerun with nothing changed: seconds, and the timelines, pictures and clips each wrote."""
    from videoad.events import find_events, read_settings
    from videoad.scores import read_scores

    scores = read_scores(scores_dir)
    events = find_events(scores, read_settings(scores.path, scores.meta))
    first = timed_report(scores, work / "footage", events, 1, clips=True)
    again = timed_report(scores, work / "footage", events, 1, clips=True)
    return {"videos": len(scores), "frames": sum(v.n_frames for v in scores), "events": len(events.events),
            "first": first, "rerun": again}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--videos", type=int, default=200)
    ap.add_argument("--workers", type=int, default=None, help="processes for the parallel runs [default: the cores]")
    ap.add_argument("--out", type=Path, default=None, help="results folder [default: benchmarks/results]")
    ap.add_argument("--footage", type=Path, default=None, help="also a report with clips of this scores folder, "
                    "its sources video files (`videoad run VIDEOS -o OUT` writes OUT/scores), and its rerun")
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
        report = timed_report(scores, work / "report", events, args.workers)[0]
        first, first_drawn, first_made, _ = timed_report(scores, work / "rerun", events, 1)
        same, same_drawn, same_made, _ = timed_report(scores, work / "rerun", events, 1)  # nothing changed
        changed = one_changed(scores, events)
        # (named apart from `one`: the timelines' one-process seconds above were overwritten by this rerun's)
        one_changed_s, one_drawn, one_made, _ = timed_report(changed, work / "rerun", find_events(changed), 1)
        footage = footage_reruns(args.footage, work) if args.footage else None
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
    n_ev = len(events.events)
    print(f"report in one process: first {first:.1f} s ({first_drawn} of {args.videos} timelines drawn, {first_made} "
          f"of {n_ev} event pictures made); rerun, nothing changed: {same:.2f} s ({same_drawn} drawn, {same_made} "
          f"made), ratio first/rerun {first / same:.2f}; rerun, one video's scores changed: {one_changed_s:.2f} s "
          f"({one_drawn} drawn, {one_made} made), ratio {first / one_changed_s:.2f}")
    if footage:
        (f1, *made1), (f2, *made2) = footage["first"], footage["rerun"]
        print(f"report with clips of {args.footage} ({footage['videos']} videos, {footage['frames']} frames, "
              f"{footage['events']} events), one process: first {f1:.2f} s (timelines, event pictures, clips made: "
              f"{', '.join(map(str, made1))}); rerun, nothing changed: {f2:.2f} s ({', '.join(map(str, made2))}), "
              f"ratio first/rerun {f1 / f2:.2f}")
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
             f"| the report in one process rerun, nothing changed: the first ({first_drawn} timelines drawn, "
             f"{first_made} event pictures made) / the rerun ({same_drawn} drawn, {same_made} made) | {first:.1f} | "
             f"{same:.2f} | **{first / same:.2f}x** |",
             f"| the report in one process rerun, one video's scores changed: the first / the rerun ({one_drawn} "
             f"drawn, {one_made} made) | {first:.1f} | {one_changed_s:.2f} | **{first / one_changed_s:.2f}x** |"]
    if footage:
        table.append(f"| a report with clips of real footage (`--footage`: {footage['videos']} videos, "
                     f"{footage['frames']} frames, {footage['events']} events) in one process rerun, nothing changed: "
                     f"the first (timelines, event pictures, clips made: {', '.join(map(str, made1))}) / the rerun "
                     f"({', '.join(map(str, made2))}) | {f1:.2f} | {f2:.2f} | **{f1 / f2:.2f}x** |")
    run.write(f"report_{args.videos}videos", f"The analyst's side over {args.videos} synthetic videos",
              f"{args.videos} synthetic videos shaped like a UCF-Crime run ({clips} clips at stride 16, 30 fps, "
              f"{len(events.events)} events), no source videos (so the events' pictures are drawn without footage); "
              "each way and its baseline measured in the same run, one after the other."
              + (f" The `--footage` row: a report with clips (the defaults: 3 s of footage either side, no heat map "
                 f"burnt in) of the scores {args.footage}, whose sources are video files, into an empty folder and "
                 "rerun into it." if footage else ""),
              table, {"videos": args.videos, "clips": clips, "events": len(events.events), "workers": workers,
                      "seconds": {"segments_baseline": baseline, "segments_write": t_write, "segments_read": t_read,
                                  "events": t_events, "timelines_one": one, "timelines_workers": many,
                                  "pictures_one": ev_one, "pictures_workers": ev_many, "report": report,
                                  "report_one_process": first, "report_rerun_unchanged": same,
                                  "report_rerun_one_changed": one_changed_s},
                      "timelines_drawn": {"report_one_process": first_drawn, "report_rerun_unchanged": same_drawn,
                                          "report_rerun_one_changed": one_drawn},
                      "event_pictures_made": {"report_one_process": first_made, "report_rerun_unchanged": same_made,
                                              "report_rerun_one_changed": one_made},
                      **({"footage": {"scores": str(args.footage),
                                      **{k: footage[k] for k in ("videos", "frames", "events")},
                                      **{run: dict(zip(("seconds", "timelines_drawn", "pictures_made", "clips_made"),
                                                       footage[run])) for run in ("first", "rerun")}}}
                         if footage else {})},
              args.out)


if __name__ == "__main__":
    main()
