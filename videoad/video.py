"""Detection over a feature store: group the videos, fit one detector per group, score the clips.

Transductive (the paper's UCF-Crime protocol): each group is fitted on its own clips and those
same clips are scored, with no labels anywhere. Groups are one video (``per-video``), one
category (``per-category``: the annotation file's class, else the store folder the video sits
in) or everything (``pooled``). Groups with fewer than ``min_clips`` clips are skipped with the
reason written to the scores (the paper kept videos of at least 65 clips).

Inductive: fit on one store (e.g. the unlabeled training split), save the models, score
another store with them (`fit_store` / `save_models` / `load_models`).

Groups are fitted in parallel worker processes (joblib); each worker reads its own videos from
the store and seeds its detector from the run seed and the group's name, so a group's scores do
not depend on the number of workers or on which other groups are in the run.
"""
from __future__ import annotations

import importlib
import json
import logging
import re
import time
import zipfile
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from videoad import __version__
from videoad.scores import ScoreSet, VideoScores

log = logging.getLogger(__name__)

MODES = ("per-video", "per-category", "pooled")
LEVELS = ("auto", "cell", "clip")
CELL_AGGREGATES = ("top2", "max")
DETECTORS = {
    "duad": ("videoad.detector.duad", "DUAD"),
    "pca": ("videoad.baselines", "PCARecon"),
    "iforest": ("videoad.baselines", "IForest"),
    "dagmm": ("videoad.baselines", "DAGMM"),
    "ocsvm": ("videoad.baselines", "OCSVM"),
    "knn": ("videoad.baselines", "KNNDist"),
}
MODELS_INDEX = "models.json"
PREPROCESS = ("none", "sqrt", "rms", "sqrt-rms")
FEATURE_KINDS = ("motion", "learned", "segments")


def _packaged_defaults() -> dict:
    """The packaged `defaults/detect.yaml`: the one place the detect defaults are written."""
    import yaml
    from importlib.resources import files

    return yaml.safe_load(files("videoad").joinpath("defaults", "detect.yaml").read_text())


_DEFAULTS = _packaged_defaults()
#: DUAD's arguments per kind of features, merged under a config's own `params`
DUAD_BY_FEATURES: dict[str, dict] = _DEFAULTS["duad_by_features"]


