"""What a report's rerun need not make again: the files an earlier run made from the same inputs.

A report over a dataset (1,900 videos) spent most of a rerun remaking files whose inputs had not
changed since its last run (new event settings, a new annotation file, one more category
detected): the timelines (`plots.draw_timelines`) and each event's picture and clip
(`evidence.write_evidence`). Each keeps, in one small file beside its outputs (`TIMELINE_KEYS`,
`EVENT_KEYS`), per entry (a timeline; an event's picture and clip) the key of everything it was
made from (`key_of`), the digest of each of its files' bytes, and what the caller needs of it
without remaking it (a timeline's geometry, an event's media). An entry whose key and files all
match is kept as it is: the files a fresh run writes. Anything else (no key file, an unreadable or
foreign one, a file missing or changed since) is made again, never an error.
"""
from __future__ import annotations

import functools
import hashlib
import importlib
import json
import logging
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

#: the key file of a folder of timelines (a report's `timelines/`, `plot`'s folder)
TIMELINE_KEYS = ".videoad-timeline-keys.json"
#: the key file of a report's `events/` (each event's picture and clip)
EVENT_KEYS = ".videoad-event-keys.json"
#: the key files' layout; a file of another is read as none (1: a timeline's one "digest", until 2026-12-07)
FORMAT = 2


def key_of(value) -> str:
    """A hex digest of `value` (nested tuples, lists and dicts of numbers, strings, None and
    arrays), each part typed and sized so that no two different values write the same bytes."""
    h = hashlib.sha256()
    _feed(h, value)
    return h.hexdigest()


def _feed(h, x) -> None:
    if x is None:
        h.update(b"N")
    elif isinstance(x, (bool, np.bool_)):
        h.update(b"T" if x else b"F")
    elif isinstance(x, (int, np.integer)):
        h.update(b"I%d;" % int(x))
    elif isinstance(x, (float, np.floating)):
        h.update(b"D" + float(x).hex().encode() + b";")  # exact, NaN and inf included
    elif isinstance(x, str):
        _sized(h, b"S", x.encode("utf-8", "surrogatepass"))
    elif isinstance(x, np.ndarray):
        _sized(h, b"A", f"{x.dtype.str}{x.shape}".encode())
        _sized(h, b"", np.ascontiguousarray(x).tobytes())
    elif isinstance(x, (tuple, list)):
        h.update(b"L%d;" % len(x))
        for item in x:
            _feed(h, item)
    elif isinstance(x, dict):
        _feed(h, sorted(x.items()))
    else:  # a new kind of input must be keyed on purpose, not by its repr
        raise TypeError(f"output key: cannot key a {type(x).__name__}")


def _sized(h, tag: bytes, data: bytes) -> None:
    h.update(tag + b"%d:" % len(data))
    h.update(data)


#: the packages whose code makes what a key keeps (timelines, event pictures and clips)
CODE_PACKAGES = ("videoad", "extract")


@functools.lru_cache(maxsize=None)
def code_digest(roots: tuple[str, ...] | None = None) -> str:
    """One digest of every .py file of `roots` (default: this install's `CODE_PACKAGES`), paths and
    bytes, read once per process. The pictures are drawn through many modules (events.fmt_score
    writes their numbers, VideoScores places their frames, extract.decode reads the peak frames):
    any change to the code draws them again, rather than a list of modules kept up to date by hand
    (1.5 MB of source: a few milliseconds)."""
    if roots is None:  # each package where it is imported from (a checkout, or an installed wheel)
        roots = tuple(str(Path(importlib.import_module(name).__file__).resolve().parent) for name in CODE_PACKAGES)
    h = hashlib.sha256()
    for root in roots:
        for path in sorted(Path(root).rglob("*.py")):
            _sized(h, b"P", path.relative_to(root).as_posix().encode())
            _sized(h, b"", (digest(path) or "").encode())
    return h.hexdigest()


def digest(path) -> str | None:
    """The sha256 of the file's bytes, None where it cannot be read."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:  # by blocks: a minute of event clip is tens of MB
            while block := fh.read(1 << 20):
                h.update(block)
    except OSError:
        return None
    return h.hexdigest()


class KeyFile:
    """The key file of one folder of outputs, read once: `reuse` asks it of an entry, `save` writes
    it anew (atomically) after a run. `entries` names the file's table of entries and `payload`
    what each keeps for its caller ("pictures"/"geometry" for timelines, "events"/"media" for
    events). An entry's files are plain names in the key file's folder."""

    def __init__(self, path, *, entries: str, payload: str) -> None:
        self.path = Path(path)
        self.folder = self.path.parent
        self.table, self.payload = entries, payload
        self.entries = self._read()
        self._digests: dict[str, str] = {}  # files read for `reuse`: not read again for `save`

    def _read(self) -> dict[str, dict]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get(self.table), dict):
            return {}
        return {name: e for name, e in data[self.table].items()
                if isinstance(e, dict) and isinstance(e.get("files"), dict)}

    def _name(self, path) -> str | None:
        """`path`'s file name, where it lies in the key file's folder (and is not the key file)."""
        path = Path(path)
        return path.name if path.parent == self.folder and path.name != self.path.name else None

    def reuse(self, name: str, key: str | None, files, accept=None) -> dict | None:
        """What entry `name` keeps where it was made from `key` into exactly `files`, each with the
        bytes then written, and `accept(what it keeps)` (the caller's check that it is of this
        version's making) holds; None where it must be made again."""
        entry = self.entries.get(name) if key else None
        if entry is None or entry.get("key") != key or not isinstance(entry.get(self.payload), dict):
            return None
        if accept is not None and not accept(entry[self.payload]):
            return None
        names = [self._name(f) for f in files]
        if not names or None in names or set(names) != set(entry["files"]):
            return None
        found = {}
        for file_name in names:
            found[file_name] = digest(self.folder / file_name)
            if found[file_name] is None or found[file_name] != entry["files"][file_name]:
                return None  # the entry is made again, each of its files written anew
        self._digests.update(found)
        return entry[self.payload]

    def save(self, made: list[tuple[str, str | None, list, dict]]) -> None:
        """Record this run's entries (name, key, files, payload), key None: not to be kept (made
        again next time), beside the earlier entries it did not make whose files are all still
        there (a `plot --video` of some videos keeps the others'). A write that fails loses only
        the next run's saving."""
        from extract.store import write_atomic

        mine = {name for name, _, _, _ in made}
        kept = {name: e for name, e in self.entries.items()
                if name not in mine and e["files"] and all(
                    isinstance(f, str) and Path(f).name == f and (self.folder / f).is_file() for f in e["files"])}
        for name, key, files, payload in made:
            names = [self._name(f) for f in files]
            if not key or not names or None in names:
                continue
            found = {f: self._digests.get(f) or digest(self.folder / f) for f in names}
            if None not in found.values():
                kept[name] = {"key": key, "files": found, self.payload: payload}
        text = json.dumps({"format": FORMAT, self.table: dict(sorted(kept.items()))}, ensure_ascii=False)
        try:
            write_atomic(self.path, (text + "\n").encode("utf-8"), sync=False)
        except OSError as exc:
            log.debug("%s: not written (%s)", self.path, exc)
