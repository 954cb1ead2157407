"""Time `videoad plot SCORES -o OUT` over a dataset-scale scores folder, this tree against the code
of an earlier commit, in the same run.

The scores are bench_report.py's synthetic UCF-Crime-like run (N videos of 300-3,000 clips, no
source videos, so each timeline's peak-frame boxes say why they are empty, as on a machine without
the footage). The command runs as a user runs it (a fresh process, the timelines in worker
processes, one per core up to 8), into an empty folder each time, with PYTHONPATH set to this tree
and to a git worktree of `--before` in turn, alternating which goes first each round; the
figures' pixels are then compared file by file (decoded PNGs: the bytes may differ where the zlib
level did). Prints the figures and writes benchmarks/results/plot_<N>videos.{json,md}
(`_thumbnails<K>` added for another --thumbnails):

    OMP_NUM_THREADS=1 MPLBACKEND=Agg .venv/bin/python benchmarks/bench_plot.py --videos 200
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
#: the code before the timelines' PNG was drawn once and packed at zlib level 3
BEFORE = "8700dc3"


def plot_seconds(tree: Path, scores: Path, out: Path, thumbnails: int) -> tuple[float, float]:
    """(wall, CPU) seconds of `videoad plot scores -o out` with the package of `tree` (run from
    there: `python -m` puts the working folder first on the path). The CPU seconds are the
    command's and its worker processes' (user and system): on a shared machine the wall time
    moves with the other jobs, the CPU time far less."""
    import resource

    env = {**os.environ, "PYTHONPATH": str(tree), "MPLBACKEND": "Agg"}
    where = subprocess.run([sys.executable, "-c", "import videoad; print(videoad.__file__)"], env=env, cwd=tree,
                           check=True, capture_output=True, text=True).stdout.strip()
    assert Path(where).is_relative_to(tree), f"{tree}: its videoad is not the one imported ({where})"
    def cpu():
        use = resource.getrusage(resource.RUSAGE_CHILDREN)
        return use.ru_utime + use.ru_stime

    t, c = time.perf_counter(), cpu()
    subprocess.run([sys.executable, "-m", "videoad", "plot", str(scores), "-o", str(out), "--thumbnails",
                    str(thumbnails)], env=env, cwd=tree, check=True, capture_output=True)
    return time.perf_counter() - t, cpu() - c


def savefig_twice(fig, out, **savefig) -> Path:
    """`plots.save_figure` as it was before: `Figure.savefig`, PIL's zlib level."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format=Path(out).suffix.lstrip(".") or "png", **savefig)
    Path(out).write_bytes(buf.getvalue())
    return Path(out)


def one_process(scores, events, thumbnails: int, work: Path) -> dict:
    """CPU seconds of each timeline drawn in this process with `savefig_twice` and with this tree's
    `save_figure`, the two in turn video by video (the start-up, reading and workers of the
    command left out; the machine's load falls on both alike)."""
    from videoad import plots

    real, spent = plots.save_figure, {"before": [], "now": []}
    try:
        for i, v in enumerate(scores):
            for which in (("before", "now") if i % 2 == 0 else ("now", "before")):
                plots.save_figure = savefig_twice if which == "before" else real
                t = time.process_time()
                plots.draw_timeline(v, work / f"{which}-{i}.png", events=events.of(v.video), thumbnails=thumbnails,
                                    ylim=plots.shared_ylim(scores.videos))
                spent[which].append(time.process_time() - t)
    finally:
        plots.save_figure = real
    return spent


