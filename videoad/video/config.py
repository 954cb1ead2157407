"""The settings of a detect run: `DetectConfig`, read from YAML (`load_config`), written back
(`config_text`), and the per-feature DUAD defaults. Every default is written once, in the
packaged `videoad/defaults/detect.yaml` (configs/video.yaml is a copy a test keeps equal)."""
from __future__ import annotations

import math

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from videoad.config import defaults as packaged_defaults
from videoad.config import defaults_path, dump, finite_number, read_yaml
from videoad.detector import registry
from videoad.detector.seeds import SEED_MAX
from videoad.group_model import (ALARMS, CELL_AGGREGATES, CELL_CALIBRATIONS, CELL_NAME, LEVELS, LINE_FROM,
                                 PREPROCESS, reversed_range)

MODES = ("per-video", "per-category", "per-camera", "pooled")
FEATURE_KINDS = ("motion", "learned", "segments")
HISTORY_LINES = ("held-out", "fitted")
#: `activity_levels`: each level of activity fitted apart, or one model over both (videoad.video.levels)
LEVEL_CHOICES = ("apart", "together")


_DEFAULTS = packaged_defaults("detect")  # videoad/defaults/detect.yaml: the one place they are written
#: the longest smoothing in time (sigma, seconds) a setting may ask for: an hour
MAX_SMOOTH_S = 3600.0


#: DUAD's arguments per kind of features, merged under a config's own `params`
DUAD_BY_FEATURES: dict[str, dict] = _DEFAULTS["duad_by_features"]


#: the most threads one fit may ask for: more than any machine's cores (torch failed to start at 100,000)
MAX_THREADS = 1024
#: the largest min_clips (2^31 - 1, a clip count HDF5's frame numbers hold): 10^30 was taken, and every
#: group skipped once all the footage was extracted
MAX_MIN_CLIPS = 2**31 - 1


