"""The one registry of detectors: a name, where its class lives, how tables label it, whether a
fitted one can be saved, and which benchmarks add it on their own.

Everything that names a detector reads this table: `videoad detect` (`detector:` in a config,
`--detector` and its help text), the group model (`make`), both benchmarks (`videoad bench
kddcup`, `videoad bench images`: a config's `baselines:` entries resolve here), the scaling
benchmark, and persistence (`save_detector` stores the class path registered here, and
`load_detector` only builds classes registered as saving).

Adding a detector is one `register(...)` line below (or a call from your own code before the
command runs): a class with the estimator contract of `videoad.detector.base.BaseDetector`
(`fit(X)` sets `decision_scores_`; `decision_function(X)`; scikit-learn's `get_params`). The
class is named by a lazy "module:Class" string, so importing the registry imports no detector.

One spelling: `name` ("pca") is what configs and the command line say; `label` ("PCA") is what
result tables and help texts print. A benchmark config may still give a row its own name with
its own arguments (the KDDCUP99 table's "PCA-4" is `{detector: pca, n_components: 4}`).
"""
from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping
from dataclasses import dataclass

from videoad.config import finite_number

#: the benchmarks whose method list a registry entry can join (`benches`)
BENCHES = ("kddcup", "images")


@dataclass(frozen=True)
class DetectorSpec:
    """One registered detector.

    name : the one spelling in configs and on the command line ("pca").
    target : "module:Class", imported on first use.
    label : how result tables and help texts name it ("PCA").
    saves : whether a fitted one can be written by `save_detector` (and so kept by
        `videoad detect --save-model`); it needs `_json_attrs` / `_array_attrs` and, for a
        torch model, `model_` and `_build_model()` (`videoad.detector.torch_base`).
    benches : benchmarks that run it beside their configured baselines, with its default
        arguments, when their config does not name it already (the shipped baselines are
        named with their arguments in the bench configs instead).
    summary : a few words for help texts.
    """

    name: str
    target: str
    label: str
    saves: bool = False
    benches: tuple[str, ...] = ()
    summary: str = ""

    def load(self) -> type:
        """The class (its module is imported now)."""
        module, _, attr = self.target.partition(":")
        try:
            obj = importlib.import_module(module)
            for part in attr.split("."):
                obj = getattr(obj, part)
        except (ImportError, AttributeError) as exc:
            raise ValueError(f"detector {self.name!r}: cannot import {self.target!r} ({exc})") from exc
        return obj


_REGISTRY: dict[str, DetectorSpec] = {}


def class_path(cls: type) -> str:
    """"module:Class" of a class, the form the registry and model files use."""
    return f"{cls.__module__}:{cls.__qualname__}"


def register(name: str, target: str | type, label: str | None = None, *, saves: bool = False,
             benches=(), summary: str = "", replace: bool = False) -> DetectorSpec:
    """Add a detector; `target` is "module:Class" (or the class itself). Returns its entry."""
    if not isinstance(name, str) or not name or name != name.strip():
        raise ValueError(f"a detector name must be a non-empty word, got {name!r}")
    if isinstance(target, type):
        target = class_path(target)
    if ":" not in str(target):
        raise ValueError(f"detector {name!r}: target must be 'module:Class', got {target!r}")
    benches = tuple(benches)
    bad = [b for b in benches if b not in BENCHES]
    if bad:
        raise ValueError(f"detector {name!r}: unknown bench(es) {bad}; known: {list(BENCHES)}")
    spec = DetectorSpec(name, str(target), label or name, bool(saves), benches, summary)
    if not replace:
        for other in _REGISTRY.values():
            if other.name == name:
                raise ValueError(f"detector {name!r} is registered already (replace=True to change it)")
            if other.label == spec.label:
                raise ValueError(f"detector label {spec.label!r} is taken by {other.name!r}")
    _REGISTRY[name] = spec
    return spec


def unregister(name: str) -> None:
    """Remove a detector (tests and plugins that registered one)."""
    _REGISTRY.pop(name, None)


def names() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def specs() -> tuple[DetectorSpec, ...]:
    return tuple(_REGISTRY.values())


