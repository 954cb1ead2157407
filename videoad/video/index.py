"""models.json, the index of a model folder (`--save-model`), read with its shape checked, so that a
damaged or hand-edited one is an error naming the file and what is wrong, not a traceback."""
from __future__ import annotations

import json
import math
import re
from numbers import Real
from pathlib import Path
from typing import Mapping

from extract.scene import SCENE_SHAPE
from videoad.group_model import CELL_AGGREGATES, read_calibration, read_fitted_layout, scored_cells
from videoad.scores import cells_problem

MODELS_INDEX = "models.json"
#: the index's format (`format` in models.json; folders saved before it was written carry none)
MODELS_FORMAT = "videoad-models/1"
_SHA256 = re.compile(r"[0-9a-f]{64}")
REFIT = "fit the models again (`videoad detect ... --save-model DIR`)"


def read_index(model_dir) -> tuple[Path, dict]:
    """(path, index) of `model_dir`'s models.json: an object whose `config` is an object and whose
    `groups` is an object of model entries (`check_entry`); else a ValueError naming the file."""
    path = Path(model_dir) / MODELS_INDEX
    if not path.is_file():
        from videoad.output_kinds import run_part

        inside = run_part(model_dir, "models")  # a run's models are in its models/ (run with --fit-on)
        if inside and (Path(model_dir) / "models").is_dir():
            raise ValueError(inside)
        where = f"{inside} (`videoad run` saves them with --fit-on)" if inside else model_dir
        raise ValueError(f"{where}: no {MODELS_INDEX}; {REFIT}")
    try:
        index = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not valid JSON ({exc}); {REFIT}") from None
    if not isinstance(index, dict):
        raise ValueError(f"{path}: not a model index (a JSON {type(index).__name__}, not an object); {REFIT}")
    if index.get("format", MODELS_FORMAT) != MODELS_FORMAT:  # a later videoad's: read as this one's, misread
        raise ValueError(f"{path}: model index format {index['format']!r}, this videoad reads {MODELS_FORMAT!r} "
                         f"(written by videoad {index.get('version', '?')}): score with that version, or {REFIT}")
    for key in ("config", "groups"):
        if not isinstance(index.get(key), dict):
            raise ValueError(f"{path}: no {key!r} object; {REFIT}")
    if index.get("extraction") is not None:
        problem = _extraction_problem(index["extraction"])
        if problem:
            raise ValueError(f"{path}: its extraction record {problem}; {REFIT}")
    for group, entry in index["groups"].items():
        check_entry(entry, path, group)
    return path, index


def check_entry(entry, path, group: str) -> None:
    """A group's entry names its model files (`models`, a non-empty list of file names), its
    feature transform (`preprocess`) and its alarm line (`threshold`, a number), and a cell model
    its grid (`cell_grid`, two counts); else a ValueError naming `path` and the group."""
    def bad(what: str):
        return ValueError(f"{path}: group {group!r} {what}; {REFIT}")

    if not isinstance(entry, Mapping):
        raise bad(f"is a JSON {type(entry).__name__}, not a model entry")
    models = entry.get("models")
    if not isinstance(models, list) or not models or not all(isinstance(m, str) and m for m in models):
        raise bad("names no model files ('models': a list of file names)")
    if not isinstance(entry.get("preprocess"), str) or not entry["preprocess"]:
        raise bad("names no feature-transform file ('preprocess')")
    outside = [m for m in [*models, entry["preprocess"]] if not _bare_name(m)]
    if outside:  # "../other/all.s0.pt" loaded another folder's weights in silence
        raise bad(f"names {outside[0]!r}, not a file of the model folder (bare file names only)")
    pinned = entry.get("sha256")  # absent in folders saved before it
    if pinned is not None and not (isinstance(pinned, Mapping) and set(pinned) == {*models, entry["preprocess"]}
                                   and all(isinstance(h, str) and _SHA256.fullmatch(h) for h in pinned.values())):
        raise bad(f"has a damaged 'sha256' ({str(pinned)[:60]!r}: each model file's and the transform's sha256)")
    threshold = entry.get("threshold")
    if not _number(threshold):  # NaN (or inf) turned every alarm off in silence
        raise bad("has no alarm line ('threshold': a finite number)")
    for key, (ok, what) in _OPTIONAL.items():
        if key in entry and not ok(entry[key]):
            raise bad(f"has a damaged {key!r} ({str(entry[key])[:60]!r}: {what})")
    if entry.get("extraction") is not None:
        problem = _extraction_problem(entry["extraction"])
        if problem:
            raise bad(f"has an extraction record that {problem}")
    if entry.get("level", "clip") == "cell":
        grid = entry.get("cell_grid")
        if not (isinstance(grid, list) and len(grid) == 2 and all(isinstance(v, int) and v > 0 for v in grid)):
            raise bad("scores cells without their grid ('cell_grid': two counts)")
    for key in ("history_still_cells", "ignored_cells"):  # cells past the grid: an IndexError at scoring
        problem = cells_problem(path, group, key, entry[key], entry.get("cell_grid")) if key in entry else None
        if problem:
            raise ValueError(f"{problem}; {REFIT}")
    for key, read in (("fitted_layout", read_fitted_layout),  # read at loading, named here with the group
                      ("cell_calibration", lambda v: read_calibration(v, scored_cells(entry)))):
        if key in entry and (entry[key] is not None or key == "fitted_layout"):  # no calibration: null
            try:
                read(entry[key])
            except ValueError as exc:
                raise bad(f"has a damaged {key!r} ({str(entry[key])[:60]!r}: {exc})") from None


