"""A weight-free spatio-temporal motion descriptor: the default backbone on an offline machine.

Surveillance anomalies are mostly about motion (a cyclist among walkers, a fight, a car
where none goes), and a fixed camera makes hand-made motion statistics meaningful without any
training. Per 16-frame clip, on a grey copy at the working size (by default the native size,
scaled down to at most 240 lines):

* dense optical flow (OpenCV DIS, ultrafast preset refined down to half resolution: the
  presets' own coarser finest scale loses most of the motion of small, slow pedestrians at
  this working size) between consecutive frames;
* per cell of a `grid` x `grid` layout, plus one cell for the whole frame:
  - a histogram of flow orientation weighted by magnitude (`bins` bins; the mean flow per
    direction, in working-size pixels per frame),
  - a histogram of flow magnitude (5 log-spaced bins from 0.25 px/frame; the fraction of
    pixels that moved that fast, static pixels counted in none),
  - frame-difference energy: mean |I(t+1) - I(t)| / 255, averaged over the clip and at its
    peak (bursts such as a fall).
* a frame pair across a scene cut (an edited video's change of shot: UCF-Crime's videos hold
  many; the rule is `extract.cuts`) is not motion: with `cuts="skip"`, the default, such a pair
  adds nothing and the clip's statistics are averaged over its other pairs. So is a pair across a
  pause in the recording (a motion-triggered camera between bursts, a stalled stream: a gap over
  `extract.timing.PAUSE_STEPS` of the steps around it and over a second, read from the frames' own
  times, `frame_times`; a camera that lowers its rate does not pause).
* the camera's own motion (a pole swaying in the wind, a knock) is taken out of each pair first
  (`stabilize`, on by default since 2026-12-04: docs/defaults.md, "A camera that moves"): a
  rotation, scale and shift of the whole frame fitted to the flow (see `camera_motion`) is
  subtracted from the flow, and the second frame is aligned to the first before the difference,
  so a moving camera does not look like motion in every cell. A still camera's pairs are left as
  they are (the fitted motion moves no corner by 0.25 px).
* a frame that repeats the one before it exactly (a recorder or link that lost a frame and showed
  the last one again, or a slow camera in a faster container) is counted for `video_summary`; by
  default (`repeats="keep"`) its pair counts as decoded, a pair without motion before one that
  carries the gap's. With `repeats="spread"` (an option: it won its development round and not its
  confirmation, docs/defaults.md) that pair adds nothing and the next pair's flow and difference are
  divided over the intervals it spans and counted once per interval. Exact repeats only: on every
  clean set measured here no two consecutive working-size frames are equal (docs/extract.md). The
  count takes short runs between frames that change (REPEAT_RUN_MAX): still footage repeats too.

Dimension with the defaults: 17 cells x (8 + 5 + 2) = 255. Values are in physical units, not
normalised, so clips stay comparable across videos; the detector decides on scaling.

Why the whole descriptor runs in the decode workers (`prepare_frame` per frame, then
`preprocess_prepared` per clip): there is no model, hence nothing for the main process to hold;
computing it in the workers spreads it over all of them (the base class's "cheap preprocess"
rule is about keeping torch state out of workers).
`forward_batch` only stacks. Every clip is computed on its own, deterministically, so
features do not depend on batching, worker count or interruption.
"""
from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from functools import lru_cache
from typing import Any, Sequence

import numpy as np

from ..cuts import CUT_CORRELATION, CUT_HISTOGRAM, CutLog, cut_signs, frame_sign, is_cut_between, is_cut_pair
from ..device import check_device_text
from ..timing import pauses_before
from .base import Backbone, as_bool, as_int, not_bool

log = logging.getLogger(__name__)

#: lower edges of the magnitude bins, in working-size pixels per frame
MAGNITUDE_EDGES = (0.25, 0.5, 1.0, 2.0, 4.0)
#: size "auto": the native size, scaled down to at most this many lines
AUTO_MAX_HEIGHT = 240
#: frame pairs whose statistics a worker keeps for the overlapping clips that follow
PAIR_CACHE = 64
#: `stabilize`: the flow is sampled every this many working-size pixels to fit the camera's motion,
#: in this many rounds, each keeping the samples the last fit explains within this many pixels (or
#: 2.5 times the median miss): a walker at 1 px/frame is not the camera (on Ped2's still camera a
#: 1-pixel tolerance let walkers pull the fit to 0.14 px of shift; 0.3 keeps it at 0.02)
CAMERA_SAMPLE_STEP = 8
CAMERA_ROUNDS = 4
CAMERA_INLIER = 0.3
#: `stabilize`: a camera motion that moves no corner of the frame by this many working-size pixels
#: is left in (the first magnitude edge, below which a pixel counts as static): a still camera's
#: features stay as they were
CAMERA_MIN_SHIFT = MAGNITUDE_EDGES[0]
_CUT_MODES = ("skip", "keep")
_REPEAT_MODES = ("keep", "spread")
_DEINTERLACE_MODES = ("off", "field")
_LIGHT_MODES = ("off", "local")
#: `light` "local": each grey frame divided by its local mean brightness (a Gaussian of this sigma, as
#: a share of the working height) plus a floor in grey levels (dark regions' noise is not blown up),
#: times a mid grey, before flow and frame differences: a soft change of light over part of the view
#: (a cloud's shadow) cancels, edges and texture stay
LIGHT_SIGMA = 1 / 24
LIGHT_FLOOR = 8.0
LIGHT_MID = 128.0
_PRESETS = {"ultrafast": 0, "fast": 1, "medium": 2}


