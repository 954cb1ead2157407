"""The model a stream is scored with, and whether a source's frames are made as its features were:
the frame rate, the frame size, the backbone rebuilt from what `models.json` records."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from extract.backbones import recorded_options


#: description keys that may differ between the fit and the watch without changing the features
_DESCRIPTION_FREE = ("precision",)


class WatchError(ValueError):
    """Bad input to `watch` (a model folder, a source): the message names it and what to do."""


@dataclass
class WatchModel:
    """A saved group model with the backbone and clip sampling its features came from."""

    group: str
    model: object  # videoad.group_model.GroupModel
    backbone: object  # extract.backbones.base.Backbone
    spec: object  # extract.clips.ClipSpec
    extraction: dict
    model_dir: Path
    #: the cameras (views) the group's history shows, each with its scene picture
    #: (`videoad.cameras.views_of`); None in model folders written before they were kept
    views: dict | None = None
    #: the folder's per-camera models this one is one of (`videoad.live.camera.CameraModels`), so
    #: that a source whose view switches to another of its cameras is scored with that one's model
    cameras: object = None
    #: models fitted per level of activity (`videoad.video.levels`): the pair this one is one of, so
    #: that a stream is scored by the level its latest clips move at (`LevelPair`)
    levels: "LevelPair | None" = field(default=None, repr=False, compare=False)  # it holds this model too
    #: the cameras the fit saw and left without a model (`videoad.cameras.unfitted_cameras`): a
    #: stream showing one is told so, not that it shows a camera the history never saw
    unfitted: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def threshold(self) -> float:
        return float(self.model.threshold)

    def alarm_line(self, smooth: bool) -> float:
        """The line the scores are compared with: the smoothed scores' (the batch's), or with
        `smooth=False` the raw scores' (models saved before smoothing have only the one)."""
        raw = getattr(self.model, "threshold_raw", None)
        return self.threshold if smooth or raw is None else float(raw)

    @property
    def cell_grid(self) -> tuple[int, int] | None:
        grid = self.model.layout.get("cell_grid")
        return tuple(grid) if self.model.layout["level"] == "cell" and grid else None

    def layout_problem(self, features, cells) -> str | None:
        """Why a source's clips (`forward_cells`' arrays: features (n, dim), cells (n, C, d) or None)
        are laid out unlike the features the model was fitted on, in words; None where alike. Held
        to models.json's `fitted_layout` (values per clip, with cells their grid and values per
        cell), as `detect --model` holds each video; a model saved before that record, to the
        values per row its detectors read. The backbone is rebuilt from the folder's extraction
        record, so this is a record that does not describe the features fitted (an older videoad's
        backbone, a record copied from another group), which scoring refused only as "15-d rows"."""
        from videoad.group_model import expected_layout, layout_words

        fitted = self.model.info.get("fitted_layout")
        have = (int(features.shape[1]),)
        if cells is not None:
            have += (tuple(self.backbone.cell_grid or ()), int(cells.shape[1]), int(cells.shape[2]))
        if fitted:
            expect = expected_layout(fitted)
            seen = have if len(expect) > 1 else have[:1]  # a whole-clip model reads no cells
            if seen == expect:
                return None
            return f"give {layout_words(seen, len(expect) > 1)}, where the model was fitted on {layout_words(expect)}"
        width = getattr(self.model.detectors[0], "n_features_in_", None)
        if width is None:
            return None
        if self.model.layout["level"] == "clip":
            return None if have[0] == width else f"give {have[0]} values per clip, where the model was fitted on {width}"
        if cells is None:  # `score_arrays` says so
            return None
        per_cell = int(width) - (cells.shape[1] if self.model.position else 0)
        return (None if cells.shape[2] == per_cell else
                f"give {cells.shape[2]} values per cell, where the model was fitted on {per_cell}")

    @property
    def score_unit(self) -> str:
        return str(self.model.info.get("score_unit", "score"))

    @classmethod
    def load(cls, model_dir, group: str | None = None, device: str | None = None,
             built: "WatchModel | None" = None, index: tuple | None = None,
             allow_pickle: bool = False) -> "WatchModel":
        """Read `models.json`, pick the group (the only one, else "all", else `group`; the two levels
        of one group fitted apart, the folder's only pair or `group` named by the group they were
        split from: both, as a `LevelPair` on the quieter's), rebuild
        the backbone from its recorded options and check it describes itself as at the fit.
        `built`: a model of the same folder already loaded, whose backbone is shared when the
        group's features were extracted alike (one network in memory for several cameras).
        `index`: (path, index) of models.json as read already (several groups loaded from one
        reading: a refit between two reads renumbers cameras). `allow_pickle`: the user's own leave
        (`watch --allow-pickle`) to unpickle the weights file in full, never taken from the folder."""
        from extract.backbones import get_backbone
        from extract.clips import ClipSpec
        from videoad.group_model import GroupModel
        from videoad.video.index import read_index

        model_dir = Path(model_dir)
        redo = "fit models with `videoad detect HISTORY --pooled -o SCORES --save-model DIR`"
        try:
            index_path, index = index if index is not None else read_index(model_dir)
        except ValueError as exc:
            raise WatchError(str(exc)) from None
        groups = index["groups"]
        if not groups:
            raise WatchError(f"{index_path}: no group's model in it (each fit failed or was skipped); {redo}")
        try:  # no group named and a folder of one pair, or the name of a group fitted as a pair
            pair = level_pair(groups, str(index_path), group) if group is None or group not in groups else None
        except ValueError as exc:
            raise WatchError(str(exc)) from None
        if pair is not None:  # one camera's day and night fitted apart: the stream picks its level as it goes
            quiet = cls.load(model_dir, pair["quieter"], device, built=built, index=(index_path, index),
                             allow_pickle=allow_pickle)
            busy = cls.load(model_dir, pair["busier"], device, built=quiet, index=(index_path, index),
                            allow_pickle=allow_pickle)
            level = groups[pair["busier"]]["activity_level"]
            quiet.levels = busy.levels = LevelPair(float(level["boundary"]), {"quieter": quiet, "busier": busy},
                                                   float(level.get("ratio") or 1.0))
            return quiet
        if group is None:
            if len(groups) == 1:
                group = next(iter(groups))
            elif "all" in groups:
                group = "all"
            else:
                from videoad.cameras import describe

                raise WatchError(f"{model_dir} holds models of several groups ("
                                 + "; ".join(describe(g, groups[g]) for g in sorted(groups)) + "): name one with --group")
        if group not in groups:
            raise WatchError(f"{model_dir}: no model for group {group!r} (has {', '.join(sorted(groups))})")
        entry = groups[group]
        extraction = entry.get("extraction") or index.get("extraction")
        if not extraction:
            raise WatchError(f"{index_path} does not record how its features were extracted (written by an "
                             f"older videoad): refit the models with this version ({redo})")
        try:
            spec = ClipSpec(clip_len=int(extraction["clip_len"]), stride=int(extraction["stride"]),
                            tail=str(extraction.get("tail", "drop")), **_resampling(extraction))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise WatchError(f"{index_path}: group {group!r}'s extraction record does not say how clips were cut "
                             f"({type(exc).__name__}: {exc}); {redo}") from None
        try:
            model = GroupModel.load(entry, model_dir)
        except (ValueError, KeyError) as exc:
            raise WatchError(str(exc)) from None
        if built is not None and built.extraction == extraction:
            backbone = built.backbone  # each scorer copies it for its own caches
        else:
            backbone = build_backbone(extraction, device, get_backbone, allow_pickle=allow_pickle)
        if spec.clip_len != backbone.clip_len:
            raise WatchError(f"{index_path}: clips of {spec.clip_len} frames, but the backbone takes "
                             f"{backbone.clip_len}")
        grid = model.layout.get("cell_grid")
        if model.layout["level"] == "cell" and list(backbone.cell_grid or ()) != list(grid):
            raise WatchError(f"{index_path}: the model scores a {grid} grid of cells, the backbone gives "
                             f"{backbone.cell_grid or 'none'}; re-extract the history and refit")
        views = entry.get("views") if isinstance(entry.get("views"), dict) and entry.get("views") else None
        from videoad.cameras import unfitted_cameras

        return cls(group, model, backbone, spec, extraction, model_dir, views, unfitted=unfitted_cameras(index))


