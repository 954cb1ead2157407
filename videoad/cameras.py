"""Which videos show the same camera, told from the scene picture each feature file keeps
(`extract.scene`): `videoad detect --per-camera` fits one model per camera found.

Two pictures are compared by their correlation (pixels centred and scaled per picture, so a
change of exposure or gain leaves it unchanged); videos are joined by average linkage while
their pictures correlate at SAME_CAMERA or more, and pictures of different shapes (aspect) never
join. Fitted on a history (`--fit-on`), the cameras are the history's, and each scored video
goes to the camera its picture matches best; one that matches none is left unscored with the
reason (as a category the history lacks is).
"""
from __future__ import annotations

import logging
import shlex
from typing import Mapping, Sequence

import numpy as np

from extract.sources import one_line

log = logging.getLogger(__name__)

#: two videos whose scene pictures correlate at least this much show one camera: the midpoint of the
#: development cameras' gap (one camera's pictures >= 0.984, four cameras of one corridor layout <=
#: 0.812), rounded down (benchmarks/camera_pictures.py dev; checked on other cameras with `confirm`)
SAME_CAMERA = 0.85
#: frame aspect ratios further apart than this (relative) are different cameras
ASPECT_TOLERANCE = 0.05


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of two scene pictures (1: the same up to exposure); a flat picture (one grey
    level: a covered lens, a blank feed) gives 0 against any other and 1 against another flat one."""
    rows = _unit([a, b])
    return float(np.clip(rows[0] @ rows[1], -1.0, 1.0))


def _aspect(size) -> float | None:
    if size is None or len(size) != 2 or not size[0] or not size[1]:
        return None
    return float(size[1]) / float(size[0])


def _unit(pictures: Sequence[np.ndarray]) -> np.ndarray:
    """Pictures as rows centred and scaled to unit length, so that the dot product of two rows is
    their correlation; one more column marks a flat picture (one grey level, no correlation to
    speak of), which is 1 there and 0 elsewhere: flat pictures join each other and nothing else
    (five videos of a blank feed are one camera, not five)."""
    flat = np.stack([np.asarray(p, np.float64).ravel() for p in pictures])
    flat = flat - flat.mean(axis=1, keepdims=True)
    norm = np.sqrt((flat * flat).sum(axis=1))
    blank = norm == 0
    norm[blank] = np.inf
    return np.hstack([flat / norm[:, None], blank[:, None].astype(np.float64)])


def _aspects(sizes: Sequence | None, n: int) -> np.ndarray:
    """Width / height per picture, NaN where unknown."""
    if sizes is None:
        return np.full(n, np.nan)
    return np.array([np.nan if (a := _aspect(s)) is None else a for s in sizes], np.float64)


def _apart(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)): frame aspects further apart than ASPECT_TOLERANCE (unknown: never)."""
    with np.errstate(invalid="ignore"):
        return np.abs(a[:, None] - b[None, :]) > ASPECT_TOLERANCE * np.maximum(a[:, None], b[None, :])


def similarities(pictures: Sequence[np.ndarray], sizes: Sequence | None = None) -> np.ndarray:
    """(n, n) correlations; pairs whose frame aspects differ by more than ASPECT_TOLERANCE get -1."""
    return _row_similarities(_unit(pictures), _aspects(sizes, len(pictures)))


def _row_similarities(flat: np.ndarray, aspects: np.ndarray) -> np.ndarray:
    """`similarities` of `_unit` rows and their `_aspects`."""
    sim = np.clip(flat @ flat.T, -1.0, 1.0)
    np.fill_diagonal(sim, 1.0)
    sim[_apart(aspects, aspects)] = -1.0
    return sim


#: pictures clustered exactly at most; a larger set is clustered on an even sample of this many and
#: every picture then attached to the camera whose mean it correlates with best (`cluster`)
CLUSTER_EXACT = 2048


