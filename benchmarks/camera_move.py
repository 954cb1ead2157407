"""How far a camera may move before `--per-camera` calls it another camera: the scene picture
(`extract.scene.SceneSampler`, as extraction keeps it) of the shared vtest.avi (a 768x576 hall) as
filmed, against the same footage shifted sideways and zoomed in, compared by
`videoad.cameras.similarity` at the threshold `SAME_CAMERA`. A check, nothing chosen from it.

    .venv/bin/python benchmarks/camera_move.py --data ../shared/data    # benchmarks/results/camera_move.md

A shift of N pixels moves the picture N pixels left, the uncovered strip repeating the edge (as
`cv2.BORDER_REPLICATE`); a zoom of z% crops the centre (1 - z/100) of each side and scales it back.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from extract.scene import SceneSampler
from videoad import cameras

SHIFTS = (8, 16, 30, 60)
ZOOMS = (5, 10)


def frames(path: Path):
    cap = cv2.VideoCapture(str(path))
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                return
            yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    finally:
        cap.release()


def shifted(frame: np.ndarray, px: int) -> np.ndarray:
    h, w = frame.shape[:2]
    return cv2.warpAffine(frame, np.float32([[1, 0, -px], [0, 1, 0]]), (w, h), borderMode=cv2.BORDER_REPLICATE)


def zoomed(frame: np.ndarray, pct: int) -> np.ndarray:
    h, w = frame.shape[:2]
    dh, dw = int(round(h * pct / 200)), int(round(w * pct / 200))
    return cv2.resize(frame[dh:h - dh, dw:w - dw], (w, h), interpolation=cv2.INTER_LINEAR)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("-o", "--output", type=Path, default=Path("benchmarks/results/camera_move.md"))
    args = ap.parse_args(argv)
    video = args.data / "videos" / "vtest.avi"
    moves = {"as filmed": lambda f: f, **{f"shifted {s} px": (lambda f, s=s: shifted(f, s)) for s in SHIFTS},
             **{f"zoomed {z}%": (lambda f, z=z: zoomed(f, z)) for z in ZOOMS}}
    samplers = {name: SceneSampler() for name in moves}
    width = None
    for frame in frames(video):
        width = frame.shape[1]
        for name, move in moves.items():
            samplers[name].add(move(frame))
    if width is None:
        raise SystemExit(f"{video}: no frame read")
    base = samplers["as filmed"].picture()
    rows = []
    for name in moves:
        if name == "as filmed":
            continue
        sim = cameras.similarity(base, samplers[name].picture())
        verdict = "same camera" if sim >= cameras.SAME_CAMERA else "another camera"
        rows.append(f"| {name} | {sim:.3f} | {verdict} |")
        print(f"{name}: {sim:.3f} ({verdict})", flush=True)
    text = "\n".join([
        "# A camera that moves: its scene picture against the one as filmed", "",
        f"vtest.avi ({width} px wide), `SAME_CAMERA` = {cameras.SAME_CAMERA:g}. Command: "
        "`.venv/bin/python benchmarks/camera_move.py --data ../shared/data` (docstring: how each move is made).", "",
        "| move | correlation with the picture as filmed | at the threshold |", "|---|---|---|", *rows, ""])
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(f"written {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
