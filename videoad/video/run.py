"""Running detection over a store: the per-group work (module level, so that joblib and Ray can
send it to worker processes), the three public calls (`detect`: transductive; `fit_and_score`:
fit on history, score new footage; `score`: with saved models), the models index and the
scores' metadata."""
from __future__ import annotations

import json
import logging
import time
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from extract.backbones import PERMISSIONS, recorded_options
from extract.clock import stored_start_warned
from extract.store import remove_stale_temporaries, write_atomic
from videoad import __version__
from videoad.cameras import cut_videos, note_mixed, unknown_views, views_of
from videoad.coverage import activity_split, busier_than_history, history_peak, moving_where_still, still_cells
from videoad.detector import registry
from videoad.group_model import GroupModel
from videoad.names import file_stems
from videoad.scores import ScoreSet, VideoScores
from videoad.video.config import DetectConfig, detector_params, feature_kind
from videoad.video.index import MODELS_FORMAT, MODELS_INDEX, read_index
from videoad.video.groups import (
    _annotations,
    _listed,
    _load_group,
    _screen,
    categories,
    fit_seed,
    make_groups,
    not_extracted,
    open_store,
    screened_groups,
    unfinished,
)

log = logging.getLogger(__name__)


def _video_meta(v) -> dict:
    from extract.store import whole_rows

    a = v.attrs
    n_frames = a.get("n_frames")
    if n_frames is None:
        raise ValueError(f"feature store video {v.key!r}: attribute n_frames is missing (needed to pad the tail)")
    fps = a.get("fps")
    fps = float(fps) if isinstance(fps, (int, float)) and np.isfinite(fps) else 0.0
    # an imported store's source_path is the feature file it was read from, not footage: naming it
    # made `plot` and `report` decode Sultani's .txt (FFmpeg reads text as a picture)
    source = "" if a.get("imported") or a.get("import_format") else a.get("source") or a.get("source_path") or ""
    cuts = a.get("scene_cuts")  # the scene cuts the backbone found (motion since 2026-12-03, every one since 12-04)
    at = whole_rows(a.get("scene_cut_frames"))  # and where, since 2026-12-04 (older stores: the count alone)
    cuts = int(cuts) if isinstance(cuts, (int, np.integer)) else None
    # what the backbone did at them; before it was recorded only the motion backbone counted
    # cuts, and it left them out
    handling = a.get("scene_cut_handling") or ("left out" if cuts is not None else None)
    repeated = a.get("repeated_frames")  # the motion backbone's count, since 2026-12-05
    # when the recording began (extract.clock: its file name, else its creation_time), since 2026-12-05;
    # one off a clock never set, kept by extraction before 2026-12-07, is left out and said, as it now is
    start, origin, warned = stored_start_warned(a.get("start_time"), a.get("start_time_from"), a.get("decode_warnings"))
    return {"n_frames": int(n_frames), "fps": fps, "source": str(source) if source != "none" else "",
            "scene_cuts": cuts, "scene_cut_frames": [int(f) for f in at] if at else None,
            "scene_cut_handling": handling,
            "repeated_frames": int(repeated) if isinstance(repeated, (int, np.integer)) else None,
            "repeat_handling": str(a["repeat_handling"]) if a.get("repeat_handling") else None,
            # what extraction warned of (damaged frames, a picture that changed size, ...), since 2026-12-05
            "decode_warnings": warned,
            "damaged_spans": _spans_attr(a.get("damaged_spans")),
            "start_time": start, "start_time_from": origin,
            # the source as extraction read it, so that a report can tell it changed since (imported: none)
            "source_fingerprint": ({"size": int(a["source_size"]), "files": int(a["source_files"]),
                                    **({"mtime_ns": int(a["source_mtime_ns"])}
                                       if a.get("source_mtime_ns") is not None else {})}
                                   if a.get("source_size") is not None and a.get("source_files") is not None
                                   else None)}


def _region_attr(value) -> list[float] | None:
    """A video's `cell_region` store attribute (JSON text or an array) as [x0, y0, x1, y1], or None
    where absent or invalid (the group's: named at screening, `extract.store.check_attr_problems`)."""
    from extract.store import attr_list, region_problem
    from videoad.scores import cell_region

    return None if region_problem(value) else cell_region(attr_list(value))


def _spans_attr(value) -> list[list[int]] | None:
    """[first, last] frame runs from a store attribute (JSON text or an array), or None (absent,
    or damaged: named at screening, `extract.store.check_attr_problems`)."""
    from extract.store import whole_rows

    return whole_rows(value, 2) or None


def _task(detector: str, fn, args: tuple, group: str) -> tuple:
    """(function, args) of a per-group task that any worker can run: a process (or a Ray worker)
    started fresh knows only the detectors registered at import time, so the task carries the
    entry of the one it uses (a detector registered from the user's own code)."""
    return _with_detector, (registry.portable(detector), fn, args, group)


def _with_detector(entry: dict | None, fn, args: tuple, group: str | None = None):
    """Run one group's task. A group its data cannot fit or score (a ValueError: features that do
    not vary, a damaged model) comes back as {"group", "failed": why} instead of ending the run:
    one category of a dataset must not cost the others their scores, as one video does not in
    extraction. The videos it had left out by then come back with it (`_saying_left_out`)."""
    registry.adopt(entry)
    try:
        return fn(*args)
    except ValueError as exc:
        why = str(exc)
        prefix = f"group {group!r}: "
        return {"group": group, "failed": why[len(prefix):] if why.startswith(prefix) else why,
                **getattr(exc, "left_out_so_far", {})}


@contextmanager
def _saying_left_out(**left_out: dict):
    """A group's task: where it fails, the videos it had left out (`left_out`, `history_left_out`)
    go with the error, for `_with_detector`; they went unsaid, and stayed in the failed group."""
    try:
        yield
    except ValueError as exc:
        exc.left_out_so_far = {k: dict(v) for k, v in left_out.items() if v}
        raise


def _fit(store_root: str, group: str, keys: list[str], cfg: dict, history: bool = False, level: dict | None = None,
         left_out: dict | None = None):
    """Fit a group's model on its videos: (model, videos, fitted cell scores, fitted clip scores).
    `history`: the videos are footage declared normal (see `detector_params`). `level`: the group
    is one level of activity of a group fitted apart (`videoad.video.levels`), kept in models.json
    so that scoring routes videos between the pair. `left_out`: where the videos left out at loading
    go (damaged arrays, or laid out unlike the group's others: `_load_group`), with why; the others
    are fitted."""
    config = DetectConfig(**cfg)
    vids = _load_group(store_root, keys, cells=config.level != "clip", left_out=left_out, level=config.level)
    if left_out and sum(v.n_clips for v in vids) < int(config.min_clips):
        raise ValueError(f"{sum(v.n_clips for v in vids)} clips < min_clips={config.min_clips} once "
                         f"{len(left_out)} video(s) are left out ({next(iter(left_out.values()))})")
    kind = feature_kind(vids[0].attrs)
    _check_varies(vids, kind)
    model, cells, clips = GroupModel.fit(
        vids, level=config.level, detector=config.detector, params=detector_params(config, kind, history),
        preprocess=config.preprocess, n_seeds=config.n_seeds, seed=fit_seed(config.seed, group, keys, config.mode),
        position=config.position, cell_aggregate=config.cell_aggregate, cell_calibration=config.cell_calibration,
        ignore_cells=config.ignore_cells,
        alarm=config.history_alarm if history else config.alarm,
        alarm_level=config.history_alarm_level if history else config.alarm_level,
        threads=config.threads_per_job, kind=kind, smooth=float(config.smooth),
        held_out=history and config.history_line == "held-out",
        line_from="fitted" if history else config.line_from)
    split = activity_split(vids) if model.layout["level"] == "cell" else None
    if split:  # two levels of activity under one model (day and night): its alarm line serves neither
        if config.activity_levels == "apart" and level:  # a level of a split group: two levels are fitted apart, not more
            split = {**split, "within_level": str(level["of"])}
        elif config.activity_levels == "apart":  # asked apart, kept whole: a level too short for a model
            busier = set(split["busier"])
            per_side = {side: sum(v.n_clips for v in vids if (v.key in busier) == (side == "busier"))
                        for side in ("quieter", "busier")}
            split = {**split, "too_few_clips": per_side, "min_clips": int(config.min_clips)}
        model.info["activity_split"] = split
    with_cells = sum(v.cells is not None for v in vids)
    if model.layout["level"] == "clip" and with_cells:  # level auto, most of the videos without cells
        # said with the footage checks (`coverage.warnings`: the CLI's warning lines, the report), once
        model.info["cells_unused"] = {"with_cells": with_cells, "videos": len(vids)}
    if level:
        model.info["activity_level"] = dict(level)
    if history and model.layout["level"] == "cell":
        still = still_cells(vids)  # what the history never shows moving (motion features only)
        if still is not None:  # a cell the user left out (`ignore_cells`) is scored nowhere: nothing to warn of
            ignored = set(model.layout.get("ignored_cells") or ())
            model.info["history_still_cells"] = [c for c in still if c not in ignored]
        peak = history_peak(vids)  # how much of the picture its busiest clip moved in
        if peak is not None:
            model.info["history_activity_peak"] = round(peak, 6)
    return model, vids, cells, clips


