"""Which videos are fitted together: the grouping of a store's keys per video, per category
(an annotation's class through `Annotations.find`, the matcher evaluation uses; else the key's
first folder) or pooled, the per-group seed, and the screen that leaves out videos that cannot
be scored (with their reasons) so that one of them never stops a run."""
from __future__ import annotations

import json
import logging
import os
import zlib
from collections import Counter
from pathlib import Path
from typing import Mapping

import numpy as np

from videoad.group_model import expected_layout, layout_words
from videoad.video.config import MODES

log = logging.getLogger(__name__)


def group_seed(seed: int, group: str) -> int:
    """Per-group seed: stable across runs, worker counts and the other groups in the run. A name
    read from a folder that is not UTF-8 (surrogates) hashes its bytes; UTF-8 names as before."""
    return (int(seed) * 1_000_003 + zlib.crc32(group.encode("utf-8", "surrogateescape"))) % (2**31 - 1)


def fit_seed(seed: int, group: str, keys, mode: str) -> int:
    """The seed of a group's fit. Under per-camera the groups' names are numbers given in the
    order of the store's keys (camera-01, ...), which another camera's footage shifts: the seed
    comes from the camera's first video instead, so that a camera's scores stay as they were
    when footage of other cameras is added."""
    return group_seed(seed, f"camera of {min(keys)}" if mode == "per-camera" and keys else group)


def open_store(path, keys=None):
    """The feature store at `path`; with `keys`, those of its videos alone (`videoad run` into an
    output folder that earlier runs filled: this run's videos, not every video extracted there)."""
    from extract.sources import is_videoad_output
    from extract.store import FeatureStore

    p = Path(path)
    if not p.exists():
        raise ValueError(f"{p}: no such feature store")
    stores = [p / s for s in ("features", "history") if (p / s).is_dir()]
    if is_videoad_output(p) and stores:  # a `videoad run` output: its stores side by side, and its scores
        raise ValueError(f"{p}: a `videoad run` output folder, not a feature store: give its store "
                         f"({' or '.join(map(str, stores))})")
    if (p / "segments.csv").is_file() and (p / "run.json").is_file():  # its cells.h5 read as a video's features
        try:
            store = json.loads((p / "run.json").read_text()).get("features")
        except (OSError, ValueError, AttributeError):
            store = None
        raise ValueError(f"{p}: a scores folder (written by `videoad detect`), not a feature store: give the folder "
                         "`videoad extract` wrote" + (f" ({store}, as its run.json says)" if store else ""))
    return FeatureStore(p, only=keys)


def unfinished(path) -> str | None:
    """What is missing from a store whose extraction did not finish, as its manifest records it
    (a run killed partway, shards not all run), else None: scoring it scores part of the footage,
    and a pooled model and its alarm line then come from that part."""
    from extract.manifest import read_store_manifest
    from extract.store import SUFFIX

    root = Path(path)
    try:
        manifest = read_store_manifest(root)
    except (OSError, ValueError):
        return None  # no manifest to read: a store needs none (imported features)
    if manifest.get("complete") is not False:
        return None
    from videoad.output_lock import writer_of

    running = writer_of(root)
    if running is not None:  # not one to rerun (it would be refused): one that has not finished yet
        planned = manifest.get("keys") or []
        present = sum((root / (k + SUFFIX)).is_file() for k in planned)
        return (f"{root}: an extraction is writing it now ({running}; {present} of {len(planned) or '?'} videos "
                "have features so far): scoring the videos there are; score again once it finishes")
    if manifest.get("shards"):
        have = ", ".join(f"{i}/{n}" for i, n in manifest["shards"])
        return (f"{root}: its extraction ran in shards that have not all finished with the same settings and "
                f"input (manifests of {have}): run the missing shards with the same command, then `videoad merge` "
                "(it names what differs); scoring the videos there are")
    planned = manifest.get("keys") or []
    present = sum((root / (k + SUFFIX)).is_file() for k in planned)
    return (f"{root}: its extraction did not finish ({present} of {len(planned)} videos have features; the "
            "manifest is not complete): rerun the same `videoad extract` command to finish it; scoring the "
            "videos there are")