@dataclass
class DetectConfig:
    """Settings of one detect run; a YAML config file holds the same keys. Every default comes
    from the packaged `videoad/defaults/detect.yaml` (configs/video.yaml is its copy)."""

    mode: str = _DEFAULTS["mode"]
    detector: str = _DEFAULTS["detector"]["name"]
    params: dict = field(default_factory=lambda: dict(_DEFAULTS["detector"]["params"] or {}))
    level: str = _DEFAULTS["level"]  # auto: grid cells when every video of a group has them
    cell_aggregate: str = _DEFAULTS["cell_aggregate"]
    position: bool = _DEFAULTS["position"]
    min_clips: int = _DEFAULTS["min_clips"]
    n_jobs: int = _DEFAULTS["n_jobs"]
    threads_per_job: int = _DEFAULTS["threads_per_job"]
    seed: int = _DEFAULTS["seed"]
    threshold_quantile: float = _DEFAULTS["threshold_quantile"]
    overlap: str = _DEFAULTS["overlap"]  # frame mapping for overlapping clips, used by evaluate/plot
    preprocess: str = _DEFAULTS["preprocess"]  # per-group feature transform before fitting, see `fit_preprocess`
    n_seeds: int = _DEFAULTS["n_seeds"]  # fits per group with consecutive seeds; their clip scores are averaged

    def check(self, where: str = "config") -> "DetectConfig":
        self._check_types(where)
        if self.mode not in MODES:
            raise ValueError(f"{where}: mode must be one of {MODES}, got {self.mode!r}")
        if self.detector not in DETECTORS:
            raise ValueError(f"{where}: detector must be one of {sorted(DETECTORS)}, got {self.detector!r}")
        if self.level not in LEVELS:
            raise ValueError(f"{where}: level must be one of {LEVELS}, got {self.level!r}")
        if self.cell_aggregate not in CELL_AGGREGATES:
            raise ValueError(f"{where}: cell_aggregate must be one of {CELL_AGGREGATES}, got {self.cell_aggregate!r}")
        if not isinstance(self.position, bool):
            raise ValueError(f"{where}: position must be true or false, got {self.position!r}")
        if int(self.n_seeds) < 1:
            raise ValueError(f"{where}: n_seeds must be >= 1, got {self.n_seeds!r}")
        if int(self.min_clips) < 1 or int(self.n_jobs) == 0 or int(self.threads_per_job) < 1:
            raise ValueError(f"{where}: min_clips and threads_per_job must be >= 1, n_jobs != 0")
        if not 0.0 < float(self.threshold_quantile) < 1.0:
            raise ValueError(f"{where}: threshold_quantile must be in (0, 1), got {self.threshold_quantile!r}")
        if self.overlap not in ("mean", "max"):
            raise ValueError(f"{where}: overlap must be 'mean' or 'max', got {self.overlap!r}")
        if self.preprocess not in PREPROCESS:
            raise ValueError(f"{where}: preprocess must be one of {PREPROCESS}, got {self.preprocess!r}")
        if not isinstance(self.params, dict):
            raise ValueError(f"{where}: params must be a mapping of detector arguments")
        return self

    def _check_types(self, where: str) -> None:
        """Each setting of the type its default has, so that a YAML slip (`seed: [1, 2]`,
        `min_clips: lots`) is named with its key instead of failing deep inside a fit."""
        kinds = {int: "a whole number", float: "a number", str: "a name", dict: "a mapping", bool: "true or false"}
        for name, spec in self.__dataclass_fields__.items():
            value, default = getattr(self, name), spec.default
            kind = dict if name == "params" else type(default)
            fits = (isinstance(value, (int, float)) if kind is float else isinstance(value, kind))
            if (isinstance(value, bool) and kind is not bool) or not fits:
                example = "{...}" if kind is dict else default
                raise ValueError(f"{where}: {name} must be {kinds[kind]} (e.g. {name}: {example}), "
                                 f"got {value!r}")


def load_config(path, **overrides) -> DetectConfig:
    """Read a YAML config (keys of `DetectConfig`; missing keys take the defaults);
    `overrides` that are not None win."""
    import yaml

    data: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ValueError(f"{p}: no such config file")
        try:
            data = yaml.safe_load(p.read_text()) or {}
        except yaml.YAMLError as exc:
            raise ValueError(f"{p}: not valid YAML ({exc})") from None
        if not isinstance(data, dict):
            raise ValueError(f"{p}: expected a mapping of settings at the top level")
        data.pop("duad_by_features", None)  # the packaged defaults' table; the code reads it there
        det = data.get("detector")
        if isinstance(det, dict):  # detector: {name: duad, params: {...}}
            data["detector"] = det.get("name", "duad")
            data.setdefault("params", det.get("params", {}) or {})
        unknown = sorted(set(data) - set(DetectConfig.__dataclass_fields__))
        if unknown:
            raise ValueError(f"{p}: unknown setting(s) {unknown}; known: {sorted(DetectConfig.__dataclass_fields__)}")
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if "detector" in overrides and overrides["detector"] != data.get("detector", "duad") and "params" not in overrides:
        data["params"] = {}  # the file's parameters belong to its own detector
    data.update(overrides)
    return DetectConfig(**data).check(str(path or "config"))


def feature_kind(attrs: Mapping) -> str:
    """What a store's features are, from what it records about their backbone: "motion" (the
    weight-free descriptor), "segments" (clips averaged over fixed segments, Sultani's 32 per
    video) or "learned" (C3D, torchvision / pytorchvideo networks, imported clip features)."""
    if str(attrs.get("row_kind", "")) == "segment":
        return "segments"
    if str(attrs.get("backbone", "")) == "motion":
        return "motion"
    return "learned"