def _check_varies(vids, kind: str) -> None:
    """A clear error for a group whose clips all have the same features, before a detector says
    its columns are constant: with motion features, footage in which nothing moves."""
    if sum(len(v.features) for v in vids) < 2:
        raise ValueError("a single clip: nothing to learn a normal from (give more footage, or a --min-clips of 2 or more)")
    lo = np.min([v.features.min(axis=0) for v in vids], axis=0)
    hi = np.max([v.features.max(axis=0) for v in vids], axis=0)
    if np.all(lo == hi):
        what = ("nothing moves in any of them (still footage, or one frame repeated)" if kind == "motion"
                else "every clip is alike")
        raise ValueError(f"the {sum(len(v.features) for v in vids)} clips of its {len(vids)} video(s) have the same "
                         f"features: {what}; there is no normal to learn from them. Fit on footage where the "
                         "scene's ordinary activity happens (--fit-on), or leave these videos out")


def _fit_group(store_root: str, group: str, keys: list[str], cfg: dict, model_prefix: str | None,
               level: dict | None = None) -> dict:
    """Transductive: fit one group's model on its own clips and return those clips' scores."""
    left_out: dict[str, str] = {}
    with _saying_left_out(left_out=left_out):
        model, vids, cells, clips = _fit(store_root, group, keys, cfg, level=level, left_out=left_out)
        info = dict(model.info)
        if model_prefix:
            info["entry"] = model.save(Path(model_prefix))
    return {"group": group, "info": info, "videos": _split(vids, clips, cells, model.threshold),
            **({"left_out": left_out} if left_out else {})}


def _fit_score_group(fit_root: str, fit_keys: list[str], store_root: str, group: str, keys: list[str],
                     cfg: dict, model_prefix: str | None, level: dict | None = None) -> dict:
    """Inductive in one go: fit on the history's group, score this group's clips with it (none:
    a level of the history no scored video shows, fitted to be saved beside its pair)."""
    history_left_out: dict[str, str] = {}
    left_out: dict[str, str] = {}
    with _saying_left_out(left_out=left_out, history_left_out=history_left_out):
        model, _, _, _ = _fit(fit_root, group, fit_keys, cfg, history=True, level=level, left_out=history_left_out)
        info = dict(model.info)
        if model_prefix:
            info["entry"] = model.save(Path(model_prefix))
        result = _scored(model, store_root, group, keys, info, int(cfg["threads_per_job"]), left_out)
    return {**result, **({"history_left_out": history_left_out} if history_left_out else {})}


def _score_group(store_root: str, group: str, keys: list[str], model_dir: str, entry: dict, threads: int) -> dict:
    """Inductive from saved models: load the group's model (its models.json `entry`), score."""
    model = GroupModel.load(entry, Path(model_dir))
    left_out: dict[str, str] = {}
    with _saying_left_out(left_out=left_out):
        return _scored(model, store_root, group, keys, {**model.info, "models": list(entry["models"])}, threads,
                       left_out)


def _scored(model: GroupModel, store_root: str, group: str, keys: list[str], info: dict, threads: int,
            left_out: dict[str, str]) -> dict:
    """Score a group's videos with its model; the videos left out at loading go into `left_out`."""
    if not keys:
        return {"group": group, "info": {**info, "threshold": model.threshold, **model.layout}, "videos": []}
    t0 = time.perf_counter()
    vids = _load_group(store_root, keys, cells=model.layout["level"] == "cell", left_out=left_out,
                       level=model.layout["level"], fitted=model.info.get("fitted_layout"))
    try:
        cells, clips = model.score(vids, threads)
    except ValueError as exc:
        raise ValueError(f"group {group!r}: {exc}") from None
    info = {**info, "score_seconds": round(time.perf_counter() - t0, 3), "threshold": model.threshold,
            **model.layout}
    if info.get("history_still_cells"):
        info["moving_where_history_still"] = moving_where_still(vids, info["history_still_cells"])
    if info.get("history_activity_peak") is not None:
        info["busier_than_history"] = busier_than_history(vids, info["history_activity_peak"])
    return {"group": group, "info": info, "videos": _split(vids, clips, cells, model.threshold),
            **({"left_out": left_out} if left_out else {})}


def _split(vids, scores: np.ndarray, cell_scores: np.ndarray | None, threshold: float) -> list[dict]:
    out, start = [], 0
    for v in vids:
        n = v.features.shape[0]
        out.append({"video": v.key, "scores": scores[start : start + n], "frames": np.asarray(v.frames, np.int64),
                    "cells": None if cell_scores is None else cell_scores[start : start + n],
                    # the part of this video's frame its cells cover (a learned backbone's depends on the frame shape)
                    "cell_region": None if cell_scores is None else _region_attr(v.attrs.get("cell_region")),
                    "frame_times": getattr(v, "frame_times", None),  # frames that keep no one rate
                    "threshold": threshold, **_video_meta(v)})
        start += n
    return out


def _run(tasks, n_jobs: int, progress=None) -> list:
    """Run (function, args) tasks, in parallel processes when n_jobs != 1. Run in turn, each
    fit runs its DUAD restart attempts two at a time where it pays (`attempts.when_worth_it`):
    a single camera's fit left the second core idle. `progress`: called with 1 as each task ends."""
    done = progress or (lambda n: None)
    if n_jobs == 1 or len(tasks) <= 1:
        from videoad.detector.attempts import when_worth_it

        out = []
        with when_worth_it():
            for fn, args in tasks:
                out.append(fn(*args))
                done(1)
        return out
    from joblib import Parallel, delayed

    out = []
    for result in Parallel(n_jobs=n_jobs, backend="loky", return_as="generator")(
            delayed(fn)(*args) for fn, args in tasks):
        out.append(result)
        done(1)
    return out