def not_extracted(path) -> dict[str, str]:
    """The videos a store's manifest records as failed at extraction, or as extracted while their
    feature file is gone, which have no features, each with why: a detect run leaves them out as it
    does a damaged file, and says so (they went unnamed: run.json and the report counted only the
    videos there were to score)."""
    from extract.manifest import read_store_manifest
    from extract.store import SUFFIX

    root = Path(path)
    try:
        manifest = read_store_manifest(root)
    except (OSError, ValueError):
        return {}
    videos = manifest.get("videos") or {}
    out = {}
    for key, entry in sorted(videos.items()) if isinstance(videos, dict) else ():
        gone = isinstance(entry, dict) and isinstance(entry.get("source_path"), str) and \
            not os.path.exists(entry["source_path"])  # deleted since: not "not extracted" for ever
        if gone:
            continue
        if not isinstance(entry, dict) or (root / (key + SUFFIX)).is_file():
            continue
        if entry.get("status") == "failed":
            out[key] = f"not extracted: {entry.get('reason') or 'its extraction failed'}"
        elif entry.get("status") in ("done", "skipped"):  # went unnamed: the store's files are what is scored
            out[key] = ("its feature file is missing (removed since its extraction?): rerun `videoad extract` "
                        "on the same input to make it again")
    return out


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
    key's first folder (also for a video the annotations name without a class: per-frame labels
    and CSVs without a category column name none); a key the annotations do not name goes to
    "unannotated"."""
    from extract.store import folder_of

    ann = _annotations(annotations)
    if ann is None:
        return folder_of

    def label(key):
        a = ann.find(key)
        if a is None:
            return UNANNOTATED
        return a.category or folder_of(key)

    return label


def make_groups(store, mode: str, annotations=None) -> dict[str, list[str]]:
    """Group name -> store keys for a detection mode.

    per-category: the class the annotation file gives a video when one is given (matched as
    `Annotations.find` matches it for evaluation), else the first folder of the key
    (UCF-Crime's `Abuse/Abuse001_x264.mp4` -> "Abuse", or one folder per camera).
    per-camera: the camera each video's scene picture shows (`videoad.cameras`).
    """
    if mode == "per-camera":
        from videoad.cameras import camera_groups

        return camera_groups(store)
    if mode not in _GROUP_BY:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    by = _category_label(annotations) if mode == "per-category" else _GROUP_BY[mode]
    groups = store.groups(by=by)
    if not groups:
        from extract.store import empty_store_message

        raise ValueError(empty_store_message(store.root))
    return groups


def screened_groups(store, mode: str, annotations=None):
    """`_screen(store, make_groups(...))`, for per-camera too: the videos that can be scored are
    found first, then grouped by the camera their scene picture shows (`videoad.cameras`)."""
    if mode != "per-camera":
        return _screen(store, make_groups(store, mode, annotations))
    from videoad.cameras import camera_groups

    kept, counts, left_out = _screen(store, {"all": store.keys()})
    return camera_groups(store, kept["all"]), counts, left_out


def categories(store, annotations=None) -> dict[str, str]:
    """Store key -> category (annotation class, else first folder), whatever the grouping."""
    label = _category_label(annotations)
    return {k: label(k) for k in store.keys()}


def _load_group(store_root: str, keys: list[str], cells: bool = True, left_out: dict | None = None,
                level: str = "auto", fitted: Mapping | None = None):
    """The group's videos, loaded. `left_out`: where a video's arrays prove damaged only now (the
    screen reads attributes alone: values that are not finite numbers, arrays unlike their
    attributes or unreadable), or laid out unlike most of the group's (`_unlike_most`; `level`: the
    level asked for, which says whether a video without cells is one), it is left out, with its
    reason in `left_out`, and the others are loaded; without it (or where none is left, or no
    layout is most of the group's) such a video fails the group, named. `fitted`: the layout of the
    features a model to score them was fitted on (its `fitted_layout`): each video laid out
    otherwise is the one left out (`_unlike_model`), whatever most of the group's are; where every
    video is, the group fails, named."""
    store = open_store(store_root)
    try:
        vids = store.load_packed(keys, cells=cells)  # the group's features in one matrix each
    except ValueError as exc:  # extract.store.StoreReadError: names the file
        if left_out is None:
            raise
        vids, unread = None, exc
    damaged = _damaged(store, keys, vids, cells) if left_out is not None else {}
    screen = left_out is not None and len(damaged) < len(keys)  # of the videos that are not damaged
    if damaged and screen:
        _leave_out(damaged, left_out)
        keys = [k for k in keys if k not in damaged]
        vids = store.load_packed(keys, cells=cells)
    elif vids is None:
        if not damaged:  # each file read on its own after all (rewritten between the reads)
            raise unread
        raise ValueError(next(iter(damaged.values())))
    odd = {} if not screen else _unlike_model(store, vids, fitted) if fitted else _unlike_most(store, vids, level)
    if odd and len(odd) == len(vids):  # `_unlike_model` alone: a store made unlike the model altogether
        first = next(iter(odd.values()))
        raise ValueError(f"no video of the group is laid out as the features its model was fitted on: {first}"
                         + (f" (and {len(odd) - 1} more)" if len(odd) > 1 else ""))
    if odd:
        _leave_out(odd, left_out)
        vids = store.load_packed([k for k in keys if k not in odd], cells=cells)
    widths = Counter(v.features.shape[1] for v in vids)
    if len(widths) > 1:  # name the videos of the rarer widths: those are the odd ones
        common = widths.most_common(1)[0][0]
        odd = [v for v in vids if v.features.shape[1] != common]
        detail = ", ".join(f"{v.key}: {v.features.shape[1]}" for v in odd[:6]) + (
            f" and {len(odd) - 6} more" if len(odd) > 6 else "")
        raise ValueError(f"{store_root}: videos of one group have different feature sizes: {len(vids) - len(odd)} "
                         f"of {len(vids)} have {common} values per clip, these do not: {detail}")
    broken = [] if screen else [  # else found by `_damaged` already
        v.key for v in vids if not _finite(v)]
    if broken:  # stores written before they were refused (extract.store.write_video): the fit named no video
        raise ValueError(f"{store_root}: the features of {', '.join(broken[:5])}"
                         + (f" and {len(broken) - 5} more" if len(broken) > 5 else "")
                         + " hold values that are not finite numbers (NaN or inf): extract those videos again")
    backbones = {str(v.attrs.get("backbone", "")) for v in vids}
    if len(backbones) > 1:
        raise ValueError(f"{store_root}: one group mixes features of backbones {sorted(backbones)}")
    return vids


def _leave_out(videos: Mapping[str, str], left_out: dict) -> None:
    for key, why in videos.items():
        log.warning("left out %s: %s", key, why)
    left_out.update(videos)


def _layout(v) -> tuple:
    """How a loaded video's arrays are laid out: values per clip, and with cells their grid and
    values per cell."""
    return (v.features.shape[1],) + (() if v.cells is None else (tuple(v.cell_grid or ()), *v.cells.shape[1:]))


def _unlike_most(store, vids, level: str = "auto") -> dict[str, str]:
    """The videos whose arrays are laid out unlike those of most of the group (features of another
    size per clip, or cells on another grid: extracted with other settings), each with why; none
    where all agree or no layout is the most common one (the group then fails, named). A layout
    is not resampled into another.
    A video without cells, where most of the group's have them (`level` "cell": where any has),
    is one: it was fitted at clip level with the whole group, which then had no heat map at all
    (`level: cell` failed the group). Where most have none, the group is fitted on its clips, its
    cells unused (`videoad.video.run._fit` notes it)."""
    total, bare = len(vids), [v for v in vids if v.cells is None]
    out = {}
    if bare and len(bare) < total and (level == "cell" or 2 * len(bare) < total):
        out = {v.key: (f"{store.path(v.key)}: no cells in the store ({v.features.shape[1]} values per clip alone), "
                       f"where {total - len(bare)} of the {total} videos of its group have them: extracted with other "
                       "settings (before schema version 2, or with a backbone without a grid); extract it again as "
                       "the others were" + ("" if level == "cell" else ", or score the group at level clip"))
               for v in bare}
        vids = [v for v in vids if v.cells is not None]
    with_cells = all(v.cells is not None for v in vids)
    layouts = {v.key: _layout(v) if with_cells else _layout(v)[:1] for v in vids}
    counts = Counter(layouts.values()).most_common()
    if len(counts) < 2 or counts[0][1] == counts[1][1]:
        return out
    common, n = counts[0]
    return {**out, **{k: (f"{store.path(k)}: {layout_words(lay)}, where {n} of the {total} videos of its group "
                          f"have {layout_words(common)}: extracted with other settings; extract it again as the "
                          "others were") for k, lay in layouts.items() if lay != common}}


def _unlike_model(store, vids, fitted: Mapping) -> dict[str, str]:
    """The videos laid out unlike the features a model was fitted on (its `fitted_layout`: values
    per clip, and with cells their grid and values per cell), each with why: the model cannot score
    them, whatever most of the group's are."""
    expect = expected_layout(fitted)
    cells = len(expect) > 1
    out = {}
    for v in vids:
        lay = _layout(v) if cells else _layout(v)[:1]  # a whole-clip model reads no cells
        if lay != expect:
            out[v.key] = (f"{store.path(v.key)}: {layout_words(lay, cells)}, where the model was fitted on "
                          f"{layout_words(expect)}: extracted with other settings; extract it again as the model's "
                          "features were, or fit a model on features made so")
    return out


def _finite(v) -> bool:
    """Whether a loaded video's features (and cells) are all finite numbers."""
    return bool(np.isfinite(v.features).all() and (v.cells is None or np.isfinite(v.cells).all()))


def _damaged(store, keys: list[str], vids, cells: bool) -> dict[str, str]:
    """`_load_group`'s videos whose arrays cannot be fitted, each with why: unreadable (`vids` None:
    each is read on its own to find which), or holding values that are not finite numbers."""
    out = {}
    for i, key in enumerate(keys):
        if vids is None:
            try:
                v = store.load(key, cells=cells)
            except ValueError as exc:
                out[key] = str(exc)
                continue
        else:
            v = vids[i]
        if not _finite(v):
            out[key] = (f"{store.path(key)}: its features hold values that are not finite numbers (NaN or inf): "
                        "extract the video again")
    return out


def _screen(store, groups: dict[str, list[str]]):
    """(groups without the videos that cannot be scored, clips per kept video, left out -> why).

    A video shorter than one clip has nothing to score, and a feature file that cannot be read
    gives nothing: each is left out with its reason (run.json `left_out`), so that one of them
    never stops the run. Clips are counted from the attributes alone (no arrays read).
    """
    counts, left_out = {}, {}
    for key in sorted({k for keys in groups.values() for k in keys}):
        try:
            a = store.check(key)  # an HDF5 file of another program failed its whole group at the fit
            n = int(a["n_clips"]) if "n_clips" in a else store.load(key).n_clips
        except ValueError as exc:  # extract.store.StoreReadError: names the file, says what to do
            left_out[key] = str(exc)
            continue
        if n > 0:
            counts[key] = n
            _check_attrs(store, key, a)
        else:
            left_out[key] = (f"no clips: {a.get('n_frames', '?')} frames, shorter than one clip of "
                             f"{a.get('clip_len', '?')} (extract with --tail pad to score it)")
    for key, why in left_out.items():
        log.info("left out %s: %s", key, why)
    if left_out:  # a library caller saw nothing of a damaged file dropped (ScoreSet.left_out() lists each)
        first = next(iter(left_out))
        log.warning("%d video(s) of %s left out, not scored (first: %s: %s)", len(left_out), store.root, first,
                    left_out[first])
    kept = {g: [k for k in keys if k in counts] for g, keys in groups.items()}
    kept = {g: keys for g, keys in kept.items() if keys}
    if not kept:
        raise ValueError(f"{store.root}: no video can be scored ("
                         + "; ".join(f"{k}: {why}" for k, why in left_out.items()) + ")")
    return kept, counts, left_out


def _check_attrs(store, key: str, attrs) -> None:
    """Name a video whose attributes only a footage check or its heat maps read are damaged: it is
    scored all the same (`extract.store.CHECK_ATTRS`: what each costs it)."""
    from extract.store import check_attr_problems

    for problem in check_attr_problems(attrs):
        log.warning("%s (%s): %s", store.path(key), key, problem)


def _listed(left_out: Mapping[str, str]) -> list[dict]:
    return [{"video": k, "reason": why} for k, why in sorted(left_out.items())]