@dataclass(eq=False)
class LevelPair:
    """The two models of one group fitted per level of activity, the boundary between them (a
    window's median clip activity at or above it is the busier level's) and the ratio between the
    two fitted videos nearest it (at least `coverage.SPLIT`)."""

    boundary: float
    models: dict  # "quieter" / "busier" -> WatchModel
    ratio: float = 1.0

    def side(self, median: float, current: str | None = None) -> str:
        """The level a window's `median` belongs to. From `current`, the other level only once the
        median is past the boundary by the fourth root of `ratio`, halfway (in ratio) to the
        nearest fitted video of that level: a stream whose activity hovers about the boundary
        (dusk, a busy moment) does not switch back and forth."""
        margin = max(float(self.ratio), 1.0) ** 0.25 if current in ("quieter", "busier") else 1.0
        if current == "busier":
            return "quieter" if median < self.boundary / margin else "busier"
        return "busier" if median >= self.boundary * margin else "quieter"


def level_pair(groups, where: str = "models.json", of: str | None = None) -> dict[str, str] | None:
    """Side -> group name of the two levels of group `of` fitted apart (`activity_levels: apart`);
    with `of` None, of the one group whose two levels are all the folder holds. None where there is
    no such pair; a damaged level record is an error (`saved_levels`)."""
    from videoad.video.levels import SIDES, saved_levels

    entries = saved_levels(groups, where)
    if of is None and (len(groups) != 2 or len(entries) != 2 or len({lv["of"] for lv in entries.values()}) != 1):
        return None
    of = of if of is not None else next(iter(entries.values()))["of"]
    sides = {lv["side"]: g for g, lv in entries.items() if lv["of"] == of}
    return sides if set(sides) == set(SIDES) else None