def cluster(pictures: Sequence[np.ndarray], sizes: Sequence | None = None,
            threshold: float = SAME_CAMERA) -> np.ndarray:
    """A camera label (0, 1, ...) per picture: average linkage on 1 - correlation, cut at
    1 - threshold; labels numbered in order of each camera's first picture.

    Over CLUSTER_EXACT pictures (a camera's month in one-minute files), no n x n matrix: an evenly
    spaced sample of CLUSTER_EXACT is clustered so, and each picture joins the sampled camera whose
    mean row it correlates with best when that is at least `threshold` (the mean correlation with a
    camera's pictures: the criterion average linkage joins a single picture by); the pictures that
    join none are clustered the same way among themselves, as cameras the sample missed."""
    n = len(pictures)
    if n <= 1:
        return np.zeros(n, np.int64)
    flat, aspects = _unit(pictures), _aspects(sizes, n)
    return _renumber(_cluster_rows(flat, aspects, threshold))


def _cluster_rows(flat: np.ndarray, aspects: np.ndarray, threshold: float) -> np.ndarray:
    n = len(flat)
    if n <= 1:
        return np.zeros(n, np.int64)
    if n <= CLUSTER_EXACT:
        from scipy.cluster.hierarchy import fcluster, linkage
        from scipy.spatial.distance import squareform

        dist = 1.0 - _row_similarities(flat, aspects)
        np.fill_diagonal(dist, 0.0)
        return fcluster(linkage(squareform(dist, checks=False), method="average"), t=1.0 - threshold,
                        criterion="distance").astype(np.int64) - 1
    sample = np.linspace(0, n - 1, CLUSTER_EXACT).round().astype(np.int64)
    sampled = _cluster_rows(flat[sample], aspects[sample], threshold)
    k = int(sampled.max()) + 1
    means = np.stack([flat[sample[sampled == c]].mean(axis=0) for c in range(k)])
    mean_aspect = np.array([np.nanmedian(aspects[sample[sampled == c]]) if np.isfinite(
        aspects[sample[sampled == c]]).any() else np.nan for c in range(k)])
    labels = np.empty(n, np.int64)
    best_sim = np.empty(n)
    for start in range(0, n, CLUSTER_EXACT):  # n x k in blocks: memory stays bounded
        block = slice(start, start + CLUSTER_EXACT)
        sim = flat[block] @ means.T
        sim[_apart(aspects[block], mean_aspect)] = -1.0
        labels[block], best_sim[block] = sim.argmax(axis=1), sim.max(axis=1)
    rest = np.flatnonzero(best_sim < threshold)
    if rest.size:
        if rest.size == n:  # nothing joins even its own sample's cameras (a threshold above 1): all apart
            return np.arange(n, dtype=np.int64)
        labels[rest] = k + _cluster_rows(flat[rest], aspects[rest], threshold)
    return labels


def _renumber(raw: np.ndarray) -> np.ndarray:
    order: dict[int, int] = {}
    return np.array([order.setdefault(int(r), len(order)) for r in raw], np.int64)


def camera_name(index: int) -> str:
    return f"camera-{index + 1:02d}"


def _read_pictures(store, keys: Sequence[str], unreadable: dict | None = None) -> tuple[list, list, list]:
    """(pictures, frame sizes, keys without a picture) from the store's attributes alone; with
    `unreadable`, a file that cannot be read goes there (key -> why) and counts as without a
    picture, instead of stopping the reading."""
    from extract.scene import scene_of
    from extract.store import attr_list

    pics, sizes, missing = [], [], []
    for key in keys:
        try:
            attrs = store.attrs(key)
        except ValueError as exc:  # extract.store.StoreReadError names the file and what to do
            if unreadable is None:
                raise
            unreadable[key] = str(exc)
            attrs = {}
        pic = scene_of(attrs)
        if pic is None:
            missing.append(key)
        pics.append(pic)
        size = attr_list(attrs.get("frame_size"))  # kept as JSON text: "[240, 360]"
        sizes.append([int(v) for v in size] if size is not None else None)
    return pics, sizes, missing


def pictures_of(store, keys: Sequence[str]) -> tuple[list, list]:
    """Each key's scene picture and frame size; a key without a picture is an error naming the
    files (extracted before pictures were kept, or imported)."""
    pics, sizes, missing = _read_pictures(store, keys)
    if missing:
        shown = ", ".join(str(store.path(k)) for k in missing[:5]) + (", ..." if len(missing) > 5 else "")
        raise ValueError(f"{store.root}: {len(missing)} feature file(s) keep no scene picture or a damaged one "
                         f"({shown}): --per-camera tells cameras apart by the picture `videoad extract` keeps with "
                         "each video; rerun the same extract command, which adds it to files written before it did "
                         "and replaces a damaged one (one decode of each source, no feature recomputed); imported "
                         "features have none, so group them by folder (--per-category)")
    return pics, sizes


