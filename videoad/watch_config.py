"""The settings of `videoad watch` as a YAML file: what it may hold, its defaults, and how it
becomes the arguments of `videoad.live`.

Defaults are written once, in code: `videoad.live.WatchOptions` (and the `EventSettings` it
holds), `videoad.live.make_source` and `videoad.live.WatchModel.load`. `defaults()` reads them;
the packaged videoad/defaults/watch.yaml is *generated* from them (what `videoad watch
--print-config` prints with no options; tests/test_config.py keeps the two equal, and
configs/watch.yaml is its copy). The code stays the source because `WatchOptions` is also the
library's default for `live.watch`: a YAML source would have written each default twice.

What the features are made with (backbone, its options, clip length, stride) is not here: watch
reads it from the model folder, so that live clips are made as the fitted ones were.

Precedence: options given on the command line > the --config file > the defaults.
"""
from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from extract.device import ACCEPTED, check_device_text
from videoad.config import ConfigError, Nullable, check_values, dump_commented, layered
from videoad.live.outputs import _WAIT, KEEP_DAYS_MAX, MAX_WAIT_S, OPTION_RULES  # noqa: F401

#: `WatchOptions` fields that are not settings of a file (--quiet says it)
_PER_RUN = ("events", "progress")
#: `make_source` and `WatchModel.load` arguments a file holds
SOURCE_ARGS = ("realtime", "timeout", "poll_s", "settle_s", "image_fps")
MODEL_ARGS = ("group", "device")

SCHEMA = {
    "events": {"merge_gap_s": float, "min_length_s": float},
    "sources": {"realtime": bool, "timeout": float, "poll_s": float, "settle_s": float, "image_fps": Nullable(float)},
    "model": {"group": Nullable(str), "device": Nullable(str)},
    "max_lag_s": float,
    "retries": Nullable(int),
    "backoff_s": float,
    "backoff_max_s": float,
    "batch_size": int,
    "frame_queue": int,
    "frame_queue_mb": int,
    "on_event": Nullable(str),
    "post": Nullable(str),
    "hook_timeout_s": float,
    "hook_queue": int,
    "clip_scores": bool,
    "images": bool,
    "warn_every_s": float,
    "cell_sample": int,
    "smooth": bool,
    "keep_days": Nullable(float),
}


def _device_ok(value) -> bool:
    """Whether `value` is a device setting `extract.device` understands (checked, as DUAD's device)."""
    try:
        check_device_text(value)
    except ValueError:
        return False
    return True


_WAIT_OR_ZERO = (lambda v: math.isfinite(v) and 0 <= v <= MAX_WAIT_S, f"a number of seconds >= 0, at most {MAX_WAIT_S:g} (a week)")
#: the WatchOptions settings' ranges (videoad.live.outputs, where `WatchOptions.check` reads them too)
#: and those of the events and the sources
RULES = {
    # a week at most, as --merge-gap and --min-event (1e30 passed the file, and dropped every event)
    "events.merge_gap_s": _WAIT_OR_ZERO, "events.min_length_s": _WAIT_OR_ZERO,
    "sources.timeout": _WAIT, "sources.poll_s": _WAIT, "sources.settle_s": _WAIT_OR_ZERO,
    "sources.image_fps": (lambda v: math.isfinite(v) and v > 0, "a finite number > 0"),
    # the form of a learned backbone's device: `abc` passed --print-config and failed later, naming no file
    "model.device": (_device_ok, ACCEPTED),
    **OPTION_RULES,
}


HEADER = """\
# Settings of `videoad watch` (--config FILE; options given on the command line win).
# Generated from the code defaults (videoad.live): `videoad watch --print-config` prints this
# file; edit a copy. How features are made comes from the model folder, not from here.
"""