def detector_params(cfg: DetectConfig, kind: str) -> dict:
    """The detector's arguments for features of `kind`: DUAD takes the packaged defaults for that
    kind under the config's own `params`; a baseline takes its `params` alone."""
    if cfg.detector != "duad":
        return dict(cfg.params)
    return {**DUAD_BY_FEATURES[kind], **cfg.params}


def make_detector(name: str, params: Mapping | None = None, seed: int | None = None):
    """A detector by registry name with its constructor `params` (random_state = seed)."""
    if name not in DETECTORS:
        raise ValueError(f"unknown detector {name!r}; choose one of {sorted(DETECTORS)}")
    module, cls_name = DETECTORS[name]
    cls = getattr(importlib.import_module(module), cls_name)
    kwargs = dict(params or {})
    if seed is not None:
        kwargs["random_state"] = int(seed)
    valid = cls._get_param_names()
    bad = sorted(set(kwargs) - set(valid))
    if bad:
        raise ValueError(f"detector {name!r} has no parameter(s) {bad}; it takes {valid}")
    return cls(**kwargs)


def fit_preprocess(X: np.ndarray, how: str) -> dict:
    """Fit the per-group feature transform; returns its state (apply with `apply_preprocess`).

    "sqrt": signed square root of every value. Motion descriptors and fc6 activations are
        histograms / non-negative magnitudes; the root (Hellinger's transform) lets differences
        in small bins count next to the large ones.
    "rms": divide each column by its root-mean-square over the group's clips, so columns in
        different units (pixels per frame, pixel fractions, energies) weigh alike. Columns are
        not centred: DUAD scores the *angle* between a clip and its reconstruction, which is
        unstable for rows near the origin, where centring would put the typical clip.
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


def group_seed(seed: int, group: str) -> int:
    """Per-group seed: stable across runs, worker counts and the other groups in the run."""
    return (int(seed) * 1_000_003 + zlib.crc32(group.encode())) % (2**31 - 1)


# ---------------------------------------------------------------------------------------------
# grouping


def open_store(path):
    from extract.store import FeatureStore

    p = Path(path)
    if not p.exists():
        raise ValueError(f"{p}: no such feature store")
    return FeatureStore(p)


_GROUP_BY = {"per-video": "video", "per-category": "folder", "pooled": "all"}


def make_groups(store, mode: str, annotations=None) -> dict[str, list[str]]:
    """Group name -> store keys for a detection mode (the store's own grouping).

    per-category: the class column of the annotation file when one is given, else the first
    folder of the key (UCF-Crime's `Abuse/Abuse001_x264.mp4` -> "Abuse").
    """
    if mode not in _GROUP_BY:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    groups = store.groups(by=_GROUP_BY[mode], annotations=annotations if mode == "per-category" else None)
    if not groups:
        raise ValueError(f"{store.root}: the feature store holds no videos")
    return groups


def categories(store, annotations=None) -> dict[str, str]:
    """Store key -> category (annotation class, else first folder), whatever the grouping."""
    return {k: g for g, keys in store.groups(by="folder", annotations=annotations).items() for k in keys}


# ---------------------------------------------------------------------------------------------
# workers (module level so that joblib can pickle them)


def _load_group(store_root: str, keys: list[str], cells: bool = True):
    store = open_store(store_root)
    vids = [store.load(k, cells=cells) for k in keys]
    dims = {v.features.shape[1] for v in vids}
    if len(dims) > 1:
        detail = ", ".join(f"{v.key}: {v.features.shape[1]}" for v in vids[:6])
        raise ValueError(f"{store_root}: videos of one group have different feature sizes ({detail})")
    backbones = {str(v.attrs.get("backbone", "")) for v in vids}
    if len(backbones) > 1:
        raise ValueError(f"{store_root}: one group mixes features of backbones {sorted(backbones)}")
    return vids


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


def group_rows(vids, level: str, position: bool = False) -> np.ndarray:
    """The detector's rows for a group: one per clip, or one per (clip, cell) in clip order, the
    cells of a clip row-major; with `position`, each cell row ends with a one-hot of its cell."""
    if level == "clip":
        return np.concatenate([v.features for v in vids]).astype(np.float32, copy=False)
    cells = np.concatenate([v.cells for v in vids]).astype(np.float32, copy=False)  # (n, C, d)
    n, n_cells, _ = cells.shape
    rows = cells.reshape(n * n_cells, -1)
    if position:
        rows = np.concatenate([rows, np.tile(np.eye(n_cells, dtype=np.float32), (n, 1))], axis=1)
    return rows


def aggregate_cells(cell_scores: np.ndarray, how: str) -> np.ndarray:
    """A clip's score from its cells' scores (n_clips, n_cells): the hottest cell ("max") or the
    mean of the two hottest ("top2": an object spans a cell border as often as not)."""
    if how == "max" or cell_scores.shape[1] < 2:
        return cell_scores.max(axis=1)
    if how == "top2":
        return np.sort(cell_scores, axis=1)[:, -2:].mean(axis=1)
    raise ValueError(f"cell_aggregate must be one of {CELL_AGGREGATES}, got {how!r}")


def _video_meta(v) -> dict:
    a = v.attrs
    n_frames = a.get("n_frames")
    if n_frames is None:
        raise ValueError(f"feature store video {v.key!r}: attribute n_frames is missing (needed to pad the tail)")
    fps = a.get("fps")
    fps = float(fps) if isinstance(fps, (int, float)) and np.isfinite(fps) else 0.0
    source = a.get("source") or a.get("source_path") or ""
    return {"n_frames": int(n_frames), "fps": fps, "source": str(source) if source != "none" else ""}


def _limit_threads(n: int) -> None:
    import torch

    torch.set_num_threads(int(n))


def _group_layout(vids, level: str) -> dict:
    """What the scores of a group are: level, grid and the region of the frame it covers."""
    if level == "clip":
        return {"level": "clip"}
    grids = {v.cell_grid for v in vids}
    if len(grids) != 1:
        raise ValueError(f"videos of one group have different cell grids {sorted(map(str, grids))}")
    region = vids[0].attrs.get("cell_region", [0.0, 0.0, 1.0, 1.0])
    if isinstance(region, str):
        region = json.loads(region)
    return {"level": "cell", "cell_grid": list(grids.pop()), "cell_region": [float(r) for r in region]}


def _fit_group(store_root: str, group: str, keys: list[str], cfg: dict, model_prefix: str | None) -> dict:
    """Fit one group's detector(s) on its own clips (or their cells) and return every video's scores.

    With `n_seeds` > 1 the detector is fitted that many times with consecutive seeds and the
    scores are averaged: small groups make a single autoencoder's scores swing with its seed.
    """
    _limit_threads(cfg["threads_per_job"])
    from threadpoolctl import threadpool_limits

    t0 = time.perf_counter()
    config = DetectConfig(**cfg)
    vids = _load_group(store_root, keys, cells=config.level != "clip")
    level = resolve_level(config.level, vids)
    layout = _group_layout(vids, level)
    kind = feature_kind(vids[0].attrs)
    params = detector_params(config, kind)
    X = group_rows(vids, level, config.position)
    seed = group_seed(config.seed, group)
    prep = fit_preprocess(X, config.preprocess)
    Xp = apply_preprocess(X, prep)
    runs, dets = [], []
    for k in range(int(config.n_seeds)):
        det = make_detector(config.detector, params, seed + k)
        with threadpool_limits(config.threads_per_job):
            det.fit(Xp)
        runs.append(np.asarray(det.decision_scores_, dtype=np.float64))
        dets.append(det)
    row_scores = np.mean(runs, axis=0)
    cell_scores, scores = _clip_scores(row_scores, layout, config.cell_aggregate)
    threshold = float(np.quantile(scores, config.threshold_quantile))
    info = {"seed": seed, "n_seeds": len(runs), "fit_seconds": round(time.perf_counter() - t0, 3),
            "threshold": threshold, "features": kind, "params": params, "n_rows": int(X.shape[0]),
            "score_unit": _score_unit(dets[0]), **layout}
    det = dets[0]
    for attr in ("stop_reason_", "n_reselections_", "n_epochs_"):
        if hasattr(det, attr):
            info[attr.rstrip("_")] = getattr(det, attr)
    if hasattr(det, "selection_"):
        info["selected_fraction"] = float(np.mean(det.selection_))
    if model_prefix:
        prefix = Path(model_prefix)
        info["models"] = []
        for k, d in enumerate(dets):
            path = prefix.with_name(f"{prefix.name}.s{k}.pt")
            _save_model(d, path)
            info["models"].append(path.name)
        prep_path = prefix.with_name(prefix.name + ".preprocess.npz")
        np.savez(prep_path, how=prep["how"],
                 scale=np.zeros(0, np.float32) if prep["scale"] is None else prep["scale"])
        info["preprocess"] = prep_path.name
    return {"group": group, "info": info, "videos": _split(vids, scores, cell_scores, threshold)}


def _clip_scores(row_scores: np.ndarray, layout: dict, how: str) -> tuple[np.ndarray | None, np.ndarray]:
    """(cell scores (n_clips, n_cells) or None, clip scores) from the detector's row scores."""
    if layout["level"] == "clip":
        return None, row_scores
    rows, cols = layout["cell_grid"]
    cells = row_scores.reshape(-1, rows * cols)
    return cells, aggregate_cells(cells, how)


def _score_unit(det) -> str:
    unit = getattr(det, "score_unit", None)
    return unit() if callable(unit) else "score"


def _load_prep(path) -> dict:
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


def _score_group(store_root: str, group: str, keys: list[str], model_paths: list[str], prep_path: str,
                 threshold: float, threads: int, model: dict) -> dict:
    """Score a group's clips with saved models (inductive mode): the mean of their scores.
    `model`: the index entry (level, grid, aggregate, position) the models were fitted with."""
    _limit_threads(threads)
    from threadpoolctl import threadpool_limits

    from videoad.detector.persistence import load_detector

    t0 = time.perf_counter()
    level = model.get("level", "clip")
    vids = _load_group(store_root, keys, cells=level == "cell")
    resolve_level(level, vids)  # the models' level must be available here
    layout = _group_layout(vids, level)
    if level == "cell" and layout["cell_grid"] != list(model["cell_grid"]):
        raise ValueError(f"group {group!r}: the models were fitted on a {model['cell_grid']} grid, "
                         f"the features have {layout['cell_grid']}")
    X = group_rows(vids, level, bool(model.get("position", False)))
    Xp = apply_preprocess(X, _load_prep(prep_path))
    runs = []
    for path in model_paths:
        det = load_detector(path, device="cpu")
        if X.shape[1] != det.n_features_in_:
            raise ValueError(
                f"{path}: the model was fitted on {det.n_features_in_}-d rows, group {group!r} has {X.shape[1]}-d"
            )
        with threadpool_limits(threads):
            runs.append(np.asarray(det.decision_function(Xp), dtype=np.float64))
    cell_scores, scores = _clip_scores(np.mean(runs, axis=0), layout, model.get("cell_aggregate", "max"))
    info = {"models": [Path(p).name for p in model_paths], "score_seconds": round(time.perf_counter() - t0, 3),
            "threshold": threshold, "score_unit": model.get("score_unit", "score"), **layout}
    return {"group": group, "info": info, "videos": _split(vids, scores, cell_scores, threshold)}


def _split(vids, scores: np.ndarray, cell_scores: np.ndarray | None, threshold: float) -> list[dict]:
    out, start = [], 0
    for v in vids:
        n = v.features.shape[0]
        out.append({"video": v.key, "scores": scores[start : start + n], "frames": np.asarray(v.frames, np.int64),
                    "cells": None if cell_scores is None else cell_scores[start : start + n],
                    "threshold": threshold, **_video_meta(v)})
        start += n
    return out


def _save_model(det, path) -> None:
    if not hasattr(det, "model_"):
        raise ValueError(
            f"{type(det).__name__} cannot be saved (only the torch detectors duad and dagmm can); "
            "use one of those for inductive mode"
        )
    from videoad.detector.persistence import save_detector

    save_detector(det, path)


# ---------------------------------------------------------------------------------------------
# the public calls


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "group"


def _run(tasks, n_jobs: int) -> list:
    """Run (function, args) tasks, in parallel processes when n_jobs != 1."""
    if n_jobs == 1 or len(tasks) <= 1:
        return [fn(*args) for fn, args in tasks]
    from joblib import Parallel, delayed

    return Parallel(n_jobs=n_jobs, backend="loky")(delayed(fn)(*args) for fn, args in tasks)


def _screen(store, groups: dict[str, list[str]]):
    """(groups without the videos that cannot be scored, clips per kept video, left out -> why).

    A video shorter than one clip has nothing to score, and a feature file that cannot be read
    gives nothing: each is left out with its reason (run.json `left_out`), so that one of them
    never stops the run. Clips are counted from the attributes alone (no arrays read).
    """
    counts, left_out = {}, {}
    for key in sorted({k for keys in groups.values() for k in keys}):
        try:
            a = store.attrs(key)
            n = int(a["n_clips"]) if "n_clips" in a else store.load(key).n_clips
        except ValueError as exc:  # extract.store.StoreReadError: names the file, says what to do
            left_out[key] = str(exc)
            continue
        if n > 0:
            counts[key] = n
        else:
            left_out[key] = (f"no clips: {a.get('n_frames', '?')} frames, shorter than one clip of "
                             f"{a.get('clip_len', '?')} (extract with --tail pad to score it)")
    for key, why in left_out.items():
        log.info("left out %s: %s", key, why)
    kept = {g: [k for k in keys if k in counts] for g, keys in groups.items()}
    kept = {g: keys for g, keys in kept.items() if keys}
    if not kept:
        raise ValueError(f"{store.root}: no video can be scored ("
                         + "; ".join(f"{k}: {why}" for k, why in left_out.items()) + ")")
    return kept, counts, left_out


def detect(features, cfg: DetectConfig | None = None, *, annotations=None, save_models=None,
           executor=None) -> ScoreSet:
    """Transductive detection over a feature store; returns the scores (write them with `write_scores`).

    `annotations`: path of a UCF-Crime-style file whose class column names each video's category.
    `save_models`: a folder to also keep each group's fitted model in: the inductive mode's first
    step (fit on, say, the unlabeled training split; then `score` other videos with the models).
    `executor`: runs the per-group fits, called like `_run(tasks, n_jobs)` (the default: local
    processes); `videoad.ray_detect.RayTasks` schedules them on a Ray cluster instead.
    """
    cfg = (cfg or DetectConfig()).check()
    store = open_store(features)
    groups, counts, left_out = _screen(store, make_groups(store, cfg.mode, annotations))
    plan, records = [], []
    model_dir = Path(save_models) if save_models else None
    if model_dir:
        if cfg.mode == "per-video":
            raise ValueError("saved models serve the inductive mode, which fits per category or pooled; "
                             "a per-video model cannot score other videos")
        model_dir.mkdir(parents=True, exist_ok=True)
    for g, keys in groups.items():
        n = sum(counts[k] for k in keys)
        rec = {"group": g, "videos": keys, "n_clips": n}
        if n < int(cfg.min_clips):
            rec.update(status="skipped", reason=f"{n} clips < min_clips={cfg.min_clips}")
            log.warning("group %r skipped: %s", g, rec["reason"])
        else:
            rec["status"] = "fitted"
            prefix = str(model_dir / _slug(g)) if model_dir else None
            plan.append((_fit_group, (str(features), g, keys, asdict(cfg), prefix)))
        records.append(rec)
    results = (executor or _run)(plan, int(cfg.n_jobs))
    scoreset = _assemble(results, records, categories(store, annotations))
    scoreset.meta.update(_run_meta(cfg, features, "transductive"), left_out=_listed(left_out))
    if model_dir:
        _write_index(model_dir, cfg, records, results)
    return scoreset


#: what a group's fit records in models.json so that scoring repeats it
_MODEL_KEYS = ("models", "preprocess", "threshold", "level", "cell_grid", "cell_region", "features", "params",
               "score_unit")


def _write_index(model_dir: Path, cfg: DetectConfig, records: list[dict], results: list[dict]) -> None:
    by_group = {r["group"]: r for r in results}
    index = {
        "format": "videoad-models/1",
        "config": asdict(cfg),
        "version": __version__,
        "groups": {
            r["group"]: {**{k: by_group[r["group"]]["info"][k] for k in _MODEL_KEYS if k in by_group[r["group"]]["info"]},
                         "cell_aggregate": cfg.cell_aggregate, "position": cfg.position, "n_clips": r["n_clips"]}
            for r in records if r["status"] == "fitted"
        },
    }
    (model_dir / MODELS_INDEX).write_text(json.dumps(index, indent=2) + "\n")


def score(features, model_dir, *, annotations=None, n_jobs: int = 1, executor=None) -> ScoreSet:
    """Inductive step 2: score every video of `features` with the models saved in `model_dir`.

    Videos are grouped as the models were (per category or pooled); a category without a model
    falls back to a pooled model when there is one, else it is skipped with the reason.
    """
    model_dir = Path(model_dir)
    index_path = model_dir / MODELS_INDEX
    if not index_path.is_file():
        raise ValueError(f"{model_dir}: no {MODELS_INDEX}; fit models first (`videoad detect ... --save-model DIR`)")
    index = json.loads(index_path.read_text())
    cfg = DetectConfig(**index["config"]).check(str(index_path))
    store = open_store(features)
    groups, counts, left_out = _screen(store, make_groups(store, cfg.mode, annotations))
    models = index["groups"]
    plan, records = [], []
    for g, keys in groups.items():
        model_group = g if g in models else ("all" if "all" in models else None)
        rec = {"group": g, "videos": keys, "n_clips": sum(counts[k] for k in keys)}
        if model_group is None:
            rec.update(status="skipped", reason=f"no model for group {g!r} in {model_dir} (has {sorted(models)})")
        else:
            m = models[model_group]
            rec.update(status="scored", model_group=model_group)
            plan.append((_score_group, (str(features), g, keys, [str(model_dir / f) for f in m["models"]],
                                        str(model_dir / m["preprocess"]), m["threshold"], cfg.threads_per_job, m)))
        records.append(rec)
    results = (executor or _run)(plan, int(n_jobs))
    scoreset = _assemble(results, records, categories(store, annotations))
    scoreset.meta.update(_run_meta(cfg, features, "inductive"), left_out=_listed(left_out))
    scoreset.meta["models"] = str(model_dir)
    return scoreset


def _listed(left_out: Mapping[str, str]) -> list[dict]:
    return [{"video": k, "reason": why} for k, why in sorted(left_out.items())]


def _assemble(results: list[dict], records: list[dict], category: Mapping[str, str]) -> ScoreSet:
    by_group = {r["group"]: r for r in results}
    videos = []
    for rec in records:
        res = by_group.get(rec["group"])
        if res is None:
            continue
        rec.update(res["info"])
        for v in res["videos"]:
            videos.append(VideoScores(
                video=v["video"], scores=v["scores"], frames=v["frames"], n_frames=v["n_frames"], fps=v["fps"],
                category=category.get(v["video"], ""), group=rec["group"], source=v["source"],
                threshold=v["threshold"], cells=v["cells"],
            ))
    if not videos:
        reasons = "; ".join(f"{r['group']}: {r.get('reason', '')}" for r in records)
        raise ValueError(f"no group could be scored ({reasons})")
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


def _run_meta(cfg: DetectConfig, features, protocol: str) -> dict:
    import platform

    return {
        "protocol": protocol,
        "protocol_note": (
            "transductive, label-free: each group's detector is fitted on the very clips it scores"
            if protocol == "transductive" else
            "inductive: models fitted on another set of videos score these"
        ),
        "features": str(features),
        "config": asdict(cfg),
        "version": __version__,
        "python": platform.python_version(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