def note_mixed(store, groups: Mapping[str, Sequence[str]], records: list[dict], min_clips: int | None = None) -> None:
    """Where one model is fitted over videos of several cameras, say so: `cameras` in the group's
    record (run.json) and one warning naming `--per-camera`. With `min_clips`, the cameras whose
    videos hold fewer clips than a fit needs are counted (`cameras_short`): --per-camera would skip
    them, and the advice says so (on the demo's footage, every video its own camera, it sent the
    user to a --per-camera that scored nothing)."""
    mixed, short = {}, {}
    for rec in records:
        keys = list(groups.get(rec["group"], ()))
        if rec.get("status") == "skipped" or len(keys) < 2:
            continue
        pics, sizes, missing = _read_pictures(store, keys)
        if missing or not pics:
            continue
        labels = cluster(pics, sizes)
        n = int(labels.max()) + 1
        if n < 2:
            continue
        rec["cameras"] = mixed[rec["group"]] = n
        if min_clips is not None:
            clips = np.zeros(n)
            for key, label in zip(keys, labels):
                clips[label] += int(store.attrs(key).get("n_clips", 0) or 0)
            rec["cameras_short"] = short[rec["group"]] = int((clips < int(min_clips)).sum())
    if mixed:
        shown = ", ".join(f"{g}: {n}" for g, n in list(mixed.items())[:5]) + (", ..." if len(mixed) > 5 else "")
        too_short = sum(short.values())
        advice = ("one model per camera catches more where their normal differs: --per-camera (`videoad cameras "
                  f"{shlex.quote(str(store.root))}` lists them)")  # the store to give it: `run`'s is in its -o
        if too_short:
            advice += (f"; {too_short} of these cameras hold fewer than min_clips={int(min_clips)} clips, too few for "
                       "a model of their own (--per-camera would skip them): give each camera more footage first")
        log.warning("%d group(s) fit one model over videos of several cameras, told apart by their scene pictures "
                    "(%s); %s", len(mixed), shown, advice)


def camera_groups(store, keys: Sequence[str] | None = None) -> dict[str, list[str]]:
    """Camera name -> the store keys that show it (transductive grouping)."""
    keys = list(store.keys() if keys is None else keys)
    pics, sizes = pictures_of(store, keys)
    return _named(keys, cluster(pics, sizes))


def _named(keys: Sequence[str], labels: np.ndarray) -> dict[str, list[str]]:
    """Camera name -> the keys of each label."""
    groups: dict[str, list[str]] = {}
    for key, label in zip(keys, labels):
        groups.setdefault(camera_name(int(label)), []).append(key)
    return groups


def camera_pictures(store, groups: Mapping[str, Sequence[str]]) -> dict[str, dict]:
    """Per camera, the mean of its videos' pictures and their frame size (what a scored video is
    matched against) and the first of its videos (how a person tells which camera it is); kept
    in models.json by `--save-model`."""
    return {name: _camera_entry(keys, *pictures_of(store, keys)) for name, keys in groups.items()}


def _camera_entry(keys: Sequence[str], pics: Sequence[np.ndarray], sizes: Sequence) -> dict:
    """`camera_pictures`' entry of one camera from its videos' pictures and frame sizes."""
    return {"scene": [round(float(v), 2) for v in np.mean(pics, axis=0).ravel()], "frame_size": sizes[0],
            "videos": list(keys)[:5], "n_videos": len(keys)}


#: a model keeps the pictures of at most this many views (cameras) of its history (`views_of`):
#: a category pooled over a dataset's hundreds of cameras has no view a stream could be told from
VIEWS_MAX = 16


def views_of(store, keys: Sequence[str]) -> dict[str, dict] | None:
    """The cameras (views) the videos `keys` show, each as `camera_pictures`' entry, for
    `videoad watch` to tell whether a stream shows one of them (`models.json` groups' `views`);
    None where a video keeps no picture or they show more than VIEWS_MAX cameras."""
    pics, sizes, missing = _read_pictures(store, keys, unreadable={})
    if missing or not pics:
        return None
    labels = cluster(pics, sizes)
    if int(labels.max()) + 1 > VIEWS_MAX:
        return None
    views = {}
    for name, members in _named(list(range(len(keys))), labels).items():
        views[name] = _camera_entry([keys[i] for i in members], [pics[i] for i in members],
                                    [sizes[i] for i in members])
    return views


