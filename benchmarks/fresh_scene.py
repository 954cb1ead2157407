"""A confirmation set from a real scene that no setting was ever chosen on: ``vtest-fresh``.

The defaults were chosen on the development sets (benchmarks/dev_sets.py: the demo generator and
Ped2's training clips) and confirmed on Ped2 test 01-02, the demo's seeds 0-4 and Sultani's
features; every later round also read those confirmations. This set is built from footage none
of them touched: OpenCV's sample ``vtest.avi`` (``shared/data/videos``: a fixed camera over a
campus road, people walking, 768x576 colour, 10 fps, 795 frames), cut into sixteen pieces of 49
frames (about 5 s each). Pieces 01-08 (the first 39 s) are the normal history; pieces 09-16 (the
rest) are scored, six of them with one injected local anomaly on the plan of Ped2-dev
(``dev_sets.PED2DEV_PLAN``), sized for this camera:

* "fast": where people move in that stretch (the window of most frame-to-frame change), a patch
  of twice a person's height at that row plays at 2x speed for 20-35 frames: someone running;
* "object": a dark textured block, a person's height wide and 0.6 of it high (a cart, a small
  vehicle), crosses the frame at a row where people walk (the band below), at 12 px/frame, about
  1.5x a walker's speed here.

A person's height follows the frame row as in ``dev_sets.perspective_side`` (58 px at the top of
the 576 lines, 134 at the bottom: Ped2's 24-56 px scaled to this frame height). Ground truth:
the injected frames (`video,start,end,n_frames,category`, 1-based, inclusive). The anomalies are
still ours (the kinds of the development sets); the scene, camera, colour, resolution and crowd
are new, which is what this set tests.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from dev_sets import (PED2DEV_PLAN, STATIC_CATEGORY, _cross, _write_frames, fast_patch, leave_where_people_walk,
                      perspective_side, read_video, shake_where_people_move)

PIECE = 49
HISTORY = tuple(f"{i:02d}" for i in range(1, 9))
#: rows of the frame (as shares of its height) where people walk: the road and the near lawn
BAND = (0.2, 0.9)


def person_height(y: int, h: int) -> int:
    """Ped2's perspective (24-56 px on 240 lines) scaled to a frame `h` lines high."""
    return perspective_side(y, h, near=round(56 * h / 240), far=round(24 * h / 240))


def busiest_window(frames: np.ndarray, a: int, b: int, side: int, rows: tuple[int, int]) -> tuple[int, int]:
    """Top left corner of the side x side window, its top row within `rows`, with the most
    frame-to-frame change over frames a..b-1 (where the people are)."""
    import cv2

    grey = frames[a:b].mean(axis=3).astype(np.float32)
    change = np.abs(np.diff(grey, axis=0)).sum(axis=0)
    energy = cv2.boxFilter(change, -1, (side, side), normalize=False, anchor=(0, 0),
                           borderType=cv2.BORDER_CONSTANT)
    h, w = change.shape
    y_lo, y_hi = rows[0], min(rows[1], h - side)
    valid = energy[y_lo:y_hi + 1, : w - side + 1]
    y, x = np.unravel_index(int(np.argmax(valid)), valid.shape)
    return int(y + y_lo), int(x)


