"""DUAD's two restart attempts in turn against side by side (`videoad.detector.attempts`).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_attempts.py --data ../shared/data

The video defaults fit DUAD twice on every group (cell rows never settle; docs/guard.md), and a
group fitted alone ran both on one core. This extracts UCSD Ped2's training clips with the
defaults (cached under runs/bench_attempts/), then fits them pooled (`videoad.video.detect`, the
default settings) with the attempts in turn and side by side, on all 16 clips and on the first 4
(fewer rows than `WORTH_ROWS`: where a process's start outweighs an attempt), `--repeat`
times each, alternating. The scores of both ways must be identical (checked); the figure is the
ratio of the medians of the same run. Writes benchmarks/results/attempts.{json,md}.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

OUT = Path(__file__).resolve().parent / "results"
CACHE = Path(__file__).resolve().parents[1] / "runs" / "bench_attempts"


def _store(frames: Path, clips: list[str], name: str) -> Path:
    from extract.backbones import get_backbone
    from extract.run import ExtractOptions, extract_videos

    out = CACHE / name
    sources = [frames / c for c in clips]
    summary = extract_videos(sources, out, get_backbone("motion"), ExtractOptions(image_fps=10.0, progress=False))
    if summary.failed:
        raise SystemExit(f"extraction failed: {[r.reason for r in summary.failed]}")
    return out


def _fit(store: Path, processes: int):
    from videoad import video
    from videoad.detector.attempts import attempt_processes

    cfg = video.DetectConfig(mode="pooled", seed=0)
    with attempt_processes(processes):
        t = time.perf_counter()
        scores = video.detect(store, cfg)
        return time.perf_counter() - t, scores


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=None, help="the shared data folder (else VIDEOAD_DATA)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--name", default="attempts")
    args = ap.parse_args()
    from videoad.data import locate
    from videoad.detector.attempts import WORTH_ROWS
    from videoad.video import open_store

    frames = locate("ucsd_ped2/training/frames", "UCSD Ped2 training frames", args.data)
    clips = sorted(p.name for p in frames.iterdir() if p.is_dir())
    rows = []
    for label, chosen in (("Ped2 training, 16 clips", clips), ("Ped2 training, first 4 clips", clips[:4])):
        store = _store(frames, chosen, f"ped2-train-{len(chosen)}")
        cells = sum(open_store(store).load(k).n_clips for k in open_store(store).keys()) * 16
        times: dict[int, list[float]] = {1: [], 2: []}
        first = {}
        for _ in range(args.repeat):
            for processes in (1, 2):
                seconds, scores = _fit(store, processes)
                times[processes].append(seconds)
                got = {v.video: np.asarray(v.scores) for v in scores}
                if processes in first:
                    assert all(np.array_equal(first[processes][k], got[k]) for k in got)
                first.setdefault(processes, got)
        same = all(np.array_equal(first[1][k], first[2][k]) for k in first[1])
        if not same:
            raise SystemExit(f"{label}: the scores differ between the attempts in turn and side by side")
        t1, t2 = statistics.median(times[1]), statistics.median(times[2])
        rows.append({"store": label, "cell_rows": cells, "in_turn_s": times[1], "side_by_side_s": times[2],
                     "median_in_turn_s": t1, "median_side_by_side_s": t2, "ratio": t1 / t2, "identical": same})
        print(f"{label}: {cells} cell rows, in turn {t1:.1f} s, side by side {t2:.1f} s, "
              f"{t1 / t2:.2f}x, scores identical", flush=True)
    meta = {"command": "OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_attempts.py " + " ".join(sys.argv[1:]),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs", "load": os.getloadavg(),
            "date": time.strftime("%Y-%m-%d %H:%M"), "worth_rows": WORTH_ROWS, "repeat": args.repeat}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{args.name}.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    lines = [f"# {args.name}", "", "Protocol: " + " ".join(__doc__.split("\n\n")[2].split()), "",
             f"Command: `{meta['command']}` ({meta['machine']}, load {meta['load'][0]:.2f}, {meta['date']}).", "",
             "| store | cell rows | in turn (median s) | side by side (median s) | ratio | scores identical |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r['store']} | {r['cell_rows']} | {r['median_in_turn_s']:.1f} | {r['median_side_by_side_s']:.1f} | "
              f"{r['ratio']:.2f}x | {'yes' if r['identical'] else 'NO'} |" for r in rows]
    (OUT / f"{args.name}.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT / (args.name + '.md')}")


if __name__ == "__main__":
    main()
