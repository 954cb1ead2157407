"""Detection over a feature store: group the videos, fit one detector per group, score the clips.

Transductive (the paper's UCF-Crime protocol): each group is fitted on its own clips and those
same clips are scored, with no labels anywhere. Groups are one video (``per-video``), one
category (``per-category``: the annotation file's class, else the store folder the video sits
in) or everything (``pooled``). Groups with fewer than ``min_clips`` clips are skipped with the
reason written to the scores (the paper kept videos of at least 65 clips).

Inductive: fit on one store (the normal history of a camera, the unlabeled training split) and
score another with the fitted models: in one go (`fit_and_score`), or saved and reloaded later
(`detect(..., save_models=DIR)`, then `score(features, DIR)`). Each group's fitted model (rows,
feature transform, seed ensemble, alarm line) is one `videoad.group_model.GroupModel`.

Groups are fitted in parallel worker processes (joblib); each worker reads its own videos from
the store and seeds its detector from the run seed and the group's name, so a group's scores do
not depend on the number of workers or on which other groups are in the run.
"""
from __future__ import annotations

import json
import logging
import re
import time
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from videoad import __version__
from videoad.group_model import (ALARMS, CELL_AGGREGATES, DETECTORS, LEVELS, PREPROCESS, GroupModel,
                                 aggregate_cells, apply_preprocess, fit_preprocess, make_detector, resolve_level)
from videoad.group_model import rows as group_rows
from videoad.scores import ScoreSet, VideoScores

__all__ = ["DetectConfig", "detect", "fit_and_score", "score", "load_config", "feature_kind", "detector_params",
           "make_detector", "fit_preprocess", "apply_preprocess", "group_rows", "aggregate_cells", "resolve_level"]

log = logging.getLogger(__name__)

MODES = ("per-video", "per-category", "pooled")
MODELS_INDEX = "models.json"
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
    alarm: str = _DEFAULTS["alarm"]  # how the alarm line is set from the fitted clips' scores
    alarm_level: float = _DEFAULTS["alarm_level"]
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
        if self.alarm not in ALARMS:
            raise ValueError(f"{where}: alarm must be one of {ALARMS}, got {self.alarm!r}")
        if self.alarm == "quantile" and not 0.0 < float(self.alarm_level) < 1.0:
            raise ValueError(f"{where}: alarm_level must be in (0, 1) for alarm quantile, got {self.alarm_level!r}")
        if self.alarm == "mad" and not float(self.alarm_level) > 0:
            raise ValueError(f"{where}: alarm_level must be > 0 for alarm mad, got {self.alarm_level!r}")
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
        table = data.pop("duad_by_features", None)  # the packaged defaults' table, copied into the file
        if table is not None and table != DUAD_BY_FEATURES:
            raise ValueError(f"{p}: duad_by_features differs from the packaged defaults; it is the table the "
                             "defaults come from, not a setting: put DUAD arguments under detector: params:")
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


def config_text(cfg: DetectConfig) -> str:
    """The settings a run uses, as a YAML config file that `--config` reads back (with the
    packaged per-feature DUAD table, which applies under `params`)."""
    import yaml

    data = asdict(cfg)
    data["detector"] = {"name": data.pop("detector"), "params": data.pop("params")}
    text = yaml.safe_dump(data, sort_keys=False, default_flow_style=None)
    if cfg.detector == "duad":
        text += "# DUAD's arguments by kind of features (params above win over them):\n"
        text += yaml.safe_dump({"duad_by_features": DUAD_BY_FEATURES}, sort_keys=False, default_flow_style=None)
    return text


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
#: the group of videos an annotation file does not mention
UNANNOTATED = "unannotated"


def _annotations(annotations):
    """An `Annotations` object from a path (or None / an object already read)."""
    if annotations is None or hasattr(annotations, "category_of"):
        return annotations
    from videoad.datasets.annotations import read_annotations

    return read_annotations(annotations)


def _category_label(annotations):
    """Key -> category: the annotation's class (the same matcher evaluation uses), else the
    key's first folder; a key the annotations do not name goes to "unannotated"."""
    from extract.store import folder_of

    ann = _annotations(annotations)
    if ann is None:
        return folder_of
    return lambda key: ann.category_of(key) or UNANNOTATED