def run_with_bar(tasks, n_jobs: int) -> list:
    """`_run` with the groups fitted shown on the console (a bar on a terminal, a line now and then
    in a log): `videoad detect` said nothing for the minutes a run of many groups takes (an
    executor as `detect` takes one)."""
    from extract.progress import console_bar

    with console_bar(total=len(tasks), unit="group", desc="fit and score", dynamic_ncols=True, leave=False) as bar:
        return _run(tasks, n_jobs, progress=bar.update)


def detect(features, cfg: DetectConfig | None = None, *, annotations=None, save_models=None,
           executor=None, note_cameras: bool = True, keys=None) -> ScoreSet:
    """Transductive detection over a feature store; returns the scores (write them with `write_scores`).

    `annotations`: a ground-truth file (any format `read_annotations` reads) whose categories
    group the videos per category, matched to store keys as evaluation matches them.
    `save_models`: a folder to also keep each group's fitted model in (score other videos with
    them later: `score`). `executor`: runs the per-group fits, called like `_run(tasks, n_jobs)`
    (the default: local processes); `videoad.ray_detect.RayTasks` schedules them on Ray instead.
    `note_cameras`: warn where one model is fitted over several cameras' videos (`note_mixed`; off
    for the demo, whose generator draws each video's background anew). `keys`: those videos of the
    store alone (`videoad run`: this run's, in a folder earlier runs filled too).
    """
    cfg = (cfg or DetectConfig()).check()
    unfinished_notes = _unfinished(features)  # before the listing: what is scored is what it counts
    store, annotations = open_store(features, keys), _annotations(annotations)
    groups, counts, left_out = screened_groups(store, cfg.mode, annotations)
    left_out.update(_not_extracted(features, keys))
    groups, levels = _levels_apart(store, groups, counts, cfg)
    model_dir = _model_dir(save_models, cfg)
    prefixes = _prefixes(model_dir, groups)
    plan, records = [], []
    for g, keys in groups.items():
        rec = _record(g, keys, counts, cfg, levels.get(g))
        if rec["status"] == "fitted":
            plan.append(_task(cfg.detector, _fit_group, (str(features), g, keys, asdict(cfg), prefixes[g],
                                                         levels.get(g)), g))
        records.append(rec)
    if note_cameras and cfg.mode in ("per-category", "pooled"):
        note_mixed(store, groups, records, int(cfg.min_clips))
    note_mixed_extraction(store, groups, records)
    if cfg.mode == "per-camera":
        _note_cuts(records, store)
    results = (executor or _run)(plan, int(cfg.n_jobs))
    scoreset = _assemble(results, records, categories(store, annotations), left_out, counts=counts)
    scoreset.meta.update(_run_meta(cfg, features, "transductive", notes=unfinished_notes), left_out=_listed(left_out))
    results = [r for r in results if "failed" not in r]
    if model_dir:
        pictures = _cameras_of(cfg, store, groups)
        _write_index(model_dir, cfg, results,
                     {r["group"]: extraction_record(store, _fitted_keys(groups[r["group"]], r.get("left_out")),
                                                    warn=False) for r in results},
                     pictures, {r["group"]: views_of(store, groups[r["group"]]) for r in results},
                     _unfitted(records, pictures, cfg, levels))
    return scoreset


def _fitted_keys(keys: list[str], left_out: Mapping | None) -> list[str]:
    """A fitted group's videos less those left out at loading (`_load_group`): models.json's
    extraction record is the first fitted video's, not that of one left out for its other settings."""
    return [k for k in keys if k not in (left_out or {})] or keys


def _levels_apart(store, groups: dict[str, list[str]], counts: Mapping[str, int], cfg: DetectConfig
                  ) -> tuple[dict[str, list[str]], dict[str, dict]]:
    """The fitted groups with each one that mixes two levels of activity split in two, when the
    settings fit levels apart (`videoad.video.levels`); per-video groups are one video each."""
    if cfg.activity_levels != "apart" or cfg.mode == "per-video":
        return groups, {}
    from videoad.video.levels import split_levels

    return split_levels(store, groups, counts, int(cfg.min_clips), cfg.level)


def _cameras_of(cfg: DetectConfig, store, groups: Mapping[str, list[str]]) -> dict | None:
    """Per camera group, the picture a scored video is matched against (per-camera only)."""
    if cfg.mode != "per-camera":
        return None
    from videoad.cameras import camera_pictures

    return camera_pictures(store, groups)


def fit_and_score(history, features, cfg: DetectConfig | None = None, *, annotations=None, save_models=None,
                  executor=None, keys=None, history_keys=None) -> ScoreSet:
    """Inductive in one go: fit each group's model on the `history` store (footage known to be
    mostly ordinary), score the same group of `features` with it; the alarm line is the
    history's. A group of `features` that the history lacks is scored by the history's pooled
    model when the grouping is pooled, else skipped with the reason. Any detector works here;
    `save_models` (torch detectors only) also keeps the models for `score`. `keys`, `history_keys`:
    those videos of each store alone (as `detect`'s)."""
    cfg = (cfg or DetectConfig()).check()
    if cfg.mode == "per-video":
        raise ValueError("fitting on history serves per-category, per-camera or pooled grouping; a per-video model "
                         "cannot score other videos")
    unfinished_notes = _unfinished(features, history)  # before the listing: what is scored is what it counts
    fit_store, store = open_store(history, history_keys), open_store(features, keys)
    annotations = _annotations(annotations)
    fit_groups, fit_counts, fit_left_out = screened_groups(fit_store, cfg.mode, annotations)
    fit_left_out.update(_not_extracted(history, history_keys))  # run.json's history_left_out: fitted without them
    known = _cameras_of(cfg, fit_store, fit_groups)
    fit_groups, levels = _levels_apart(fit_store, fit_groups, fit_counts, cfg)
    if known is not None:  # per-camera: the history's cameras; each scored video goes to the one it shows
        from videoad.cameras import assign

        kept, counts, left_out = _screen(store, {"all": store.keys()})
        groups, unmatched = assign(store, kept["all"], known)
        left_out.update(unmatched)
        if not groups:
            raise ValueError(f"{features}: no video shows a camera of the history {history} ("
                             + "; ".join(f"{k}: {why}" for k, why in list(unmatched.items())[:3]) + ")")
    else:
        groups, counts, left_out = _screen(store, make_groups(store, cfg.mode, annotations))
    left_out.update(_not_extracted(features, keys))
    model_dir = _model_dir(save_models, cfg)
    if levels:  # each scored video to the history's level its activity lies in
        from videoad.video.levels import route_groups

        groups = route_groups(store, groups, levels)
    if model_dir:  # a camera, category or level no scored video shows is still fitted, to be saved with the rest
        groups.update({g: [] for g in fit_groups if g not in groups})
    prefixes = _prefixes(model_dir, groups)
    plan, records, history_views = [], [], {}
    for g, keys in groups.items():
        fit_keys = fit_groups.get(g)
        rec = {"group": g, "videos": keys, "n_clips": sum(counts[k] for k in keys)}
        if g in levels:
            rec["activity_level"] = levels[g]
        if fit_keys is None:
            rec.update(status="skipped", reason=f"no history for group {g!r} in {history} (has {sorted(fit_groups)})")
        elif sum(fit_counts[k] for k in fit_keys) < int(cfg.min_clips):
            rec.update(status="skipped", reason=(f"history of group {g!r} has {sum(fit_counts[k] for k in fit_keys)} "
                                                 f"clips < min_clips={cfg.min_clips}: no model is fitted nor saved "
                                                 "for it and its videos are not scored; give it more history (65 "
                                                 "clips: about 27 s at 10 fps with the motion backbone) or lower "
                                                 "--min-clips"))
        else:
            fitted, attrs = extraction_record(fit_store, fit_keys, warn=False), {k: store.attrs(k) for k in keys}
            keys, off, problems = _extracted_as(fitted, store, keys, attrs)
            if problems and not keys:  # not fitted, nor saved: one status for it with --save-model or without
                records.append(_unlike(rec, f"{features} was not extracted as the history {history} was: "
                                            + _advice(problems, True)))
                continue
            _leave_out_unlike(rec, off, f"the history {history}", left_out, counts, history=True)
            if keys:
                _note_repeats(rec, fitted, {k: attrs[k] for k in keys})
            if known is None and keys:  # pooled or per-category: one model per group, whatever camera a video shows
                _note_views(rec, store, keys, history_views.setdefault(g, views_of(fit_store, fit_keys)))
            rec.update(status="scored" if keys else "fitted", history_videos=len(fit_keys))
            plan.append(_task(cfg.detector, _fit_score_group, (str(history), fit_keys, str(features), g, keys,
                                                               asdict(cfg), prefixes[g], levels.get(g)), g))
        records.append(rec)
    if cfg.mode in ("per-category", "pooled"):  # what each model is fitted on: the history
        note_mixed(fit_store, fit_groups, records, int(cfg.min_clips))
    if known is not None:
        _note_cuts(records, store)
    note_mixed_extraction(fit_store, {r["group"]: fit_groups.get(r["group"], ()) for r in records}, records)
    results = (executor or _run)(plan, int(cfg.n_jobs))
    scoreset = _assemble(results, records, categories(store, annotations), left_out, fit_left_out, counts)
    scoreset.meta.update(_run_meta(cfg, features, "inductive", history, notes=unfinished_notes),
                         left_out=_listed(left_out),
                         **({"history_left_out": _listed(fit_left_out)} if fit_left_out else {}),
                         history=str(history))
    results = [r for r in results if "failed" not in r]
    if model_dir:
        _write_index(model_dir, cfg, results,
                     {r["group"]: extraction_record(fit_store, _fitted_keys(fit_groups[r["group"]],
                                                                            r.get("history_left_out")), warn=False)
                      for r in results},
                     known and {r["group"]: known[levels[r["group"]]["of"] if r["group"] in levels else r["group"]]
                                for r in results},
                     {r["group"]: history_views[r["group"]] if r["group"] in history_views
                      else views_of(fit_store, fit_groups[r["group"]]) for r in results},
                     _unfitted(records, known, cfg, levels, {g: sum(fit_counts[k] for k in fit_groups.get(g, ()))
                                                             for g in known or ()}))
    return scoreset