@dataclass
class DetectConfig:
    """Settings of one detect run; a YAML config file holds the same keys. Every default comes
    from the packaged `videoad/defaults/detect.yaml` (configs/video.yaml is its copy)."""

    mode: str = _DEFAULTS["mode"]
    # a group whose videos fall into two levels of activity (a camera by day and at night): "apart",
    # one model per level (`videoad.video.levels`), or "together", one model and a warning
    activity_levels: str = _DEFAULTS["activity_levels"]
    detector: str = _DEFAULTS["detector"]["name"]
    params: dict = field(default_factory=lambda: dict(_DEFAULTS["detector"]["params"] or {}))
    level: str = _DEFAULTS["level"]  # auto: grid cells when every video of a group has them
    cell_aggregate: str = _DEFAULTS["cell_aggregate"]
    # each cell's scores judged against that cell's own over the fitted clips before the clip score
    # ("z": a part of the view that always moves, leaves in the wind, does not set every clip's score)
    cell_calibration: str = _DEFAULTS["cell_calibration"]
    # grid cells left out of the fit and of every clip score, named "row:col" as events.csv names
    # them: a part of the view that moves all the time (a tree, water, a flag)
    ignore_cells: list = field(default_factory=lambda: list(_DEFAULTS["ignore_cells"] or []))
    position: bool = _DEFAULTS["position"]
    min_clips: int = _DEFAULTS["min_clips"]
    n_jobs: int = _DEFAULTS["n_jobs"]
    threads_per_job: int = _DEFAULTS["threads_per_job"]
    seed: int = _DEFAULTS["seed"]
    alarm: str = _DEFAULTS["alarm"]  # how the alarm line is set from the fitted clips' scores
    alarm_level: float = _DEFAULTS["alarm_level"]
    # which fitted clips that line is read from: "fitted" (all of them) or "selection" (those the
    # detector's own normal selection holds, `videoad.group_model.selected_clips`); a --fit-on
    # model's line has its own setting, `history_line`
    line_from: str = _DEFAULTS["line_from"]
    overlap: str = _DEFAULTS["overlap"]  # frame mapping for overlapping clips, used by evaluate/plot
    preprocess: str = _DEFAULTS["preprocess"]  # per-group feature transform before fitting, see `fit_preprocess`
    n_seeds: int = _DEFAULTS["n_seeds"]  # fits per group with consecutive seeds; their clip scores are averaged
    smooth: float = _DEFAULTS["smooth"]  # seconds: Gaussian sigma over each video's clip scores in time (0: off)
    # percent of the rows DUAD's initial selection and reselections drop when the fit is on a
    # history the user declared normal (`--fit-on`): p0 = p = history_drop (0: the table's p0/p)
    history_drop: float = _DEFAULTS["history_drop"]
    # k of DUAD's knn score on such a history (0: DUAD's own n_neighbors): its nearest row is the
    # evidence, since k > 1 only guards against anomalies among the reference rows, which a normal
    # history should not hold (docs/defaults.md)
    history_neighbors: int = _DEFAULTS["history_neighbors"]
    # where the alarm line of such a fit comes from: "held-out" (each history video scored without
    # its own clips among the reference, as new footage is scored) or "fitted" (the fit's own scores)
    history_line: str = _DEFAULTS["history_line"]
    # the alarm rule and level of such a fit, drawn from those scores (`alarm` / `alarm_level` are
    # the transductive fit's): chosen apart, on the development sets (docs/defaults.md, dev-alarm)
    history_alarm: str = _DEFAULTS["history_alarm"]
    history_alarm_level: float = _DEFAULTS["history_alarm_level"]

    def check(self, where: str = "config", fitting: bool = True) -> "DetectConfig":
        """The settings, or a ValueError naming `where` and the key. `fitting` False: the settings a
        model folder was fitted with, read to score (its seed is not used: one recorded before the
        range was checked still scores)."""
        if isinstance(self.params, dict):  # numpy numbers of a library caller: run.json and models.json refused
            self.params = _plain(self.params)  # them after the whole fit
        self._check_types(where)
        if self.mode not in MODES:
            raise ValueError(f"{where}: mode must be one of {MODES}, got {self.mode!r}")
        if self.activity_levels not in LEVEL_CHOICES:
            raise ValueError(f"{where}: activity_levels must be one of {LEVEL_CHOICES}, got {self.activity_levels!r}")
        if self.detector not in registry.names():
            raise ValueError(f"{where}: detector must be one of {list(registry.names())}, got {self.detector!r}")
        if self.level not in LEVELS:
            raise ValueError(f"{where}: level must be one of {LEVELS}, got {self.level!r}")
        if self.cell_aggregate not in CELL_AGGREGATES:
            raise ValueError(f"{where}: cell_aggregate must be one of {CELL_AGGREGATES}, got {self.cell_aggregate!r}")
        if self.cell_calibration not in CELL_CALIBRATIONS:
            raise ValueError(f"{where}: cell_calibration must be one of {CELL_CALIBRATIONS}, "
                             f"got {self.cell_calibration!r}")
        for name in self.ignore_cells:  # the grid is known only at fit time: the form here
            if not (isinstance(name, str) and CELL_NAME.match(name)):
                raise ValueError(f"{where}: ignore_cells holds cell names row:col as events.csv writes them "
                                 f"(e.g. ['2:0', '3:0'], a range 0-1:3, a column *:0), got {name!r}")
            if part := reversed_range(name):
                raise ValueError(f"{where}: ignore_cells: {name!r}: the range {part} runs from high to low; "
                                 "write it low-high")
        if not isinstance(self.position, bool):
            raise ValueError(f"{where}: position must be true or false, got {self.position!r}")
        if int(self.n_seeds) < 1:
            raise ValueError(f"{where}: n_seeds must be >= 1, got {self.n_seeds!r}")
        if not 0 <= float(self.smooth) <= MAX_SMOOTH_S:  # a sigma of hours is a kernel of millions of clips
            raise ValueError(f"{where}: smooth must be 0 (off) to {MAX_SMOOTH_S:g} seconds, got {self.smooth!r}")
        if not 0 <= float(self.history_drop) < 100:
            raise ValueError(f"{where}: history_drop must be a percentage in [0, 100) (0: DUAD's own p0/p), "
                             f"got {self.history_drop!r}")
        if self.line_from not in LINE_FROM:
            raise ValueError(f"{where}: line_from must be one of {LINE_FROM}, got {self.line_from!r}")
        if self.history_line not in HISTORY_LINES:
            raise ValueError(f"{where}: history_line must be one of {HISTORY_LINES}, got {self.history_line!r}")
        if int(self.history_neighbors) < 0:
            raise ValueError(f"{where}: history_neighbors must be a whole number >= 0 (0: DUAD's own n_neighbors), "
                             f"got {self.history_neighbors!r}")
        for key in ("min_clips", "threads_per_job"):
            if int(getattr(self, key)) < 1:
                raise ValueError(f"{where}: {key} must be >= 1, got {getattr(self, key)!r}")
        if int(self.min_clips) > MAX_MIN_CLIPS:
            raise ValueError(f"{where}: min_clips must be at most {MAX_MIN_CLIPS} (clips a group must hold to be "
                             f"fitted), got {self.min_clips!r}")
        if int(self.threads_per_job) > MAX_THREADS:  # 100000 reached torch and failed in its import
            raise ValueError(f"{where}: threads_per_job must be at most {MAX_THREADS} (threads of one fit, at most "
                             f"the cores of the machine it runs on), got {self.threads_per_job!r}")
        if int(self.n_jobs) == 0:
            raise ValueError(f"{where}: n_jobs must be >= 1 (processes), or negative (-1: one per core), got 0")
        if fitting and not 0 <= int(self.seed) <= SEED_MAX:  # any integer worked (folded by group_seed); run refused < 0
            raise ValueError(f"{where}: seed must be a whole number from 0 to {SEED_MAX}, got {self.seed!r}")
        for key in ("alarm", "history_alarm"):
            _check_alarm(where, key, getattr(self, key), getattr(self, f"{key}_level"))
        if self.overlap not in ("mean", "max"):
            raise ValueError(f"{where}: overlap must be 'mean' or 'max', got {self.overlap!r}")
        if self.preprocess not in PREPROCESS:
            raise ValueError(f"{where}: preprocess must be one of {PREPROCESS}, got {self.preprocess!r}")
        if not isinstance(self.params, dict):
            raise ValueError(f"{where}: params must be a mapping of detector arguments")
        if fitting and "random_state" in self.params:  # each group's fit is seeded from `seed`: it was replaced
            # (a models.json of an earlier version records it; scoring draws no seed)
            raise ValueError(f"{where}: random_state under params is not used: each group's detector is seeded "
                             f"from the run's seed and the group; set seed: {self.params['random_state']!r} (or "
                             "--seed) instead")
        return self

    def _check_types(self, where: str) -> None:
        """Each setting of the type its default has, so that a YAML slip (`seed: [1, 2]`,
        `min_clips: lots`) is named with its key instead of failing deep inside a fit."""
        kinds = {int: "a whole number", float: "a (finite) number", str: "a name", dict: "a mapping", bool: "true or false",
                 list: "a list"}
        for name, spec in self.__dataclass_fields__.items():
            value, default = getattr(self, name), spec.default
            kind = dict if name == "params" else list if name == "ignore_cells" else type(default)
            fits = finite_number(value) if kind is float else isinstance(value, kind)
            if (isinstance(value, bool) and kind is not bool) or not fits:
                example = "{...}" if kind is dict else "['2:0', '3:0']" if kind is list else default
                raise ValueError(f"{where}: {name} must be {kinds[kind]} (e.g. {name}: {example}), "
                                 f"got {value!r}")


