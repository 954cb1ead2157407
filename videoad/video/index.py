"""models.json, the index of a model folder (`--save-model`), read with its shape checked, so that a
damaged or hand-edited one is an error naming the file and what is wrong, not a traceback."""
from __future__ import annotations

import json
from numbers import Real
from pathlib import Path
from typing import Mapping

MODELS_INDEX = "models.json"
REFIT = "fit the models again (`videoad detect ... --save-model DIR`)"


def read_index(model_dir) -> tuple[Path, dict]:
    """(path, index) of `model_dir`'s models.json: an object whose `config` is an object and whose
    `groups` is an object of model entries (`check_entry`); else a ValueError naming the file."""
    path = Path(model_dir) / MODELS_INDEX
    if not path.is_file():
        raise ValueError(f"{model_dir}: no {MODELS_INDEX}; {REFIT}")
    try:
        index = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not valid JSON ({exc}); {REFIT}") from None
    if not isinstance(index, dict):
        raise ValueError(f"{path}: not a model index (a JSON {type(index).__name__}, not an object); {REFIT}")
    for key in ("config", "groups"):
        if not isinstance(index.get(key), dict):
            raise ValueError(f"{path}: no {key!r} object; {REFIT}")
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
    threshold = entry.get("threshold")
    if not isinstance(threshold, Real) or isinstance(threshold, bool):
        raise bad("has no alarm line ('threshold': a number)")
    if entry.get("level", "clip") == "cell":
        grid = entry.get("cell_grid")
        if not (isinstance(grid, list) and len(grid) == 2 and all(isinstance(v, int) and v > 0 for v in grid)):
            raise bad("scores cells without their grid ('cell_grid': two counts)")
