"""One group's fitted model: the rows it reads, the feature transform, the seed ensemble of
detectors and the alarm line, fitted, applied, saved and loaded as one object (the way a
scikit-learn Pipeline is one estimator).

Rows: one per clip, or one per (clip, grid cell) with a single detector shared over positions
(`rows`); cells a user names are left out (`ignore_cells`, `kept_cells`), and each cell's scores can be
judged against that cell's own ordinary ones (`cell_calibration_of`, an option) before they become a
clip score by `aggregate_cells`. The alarm line comes from the
scores of the clips the model was fitted on (`alarm_line`), so a model fitted on normal history
carries the line that history sets.
"""
from __future__ import annotations

import re
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np

from videoad.coverage import ONE_VIDEO_HISTORY, short_history_line
from videoad.smoothing import clip_step_seconds, smooth_scores, smooth_seconds

LEVELS = ("auto", "cell", "clip")
CELL_AGGREGATES = ("top2", "max")
ALARMS = ("mad", "mirror", "lower", "quantile")
#: the "lower" alarm rule's centre: this quantile of the fitted clips' scores
LOWER_CENTRE = 0.3
#: where a transductive fit's alarm line is read from: every fitted clip, or the clips the detector's
#: own normal selection holds (`selected_clips`)
LINE_FROM = ("fitted", "selection")
#: fewer selected clips than this and the line is read from every fitted clip instead
MIN_LINE_CLIPS = 10
PREPROCESS = ("none", "sqrt", "rms", "sqrt-rms")
#: how each cell's scores are read before the clip aggregate: as the detector gives them, or as a
#: robust z against that cell's own scores over the fitted clips (`cell_calibration_of`)
CELL_CALIBRATIONS = ("none", "z")


def make_detector(name: str, params: Mapping | None = None, seed: int | None = None):
    """A detector by registry name with its constructor `params` (random_state = seed); see
    `videoad.detector.registry`, the one table of detectors."""
    from videoad.detector import registry

    return registry.make(name, params, seed)


# ---------------------------------------------------------------------------------------------
# rows and cells


def resolve_level(level: str, vids) -> str:
    """"cell" or "clip" for a group: auto takes the cells when every video has them."""
    have = [v.cells is not None for v in vids]
    if level == "auto":
        return "cell" if all(have) else "clip"
    if level == "cell" and not all(have):
        missing = [v.key for v, h in zip(vids, have) if not h]
        raise ValueError(f"level 'cell': video(s) {missing[:5]} have no cells in the store (extracted before "
                         "schema version 2, or with a backbone without a grid); re-extract them or use level clip")
    return level


def layout_of(vids, level: str) -> dict:
    """What a group's scores are: the level, and for cells the grid and the frame region it covers."""
    if level == "clip":
        return {"level": "clip"}
    grids = {v.cell_grid for v in vids}
    if len(grids) != 1:
        raise ValueError(f"videos of one group have different cell grids {sorted(map(str, grids))}")
    from extract.store import attr_list, region_problem

    # the first video's region whose is valid (an invalid one, named at screening, failed the group
    # with a JSON traceback or became the group's); the whole frame where none records one
    region = next((attr_list(r) for v in vids if (r := v.attrs.get("cell_region")) is not None
                   and not region_problem(r)), [0.0, 0.0, 1.0, 1.0])
    return {"level": "cell", "cell_grid": list(grids.pop()), "cell_region": [float(r) for r in region]}


def fitted_layout(vids, layout: Mapping, row_values: int) -> dict:
    """How the arrays a model is fitted on are laid out (models.json `fitted_layout`), for scoring to
    hold each video against: values per clip, for cells their grid and values per cell, and the
    values per row its detectors read. `vids` share one layout (`videoad.video.groups._load_group`)."""
    out = {"clip_values": int(vids[0].features.shape[1]), "row_values": int(row_values)}
    if layout["level"] == "cell":
        out.update(cell_grid=[int(g) for g in layout["cell_grid"]], cell_values=int(vids[0].cells.shape[2]))
    return out


def expected_layout(fitted: Mapping) -> tuple:
    """The layout a `fitted_layout` record describes, as `layout_words` reads it: (values per clip,)
    and for a cell model its grid, number of cells and values per cell."""
    expect = (int(fitted["clip_values"]),)
    if "cell_grid" in fitted:
        grid = tuple(int(g) for g in fitted["cell_grid"])
        expect += (grid, int(np.prod(grid)), int(fitted["cell_values"]))
    return expect


def layout_words(layout: tuple, cells: bool = False) -> str:
    """A layout ((values per clip,) [+ (grid, cells, values per cell)]) in words (`cells`: say so
    where it has none)."""
    words = f"{layout[0]} values per clip" + (", no cells" if cells and len(layout) == 1 else "")
    if len(layout) > 1:
        grid, n_cells, values = layout[1:]
        shown = "x".join(map(str, grid))
        words += (f", cells on a {shown} grid of {values} values each" if grid and int(np.prod(grid)) == n_cells
                  else f", {n_cells} cells of {values} values each (its cell grid says {shown or 'none'})")
    return words