COMMENTS = {
    "events": "how clip scores become events: runs at most merge_gap_s apart join; shorter than "
              "min_length_s are dropped",
    "sources": "realtime: read files at their own frame rate; timeout: seconds a stream may stay silent\n"
               "(or take to open) before it counts as dropped; poll_s: seconds between looks into a folder;\n"
               "settle_s: seconds a folder's file must keep its size and time before it is taken (still written); with\n"
               "--once, one still written after that wait is left for the next run (0: take every file at once);\n"
               "image_fps: frame rate of raw .264/.h265 files whose VUI timing states none (null: the rate of\n"
               "the models' footage, else 25; either warned)",
    "model": "group: which group's model when the folder holds several (null: the only one, else pooled);\n"
             "device: of a learned backbone's forward pass (null: as recorded)",
    "max_lag_s": "live sources: drop (and count) clips whose last frame arrived longer ago than this",
    "retries": "give a stream up after retries+1 failed attempts in a row to open it (null: keep trying)",
    "backoff_s": "seconds before the first reopen attempt; doubled after each failure, at most backoff_max_s",
    "batch_size": "clips scored together when the scorer is behind",
    "frame_queue": "decoded frames waiting for the scorer, per source",
    "frame_queue_mb": "... and at most this many MB of them (1 MB = 10^6 bytes; two frames always pass): the\n"
                      "default holds 64 frames of 1080p, 16 of 4K; the sources' queues together take at most\n"
                      "this times the number of sources",
    "on_event": "shell command run for every event record, the record's JSON on its standard input",
    "post": "URL the same records are POSTed to as JSON",
    "hook_timeout_s": "seconds an on_event command or a post may take before it is given up",
    "hook_queue": "records waiting for on_event / post",
    "clip_scores": "also write every clip's score to OUT/clips.csv",
    "images": "write each event's peak frame and heat map to OUT/events/",
    "warn_every_s": "at most one 'clips dropped' warning per source this often",
    "cell_sample": "recent clips whose cell scores set the typical cell score",
    "smooth": "smooth clip scores in time as the model was fitted (the batch's scores and events; a clip's\n"
              "score is final about 4 sigma, 2 s at the default, after it); false: raw scores against the\n"
              "raw scores' alarm line, no wait",
    "keep_days": "delete event images older than this many days (OUT/events/<date>/, checked hourly; the\n"
                 "records stay); null: keep them all",
}


def _signature_defaults(func, names) -> dict:
    params = inspect.signature(func).parameters
    return {n: params[n].default for n in names}


def defaults() -> dict:
    """The settings with no file and no options, read from the code defaults (a fresh copy)."""
    from videoad import live

    opts = live.WatchOptions()
    out: dict[str, Any] = {
        "events": {"merge_gap_s": opts.events.merge_gap_s, "min_length_s": opts.events.min_length_s},
        "sources": _signature_defaults(live.make_source, SOURCE_ARGS),
        "model": _signature_defaults(live.WatchModel.load, MODEL_ARGS),
    }
    for f in fields(opts):
        if f.name not in _PER_RUN:
            out[f.name] = getattr(opts, f.name)
    return out


def load(path=None, given: Mapping | None = None) -> dict:
    """The settings: the defaults, the file at `path` (checked), then `given` (the command-line
    options, in the file's layout)."""
    where = str(path) if path is not None else "videoad/defaults/watch.yaml"
    cfg = layered(defaults(), path, SCHEMA)
    check_values(cfg, RULES, where)
    check_values(given or {}, RULES, "the command line options")  # what --print-config prints, --config must read
    cfg = layered(cfg, None, SCHEMA, given)
    # a first wait beyond the cap (--backoff 60 against the default 30) is the wait, not an error
    cfg["backoff_max_s"] = max(cfg["backoff_max_s"], cfg["backoff_s"])
    return cfg


def text(cfg: Mapping) -> str:
    """The settings as the YAML file that `--config` reads back (comments included)."""
    return dump_commented(cfg, COMMENTS, HEADER)


def watch_options(cfg: Mapping):
    """`live.WatchOptions` with every setting of `cfg`."""
    from videoad import live
    from videoad.events import EventSettings

    try:
        events = EventSettings(**cfg["events"]).check()
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return live.WatchOptions(events=events, **{k: v for k, v in cfg.items() if k not in ("events", "sources", "model")})