def _extracted_as(fitted: Mapping, store, keys: list[str], attrs: Mapping[str, Mapping]
                  ) -> tuple[list[str], dict[str, list[str]], list[str]]:
    """(the videos of `keys` extracted as the features `fitted` records, video -> how another was,
    and where none was, the problems of them all). One camera's recording at another resolution
    stopped every camera's scoring; now such a video is left out with its reason and the others are
    scored."""
    # each video on its own: the group's record is its first video's, so a video of other settings
    # after it passed, or was left out, as the names sorted
    off = {k: p for k in keys if (p := extraction_mismatch(fitted, store, [k], {k: attrs[k]}))}
    ok = [k for k in keys if k not in off]
    if ok or not off:  # the group's problems are said only where they fail it
        return ok, off, []
    return ok, off, extraction_mismatch(fitted, store, keys, attrs) or next(iter(off.values()))


def _advice(problems: list[str], history: bool) -> str:
    """The problems, and what to do about them (none where only the frames' shape differs)."""
    if all(p.startswith("frame shape") for p in problems):  # no setting can bridge it
        return "; ".join(problems)
    return "; ".join(problems) + (". Extract both with the same settings" if history else
                                  ". Extract it with the same settings, or fit models on footage made so")


def _unlike(rec: dict, reason: str) -> dict:
    """A group none of whose videos was extracted as its model's features were: failed, the other
    groups scored (until 2026-12-06 it stopped the whole run)."""
    log.warning("group %r: %s", rec["group"], reason)
    rec.update(status="failed", reason=reason)
    return rec


def _leave_out_unlike(rec: dict, off: Mapping[str, list[str]], fitted_on: str, left_out: dict, counts: dict,
                      history: bool) -> None:
    """Leave out a group's videos extracted otherwise than `fitted_on`'s features (`off`; `history`:
    a store fitted on now, else saved models), said as a damaged file is: each in `left_out` with its
    reason, counted in the group's `unlike_extraction`."""
    if not off:
        return
    for k, problems in off.items():
        left_out[k] = f"not extracted as {fitted_on} (group {rec['group']!r}): " + _advice(problems, history)
    first = next(iter(off))
    log.warning("group %r: %d video(s) left out, not extracted as %s (first: %s: %s)", rec["group"], len(off),
                fitted_on, first, "; ".join(off[first]))
    rec["videos"] = [k for k in rec["videos"] if k not in off]
    rec["n_clips"] = sum(counts[k] for k in rec["videos"])
    rec["unlike_extraction"] = len(off)


def _note_views(rec: dict, store, keys: list[str], views) -> None:
    """`unknown_views` of a group's scored videos against its history's (or saved model's) views,
    in the group's record (run.json's `unknown_views`; `videoad.coverage.warnings` words it for the
    command line and the report); scored anyway, as the cameras' note."""
    unknown = unknown_views(store, keys, views)
    if unknown:
        rec["unknown_views"] = unknown


def _note_cuts(records: list[dict], store) -> None:
    """Per camera group scored (`--per-camera`), its videos that scene cuts split between views
    (`videoad.cameras.cut_videos`), in the group's record (run.json's `scene_cut_views`;
    `videoad.coverage.warnings` words it for the command line and the report): each is scored
    whole with the model of the camera its one scene picture matches, the view it shows most, and
    its other part(s) against that camera's normal. Scored all the same, and said."""
    for rec in records:
        if rec.get("status") not in ("fitted", "scored") or not rec.get("videos"):
            continue
        found = cut_videos(store, rec["videos"])
        if found:
            rec["scene_cut_views"] = found


def _record(group: str, keys: list[str], counts: Mapping[str, int], cfg: DetectConfig, level: dict | None = None
            ) -> dict:
    n = sum(counts[k] for k in keys)
    rec = {"group": group, "videos": keys, "n_clips": n, "status": "fitted", **({"activity_level": level} if level else {})}
    if n < int(cfg.min_clips):
        rec.update(status="skipped", reason=f"{n} clips < min_clips={cfg.min_clips}")
        log.warning("group %r skipped: %s", group, rec["reason"])
    return rec


def _model_dir(save_models, cfg: DetectConfig) -> Path | None:
    if not save_models:
        return None
    check_saving(cfg)
    model_dir = Path(save_models)
    model_dir.mkdir(parents=True, exist_ok=True)
    return model_dir


def check_saving(cfg: DetectConfig) -> None:
    """Refuse settings whose models cannot be kept, before any folder is made or fit run."""
    if cfg.mode == "per-video":
        raise ValueError("saved models serve the inductive mode, which fits per category or pooled; "
                         "a per-video model cannot score other videos")
    from videoad.detector import registry

    if not registry.get(cfg.detector).saves:  # before the fit, not after it (GroupModel.save says the same)
        raise ValueError(f"{cfg.detector} cannot be saved (the detectors that can: {', '.join(registry.savers())}); "
                         "use one of those to keep models, or --fit-on without --save-model")


#: where a run's model files are written until every group is fitted (`_publish`)
STAGING = ".partial"


