"""The run manifest: which videos are done or failed (with reasons), and shard merging.

The feature files are the truth about what is done; the manifest adds what files cannot say
(failures and their reasons, notes such as "container claims 444 frames, 68 decoded", whether
the run that wrote it reached its end). It is rewritten atomically, at most about once a second
(less often for a manifest so large that its writing would take more than `SAVE_SHARE` of the run)
and at the end, so a killed run leaves a valid manifest that is merely behind.

An unsharded run writes `manifest.json`; shard i of N writes `manifest.shard-i-of-N.json`, so
that shards running at the same time on one store never write the same file. `merge_shards`
checks that all N shards ran to their end and joins them into `manifest.json`.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .store import SUFFIX, output_error, read_attrs, remove_store_temporaries, removed_note, write_atomic

log = logging.getLogger(__name__)

FORMAT = "videoad-extract-manifest/1"
MANIFEST = "manifest.json"
_SHARD_RE = re.compile(r"^manifest\.shard-(\d+)-of-(\d+)\.json$")
#: the most of a run's time that rewriting its manifest may take: a save waits at least its last
#: write's duration divided by this. At a save a second, a manifest of N videos cost the run's main
#: process (the one that also batches clips through the backbone) time in proportion to N: about 2%
#: at UCF-Crime's 1,900 videos (17 ms a save), 12% at 20,000 (135 ms; benchmarks/bench_manifest.py)
SAVE_SHARE = 0.05


def manifest_name(shard: tuple[int, int] | None) -> str:
    return MANIFEST if shard is None else f"manifest.shard-{shard[0]}-of-{shard[1]}.json"


def settings_id(settings_json: str | None) -> str | None:
    """A short fingerprint of a feature file's `settings_json`, kept in the manifest beside the
    video: merge compares it with the file's own, so that a file rewritten since by another run
    (other settings) is not merged under the shards' manifest."""
    return None if settings_json is None else hashlib.sha256(settings_json.encode()).hexdigest()[:16]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Atomically; a full or read-only disk raises `OutputError` and leaves no temporary."""
    text = json.dumps(data, indent=1, sort_keys=True, allow_nan=False, ensure_ascii=False)
    # a file name that is not UTF-8 (its bytes held as surrogates) is written as JSON's \udcXX
    # escape, which reads back as the same name
    try:
        write_atomic(path, text.encode("utf-8", "backslashreplace"))
    except PermissionError as exc:  # a store this user may not write: named, not a hidden temporary's errno
        raise output_error(path, exc, store=True) from None


def _reason(exc: Exception, path: Path) -> str:
    """The first line of `exc`'s message without the name of `path` it may start with."""
    text = (str(exc).strip() or type(exc).__name__).splitlines()[0]
    return text[len(str(path)):].strip(" :").removeprefix("is ") if text.startswith(str(path)) else text


