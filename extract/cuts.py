"""Scene cuts in edited footage: the rule, what a backbone does at one, and where they were.

An edited video (UCF-Crime's are mostly cut together) changes shot between two frames; a
backbone that reads a clip across that change sees the largest "motion" of the video. Every
backbone finds cuts with one rule and records where they are, so the analyst sees them on the
timeline; what it does at one is its `cuts` option: the motion backbone leaves the frame pair
out (`skip`, its default); a learned backbone keeps the clip as it is (`keep`, its default) or
shows only the clip's longest shot, holding its first and last frames over the rest (`hold`).

The rule: two textured frames whose 32-pixel-wide grey thumbnails correlate below
`CUT_CORRELATION` (normalised cross-correlation: the layout changed) and whose grey histograms
differ by at least `CUT_HISTOGRAM` (half the L1 distance of 16 bins: the light changed; a camera
pan keeps it). At 10 fps, consecutive frames correlate at 0.85 or more in every fixed-camera video
here (real, synthetic, camera faults included); bikes.mp4 (handheld street shots, the only edited
video here) has its five cuts at correlations -0.25 to 0.23 with histograms 0.18 to 0.72 apart,
and pans at correlations down to 0.34 whose histograms stay within 0.13
(benchmarks/check_cuts.py). A frame gone dark or blank is never either side of a cut: lights out
or a covered lens is an event, not a change of shot.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

#: a frame pair whose thumbnails correlate below this and whose grey histograms differ by at
#: least `CUT_HISTOGRAM` is a scene cut (module docstring)
CUT_CORRELATION = 0.4
CUT_HISTOGRAM = 0.15
#: thumbnails with less contrast than this (grey levels, standard deviation) are never a cut
CUT_MIN_CONTRAST = 4.0
#: the width of the thumbnails compared for a cut
CUT_THUMB_WIDTH = 32


class FrameSign:
    """What the rule reads from one frame: its `CUT_THUMB_WIDTH`-pixel-wide grey thumbnail,
    standardised (zero mean, unit deviation), and its 16-bin grey histogram (fractions), computed
    only when asked: the rule needs it only for the rare pair whose layouts differ."""

    __slots__ = ("thumb", "_grey", "_histogram")

    def __init__(self, thumb: np.ndarray, grey: np.ndarray) -> None:
        self.thumb, self._grey, self._histogram = thumb, grey, None

    @property
    def histogram(self) -> np.ndarray:
        if self._histogram is None:
            import cv2

            grey = self._grey
            self._histogram = cv2.calcHist([grey], [0], None, [16], [0, 256]).ravel().astype(np.float64) / grey.size
            self._grey = None  # the frame is not kept once read
        return self._histogram


def frame_sign(frame: np.ndarray) -> FrameSign | None:
    """The sign of one frame (grey (H, W) or RGB (H, W, 3) uint8), once per frame; None when its
    thumbnail has less contrast than `CUT_MIN_CONTRAST` (never either side of a cut)."""
    import cv2

    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) if frame.ndim == 3 else frame
    height = max(1, round(CUT_THUMB_WIDTH * grey.shape[0] / grey.shape[1]))
    thumb = cv2.resize(grey, (CUT_THUMB_WIDTH, height), interpolation=cv2.INTER_AREA).astype(np.float64)
    spread = thumb.std()
    if spread < CUT_MIN_CONTRAST:
        return None
    return FrameSign((thumb - thumb.mean()) / spread, grey)


def signs_of(a: FrameSign | None, b: FrameSign | None) -> tuple[float, float] | None:
    """Two frames' signs compared, both measures (for reports): the thumbnails' correlation (the
    layout changed) and half the L1 distance of the histograms (the light changed: a camera pan
    keeps it, a new shot rarely does); None when either frame has too little contrast."""
    if a is None or b is None:
        return None
    return _correlation(a, b), _histogram_distance(a, b)


def _correlation(a: FrameSign, b: FrameSign) -> float:
    return float((a.thumb * b.thumb).mean())


def _histogram_distance(a: FrameSign, b: FrameSign) -> float:
    return float(0.5 * np.abs(a.histogram - b.histogram).sum())


def cut_signs(a: np.ndarray, b: np.ndarray) -> tuple[float, float] | None:
    """`signs_of` two frames."""
    return signs_of(frame_sign(a), frame_sign(b))


def is_cut_pair(signs: tuple[float, float] | None) -> bool:
    """The rule on both measures: the thumbnails correlate below `CUT_CORRELATION` and the
    histograms differ by at least `CUT_HISTOGRAM`."""
    return signs is not None and signs[0] < CUT_CORRELATION and signs[1] >= CUT_HISTOGRAM


def is_cut_between(a: FrameSign | None, b: FrameSign | None) -> bool:
    """`is_cut_pair` from two frames' signs, the histograms read only where the layouts differ."""
    if a is None or b is None or _correlation(a, b) >= CUT_CORRELATION:
        return False
    return _histogram_distance(a, b) >= CUT_HISTOGRAM


def clip_cuts(clip: np.ndarray) -> list[bool]:
    """For each consecutive pair of a clip's frames (decoded, any size), whether a cut lies
    between them."""
    signs = [frame_sign(frame) for frame in clip]
    return [is_cut_between(a, b) for a, b in zip(signs, signs[1:])]


def hold_longest_shot(clip: np.ndarray, cuts: Sequence[bool]) -> np.ndarray:
    """The clip as its longest shot alone (the earliest of equals): the frames before it show
    the shot's first frame, those after it its last, so the clip keeps its length and no frame
    of another shot is seen."""
    starts = [0] + [t + 1 for t, cut in enumerate(cuts) if cut]
    ends = starts[1:] + [len(clip)]
    first, end = max(zip(starts, ends), key=lambda se: (se[1] - se[0], -se[0]))
    index = np.clip(np.arange(len(clip)), first, end - 1)
    return np.asarray(clip)[index]


class CutLog:
    """The cuts a backbone found in one video: each once, however many overlapping clips hold it,
    placed at the first sampled frame after it (at a capped frame rate the cut itself lies up to
    one sampling step before that frame)."""

    def __init__(self, handling: str) -> None:
        self.handling = handling  # what the backbone did at each: "left out" | "held" | "kept"
        self.frames: set[int] = set()
        self._taken = -1  # the last place `take` gave out
        self.pairs = 0  # cut pairs counted without a position (`add` without sources, or by a backbone that counts each pair once)

    def start(self) -> None:
        self.frames.clear()
        self.pairs = 0
        self._taken = -1

    def take(self) -> list[int]:
        """The places found since the last `take`, in order, then forgotten, so that a stream's log
        stays small however long it runs (`videoad watch`); a place once taken is not taken again
        when an overlapping clip finds it anew."""
        new = sorted(f for f in self.frames if f > self._taken)
        self.frames.clear()
        if new:
            self._taken = new[-1]
        return new

    def add(self, cuts: Sequence[bool], sources: Sequence[int] | None) -> None:
        """One clip's cut flags (`clip_cuts`) with each frame's source index, when known."""
        if sources is None:
            self.pairs += sum(bool(c) for c in cuts)
        else:
            self.frames.update(int(sources[t + 1]) for t, cut in enumerate(cuts) if cut)

    def summary(self) -> dict[str, Any]:
        """For the store attributes: how many, where (when known), and what was done at them."""
        out: dict[str, Any] = {"scene_cuts": len(self.frames) if self.frames else self.pairs,
                               "scene_cut_handling": self.handling}
        if self.frames:
            out["scene_cut_frames"] = sorted(self.frames)
        return out
