"""A weight-free spatio-temporal motion descriptor: the default backbone on an offline machine.

Surveillance anomalies are mostly about motion (a cyclist among walkers, a fight, a car
where none goes), and a fixed camera makes hand-made motion statistics meaningful without any
training. Per 16-frame clip, on a grey copy resized to a fixed working size:

* dense optical flow (OpenCV DIS, ultrafast preset refined down to half resolution: the
  presets' own coarser finest scale loses most of the motion of small, slow pedestrians at
  this working size) between consecutive frames;
* per cell of a `grid` x `grid` layout, plus one cell for the whole frame:
  - a histogram of flow orientation weighted by magnitude (`bins` bins; the mean flow per
    direction, in working-size pixels per frame),
  - a histogram of flow magnitude (5 log-spaced bins from 0.25 px/frame; the fraction of
    pixels that moved that fast, static pixels counted in none),
  - frame-difference energy: mean |I(t+1) - I(t)| / 255, averaged over the clip and at its
    peak (bursts such as a fall or a cut).

Dimension with the defaults: 17 cells x (8 + 5 + 2) = 255. Values are in physical units, not
normalised, so clips stay comparable across videos; the detector decides on scaling.

Why the whole descriptor runs in `preprocess`: there is no model, hence nothing for the main
process to hold; computing it in the decode workers spreads it over all of them (the base
class's "cheap preprocess" rule is about keeping torch state out of workers).
`forward_batch` only stacks. Every clip is computed on its own, deterministically, so
features do not depend on batching, worker count or interruption.
"""
from __future__ import annotations

import logging
from typing import Any

import numpy as np

from .base import Backbone

log = logging.getLogger(__name__)

#: lower edges of the magnitude bins, in working-size pixels per frame
MAGNITUDE_EDGES = (0.25, 0.5, 1.0, 2.0, 4.0)
_PRESETS = {"ultrafast": 0, "fast": 1, "medium": 2}


def _parse_size(value: Any) -> tuple[int, int]:
    if isinstance(value, str):
        width, _, height = value.lower().partition("x")
        value = (width, height)
    width, height = (int(v) for v in value)
    if width < 16 or height < 16:
        raise ValueError(f"size must be at least 16x16, got {width}x{height}")
    return width, height