def unknown_views(store, keys: Sequence[str], views: Mapping[str, Mapping] | None) -> dict[str, float]:
    """The videos `keys` whose scene picture matches none of a history's `views` (`views_of`), each
    with its best correlation (two decimals): footage of another camera than the one a pooled or
    per-category model learned, scored against that camera's normal. Videos without a picture,
    and a history without views, say nothing."""
    if not views:
        return {}
    pics, sizes, _ = _read_pictures(store, keys, unreadable={})
    shown = [i for i, pic in enumerate(pics) if pic is not None]  # a video without a picture says nothing
    found = match_many([pics[i] for i in shown], [sizes[i] for i in shown], views)
    return {keys[i]: round(sim, 2) for i, (name, sim) in zip(shown, found) if name is None}


def cut_videos(store, keys: Sequence[str]) -> dict[str, dict]:
    """The videos of `keys` whose extraction found scene cuts (`extract.cuts`: the thumbnails'
    layout and light changed from one frame to the next), each as {"cuts": how many, "frames": the
    first sampled frame after each, "parts": [first, last] frames between them} (frames and parts
    where the store placed the cuts: extracted since 2026-12-04; before, the count alone). In a
    fixed camera's footage a cut is the view changing (a switcher, two cameras exported into one
    file, the camera moved): the video shows more than one view, but keeps one scene picture, the
    median over all of it, so `--per-camera` groups it whole with the camera of the view it shows
    most (a part of the scene picture per view is not kept: the parts cannot be told apart here).
    A file whose attributes cannot be read says nothing (the screen says why)."""
    from extract.store import attr_list

    found: dict[str, dict] = {}
    for key in keys:
        try:
            attrs = store.attrs(key)
        except ValueError:
            continue
        n = attrs.get("scene_cuts")
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
            continue
        entry: dict = {"cuts": int(n)}
        try:
            at = sorted({int(f) for f in attr_list(attrs.get("scene_cut_frames")) or ()})
        except (TypeError, ValueError):  # a damaged list: the count alone
            at = []
        total = attrs.get("n_frames")
        if at:
            entry["frames"] = at
            if isinstance(total, (int, np.integer)) and not isinstance(total, bool) and 0 < at[0] and at[-1] < total:
                starts = [0] + at
                entry["parts"] = [[a, b - 1] for a, b in zip(starts, at + [int(total)])]
        found[key] = entry
    return found


def cut_parts_text(entry: Mapping) -> str:
    """Where a video's cuts split it (`cut_videos`' entry), in words: with one cut, the shorter
    part is the one that shows another view than the camera it was grouped with (its scene picture
    is the median over all its frames, the longer part's view)."""
    frames, parts = entry.get("frames"), entry.get("parts")
    if not frames:
        return f"{entry['cuts']} scene cut(s), not placed (extracted before cuts were placed)"
    at = f"scene cut{'s' if len(frames) > 1 else ''} at frame{'s' if len(frames) > 1 else ''} " \
         f"{', '.join(map(str, frames[:6]))}{' ...' if len(frames) > 6 else ''}"
    if not parts or len(parts) != 2:
        return at + (f": {len(parts)} parts, which may show more than one view" if parts else "")
    (a0, a1), (b0, b1) = parts
    if a1 - a0 == b1 - b0:
        return at + f": frames {a0}-{a1} and {b0}-{b1}, as long as each other (its picture mixes both views)"
    other, side = ((b0, b1), "after") if b1 - b0 < a1 - a0 else ((a0, a1), "before")
    return at + f": frames {other[0]}-{other[1]} ({side} the cut, the shorter part) show another view"


def saved_cameras(groups: Mapping) -> dict[str, Mapping]:
    """Group -> its camera entry (`camera_pictures`' form) of a models.json's groups that keep one."""
    return {g: e["camera"] for g, e in groups.items()
            if isinstance(e, Mapping) and isinstance(e.get("camera"), Mapping)}


