"""Save and load fitted detectors as tensors plus a JSON description, never a pickle.

One file, written with `torch.save` but containing only tensors, strings and numbers, so that
`torch.load(weights_only=True)` reads it back without unpickling arbitrary objects. The file
names the detector's class by its path ("module:Class"); loading builds only classes the
detector registry (`videoad.detector.registry`) lists as saving, so a file cannot make this
code import anything else. What is stored: the constructor arguments, the attributes a class
lists in `_json_attrs` (JSON) and `_array_attrs` (arrays), the state of its torch model
(`model_`, rebuilt by `_build_model()`) when it has one, and a `set_output` choice. A torch
model goes back onto the device it was trained on when that device exists, else onto the CPU
(with a warning), unless the caller names a device.
"""
from __future__ import annotations

import io
import json
import logging
import pickle
import re
import zipfile
from pathlib import Path

import numpy as np
import torch

from extract.store import write_atomic
from extract.weights import cut_short_zip, damaged_record, refused_object
from videoad.detector import registry

log = logging.getLogger(__name__)

FORMAT = "videoad-detector/1"


def _json_default(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, (np.ndarray, tuple)):
        return list(value.tolist() if isinstance(value, np.ndarray) else value)
    raise TypeError(f"cannot store {type(value).__name__} in the model description")


def _strip_arrays(value):
    """History entries may carry selection masks (kept in memory only, for purity plots)."""
    if isinstance(value, list):
        return [{k: v for k, v in e.items() if not isinstance(v, np.ndarray)} if isinstance(e, dict) else e
                for e in value]
    return value


def _fitted_state(det, meta: dict) -> dict:
    """What one fitted model keeps: its JSON attributes (into `meta`), arrays and torch state, and
    the same for each model it scores with (`members_`: DUAD restarts, snapshots; nested when
    restarts keep several attempts that each keep snapshots)."""
    meta = {**meta, "attrs": {name: _strip_arrays(getattr(det, name)) for name in det._json_attrs
                              if hasattr(det, name)}}
    arrays = {name: torch.from_numpy(np.ascontiguousarray(getattr(det, name))) for name in det._array_attrs
              if getattr(det, name, None) is not None}
    state = {"meta_json": json.dumps(meta, default=_json_default), "arrays": arrays}
    model = getattr(det, "model_", None)
    if isinstance(model, torch.nn.Module):
        state["state_dict"] = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    members = getattr(det, "members_", None)
    if members:
        state["members"] = [_fitted_state(m, {}) for m in members]
    return state


def _restore(det, state: dict, path: Path, device: str | None, params: dict | None = None):
    """Set what `_fitted_state` wrote onto a freshly built `det` (its members' onto detectors built
    from `params`); returns it."""
    if state.get("members"):
        det.members_ = [_restore(type(det)(**params), m, path, device, params) for m in state["members"]]
    for name, value in json.loads(state["meta_json"])["attrs"].items():
        if name == "feature_names_in_" and value is not None:  # scikit-learn's kind: an object array
            value = np.asarray(value, dtype=object)
        setattr(det, name, value)
    for name, tensor in state["arrays"].items():
        setattr(det, name, tensor.numpy())
    if "state_dict" not in state:
        return det
    trained_on = det.device_
    if device is None:
        device = trained_on
        if device.startswith("cuda") and not torch.cuda.is_available():
            log.warning("%s was trained on %s, which is not available here; loading onto the CPU", path, device)
            device = "cpu"
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"{path}: device {device!r} asked for, but this torch has no usable CUDA "
                         "(load with device='cpu', or leave device out)")
    det.device_ = device
    try:  # the network its settings build must take the weights and rows of the recorded width
        det.model_ = det._build_model().to(device)
        det.model_.load_state_dict(state["state_dict"], strict=True)
        det.model_.eval()
        width = getattr(det, "n_features_in_", None)
        if width is not None:
            with torch.no_grad():
                det.model_(torch.zeros(1, int(width), device=device))
    except (RuntimeError, ValueError, TypeError, KeyError) as exc:
        first = (str(exc).strip().splitlines() or [""])[0]
        raise ValueError(f"{path}: its network does not match its recorded settings (a damaged file, or one "
                         f"written by another version of videoad): {first}") from None
    return det