def make_groups(store, mode: str, annotations=None) -> dict[str, list[str]]:
    """Group name -> store keys for a detection mode.

    per-category: the class the annotation file gives a video when one is given (matched as
    `Annotations.find` matches it for evaluation), else the first folder of the key
    (UCF-Crime's `Abuse/Abuse001_x264.mp4` -> "Abuse", or one folder per camera).
    """
    if mode not in _GROUP_BY:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    by = _category_label(annotations) if mode == "per-category" else _GROUP_BY[mode]
    groups = store.groups(by=by)
    if not groups:
        raise ValueError(f"{store.root}: the feature store holds no videos")
    return groups


def categories(store, annotations=None) -> dict[str, str]:
    """Store key -> category (annotation class, else first folder), whatever the grouping."""
    label = _category_label(annotations)
    return {k: label(k) for k in store.keys()}


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


def _fit(store_root: str, group: str, keys: list[str], cfg: dict):
    """Fit a group's model on its videos: (model, videos, fitted cell scores, fitted clip scores)."""
    config = DetectConfig(**cfg)
    _limit_threads(config.threads_per_job)
    vids = _load_group(store_root, keys, cells=config.level != "clip")
    kind = feature_kind(vids[0].attrs)
    model, cells, clips = GroupModel.fit(
        vids, level=config.level, detector=config.detector, params=detector_params(config, kind),
        preprocess=config.preprocess, n_seeds=config.n_seeds, seed=group_seed(config.seed, group),
        position=config.position, cell_aggregate=config.cell_aggregate, alarm=config.alarm,
        alarm_level=config.alarm_level, threads=config.threads_per_job, kind=kind)
    return model, vids, cells, clips


def _fit_group(store_root: str, group: str, keys: list[str], cfg: dict, model_prefix: str | None) -> dict:
    """Transductive: fit one group's model on its own clips and return those clips' scores."""
    model, vids, cells, clips = _fit(store_root, group, keys, cfg)
    info = dict(model.info)
    if model_prefix:
        info["entry"] = model.save(Path(model_prefix))
    return {"group": group, "info": info, "videos": _split(vids, clips, cells, model.threshold)}


def _fit_score_group(fit_root: str, fit_keys: list[str], store_root: str, group: str, keys: list[str],
                     cfg: dict, model_prefix: str | None) -> dict:
    """Inductive in one go: fit on the history's group, score this group's clips with it."""
    model, _, _, _ = _fit(fit_root, group, fit_keys, cfg)
    info = dict(model.info)
    if model_prefix:
        info["entry"] = model.save(Path(model_prefix))
    return _scored(model, store_root, group, keys, info, int(cfg["threads_per_job"]))


def _score_group(store_root: str, group: str, keys: list[str], model_dir: str, entry: dict, threads: int) -> dict:
    """Inductive from saved models: load the group's model (its models.json `entry`), score."""
    _limit_threads(threads)
    model = GroupModel.load(entry, Path(model_dir))
    return _scored(model, store_root, group, keys, {**model.info, "models": list(entry["models"])}, threads)


def _scored(model: GroupModel, store_root: str, group: str, keys: list[str], info: dict, threads: int) -> dict:
    t0 = time.perf_counter()
    vids = _load_group(store_root, keys, cells=model.layout["level"] == "cell")
    try:
        cells, clips = model.score(vids, threads)
    except ValueError as exc:
        raise ValueError(f"group {group!r}: {exc}") from None
    info = {**info, "score_seconds": round(time.perf_counter() - t0, 3), "threshold": model.threshold,
            **model.layout}
    return {"group": group, "info": info, "videos": _split(vids, clips, cells, model.threshold)}