def _plain(value):
    """`value` with numpy scalars and arrays as Python numbers and lists, mappings and lists within."""
    import numpy as np

    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    return value


def _differences(given, packaged, path: str) -> str:
    """Where `given` departs from `packaged`, key by key (`duad_by_features.motion.latent_dim: 8,
    packaged 4`): an edit of a copied configs/video.yaml was refused without saying which line."""
    if isinstance(given, dict) and isinstance(packaged, dict):
        out = []
        for key in list(packaged) + [k for k in given if k not in packaged]:
            if key not in given:
                out.append(f"{path}.{key} missing")
            elif key not in packaged:
                out.append(f"{path}.{key}: unknown key")
            elif given[key] != packaged[key]:
                out.append(_differences(given[key], packaged[key], f"{path}.{key}"))
        return "; ".join(out)
    if isinstance(packaged, dict):
        return f"{path}: {given!r}, not a mapping"
    return f"{path}: {given!r}, packaged {packaged!r}"


def load_config(path, **overrides) -> DetectConfig:
    """Read a YAML config (keys of `DetectConfig`; missing keys take the defaults);
    `overrides` that are not None win."""
    data: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        data = read_yaml(p)
        table = data.pop("duad_by_features", None)  # the packaged defaults' table, copied into the file
        if table is not None and table != DUAD_BY_FEATURES:
            raise ValueError(f"{p}: duad_by_features differs from the packaged defaults "
                             f"({_differences(table, DUAD_BY_FEATURES, 'duad_by_features')}); it is the table the "
                             "defaults come from, not a setting: put DUAD arguments under detector: params:")
        det = data.get("detector")
        if isinstance(det, dict):  # detector: {name: duad, params: {...}}
            extra = sorted(set(det) - {"name", "params"})
            if extra:  # `Name: pca` fell back to DUAD silently
                raise ValueError(f"{p}: unknown key(s) {['detector.' + k for k in extra]}; detector: takes name "
                                 "and params")
            if "params" in det and "params" in data:  # the one under detector: was dropped unread
                raise ValueError(f"{p}: params given twice, at the top and under detector:; give the detector's "
                                 "arguments once, under detector: params:")
            data["detector"] = det.get("name", "duad")
            params = det.get("params")  # null: none; `params: 0`, "" or false were taken as none in silence
            data.setdefault("params", {} if params is None else params)
        if isinstance(data.get("params"), dict) and isinstance(data.get("detector", "duad"), str):
            from videoad.detector import registry

            name = data.get("detector", "duad")
            if name in registry.names():  # an unknown name is DetectConfig.check's to say
                registry.check_arguments(name, data["params"], str(p), "detector: params", rules=name != "duad")
                if name == "duad":  # DUAD's own rules on what a fit gets: these over some kind's table
                    problems = []
                    for kind, table in DUAD_BY_FEATURES.items():
                        try:
                            registry.check_arguments(name, {**table, **data["params"]}, str(p),
                                                     f"detector: params (over the {kind} features' defaults)")
                        except ValueError as exc:
                            problems.append(exc)
                    if len(problems) == len(DUAD_BY_FEATURES):  # no features' defaults take them
                        raise problems[0]
        unknown = sorted(set(data) - set(DetectConfig.__dataclass_fields__))
        if unknown:
            raise ValueError(f"{p}: unknown setting(s) {unknown}; known: {sorted(DetectConfig.__dataclass_fields__)}")
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if "detector" in overrides and overrides["detector"] != data.get("detector", "duad") and "params" not in overrides:
        data["params"] = {}  # the file's parameters belong to its own detector
    if overrides:  # a bad option is the command line's, not the file's it is laid over
        DetectConfig(**overrides).check("the command line options")
    data.update(overrides)
    return DetectConfig(**data).check(str(path or "config"))