def rows(vids, level: str, position: bool = False, keep: np.ndarray | None = None) -> np.ndarray:
    """The detector's rows for a group: one per clip, or one per (clip, cell) in clip order, the
    cells of a clip row-major; with `position`, each cell row ends with a one-hot of its cell.
    `keep`: the cells that make rows (`kept_cells`; None: all)."""
    if level == "clip":
        return array_rows(stack([v.features for v in vids]), None, level, position)
    return array_rows(None, stack([v.cells for v in vids]), level, position, keep)


def stack(parts: list[np.ndarray]) -> np.ndarray:
    """`np.concatenate(parts)`, or without a copy the matrix they are consecutive rows of (videos
    loaded by `FeatureStore.load_packed`: a pooled dataset's features are gigabytes)."""
    base = parts[0].base if parts else None
    if (isinstance(base, np.ndarray) and base.flags.c_contiguous and base.ndim == parts[0].ndim
            and all(p.base is base and p.flags.c_contiguous for p in parts)):
        at = base.ctypes.data
        for p in parts:
            if p.ctypes.data != at:
                break
            at += p.nbytes
        else:
            if at == base.ctypes.data + base.nbytes:
                return base
    return np.concatenate(parts)


def row_videos(vids, level: str, n_cells: int | None = None) -> np.ndarray:
    """Which video (index into `vids`) each of `rows(vids, level)` comes from (`n_cells`: the
    cells each clip makes rows of, when some are left out)."""
    per_clip = [len(v.features) if level == "clip" else len(v.cells) * (n_cells or v.cells.shape[1]) for v in vids]
    return np.repeat(np.arange(len(vids)), per_clip)


def short_references(clips) -> np.ndarray:
    """Which history videos keep their fitted scores under `held_out`: those whose other videos hold
    fewer than `MIN_LINE_CLIPS` clips together. One long video beside a second of one clip was scored
    against that clip alone and its line rose 1.1-2.8x, unwarned (Ped2: lopsided_history.md)."""
    clips = np.asarray(clips, dtype=np.int64)
    return clips.sum() - clips < MIN_LINE_CLIPS


def array_rows(features: np.ndarray | None, cells: np.ndarray | None, level: str, position: bool = False,
               keep: np.ndarray | None = None) -> np.ndarray:
    """`rows` of clips given as arrays: features (n, dim) for level clip, cells (n, C, d) for cell."""
    if level == "clip":
        return np.asarray(features).astype(np.float32, copy=False)
    cells = np.asarray(cells).astype(np.float32, copy=False)  # (n, C, d)
    eye = np.eye(cells.shape[1], dtype=np.float32)
    if keep is not None:
        cells, eye = cells[:, keep], eye[keep]
    n, n_cells, _ = cells.shape
    out = cells.reshape(n * n_cells, -1)
    if position:
        out = np.concatenate([out, np.tile(eye, (n, 1))], axis=1)
    return out


#: a cell name of `ignore_cells`: row:col from the top left, each a number, a range a-b or * (all)
CELL_NAME = re.compile(r"^\s*(\d+|\d+-\d+|\*)\s*:\s*(\d+|\d+-\d+|\*)\s*$")


def reversed_range(name: str) -> str | None:
    """The part of a cell name that is a range from high to low ("3-1" of "3-1:0"), else None: on
    any grid it names no cell, and it was refused as "outside the grid" (after the fit's loading)."""
    m = CELL_NAME.match(name)
    for part in (m.groups() if m else ()):
        if "-" in part and int(part.split("-")[0]) > int(part.split("-")[1]):
            return part
    return None


def parse_cells(names, grid) -> list[int]:
    """Grid cells named as events.csv names them, "row:col" from the top left, each part a number,
    a range "a-b" or "*" ("*:0" is the left column), in a list or one comma-separated string, as
    sorted flat indices; a name outside the grid is refused."""
    rows_, cols = grid
    if isinstance(names, str):
        names = [n for n in names.split(",") if n.strip()]

    def span(part: str, size: int, name) -> range:
        lo, hi = (0, size - 1) if part == "*" else (int(x) for x in (part.split("-") * 2)[:2])
        if not 0 <= lo <= hi < size:
            raise ValueError(f"ignore_cells: {name!r} is outside the {rows_}x{cols} grid of these features")
        return range(lo, hi + 1)

    out = set()
    for name in names:
        m = CELL_NAME.match(str(name))
        if not m:
            raise ValueError(f"ignore_cells: {name!r} is not a cell name (row:col, e.g. 2:0, 0-1:3 or *:0)")
        if part := reversed_range(m[0]):
            raise ValueError(f"ignore_cells: {name!r}: the range {part} runs from high to low; write it low-high")
        out.update(r * cols + c for r in span(m[1], rows_, name) for c in span(m[2], cols, name))
    if len(out) >= rows_ * cols:
        raise ValueError("ignore_cells leaves no cell to score")
    return sorted(out)