def _mask_text(rects) -> str:
    """The mask in its command-line form, canonical (options compare it as text)."""
    return ";".join(",".join(f"{v:g}" for v in r) for r in rects)


def camera_motion(flow: np.ndarray, step: int = CAMERA_SAMPLE_STEP) -> np.ndarray:
    """The camera's motion between two frames read from their dense flow (H, W, 2): the 2x3 matrix
    M of the similarity (rotation, uniform scale, shift) that maps a pixel of the first frame to
    where the second frame shows it. Fitted by least squares to the flow sampled every `step`
    pixels, again on the samples it explains (within `CAMERA_INLIER` pixels, or 2.5 times the
    median miss where that is larger: the moving people and objects disagree with it and are left
    out); starting from the samples near the median flow, so the background must be most of the
    frame. Deterministic: no random sampling."""
    height, width = flow.shape[:2]
    _, _, design, centre = _camera_design(height, width, step)
    # the samples at rows and columns step // 2, step // 2 + step, ...: `_camera_design`'s order
    d = flow[step // 2::step, step // 2::step].reshape(-1, 2).astype(np.float64)
    target = d.ravel()
    residual = np.hypot(*(d - [_median(d[:, 0]), _median(d[:, 1])]).T)
    params = np.zeros(4)
    for _ in range(CAMERA_ROUNDS):
        keep = np.repeat(residual <= max(CAMERA_INLIER, 2.5 * float(_median(residual))), 2)
        weighted = design.T * keep  # the normal equations of the samples kept: a 4x4 solve
        params = np.linalg.lstsq(weighted @ design, weighted @ target, rcond=None)[0]
        residual = np.hypot(*(design @ params - target).reshape(-1, 2).T)
    s_, r_, tx, ty = params
    a = np.array([[1 + s_, -r_], [r_, 1 + s_]])
    shift = np.array([tx, ty]) + centre - a @ centre
    return np.concatenate([a, shift[:, None]], axis=1)


def _median(values: np.ndarray) -> float:
    """np.median of a 1-D float64 array, the same value, without its general machinery (called
    five times a frame pair): the middle of a partition, or the mean of the two middle values."""
    n = values.size
    if n == 0 or not np.isfinite(values).all():
        return np.median(values)  # nan (and its warning), as np.median's
    k = n // 2
    if n % 2:
        return np.partition(values, k)[k]
    part = np.partition(values, (k - 1, k))
    return (part[k - 1] + part[k]) / 2


@lru_cache(maxsize=8)
def _camera_design(height: int, width: int, step: int):
    """The sampled pixels and the least-squares design of `camera_motion` for one frame size: the
    displacement of a similarity about the frame's centre is (s x - r y + tx, r x + s y + ty)."""
    ys, xs = np.mgrid[step // 2:height:step, step // 2:width:step]
    centre = np.array([(width - 1) / 2.0, (height - 1) / 2.0])
    x, y = xs.ravel() - centre[0], ys.ravel() - centre[1]
    one, zero = np.ones_like(x), np.zeros_like(x)
    design = np.empty((2 * len(x), 4))
    design[0::2] = np.stack([x, -y, one, zero], axis=1)
    design[1::2] = np.stack([y, x, zero, one], axis=1)
    return ys.ravel(), xs.ravel(), design, centre


def _once_per_frame(cache: OrderedDict, key: bytes, grey: np.ndarray, compute):
    """`compute(grey)` of a prepared frame, kept under its key for the frames that follow: each frame
    is in two pairs, and in several clips; the cache holds one frame more than the pair cache."""
    if key not in cache:
        cache[key] = compute(grey)
        while len(cache) > PAIR_CACHE + 1:
            cache.popitem(last=False)
    return cache[key]


def local_light(grey: np.ndarray) -> np.ndarray:
    """`light` "local": a grey frame (uint8) divided by its local mean brightness (LIGHT_SIGMA, LIGHT_FLOOR),
    at mid grey: a multiplicative change of light smooth over more than the Gaussian's width, as
    under a cloud's shadow, leaves the result as it was."""
    import cv2

    g = grey.astype(np.float32)
    local = cv2.GaussianBlur(g, (0, 0), LIGHT_SIGMA * g.shape[0])
    return np.clip(LIGHT_MID * g / (local + LIGHT_FLOOR), 0, 255).astype(np.uint8)


@lru_cache(maxsize=8)
def _pixel_grid(height: int, width: int) -> np.ndarray:
    """Every pixel's (y, x) at one frame size, float32 (read only: shared by every frame pair)."""
    grid = np.mgrid[0:height, 0:width].astype(np.float32)
    grid.setflags(write=False)
    return grid


def _parse_mask(value: Any) -> tuple[tuple[float, float, float, float], ...]:
    """`mask`: rectangles x0,y0,x1,y1 in fractions of the frame (0 left/top, 1 right/bottom),
    several separated by ";" (the command line's form), a sequence of 4-number sequences, or one
    rectangle's 4 numbers (YAML's `mask: [0, 0, 0.2, 1]`)."""
    if value is None or value == "" or value == ():
        return ()
    if isinstance(value, str):
        parts = [p for p in value.split(";") if p.strip()]
    elif isinstance(value, (list, tuple)):
        parts = list(value)
    else:  # YAML's `mask: 5` or `mask: true` (a TypeError traceback)
        raise _no_rectangle(value)
    if parts and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in parts):
        parts = [parts]  # one rectangle, not four (nor three: `[0, 0, 0.5]` was refused as "0")
    rects = []
    for part in parts:
        try:
            numbers = [float(x) for x in (part.split(",") if isinstance(part, str) else part)]
        except (TypeError, ValueError):
            numbers = []
        if len(numbers) != 4 or not (0 <= numbers[0] < numbers[2] <= 1 and 0 <= numbers[1] < numbers[3] <= 1):
            raise _no_rectangle(part)
        rects.append(tuple(numbers))
    if _covers_the_frame(rects):  # every feature would be zero, and every video as normal as the next
        raise ValueError(f"mask: {_mask_text(rects)} covers the whole frame: nothing is left to watch")
    return tuple(rects)


def _no_rectangle(part) -> ValueError:
    return ValueError(f"mask: {part!r} is not a rectangle x0,y0,x1,y1 in fractions of the frame "
                      "(0 <= x0 < x1 <= 1, the same for y; several separated by ';')")


def _covers_the_frame(rects) -> bool:
    """Whether the rectangles' union is the whole frame (exact: on the grid their edges make)."""
    xs = sorted({0.0, 1.0, *(r[0] for r in rects), *(r[2] for r in rects)})
    ys = sorted({0.0, 1.0, *(r[1] for r in rects), *(r[3] for r in rects)})
    return all(any(x0 <= xa and xb <= x1 and y0 <= ya and yb <= y1 for x0, y0, x1, y1 in rects)
               for xa, xb in zip(xs, xs[1:]) for ya, yb in zip(ys, ys[1:]))


def _parse_size(value: Any) -> tuple[int, int] | None:
    if value is None or (isinstance(value, str) and value.strip().lower() == "auto"):
        return None
    given = value
    if isinstance(value, str):
        width, _, height = value.lower().partition("x")
        value = (width, height)
    try:
        width, height = (int(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"size must be auto or WIDTHxHEIGHT in pixels (e.g. 320x240), got {given!r}") from None
    if width < 16 or height < 16:
        raise ValueError(f"size must be at least 16x16, got {width}x{height}")
    return width, height


#: the longest run of exactly repeated frames counted as lost frames filled in (`_pair_spans`): a
#: recorder fills a hiccup of a few frames, a camera at half or a third of its file's rate repeats
#: each frame once or twice; a longer run is a still scene (or a frozen picture), not a frame rate
REPEAT_RUN_MAX = 3


class MotionBackbone(Backbone):
    """See the module docstring. Options (also as `--backbone-opt key=value` strings):
    size "auto" (the default: native, scaled down to at most `max_height` lines, 240; chosen on
    the development sets where people are small in the frame, docs/defaults.md) or "WxH" (160x120
    was the default before), grid (4), bins (8), DIS preset (ultrafast|fast|medium) and
    finest_scale (1: flow at half the working size; 0 is sharper and 4x slower), clip_len (16),
    blur (0: off; else the sigma, in working-size pixels, of a Gaussian blur of every grey frame
    before flow and frame differences: against sensor noise and compression artefacts), cuts
    ("skip": the default, a frame pair across a scene cut adds no motion; "keep": every pair
    counts, as before 2026-12-03), stabilize (on: the default since 2026-12-04, the camera's own
    motion taken out of each frame pair, for a camera that sways or is knocked, `camera_motion`;
    off: every pair as filmed, as before), mask (none by default: rectangles "x0,y0,x1,y1" in
    fractions of the frame, several separated by ";", whose pixels count as still in every cell:
    an exclusion zone for a tree, water or a flag, finer than leaving whole cells out at detection),
    repeats ("keep": the default, every pair as decoded, so a frame lost and shown again makes a
    pair without motion and then one with two intervals' motion; "spread": such a frame adds no
    pair and the next pair's motion is divided over the frame intervals it spans), deinterlace
    ("off": the default, every line; "field": the top field alone, every other line from the first,
    scaled to the working size, for an analogue camera's interlaced frames whose odd lines were
    taken a field later: no combed edges, at half the vertical detail where the frame has fewer
    than twice the working size's lines), travel (off: the default; on: per cell also a histogram of
    each pixel's net displacement over the clip, `_travel`, which tells motion that goes somewhere
    from motion that sways in place), light ("off": the default; "local": each frame divided by its
    local mean brightness before flow and frame differences, `local_light`, so that a soft change of
    light over part of the view, a cloud's shadow, is not read as motion).
    """

    name = "motion"
    #: overlapping clips by default: the frame-pair cache makes them cheap, and on the
    #: development sets (docs/defaults.md) clips every 4 frames beat clips every 16
    default_stride = 4
    #: faster sources are resampled to 10 fps unless the user names a rate: chosen on footage filmed
    #: at 30 fps, where people move a third as many pixels per frame (`dev-fps`, docs/defaults.md)
    default_max_fps = 10.0

    def __init__(self, *, size: Any = "auto", max_height: Any = AUTO_MAX_HEIGHT, grid: Any = 4, bins: Any = 8,
                 preset: str = "ultrafast", finest_scale: Any = 1, clip_len: Any = 16, blur: Any = 0,
                 cuts: str = "skip", stabilize: Any = True, mask: Any = None, repeats: str = "keep",
                 deinterlace: str = "off", travel: Any = False, light: str = "off",
                 device: str | None = None) -> None:
        self.size = _parse_size(size)
        self.max_height = as_int(max_height, "max_height", None)
        if self.max_height < 16:
            raise ValueError(f"max_height must be at least 16, got {max_height}")
        self.grid = as_int(grid, "grid", None)  # ranges checked below, with their own words
        self.bins = as_int(bins, "bins", None)
        self.preset = str(preset)
        self.finest_scale = as_int(finest_scale, "finest_scale", None)
        self.clip_len = as_int(clip_len, "clip_len", None)
        not_bool(blur, "blur")
        try:  # a settings file's `blur: [1, 2]` was float()'s TypeError traceback
            self.blur = float(blur)
        except (TypeError, ValueError):
            raise ValueError(f"blur: expected a number, got {blur!r}") from None
        if not 0 <= self.blur <= 8:
            raise ValueError(f"blur must be a sigma in 0..8 working-size pixels, got {blur}")
        self.stabilize = as_bool(stabilize, "stabilize")
        self.travel = as_bool(travel, "travel")
        self.mask = _parse_mask(mask)
        self.cuts = str(cuts)
        if self.cuts not in _CUT_MODES:
            raise ValueError(f"cuts must be one of {_CUT_MODES}, got {cuts!r}")
        self.repeats = str(repeats)
        if self.repeats not in _REPEAT_MODES:
            raise ValueError(f"repeats must be one of {_REPEAT_MODES}, got {repeats!r}")
        self.light = str(light)
        if self.light not in _LIGHT_MODES:
            raise ValueError(f"light must be one of {_LIGHT_MODES}, got {light!r}")
        self.deinterlace = str(deinterlace)
        if self.deinterlace not in _DEINTERLACE_MODES:
            raise ValueError(f"deinterlace must be one of {_DEINTERLACE_MODES}, got {deinterlace!r}")
        if self.preset not in _PRESETS:
            raise ValueError(f"preset must be one of {sorted(_PRESETS)}, got {preset!r}")
        if self.grid < 1:
            raise ValueError(f"grid must be >= 1, got {grid}")
        # the most cells a side any working frame holds: 100000 went on to a 74 GiB allocation per video
        most = self._grid_room(*self.size) if self.size is not None else self._grid_room(self.max_height, self.max_height)
        if self.grid > most:
            held = (f"the {self.size[0]}x{self.size[1]} working size" if self.size is not None
                    else f"a working frame of at most {self.max_height} lines (max_height)")
            raise ValueError(f"grid must be at most {most} cells a side: {held} has no more"
                             + (" (travel: at half of it)" if self.travel else "") + f", got {grid}")
        if not 0 <= self.finest_scale <= 4:
            raise ValueError(f"finest_scale must be in 0..4, got {finest_scale}")
        if self.bins < 2:
            raise ValueError(f"bins must be >= 2, got {bins}")
        if self.clip_len < 2:
            raise ValueError("clip_len must be >= 2: motion needs two frames")
        if (check_device_text(device) or "cpu").split(":")[0] not in ("cpu", "auto"):  # "banana" refused, as elsewhere
            log.warning("the motion backbone runs on the CPU (OpenCV); ignoring device=%s", device)
        self._flow = None  # the OpenCV object is made per process, on first use
        self._layouts: dict[tuple[int, int], tuple[np.ndarray, np.ndarray, np.ndarray | None]] = {}
        self._pair_cache: OrderedDict = OrderedDict()
        self._bases: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}  # `_cell_bases`
        self._sign_cache: OrderedDict = OrderedDict()  # frame key -> `frame_sign`
        self._lit_cache: OrderedDict = OrderedDict()  # frame key -> `local_light` (light "local")
        self._cut_log = CutLog("left out")  # the cuts found since `start_video`
        self._pauses = None  # the started video's pauses before each frame, counted (`frame_times`)
        self._pauses_from = 0  # the source index of `_pauses[0]`
        self._repeated = [0, -1]  # repeated frames counted since `start_video`, the last one's source index
        self._seen = [0, -1]  # sampled frames seen since `start_video`, the last one's source index
        self.cell_grid = (self.grid, self.grid)

    # -- Backbone interface -------------------------------------------------------------------
    @property
    def n_cells(self) -> int:
        return self.grid * self.grid + 1

    @property
    def dim(self) -> int:
        return self.n_cells * self.cell_dim

    def preprocess(self, clip: np.ndarray) -> np.ndarray:
        """The clip's descriptor from per-frame-pair statistics (see `_pair_stats`)."""
        return self.preprocess_prepared(np.stack([self.prepare_frame(frame) for frame in clip]))

    def prepare_frame(self, frame: np.ndarray) -> np.ndarray:
        """The grey frame at the working size: once per decoded frame, not once per clip that
        holds it (at stride 4 that is 16 resizes of a full frame per clip otherwise, which cost
        more than the clip's new flows)."""
        import cv2

        size = self.working_size(frame.shape[1], frame.shape[0])  # the whole frame's, field or not
        if self.grid > self._grid_room(*size):
            self._grid_does_not_fit(size)
        how = cv2.INTER_AREA
        if self.deinterlace == "field":  # the top field: lines 0, 2, 4, ... (taken at one instant)
            frame = np.ascontiguousarray(frame[0::2])
            if frame.shape[0] < size[1]:  # fewer lines than the working size: stretched, not averaged
                how = cv2.INTER_LINEAR
        grey = cv2.resize(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), size, interpolation=how)
        return cv2.GaussianBlur(grey, (0, 0), self.blur) if self.blur > 0 else grey

    def preprocess_prepared(self, clip: np.ndarray, sources: Sequence[int] | None = None) -> np.ndarray:
        """The descriptor of a clip of `prepare_frame` outputs (T, h, w) uint8.

        A clip's sums are the sums of its frame pairs' sums, so overlapping clips (stride below
        the clip length) reuse the pairs they share from a small cache instead of computing the
        flow again: at stride 4 each new clip computes 4 new flows, not 15. `sources` (each
        frame's source index) places the scene cuts found for `video_summary`. Each pair weighs
        the frame intervals it stands for (`_pair_spans`: 1 unless frames repeat).
        """
        grey = list(clip)
        size = (grey[0].shape[1], grey[0].shape[0])
        keys = [hashlib.blake2b(g.tobytes(), digest_size=16).digest() for g in grey]
        spans = self._pair_spans(keys, sources)
        kept = [t for t in range(len(grey) - 1) if spans[t]]
        stats = [self._cached_pair(keys[t], keys[t + 1], grey[t], grey[t + 1], spans[t]) for t in kept]
        weights = [spans[t] for t in kept]
        if sources is not None and self._pauses is not None:  # a pair across a pause in the recording is not motion
            crossed = [self._pause_between(sources[t], sources[t + 1]) for t in kept]
            if any(crossed):
                weights = [w for w, c in zip(weights, crossed) if not c]
                stats = [st for st, c in zip(stats, crossed) if not c]
                kept = [t for t, c in zip(kept, crossed) if not c]
        if self.cuts == "skip":  # a pair across a scene cut is not motion
            if sources is not None:
                cut_at = dict(zip(kept, (st[3] for st in stats)))
                self._cut_log.add([cut_at.get(t, False) for t in range(len(grey) - 1)], sources)
            weights = [w for w, st in zip(weights, stats) if not st[3]]
            stats = [st for st in stats if not st[3]]
        pixels = self._layout(size)[1]
        if not stats:  # every pair a cut, a pause or a repeat: a clip of single frames shows no motion
            return np.zeros(self.dim, np.float32)
        per_pair = np.stack([st[2] for st in stats]) / pixels[None, :]  # (pairs, cells) mean |diff|
        if max(weights) == 1:  # no repeat: every pair one frame interval
            pairs = len(stats)
            hof = sum(st[0] for st in stats) / (pixels[:, None] * pairs)
            hom = sum(st[1] for st in stats) / (pixels[:, None] * pairs)
            mean_diff = per_pair.mean(axis=0)
        else:  # a pair that spans lost frames stands for each interval it spans
            pairs = sum(weights)
            hof = sum(w * st[0] for w, st in zip(weights, stats)) / (pixels[:, None] * pairs)
            hom = sum(w * st[1] for w, st in zip(weights, stats)) / (pixels[:, None] * pairs)
            mean_diff = np.average(per_pair, axis=0, weights=weights)
        energy = np.stack([mean_diff, per_pair.max(axis=0)], axis=1)
        parts = [hof, hom, energy]
        if self.travel:
            parts.append(self._travel([st[4] for st in stats], pairs))
        return np.concatenate(parts, axis=1).astype(np.float32).ravel()

    def _travel(self, flows: Sequence[np.ndarray], intervals: int) -> np.ndarray:
        """`travel`: per cell, the share of pixels whose net displacement over the clip (the sum
        of the frame pairs' flows at that pixel, `intervals` frame intervals) averages at least each
        of MAGNITUDE_EDGES per interval: a magnitude histogram of where the motion went, beside the
        one of how fast it moved. Leaves, water or a flag swaying in place move every frame and go
        nowhere, so their flow sums to little; a walker, a cyclist or a car crossing a pixel carries
        it one way. Summed at the half size the flow is refined at (`finest_scale` 1)."""
        net = np.sum(flows, axis=0) / float(intervals)
        cells, pixels, keep = self._layout((net.shape[1], net.shape[0]))
        speed = np.hypot(net[..., 0], net[..., 1]).ravel()
        if keep is not None:
            speed = speed[keep]
        level = sum((speed >= edge).astype(np.int64) for edge in MAGNITUDE_EDGES)
        moved = level > 0
        n_mag = len(MAGNITUDE_EDGES)
        return self._cell_sums(cells[moved] * n_mag + level[moved] - 1, None, n_mag) / pixels[:, None]

    def _pair_spans(self, keys: Sequence[bytes], sources: Sequence[int] | None) -> list[int]:
        """For each frame pair of a clip, the frame intervals it stands for: 1; with `repeats`
        "spread", 0 for a pair whose second frame repeats its first exactly and 1 + the run's length
        for the pair after a run of repeats (the motion it shows happened over that many
        intervals). A repeat just before the clip's first frame is not seen: each clip is computed
        on its own. Repeated frames are counted for `video_summary` either way, those of runs of at
        most REPEAT_RUN_MAX between frames that change (lost frames filled in, a slower camera):
        a longer run, or one at a clip's edge, is a scene holding still (heavily compressed still
        footage repeats exactly) and says nothing about lost frames."""
        spans = [1] * (len(keys) - 1)
        if sources is not None:
            for s in sources:  # each frame once: clips overlap
                if int(s) > self._seen[1]:
                    self._seen = [self._seen[0] + 1, int(s)]
        run = 0
        for t in range(len(keys) - 1):
            if keys[t + 1] == keys[t]:
                spans[t] = 0
                run += 1
            else:
                spans[t] = 1 + run
                if sources is not None and 0 < run <= REPEAT_RUN_MAX and t - run > 0 and keys[t - run] != keys[t - run - 1]:
                    for i in range(t - run + 1, t + 1):  # a short run between frames that change: counted
                        if int(sources[i]) > self._repeated[1]:  # each once: clips overlap
                            self._repeated = [self._repeated[0] + 1, int(sources[i])]
                run = 0
        return spans if self.repeats == "spread" else [1] * (len(keys) - 1)

    def start_video(self) -> None:
        """A new video: its frame pairs share nothing with the last one's."""
        self._pauses = None
        self._pair_cache.clear()
        self._sign_cache.clear()
        self._lit_cache.clear()
        self._cut_log.start()
        self._repeated = [0, -1]
        self._seen = [0, -1]

    def frame_times(self, times: np.ndarray | None, first: int = 0) -> None:
        """A pause in the recording (extract.timing, `pauses_before`) lies between two sampled
        frames: the pair is left out, as one across a scene cut (the frames were not taken one step
        apart; a motion-triggered camera's bursts start where something moved). `times[j]` is the
        time of source frame `first + j` (a live stream gives its latest frames' before each clip)."""
        if times is None or len(times) < 2:
            self._pauses = None
            return
        self._pauses, self._pauses_from = np.cumsum(pauses_before(times)), int(first)

    def _pause_between(self, a: int, b: int) -> bool:
        pauses = self._pauses
        first = getattr(self, "_pauses_from", 0)  # a backbone pickled before it had one
        a, b = int(a) - first, int(b) - first
        if not 0 <= a < b < len(pauses):  # past the times (frames not one per time): none known
            return False
        return bool(pauses[b] > pauses[a])

    def video_summary(self) -> dict[str, Any]:
        """The scene cuts left out since `start_video` (each frame pair is computed once: the
        overlapping clips that share it read it from the cache) and, where the clips came with
        their source indices, where: the first sampled frame after each cut (at a capped frame
        rate the cut itself lies up to a sampling step before it)."""
        summary = self._cut_log.summary() if self.cuts == "skip" else {}
        # how many sampled frames repeated the one before (clips placed by their sources only)
        summary.update(repeated_frames=self._repeated[0],
                       repeat_handling="spread over the gap" if self.repeats == "spread" else "kept as pairs")
        return summary

    def repeat_share(self) -> tuple[float | None, int]:
        """(the share of the sampled frames since `start_video` that repeat the one before, None
        before any; how many were seen), for clips placed by their sources: what `videoad watch`
        compares with its models' footage (`videoad.video.run.repeat_mismatch`)."""
        seen = self._seen[0]
        return (self._repeated[0] / seen if seen else None), seen

    def take_scene_cuts(self) -> list[int]:
        return self._cut_log.take()

    def is_cut(self, a: np.ndarray, b: np.ndarray) -> bool:
        """Whether two consecutive prepared frames lie on either side of a scene cut."""
        return is_cut_pair(cut_signs(a, b))

    def working_size(self, width: int, height: int) -> tuple[int, int]:
        """The size flow is computed at: the fixed `size`, or with size "auto" the native size,
        scaled down (aspect kept) to at most `max_height` lines."""
        if self.size is not None:
            return self.size
        scale = min(1.0, self.max_height / height)
        return max(16, int(round(width * scale))), max(16, int(round(height * scale)))

    def _grid_room(self, width: int, height: int) -> int:
        """The most grid cells a side a working frame of this size holds, each cell a pixel or more
        (with `travel`, of the net flow at half the size): an empty cell divided by zero pixels."""
        return min(width // 2, height // 2) if self.travel else min(width, height)

    def _grid_does_not_fit(self, size: tuple[int, int]) -> None:
        """Refuse a video whose working frame is too small for the grid, at its first frame: each
        such video failed only after decoding, its features "not finite"."""
        raise ValueError(f"grid {self.grid} does not fit this video's {size[0]}x{size[1]} working frame"
                         + (" (travel: at half of it)" if self.travel else "")
                         + f": at most {self._grid_room(*size)} cells a side; give a smaller grid or a larger size")

    def _cached_pair(self, key_a: bytes, key_b: bytes, a: np.ndarray, b: np.ndarray, span: int = 1):
        cache = self._pair_cache
        key = key_a + key_b + (b"" if span == 1 else span.to_bytes(2, "little"))
        hit = cache.get(key)
        if hit is None:
            cut = self.cuts == "skip" and is_cut_between(self._frame_sign(key_a, a), self._frame_sign(key_b, b))
            if self.light == "local" and not cut:  # after the cut test, which reads the frames as filmed
                a, b = self._lit(key_a, a), self._lit(key_b, b)
            hit = cache[key] = self._pair_stats(a, b, cut, span)
            while len(cache) > PAIR_CACHE:
                cache.popitem(last=False)
        else:
            cache.move_to_end(key)
        return hit

    def _lit(self, key: bytes, grey: np.ndarray) -> np.ndarray:
        """`local_light`, once per frame."""
        return _once_per_frame(self._lit_cache, key, grey, local_light)

    def _frame_sign(self, key: bytes, grey: np.ndarray):
        """`frame_sign`, once per frame."""
        return _once_per_frame(self._sign_cache, key, grey, frame_sign)

    def _pair_stats(self, a: np.ndarray, b: np.ndarray, cut: bool = False, span: int = 1
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool, np.ndarray | None]:
        """Sums over one frame pair, per cell (grid cells, then the whole frame): flow magnitude
        per orientation bin, moving-pixel counts per magnitude bin, |frame difference| / 255;
        and `cut`, whether the pair lies across a scene cut (then the sums are zeros); with `light`
        "local", `a` and `b` arrive divided by their local brightness (`_cached_pair`); with `travel`,
        the flow at half the working size (None without it, or across a cut). `span`: the
        frame intervals between `a` and `b` (frames lost between them, `_pair_spans`): the flow and
        the difference are divided by it, per interval as every other pair's."""
        import cv2

        cells, _, keep = self._layout((a.shape[1], a.shape[0]))
        if cut:  # no flow to compute: the pair is left out
            self._cut_log.pairs += 1  # each pair is computed once: the count where clips come unplaced
            n_mag = len(MAGNITUDE_EDGES)
            return np.zeros((self.n_cells, self.bins)), np.zeros((self.n_cells, n_mag)), np.zeros(self.n_cells), True, None
        flow = self._flow_engine().calc(a, b, None)
        # the flow's two channels, each contiguous (cartToPolar reads them without a copy); with
        # `stabilize` less the camera's motion, in float64 as `flow - camera` gave them before
        fx, fy, b = self._steady(flow, a, b) if self.stabilize else (*cv2.split(flow), b)
        # `travel`: the flow kept for the clips' net displacement, at half the size (the flow's own
        # finest scale: nothing finer is lost) and in working-size pixels
        half = None
        if self.travel:
            steady = cv2.merge([fx, fy])
            half = cv2.resize(steady, (max(1, steady.shape[1] // 2), max(1, steady.shape[0] // 2)),
                              interpolation=cv2.INTER_AREA)
        magnitude, angle = cv2.cartToPolar(fx.ravel(), fy.ravel())
        magnitude, angle = magnitude.ravel(), angle.ravel()
        # |b - a| / 255 in float64, divided straight from uint8 (no int16 copies: the same quotients)
        diff = cv2.absdiff(a, b).ravel() / 255.0
        if span > 1:  # the motion of `span` intervals, per interval
            magnitude, diff = magnitude / span, diff / span
        if keep is not None:  # the mask's pixels add nothing anywhere
            magnitude, angle, diff = magnitude[keep], angle[keep], diff[keep]
        hof_base, hom_base = self._cell_bases((a.shape[1], a.shape[0]))
        # bins centred on their directions: bin 0 is rightwards, bin bins/4 downwards (image y)
        # (in place on cartToPolar's own arrays: the same float32 operations as `angle * c + 0.5`)
        np.multiply(angle, self.bins / (2 * np.pi), out=angle)
        angle += 0.5
        orientation = angle.astype(np.int64)
        # `% bins`: an angle in [0, 2 pi] gives 0..bins, and only bins wraps (to 0); the division
        # itself only where a non-finite flow value gave something else
        orientation[orientation == self.bins] = 0
        if orientation.size and (orientation.min() < 0 or orientation.max() >= self.bins):
            orientation %= self.bins
        orientation += hof_base
        hof = self._cell_sums(orientation, magnitude, self.bins)
        # each pixel's magnitude bin, 0 below the first edge (static), counted per cell in one pass
        speed = np.greater_equal(magnitude, MAGNITUDE_EDGES[0]).view(np.uint8)
        for edge in MAGNITUDE_EDGES[1:]:
            speed += magnitude >= edge
        n_mag = len(MAGNITUDE_EDGES)
        counts = np.bincount(hom_base + speed, minlength=(self.n_cells - 1) * (n_mag + 1))
        counts = counts.reshape(self.n_cells - 1, n_mag + 1)[:, 1:].astype(np.float64)
        hom = np.concatenate([counts, counts.sum(axis=0, keepdims=True)], axis=0)
        energy = self._cell_sums(cells, diff, 1)[:, 0]
        return hof, hom, energy, False, half

    def _cell_bases(self, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """For a working size, each (unmasked) pixel's first index in the orientation sums,
        `cells * bins`, and in the magnitude counts, `cells * (magnitude bins + 1)` (whose bin 0,
        the static pixels, is dropped): kept, as the layout is, rather than multiplied per pair."""
        bases = self.__dict__.setdefault("_bases", {})  # a backbone pickled before it had them
        if size not in bases:
            cells = self._layout(size)[0]
            bases[size] = (cells * self.bins, cells * (len(MAGNITUDE_EDGES) + 1))
        return bases[size]

    @staticmethod
    def _steady(flow: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`stabilize`: the flow's x and y channels less the camera's motion (float64), and `b`
        aligned to `a` (the pixel of `b` each pixel of `a` moved to); the channels as they are
        (float32) and `b` unchanged when the camera moved no corner by `CAMERA_MIN_SHIFT`."""
        import cv2

        m = camera_motion(flow)
        height, width = a.shape
        fx, fy = cv2.split(flow)
        corners = np.array([[0, 0, 1], [width - 1, 0, 1], [0, height - 1, 1], [width - 1, height - 1, 1]], float)
        moved = corners @ m.T - corners[:, :2]
        if np.hypot(*moved.T).max() < CAMERA_MIN_SHIFT:
            return fx, fy, b
        ys, xs = _pixel_grid(height, width)
        x, y = xs[:1], ys[:, :1]  # a pixel's x depends on its column alone, its y on its row
        # each channel f - (m0 x + m1 y + m2 - own), the same float64 operations on the same values
        # as over the whole (H, W) grids before, the products once per column and per row
        steady = []
        for row, own, f in ((m[0], x, fx), (m[1], y, fy)):
            camera = row[0] * x + row[1] * y
            camera += row[2]
            camera -= own
            steady.append(np.subtract(f, camera, out=camera))
        aligned = cv2.warpAffine(b, m.astype(np.float32), (width, height),
                                 flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
        return steady[0], steady[1], aligned

    @property
    def cell_dim(self) -> int:
        return self.bins + len(MAGNITUDE_EDGES) + 2 + (len(MAGNITUDE_EDGES) if self.travel else 0)

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
        size = (f"{self.size[0]}x{self.size[1]}" if self.size is not None
                else f"auto (native, at most {self.max_height} lines, aspect kept)")
        return {
            "backbone": self.name, "layer": "", "weights_sha256": "none",
            "preprocessing": (
                f"grey, resize {size} INTER_AREA; "
                + (f"Gaussian blur sigma {self.blur:g}; " if self.blur > 0 else "")
                + ("camera motion (a similarity fitted to the flow) taken out of each frame pair; "
                   if self.stabilize else "")
                + (f"pixels inside {_mask_text(self.mask)} (fractions of the frame) left out; " if self.mask else "")
                + ("a frame repeating the one before adds no pair, the next pair's motion divided over the "
                   "intervals it spans; " if self.repeats == "spread" else "")
                + ("the top field alone (every other line, deinterlaced); " if self.deinterlace == "field" else "")
                + ("per cell also a histogram of each pixel's net displacement over the clip (the flows summed, "
                   "per frame interval, the same edges); " if self.travel else "")
                + (f"each frame divided by its local mean brightness (Gaussian sigma {LIGHT_SIGMA:.3g} of the height, "
                   f"floor {LIGHT_FLOOR:g}) before flow and differences; " if self.light == "local" else "")
                + f"OpenCV DIS flow ({self.preset}, finest "
                f"scale {self.finest_scale}); "
                f"{self.grid}x{self.grid} grid + whole frame; per cell {self.bins}-bin "
                f"magnitude-weighted orientation histogram, magnitude histogram with edges "
                f"{list(MAGNITUDE_EDGES)} px/frame, frame-difference energy mean and max"
                + (f"; frame pairs across a scene cut (32-px thumbnails correlating below {CUT_CORRELATION}, "
                   f"grey histograms at least {CUT_HISTOGRAM} apart) left out" if self.cuts == "skip" else "")),
        }

    def options(self) -> dict[str, Any]:
        """Every option, resolved: the features depend on these and on nothing else."""
        size = "auto" if self.size is None else f"{self.size[0]}x{self.size[1]}"
        options = {"size": size, "max_height": self.max_height, "grid": self.grid, "bins": self.bins,
                   "preset": self.preset, "finest_scale": self.finest_scale, "clip_len": self.clip_len}
        if self.blur > 0:  # named only when on, so that stores written before the option still match
            options["blur"] = self.blur
        if self.mask:  # named only when set, as the blur
            options["mask"] = _mask_text(self.mask)
        if self.repeats != "keep":  # named only when set, as the blur (docs/extract.md, "Repeated frames")
            options["repeats"] = self.repeats
        if self.deinterlace != "off":  # named only when set, as the blur
            options["deinterlace"] = self.deinterlace
        if self.travel:  # named only when on, as the blur
            options["travel"] = True
        if self.light != "off":  # named only when set, as the blur
            options["light"] = self.light
        # named always, as the cuts: features written before it (off) differ where a camera moves
        options["stabilize"] = self.stabilize
        # named always: features written before the cut handling ("keep") differ on edited videos,
        # so a store without it is extracted again and a model fitted on it says so
        options["cuts"] = self.cuts
        return options

    # -- helpers ------------------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_flow"] = None  # OpenCV objects do not pickle; workers build their own
        state["_pair_cache"] = OrderedDict()
        state["_bases"] = {}  # rebuilt per process, as the layouts could be
        state["_sign_cache"] = OrderedDict()
        state["_lit_cache"] = OrderedDict()
        state["_cut_log"] = CutLog("left out")
        state["_repeated"] = [0, -1]
        state["_seen"] = [0, -1]
        return state

    def _flow_engine(self):
        if self._flow is None:
            import cv2
            self._flow = cv2.DISOpticalFlow_create(_PRESETS[self.preset])
            self._flow.setFinestScale(self.finest_scale)
        return self._flow

    def _layout(self, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """For a working size: each pixel's grid cell (flattened; the pixels the mask leaves, when
        there is one), the pixels per cell (grid cells, then the whole frame) and which pixels are
        left (None: all); cells differ by a pixel where the grid does not divide."""
        layout = self._layouts.get(size)
        if layout is None:
            width, height = size
            rows = np.arange(height) * self.grid // height
            cols = np.arange(width) * self.grid // width
            cells = (rows[:, None] * self.grid + cols[None, :]).astype(np.int64).ravel()
            # every pixel counts in its cell's size, masked or not: the mask's pixels are still, so a
            # partly masked cell keeps the units of the others (a walker in its free part moves the
            # same share of it as anywhere else; dividing by the free pixels alone made such cells
            # noisy and lost to leaving whole cells out, docs/defaults.md)
            counts = np.bincount(cells, minlength=self.grid * self.grid).astype(np.float64)
            keep = None
            if self.mask:
                inside = np.zeros((height, width), bool)
                for x0, y0, x1, y1 in self.mask:
                    ys = slice(int(round(y0 * height)), int(round(y1 * height)))
                    inside[ys, int(round(x0 * width)):int(round(x1 * width))] = True
                keep = ~inside.ravel()
                if not keep.any():  # rectangles that leave slivers thinner than a pixel at this size
                    raise ValueError(f"mask: {_mask_text(self.mask)} leaves no pixel of the {width}x{height} "
                                     "working frame: nothing is left to watch")
                cells = cells[keep]
            layout = self._layouts[size] = (cells, np.append(counts, counts.sum()), keep)
        return layout

    def _cell_sums(self, index: np.ndarray, weights: np.ndarray | None, width: int) -> np.ndarray:
        """Per grid cell sums of `weights` into `width` bins, plus the whole-frame row."""
        grid_cells = self.n_cells - 1
        sums = np.bincount(index, weights=weights, minlength=grid_cells * width)
        sums = sums.reshape(grid_cells, width).astype(np.float64)
        return np.concatenate([sums, sums.sum(axis=0, keepdims=True)], axis=0)