def unfitted_cameras(index: Mapping) -> dict[str, Mapping]:
    """Camera -> {"camera": its picture entry, "reason": why it has no model} of a models.json's
    cameras that the fit saw and left without a model (too little history); {} in older indexes.
    Footage of such a camera read "matches none of the models' cameras", which sent the user
    looking for a camera the fit had in fact seen."""
    raw = index.get("unfitted_cameras") if isinstance(index, Mapping) else None
    if not isinstance(raw, Mapping):
        return {}
    return {g: e for g, e in raw.items()
            if isinstance(e, Mapping) and isinstance(e.get("camera"), Mapping) and isinstance(e.get("reason"), str)}


def unfitted_match(picture: np.ndarray, size, unfitted: Mapping[str, Mapping], threshold: float = SAME_CAMERA
                   ) -> str | None:
    """Why a picture that matched no model has none, where it shows a camera the fit left without
    one (`unfitted_cameras`); None otherwise."""
    if not unfitted:
        return None
    camera, _ = match(picture, size, {g: e["camera"] for g, e in unfitted.items()}, threshold)
    if camera is None:
        return None
    return f"it shows {describe(camera, unfitted[camera])}, which the fit left without a model ({unfitted[camera]['reason']})"


def describe(name: str, entry) -> str:
    """A camera group as a person tells it: its name and the first videos it was fitted on."""
    camera = entry.get("camera") if isinstance(entry, Mapping) else None
    if not isinstance(camera, Mapping) or not camera.get("videos"):
        return name
    more = int(camera.get("n_videos", 0)) - len(camera["videos"])
    return f"{name} ({', '.join(camera['videos'])}{f' and {more} more' if more > 0 else ''})"


def match(picture: np.ndarray, size, known: Mapping[str, Mapping], threshold: float = SAME_CAMERA
          ) -> tuple[str | None, float]:
    """The known camera (`camera_pictures`' form) whose mean picture `picture` correlates with best,
    and that correlation; the camera is None under `threshold`."""
    return match_many([picture], [size], known, threshold)[0]


def match_many(pictures: Sequence[np.ndarray], sizes: Sequence, known: Mapping[str, Mapping],
               threshold: float = SAME_CAMERA) -> list[tuple[str | None, float]]:
    """`match` of each picture: the known cameras' pictures made unit rows once and compared with
    all the pictures in one product (a month of one-minute files against hundreds of cameras)."""
    from extract.scene import SCENE_SHAPE

    names = list(known)
    if not pictures:
        return []
    refs = _unit([np.asarray(known[n]["scene"], np.float64).reshape(SCENE_SHAPE) for n in names])
    ref_aspects = _aspects([known[n].get("frame_size") for n in names], len(names))
    sims = np.clip(_unit(pictures) @ refs.T, -1.0, 1.0)
    sims[_apart(_aspects(sizes, len(pictures)), ref_aspects)] = -1.0
    best = np.argmax(sims, axis=1)
    out = []
    for row, b in enumerate(best):
        sim = float(sims[row, b])
        out.append((names[b] if sim >= threshold else None, sim))
    return out


