"""The settings of `videoad extract` as a YAML file: what it may hold, its defaults, and how it
becomes the arguments of `extract.backbones.get_backbone` and `extract.run.ExtractOptions`.

The `extract` package never imports `videoad`, so the file and its schema live here and the
command translates them. Defaults are written once, in code: `ExtractOptions`' field defaults
(extract/run.py) and `BACKBONE` below. `defaults()` reads them; the packaged
videoad/defaults/extract.yaml is *generated* from them (it is what `videoad extract
--print-config` prints with no options; tests/test_config.py keeps the two equal, and
configs/extract.yaml is its copy). This direction was chosen over making the YAML the source
because `ExtractOptions`' defaults are also what `videoad run` and library callers get: a YAML
source would have left them written twice. Backbone options have no defaults here: each
backbone's constructor holds its own, and only what a file or an option names is passed.

Precedence: options given on the command line > the --config file > the defaults.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from extract.clips import MAX_PLAUSIBLE_FPS
from videoad.config import ANY, ConfigError, ListOf, Map, Nullable, check_values, dump_commented, layered

#: the backbone when neither a file nor --backbone names one
BACKBONE = "motion"

#: `ExtractOptions` fields a settings file holds (the rest are per run: overwrite, shard, progress)
FIELDS = ("stride", "tail", "target_fps", "max_fps", "image_fps", "workers", "batch_size", "decode_timeout",
          "decoders", "dtype", "recursive", "prefetch")

#: what a file may hold, and of which kind (videoad.config.check)
SCHEMA = {
    "backbone": {"name": str, "options": Map(ANY)},
    "stride": Nullable(int),
    "tail": str,
    "target_fps": Nullable(float),
    "max_fps": Nullable(float),
    "image_fps": Nullable(float),
    "workers": int,
    "batch_size": int,
    "decode_timeout": float,
    "decoders": ListOf(str),
    "dtype": str,
    "recursive": bool,
    "prefetch": int,
}

_POSITIVE = (lambda v: math.isfinite(v) and v > 0, "a finite number > 0")
_ONE_UP = (lambda v: v >= 1, ">= 1")
#: the longest stride (frames): 10^30 passed and every video failed at the feature write (HDF5 holds
#: 64-bit integers); 2^31 - 1 frames is over 2 years of 30 fps video, longer than any file
MAX_STRIDE = 2**31 - 1
#: the longest decode timeout (seconds): a week, as --decode-timeout (videoad.cli.settings.MAX_SECONDS)
MAX_DECODE_TIMEOUT_S = 7 * 24 * 3600.0
#: the most decode worker processes, as videoad.video.config.MAX_THREADS bounds the processes of one run
#: (one starts per video to extract, each of about 110 MB)
MAX_WORKERS = 1024
RULES = {
    "stride": (lambda v: 1 <= v <= MAX_STRIDE, f"a number of frames >= 1, at most {MAX_STRIDE}"), "workers": (lambda v: 1 <= v <= MAX_WORKERS, f">= 1, at most {MAX_WORKERS}"), "batch_size": _ONE_UP, "prefetch": _ONE_UP,
    # at most a plausible camera's rate: a million frames a second made a run that never ended
    "target_fps": (lambda v: math.isfinite(v) and 0 < v <= MAX_PLAUSIBLE_FPS,
                   f"a number of frames a second > 0, at most {MAX_PLAUSIBLE_FPS:g}"),
    "max_fps": (lambda v: math.isfinite(v) and v >= 0, "a finite number >= 0"),
    "image_fps": _POSITIVE,
    # a week at most, as --decode-timeout takes: 1e30 passed the file and overflowed the wait
    "decode_timeout": (lambda v: math.isfinite(v) and 0 < v <= MAX_DECODE_TIMEOUT_S,
                       f"a number of seconds > 0, at most {MAX_DECODE_TIMEOUT_S:g} (a week)"),
    "tail": (lambda v: v in ("drop", "pad"), "drop or pad"),
    "dtype": (lambda v: v in ("float32", "float16"), "float32 or float16"),
    # each a decoder of extract.decode's or package.module:function: `decrod` failed only when the first gave up
    "decoders": (lambda v: len(v) > 0 and all(d in _decoder_names() or ":" in d for d in v),
                 "a non-empty list of pyav, decord, opencv or package.module:function"),
}

def _decoder_names() -> tuple[str, ...]:
    from extract.decode import BUILTIN_DECODERS

    return tuple(BUILTIN_DECODERS)


HEADER = """\
# Settings of `videoad extract` (--config FILE; options given on the command line win).
# Generated from the code defaults (extract.run.ExtractOptions): `videoad extract --print-config`
# prints this file; edit a copy. Per-run choices (--overwrite, --shard, -q) are options only.
"""

COMMENTS = {
    "backbone": "name: a registered backbone (motion needs no weights; c3d, r3d_18, x3d_s ... do)\n"
                "options: its get_backbone arguments (device, weights, layer, random_init, size, ...);\n"
                "  what is not given takes the backbone's own default",
    "stride": "frames between clip starts; null: the backbone's (4 for motion, the clip length for learned ones)",
    "tail": "frames after the last full clip: drop, or pad a last clip",
    "target_fps": "resample videos to this frame rate before cutting clips (null: keep theirs, up to max_fps)",
    "max_fps": "resample only videos faster than this to this rate; null: the backbone's (10\n"
               "  for motion, none for the learned ones); 0: keep every video's own rate",
    "image_fps": "frame rate of image-sequence folders, and of raw .264/.h265 streams whose VUI\n"
                 "  timing states none (else 25, warned) (stored; folders need it with target_fps)",
    "workers": "decode worker processes",
    "batch_size": "clips per backbone forward pass",
    "decode_timeout": "seconds without decode progress before a decoder is killed and the next tried",
    "decoders": "decoders to try in order (or package.module:function)",
    "dtype": "float32, or float16 to store features at half size",
    "recursive": "look for videos in all subfolders",
    "prefetch": "preprocessed clips a decode worker may hold ahead of the backbone",
}


def defaults() -> dict:
    """The settings with no file and no options, read from the code defaults (a fresh copy)."""
    from dataclasses import fields

    from extract.run import ExtractOptions

    code = {f.name: f.default for f in fields(ExtractOptions)}
    out: dict[str, Any] = {"backbone": {"name": BACKBONE, "options": {}}}
    for name in FIELDS:
        value = code[name]
        out[name] = list(value) if isinstance(value, tuple) else value
    return out


def load(path=None, given: Mapping | None = None) -> dict:
    """The settings: the defaults, the file at `path` (checked), then `given` (the command-line
    options, in the file's layout). When `given` names a different backbone than the file, the
    file's backbone options are dropped: they belong to the file's backbone; when it gives max_fps
    alone, the file's target_fps is dropped: it would win over the option's cap."""
    given = dict(given or {})
    where = str(path) if path is not None else "videoad/defaults/extract.yaml"
    cfg = layered(defaults(), path, SCHEMA)
    check_values(cfg, RULES, where)
    _check_backbone(cfg["backbone"], where)
    check_options(given)  # `--max-fps inf` reached the manifest's JSON
    new_name = (given.get("backbone") or {}).get("name")
    if new_name is not None and new_name != cfg["backbone"]["name"]:
        cfg["backbone"]["options"] = {}
    if given.get("max_fps") is not None and "target_fps" not in given:  # the file's target_fps beat the
        cfg["target_fps"] = None  # option, as target_fps wins over max_fps: --max-fps 3 resampled to its 5
    return layered(cfg, None, SCHEMA, given)


def check_options(given: Mapping) -> None:
    """The extraction options given on a command line (extract's, and run's, which has no settings file
    of them), against the file's RULES: run's `--stride 1e30` failed every video at the feature write."""
    check_values(given, RULES, "the command line options")


def _check_backbone(backbone: Mapping, where: str) -> None:
    from extract.weights import weights_value_problem

    weights = backbone["options"].get("weights")
    if weights is None:
        return
    if backbone["name"] == "motion":
        raise ConfigError(f"{where}: backbone.options.weights needs a learned backbone (backbone.name: c3d, "
                          "r3d_18, ...); motion has no weights")
    problem = weights_value_problem(str(weights))
    if problem:
        raise ConfigError(f"{where}: backbone.options.weights: {problem}")


def text(cfg: Mapping) -> str:
    """The settings as the YAML file that `--config` reads back (comments included)."""
    return dump_commented(cfg, COMMENTS, HEADER)


def backbone_args(cfg: Mapping) -> tuple[str, dict]:
    """(name, keyword arguments) for `get_backbone`: the options that are not null."""
    b = cfg["backbone"]
    return b["name"], {k: v for k, v in (b["options"] or {}).items() if v is not None}


def extract_options(cfg: Mapping, **per_run: Any):
    """`ExtractOptions` with every file setting from `cfg` and the per-run ones (overwrite,
    shard, progress) from `per_run`."""
    from extract.run import ExtractOptions

    values = {name: cfg[name] for name in FIELDS}
    values["decoders"] = tuple(values["decoders"])
    return ExtractOptions(**values, **per_run)