def _prefixes(model_dir: Path | None, groups) -> dict[str, str | None]:
    """Per group, the path its model files start with, in the model folder's staging folder (made
    empty here): distinct for every group of one run, also where their names differ only in
    characters a file name drops (`北门`, `南门`). The files move into the folder beside a new
    models.json once every group is fitted (`_publish`), so that a run stopped halfway leaves the
    folder's earlier models and their models.json as they were, never new weights under an old
    index."""
    if model_dir is None:
        return {g: None for g in groups}
    import shutil

    staging = model_dir / STAGING
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    remove_stale_temporaries([model_dir / MODELS_INDEX])  # a kill mid-write of the index left one
    stems = file_stems(groups, empty="group")
    return {g: str(staging / stems[g]) for g in stems}


def _publish(model_dir: Path, index: dict) -> None:
    """The staged model files moved into `model_dir` and `index` written as its models.json: the old
    index goes first, so a stop between the moves leaves no index (`--model` then says to fit
    again) rather than one that names the other run's files."""
    import shutil

    staging = model_dir / STAGING
    (model_dir / MODELS_INDEX).unlink(missing_ok=True)
    for path in sorted(staging.iterdir()) if staging.is_dir() else []:
        path.replace(model_dir / path.name)
    write_atomic(model_dir / MODELS_INDEX, (json.dumps(index, indent=2) + "\n").encode())
    shutil.rmtree(staging, ignore_errors=True)


def _unfitted(records: list[dict], cameras: Mapping[str, dict] | None, cfg: DetectConfig, levels: Mapping,
              fit_clips: Mapping[str, int] | None = None) -> dict[str, dict]:
    """The cameras (per-camera) a fit skipped for too little footage, each with its picture and
    why (models.json's `unfitted_cameras`, `videoad.cameras.unfitted_cameras`): their later
    footage is then told as theirs, not as a camera never seen. A level of a camera fitted per
    level is not one: the camera has a model. `fit_clips`: each camera's clips at the fit, where
    the fit was on a history (the records count the scored footage)."""
    if not cameras:
        return {}
    out = {}
    for r in records:
        g = r["group"]
        if r.get("status") != "skipped" or g in levels or g not in cameras:
            continue
        n = int((fit_clips or {}).get(g, r.get("n_clips", 0)))
        out[g] = {"camera": cameras[g], "reason": f"{n} clips of its footage at the fit, under min_clips="
                                                  f"{cfg.min_clips}: fit again with more of it"}
    return out


def _write_index(model_dir: Path, cfg: DetectConfig, results: list[dict], extraction: Mapping[str, dict],
                 cameras: Mapping[str, dict] | None = None, views: Mapping[str, dict | None] | None = None,
                 unfitted: Mapping[str, dict] | None = None) -> None:
    """models.json: the settings, per group its model entry and how its features were extracted
    (`extraction`: backbone name and options, clip sampling), so that `videoad watch` makes the
    same features from a live stream. The top-level `extraction` is the groups' common one.
    `cameras` (per-camera): each group's mean scene picture, which `score` matches videos to.
    `views`: the pictures of the cameras each group's footage shows (`videoad.cameras.views_of`),
    which `watch` tells a stream's view by. `unfitted`: the cameras the fit left without a model
    (`_unfitted`)."""
    groups = {r["group"]: {**r["info"]["entry"], "extraction": extraction[r["group"]],
                           **({"camera": cameras[r["group"]]} if cameras else {}),
                           **({"views": views[r["group"]]} if views and views.get(r["group"]) else {})}
              for r in results}
    records = [json.dumps(e, sort_keys=True) for e in extraction.values()]
    common = extraction[results[0]["group"]] if results and len(set(records)) == 1 else None
    index = {"format": MODELS_FORMAT, "config": asdict(cfg), "version": __version__,
             "extraction": common, "groups": groups, **({"unfitted_cameras": dict(unfitted)} if unfitted else {})}
    _publish(model_dir, index)


def _pair(value) -> list[int] | None:
    """A two-number store attribute (written as JSON text or an array), or None when absent."""
    from extract.store import attr_list

    values = attr_list(value)
    return None if values is None else [int(v) for v in values]


def _backbone_of(attrs: Mapping) -> tuple[str, dict | None]:
    """A video's backbone name and recorded options (None in stores written before they were)."""
    from extract.store import json_object

    options = json_object(attrs.get("backbone_options"))
    return str(attrs.get("backbone_name") or attrs.get("backbone", "")), options


def _extraction_of(attrs: Mapping) -> dict:
    """How one video's features were made (`extraction_record`'s per-video part): two videos whose
    records differ were extracted differently."""
    from extract.store import json_object

    desc = json_object(attrs.get("backbone_json"))
    name, options = _backbone_of(attrs)
    fps = float(attrs.get("target_fps", 0.0) or 0.0)
    cap = float(attrs.get("max_fps", 0.0) or 0.0)
    rec = {"backbone": name, "options": recorded_options(name, options),
           "description": desc, "clip_len": int(attrs.get("clip_len", 16)), "stride": int(attrs.get("stride", 16)),
           "tail": str(attrs.get("tail", "drop")), "target_fps": fps if fps > 0 else None,
           "max_fps": cap if cap > 0 else None, "weights_sha256": str(attrs.get("weights_sha256", "none"))}
    rec["cell_grid"] = _pair(attrs.get("cell_grid"))
    # what an imported store alone says of its features (extract.importers: the layer and how ten
    # crops were reduced, given by the user; an extracted store's layer is a backbone option), and
    # the width of every store's rows
    imported = bool(attrs.get("import_format"))
    rec["import_layer"] = str(attrs.get("layer", "") or "") if imported else None
    rec["import_crops"] = str(attrs["crop_reduce"]) if imported and attrs.get("crop_reduce") is not None else None
    rec["dim"] = int(attrs["dim"]) if attrs.get("dim") is not None else None
    return rec


def note_mixed_extraction(store, groups: Mapping[str, Sequence[str]], records: list[dict]) -> None:
    """Where one model would be fitted over features extracted with different settings (a store
    filled by two runs with other options: one working size beside another), say so: the group's
    record (run.json `mixed_extraction`: how many videos differ from the most common extraction, a
    few named) and one warning."""
    noted = {}
    for rec in records:
        keys = list(groups.get(rec["group"], ()))
        if rec.get("status") == "skipped" or len(keys) < 2:
            continue
        kinds: dict[str, list[str]] = {}
        for k in keys:
            kinds.setdefault(json.dumps(_extraction_of(store.attrs(k)), sort_keys=True, default=str), []).append(k)
        if len(kinds) > 1:
            most = max(kinds.values(), key=len)  # the videos unlike the most common extraction are named
            differ = sorted(k for ks in kinds.values() if ks is not most for k in ks)
            rec["mixed_extraction"] = noted[rec["group"]] = {"videos": len(differ), "unlike": most[0],
                                                             "examples": differ[:3]}
    if noted:
        shown = "; ".join(f"{g}: {m['videos']} video(s) unlike {m['unlike']} (e.g. {', '.join(m['examples'])})"
                          for g, m in list(noted.items())[:3])
        log.warning("%d group(s) hold features extracted with different settings (%s): one model over them mixes "
                    "two kinds of features; extract them again alike, or keep each run in its own store",
                    len(noted), shown)