def make_vtest_fresh(video: Path, out: Path, seed: int = 2026) -> Path:
    """Write `out/fit/NN`, `out/eval/NN` frame folders and `out/labels.csv`; returns the labels."""
    labels = out / "labels.csv"
    if labels.is_file():
        return labels
    rng = np.random.default_rng(seed)
    frames, _ = read_video(video)
    n_pieces = len(HISTORY) + len(PED2DEV_PLAN)
    if len(frames) < n_pieces * PIECE:
        raise ValueError(f"{video}: {len(frames)} frames, {n_pieces * PIECE} needed")
    h, w = frames.shape[1:3]
    band = (int(BAND[0] * h), int(BAND[1] * h))
    rows = ["video,start,end,n_frames,category"]
    pieces = HISTORY + tuple(PED2DEV_PLAN)
    for i, name in enumerate(pieces):
        piece = frames[i * PIECE:(i + 1) * PIECE]
        if name in HISTORY:
            _write_frames(out / "fit" / name, piece)
            continue
        kind = PED2DEV_PLAN[name]
        a = int(rng.integers(PIECE // 5, PIECE // 2))
        if kind == "fast":
            b = min(PIECE, a + int(rng.integers(20, 36)))
            side = 2 * person_height((band[0] + band[1]) // 2, h)
            y, x = busiest_window(piece, a, b, side, (band[0], band[1] - side))
            side = min(2 * person_height(y + side // 2, h), h - y, w - x)
            piece = fast_patch(piece, a, b, rng, speed=2, side=side, y0=y, x0=x)
        elif kind == "object":
            y = int(rng.integers(band[0], band[1] - 100))
            ow = person_height(y, h)
            oh = int(0.6 * ow)
            texture = (rng.normal(60, 25, (oh, ow, 1)) * np.ones((1, 1, 3))).clip(0, 255).astype(np.uint8)
            piece = piece.copy()
            b = _cross(piece, a, y, texture, bool(rng.integers(0, 2)), speed=12.0)
        rows.append(f"{name},{a + 1},{b},{PIECE},{kind}" if kind else f"{name},,,{PIECE},normal")
        _write_frames(out / "eval" / name, piece)
    labels.write_text("\n".join(rows) + "\n")
    return labels


def _rewrite_scored(video: Path, out: Path, seed: int, inject) -> Path:
    """vtest-fresh's scored pieces (09-16) written to `out/eval/NN`, each the plan marks anomalous
    passed through `inject(piece, kind, rng, h, band)` -> (piece, first frame, end frame, category),
    and `out/labels.csv`; written once (the labels last). Returns the labels."""
    labels = out / "labels.csv"
    if labels.is_file():
        return labels
    rng = np.random.default_rng(seed)
    frames, _ = read_video(video)
    h = frames.shape[1]
    band = (int(BAND[0] * h), int(BAND[1] * h))
    rows = ["video,start,end,n_frames,category"]
    for i, name in enumerate(HISTORY + tuple(PED2DEV_PLAN)):
        if name in HISTORY:
            continue
        piece = frames[i * PIECE:(i + 1) * PIECE]
        if PED2DEV_PLAN[name] is None:
            rows.append(f"{name},,,{PIECE},normal")
        else:
            piece, a, b, category = inject(piece, PED2DEV_PLAN[name], rng, h, band)
            rows.append(f"{name},{a + 1},{b},{PIECE},{category}")
        _write_frames(out / "eval" / name, piece)
    labels.write_text("\n".join(rows) + "\n")
    return labels


def make_vtest_inplace(video: Path, out: Path, seed: int = 2027) -> Path:
    """vtest-fresh's scored pieces (09-16; its history 01-08 is `make_vtest_fresh`'s) with anomalies
    that go nowhere instead: in each piece the plan marks anomalous, where people move in that
    stretch, a window a person high shakes in place for 20-35 frames
    (`dev_sets.shake_where_people_move`: a struggle, someone waving or jumping). Writes `out/eval/NN` and
    `out/labels.csv`; returns the labels. A check: nothing is chosen on it."""
    def inplace(piece, _kind, rng, h, band):
        a = int(rng.integers(PIECE // 5, PIECE // 2))
        b = min(PIECE, a + int(rng.integers(20, 36)))
        piece = shake_where_people_move(piece, a, b, rng, lambda y: person_height(y, h), (band[0] + band[1]) // 2,
                                        band)
        return piece, a, b, "inplace"

    return _rewrite_scored(video, out, seed, inplace)


def make_vtest_static(video: Path, out: Path, seed: int = 2028) -> Path:
    """vtest-fresh's scored pieces (09-16; its history 01-08 is `make_vtest_fresh`'s) with anomalies
    that stay still instead: in each piece the plan marks anomalous, from a frame in its first half
    to its end, a bag left where people walk ("object") or a person standing there ("fast")
    (`dev_sets.leave_where_people_walk`). Writes `out/eval/NN` and `out/labels.csv`; returns the
    labels. A check: nothing is chosen on it."""
    def static(piece, kind, rng, h, band):
        a = int(rng.integers(PIECE // 5, PIECE // 2))
        piece = leave_where_people_walk(piece, a, rng, lambda y: person_height(y, h), (band[0] + band[1]) // 2,
                                        band, kind)
        return piece, a, PIECE, STATIC_CATEGORY[kind]

    return _rewrite_scored(video, out, seed, static)