def _resampling(extraction: dict) -> dict:
    """The `ClipSpec` frame-rate settings an extraction record holds (target_fps, max_fps)."""
    return {k: float(extraction[k]) if extraction.get(k) else None for k in ("target_fps", "max_fps")}


def frame_rate_mismatch(extraction: dict, fps: float | None) -> str | None:
    """Why a stream at `fps` is not comparable with the footage the models were fitted on (the
    rates clips are cut at more than `FPS_TOLERANCE` apart: the stream's after the models' own
    resampling, theirs as recorded), else None. A live stream is scored anyway and warned about
    (a file or history store is refused: `videoad.video.run`)."""
    from extract.clips import ClipSpec
    from videoad.video.run import FPS_TOLERANCE, apart

    if not fps:
        return None
    ref = extraction.get("sampled_fps")
    if ref is None:  # models.json from before the rates were recorded: native rates, none resampled
        ref = None if extraction.get("target_fps") else extraction.get("fps")
        rate = fps
    else:
        rate = ClipSpec(**_resampling(extraction)).rate_for(fps) or fps
    if not ref or not apart(rate, ref, FPS_TOLERANCE):
        return None
    cut = f" (cut at {rate:g})" if rate != fps else ""
    return (f"the stream runs at {fps:g} fps{cut}, the models' footage was cut into clips at {ref:g} fps: motion "
            f"per frame is not comparable; fit the models on footage extracted with --fps N to resample both")