def save_detector(det, path) -> Path:
    """Write a fitted detector (one the registry lists as saving) to `path` atomically."""
    spec = registry.spec_of(det)
    if spec is None or not spec.saves:
        raise ValueError(f"{type(det).__name__} cannot be saved (the registered detectors that save: "
                         f"{', '.join(registry.savers())})")
    if not hasattr(det, "decision_scores_"):
        raise ValueError(f"{type(det).__name__} is not fitted; nothing to save")
    det._check_unchanged()  # the settings recorded must be those the model was fitted with
    params = det.get_params()
    if hasattr(det, "seed_"):
        # a Generator is not JSON; the seed it produced is: the first attempt's, where restarts kept
        # a later one (whose seed_ the detector holds), so that the saved parameters fit the same again
        attempts = getattr(det, "restarts_", None)
        params["random_state"] = int(attempts[0]["seed"]) if attempts else det.seed_
    meta = {"format": FORMAT, "class": spec.target, "params": params}
    tuples = sorted(k for k, v in params.items() if isinstance(v, tuple))
    if tuples:  # JSON writes a tuple as a list: named, so that `load` gives back what get_params gave
        meta["tuples"] = tuples
    output = (getattr(det, "_sklearn_output_config", None) or {}).get("transform")
    if isinstance(output, str):  # set_output(transform="pandas"), as pickling keeps it
        meta["output"] = {"transform": output}
    payload = _fitted_state(det, meta)
    path = Path(path)
    # serialized in memory, written by Python (`write_atomic`): torch's own writer met a full disk
    # with a RuntimeError ("unexpected pos") that `detect --save-model` showed as a traceback, and
    # left its half file behind; now it is the OutputError naming the file, as every other write
    buf = io.BytesIO()
    torch.save(payload, buf)
    write_atomic(path, buf.getbuffer())
    return path


def _checked_params(cls: type, params, path: Path) -> dict:
    """The constructor arguments a file stores, when this version's `cls` takes them: a setting it
    does not know (a file written by a newer videoad) failed as a TypeError from the constructor,
    and a value its checks refuse (a newer version's new option, `score="..."`) loaded and scored
    in silence as something else."""
    if not isinstance(params, dict):
        raise ValueError(f"{path}: not a videoad model file (its settings are {type(params).__name__}, not a mapping)")
    unknown = sorted(map(str, set(params) - set(cls._get_param_names())))
    if unknown:
        raise ValueError(f"{path}: written by another version of videoad: {cls.__name__} here takes no setting(s) "
                         f"{unknown}; load it with the version that saved it (or fit it again)")
    check = getattr(cls, "_check_params", None)
    if check is not None:
        try:
            check(cls(**params))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{path}: its settings are not valid in this version of videoad ({exc}); load it with "
                             "the version that saved it (or fit it again)") from None
    return params


def load_detector(path, device: str | None = None):
    """Read a detector written by `save_detector`; `device` overrides where it goes."""
    path = Path(path)
    if not path.is_file():  # a folder was called missing
        raise ValueError(f"{path}: " + ("a folder, not a model file" if path.is_dir() else "no such model file"))
    if path.stat().st_size == 0:  # torch's EOFError said "not a videoad model file (EOFError: )"
        raise ValueError(f"{path}: the file is empty (0 bytes), not a model (a save or copy that failed?)")
    if cut_short_zip(path):  # torch said "[Errno 22] Invalid argument"
        raise ValueError(f"{path}: cut short: a model file's zip without its end (a save or copy interrupted); "
                         "save the model again (or restore the file)")
    damaged = damaged_record(path)
    if damaged:  # torch.load reads a zip's records without their checksums: altered bytes loaded as weights
        raise ValueError(f"{path}: damaged: its record {damaged} fails its checksum (a copy cut short or altered on "
                         "disk); save the model again (or restore the file)")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        meta = json.loads(payload["meta_json"])
    except pickle.UnpicklingError as exc:  # never repeat torch's advice to load it unsafely
        if not re.search(r"GLOBAL [\w.]+", str(exc)):  # no object refused: bytes that are no torch file
            raise ValueError(f"{path}: not a videoad model file (corrupt, or another kind of file)") from None
        raise ValueError(f"{path}: not a videoad model file: it holds {refused_object(exc)} beyond "
                         "tensors, never loaded here (unpickling could run code from the file)") from None
    except Exception as exc:  # torch raises several types for foreign or corrupt files
        if not zipfile.is_zipfile(path):  # a model is a zip: torch's error on other bytes (IndexError: pop
            # from empty list, KeyError: 252, a UnicodeDecodeError) said nothing of the file
            raise ValueError(f"{path}: not a videoad model file (corrupt, or another kind of file)") from None
        first = (str(exc).strip().splitlines() or [""])[0]
        raise ValueError(f"{path}: not a videoad model file ({exc.__class__.__name__}: {first})") from exc
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: unknown model format {meta.get('format')!r} (expected {FORMAT})")
    try:
        cls = registry.saving_class(str(meta.get("class")))
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    params = meta.get("params")
    if isinstance(params, dict) and isinstance(meta.get("tuples"), list):  # DAGMM's hidden_dims=(60, 30, 10)
        params = {k: tuple(v) if k in meta["tuples"] and isinstance(v, list) else v for k, v in params.items()}
    params = _checked_params(cls, params, path)
    det = _restore(cls(**params), payload, path, device, params)
    # the settings it was saved with are those it was fitted with (`save` refuses others): set_params
    # on a loaded model is refused at scoring as on a fitted one (`BaseDetector._check_unchanged`)
    det.fit_params_ = det.get_params(deep=False)
    if meta.get("output") and hasattr(det, "set_output"):
        det.set_output(**meta["output"])
    return det