def extraction_record(store, keys: list[str], attrs: Mapping[str, Mapping] | None = None, warn: bool = True) -> dict:
    """How a group's features were made, from the store attributes of its first video: the
    backbone's registry name, the options that rebuild it (`Backbone.options`; None in stores
    written before they were recorded), its description, and the clip sampling. A group whose
    videos were extracted differently says so (`mixed`: the keys that differ from the first).
    From every video: the median native frame rate (`fps`), the frame shapes (`aspects`, width /
    height) and the backbone's working sizes (`working_sizes`), which `extraction_mismatch` reads.
    `attrs`: the videos' store attributes, when the caller has read them already. `warn=False`
    where `note_mixed_extraction` has said it of the group already."""
    attrs = attrs if attrs is not None else {k: store.attrs(k) for k in keys}
    first = _extraction_of(attrs[keys[0]])
    mixed = [k for k in keys[1:] if _extraction_of(attrs[k]) != first]
    if mixed and warn:
        log.warning("videos of one group were extracted differently (%s ...); models.json records the first's "
                    "extraction", ", ".join(mixed[:3]))
    if mixed:
        first["mixed"] = mixed
    # what the footage itself was like (every video, not only the first): its frame rate, the
    # shapes of its frames and the sizes the backbone worked at (None: not recorded)
    rates = [r for r in (_fps(attrs[k]) for k in keys) if r]
    first["fps"] = float(np.median(rates)) if rates else None
    sampled = [r for r in (_sampled_fps(attrs[k]) for k in keys) if r]
    first["sampled_fps"] = float(np.median(sampled)) if sampled else None
    shapes = [_shape(attrs[k]) for k in keys]
    first["aspects"] = sorted({a for a, _ in shapes if a}) or None
    first["working_sizes"] = sorted({tuple(w) for _, w in shapes if w}) or None
    first["repeat_share"] = _repeat_share([attrs[k] for k in keys])
    return first


def _repeat_share(attrs: list[Mapping]) -> float | None:
    """The share of the sampled frames that repeat the one before exactly (the motion backbone counts
    them, `repeated_frames`), over the videos that record it as a count; None where none does."""
    from extract.store import count_of

    repeated = sampled = 0.0
    for a in attrs:  # a count that is not one was named at screening (`extract.store.check_attr_problems`)
        if count_of(a.get("repeated_frames")) is None or not count_of(a.get("n_frames")):
            continue
        native, rate = _fps(a), _sampled_fps(a)
        repeated += float(a["repeated_frames"])
        sampled += float(a["n_frames"]) * (min(1.0, rate / native) if native and rate else 1.0)
    return round(repeated / sampled, 4) if sampled else None


#: the share of repeated frames (`_repeat_share`) between a history and the footage scored against it
#: from which motion per frame is taken as not comparable: between the measured cases, one frame in
#: ten lost (check-stutter: within 0.01 against a clean history) and a camera at half its file's rate
#: (check-halfrate: Ped2-dev at 10 fps repeats one sampled frame in two, 0.12 lower; the demo's 15 fps
#: files, sampled at 10, one in four, 26 events in normal videos; docs/defaults.md)
REPEAT_GAP = 0.2


def repeat_mismatch(fitted: Mapping, scored: Mapping, what: str = "these videos'") -> str | None:
    """Why footage whose frames repeat far more (or less) often than the history's is not comparable
    with it, unless both spread repeated frames over the gap (`repeats=spread`); else None. `what`:
    the scored footage, as the sentence names it."""
    a, b = fitted.get("repeat_share"), scored.get("repeat_share")
    if a is None or b is None or abs(a - b) < REPEAT_GAP:
        return None
    spread = [(r.get("options") or {}).get("repeats") == "spread" for r in (fitted, scored)]
    if all(spread):
        return None
    return (f"{100 * a:.0f}% of the fitted footage's sampled frames repeat the one before, {100 * b:.0f}% of {what} "
            "(a camera filming slower than its file's rate, or a link that loses frames): motion per frame "
            "is not comparable, and a history without repeats flags ordinary motion; extracting both with "
            "--backbone-opt repeats=spread answered it on Ped2 and the development sets, not on vtest-fresh "
            "(docs/defaults.md, check-halfrate)")


#: settings that decide what a feature value means: a model fitted on features made one way cannot
#: score features made another (the stride and the tail only choose which clips are cut)
_MEANING = ("backbone", "options", "weights_sha256", "clip_len", "target_fps", "cell_grid", "import_layer",
            "import_crops", "dim")
#: how `extraction_mismatch` names a setting whose key says little
_SAID = {"dim": "feature width (values per clip)", "import_crops": "crops (imported: --crops)",
         "import_layer": "layer (imported: --layer)"}
#: native frame rates further apart than this ratio make per-frame motion incomparable
FPS_TOLERANCE = 1.1
#: frame shapes (width / height) further apart than this ratio are resized with different stretches
ASPECT_TOLERANCE = 1.05


def apart(a: float, b: float, tolerance: float) -> bool:
    """Two positive rates or ratios further apart than `tolerance` (a ratio, either way)."""
    return max(a / b, b / a) > tolerance


def _fps(attrs: Mapping) -> float | None:
    """A video's native frame rate; None where unknown (a frame folder without --image-fps: NaN)."""
    value = float(attrs.get("fps") or 0.0)
    return value if np.isfinite(value) and value > 0 else None


def _sampled_fps(attrs: Mapping) -> float | None:
    """The rate a video's clips were cut at: the rate it was resampled to, else its own; None where
    unknown."""
    value = float(attrs.get("sampled_fps") or attrs.get("target_fps") or 0.0)
    return value if np.isfinite(value) and value > 0 else _fps(attrs)


def _shape(attrs: Mapping) -> tuple[float | None, list[int] | None]:
    """A video's frame shape (width / height) and the backbone's working size, None where unknown."""
    size = _pair(attrs.get("frame_size"))
    return (round(size[1] / size[0], 3) if size else None), _pair(attrs.get("working_size"))


def shape_off(fitted: Mapping, aspect: float | None, working) -> tuple[bool, bool]:
    """For footage of frame shape `aspect` (width / height) worked at `working` ([w, h]): whether
    the shape is more than `ASPECT_TOLERANCE` from every shape of the fitted footage, and whether
    that footage was never worked at this size (`fitted`: its `extraction_record`). False where
    either side is unknown. The one rule behind `extraction_mismatch` and `videoad watch`'s warning."""
    aspects = fitted.get("aspects")
    sizes = [list(w) for w in fitted.get("working_sizes") or []]
    return (bool(aspects and aspect and all(apart(aspect, f, ASPECT_TOLERANCE) for f in aspects)),
            bool(sizes and working and list(working) not in sizes))


def same_option(a, b) -> bool:
    """Two recorded values of one backbone option alike: `--backbone-opt` gives strings ("true",
    "16") where Python callers give True and 16, and either may have made the features."""
    if a == b:
        return True
    scalar = (str, int, float, bool)
    return isinstance(a, scalar) and isinstance(b, scalar) and _option_text(a) == _option_text(b)


def _option_text(value) -> str:
    """A boolean or a number in one spelling; any other text as it is (paths are case-sensitive)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value).strip()
    if text.lower() in ("true", "false"):
        return text.lower()
    try:
        return repr(float(text))
    except ValueError:
        return text


def _named_as_now(fitted: Mapping) -> Mapping:
    """A record whose imported layer and crops were saved as `layer` / `crop_reduce` (the models
    of one development commit, 4b9200b) under today's keys: imported features, by their weights'
    "unknown" hash; an extracted store's layer is one of its backbone options."""
    if "import_layer" in fitted or "layer" not in fitted:
        return fitted
    imported = str(fitted.get("weights_sha256", "")).startswith("unknown")
    return {**fitted, "import_layer": fitted.get("layer") if imported else None,
            "import_crops": fitted.get("crop_reduce") if imported else None}