def compare(before: Path, now: Path) -> dict:
    """Files, files of equal bytes, files of equal pixels, and the two folders' PNG bytes."""
    from PIL import Image

    a, b = sorted(before.glob("*.png")), sorted(now.glob("*.png"))
    assert [p.name for p in a] == [p.name for p in b] and a, "the two runs wrote different files"
    same_pixels = sum(np.array_equal(np.asarray(Image.open(x)), np.asarray(Image.open(y))) for x, y in zip(a, b))
    return {"files": len(a), "same_bytes": sum(x.read_bytes() == y.read_bytes() for x, y in zip(a, b)),
            "same_pixels": int(same_pixels), "bytes_before": sum(p.stat().st_size for p in a),
            "bytes_now": sum(p.stat().st_size for p in b)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--videos", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=2, help="runs of each code, alternating [default: 2]")
    ap.add_argument("--thumbnails", type=int, default=3, help="`plot --thumbnails` [default: 3, the command's]")
    ap.add_argument("--before", default=BEFORE, help=f"the commit to compare with [default: {BEFORE}]")
    ap.add_argument("--out", type=Path, default=None, help="results folder [default: benchmarks/results]")
    args = ap.parse_args()
    import _results
    from bench_report import scoreset

    from videoad.scores import write_scores

    run = _results.Run()
    work = Path(tempfile.mkdtemp(prefix="bench-plot-"))
    old = work / "before"
    try:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old), args.before], check=True,
                       capture_output=True)
        scores = scoreset(args.videos)
        write_scores(work / "scores", scores)
        seconds = {"before": [], "now": []}
        cpu = {"before": [], "now": []}
        for r in range(args.rounds):
            for which in (("before", "now") if r % 2 == 0 else ("now", "before")):
                wall, used = plot_seconds(old if which == "before" else ROOT, work / "scores", work / f"{which}{r}",
                                          args.thumbnails)
                seconds[which].append(wall)
                cpu[which].append(used)
        same = compare(work / "before0", work / "now0")
        from videoad.events import find_events

        (work / "here").mkdir()
        here = one_process(scores, find_events(scores), args.thumbnails, work / "here")
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    before, now = float(np.median(seconds["before"])), float(np.median(seconds["now"]))
    workers = min(8, os.cpu_count() or 1)
    per = {k: float(np.median(v)) / args.videos for k, v in cpu.items()}  # CPU seconds a figure
    clips = sum(len(v.scores) for v in scores)
    print(f"{args.videos} videos, {clips} clips, --thumbnails {args.thumbnails}, {workers} worker processes")
    print(f"videoad plot, median of {args.rounds}: {args.before} {before:.1f} s, this tree {now:.1f} s, "
          f"ratio {before / now:.2f} (each run: {seconds})")
    print(f"CPU seconds per figure (the command's, its start and reading included; median): {per['before']:.3f} s / "
          f"{per['now']:.3f} s, ratio {per['before'] / per['now']:.2f} (each run: {cpu})")
    mean = {k: float(np.mean(v)) for k, v in here.items()}
    print(f"one process, each timeline drawn both ways in turn (CPU seconds a figure, mean of {args.videos}): "
          f"savefig {mean['before']:.3f} s, now {mean['now']:.3f} s, ratio {mean['before'] / mean['now']:.2f}")
    print(f"figures: {same['same_pixels']} of {same['files']} the same pixels ({same['same_bytes']} the same bytes); "
          f"PNG bytes {same['bytes_before']} / {same['bytes_now']} ({same['bytes_now'] / same['bytes_before']:.3f}x)")
    table = ["| what | before, s | now, s | ratio |", "|---|---|---|---|",
             f"| `videoad plot` of {args.videos} videos, {workers} worker processes, wall (median of {args.rounds}) "
             f"| {before:.1f} | {now:.1f} | **{before / now:.2f}x** |",
             f"| CPU seconds per figure (the command's and its workers', start-up and reading included; median) | "
             f"{per['before']:.3f} | {per['now']:.3f} | **{per['before'] / per['now']:.2f}x** |",
             f"| one timeline in one process, CPU seconds (mean of {args.videos}, each drawn both ways in turn): "
             f"`Figure.savefig` as before / now | {mean['before']:.3f} | {mean['now']:.3f} | "
             f"**{mean['before'] / mean['now']:.2f}x** |",
             f"| the PNGs' bytes, all of them | {same['bytes_before']} | {same['bytes_now']} | "
             f"{same['bytes_now'] / same['bytes_before']:.3f}x |"]
    name = f"plot_{args.videos}videos" + (f"_thumbnails{args.thumbnails}" if args.thumbnails != 3 else "")
    run.write(name, f"`videoad plot` over {args.videos} synthetic videos",
              f"{args.videos} synthetic videos shaped like a UCF-Crime run ({clips} clips at stride 16, 30 fps; "
              f"benchmarks/bench_report.py's), no source videos; `videoad plot SCORES -o OUT --thumbnails "
              f"{args.thumbnails}` as a fresh process into an empty folder, the code of {args.before} (a git "
              f"worktree) and of this tree in turn, {args.rounds} rounds, alternating which runs first. "
              f"{same['same_pixels']} of {same['files']} figures have the same pixels "
              f"({same['same_bytes']} the same bytes).",
              table, {"videos": args.videos, "clips": clips, "thumbnails": args.thumbnails, "workers": workers,
                      "before": args.before, "seconds": seconds, "cpu_seconds": cpu, "cpu_per_figure": per,
                      "one_process_cpu": here,
                      "figures": same},
              args.out)


if __name__ == "__main__":
    main()