def aggregate_cells(cell_scores: np.ndarray, how: str) -> np.ndarray:
    """A clip's score from its cells' scores (n_clips, n_cells): the hottest cell ("max") or the
    mean of the two hottest ("top2": an object spans a cell border as often as not)."""
    if how == "max" or cell_scores.shape[1] < 2:
        return cell_scores.max(axis=1)
    if how == "top2":
        return np.sort(cell_scores, axis=1)[:, -2:].mean(axis=1)
    raise ValueError(f"cell_aggregate must be one of {CELL_AGGREGATES}, got {how!r}")


def cell_calibration_of(ref_cells: np.ndarray | None, how: str) -> dict | None:
    """Each cell's ordinary scores, read from the scores (n_clips, n_cells) of the clips a model
    was fitted on (a history's held-out scores when it was fitted on one), so that a cell is judged
    against its own range: its median, and a spread of its median absolute deviation plus the
    whole grid's (a floor, so that a cell that never moves does not turn every flicker into an
    alarm). Why: a part of the view that always moves (leaves, water, a flag in the wind) scores
    high in every clip, more so on a windy day, and would set every clip's score; judged against
    its own range it scores high only when it moves unlike itself. Off by default: it also raises
    the quiet cells and lowers the busy ones where real anomalies happen, and lost on the clean real
    footage (docs/defaults.md, "Leaves in the wind"). None for "none" or whole-clip rows."""
    if how not in CELL_CALIBRATIONS:
        raise ValueError(f"cell_calibration must be one of {CELL_CALIBRATIONS}, got {how!r}")
    if how == "none" or ref_cells is None:
        return None
    ref = np.asarray(ref_cells, dtype=np.float64)
    centre = np.median(ref, axis=0)
    spread = np.median(np.abs(ref - centre), axis=0) + float(np.median(np.abs(ref - np.median(ref))))
    floor = float(np.std(ref)) or 1.0  # fitted scores nearly all alike: the spread they have, or none
    spread = np.where(spread > 0, spread, floor)
    return {"how": how, "centre": centre.tolist(), "spread": spread.tolist()}


def calibrate_cells(cells: np.ndarray, calibration: Mapping | None) -> np.ndarray:
    """Cell scores (n_clips, n_cells) against each cell's own range (`cell_calibration_of`)."""
    if not calibration:
        return cells
    centre, spread = np.asarray(calibration["centre"]), np.asarray(calibration["spread"])
    if centre.shape != (cells.shape[1],):
        raise ValueError(f"the cell calibration holds {centre.size} cells, these scores have {cells.shape[1]}")
    return (cells - centre) / spread


def alarm_line(clip_scores: np.ndarray, rule: str, level: float) -> float:
    """The score above which a clip is an alarm, from the scores of the clips a model was fitted on.

    "mad": median + `level` robust standard deviations (1.4826 x the median absolute deviation):
    the typical clip sets the scale, and up to half of the clips may be anomalous without moving
    it. "mirror": the same with the spread read from the clips below the median alone (their
    median distance to it), as if the lower half were mirrored: anomalies only ever score high,
    so those in the fitted clips widen the "mad" spread, while they move this one only through
    the median; on symmetric scores both are equal. "lower": "mirror" centred on the
    `LOWER_CENTRE` quantile instead of the median, so that up to 70% of the clips may be
    anomalous (real footage fitted on itself often has a third or more) before they reach the
    centre or its spread. "quantile": the `level` quantile, which flags a fixed share of the clips
    whatever they hold. Scores that are not finite are left out of the line (one inf would make
    the spread inf or NaN and silence every alarm).
    """
    s = np.asarray(clip_scores, dtype=np.float64).ravel()
    s = s[np.isfinite(s)]
    if not s.size:
        raise ValueError("no finite clip score to set the alarm line from")
    if rule == "quantile":
        return float(np.quantile(s, level))
    if rule not in ("mad", "mirror", "lower"):
        raise ValueError(f"alarm must be one of {ALARMS}, got {rule!r}")
    centre = float(np.quantile(s, LOWER_CENTRE)) if rule == "lower" else float(np.median(s))
    spread_of = s if rule == "mad" else s[s <= centre]
    spread = 1.4826 * float(np.median(np.abs(spread_of - centre)))
    if spread == 0:  # more than half the clips score alike: fall back to the spread of the rest
        spread = float(np.std(s))
    return centre + float(level) * spread


