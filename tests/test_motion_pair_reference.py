"""The motion backbone's frame-pair statistics, as computed since 2026-12-07 for speed (the channels
split once, the camera's field per row and column, |b - a| / 255 straight from uint8, the magnitude
bins counted in one bincount, `% bins` only where needed, np.median replaced by `_median`), give
the same bits as the straightforward computation below: every stored feature depends on them."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from extract.backbones.motion import CAMERA_INLIER, CAMERA_MIN_SHIFT, CAMERA_ROUNDS, MAGNITUDE_EDGES, \
    MotionBackbone, _camera_design, _median, _pixel_grid
from test_extract_motion import moving_square, shaken


def reference_camera_motion(flow: np.ndarray, step: int = 8) -> np.ndarray:
    rows, cols, design, centre = _camera_design(flow.shape[0], flow.shape[1], step)
    d = flow[rows, cols].astype(np.float64)
    target = d.ravel()
    residual = np.hypot(*(d - np.median(d, axis=0)).T)
    for _ in range(CAMERA_ROUNDS):
        keep = np.repeat(residual <= max(CAMERA_INLIER, 2.5 * float(np.median(residual))), 2)
        weighted = design.T * keep
        params = np.linalg.lstsq(weighted @ design, weighted @ target, rcond=None)[0]
        residual = np.hypot(*(design @ params - target).reshape(-1, 2).T)
    s_, r_, tx, ty = params
    a = np.array([[1 + s_, -r_], [r_, 1 + s_]])
    shift = np.array([tx, ty]) + centre - a @ centre
    return np.concatenate([a, shift[:, None]], axis=1)


def reference_pair_stats(bb: MotionBackbone, a: np.ndarray, b: np.ndarray, span: int = 1):
    """The statistics of one frame pair, one plain step after another (the code before 2026-12-07)."""
    cells, _, keep = bb._layout((a.shape[1], a.shape[0]))
    flow = bb._flow_engine().calc(a, b, None)
    if bb.stabilize:
        m = reference_camera_motion(flow)
        height, width = a.shape
        corners = np.array([[0, 0, 1], [width - 1, 0, 1], [0, height - 1, 1], [width - 1, height - 1, 1]], float)
        if np.hypot(*(corners @ m.T - corners[:, :2]).T).max() >= CAMERA_MIN_SHIFT:
            ys, xs = _pixel_grid(height, width)
            camera = np.stack([m[0, 0] * xs + m[0, 1] * ys + m[0, 2] - xs,
                               m[1, 0] * xs + m[1, 1] * ys + m[1, 2] - ys], axis=-1)
            b = cv2.warpAffine(b, m.astype(np.float32), (width, height),
                               flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
            flow = flow - camera
    half = (cv2.resize(flow, (flow.shape[1] // 2, flow.shape[0] // 2), interpolation=cv2.INTER_AREA)
            if bb.travel else None)
    magnitude, angle = cv2.cartToPolar(flow[..., 0].ravel(), flow[..., 1].ravel())
    magnitude, angle = magnitude.ravel(), angle.ravel()
    diff = np.abs(b.astype(np.int16) - a.astype(np.int16)).ravel() / 255.0
    if span > 1:
        magnitude, diff = magnitude / span, diff / span
    if keep is not None:
        magnitude, angle, diff = magnitude[keep], angle[keep], diff[keep]
    orientation = (angle * (bb.bins / (2 * np.pi)) + 0.5).astype(np.int64) % bb.bins
    n_mag, n_cells = len(MAGNITUDE_EDGES), bb.n_cells - 1

    def per_cell(index, weights, width):
        sums = np.bincount(index, weights=weights, minlength=n_cells * width).reshape(n_cells, width)
        sums = sums.astype(np.float64)
        return np.concatenate([sums, sums.sum(axis=0, keepdims=True)], axis=0)

    hof = per_cell(cells * bb.bins + orientation, magnitude, bb.bins)
    speed = sum((magnitude >= edge).astype(np.int64) for edge in MAGNITUDE_EDGES)
    moving = speed > 0
    hom = per_cell(cells[moving] * n_mag + speed[moving] - 1, None, n_mag)
    energy = per_cell(cells, diff, 1)[:, 0]
    return hof, hom, energy, False, half


def same_bits(x, y) -> bool:
    if x is None or y is None:
        return x is None and y is None
    if isinstance(x, bool):
        return x is y
    return x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()


CASES = {
    "defaults": {},
    "still camera off": {"stabilize": "off"},
    "mask, travel": {"mask": "0,0,0.3,0.5", "travel": "on"},
    "six bins, grid 3, local light": {"bins": 6, "grid": 3, "light": "local"},
}


@pytest.mark.parametrize("shake", [False, True], ids=["still", "shaken"])
@pytest.mark.parametrize("options", list(CASES.values()), ids=list(CASES))
def test_the_pair_statistics_are_the_straightforward_ones_bit_for_bit(options, shake):
    clip = moving_square(3, 1, n=6, size=120)
    clip = shaken(clip) if shake else clip
    bb = MotionBackbone(size="100x90", **options)  # a grid that does not divide the frame
    grey = [bb.prepare_frame(frame) for frame in clip]
    moved = False
    for a, b in zip(grey, grey[1:]):
        moved |= bb.stabilize and bb._steady(bb._flow_engine().calc(a, b, None), a, b)[0].dtype == np.float64
        for span in (1, 2):
            now = bb._pair_stats(a, b, span=span)
            before = reference_pair_stats(bb, a, b, span=span)
            assert all(same_bits(n, r) for n, r in zip(now, before)), (options, shake, span)
    # the shaken clip takes the camera's path (a float64 flow), the still one does not
    assert moved == (shake and bb.stabilize)


def test_the_clip_features_are_the_straightforward_ones_bit_for_bit():
    clip = shaken(moving_square(2, 2, n=20, size=120), seed=5)
    bb, ref = MotionBackbone(size="100x90"), MotionBackbone(size="100x90")
    ref._pair_stats = lambda a, b, cut=False, span=1: reference_pair_stats(ref, a, b, span)
    grey = np.stack([bb.prepare_frame(frame) for frame in clip])
    for start in (0, 4):  # overlapping clips: the second reads the pairs it shares from the cache
        assert bb.preprocess_prepared(grey[start:start + 16]).tobytes() == \
            ref.preprocess_prepared(grey[start:start + 16]).tobytes()


@pytest.mark.parametrize("n", [1, 2, 7, 1200, 1201])
def test_median_is_numpys(n):
    values = np.random.default_rng(n).normal(size=n) ** 3
    assert np.float64(_median(values)).tobytes() == np.float64(np.median(values)).tobytes()
    values[n // 2] = np.nan  # a non-finite flow sample: nan, as np.median's
    assert np.isnan(_median(values)) and np.isnan(np.median(values))
