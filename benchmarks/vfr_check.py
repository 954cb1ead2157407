"""A camera that drops frames: what reading its frames' timestamps gives (a check, nothing chosen).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/vfr_check.py

Cameras and recorders under load drop frames and keep each written frame's timestamp, so the
gaps between frames vary. `videoad extract` reads such a file by its timestamps since
extract/timing.py; before, and still for a file whose timestamps were lost, the same frames
were read as if evenly spaced at their average rate. This script measures the difference on the
development sets of the frame-rate round, demo-fast x1 (benchmarks/dev_sets.py: the demo scene
filmed at 30 fps) at seeds 10-12, each fitted on its normal history (inductive) and alone
(transductive), in three versions of every video, history and scored alike:

- ``as filmed``: the 30 fps files as the generator wrote them (every frame);
- ``dropped, timestamps kept``: the same footage after a stalling camera: at each frame a stall
  starts with probability 4%, dropping the next 2-8 frames (67-267 ms); H.264 whose frames keep
  their 30 fps timestamps, so gaps are 33-300 ms. Read by timestamps (the default);
- ``dropped, timestamps lost``: the same kept frames with their timestamps replaced by an even
  spacing at their average rate, as a remux that dropped them would write: read as before.

Ground truth follows the kept frames (an interval covers the kept frames inside it). The
defaults of `videoad extract` / `videoad detect`, pooled; DUAD at run seeds 0-1 and kNN at seed 0
on the same rows; the alarm columns are the default line's outcome summed over the run seeds.
Results: benchmarks/results/vfr_check.{json,md}.
"""
from __future__ import annotations

import argparse
import csv
import fractions
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import dev_sets  # noqa: E402
import video_defaults as vd  # noqa: E402

from videoad import video  # noqa: E402
from videoad.bench.common import environment  # noqa: E402
from videoad.datasets.annotations import read_annotations  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
STALL_P = 0.04           # a stall starts at a frame with this probability
STALL_FRAMES = (2, 8)    # and drops this many frames (inclusive range)
VERSIONS = ("as filmed", "dropped, timestamps kept", "dropped, timestamps lost")


def kept_frames(n: int, rng: np.random.Generator) -> np.ndarray:
    """Indices a stalling camera writes out of `n` (the first and last always)."""
    keep = np.ones(n, dtype=bool)
    i = 1
    while i < n - 1:
        if rng.random() < STALL_P:
            length = int(rng.integers(STALL_FRAMES[0], STALL_FRAMES[1] + 1))
            keep[i:min(i + length, n - 1)] = False
            i += length
        else:
            i += 1
    return np.flatnonzero(keep)