class MotionBackbone(Backbone):
    """See the module docstring. Options (also as `--backbone-opt key=value` strings):
    size "WxH" (160x120), grid (4), bins (8), DIS preset (ultrafast|fast|medium) and
    finest_scale (1: flow at half the working size; 0 is sharper and 4x slower), clip_len (16).
    """

    name = "motion"

    def __init__(self, *, size: Any = "160x120", grid: Any = 4, bins: Any = 8,
                 preset: str = "ultrafast", finest_scale: Any = 1, clip_len: Any = 16,
                 device: str | None = None) -> None:
        self.size = _parse_size(size)
        self.grid = int(grid)
        self.bins = int(bins)
        self.preset = str(preset)
        self.finest_scale = int(finest_scale)
        self.clip_len = int(clip_len)
        if self.preset not in _PRESETS:
            raise ValueError(f"preset must be one of {sorted(_PRESETS)}, got {preset!r}")
        if self.grid < 1 or self.size[0] % self.grid or self.size[1] % self.grid:
            raise ValueError(f"grid {self.grid} must divide the working size {self.size}")
        if not 0 <= self.finest_scale <= 4:
            raise ValueError(f"finest_scale must be in 0..4, got {finest_scale}")
        if self.bins < 2:
            raise ValueError(f"bins must be >= 2, got {bins}")
        if self.clip_len < 2:
            raise ValueError("clip_len must be >= 2: motion needs two frames")
        if device not in (None, "cpu"):
            log.warning("the motion backbone runs on the CPU (OpenCV); ignoring device=%s", device)
        self._flow = None  # the OpenCV object is made per process, on first use
        self._cells = self._cell_map()
        self.cell_grid = (self.grid, self.grid)

    # -- Backbone interface -------------------------------------------------------------------
    @property
    def n_cells(self) -> int:
        return self.grid * self.grid + 1

    @property
    def dim(self) -> int:
        return self.n_cells * (self.bins + len(MAGNITUDE_EDGES) + 2)

    def preprocess(self, clip: np.ndarray) -> np.ndarray:
        import cv2

        grey = np.stack([cv2.resize(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), self.size,
                                    interpolation=cv2.INTER_AREA) for frame in clip])
        flow_engine = self._flow_engine()
        flows = np.stack([flow_engine.calc(a, b, None) for a, b in zip(grey[:-1], grey[1:])])
        magnitude, angle = cv2.cartToPolar(flows[..., 0].ravel(), flows[..., 1].ravel())
        magnitude, angle = magnitude.ravel(), angle.ravel()
        pairs = len(grey) - 1
        cells = np.tile(self._cells.ravel(), pairs)

        # bins centred on their directions: bin 0 is rightwards, bin bins/4 downwards (image y)
        orientation = (angle * (self.bins / (2 * np.pi)) + 0.5).astype(np.int64) % self.bins
        hof = self._cell_sums(cells * self.bins + orientation, magnitude, self.bins)
        speed = sum((magnitude >= edge).astype(np.int64) for edge in MAGNITUDE_EDGES)
        moving = speed > 0  # slower than the first edge counts as static
        n_mag = len(MAGNITUDE_EDGES)
        hom = self._cell_sums(cells[moving] * n_mag + speed[moving] - 1, None, n_mag)

        diff = np.abs(np.diff(grey.astype(np.int16), axis=0)).ravel() / 255.0
        pair_cells = np.repeat(np.arange(pairs), grey[0].size) * (self.n_cells - 1) + cells
        per_pair = np.bincount(pair_cells, weights=diff, minlength=pairs * (self.n_cells - 1))
        per_pair = per_pair.reshape(pairs, self.n_cells - 1)  # (pairs, grid cells)
        per_pair = np.concatenate([per_pair, per_pair.sum(axis=1, keepdims=True)], axis=1)
        per_pair /= self._cell_pixels()[None, :]
        energy = np.stack([per_pair.mean(axis=0), per_pair.max(axis=0)], axis=1)

        hof /= self._cell_pixels()[:, None] * pairs
        hom /= self._cell_pixels()[:, None] * pairs
        return np.concatenate([hof, hom, energy], axis=1).astype(np.float32).ravel()

    @property
    def cell_dim(self) -> int:
        return self.bins + len(MAGNITUDE_EDGES) + 2

    def forward_batch(self, batch: np.ndarray) -> np.ndarray:
        return np.asarray(batch, dtype=np.float32).reshape(len(batch), self.dim)

    def forward_cells(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The clip vectors and their grid cells: the vector is cell-major (grid cells in row-major
        order, then the whole frame), so the cells are its first rows * cols blocks."""
        features = self.forward_batch(batch)
        cells = features.reshape(len(batch), self.n_cells, self.cell_dim)[:, : self.grid * self.grid]
        return features, np.ascontiguousarray(cells)

    def cell_region(self, height: int, width: int) -> tuple[float, float, float, float]:
        """The whole frame: the descriptor resizes without cropping."""
        return (0.0, 0.0, 1.0, 1.0)

    def describe(self) -> dict[str, Any]:
        width, height = self.size
        return {
            "backbone": self.name, "layer": "", "weights_sha256": "none",
            "preprocessing": (
                f"grey, resize {width}x{height} INTER_AREA; OpenCV DIS flow ({self.preset}, finest "
                f"scale {self.finest_scale}); "
                f"{self.grid}x{self.grid} grid + whole frame; per cell {self.bins}-bin "
                f"magnitude-weighted orientation histogram, magnitude histogram with edges "
                f"{list(MAGNITUDE_EDGES)} px/frame, frame-difference energy mean and max"),
        }

    # -- helpers ------------------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_flow"] = None  # OpenCV objects do not pickle; workers build their own
        return state

    def _flow_engine(self):
        if self._flow is None:
            import cv2
            self._flow = cv2.DISOpticalFlow_create(_PRESETS[self.preset])
            self._flow.setFinestScale(self.finest_scale)
        return self._flow

    def _cell_map(self) -> np.ndarray:
        width, height = self.size
        rows = np.arange(height) * self.grid // height
        cols = np.arange(width) * self.grid // width
        return (rows[:, None] * self.grid + cols[None, :]).astype(np.int64)

    def _cell_pixels(self) -> np.ndarray:
        width, height = self.size
        per_cell = width * height / (self.grid * self.grid)
        return np.array([per_cell] * (self.n_cells - 1) + [width * height], dtype=np.float64)

    def _cell_sums(self, index: np.ndarray, weights: np.ndarray | None, width: int) -> np.ndarray:
        """Per grid cell sums of `weights` into `width` bins, plus the whole-frame row."""
        grid_cells = self.n_cells - 1
        sums = np.bincount(index, weights=weights, minlength=grid_cells * width)
        sums = sums.reshape(grid_cells, width).astype(np.float64)
        return np.concatenate([sums, sums.sum(axis=0, keepdims=True)], axis=0)