def get(name: str) -> DetectorSpec:
    """The entry of a registered name; an unknown one is an error that lists the names."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown detector {name!r}; choose one of {list(_REGISTRY)}") from None


def find(key: str) -> DetectorSpec | None:
    """The entry whose name or label is `key`, or None."""
    if key in _REGISTRY:
        return _REGISTRY[key]
    return next((s for s in _REGISTRY.values() if s.label == key), None)


def portable(name: str) -> dict | None:
    """The entry of `name` as plain data (None when it is not registered here), for a worker
    process to `adopt`: a fresh process knows only the entries registered at import time."""
    spec = _REGISTRY.get(name)
    return None if spec is None else {"name": spec.name, "target": spec.target, "label": spec.label,
                                      "saves": spec.saves, "benches": list(spec.benches), "summary": spec.summary}


def adopt(entry: dict | None) -> None:
    """Register a `portable` entry in this process unless its name is registered already."""
    if entry is not None and entry["name"] not in _REGISTRY:
        register(entry["name"], entry["target"], entry["label"], saves=entry["saves"], benches=entry["benches"],
                 summary=entry["summary"])


def detector_class(name: str) -> type:
    return get(name).load()


def check_arguments(name: str, params: Mapping | None, where: str, what: str, rules: bool = True) -> None:
    """Constructor arguments a config gives a registered detector, checked when the config is read
    (`make` checks them again when it builds one): a misspelt one, or a value not of its default's
    kind (`lr: one`), is an error naming the file (`where`) and the entry (`what`), before any work;
    with `rules`, so is what the detector's own checks refuse (`rules=False` for arguments laid
    over others, a benchmark's variants: alone they are not the detector's whole settings)."""
    cls = detector_class(name)
    valid = cls._get_param_names()
    params = dict(params or {})
    bad = sorted(map(str, set(params) - set(valid)))
    if bad:
        raise ValueError(f"{where}: {what}: unknown argument(s) {bad} of detector {name!r}; it takes {valid}")
    defaults = {k: p.default for k, p in inspect.signature(cls.__init__).parameters.items()}
    for key, value in params.items():
        problem = _kind_problem(value, defaults.get(key, inspect.Parameter.empty))
        if problem:
            raise ValueError(f"{where}: {what}: {key} {problem}, got {value!r}")
    seed = params.get("random_state")
    if seed is not None:  # `random_state: true` or `1.5` passed the read and failed at the fit
        from videoad.detector.base import resolve_seed

        try:
            resolve_seed(seed)
        except ValueError as exc:
            raise ValueError(f"{where}: {what}: {exc} (a seed is a whole number, or null to draw one)") from None
    check = getattr(cls, "_check_params", None) if rules else None
    if check is not None:  # the detector's own rules (ranges, names, the clusterer's arguments), before any work
        try:
            made = cls(**params)
            check(made)
            # the share every detector takes (`contamination: true` or 5 passed the read of a
            # baseline's row and failed at its fit, after the data was read)
            getattr(made, "_check_contamination", lambda: None)()
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{where}: {what}: {exc}") from None


def _kind_problem(value, default) -> str | None:
    """What is wrong with `value` for an argument whose default is `default`, judged by the
    default's kind (a number where a number goes, true/false where a flag goes), else None."""
    if isinstance(default, bool):
        return None if isinstance(value, bool) or value in (0, 1) else "must be true or false"
    if isinstance(default, (int, float)) and value is not None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return "must be a number"
        if not finite_number(value):
            return "must be a finite number"
    return None


def make(name: str, params: Mapping | None = None, seed: int | None = None):
    """A detector by registry name with its constructor `params` (random_state = seed when the
    class takes one); an argument the class does not take is an error that lists what it takes."""
    cls = detector_class(name)
    kwargs = dict(params or {})
    valid = cls._get_param_names()
    if seed is not None and "random_state" in valid:
        kwargs["random_state"] = int(seed)
    bad = sorted(set(kwargs) - set(valid))
    if bad:
        raise ValueError(f"detector {name!r} has no parameter(s) {bad}; it takes {valid}")
    return cls(**kwargs)


def spec_of(obj) -> DetectorSpec | None:
    """The entry registered for a detector (or its class), matched by class path."""
    cls = obj if isinstance(obj, type) else type(obj)
    path = class_path(cls)
    return next((s for s in _REGISTRY.values() if s.target == path), None)


def saving_class(stored: str) -> type:
    """The class a model file names, only if it is registered as saving: "module:Class", or a
    bare class name ("DUAD", "DAGMM") as files written before the registry recorded it."""
    for spec in _REGISTRY.values():
        if not spec.saves:
            continue
        if spec.target == stored or (":" not in stored and spec.target.rpartition(":")[2] == stored):
            return spec.load()
    known = [s.target for s in _REGISTRY.values() if s.saves]
    raise ValueError(f"unknown detector class {stored!r} (the registered detectors that save: {known})")


def savers() -> tuple[str, ...]:
    return tuple(s.name for s in _REGISTRY.values() if s.saves)


def help_text(default: str | None = None) -> str:
    """"name (Label), ..." of every registered detector, for option help."""
    parts = []
    for s in _REGISTRY.values():
        bits = [s.label] if s.label != s.name else []
        if s.name == default:
            bits.append("default")
        parts.append(s.name + (f" ({', '.join(bits)})" if bits else ""))
    return ", ".join(parts)


# ---------------------------------------------------------------------------------------------
# the detectors that ship with videoad: one line each
register("duad", "videoad.detector.duad:DUAD", "DUAD", saves=True,
         summary="the paper's clustering-selected autoencoder")
register("pca", "videoad.baselines.sklearn_baselines:PCARecon", "PCA", summary="PCA reconstruction error")
register("iforest", "videoad.baselines.sklearn_baselines:IForest", "IsolationForest", summary="Isolation Forest")
register("dagmm", "videoad.baselines.dagmm:DAGMM", "DAGMM", saves=True, summary="DAGMM (Zong et al. 2018)")
register("ocsvm", "videoad.baselines.sklearn_baselines:OCSVM", "OC-SVM", summary="one-class SVM")
register("knn", "videoad.baselines.sklearn_baselines:KNNDist", "kNN", summary="distance to the k-th nearest row")
register("dc", "videoad.baselines.dc_alone:DCAlone", "DC alone", summary="Distribution Clustering alone")
