"""The motion backbone's per-frame-pair statistics (`MotionBackbone._pair_stats`): the code before
2026-12-07 (kept below as `pair_stats_before`) against the current one, on the same frames in the
same run, alternating; every output compared bit for bit.

Before: the flow's channels copied out of the (H, W, 2) array, |b - a| / 255 through two int16
copies, the magnitude bins as a sum of five int64 arrays, the moving pixels picked out before
their counts, and with `stabilize` an (H, W, 2) float64 camera field and its difference. Now: the
channels split once (in place of the camera's field, per channel), |b - a| by cv2.absdiff divided
straight from uint8, the magnitude bins counted in one bincount of uint8 levels. Both sides call
the current `camera_motion` (its `_median` in place of np.median): its gain is not in the ratios.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_motion_pairs.py [VIDEO ...] [--rounds 3]

Prints, per video and in all, CPU seconds before / now (process time: the other jobs on a shared
machine count less than in wall time): what follows the flow alone (the flows computed once and
handed back), the pair statistics with the flow, and the backbone over the video's clips (pair
cache and flow included: what extraction's decode workers spend beside decoding). Exits 1 when any
output differs.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from extract.backbones import get_backbone  # noqa: E402
from extract.backbones import motion  # noqa: E402
from extract.clips import iter_clips  # noqa: E402
from extract.decode import open_video  # noqa: E402
from extract.run import ExtractOptions  # noqa: E402

MAGNITUDE_EDGES = motion.MAGNITUDE_EDGES


def steady_before(flow, a, b):
    import cv2

    m = motion.camera_motion(flow)
    height, width = a.shape
    corners = np.array([[0, 0, 1], [width - 1, 0, 1], [0, height - 1, 1], [width - 1, height - 1, 1]], float)
    moved = corners @ m.T - corners[:, :2]
    if np.hypot(*moved.T).max() < motion.CAMERA_MIN_SHIFT:
        return flow, b
    ys, xs = motion._pixel_grid(height, width)
    camera = np.stack([m[0, 0] * xs + m[0, 1] * ys + m[0, 2] - xs,
                       m[1, 0] * xs + m[1, 1] * ys + m[1, 2] - ys], axis=-1)
    aligned = cv2.warpAffine(b, m.astype(np.float32), (width, height),
                             flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
    return flow - camera, aligned


def pair_stats_before(self, a, b, cut=False, span=1):
    """`MotionBackbone._pair_stats` as of commit d063a02 (bound to a backbone by the caller)."""
    import cv2

    cells, _, keep = self._layout((a.shape[1], a.shape[0]))
    if cut:
        self._cut_log.pairs += 1
        n_mag = len(MAGNITUDE_EDGES)
        return np.zeros((self.n_cells, self.bins)), np.zeros((self.n_cells, n_mag)), np.zeros(self.n_cells), True, None
    flow = self._flow_engine().calc(a, b, None)
    if self.stabilize:
        flow, b = steady_before(flow, a, b)
    half = (cv2.resize(flow, (max(1, flow.shape[1] // 2), max(1, flow.shape[0] // 2)), interpolation=cv2.INTER_AREA)
            if self.travel else None)
    magnitude, angle = cv2.cartToPolar(flow[..., 0].ravel(), flow[..., 1].ravel())
    magnitude, angle = magnitude.ravel(), angle.ravel()
    diff = np.abs(b.astype(np.int16) - a.astype(np.int16)).ravel() / 255.0
    if span > 1:
        magnitude, diff = magnitude / span, diff / span
    if keep is not None:
        magnitude, angle, diff = magnitude[keep], angle[keep], diff[keep]
    orientation = (angle * (self.bins / (2 * np.pi)) + 0.5).astype(np.int64) % self.bins
    hof = self._cell_sums(cells * self.bins + orientation, magnitude, self.bins)
    speed = sum((magnitude >= edge).astype(np.int64) for edge in MAGNITUDE_EDGES)
    moving = speed > 0
    n_mag = len(MAGNITUDE_EDGES)
    hom = self._cell_sums(cells[moving] * n_mag + speed[moving] - 1, None, n_mag)
    energy = self._cell_sums(cells, diff, 1)[:, 0]
    return hof, hom, energy, False, half


def prepared_clips(path: str, backbone) -> list:
    """The clips of one video as the workers hand them to the backbone (motion defaults)."""
    spec = ExtractOptions().clip_spec(backbone)
    stream = open_video(path)
    try:
        return [(clip.prepared, clip.sources)
                for clip in iter_clips(stream.frames, spec, stream.fps, prepare=backbone.prepare_frame, keep_frames=False)]
    finally:
        stream.close()


def same(x, y) -> bool:
    if x is None or y is None:
        return x is None and y is None
    if isinstance(x, (bool, np.bool_)):
        return bool(x) == bool(y)
    x, y = np.asarray(x), np.asarray(y)
    return x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()


KEYS = ("after_flow_before", "after_flow_now", "pairs_before", "pairs_now", "clips_before", "clips_now")


class _Given:
    """A flow engine that hands back flows computed beforehand, in turn."""

    def __init__(self, flows):
        self.flows, self.i = flows, 0

    def calc(self, a, b, _):
        self.i += 1
        return self.flows[self.i - 1]


def run_video(path: str, rounds: int, options: dict) -> tuple[dict, bool]:
    backbone = get_backbone("motion", **options)
    clips = prepared_clips(path, backbone)
    frames = [clips[0][0][0]] + [c[0][t] for c in clips for t in range(1, len(c[0]))]
    pairs = [(frames[i], frames[i + 1]) for i in range(min(len(frames) - 1, 120))]
    # every pair's statistics, both ways, compared bit for bit
    equal = True
    for a, b in pairs:
        for span in (1, 2):
            old = pair_stats_before(backbone, a, b, span=span)
            new = backbone._pair_stats(a, b, span=span)
            equal &= all(same(o, n) for o, n in zip(old, new))
    times = dict.fromkeys(KEYS, 0.0)
    feats = {}
    flows = [backbone._flow_engine().calc(a, b, None) for a, b in pairs]
    engine = backbone._flow_engine()
    for _ in range(rounds):
        for which, fn in (("before", pair_stats_before), ("now", type(backbone)._pair_stats)):
            # what follows the flow alone: the flow computed once beforehand and handed back
            backbone._flow = _Given(flows)
            t0 = time.process_time()
            for a, b in pairs:
                fn(backbone, a, b)
            times[f"after_flow_{which}"] += time.process_time() - t0
            backbone._flow = engine
            t0 = time.process_time()
            for a, b in pairs:
                fn(backbone, a, b)
            times[f"pairs_{which}"] += time.process_time() - t0
            # the whole backbone over the video's clips, pair cache and flow included
            backbone._pair_stats = fn.__get__(backbone)
            backbone.start_video()
            t0 = time.process_time()
            out = np.stack([backbone.preprocess_prepared(p, s) for p, s in clips])
            times[f"clips_{which}"] += time.process_time() - t0
            del backbone._pair_stats
            if which in feats:
                equal &= same(feats[which], out)
            feats[which] = out
    equal &= same(feats["before"], feats["now"])
    times["n_pairs"], times["n_clips"] = len(pairs), len(clips)
    return times, equal


LABELS = (("after_flow", "after the flow"), ("pairs", "pair statistics with the flow"),
          ("clips", "backbone over the clips"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(os.environ.get("VIDEOAD_DATA", "../shared/data")) / "videos"
    parser.add_argument("videos", nargs="*", help=f"video files (default: every file in {default})")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--opt", action="append", default=[], help="backbone option key=value (e.g. mask=0,0,0.3,1)")
    args = parser.parse_args()
    videos = args.videos or sorted(str(p) for p in default.iterdir() if p.is_file())
    options = dict(o.split("=", 1) for o in args.opt)
    load = os.getloadavg()
    total = dict.fromkeys(KEYS, 0.0)
    all_equal = True
    print(f"motion backbone{' ' + str(options) if options else ''}, {args.rounds} round(s), alternating; "
          f"load average {load[0]:.1f}")
    for video in videos:
        times, equal = run_video(video, args.rounds, options)
        all_equal &= equal
        for k in total:
            total[k] += times[k]
        print(f"{Path(video).name}: {times['n_pairs']} pairs, {times['n_clips']} clips; before / now, CPU s: "
              + "; ".join(f"{label} {times[k + '_before']:.2f} / {times[k + '_now']:.2f} "
                          f"({times[k + '_before'] / times[k + '_now']:.2f}x)" for k, label in LABELS)
              + f"; outputs {'identical' if equal else 'DIFFER'}")
    print("all (before / now): " + ", ".join(f"{label} {total[k + '_before'] / total[k + '_now']:.2f}x" for k, label in LABELS)
          + f"; outputs {'identical' if all_equal else 'DIFFER'}; load average {load[0]:.1f} -> {os.getloadavg()[0]:.1f}")
    return 0 if all_equal else 1


if __name__ == "__main__":
    sys.exit(main())