def extraction_mismatch(fitted: Mapping, store, keys: list[str], attrs: Mapping[str, Mapping] | None = None
                        ) -> list[str]:
    """How the videos `keys` of `store` were extracted differently from the features a model was
    fitted on (`fitted`: their `extraction_record`; a record from an older models.json lacks some
    keys, which are then not compared). Empty when the model may score them. `attrs`: the videos'
    store attributes, when the caller has read them already."""
    attrs = attrs if attrs is not None else {k: store.attrs(k) for k in keys}
    scored = extraction_record(store, keys, attrs)
    fitted = _named_as_now(fitted)
    problems = []
    # with the rate each side's clips were cut at on record, the rates are compared (below), not
    # how they were reached: footage resampled to 15 fps scores beside footage filmed at 15
    rated = fitted.get("sampled_fps") is not None
    for k in _MEANING:
        if k not in fitted or (k == "target_fps" and rated):
            continue
        a, b = fitted.get(k), scored.get(k)
        if k == "options":
            a = recorded_options(str(fitted.get("backbone")), a)  # a models.json from before an option existed
            if isinstance(a, dict) and isinstance(b, dict):
                problems += [f"backbone option {o}: {a.get(o)!r} (fitted) vs {b.get(o)!r}"
                             for o in sorted(set(a) | set(b))
                             if o not in _MEANING and o not in PERMISSIONS and not same_option(a.get(o), b.get(o))]
        elif a != b:
            problems.append(f"{_SAID.get(k, k)}: {a!r} (fitted) vs {b!r}")
    shapes = {k: _shape(attrs[k]) for k in keys}
    offs = {k: shape_off(fitted, a, w) for k, (a, w) in shapes.items()}
    odd = [f"{k} at {shapes[k][0]:g}" for k, (aspect_off, _) in offs.items() if aspect_off]
    if odd:
        problems.append(f"frame shape (width / height): the fitted footage at "
                        f"{', '.join(f'{f:g}' for f in fitted['aspects'])}, "
                        + _some(odd) + " (each frame is resized to the working size: motion stretched differently; "
                        "footage of another camera: fit on that camera's own history)")
    odd = [f"{k} at {shapes[k][1]}" for k, (_, size_off) in offs.items() if size_off]
    if odd:
        sizes = [list(w) for w in fitted["working_sizes"]]
        problems.append(f"working size: the fitted footage at {', '.join(map(str, sizes))}, " + _some(odd))
    if rated:  # the rates clips were cut at, whether filmed so or resampled
        ref, rate_of, said = fitted["sampled_fps"], _sampled_fps, "was cut into clips at"
    else:  # a record from before the rates (and the frame-rate cap) were stored: its clips were cut at
        # the rate asked for, else at the footage's own; against the rate the scored clips were cut at
        # (native against native passed 15 fps models over footage cut at 10 under today's cap)
        native, cap = fitted.get("fps"), fitted.get("max_fps")
        ref = fitted.get("target_fps") or (min(native, cap) if native and cap else native)
        rate_of, said = _sampled_fps, "was cut into clips at"
    if ref:
        off = [f"{k} at {r:g} fps" for k in keys if (r := rate_of(attrs[k])) and apart(r, ref, FPS_TOLERANCE)]
        if off:
            problems.append(f"frame rate: the fitted footage {said} {ref:g} fps, " + _some(off)
                            + " (motion per frame and a clip's time span differ: extract both at one rate with "
                            "--fps N; the fitted rate is the median of the fitted videos')")
    return problems


def _note_repeats(rec: dict, fitted: Mapping, attrs: Mapping[str, Mapping]) -> None:
    """`repeat_mismatch` between a group's history (or saved model: `fitted`, its extraction record)
    and its scored videos (`attrs`: their store attributes, in order): in the group's record
    (`repeats`, run.json) and a warning; scored anyway, as the cameras' note."""
    scored = {"repeat_share": _repeat_share(list(attrs.values())),
              "options": recorded_options(*_backbone_of(next(iter(attrs.values()))))}
    problem = repeat_mismatch(fitted, scored)
    if problem:
        rec["repeats"] = {"fitted": fitted.get("repeat_share"), "scored": scored["repeat_share"], "note": problem}
        log.warning("group %r: %s", rec["group"], problem)


def _some(items: list[str], shown: int = 3) -> str:
    return ", ".join(items[:shown]) + (f" and {len(items) - shown} more" if len(items) > shown else "")


def score(features, model_dir, *, annotations=None, n_jobs: int = 1, executor=None) -> ScoreSet:
    """Score every video of `features` with the models saved in `model_dir` (inductive).

    Videos are grouped as the models were (per category or pooled); a category without a model
    falls back to a pooled model when there is one, else it is skipped with the reason. Scored by
    one version of the folder: a `--save-model` into it meanwhile has the scoring done once more,
    or refused naming it (`output_lock.read_whole`); one fit's alarm lines scored the next fit's
    weights in silence.
    """
    from videoad.output_lock import read_whole

    model_dir = Path(model_dir)
    return read_whole(model_dir, model_dir / MODELS_INDEX,
                      lambda: _score(features, model_dir, annotations, n_jobs, executor), ValueError, attempts=2)


def _score(features, model_dir: Path, annotations, n_jobs: int, executor) -> ScoreSet:
    index_path, index = read_index(model_dir)
    known = set(DetectConfig.__dataclass_fields__)
    cfg = DetectConfig(**{k: v for k, v in index["config"].items() if k in known}).check(str(index_path),
                                                                                      fitting=False)
    unfinished_notes = _unfinished(features)  # before the listing: what is scored is what it counts
    store, annotations = open_store(features), _annotations(annotations)
    models = index["groups"]
    if cfg.mode == "per-camera":  # each video to the saved camera its scene picture shows
        from videoad.cameras import assign, saved_cameras, unfitted_cameras

        known = saved_cameras(models)
        missing = sorted(set(models) - set(known))
        if missing:
            raise ValueError(f"{index_path}: per-camera models without their camera's picture ({_some(missing)}); "
                             "fit them again with `--save-model`")
        kept, counts, left_out = _screen(store, {"all": store.keys()})
        groups, unmatched = assign(store, kept["all"], known, whose="models'", unfitted=unfitted_cameras(index))
        left_out.update(unmatched)
    else:
        groups, counts, left_out = _screen(store, make_groups(store, cfg.mode, annotations))
    left_out.update(_not_extracted(features))
    from videoad.video.levels import route_groups, saved_levels

    levels = saved_levels(models, str(index_path))
    if levels:  # models fitted per level of activity: each video to its level's (videoad.video.levels)
        groups = route_groups(store, groups, levels)
    if not groups and left_out:  # every video left out before any model: say why, as fit_and_score does
        raise ValueError(f"{features}: no video could be scored with the models in {model_dir} ("
                         + "; ".join(f"{k}: {why}" for k, why in list(left_out.items())[:3])
                         + (f"; and {len(left_out) - 3} more" if len(left_out) > 3 else "") + ")")
    plan, records = [], []
    for g, keys in groups.items():
        model_group = g if g in models else ("all" if "all" in models else None)
        rec = {"group": g, "videos": keys, "n_clips": sum(counts[k] for k in keys)}
        if g in levels:
            rec["activity_level"] = levels[g]
        if model_group is None:
            rec.update(status="skipped", reason=f"no model for group {g!r} in {model_dir} (has {sorted(models)})")
        else:
            fitted = models[model_group].get("extraction") or index.get("extraction")
            attrs = {k: store.attrs(k) for k in keys} if fitted else {}
            keys, off, problems = _extracted_as(fitted, store, keys, attrs) if fitted else (keys, {}, [])
            if problems and not keys:
                records.append(_unlike(rec, f"{features} was not extracted as the models in {model_dir} were "
                                            "fitted: " + _advice(problems, False)))
                continue
            _leave_out_unlike(rec, off, f"the models in {model_dir}", left_out, counts, history=False)
            if not fitted:  # nothing to check against (watch refuses such models): scored, and said
                log.warning("%s was written by an older videoad and does not record how its features were "
                            "extracted: group %r's videos are scored unchecked. If they were extracted with this "
                            "version (whose defaults differ: working size, stabilize, scene cuts), fit the models "
                            "again (detect --fit-on HISTORY --save-model DIR)", index_path, g)
                rec["extraction_unchecked"] = True
            if fitted:
                _note_repeats(rec, fitted, {k: attrs[k] for k in keys})  # the videos scored, not those left out
            if cfg.mode != "per-camera":
                _note_views(rec, store, keys, models[model_group].get("views"))
            rec.update(status="scored", model_group=model_group)
            plan.append(_task(str(models[model_group].get("detector", cfg.detector)), _score_group,
                              (str(features), g, keys, str(model_dir), models[model_group], cfg.threads_per_job), g))
        records.append(rec)
    if cfg.mode == "per-camera":
        _note_cuts(records, store)
    results = (executor or _run)(plan, int(n_jobs))
    scoreset = _assemble(results, records, categories(store, annotations), left_out, counts=counts)
    scoreset.meta.update(_run_meta(cfg, features, "inductive", notes=unfinished_notes), left_out=_listed(left_out))
    scoreset.meta["models"] = str(model_dir)
    return scoreset