def per_camera_fits(fit_store, scored_store=None, min_clips: int | None = None) -> tuple[bool, str]:
    """Whether one detector per camera suits footage given without a grouping (`videoad run`), and
    why: yes when the footage a model is fitted on (the history, else the footage itself) shows two
    or more cameras by their scene pictures, each in two or more videos, and with a history every
    scored video shows one of its cameras. Otherwise one model over all, as before: a single
    camera; a video of a camera of its own (the demo draws every video's background anew, and one
    video is no camera's history); a video without a picture; a scored camera the history lacks
    (one model over all still scores it). One model over several cameras cost up to 0.18 frame
    AUROC where a model per camera held (`video_defaults.py check-multicam`). With `min_clips`, a
    camera whose videos hold fewer clips than a model is fitted on keeps one model over all (a
    camera of two short videos was skipped whole, its videos scored nowhere and named nowhere)."""
    keys, pics, sizes, missing = _readable_pictures(fit_store)
    if len(keys) < 4:
        return False, ""
    if missing:  # said where the others show several cameras (it was one model over all in silence)
        shown = [i for i, p in enumerate(pics) if p is not None]
        if len(shown) < 2 or cluster([pics[i] for i in shown], [sizes[i] for i in shown]).max() < 1:
            return False, ""
        return False, (f"the videos with a scene picture show several cameras, but {_lacking(missing)}: one model "
                       "over all (rerun the same `videoad extract` command to add the pictures)")
    labels = cluster(pics, sizes)
    counts = np.bincount(labels)
    if len(counts) < 2:
        return False, ""
    if counts.min() < 2:
        return False, (f"{len(counts)} cameras by their scene pictures, {int((counts < 2).sum())} of them in a single "
                       "video: one model over all (--per-camera to fit one per camera anyway)")
    groups = _named(keys, labels)
    said = "; ".join(f"{g}: {len(k)} videos ({', '.join(k[:2])}{', ...' if len(k) > 2 else ''})"
                     for g, k in groups.items())
    if min_clips is not None:
        clips = {g: sum(int(fit_store.attrs(x).get("n_clips", 0)) for x in k) for g, k in groups.items()}
        short = {g: n for g, n in clips.items() if n < int(min_clips)}
        if short:
            return False, (f"{len(groups)} cameras by their scene pictures ({said}), but "
                           + ", ".join(f"{g} has {n} clips" for g, n in short.items())
                           + f" < min_clips={int(min_clips)}: one model over all (--per-camera to fit one per "
                           "camera anyway)")
    if scored_store is not None:
        scored, s_pics, s_sizes, s_missing = _readable_pictures(scored_store)
        if s_missing:
            return False, (f"the history shows {len(groups)} cameras ({said}), but of the scored videos "
                           f"{_lacking(s_missing)}: one model over all (rerun the same `videoad extract` command "
                           "to add the pictures)")
        index = {k: i for i, k in enumerate(keys)}
        known = {g: _camera_entry(k, [pics[index[x]] for x in k], [sizes[index[x]] for x in k])
                 for g, k in groups.items()}
        _, unmatched = _assign_pictures(scored, s_pics, s_sizes, known, SAME_CAMERA)
        if unmatched:
            return False, (f"the history shows {len(groups)} cameras ({said}), but {len(unmatched)} scored video(s) "
                           f"show none of them ({', '.join(list(unmatched)[:3])}): one model over all")
    return True, f"{len(groups)} cameras by their scene pictures ({said}): one model per camera (--pooled for one over all)"


def _readable_pictures(store) -> tuple[list, list, list, list]:
    """(keys, pictures, frame sizes, keys without a picture) of a store's videos whose attributes
    can be read: a file that cannot be read is left out of the scoring by the screen, which says
    so (it is no video without a picture)."""
    keys, unreadable = store.keys(), {}
    pics, sizes, missing = _read_pictures(store, keys, unreadable)
    kept = [i for i, k in enumerate(keys) if k not in unreadable]
    return ([keys[i] for i in kept], [pics[i] for i in kept], [sizes[i] for i in kept],
            [k for k in missing if k not in unreadable])


def _lacking(missing: Sequence[str]) -> str:
    """Videos without a scene picture, in words."""
    return (f"{len(missing)} keep no scene picture or a damaged one ({', '.join(missing[:3])}"
            + (f" and {len(missing) - 3} more" if len(missing) > 3 else "") + ")")