def kept_cells(layout: Mapping) -> np.ndarray | None:
    """The grid cells that make rows (flat indices), or None when every cell does."""
    ignored = layout.get("ignored_cells") or ()
    if layout.get("level") != "cell" or not ignored:
        return None
    rows_, cols = layout["cell_grid"]
    return np.setdiff1d(np.arange(rows_ * cols), ignored)


def selected_clips(detectors, cell_scores: np.ndarray | None, how: str) -> np.ndarray | None:
    """The clips a detector's own normal selection holds, or None when it keeps none (`selection_`).

    A row counts as selected when most of the seed ensemble's detectors selected it. With whole
    clips as rows that is the clip; with grid cells, the cells that set the clip's score (its two
    hottest under "top2", the hottest under "max") must all be selected: a clip whose hot cells the
    detector itself set apart as abnormal says nothing about the normal range, whichever share of
    the footage such clips fill.
    """
    selections = [np.asarray(d.selection_, dtype=bool) for d in detectors if getattr(d, "selection_", None) is not None]
    if not selections:
        return None
    selected = np.mean(selections, axis=0) > 0.5
    if cell_scores is None:
        return selected
    cells = selected.reshape(cell_scores.shape)
    k = 1 if how == "max" or cell_scores.shape[1] < 2 else 2
    hottest = np.argsort(cell_scores, axis=1, kind="stable")[:, -k:]
    return np.take_along_axis(cells, hottest, axis=1).all(axis=1)


def line_clips_of(detectors, cell_scores: np.ndarray | None, how: str, n_clips: int, name: str = ""
                  ) -> tuple[np.ndarray, str | None]:
    """The clips a `line_from: selection` line is read from (`selected_clips`) and None, or every
    clip and why not: the detector keeps no selection, or fewer than `MIN_LINE_CLIPS` clips are
    selected (too few to read a spread from)."""
    mask = selected_clips(detectors, cell_scores, how)
    if mask is None:
        return np.ones(n_clips, dtype=bool), f"the {name + ' ' if name else ''}detector keeps no normal selection"
    if int(mask.sum()) < MIN_LINE_CLIPS:
        return np.ones(n_clips, dtype=bool), f"{int(mask.sum())} selected clips, fewer than {MIN_LINE_CLIPS}"
    return mask, None


# ---------------------------------------------------------------------------------------------
# the feature transform


def fit_preprocess(X: np.ndarray, how: str) -> dict:
    """Fit the per-group feature transform; returns its state (apply with `apply_preprocess`).

    "sqrt": signed square root of every value (Hellinger's transform for histograms).
    "rms": divide each column by its root-mean-square over the group's rows, so columns in
        different units weigh alike; not centred (DUAD's angle is unstable near the origin).
    "sqrt-rms": both, root first. "none": the features as stored.
    """
    if how not in PREPROCESS:
        raise ValueError(f"preprocess must be one of {PREPROCESS}, got {how!r}")
    state = {"how": how, "scale": None}
    if how in ("rms", "sqrt-rms"):
        Y = _signed_sqrt(X) if how == "sqrt-rms" else X
        rms = np.sqrt(np.mean(np.square(Y, dtype=np.float64), axis=0))
        state["scale"] = np.where(rms > 0, rms, 1.0).astype(np.float32)
    return state


def apply_preprocess(X: np.ndarray, state: dict) -> np.ndarray:
    how = state["how"]
    Y = _signed_sqrt(X) if how in ("sqrt", "sqrt-rms") else X
    if state.get("scale") is not None:
        scale = np.asarray(state["scale"], dtype=np.float32)
        if scale.shape[0] != Y.shape[1]:
            raise ValueError(f"preprocess state has {scale.shape[0]} columns, features have {Y.shape[1]}")
        Y = Y / scale
    return np.ascontiguousarray(Y, dtype=np.float32)


def _signed_sqrt(X: np.ndarray) -> np.ndarray:
    return np.sign(X) * np.sqrt(np.abs(X))


_CONTROLLER = None


def _thread_limit(threads: int):
    """threadpoolctl's limit through one controller made once: `threadpool_limits` scans the
    loaded libraries on every call (about 9 ms), which a live stream scoring each clip as it
    comes would pay a few times a second."""
    global _CONTROLLER
    from threadpoolctl import ThreadpoolController

    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=threads)


# ---------------------------------------------------------------------------------------------
# the model