def _split(vids, scores: np.ndarray, cell_scores: np.ndarray | None, threshold: float) -> list[dict]:
    out, start = [], 0
    for v in vids:
        n = v.features.shape[0]
        out.append({"video": v.key, "scores": scores[start : start + n], "frames": np.asarray(v.frames, np.int64),
                    "cells": None if cell_scores is None else cell_scores[start : start + n],
                    "threshold": threshold, **_video_meta(v)})
        start += n
    return out


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

    `annotations`: a ground-truth file (any format `read_annotations` reads) whose categories
    group the videos per category, matched to store keys as evaluation matches them.
    `save_models`: a folder to also keep each group's fitted model in (score other videos with
    them later: `score`). `executor`: runs the per-group fits, called like `_run(tasks, n_jobs)`
    (the default: local processes); `videoad.ray_detect.RayTasks` schedules them on Ray instead.
    """
    cfg = (cfg or DetectConfig()).check()
    store, annotations = open_store(features), _annotations(annotations)
    groups, counts, left_out = _screen(store, make_groups(store, cfg.mode, annotations))
    model_dir = _model_dir(save_models, cfg)
    plan, records = [], []
    for g, keys in groups.items():
        rec = _record(g, keys, counts, cfg)
        if rec["status"] == "fitted":
            plan.append((_fit_group, (str(features), g, keys, asdict(cfg), _prefix(model_dir, g))))
        records.append(rec)
    results = (executor or _run)(plan, int(cfg.n_jobs))
    scoreset = _assemble(results, records, categories(store, annotations))
    scoreset.meta.update(_run_meta(cfg, features, "transductive"), left_out=_listed(left_out))
    if model_dir:
        _write_index(model_dir, cfg, results,
                     {r["group"]: extraction_record(store, groups[r["group"]]) for r in results})
    return scoreset


def fit_and_score(history, features, cfg: DetectConfig | None = None, *, annotations=None, save_models=None,
                  executor=None) -> ScoreSet:
    """Inductive in one go: fit each group's model on the `history` store (footage known to be
    mostly ordinary), score the same group of `features` with it; the alarm line is the
    history's. A group of `features` that the history lacks is scored by the history's pooled
    model when the grouping is pooled, else skipped with the reason. Any detector works here;
    `save_models` (torch detectors only) also keeps the models for `score`."""
    cfg = (cfg or DetectConfig()).check()
    if cfg.mode == "per-video":
        raise ValueError("fitting on history serves per-category or pooled grouping; a per-video model "
                         "cannot score other videos")
    fit_store, store, annotations = open_store(history), open_store(features), _annotations(annotations)
    fit_groups, fit_counts, _ = _screen(fit_store, make_groups(fit_store, cfg.mode, annotations))
    groups, counts, left_out = _screen(store, make_groups(store, cfg.mode, annotations))
    model_dir = _model_dir(save_models, cfg)
    plan, records = [], []
    for g, keys in groups.items():
        fit_keys = fit_groups.get(g)
        rec = {"group": g, "videos": keys, "n_clips": sum(counts[k] for k in keys)}
        if fit_keys is None:
            rec.update(status="skipped", reason=f"no history for group {g!r} in {history} (has {sorted(fit_groups)})")
        elif sum(fit_counts[k] for k in fit_keys) < int(cfg.min_clips):
            rec.update(status="skipped", reason=(f"history of group {g!r} has {sum(fit_counts[k] for k in fit_keys)} "
                                                 f"clips < min_clips={cfg.min_clips}"))
        else:
            rec.update(status="scored", history_videos=len(fit_keys))
            plan.append((_fit_score_group, (str(history), fit_keys, str(features), g, keys, asdict(cfg),
                                            _prefix(model_dir, g))))
        records.append(rec)
    results = (executor or _run)(plan, int(cfg.n_jobs))
    scoreset = _assemble(results, records, categories(store, annotations))
    scoreset.meta.update(_run_meta(cfg, features, "inductive"), left_out=_listed(left_out), history=str(history))
    if model_dir:
        _write_index(model_dir, cfg, results,
                     {r["group"]: extraction_record(fit_store, fit_groups[r["group"]]) for r in results})
    return scoreset


def _record(group: str, keys: list[str], counts: Mapping[str, int], cfg: DetectConfig) -> dict:
    n = sum(counts[k] for k in keys)
    rec = {"group": group, "videos": keys, "n_clips": n, "status": "fitted"}
    if n < int(cfg.min_clips):
        rec.update(status="skipped", reason=f"{n} clips < min_clips={cfg.min_clips}")
        log.warning("group %r skipped: %s", group, rec["reason"])
    return rec


def _model_dir(save_models, cfg: DetectConfig) -> Path | None:
    if not save_models:
        return None
    if cfg.mode == "per-video":
        raise ValueError("saved models serve the inductive mode, which fits per category or pooled; "
                         "a per-video model cannot score other videos")
    model_dir = Path(save_models)
    model_dir.mkdir(parents=True, exist_ok=True)
    return model_dir


def _prefix(model_dir: Path | None, group: str) -> str | None:
    return str(model_dir / _slug(group)) if model_dir else None


def _write_index(model_dir: Path, cfg: DetectConfig, results: list[dict], extraction: Mapping[str, dict]) -> None:
    """models.json: the settings, per group its model entry and how its features were extracted
    (`extraction`: backbone name and options, clip sampling), so that `videoad watch` makes the
    same features from a live stream. The top-level `extraction` is the groups' common one."""
    groups = {r["group"]: {**r["info"]["entry"], "extraction": extraction[r["group"]]} for r in results}
    records = [json.dumps(e, sort_keys=True) for e in extraction.values()]
    common = extraction[results[0]["group"]] if results and len(set(records)) == 1 else None
    index = {"format": "videoad-models/1", "config": asdict(cfg), "version": __version__,
             "extraction": common, "groups": groups}
    (model_dir / MODELS_INDEX).write_text(json.dumps(index, indent=2) + "\n")


