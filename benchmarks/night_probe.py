"""After check-night and check-night-blur: can the motion backbone's own options, or a gain that
brings a dark picture back to range, lift detection at night? A probe on Ped2-dev only (its eight
history and eight scored clips through `dev_sets.camera_effect`'s night, history alike), run seed
0, DUAD defaults and the kNN baseline on the same cell rows; the default extraction in the same
run. Variants: a stronger blur, a smaller working size (fewer pixels averaged into each: less
noise per pixel), and each frame scaled so that its 99th percentile sits at 200 (an auto-gain,
applied to the frames on disk) with and without blur. Nothing is chosen on it: a lift here would
be the lead of a development round, none is a measured limitation.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/night_probe.py   # benchmarks/results/video_probe_night.md
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import dev_sets  # noqa: E402
import video_defaults as vd  # noqa: E402

from videoad.datasets.annotations import read_annotations  # noqa: E402

#: label -> (motion backbone options, frames scaled to range first)
VARIANTS = {"default": ({}, False), "blur 1.5": ({"blur": 1.5}, False), "blur 3": ({"blur": 3.0}, False),
            "at most 120 lines, blur 1.5": ({"max_height": 120, "blur": 1.5}, False),
            "at most 120 lines, blur 3": ({"max_height": 120, "blur": 3.0}, False),
            "at most 80 lines, blur 2": ({"max_height": 80, "blur": 2.0}, False),
            "gain to range": ({}, True), "gain to range, blur 1.5": ({"blur": 1.5}, True),
            "gain to range, blur 3": ({"blur": 3.0}, True)}
#: the 99th percentile of a frame's values is scaled to this (an auto-gain)
GAIN_TARGET = 200.0


def gain_tree(src: Path, dst: Path) -> None:
    """Each frame of `src` scaled so that its 99th percentile is GAIN_TARGET (missing ones only)."""
    import cv2
    import numpy as np

    for f in sorted(src.rglob("*.jpg")):
        out = dst / f.relative_to(src)
        if out.exists():
            continue
        out.parent.mkdir(parents=True, exist_ok=True)
        img = cv2.imread(str(f)).astype(np.float32)
        img *= GAIN_TARGET / max(float(np.percentile(img, 99)), 1.0)
        cv2.imwrite(str(out), np.clip(img, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 95])


def night_sets(work: Path, label: str):
    opts, gain = VARIANTS[label]
    labels = dev_sets.make_ped2dev(vd.DATA / "ucsd_ped2" / "training" / "frames", work / "ped2dev")
    dst = work / "camera" / "night" / "ped2dev"
    for part in ("fit", "eval"):
        dev_sets.degrade_tree(work / "ped2dev" / part, dst / part, "night", seed=123, image_fps=10)
    if gain:
        for part in ("fit", "eval"):
            gain_tree(dst / part, dst.parent / "ped2dev-gain" / part)
        dst = dst.parent / "ped2dev-gain"
    tag = "probe-" + "".join(c if c.isalnum() else "_" for c in label)
    ev = vd._extract(dst / "eval", dst / f"eval-features-{tag}", opts, None, image_fps=10)
    fit = vd._extract(dst / "fit", dst / f"fit-features-{tag}", opts, None, image_fps=10)
    ann = read_annotations(labels)
    yield f"Ped2-dev inductive (night), {label}", "inductive", fit, ev, ann
    yield f"Ped2-dev transductive (night), {label}", "transductive", None, ev, ann


def main() -> None:
    args = vd.probe_args(__doc__.splitlines()[0])
    rows = vd.probe_rows(lambda label: night_sets(args.workdir, label), VARIANTS)
    vd.write("video_probe_night", {"rows": rows}, {
        "title": "Video defaults: denoising and gain at night (a probe on Ped2-dev, nothing chosen)",
        "protocol": (f"Ped2-dev through `dev_sets.camera_effect`'s night (gain {dev_sets.LIGHT_EFFECTS['night'][0]:g}, "
                     f"gamma {dev_sets.LIGHT_EFFECTS['night'][1]:g}, noise {dev_sets.LIGHT_EFFECTS['night'][2]:g} grey "
                     "levels), history and scored clips alike; each variant of the extraction (motion backbone "
                     f"options; 'gain to range': every frame scaled so its 99th percentile is {GAIN_TARGET:g} before "
                     "extraction), then DUAD defaults and kNN at run seed 0, pooled frame AUROC."),
        "command": "OMP_NUM_THREADS=1 .venv/bin/python benchmarks/night_probe.py"}, args.out)


if __name__ == "__main__":
    main()