@dataclass
class GroupModel:
    """A fitted group: see the module docstring. `info` is what run.json and models.json record."""

    detectors: list
    prep: dict
    layout: dict
    position: bool
    cell_aggregate: str
    threshold: float
    info: dict = field(default_factory=dict)
    smooth: float = 0.0  # seconds: Gaussian sigma over each video's clip scores (`videoad.smoothing`); 0: off
    threshold_raw: float | None = None  # the alarm line of the unsmoothed scores (`videoad watch --no-smooth`)
    calibration: dict | None = None  # each cell's ordinary range (`cell_calibration_of`); None: cells as scored

    @classmethod
    def fit(cls, vids, *, level: str, detector: str, params: Mapping, preprocess: str, n_seeds: int, seed: int,
            position: bool, cell_aggregate: str, alarm: str, alarm_level: float, threads: int = 1,
            kind: str = "", smooth: float = 0.0, held_out: bool = False, line_from: str = "fitted",
            cell_calibration: str = "none", ignore_cells=()) -> tuple["GroupModel", np.ndarray | None, np.ndarray]:
        """Fit on the videos' own clips; returns the model and the fitted clips' (cell, clip) scores.

        With `n_seeds` > 1 the detector is fitted that many times with consecutive seeds and the
        scores are averaged: a small group makes one autoencoder's scores swing with its seed.
        With `smooth` > 0 each video's clip scores are smoothed in time before the alarm line is
        drawn from them (cell scores stay as they are: they say where).
        With `held_out` (a normal history, scored later against new footage), a detector that
        can (`held_out_scores`: DUAD's knn score) scores each video's rows without that video's
        own rows in its reference, so the line is drawn from what new normal footage would score
        (`info["line_from"]` says which scores it came from). Otherwise `line_from="selection"`
        draws the line from the clips the detector's own normal selection holds (`selected_clips`;
        every fitted clip when it keeps no selection or holds fewer than `MIN_LINE_CLIPS`).
        With `cell_calibration` "z", each cell's ordinary range is read from the fitted (or held-out)
        cell scores and every cell score, fitted or new, is judged against it (`cell_calibration_of`);
        the returned cell scores and the line are then in those units.
        `ignore_cells` ("row:col" names) are left out of the rows, of the fit and of every clip
        score (a tree, water or a flag that moves all the time); their written cell scores are the
        clip's coolest scored cell's, so they never look hot.
        """
        from videoad.detector.torch_base import thread_limits

        if line_from not in LINE_FROM:
            raise ValueError(f"line_from must be one of {LINE_FROM}, got {line_from!r}")
        smooth = smooth_seconds(smooth)
        t0 = time.perf_counter()
        layout = layout_of(vids, resolve_level(level, vids))
        if ignore_cells:
            if layout["level"] != "cell":
                raise ValueError("ignore_cells names grid cells, and these features are scored as whole clips "
                                 "(no cells in the store, or level: clip)")
            layout["ignored_cells"] = parse_cells(ignore_cells, layout["cell_grid"])
        keep = kept_cells(layout)
        X = rows(vids, layout["level"], position, keep)
        prep = fit_preprocess(X, preprocess)
        Xp = apply_preprocess(X, prep)
        runs, dets = [], []
        n_kept = None if keep is None else len(keep)
        source, videos = "fitted", row_videos(vids, layout["level"], n_kept) if held_out else None
        short = short_references([len(v.features) for v in vids]) if held_out else None
        for k in range(int(n_seeds)):
            det = make_detector(detector, params, seed + k)
            with thread_limits(threads):  # torch and BLAS threads, the caller's back after
                det.fit(Xp)
                fitted = det.decision_scores_
                if held_out and hasattr(det, "held_out_scores"):
                    fitted, source = det.held_out_scores(Xp, videos), "held-out"
                    fitted = np.where(short[videos], det.decision_scores_, fitted)
            runs.append(np.asarray(fitted, dtype=np.float64))
            dets.append(det)
        model = cls(dets, prep, layout, bool(position), cell_aggregate, float("nan"), smooth=float(smooth))
        row_scores = np.mean(runs, axis=0)
        note = thin = None
        if source == "held-out" and len(vids) < 2:  # no other video to score its clips against
            source, note = "fitted", ONE_VIDEO_HISTORY  # said by coverage.warnings (`line_note_line`)
        elif source == "held-out" and short.any():
            few = [v for v, s in zip(vids, short) if not s] or vids  # every video short: all of them
            thin = {"videos": [v.key for v in few], "clips": int(sum(len(v.features) for v in few)),
                    "scored_fitted": int(short.sum())}
            note = short_history_line(thin)  # said by coverage.warnings from `short_history`
            source = "fitted" if short.all() else source
        cells, raw = model._clip_scores(row_scores)
        model.calibration = cell_calibration_of(model._kept(cells), cell_calibration)
        if model.calibration:  # the fitted cells again, now against their own ranges
            cells, raw = model._clip_scores(row_scores)
        clips = model.smoothed(vids, raw)
        line_clips = np.ones(len(clips), dtype=bool)
        if line_from == "selection" and source != "held-out" and note is None:
            line_clips, note = line_clips_of(dets, model._kept(cells), cell_aggregate, len(clips), detector)
            if note is None:  # else said by coverage.warnings (run.json's `line_note`), once, with the footage checks
                source = "selection"
        model.threshold = alarm_line(clips[line_clips], alarm, alarm_level)
        model.threshold_raw = (alarm_line(raw[line_clips], alarm, alarm_level) if model.smooth > 0
                               else model.threshold)
        first = dets[0]
        unit = getattr(first, "score_unit", None)
        model.info = {"seed": seed, "n_seeds": len(dets), "fit_seconds": round(time.perf_counter() - t0, 3),
                      "threshold": model.threshold, "threshold_raw": model.threshold_raw,
                      "alarm": [alarm, float(alarm_level)], "features": kind,
                      "detector": detector, "params": dict(params), "n_rows": int(X.shape[0]),
                      "smooth": float(smooth), "line_from": source,
                      "line_clips": int(line_clips.sum()), **({"line_note": note} if note else {}),
                      **({"short_history": thin} if thin else {}),
                      "score_unit": unit() if callable(unit) else "score",
                      "fitted_layout": fitted_layout(vids, layout, X.shape[1]), **layout}
        if model.calibration:  # the scores are now each cell's robust z against its own range
            model.info.update(cell_calibration=model.calibration["how"],
                              score_unit=f"{model.info['score_unit']}, robust z per cell")
        for attr in ("stop_reason_", "n_reselections_", "n_epochs_"):
            if hasattr(first, attr):
                model.info[attr.rstrip("_")] = getattr(first, attr)
        if hasattr(first, "selection_"):
            model.info["selected_fraction"] = float(np.mean(first.selection_))
        if len(getattr(first, "restarts_", ())) > 1:  # DUAD restarts: every attempt, and which were kept
            model.info["attempts"] = [{k: a[k] for k in ("seed", "stop_reason", "last_change", "kept")}
                                      for a in first.restarts_]
        return model, cells, clips

    def score(self, vids, threads: int = 1, smooth: bool = True) -> tuple[np.ndarray | None, np.ndarray]:
        """(cell scores or None, clip scores) of new videos: the mean over the seed ensemble, with
        torch limited to `threads` threads meanwhile (the caller's count back after); each
        video's clip scores smoothed in time as the model was fitted (`smooth=False`: raw)."""
        from videoad.detector.torch_base import torch_threads

        level = self.layout["level"]
        resolve_level(level, vids)  # the model's level must be available in these videos
        layout = layout_of(vids, level)
        if level == "cell" and layout["cell_grid"] != list(self.layout["cell_grid"]):
            raise ValueError(f"the model was fitted on a {self.layout['cell_grid']} grid, "
                             f"these features have {layout['cell_grid']}")
        with torch_threads(threads):
            cells, clips = self._score_rows(rows(vids, level, self.position, kept_cells(self.layout)), threads)
        return cells, (self.smoothed(vids, clips) if smooth else clips)

    def sigma(self, step_s: float) -> float:
        """The smoothing's sigma in clips, for clips `step_s` seconds apart."""
        return self.smooth / step_s if self.smooth > 0 and step_s > 0 else 0.0

    def smoothed(self, vids, clips: np.ndarray) -> np.ndarray:
        """Each video's stretch of `clips` (the videos' clips in order) smoothed in time."""
        if self.smooth <= 0:
            return clips
        out, start = np.array(clips, dtype=np.float64), 0
        for v in vids:
            n = len(v.frames)
            out[start:start + n] = smooth_scores(out[start:start + n], self.sigma(clip_step_seconds(v.attrs, v.frames)))
            start += n
        return out

    def score_arrays(self, features: np.ndarray | None, cells: np.ndarray | None = None, threads: int = 1
                     ) -> tuple[np.ndarray | None, np.ndarray]:
        """`score` for a few clips given as arrays (a live stream's latest clips): features
        (n, dim), cells (n, rows * cols, d) or None. The same rows, transform and ensemble."""
        level = self.layout["level"]
        if level == "cell":
            if cells is None:
                raise ValueError("the model scores grid cells and these clips have none")
            rows_, cols = self.layout["cell_grid"]
            if np.ndim(cells) != 3 or np.shape(cells)[1] != rows_ * cols:
                raise ValueError(f"the model was fitted on a [{rows_}, {cols}] grid, these clips have cells of shape "
                                 f"{np.shape(cells)}")
        elif features is None:
            raise ValueError("the model scores whole clips: give their features")
        return self._score_rows(array_rows(features, cells, level, self.position, kept_cells(self.layout)), threads)

    def _score_rows(self, X: np.ndarray, threads: int) -> tuple[np.ndarray | None, np.ndarray]:
        X = apply_preprocess(X, self.prep)
        runs = []
        for det in self.detectors:
            if X.shape[1] != det.n_features_in_:
                raise ValueError(f"the model was fitted on {det.n_features_in_}-d rows, these have {X.shape[1]}-d")
            with _thread_limit(threads):
                runs.append(np.asarray(det.decision_function(X), dtype=np.float64))
        return self._clip_scores(np.mean(runs, axis=0))

    def _clip_scores(self, row_scores: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        """(cell scores over the whole grid, clip scores) from the rows' scores; left-out cells
        (`ignore_cells`) take the clip's coolest scored cell's score and no part in its score."""
        if self.layout["level"] == "clip":
            return None, row_scores
        rows_, cols = self.layout["cell_grid"]
        keep = kept_cells(self.layout)
        scored = calibrate_cells(row_scores.reshape(-1, rows_ * cols if keep is None else len(keep)), self.calibration)
        clips = aggregate_cells(scored, self.cell_aggregate)
        if keep is None:
            return scored, clips
        cells = np.repeat(scored.min(axis=1, keepdims=True), rows_ * cols, axis=1)
        cells[:, keep] = scored
        return cells, clips

    def _kept(self, cells: np.ndarray | None) -> np.ndarray | None:
        """The scored cells' columns of `_clip_scores`' cell scores."""
        keep = kept_cells(self.layout)
        return cells if cells is None or keep is None else cells[:, keep]

    # -- persistence: torch detectors as tensors + JSON (no pickle), the transform as .npz ----------
    def save(self, prefix: Path) -> dict:
        """Write `<prefix>.s<k>.pt` and `<prefix>.preprocess.npz`; returns the models.json entry."""
        import io

        from extract.store import write_atomic
        from videoad.detector import registry
        from videoad.detector.persistence import save_detector

        prefix = Path(prefix)
        names = []
        for k, det in enumerate(self.detectors):
            spec = registry.spec_of(det)
            if spec is None or not spec.saves:
                raise ValueError(f"{type(det).__name__} cannot be saved (the detectors that can: "
                                 f"{', '.join(registry.savers())}); use one of those to keep models, or "
                                 "--fit-on without --save-model")
            path = prefix.with_name(f"{prefix.name}.s{k}.pt")
            save_detector(det, path)
            names.append(path.name)
        prep_path = prefix.with_name(prefix.name + ".preprocess.npz")
        buf = io.BytesIO()  # through `write_atomic`: a full disk is named with the file ("[Errno 28]" was all)
        np.savez(buf, how=self.prep["how"],
                 scale=np.zeros(0, np.float32) if self.prep["scale"] is None else self.prep["scale"])
        write_atomic(prep_path, buf.getbuffer())
        from videoad.output_keys import digest

        return {**{k: v for k, v in self.info.items() if k in _ENTRY_KEYS}, "models": names,
                "preprocess": prep_path.name, "position": self.position, "cell_aggregate": self.cell_aggregate,
                **({"cell_calibration": self.calibration} if self.calibration else {}),
                "sha256": {name: digest(prefix.with_name(name)) for name in [*names, prep_path.name]}}

    @classmethod
    def load(cls, entry: Mapping, model_dir: Path) -> "GroupModel":
        """The model a models.json entry describes (entries written before cells: whole clips;
        before the cell calibration: cells as scored)."""
        from videoad.detector.persistence import load_detector

        model_dir = Path(model_dir)
        dets = [load_detector(model_dir / name, device="cpu") for name in entry["models"]]
        prep = load_prep(model_dir / entry["preprocess"])  # a damaged file: named with what is wrong
        _check_pinned(entry, model_dir)  # one that loads: the one its fit wrote
        layout = {"level": entry.get("level", "clip")}
        if layout["level"] == "cell":
            layout.update(cell_grid=list(entry["cell_grid"]), cell_region=list(entry.get("cell_region", [0, 0, 1, 1])))
            if entry.get("ignored_cells"):  # entries written before the option: every cell
                layout["ignored_cells"] = [int(c) for c in entry["ignored_cells"]]
        info = {k: entry[k] for k in _ENTRY_KEYS if k in entry}
        if "fitted_layout" in entry:  # models saved before it: scoring holds videos against the group's majority
            info["fitted_layout"] = _fitted_layout_of(entry, model_dir)
        return cls(dets, prep, layout, bool(entry.get("position", False)),
                   entry.get("cell_aggregate", "max"), float(entry["threshold"]), info,
                   smooth=float(entry.get("smooth", 0.0)),  # models saved before smoothing: none
                   threshold_raw=entry.get("threshold_raw"), calibration=_calibration_of(entry, model_dir))


#: what a group's fit records in models.json so that scoring repeats it
_ENTRY_KEYS = ("threshold", "alarm", "level", "cell_grid", "cell_region", "features", "detector", "params",
               "score_unit", "n_seeds", "smooth", "threshold_raw", "history_still_cells", "ignored_cells",
               "history_activity_peak", "activity_split", "activity_level", "fitted_layout")


def _check_pinned(entry: Mapping, model_dir: Path) -> None:
    """Each file an entry names is the one its fit wrote (`sha256`, entries saved before it: unchecked):
    another group's weights or transform copied over it, the same network, loaded and scored in silence."""
    from videoad.output_keys import digest

    for name, want in (entry.get("sha256") or {}).items():
        got = digest(model_dir / name)
        if got is not None and got != want:
            raise ValueError(f"{model_dir / name}: not the file {model_dir / 'models.json'} records for it (its "
                             "sha256 differs: another group's or another fit's file copied over it, or one "
                             "altered since); refit the models (`videoad detect ... --save-model DIR`)")


def _fitted_layout_of(entry: Mapping, model_dir: Path) -> dict:
    """A models.json entry's `fitted_layout`, checked (`read_fitted_layout`)."""
    try:
        return read_fitted_layout(entry["fitted_layout"])
    except ValueError:
        raise ValueError(f"{Path(model_dir) / 'models.json'}: a damaged fitted_layout entry "
                         f"({str(entry['fitted_layout'])[:80]}); refit the models (`videoad detect ... --save-model DIR`)"
                         ) from None


def read_fitted_layout(record) -> dict:
    """A `fitted_layout` record (values per clip and per row; with cells their grid and values per
    cell) as whole counts; a ValueError where it is not one. Whole numbers only: int() took a
    hand-edited `clip_values: true` for 1, and every video was then refused as extracted with other
    settings."""

    def count(value) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(value)
        return value

    try:
        out = {k: count(record[k]) for k in ("clip_values", "row_values")}
        if "cell_grid" in record:
            grid = [count(g) for g in record["cell_grid"]]
            out.update(cell_grid=grid, cell_values=count(record["cell_values"]))
        sizes = [out["clip_values"], out["row_values"], *out.get("cell_grid", ()), out.get("cell_values", 1)]
        ok = len(out.get("cell_grid", (1, 1))) == 2 and min(sizes) > 0
    except (KeyError, TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError("not values per clip and per row, with cells their grid and values per cell")
    return out


def _calibration_of(entry: Mapping, model_dir: Path) -> dict | None:
    """A models.json entry's cell calibration, checked (`read_calibration`); None where it has none."""
    cal = entry.get("cell_calibration")
    if cal is None:
        return None
    try:
        return read_calibration(cal, scored_cells(entry))
    except ValueError:
        raise ValueError(f"{Path(model_dir) / 'models.json'}: a damaged cell_calibration entry ({str(cal)[:80]}); "
                         "refit the models (`videoad detect ... --save-model DIR`)") from None


def scored_cells(entry: Mapping) -> int | None:
    """How many cells a cell model's entry scores (its grid's, less those it ignores); None for whole clips."""
    grid = entry.get("cell_grid")
    if entry.get("level", "clip") != "cell" or not grid:
        return None
    return grid[0] * grid[1] - len(set(entry.get("ignored_cells") or ()))


def read_calibration(cal, n_cells: int | None) -> dict:
    """A saved cell calibration (each scored cell's finite centre and positive, finite spread; `n_cells`
    of them where known), else a ValueError saying what is wrong: a calibration of another size
    failed only at the first clip, an infinite spread judged every cell 0 in silence."""
    try:
        centre, spread = np.asarray(cal["centre"], float), np.asarray(cal["spread"], float)
        ok = (cal["how"] in CELL_CALIBRATIONS[1:] and centre.ndim == 1 and centre.shape == spread.shape
              and bool(np.all(np.isfinite(centre))) and bool(np.all(np.isfinite(spread) & (spread > 0))))
    except (KeyError, TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError("not each cell's finite centre and positive spread")
    if n_cells is not None and centre.size != n_cells:
        raise ValueError(f"it holds {centre.size} cells, the model scores {n_cells}")
    return {"how": cal["how"], "centre": centre.tolist(), "spread": spread.tolist()}


def load_prep(path) -> dict:
    """The feature transform saved beside a group's models; a damaged file names itself."""
    path = Path(path)
    redo = "refit the models (`videoad detect ... --save-model DIR`)"
    if not path.is_file():
        raise ValueError(f"{path}: missing (the feature transform fitted with the saved models); {redo}")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path}: not a feature-transform file (not an .npz archive); {redo}")
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = sorted({"how", "scale"} - set(z.files))
            if missing:
                raise ValueError(f"it lacks the array(s) {missing}")
            scale, how = z["scale"], str(z["how"])
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        # numpy's own text would suggest allow_pickle: never load objects from a model folder
        why = "it holds pickled objects, which are never loaded" if "pickle" in str(exc) else exc
        raise ValueError(f"{path}: not a readable feature-transform file ({why}); {redo}") from None
    if how not in PREPROCESS:
        raise ValueError(f"{path}: unknown feature transform {how!r}; {redo}")
    return {"how": how, "scale": scale if scale.size else None}