#: store attributes that say how clips were cut (the extraction record repeats them)
_CLIP_ATTRS = ("clip_len", "stride", "tail", "target_fps")


def extraction_record(store, keys: list[str]) -> dict:
    """How a group's features were made, from the store attributes of its first video: the
    backbone's registry name, the options that rebuild it (`Backbone.options`; None in stores
    written before they were recorded), its description, and the clip sampling. A group whose
    videos were extracted differently says so (`mixed`: the keys that differ from the first)."""
    def record(attrs: Mapping) -> dict:
        desc, options = attrs.get("backbone_json"), attrs.get("backbone_options")
        desc = json.loads(desc) if isinstance(desc, str) and desc.startswith("{") else None
        options = json.loads(options) if isinstance(options, str) and options.startswith("{") else None
        fps = float(attrs.get("target_fps", 0.0) or 0.0)
        rec = {"backbone": str(attrs.get("backbone_name") or attrs.get("backbone", "")), "options": options,
               "description": desc, "clip_len": int(attrs.get("clip_len", 16)), "stride": int(attrs.get("stride", 16)),
               "tail": str(attrs.get("tail", "drop")), "target_fps": fps if fps > 0 else None,
               "weights_sha256": str(attrs.get("weights_sha256", "none"))}
        grid = attrs.get("cell_grid")
        rec["cell_grid"] = json.loads(grid) if isinstance(grid, str) else (list(grid) if grid is not None else None)
        return rec

    first = record(store.attrs(keys[0]))
    mixed = [k for k in keys[1:] if record(store.attrs(k)) != first]
    if mixed:
        log.warning("videos of one group were extracted differently (%s ...); models.json records the first's "
                    "extraction", ", ".join(mixed[:3]))
        first["mixed"] = mixed
    return first


def score(features, model_dir, *, annotations=None, n_jobs: int = 1, executor=None) -> ScoreSet:
    """Score every video of `features` with the models saved in `model_dir` (inductive).

    Videos are grouped as the models were (per category or pooled); a category without a model
    falls back to a pooled model when there is one, else it is skipped with the reason.
    """
    model_dir = Path(model_dir)
    index_path = model_dir / MODELS_INDEX
    if not index_path.is_file():
        raise ValueError(f"{model_dir}: no {MODELS_INDEX}; fit models first (`videoad detect ... --save-model DIR`)")
    try:
        index = json.loads(index_path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{index_path}: not valid JSON ({exc}); refit the models") from None
    known = set(DetectConfig.__dataclass_fields__)
    cfg = DetectConfig(**{k: v for k, v in index["config"].items() if k in known}).check(str(index_path))
    store, annotations = open_store(features), _annotations(annotations)
    groups, counts, left_out = _screen(store, make_groups(store, cfg.mode, annotations))
    models = index["groups"]
    plan, records = [], []
    for g, keys in groups.items():
        model_group = g if g in models else ("all" if "all" in models else None)
        rec = {"group": g, "videos": keys, "n_clips": sum(counts[k] for k in keys)}
        if model_group is None:
            rec.update(status="skipped", reason=f"no model for group {g!r} in {model_dir} (has {sorted(models)})")
        else:
            rec.update(status="scored", model_group=model_group)
            plan.append((_score_group, (str(features), g, keys, str(model_dir), models[model_group],
                                        cfg.threads_per_job)))
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
        rec.update({k: v for k, v in res["info"].items() if k != "entry"})
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