def with_device(cfg: DetectConfig, device: str) -> DetectConfig:
    """`cfg` with its detector fitted on `device` (cpu, cuda, cuda:N, auto): a torch detector's
    `device` argument, checked now rather than in the first group's fit."""
    from extract.device import resolve_device

    if "device" not in registry.detector_class(cfg.detector)._get_param_names():
        text = str(device).strip()
        if text.split(":")[0] == "cpu":  # where it runs anyway: a script passing --device cpu may switch to pca
            resolve_device(text)  # `cpu:abc` is refused, as for the torch detectors
            return cfg
        if text == "auto" and resolve_device("auto").type == "cpu":
            return cfg
        torch_ones = [n for n in registry.names() if "device" in registry.detector_class(n)._get_param_names()]
        raise ValueError(f"--device: detector {cfg.detector!r} runs on the CPU only; the ones that take a "
                         f"device are {', '.join(torch_ones)}")
    resolve_device(device)  # an unknown device or a missing GPU is an error here, with its reason
    return replace(cfg, params={**cfg.params, "device": str(device)}).check("--device")


def run_config(path=None, **overrides) -> DetectConfig:
    """The settings of `videoad run` / `videoad demo`: the packaged `videoad/defaults/run.yaml`
    over the detect defaults, then the file at `path` over both (a file with `seed: 1` alone
    switched run from pooled to detect's per-category grouping, in silence); `overrides` as
    `load_config`'s."""
    if path is None:
        return load_config(defaults_path("run"), **overrides)
    own = read_yaml(Path(path))
    run = read_yaml(defaults_path("run"))
    kept = {k: v for k, v in run.items() if k not in own and overrides.get(k) is None}
    if "detector" in own or overrides.get("detector") is not None:  # run's DUAD arguments go with its DUAD
        kept.pop("params", None)
    cfg = load_config(path, **overrides)
    return replace(cfg, **kept).check(str(path)) if kept else cfg


