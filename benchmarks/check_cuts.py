"""Where the motion backbone's scene-cut rule fires, and where frames repeat, on every video the
repository's numbers come from.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/check_cuts.py

Each source is read as `videoad extract` reads it with the defaults (frame folders at 10 fps, the
10 fps cap, frames prepared at the working size), and every pair of consecutive sampled frames is
checked with the backbone's rule (`extract.cuts.is_cut_pair`: thumbnails correlating
below `CUT_CORRELATION` and grey histograms at least `CUT_HISTOGRAM` apart). Where no pair is a cut the default `cuts="skip"` gives the features of
`cuts="keep"` (the behaviour before it) exactly, so no number measured on those videos moves.
Sources: the shared videos (bikes.mp4 holds five known cuts, near frames 30, 76, 137, 187 and
242), UCSD Ped2's test and training frame folders, and every video of the development and
confirmation sets under runs/video_defaults/ that `benchmarks/video_defaults.py` has built on this
machine (the camera-fault copies grouped by fault). The same pass counts the sampled frames that
repeat the one before exactly at the working size (every one, whatever its run: what the option
`repeats="spread"` acts on): where there is none, it gives the features of the default
`repeats="keep"` exactly. Writes benchmarks/results/cuts_check.{json,md}.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/check_cuts.py --compilation

What the rule does to detection on an edited video: an 80-second compilation (built once under
runs/check_cuts/) that alternates the eight scored pieces of vtest-fresh (a real campus camera,
six pieces with an injected anomaly, `benchmarks/fresh_scene.py`) with the first 4.9 s of UCSD
Ped2 training clips 09-16 (another real camera, normal, resized to vtest's 768x576): fifteen hard
cuts, each between two real cameras. It is extracted with `cuts=skip` (the default) and
`cuts=keep` (the behaviour before) and scored alone with the detection defaults (DUAD over run
seeds 0-1, the kNN baseline beside it); reported: pooled frame AUROC and how many of the ten
highest-scoring clips hold a cut. Writes benchmarks/results/cuts_compilation.{json,md}.
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

from extract.backbones.motion import MotionBackbone  # noqa: E402
from extract.cuts import CUT_CORRELATION, CUT_HISTOGRAM, cut_signs, is_cut_pair  # noqa: E402
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
            parts = p.relative_to(built).parts
            group = f"dev/confirmation sets: {'/'.join(parts[:2]) if parts[0] in ('camera', 'light') else parts[0]}"
            if p.suffix in VIDEO_SUFFIXES and p.is_file():
                out.append((group, p, "video"))
            elif p.is_dir() and any(q.suffix in (".jpg", ".png") for q in p.iterdir()):
                out.append((group, p, "images"))
    return out


def check(path: Path, kind: str, backbone: MotionBackbone, spec: ClipSpec) -> dict:
    stream = open_image_folder(path, fps=10.0) if kind == "images" else open_video(path)
    rate = spec.rate_for(stream.fps)
    previous, cuts, near, pairs, flat, repeats = None, [], [], 0, 0, 0
    for index, frame in resample(stream.frames, stream.fps, rate):
        grey = backbone.prepare_frame(frame)
        if previous is not None:
            pairs += 1
            repeats += int(np.array_equal(previous, grey))
            signs = cut_signs(previous, grey)
            if signs is None:
                flat += 1
            elif is_cut_pair(signs):
                cuts.append({"frame": int(index), "correlation": round(signs[0], 3), "histogram": round(signs[1], 3)})
            else:
                near.append(signs)
        previous = grey
    low = min(near, key=lambda s: s[0]) if near else None
    return {"fps": round(float(stream.fps), 3), "sampled_fps": rate, "pairs": pairs, "cuts": cuts, "repeats": repeats,
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
    lines = ["# Where the scene-cut rule fires, and where frames repeat", "", __doc__.split("\n\n")[2].strip(), "",
             f"Command: `{meta['command']}` ({meta['date']}; a cut: thumbnail correlation below "
             f"{meta['threshold']}, histograms at least {meta['histogram']} apart).", "",
             "| sources | videos | frame pairs checked | pairs found to be cuts | where (sampled frame: correlation, histogram distance) "
             "| the other pairs: lowest correlation / largest histogram distance | spared by the histogram / by the correlation "
             "| sampled frames repeating the one before |",
             "|---|---|---|---|---|---|---|---|"]
    for group, rs in groups.items():
        where = "; ".join(f"{Path(r['path']).name}: " + ", ".join(f"{c['frame']} ({c['correlation']}, {c['histogram']})"
                                                                  for c in r["cuts"]) for r in rs if r["cuts"]) or "none"
        lows = [r["lowest_other_correlation"] for r in rs if r["lowest_other_correlation"] is not None]
        highs = [r["largest_other_histogram"] for r in rs if r["largest_other_histogram"] is not None]
        lines.append(f"| {group} | {len(rs)} | {sum(r['pairs'] for r in rs):,} | {sum(len(r['cuts']) for r in rs)} | "
                     f"{where} | {min(lows) if lows else '-'} / {max(highs) if highs else '-'} | "
                     f"{sum(r['spared_by_histogram'] for r in rs)} / {sum(r['spared_by_correlation'] for r in rs)} | "
                     f"{sum(r.get('repeats', 0) for r in rs):,} |")
    return "\n".join(lines) + "\n"


COMPILATION = ROOT / "runs" / "check_cuts" / "compilation"
PED2_NORMAL = [f"{k:02d}" for k in range(9, 17)]


def make_compilation(root: Path) -> tuple[Path, Path, list[int]]:
    """The edited video as a frame folder, its labels (csv) and the frames that start a new shot."""
    import shutil

    import cv2

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import fresh_scene  # noqa: E402 - the benchmark's own module

    fresh = ROOT / "runs" / "check_cuts" / "vtest-fresh"
    labels = fresh_scene.make_vtest_fresh(DATA / "videos" / "vtest.avi", fresh)
    frames, done = root / "frames" / "compilation", root / "labels.csv"
    starts = []
    if done.is_file():
        return frames, done, json.loads((root / "cuts.json").read_text())
    if frames.exists():
        shutil.rmtree(frames)
    frames.mkdir(parents=True)
    rows = [r.split(",") for r in Path(labels).read_text().splitlines()[1:]]
    n, spans = 0, []
    for (piece, start, end, count, _), ped2 in zip(rows, PED2_NORMAL):
        files = sorted((fresh / "eval" / piece).glob("*.jpg"))
        size = cv2.imread(str(files[0])).shape[1::-1]
        starts.append(n)
        if start:
            spans.append((n + int(start), n + int(end)))
        for f in files:
            shutil.copy2(f, frames / f"{n:05d}.jpg")
            n += 1
        starts.append(n)
        for f in sorted((DATA / "ucsd_ped2" / "training" / "frames" / ped2).glob("*.jpg"))[:len(files)]:
            cv2.imwrite(str(frames / f"{n:05d}.jpg"), cv2.resize(cv2.imread(str(f)), size, interpolation=cv2.INTER_AREA))
            n += 1
    cuts = starts[1:]
    (root / "cuts.json").write_text(json.dumps(cuts))
    done.write_text("video,start,end,n_frames,category\n"
                    + "".join(f"compilation,{a},{b},{n},edited\n" for a, b in spans))
    return frames, done, cuts


def compilation() -> dict:
    from dataclasses import replace

    from extract.backbones import get_backbone
    from extract.run import ExtractOptions, extract_videos
    from videoad import video
    from videoad.datasets.annotations import read_annotations
    from videoad.metrics import evaluate_scores

    frames, labels, cuts = make_compilation(COMPILATION)
    ann = read_annotations(labels)
    found = check(frames, "images", MotionBackbone(), ClipSpec(max_fps=MotionBackbone.default_max_fps))
    base = video.DetectConfig(mode="pooled")
    methods = [("DUAD defaults", base, (0, 1)), ("knn", replace(base, detector="knn", params={}), (0,))]
    rows = []
    for mode in ("skip", "keep"):
        out = COMPILATION / f"features-{mode}"
        summary = extract_videos(frames.parent, out, get_backbone("motion", cuts=mode),
                                 ExtractOptions(workers=2, recursive=True, progress=False, image_fps=10.0))
        if not summary.ok:
            raise SystemExit(summary.report())
        for method, cfg, seeds in methods:
            for seed in seeds:
                scores = video.detect(out, replace(cfg, seed=seed))
                v = next(iter(scores))
                top = np.argsort(-v.scores)[:10]
                with_cut = sum(any(v.frames[i, 0] < c <= v.frames[i, 1] for c in cuts) for i in top)
                rows.append({"cuts": mode, "method": method, "seed": seed,
                             "auroc": round(float(evaluate_scores(scores, ann).pooled.auroc), 4),
                             "top10_with_cut": int(with_cut),
                             "clips_with_cut": int(sum(any(a < c <= b for c in cuts) for a, b in v.frames))})
                print(json.dumps(rows[-1]), flush=True)
    return {"cuts": cuts, "found": found, "clips": int(len(v.frames)), "rows": rows}


def compilation_markdown(result: dict, meta: dict) -> str:
    lines = ["# Scene cuts and detection: an edited compilation of two real cameras", "",
             next(p for p in __doc__.split("\n\n") if p.startswith("What the rule")).strip(), "", f"Command: `{meta['command']}` ({meta['date']}). "
             f"{len(result['cuts'])} cuts; the rule finds {len(result['found']['cuts'])} "
             f"(at frames {', '.join(str(c['frame']) for c in result['found']['cuts'])}), and no other pair "
             f"(their lowest correlation {result['found']['lowest_other_correlation']}); "
             f"{result['rows'][0]['clips_with_cut']} of the {result['clips']} clips hold a cut.", "",
             "| cut pairs | method | run seed | pooled frame AUROC | of the 10 highest clips, holding a cut |",
             "|---|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['cuts']} | {r['method']} | {r['seed']} | {r['auroc']:.4f} | {r['top10_with_cut']} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--name", default="cuts_check")
    ap.add_argument("--compilation", action="store_true", help="the detection check on an edited compilation")
    args = ap.parse_args()
    if args.compilation:
        result = compilation()
        meta = {"command": "OMP_NUM_THREADS=1 .venv/bin/python benchmarks/check_cuts.py --compilation",
                "date": time.strftime("%Y-%m-%d %H:%M")}
        (OUT / "cuts_compilation.json").write_text(json.dumps({"meta": meta, **result}, indent=1))
        (OUT / "cuts_compilation.md").write_text(compilation_markdown(result, meta))
        print(compilation_markdown(result, meta))
        return
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