def _number(v, low: float = -math.inf) -> bool:
    return isinstance(v, Real) and not isinstance(v, bool) and math.isfinite(v) and v >= low


def _whole(v, low: int = 0) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= low


def _bare_name(name: str) -> bool:
    """A file name inside the folder: no folder part, not `.` or `..`."""
    return name not in (".", "..") and "/" not in name and "\\" not in name and Path(name).name == name


def _camera(v) -> bool:
    """A camera's picture entry (`videoad.cameras.camera_pictures`' form): a picture of another size
    failed `watch` as "cannot read its first frames" of the source, `detect --model` as a reshape."""
    return (isinstance(v, Mapping) and isinstance(v.get("scene"), list) and len(v["scene"]) == SCENE_SHAPE[0] * SCENE_SHAPE[1]
            and all(_number(x) for x in v["scene"])
            and (v.get("frame_size") is None or (isinstance(v["frame_size"], list) and len(v["frame_size"]) == 2
                                                 and all(_whole(x, 1) for x in v["frame_size"]))))


def _split(v) -> bool:
    """`videoad.coverage.activity_split`'s record: the busier videos, the quieter count, their ratio."""
    return (isinstance(v, Mapping) and isinstance(v.get("busier"), list) and all(isinstance(k, str) for k in v["busier"])
            and _whole(v.get("quieter")) and _number(v.get("ratio"), 0))


#: the optional keys of a group's entry that scoring reads, each with its check and what it must be
#: (a hand-edited or damaged value failed as a traceback at scoring, or in `watch` at the first clip)
_OPTIONAL = {
    "threshold_raw": (lambda v: v is None or _number(v), "a finite number"),
    "smooth": (lambda v: _number(v, 0), "seconds, a finite number >= 0"),
    # the scores' axis label and every event's unit (a list or number was printed as it stood)
    "score_unit": (lambda v: isinstance(v, str), "words"),
    "level": (lambda v: v in ("clip", "cell"), "'clip' or 'cell'"),
    "cell_aggregate": (lambda v: v in CELL_AGGREGATES, f"one of {CELL_AGGREGATES}"),
    "position": (lambda v: isinstance(v, bool), "true or false"),
    "n_seeds": (lambda v: _whole(v, 1), "a whole number >= 1"),
    "history_activity_peak": (lambda v: v is None or _number(v, 0), "a finite number >= 0"),
    "cell_region": (lambda v: isinstance(v, list) and len(v) == 4 and all(_number(x) for x in v),
                    "four numbers x0, y0, x1, y1"),
    "views": (lambda v: isinstance(v, Mapping) and all(_camera(c) for c in v.values()),
              "cameras' pictures by name"),
    "camera": (_camera, "a camera's picture"),
    # read only by the warning that the fitted footage mixes two levels of activity (a traceback there)
    "activity_split": (lambda v: v is None or _split(v), "the fitted footage's two levels of activity"),
}  # `activity_level`: checked where the levels are read (videoad.video.levels)


def _extraction_problem(ext) -> str | None:
    """What is wrong with an extraction record (how the history was cut and described), else None."""
    if not isinstance(ext, Mapping):
        return f"is a JSON {type(ext).__name__}, not an object"
    for key in ("clip_len", "stride"):  # None (or absent): a store written before it was recorded
        if ext.get(key) is not None and not _whole(ext[key], 1):
            return f"has {key} {ext[key]!r}, not a whole number >= 1"
    for key in ("fps", "sampled_fps", "target_fps", "max_fps"):
        if ext.get(key) is not None and not _number(ext[key], 0):
            return f"has {key} {ext[key]!r}, not a frame rate"
    if ext.get("options") is not None and not isinstance(ext["options"], Mapping):
        return "has options that are not an object"
    # what the scored footage is compared with (videoad.video.run.extraction_mismatch; watch warns, detect
    # refuses): a damaged one failed there as a ZeroDivisionError or TypeError traceback, a hand-edited
    # `repeat_share: true` said 100% of the history's frames repeat, `dim: true` a width of 1
    for key, (ok, what) in _EXTRACTION_SHAPES.items():
        if ext.get(key) is not None and not ok(ext[key]):
            return f"has {key} {repr(ext[key])[:60]}, not {what}"
    return None


_EXTRACTION_SHAPES = {
    "dim": (lambda v: _whole(v, 1), "a whole number >= 1"),
    "cell_grid": (lambda v: isinstance(v, list) and len(v) == 2 and all(_whole(x, 1) for x in v),
                  "two counts [rows, columns]"),
    "aspects": (lambda v: isinstance(v, list) and all(_number(x) and x > 0 for x in v),
                "a list of frame widths / heights"),
    "working_sizes": (lambda v: isinstance(v, list) and all(isinstance(s, list) and len(s) == 2
                                                            and all(_whole(x, 1) for x in s) for s in v),
                      "a list of [width, height] sizes"),
    "repeat_share": (lambda v: _number(v, 0) and v <= 1, "a share from 0 to 1"),
}