#: what to do when every group is under `min_clips` (a short video run on its own, most often)
TOO_FEW_CLIPS = ("; a fit needs at least min_clips clips (the default 65 is about 27 s of footage from a camera "
                 "at 10 frames a second or more with the motion backbone, a clip every 4 frames, a slower camera "
                 "65 x 4 of its frames; the learned backbones make a clip every 16 frames, 65 x 16 frames, about "
                 "35 s at 30 fps): give more footage, or fewer groups (--pooled), or lower it "
                 "(--min-clips N on `videoad detect` and `videoad run`, or `min_clips: N` in a --config), which "
                 "makes the fit less reliable")


def _assemble(results: list[dict], records: list[dict], category: Mapping[str, str], left_out: dict | None = None,
              history_left_out: dict | None = None, counts: Mapping[str, int] | None = None) -> ScoreSet:
    """The groups' results as scores. Videos a fit or scoring left out (found so only when their
    arrays were read), in a group that failed after too, go into `left_out` (`history_left_out`: of
    the history fitted on) and out of their group's record (`counts`: clips per video, to recount a
    failed group's)."""
    by_group = {r["group"]: r for r in results}
    videos = []
    for rec in records:
        res = by_group.get(rec["group"])
        if res is None:
            continue
        for key, into in (("left_out", left_out), ("history_left_out", history_left_out)):
            if res.get(key) and into is not None:
                into.update(res[key])
        if "failed" in res:
            rec.update(status="failed", reason=res["failed"])
            log.warning("group %r failed: %s", rec["group"], res["failed"])
            rec.pop("scene_cut_views", None)  # nothing scored to say it of
            if res.get("left_out"):
                rec["videos"] = [k for k in rec["videos"] if k not in res["left_out"]]
                if counts is not None:
                    rec["n_clips"] = sum(counts.get(k, 0) for k in rec["videos"])
            continue
        if res.get("left_out"):
            rec["videos"] = [k for k in rec["videos"] if k not in res["left_out"]]
            rec["n_clips"] = sum(len(v["scores"]) for v in res["videos"])
        rec.update({k: v for k, v in res["info"].items() if k != "entry"})
        if rec.get("scene_cut_views") and res.get("left_out"):  # of the videos scored alone
            rec["scene_cut_views"] = {k: e for k, e in rec["scene_cut_views"].items() if k in rec["videos"]}
            if not rec["scene_cut_views"]:
                del rec["scene_cut_views"]
        for v in res["videos"]:
            videos.append(VideoScores(
                video=v["video"], scores=v["scores"], frames=v["frames"], n_frames=v["n_frames"], fps=v["fps"],
                category=category.get(v["video"], ""), group=rec["group"], source=v["source"],
                threshold=v["threshold"], cells=v["cells"], scene_cuts=v.get("scene_cuts"),
                scene_cut_frames=v.get("scene_cut_frames"), scene_cut_handling=v.get("scene_cut_handling"),
                repeated_frames=v.get("repeated_frames"), repeat_handling=v.get("repeat_handling"),
                decode_warnings=v.get("decode_warnings"), damaged_spans=v.get("damaged_spans"),
                start_time=v.get("start_time"), start_time_from=v.get("start_time_from"),
                source_fingerprint=v.get("source_fingerprint"), cell_region=v.get("cell_region"),
                frame_times=v.get("frame_times"),
            ))
    if not videos:
        by_reason: dict[str, list[str]] = {}  # one line per reason: a bad setting fails every group alike
        for r in records:
            by_reason.setdefault(r.get("reason", ""), []).append(str(r["group"]))
        reasons = "; ".join(f"{', '.join(gs[:3]) + (f' and {len(gs) - 3} more' if len(gs) > 3 else '')}: {why}"
                            for why, gs in by_reason.items())
        too_short = records and all("< min_clips=" in r.get("reason", "") for r in records)
        raise ValueError(f"no group could be scored ({reasons})" + (TOO_FEW_CLIPS if too_short else ""))
    return ScoreSet(videos, {"groups": records, **_layout_meta(records)})


def _layout_meta(records: list[dict]) -> dict:
    """Run-level description of the scores: unit, and the cell grid when groups scored cells."""
    done = [r for r in records if r.get("status") in ("fitted", "scored")]
    meta = {"score_unit": next((r["score_unit"] for r in done if r.get("score_unit")), "score")}
    grids = {tuple(r["cell_grid"]) for r in done if r.get("level") == "cell"}
    if len(grids) > 1:
        raise ValueError(f"groups scored cells on different grids {sorted(grids)}; one run needs one grid")
    if grids:
        meta["cell_grid"] = list(grids.pop())
        meta["cell_region"] = next(r["cell_region"] for r in done if r.get("level") == "cell")
    return meta


def _not_extracted(features, keys=None) -> dict[str, str]:
    """The store's videos its extraction failed on (`groups.not_extracted`), left out with why; none
    where the caller names the videos (`videoad run` says its own run's failures)."""
    return not_extracted(features) if keys is None else {}


def _unfinished(features, history=None) -> list[str]:
    """`unfinished` of the stores a run reads, warned of at once. Read before the stores are
    listed: an extraction still running finishes during the fit, and its manifest then says
    complete while the run scored the videos there were when it began."""
    notes = [n for n in (unfinished(features), unfinished(history) if history is not None else None) if n]
    for note in notes:
        log.warning(note)
    return notes


def _run_meta(cfg: DetectConfig, features, protocol: str, history=None, *, notes: list[str]) -> dict:
    """run.json's record of the run; `notes`: `_unfinished` of its stores, read when it began."""
    import platform

    return {
        **({"unfinished_stores": notes} if notes else {}),
        "protocol": protocol,
        "protocol_note": (
            "transductive, label-free: each group's detector is fitted on the very clips it scores"
            if protocol == "transductive" else
            "inductive: models fitted on another set of videos score these"
        ),
        # absolute: a report, plot or camera sheet made later from another folder finds the store
        # (a relative path was relative to wherever `detect` ran); the page shows it relative to itself
        "features": str(Path(features).absolute()),
        "config": asdict(cfg),
        "version": __version__,
        "python": platform.python_version(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