def frame_shape_mismatch(extraction: dict, height: int, width: int, working_size=None) -> str | None:
    """Why a stream of `width` x `height` frames is not comparable with the footage the models were
    fitted on (`videoad.video.run.shape_off`: another frame shape, or with `working_size`, what
    the backbone resizes these frames to, a size that footage was not worked at); else None.
    Scored anyway and warned about, as `frame_rate_mismatch` (a file or history store is refused:
    `videoad.video.run.extraction_mismatch`)."""
    from videoad.video.run import shape_off

    aspect = width / height
    aspect_off, size_off = shape_off(extraction, aspect, working_size)
    if aspect_off:
        return (f"the stream's frames are {width}x{height} (width / height {aspect:.3g}), the models' footage "
                f"{', '.join(f'{a:g}' for a in extraction['aspects'])}: each frame is resized to the working "
                f"size, so motion is stretched differently; fit the models on footage of this camera")
    if size_off:
        return (f"the stream is worked at {working_size[0]}x{working_size[1]}, the models' footage at "
                f"{', '.join(f'{w}x{h}' for w, h in extraction['working_sizes'])} (size auto follows each "
                f"source's resolution): motion in pixels is not comparable; fit the models on footage of this camera")
    return None


def build_backbone(extraction: dict, device: str | None = None, get_backbone=None, allow_pickle: bool = False):
    """The backbone an extraction record names, built from its options and checked against the
    description stored at the fit (a different weights file or option would give other features).
    A model folder is data: its weights file is loaded by the safe loader, pinned to the sha256
    recorded at extraction (checked before the file is read), and unpickled in full only with the
    user's own `allow_pickle` (an `allow_pickle` in models.json ran a replaced file's code)."""
    if get_backbone is None:
        from extract.backbones import get_backbone
    name = extraction.get("backbone") or ""
    options = extraction.get("options")
    recorded = extraction.get("description")
    if str(extraction.get("weights_sha256", "")).startswith("unknown (imported)"):
        raise WatchError(f"the models were fitted on imported features ({name!r}, made by another tool): watch "
                         "cannot make them from video; score new footage by importing its features (`videoad "
                         "import`), then `videoad detect --model`")
    # a models.json from before an option was added; a leave it recorded (allow_pickle) is dropped there:
    # the folder's say-so is not the user's
    kwargs = dict(recorded_options(name, options) or {})
    if allow_pickle:
        kwargs["allow_pickle"] = True
    pinned = str(extraction.get("weights_sha256") or (recorded or {}).get("weights_sha256") or "")
    if kwargs.get("weights") and re.fullmatch(r"[0-9a-f]{64}", pinned):
        kwargs["weights_sha256"] = pinned
    if device is not None:
        kwargs["device"] = device
    try:
        backbone = get_backbone(name, **kwargs)
    except Exception as exc:  # noqa: BLE001 - a missing weights file, an extra not installed ...
        hint = ("; watch takes no --weights: it uses the file the models record (models.json, the extraction's "
                "options): put it back at that path" if "--weights" in str(exc) else "")
        if "refused by the safe loader" in str(exc):  # the loader's hint names extract's --backbone-opt
            hint = ("; videoad watch takes that leave as --allow-pickle (the file must be the one the models "
                    "record: its sha256 is checked first)")
        raise WatchError(f"cannot rebuild the backbone {name!r} the models were fitted with ({exc}){hint}") from None
    described = backbone.describe()
    if recorded is not None:
        differ = sorted(k for k in set(described) | set(recorded)
                        if k not in _DESCRIPTION_FREE and described.get(k) != recorded.get(k))
        if differ:
            hint = ("the features were extracted before videoad recorded backbone options, with other than the "
                    "default options: re-extract the history and refit" if options is None else
                    "check that the same weights file and code are installed")
            raise WatchError(f"the backbone {name!r} built here differs from the one the models were fitted on "
                             f"in {', '.join(differ)}; {hint}")
    elif options is None:
        raise WatchError(f"the models do not record how backbone {name!r} was configured: re-extract the "
                         "history and refit with this version")
    return backbone


