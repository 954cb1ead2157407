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


@dataclass
class DetectConfig:
    """Settings of one detect run; a YAML config file holds the same keys (see `configs/`)."""

    mode: str = "per-category"
    detector: str = "duad"
    params: dict = field(default_factory=dict)
    min_clips: int = 65
    n_jobs: int = 1
    threads_per_job: int = 1
    seed: int = 0
    threshold_quantile: float = 0.9  # label-free alarm line: the group's top 10% of clips
    overlap: str = "mean"  # frame mapping for overlapping clips, used by evaluate/plot
    preprocess: str = "none"  # per-group feature transform before fitting, see `fit_preprocess`
    n_seeds: int = 1  # fits per group with consecutive seeds; their clip scores are averaged

    def check(self, where: str = "config") -> "DetectConfig":
        self._check_types(where)
        if self.mode not in MODES:
            raise ValueError(f"{where}: mode must be one of {MODES}, got {self.mode!r}")
        if self.detector not in DETECTORS:
            raise ValueError(f"{where}: detector must be one of {sorted(DETECTORS)}, got {self.detector!r}")
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
        kinds = {int: "a whole number", float: "a number", str: "a name", dict: "a mapping"}
        for name, spec in self.__dataclass_fields__.items():
            value, default = getattr(self, name), spec.default
            kind = dict if name == "params" else type(default)
            fits = (isinstance(value, (int, float)) if kind is float else isinstance(value, kind))
            if isinstance(value, bool) or not fits:
                example = "{...}" if kind is dict else default
                raise ValueError(f"{where}: {name} must be {kinds[kind]} (e.g. {name}: {example}), "
                                 f"got {value!r}")


def load_config(path, **overrides) -> DetectConfig:
    """Read a YAML config (keys of `DetectConfig`); `overrides` that are not None win."""
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


def _load_group(store_root: str, keys: list[str]):
    store = open_store(store_root)
    vids = [store.load(k) for k in keys]
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


def _fit_group(store_root: str, group: str, keys: list[str], cfg: dict, model_prefix: str | None) -> dict:
    """Fit one group's detector(s) on its own clips and return every video's clip scores.

    With `n_seeds` > 1 the detector is fitted that many times with consecutive seeds and the
    clip scores are averaged: small groups (a few hundred clips) make a single autoencoder's
    scores swing with its seed, and the mean of several is steadier than any one of them.
    """
    _limit_threads(cfg["threads_per_job"])
    from threadpoolctl import threadpool_limits

    t0 = time.perf_counter()
    vids = _load_group(store_root, keys)
    X = np.concatenate([v.features for v in vids]).astype(np.float32, copy=False)
    seed = group_seed(cfg["seed"], group)
    prep = fit_preprocess(X, cfg["preprocess"])
    Xp = apply_preprocess(X, prep)
    runs, dets = [], []
    for k in range(int(cfg["n_seeds"])):
        det = make_detector(cfg["detector"], cfg["params"], seed + k)
        with threadpool_limits(cfg["threads_per_job"]):
            det.fit(Xp)
        runs.append(np.asarray(det.decision_scores_, dtype=np.float64))
        dets.append(det)
    scores = np.mean(runs, axis=0)
    threshold = float(np.quantile(scores, cfg["threshold_quantile"]))
    info = {"seed": seed, "n_seeds": len(runs), "fit_seconds": round(time.perf_counter() - t0, 3),
            "threshold": threshold}
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
    return {"group": group, "info": info, "videos": _split(vids, scores, threshold)}


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
                 threshold: float, threads: int) -> dict:
    """Score a group's clips with saved models (inductive mode): the mean of their scores."""
    _limit_threads(threads)
    from threadpoolctl import threadpool_limits

    from videoad.detector.persistence import load_detector

    t0 = time.perf_counter()
    vids = _load_group(store_root, keys)
    X = np.concatenate([v.features for v in vids]).astype(np.float32, copy=False)
    Xp = apply_preprocess(X, _load_prep(prep_path))
    runs = []
    for path in model_paths:
        det = load_detector(path, device="cpu")
        if X.shape[1] != det.n_features_in_:
            raise ValueError(
                f"{path}: the model was fitted on {det.n_features_in_}-d features, group {group!r} has {X.shape[1]}-d"
            )
        with threadpool_limits(threads):
            runs.append(np.asarray(det.decision_function(Xp), dtype=np.float64))
    scores = np.mean(runs, axis=0)
    info = {"models": [Path(p).name for p in model_paths], "score_seconds": round(time.perf_counter() - t0, 3),
            "threshold": threshold}
    return {"group": group, "info": info, "videos": _split(vids, scores, threshold)}


def _split(vids, scores: np.ndarray, threshold: float) -> list[dict]:
    out, start = [], 0
    for v in vids:
        n = v.features.shape[0]
        out.append({"video": v.key, "scores": scores[start : start + n], "frames": np.asarray(v.frames, np.int64),
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


def _write_index(model_dir: Path, cfg: DetectConfig, records: list[dict], results: list[dict]) -> None:
    by_group = {r["group"]: r for r in results}
    index = {
        "format": "videoad-models/1",
        "config": asdict(cfg),
        "version": __version__,
        "groups": {
            r["group"]: {"models": by_group[r["group"]]["info"]["models"],
                         "preprocess": by_group[r["group"]]["info"]["preprocess"],
                         "threshold": by_group[r["group"]]["info"]["threshold"], "n_clips": r["n_clips"]}
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
                                        str(model_dir / m["preprocess"]), m["threshold"], cfg.threads_per_job)))
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
                threshold=v["threshold"],
            ))
    if not videos:
        reasons = "; ".join(f"{r['group']}: {r.get('reason', '')}" for r in records)
        raise ValueError(f"no group could be scored ({reasons})")
    return ScoreSet(videos, {"groups": records})


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
