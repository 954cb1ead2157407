"""Where the motion backbone's scene-cut rule fires, on every video the repository's numbers come from.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/check_cuts.py

Each source is read as `videoad extract` reads it with the defaults (frame folders at 10 fps, the
10 fps cap, frames prepared at the working size), and every pair of consecutive sampled frames is
checked with the backbone's rule (`extract.backbones.motion.is_cut_pair`: thumbnails correlating
below `CUT_CORRELATION` and grey histograms at least `CUT_HISTOGRAM` apart). Where no pair is a cut the default `cuts="skip"` gives the features of
`cuts="keep"` (the behaviour before it) exactly, so no number measured on those videos moves.
Sources: the shared videos (bikes.mp4 holds five known cuts, near frames 30, 76, 137, 187 and
242), UCSD Ped2's test and training frame folders, and every video of the development and
confirmation sets under runs/video_defaults/ that `benchmarks/video_defaults.py` has built on this
machine. Writes benchmarks/results/cuts_check.{json,md}.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extract.backbones.motion import CUT_CORRELATION, CUT_HISTOGRAM, MotionBackbone, cut_signs, is_cut_pair  # noqa: E402
from extract.clips import ClipSpec, resample  # noqa: E402
from extract.decode import open_image_folder, open_video  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
OUT = ROOT / "benchmarks" / "results"
VIDEO_SUFFIXES = (".avi", ".mp4", ".mkv", ".mov")


def default_sources() -> list[tuple[str, Path, str]]:
    """(group, path, kind) of every source the check reads by default."""
    out = [("shared videos", p, "video") for p in sorted((DATA / "videos").iterdir()) if p.suffix in VIDEO_SUFFIXES]
    for part in ("testing", "training"):
        out += [(f"UCSD Ped2 {part}", p, "images") for p in sorted((DATA / "ucsd_ped2" / part / "frames").iterdir())
                if p.is_dir()]
    built = ROOT / "runs" / "video_defaults"
    if built.is_dir():
        for p in sorted(built.rglob("*")):
            if p.suffix in VIDEO_SUFFIXES and p.is_file():
                out.append((f"dev/confirmation sets: {p.relative_to(built).parts[0]}", p, "video"))
            elif p.is_dir() and any(q.suffix in (".jpg", ".png") for q in p.iterdir()):
                out.append((f"dev/confirmation sets: {p.relative_to(built).parts[0]}", p, "images"))
    return out


def check(path: Path, kind: str, backbone: MotionBackbone, spec: ClipSpec) -> dict:
    stream = open_image_folder(path, fps=10.0) if kind == "images" else open_video(path)
    rate = spec.rate_for(stream.fps)
    previous, cuts, near, pairs, flat = None, [], [], 0, 0
    for index, frame in resample(stream.frames, stream.fps, rate):
        grey = backbone.prepare_frame(frame)
        if previous is not None:
            pairs += 1
            signs = cut_signs(previous, grey)
            if signs is None:
                flat += 1
            elif is_cut_pair(signs):
                cuts.append({"frame": int(index), "correlation": round(signs[0], 3), "histogram": round(signs[1], 3)})
            else:
                near.append(signs)
        previous = grey
    low = min(near, key=lambda s: s[0]) if near else None
    return {"fps": round(float(stream.fps), 3), "sampled_fps": rate, "pairs": pairs, "cuts": cuts,
            "low_contrast_pairs": flat,
            "lowest_other_correlation": None if low is None else round(low[0], 3),
            "largest_other_histogram": round(max(s[1] for s in near), 3) if near else None,
            # the pairs the rule spares that one sign alone would call a cut
            "spared_by_histogram": sum(1 for s in near if s[0] < CUT_CORRELATION),
            "spared_by_correlation": sum(1 for s in near if s[1] >= CUT_HISTOGRAM)}


def markdown(rows: list[dict], meta: dict) -> str:
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(r["group"], []).append(r)
    lines = ["# Where the scene-cut rule fires", "", __doc__.split("\n\n", 2)[2].strip(), "",
             f"Command: `{meta['command']}` ({meta['date']}; a cut: thumbnail correlation below "
             f"{meta['threshold']}, histograms at least {meta['histogram']} apart).", "",
             "| sources | videos | frame pairs checked | pairs found to be cuts | where (sampled frame: correlation, histogram distance) "
             "| the other pairs: lowest correlation / largest histogram distance | spared by the histogram / by the correlation |",
             "|---|---|---|---|---|---|---|"]
    for group, rs in groups.items():
        where = "; ".join(f"{Path(r['path']).name}: " + ", ".join(f"{c['frame']} ({c['correlation']}, {c['histogram']})"
                                                                  for c in r["cuts"]) for r in rs if r["cuts"]) or "none"
        lows = [r["lowest_other_correlation"] for r in rs if r["lowest_other_correlation"] is not None]
        highs = [r["largest_other_histogram"] for r in rs if r["largest_other_histogram"] is not None]
        lines.append(f"| {group} | {len(rs)} | {sum(r['pairs'] for r in rs):,} | {sum(len(r['cuts']) for r in rs)} | "
                     f"{where} | {min(lows) if lows else '-'} / {max(highs) if highs else '-'} | "
                     f"{sum(r['spared_by_histogram'] for r in rs)} / {sum(r['spared_by_correlation'] for r in rs)} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--name", default="cuts_check")
    args = ap.parse_args()
    backbone, spec = MotionBackbone(), ClipSpec(max_fps=MotionBackbone.default_max_fps)
    rows = []
    for group, path, kind in default_sources():
        row = {"group": group, "path": str(path.relative_to(ROOT.parent)), **check(path, kind, backbone, spec)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    meta = {"command": "OMP_NUM_THREADS=1 .venv/bin/python benchmarks/check_cuts.py", "threshold": CUT_CORRELATION,
            "histogram": CUT_HISTOGRAM,
            "date": time.strftime("%Y-%m-%d %H:%M")}
    (OUT / f"{args.name}.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    (OUT / f"{args.name}.md").write_text(markdown(rows, meta))
    print(markdown(rows, meta))


if __name__ == "__main__":
    main()