def write_h264(path: Path, frames: list[np.ndarray], pts: list[int], rate: fractions.Fraction) -> None:
    """H.264 with each frame at `pts` in units of 1 / `rate` seconds."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=rate)
        h, w = frames[0].shape[:2]
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.codec_context.time_base = 1 / rate
        stream.options = {"crf": "18"}
        for img, p in zip(frames, pts):
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts, frame.time_base = int(p), 1 / rate
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def decode(path: Path) -> tuple[list[np.ndarray], float]:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        rate = float(stream.average_rate)
        return [f.to_ndarray(format="rgb24") for f in container.decode(stream)], rate


def drop_tree(src: Path, out: Path, seed: int) -> dict[str, np.ndarray]:
    """Both dropped versions of every video under `src/videos` (out/kept, out/lost); returns key
    -> kept source indices."""
    kept = {}
    for path in sorted((src / "videos").rglob("*.avi")):
        key = path.relative_to(src / "videos").with_suffix(".mp4")
        frames, fps = decode(path)
        rng = np.random.default_rng([seed, len(kept)])
        idx = kept_frames(len(frames), rng)
        kept[str(key.with_suffix(""))] = idx
        chosen = [frames[i] for i in idx]
        write_h264(out / "kept" / "videos" / key, chosen, idx.tolist(), fractions.Fraction(int(round(fps))))
        # timestamps lost: the same frames evenly spaced over the same span, at their average rate
        average = fractions.Fraction((len(idx) - 1) * int(round(fps)), int(idx[-1])).limit_denominator(10000)
        write_h264(out / "lost" / "videos" / key, chosen, list(range(len(idx))), average)
    return kept


def remapped_labels(ann, kept: dict[str, np.ndarray], path: Path) -> Path:
    """The ground truth on the kept frames: an interval covers the kept frames inside it."""
    rows = []
    for key, idx in kept.items():
        a = ann.require(key)
        n = len(idx)
        spans = []
        for s, e in a.intervals:
            inside = np.flatnonzero((idx >= s - 1) & (idx <= e - 1))
            if inside.size:
                spans.append((int(inside[0]) + 1, int(inside[-1]) + 1))
        rows += [[key, s, e, n, a.category] for s, e in spans] or [[key, "", "", n, a.category]]
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["video", "start", "end", "n_frames", "category"])
        writer.writerows(rows)
    return path


def sets_for(work: Path, seed: int) -> list[tuple]:
    root = work / f"demo-fast{dev_sets.DEV_FAST_FPS}-x1-{seed}"
    out = []
    filmed = list(vd._scene_sets(root, f"seed {seed}", lambda r: dev_sets.make_demo_far(seed, 1, r, fps=dev_sets.DEV_FAST_FPS),
                                 "default"))
    out += [(f"{name}, as filmed", *rest) for name, *rest in filmed]
    dropped = root / "dropped"
    if not (dropped / "labels_history.csv").is_file():
        ann = read_annotations(root / "data" / "Temporal_Anomaly_Annotation.txt",
                               frame_counts=root / "data" / "Test_Annotation.txt")
        hist_ann = read_annotations(root / "history" / "Temporal_Anomaly_Annotation.txt",
                                    frame_counts=root / "history" / "Test_Annotation.txt")
        remapped_labels(ann, drop_tree(root / "data", dropped / "data", seed), dropped / "labels.csv")
        remapped_labels(hist_ann, drop_tree(root / "history", dropped / "history", 1000 + seed),
                        dropped / "labels_history.csv")
    ann = read_annotations(dropped / "labels.csv")
    for version, folder in (("dropped, timestamps kept", "kept"), ("dropped, timestamps lost", "lost")):
        feats = vd._extract(dropped / "data" / folder / "videos", dropped / f"features-{folder}")
        fit = vd._extract(dropped / "history" / folder / "videos", dropped / f"history-{folder}")
        out += [(f"seed {seed}, fitted on normal history, {version}", "inductive", fit, feats, ann),
                (f"seed {seed}, {version}", "transductive", None, feats, ann)]
    return out


def markdown(res: dict) -> str:
    lines = ["# A camera that drops frames: reading its timestamps (a check, nothing chosen)", "",
             __doc__.split("\n\n", 2)[2].split("Results:")[0].strip(), "",
             f"Command: `{res['command']}` ({res['date']}, {res['seconds']:.0f} s).", "",
             "| set | method | pooled frame AUROC mean [min, max] | anomalous videos with an event | events in normal videos |",
             "|---|---|---|---|---|"]
    for r in res["rows"]:
        alarm = next(iter(r["alarms"].values())) if r.get("alarms") else None
        hit = f"{alarm['hit']} / {alarm['anomalous']}" if alarm else ""
        lines.append(f"| {r['set']} | {r['method']} | {r['auroc']:.4f} [{r['auroc_min']:.4f}, {r['auroc_max']:.4f}] | "
                     f"{hit} | {alarm['events_in_normal_videos'] if alarm else ''} |")
    lines += ["", "Means over the three seeds:", "", "| version | protocol | method | mean AUROC |", "|---|---|---|---|"]
    for version in VERSIONS:
        for protocol in ("inductive", "transductive"):
            for method in sorted({r["method"] for r in res["rows"]}):
                got = [r["auroc"] for r in res["rows"] if r["method"] == method and version in r["set"]
                       and ("fitted on normal history" in r["set"]) == (protocol == "inductive")]
                if got:
                    lines.append(f"| {version} | {protocol} | {method} | {np.mean(got):.4f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workdir", type=Path, default=ROOT / "runs" / "video_defaults")
    ap.add_argument("--seeds", default="10,11,12")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args()
    t0 = time.time()
    sets = [s for seed in map(int, args.seeds.split(",")) for s in sets_for(args.workdir, seed)]
    base = video.DetectConfig(mode="pooled")
    methods = [("DUAD defaults", base, (0, 1)), ("knn", replace(base, detector="knn", params={}), (0,))]
    rows = vd.measure_methods(sets, methods, alarms=True)
    res = {"rows": rows, "environment": environment(), "date": time.strftime("%Y-%m-%d %H:%M"),
           "seconds": time.time() - t0,
           "command": "OMP_NUM_THREADS=1 .venv/bin/python benchmarks/vfr_check.py" + "".join(f" {a}" for a in sys.argv[1:])}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "vfr_check.json").write_text(json.dumps(res, indent=1, default=str))
    (args.out / "vfr_check.md").write_text(markdown(res))
    print(markdown(res))


if __name__ == "__main__":
    main()