def config_text(cfg: DetectConfig) -> str:
    """The settings a run uses, as a YAML config file that `--config` reads back (with the
    packaged per-feature DUAD table, which applies under `params`)."""
    data = asdict(cfg)
    data["detector"] = {"name": data.pop("detector"), "params": data.pop("params")}
    text = dump(data)
    if cfg.detector == "duad":
        text += "# DUAD's arguments by kind of features (params above win over them):\n"
        text += dump({"duad_by_features": DUAD_BY_FEATURES})
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


def _check_alarm(where: str, key: str, rule: str, level) -> None:
    if rule not in ALARMS:
        raise ValueError(f"{where}: {key} must be one of {ALARMS}, got {rule!r}")
    if rule == "quantile" and not 0.0 < float(level) < 1.0:
        raise ValueError(f"{where}: {key}_level must be in (0, 1) for {key} quantile, got {level!r}")
    if rule in ("mad", "mirror", "lower") and not 0 < float(level) < math.inf:
        raise ValueError(f"{where}: {key}_level must be a finite number > 0 for {key} {rule}, got {level!r}")


def detector_params(cfg: DetectConfig, kind: str, history: bool = False) -> dict:
    """The detector's arguments for features of `kind`: DUAD takes the packaged defaults for that
    kind under the config's own `params`; a baseline takes its `params` alone.

    `history`: the fit is on footage the user declared normal (`--fit-on`). The selection then
    has little to remove, and what it removes are normal rows that are merely rare (a rare
    path, a rare position in the grid), which later score as anomalies; so DUAD drops only
    `history_drop` percent there (p0 = p), and its knn score compares with the `history_neighbors`
    nearest history rows; `params` that set p0, p or n_neighbors themselves win."""
    if cfg.detector != "duad":
        return dict(cfg.params)
    table = dict(DUAD_BY_FEATURES[kind])
    if history and float(cfg.history_drop) > 0:
        table.update(p0=float(cfg.history_drop), p=float(cfg.history_drop))
    if history and int(cfg.history_neighbors) > 0:
        table.update(n_neighbors=int(cfg.history_neighbors))
    return {**table, **cfg.params}