def _read_json(path: Path) -> dict[str, Any]:
    """A manifest, its fields of the kinds this module reads (a ValueError naming the file otherwise:
    a hand-edited `"videos": {"a.mp4": "done"}` or `"keys": null` was a traceback from merge, exit 1,
    which says "merged", and `"complete": "no"` merged as complete)."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, dict) or not isinstance(data.get("videos"), dict):
        raise ValueError(f"{path} is not an extraction manifest")
    wrong = [name for name, ok in (
        ("videos", all(isinstance(e, dict) for e in data["videos"].values())),
        ("keys", "keys" not in data or (isinstance(data["keys"], list) and all(isinstance(k, str) for k in data["keys"]))),
        ("complete", data.get("complete") is None or isinstance(data["complete"], bool))) if not ok]
    if wrong:
        raise ValueError(f"{path} is not an extraction manifest (its {', '.join(wrong)} not as videoad writes them)")
    return data


class Manifest:
    """The manifest one run (or shard) owns, updated as videos finish."""

    def __init__(self, root: str | os.PathLike, *, input_root: str, settings: dict[str, Any],
                 n_videos_total: int, keys: list[str], shard: tuple[int, int] | None = None,
                 min_interval_s: float = 1.0, listing: str | None = None) -> None:
        """`listing`: a digest of every video the input listed (all shards'), so that a merge can
        tell shards that saw different inputs apart even where their counts agree."""
        self.root = Path(root)
        self.path = self.root / manifest_name(shard)
        self.min_interval_s = min_interval_s
        if shard is not None and (self.root / MANIFEST).is_file():
            # a merged manifest no longer speaks for a store a shard is changing: until `videoad merge`
            # joins the shards again, readers go by the shard manifests (an unfinished shard then shows)
            (self.root / MANIFEST).unlink()
            log.info("%s: %s removed until `videoad merge` joins the shards again", self.root, MANIFEST)
        self._last_save = 0.0
        self._last_cost = 0.0  # seconds the latest write took
        #: key -> the source's absolute path, for failed entries (`record`); set by the run
        self.sources: dict[str, str] = {}
        previous: dict[str, Any] = {}
        #: the input folder the store's earlier run read (None: no earlier manifest)
        self.previous_root: str | None = None
        #: what to say of an earlier manifest that could not be read (None: none such)
        self.rebuilt: str | None = None
        if self.path.exists():
            try:
                earlier = _read_json(self.path)
                previous, self.previous_root = earlier["videos"], earlier.get("input_root")
            except (OSError, ValueError, KeyError, TypeError) as exc:
                previous = {}  # unreadable: rebuilt from this run and the files
                self.rebuilt = (f"{self.path} could not be read ({_reason(exc, self.path)}): rebuilt from the feature "
                                "files and this run's videos (failures it recorded of other videos are lost)")
        # earlier successes stay listed while their files exist (the run may cover part of the
        # input this time); an earlier failure stays until a run over that video again
        ours = set(keys)
        videos = {key: entry for key, entry in previous.items()
                  if (entry.get("status") == "done" and (self.root / (key + SUFFIX)).is_file())
                  or (entry.get("status") == "failed" and key not in ours)}
        self.data: dict[str, Any] = {
            "format": FORMAT, "input_root": input_root, "settings": settings,
            "shard": list(shard) if shard else None, "n_videos_total": n_videos_total,
            **({"listing": listing} if listing else {}),
            "keys": sorted(keys), "complete": False, "started": _now(), "updated": _now(),
            "videos": videos,
        }

    @property
    def videos(self) -> dict[str, dict[str, Any]]:
        return self.data["videos"]

    def record(self, key: str, entry: dict[str, Any]) -> None:
        self.videos[key] = {k: v for k, v in entry.items() if v is not None}
        if entry.get("status") == "failed" and key in self.sources:  # where it was: a reader tells a failure
            self.videos[key]["source_path"] = self.sources[key]   # of a video deleted since (groups.not_extracted)
        self.save()

    def save(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_save < max(self.min_interval_s, self._last_cost / SAVE_SHARE):
            return
        self.data["updated"] = _now()
        _write_json(self.path, self.data)
        self._last_save = time.monotonic()
        self._last_cost = self._last_save - now

    def finish(self) -> None:
        self.data["complete"] = True
        self.save(force=True)


def shard_manifests(root: str | os.PathLike) -> dict[tuple[int, int], Path]:
    found = {}
    for entry in os.scandir(root):
        match = _SHARD_RE.match(entry.name)
        if match:
            found[(int(match.group(1)), int(match.group(2)))] = Path(entry.path)
    return dict(sorted(found.items()))


def read_store_manifest(root: str | os.PathLike) -> dict[str, Any]:
    """`manifest.json` if present, else the shard manifests joined (complete only when all N
    shards are there and complete), else an empty manifest: a store needs no manifest."""
    root = Path(root)
    if (root / MANIFEST).is_file():
        return _read_json(root / MANIFEST)
    shards = shard_manifests(root)
    if not shards:
        return {"format": FORMAT, "complete": None, "videos": {}}
    parts = [_read_json(path) for path in shards.values()]
    counts = {n for _, n in shards}
    joined: dict[str, Any] = {}
    for part in parts:
        joined.update(part["videos"])
    complete = (len(counts) == 1 and len(shards) == next(iter(counts))
                and all(p.get("complete") for p in parts)
                # one run's shards: the same settings, the same input listing (a shard rerun after
                # videos arrived, or with other options, is not that run's)
                and len({json.dumps(p.get("settings"), sort_keys=True, default=str) for p in parts}) == 1
                and len({p.get("listing") for p in parts}) == 1)
    return {"format": FORMAT, "complete": complete, "shards": [list(s) for s in shards],
            "settings": parts[0].get("settings"), "videos": dict(sorted(joined.items()))}


@dataclass
class MergeReport:
    n_shards: int = 0
    n_done: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    #: reasons the shards cannot be merged (missing, unfinished, inconsistent)
    problems: list[str] = field(default_factory=list)
    #: what the merge passed over (another sharding's manifests beside a complete one)
    notes: list[str] = field(default_factory=list)
    path: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.problems and not self.failed


def same_folder(a, b) -> bool:
    """Whether two recorded input folders are one (another spelling: a symlink, a mount's name)."""
    if a == b:
        return True
    if a is None or b is None:
        return False
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def merge_shards(root: str | os.PathLike) -> MergeReport:
    """Check that every shard of one N-way run finished, then write the joined `manifest.json`.

    Nothing is written when a shard is missing or unfinished, when shards disagree on the
    settings or the video list, or when a video a shard lists as done has no feature file.
    Failed videos do not block the merge; they are reported (and make `ok` false).
    """
    root = Path(root)
    report = MergeReport()
    # a merge killed mid-write left one; a shard killed and not rerun alike (once none writes: `videoad merge`
    # holds the store alone) left its videos' for good, as did one whose video left the input since
    removed = remove_store_temporaries(root)
    if removed:
        report.notes.append(removed_note(root, removed))
    shards = shard_manifests(root)
    counts = sorted({n for _, n in shards})
    if not shards:
        report.problems.append(f"no shard manifests (manifest.shard-i-of-N.json) in {root}")
        return report
    later = _unsharded_manifest(root)
    if later:  # the shards' view would replace it: the videos and failures that run recorded were lost
        report.problems.append(later)
        return report
    read: dict[tuple[int, int], dict] = {}
    unreadable: dict[tuple[int, int], str] = {}
    for (index, count), path in shards.items():
        try:
            read[(index, count)] = _read_json(path)
        except (OSError, ValueError) as exc:  # a kill mid-write before write_atomic, a hand edit
            unreadable[(index, count)] = f"shard {index}/{count}: {path.name} cannot be read ({exc}): rerun that shard"
    if len(counts) > 1:  # a run resharded: the sharding whose every shard finished is the one to merge
        whole = [c for c in counts if all(read.get((i, c), {}).get("complete") for i in range(c))]
        if len(whole) != 1:
            by_n = "; ".join(f"N={c}: " + ", ".join(sorted(p.name for (_, k), p in shards.items() if k == c))
                             for c in counts)
            report.problems += list(unreadable.values())
            report.problems.append(f"manifests of different shardings side by side, "
                                   f"{'none' if not whole else 'more than one'} complete ({by_n}); delete those of "
                                   "the sharding you gave up")
            return report
        report.notes.append(f"passed over the manifests of another sharding (N in "
                            f"{[c for c in counts if c != whole[0]]}): "
                            + ", ".join(sorted(p.name for (_, c), p in shards.items() if c != whole[0])))
        shards = {k: v for k, v in shards.items() if k[1] == whole[0]}
        counts = whole
    report.problems += [why for key, why in unreadable.items() if key in shards]
    if report.problems:
        return report
    n = counts[0]
    report.n_shards = n
    missing = [i for i in range(n) if (i, n) not in shards]
    if missing:
        report.problems.append(f"shards {missing} of {n} have not written a manifest")
    parts = {index: read[(index, c)] for (index, c) in shards}
    for index, part in parts.items():
        if not part.get("complete"):
            report.problems.append(f"shard {index}/{n} did not finish (rerun it to complete it)")
    reference = next(iter(parts.values()))
    videos: dict[str, Any] = {}
    planned: set[str] = set()
    rewritten: list[tuple[int, str]] = []
    for index, part in parts.items():
        if part.get("settings") != reference.get("settings"):  # named: the user reruns that shard with them
            first = next(iter(parts))
            report.problems.append(f"shard {index}/{n} ran with different settings than shard {first}/{n} ("
                                   + settings_change(json.dumps(reference.get("settings"), default=str),
                                                     json.dumps(part.get("settings"), default=str))
                                   + f"): rerun shard {index}/{n} with shard {first}/{n}'s settings")
        if part.get("n_videos_total") != reference.get("n_videos_total"):
            report.problems.append(f"shard {index}/{n} saw a different video list "
                                   f"({part.get('n_videos_total')} vs {reference.get('n_videos_total')})")
        elif part.get("listing") != reference.get("listing"):
            report.problems.append(f"shard {index}/{n} saw a different video list (as many videos, other names: "
                                   "the input changed between the shards' runs)")
        if not same_folder(part.get("input_root"), reference.get("input_root")):
            report.problems.append(f"shard {index}/{n} read another input ({part.get('input_root')} against "
                                   f"{reference.get('input_root')}): one store must come from one input")
        for key in part.get("keys", []):
            if key in planned:
                report.problems.append(f"{key} belongs to two shards")
            planned.add(key)
        for key in part.get("keys", []):
            entry = part["videos"].get(key)
            if entry is None:
                report.problems.append(f"shard {index}/{n} has no result for {key}")
                continue
            videos[key] = entry
            if entry.get("status") == "done":
                if not (root / (key + SUFFIX)).is_file():
                    report.problems.append(f"{key} is listed as done but {key}{SUFFIX} is missing")
                elif entry.get("settings") is not None and _settings_of(root / (key + SUFFIX)) != entry["settings"]:
                    rewritten.append((index, key))
                report.n_done += 1
            else:
                report.failed[key] = entry.get("reason", "failed")
    if rewritten:  # another run into this store since the shards (unsharded, or another sharding)
        shown = ", ".join(f"{key} (shard {index}/{n})" for index, key in rewritten[:5])
        report.problems.append(f"{len(rewritten)} feature file(s) are no longer the ones their shard wrote: another "
                               f"extraction into this store rewrote them with other settings ({shown}"
                               + (f" and {len(rewritten) - 5} more" if len(rewritten) > 5 else "")
                               + "); rerun the shards to make them theirs again, or keep that run's files and delete "
                               "the shard manifests")
    if not report.problems and len(planned) != reference.get("n_videos_total"):
        report.problems.append(f"the shards list {len(planned)} videos of the {reference.get('n_videos_total')} "
                               "their input holds: rerun the shards with this version")
    if report.problems:
        return report
    merged = {
        "format": FORMAT, "input_root": reference.get("input_root"),
        "settings": reference.get("settings"), "shard": None, "merged_from": n,
        "n_videos_total": reference.get("n_videos_total"), "keys": sorted(planned),
        "complete": True, "updated": _now(), "videos": dict(sorted(videos.items())),
    }
    report.path = root / MANIFEST
    _write_json(report.path, merged)
    return report


def _unsharded_manifest(root: Path) -> str | None:
    """Why the shards of `root` are not merged when its `manifest.json` is an unsharded run's (one
    `merge_shards` did not write): a shard's run removes that file, so such a run came after the
    shards, and its manifest, not theirs, is the store's. Else None."""
    try:
        current = _read_json(root / MANIFEST)
    except (OSError, ValueError):  # none, or damaged: the merge writes it anew
        return None
    if current.get("merged_from") is not None:
        return None
    return (f"{root / MANIFEST} was written by an extraction without --shard after the shards ran "
            f"({len(current['videos'])} video(s), updated {current.get('updated', '?')}): it is the store's "
            "manifest now and the shards' are older, so there is nothing to merge (delete the shard manifests; "
            "or rerun every shard, then merge)")


def _settings_of(path: Path) -> str | None:
    try:
        return settings_id(read_attrs(path).get("settings_json"))
    except (OSError, ValueError):  # damaged: not the file the shard wrote either
        return None


def settings_change(made_json, want_json, most: int = 3) -> str:
    """What differs between two settings records (`settings_json`), as a person reads it: the
    differing fields by dotted name, each "was -> now"; a long text (a backbone's preprocessing
    description) by its first differing clause."""
    try:
        made, want = json.loads(made_json or "{}"), json.loads(want_json or "{}")
    except (TypeError, ValueError):
        return "the stored record cannot be read"
    diffs: list[str] = []

    def walk(a, b, path: str) -> None:
        if isinstance(a, dict) and isinstance(b, dict):
            for k in sorted(set(a) | set(b)):
                walk(a.get(k), b.get(k), f"{path}.{k}" if path else str(k))
        elif a != b:
            diffs.append(f"{path or 'settings'} {_was_now(a, b)}")

    walk(made, want, "")
    if not diffs:
        return "the same fields, written otherwise"
    return "; ".join(diffs[:most]) + (f"; and {len(diffs) - most} more" if len(diffs) > most else "")


def _was_now(a, b, width: int = 70) -> str:
    """'a -> b' of two values, each cut to `width`; two long texts by their first differing
    clause (clauses split at "; "; a clause one of them lacks reads as null)."""
    if isinstance(a, str) and isinstance(b, str) and max(len(a), len(b)) > width:
        pa, pb = a.split("; "), b.split("; ")
        at = next((i for i, (x, y) in enumerate(zip(pa, pb)) if x != y), min(len(pa), len(pb)))
        a, b = (pa[at] if at < len(pa) else None), (pb[at] if at < len(pb) else None)

    def short(v) -> str:
        text = json.dumps(v)
        return text if len(text) <= width else text[: width - 4] + '..."'

    return f"{short(a)} -> {short(b)}"