def assign(store, keys: Sequence[str], known: Mapping[str, Mapping], threshold: float = SAME_CAMERA, *,
           whose: str = "history's", unfitted: Mapping[str, Mapping] | None = None
           ) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Scored keys to the known cameras (`camera_pictures`' form), each to the one `match` finds;
    (camera -> keys, key -> why it matches none). `whose`: the cameras' owner as the reasons say it
    ("history's", "models'"); `unfitted`: cameras the fit saw and left without a model
    (`unfitted_cameras`), which a reason names where a video shows one. A video without a picture
    (or with a damaged one) is one that matches none, with why: one such file among today's
    footage stopped the scoring of every camera."""
    pics, sizes, missing = _read_pictures(store, keys)
    lacking = set(missing)
    pictured = [i for i, k in enumerate(keys) if k not in lacking]
    groups, unmatched = _assign_pictures([keys[i] for i in pictured], [pics[i] for i in pictured],
                                         [sizes[i] for i in pictured], known, threshold, whose, unfitted)
    for key in missing:
        unmatched[key] = NO_PICTURE
    return groups, {k: unmatched[k] for k in keys if k in unmatched}


#: why a scored video without a scene picture is matched to no camera (`assign`)
NO_PICTURE = ("it keeps no scene picture or a damaged one, so its camera cannot be told: rerun the same `videoad "
              "extract` command, which adds it (one decode of the source, no feature recomputed)")


def _assign_pictures(keys: Sequence[str], pics: Sequence[np.ndarray], sizes: Sequence, known: Mapping[str, Mapping],
                     threshold: float, whose: str = "history's", unfitted: Mapping[str, Mapping] | None = None
                     ) -> tuple[dict[str, list[str]], dict[str, str]]:
    """`assign` of pictures already read."""
    groups: dict[str, list[str]] = {}
    unmatched: dict[str, str] = {}
    for key, pic, size, (camera, sim) in zip(keys, pics, sizes, match_many(pics, sizes, known, threshold)):
        if camera is not None:
            groups.setdefault(camera, []).append(key)
        else:
            why = unfitted_match(pic, size, unfitted or {}, threshold)
            unmatched[key] = why or none_matched(sim, known, threshold, whose) + ": fit on footage of this camera"
    return dict(sorted(groups.items())), unmatched


def none_matched(sim: float | None, known, threshold: float, whose: str) -> str:
    """Why a picture matched none of `known` cameras (`whose`: "history's", "models'"), in words:
    `match` gives -1 where its frames' shape (width / height) is none of theirs, which read as
    "best correlation -1.00"."""
    if sim is not None and sim <= -1.0:
        return (f"its frames' shape (width / height) is that of none of the {whose} cameras "
                f"({', '.join(sorted(known))})")
    return (f"its scene matches none of the {whose} cameras ({', '.join(sorted(known))}; best correlation "
            f"{sim:.2f} < {threshold:g})")


#: a camera's videos compared pairwise at most (an even sample of them) for its lowest correlation
SURVEY_PAIRS = 512


def survey(store, keys: Sequence[str] | None = None, threshold: float = SAME_CAMERA) -> dict:
    """What `--per-camera` would make of a store, before any fit: the cameras (each with its videos,
    the lowest correlation between two of them, from an even sample of SURVEY_PAIRS where it has more,
    and its nearest other camera by average linkage's own measure, the mean correlation between
    their videos, and `cut_videos`: those of its videos that scene cuts split between views), and the
    videos that keep no picture or cannot be read. No n x n matrix."""
    keys = list(store.keys() if keys is None else keys)
    unreadable: dict[str, str] = {}
    pics, sizes, _ = _read_pictures(store, keys, unreadable)
    have = [i for i, p in enumerate(pics) if p is not None]
    out: dict = {"threshold": threshold, "videos": len(keys), "cameras": [], "unreadable": unreadable,
                 "missing": [k for k, p in zip(keys, pics) if p is None and k not in unreadable]}
    if not have:
        return out
    flat, aspects = _unit([pics[i] for i in have]), _aspects([sizes[i] for i in have], len(have))
    labels = _renumber(_cluster_rows(flat, aspects, threshold))  # `cluster`, on the rows read here
    members = [np.flatnonzero(labels == c) for c in range(int(labels.max()) + 1)]
    means = np.stack([flat[idx].mean(axis=0) for idx in members])
    between = means @ means.T  # the mean correlation between two cameras' videos
    firsts = aspects[[idx[0] for idx in members]]
    between[_apart(firsts, firsts)] = -1.0
    np.fill_diagonal(between, -np.inf)
    for c, idx in enumerate(members):
        sample = idx[np.linspace(0, len(idx) - 1, min(len(idx), SURVEY_PAIRS)).round().astype(int)]
        inner = (flat[sample] @ flat[sample].T)[np.triu_indices(len(sample), 1)]
        near = int(np.argmax(between[c])) if len(members) > 1 else None
        out["cameras"].append({
            "name": camera_name(c), "videos": [keys[have[i]] for i in idx],
            "frame_size": sizes[have[idx[0]]],
            "lowest_within": float(inner.min()) if inner.size else None, "within_sampled": len(sample) < len(idx),
            # frames of another shape are another camera whatever they show: no correlation to report
            "nearest": None if near is None or between[c, near] <= -1.0 else {
                "camera": camera_name(near), "mean_correlation": float(between[c, near])}})
        cut = cut_videos(store, out["cameras"][-1]["videos"])
        if cut:  # videos that show this camera most, another view in the rest (`cut_videos`)
            out["cameras"][-1]["cut_videos"] = cut
    return out


def survey_text(found: dict, shown: int = 4) -> str:
    """`survey` as lines a person reads, each name on its line (`one_line`)."""
    cams = found["cameras"]
    pictured = found["videos"] - len(found["missing"]) - len(found["unreadable"])
    lines = [f"{len(cams)} camera(s) among {pictured} video(s) with a scene picture "
             f"(joined at a correlation of {found['threshold']:g} or more)"]
    for cam in cams:
        vids = cam["videos"]
        size = cam["frame_size"]
        line = (f"{cam['name']}: {len(vids)} video(s)" + (f", frames {size[1]}x{size[0]}" if size else "")
                + f": {', '.join(vids[:shown])}" + (f" and {len(vids) - shown} more" if len(vids) > shown else ""))
        if cam["lowest_within"] is not None:
            line += f"; lowest correlation within {cam['lowest_within']:.2f}"
            line += f" (of {SURVEY_PAIRS} of its videos)" if cam.get("within_sampled") else ""
        if cam["nearest"] is not None:
            line += f"; nearest {cam['nearest']['camera']} ({cam['nearest']['mean_correlation']:.2f})"
        lines.append(line)
        cut = cam.get("cut_videos")
        if cut:
            named = [f"{k} ({cut_parts_text(e)})" for k, e in list(cut.items())[:shown]]
            lines.append(f"{cam['name']}: {len(cut)} of its video(s) change view at a scene cut: "
                         + "; ".join(named) + (f" and {len(cut) - shown} more" if len(cut) > shown else "")
                         + f": each is listed here, and --per-camera scores it whole, as {cam['name']} (the view it "
                           f"shows most), its part(s) showing another view against {cam['name']}'s normal (split "
                           "the file at the cut and extract the parts apart, or `videoad watch` it with models "
                           "saved --per-camera, which switches model at a cut)")
    if found["missing"]:
        miss = found["missing"]
        lines.append(f"{len(miss)} video(s) keep no scene picture ({', '.join(miss[:shown])}"
                     + (f" and {len(miss) - shown} more" if len(miss) > shown else "")
                     + "): extracted before pictures were kept (rerun the same extract command to add them) "
                       "or imported")
    lines += [f"unreadable: {why}" for why in found["unreadable"].values()]
    return "\n".join(one_line(line) for line in lines)  # a name's line feed would forge a line


def contact_sheet(store, found: dict, path, per_row: int = 8, scale: int = 4, per_camera: int = 16):
    """A PNG of the videos' scene pictures, one block of rows per camera (its first `per_camera`
    videos, the last box saying how many more), each picture named: to see what was joined and
    what was split."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from extract.scene import scene_of
    from videoad.plots import safe_text

    rows = []  # (camera name or "", [keys])
    more = {}  # the last key shown of a camera -> how many of its videos are not
    for cam in found["cameras"]:
        vids = cam["videos"][:per_camera]
        if len(cam["videos"]) > per_camera:
            more[vids[-1]] = len(cam["videos"]) - per_camera
        for start in range(0, len(vids), per_row):
            rows.append((cam["name"] if start == 0 else "", vids[start:start + per_row]))
    if not rows:
        raise ValueError(f"{store.root}: no video keeps a scene picture to draw")
    cols = max(len(k) for _, k in rows)
    fig, axes = plt.subplots(len(rows), cols, figsize=(cols * 0.32 * scale, len(rows) * 0.3 * scale), squeeze=False)
    for r, (name, keys) in enumerate(rows):
        for c in range(cols):
            ax = axes[r][c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c >= len(keys):
                ax.axis("off")
                continue
            ax.imshow(scene_of(store.attrs(keys[c])), cmap="gray", vmin=0, vmax=255)
            ax.set_title(safe_text(keys[c].rsplit("/", 1)[-1][:22]), fontsize=7)
            if keys[c] in more:
                ax.set_xlabel(f"and {more[keys[c]]} more", fontsize=7)
            if c == 0 and name:
                ax.set_ylabel(safe_text(name), fontsize=9)
    fig.tight_layout()
    from videoad.plots import save_figure

    save_figure(fig, path, dpi=100)
    plt.close(fig)
    return path
