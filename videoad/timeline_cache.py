"""The timelines a rerun need not draw again: per picture, the key of what it was drawn from, the
digest of its bytes and the geometry the report marks moments by.

A report over a dataset (1,900 videos) spent most of its time redrawing timelines that had not
changed since its last run (new event settings, a new annotation file, one more category
detected). `plots.draw_timelines` keys each picture by a hash of everything its drawing reads
(`plots.drawing_inputs`) and keeps, in one small file beside the pictures (`KEYS`), that key, the
digest of the picture's bytes and its geometry. A picture whose key and bytes match it is kept
as it is: the bytes a fresh draw writes. Anything else (no key file, an unreadable or foreign
one, a picture missing or changed since) is drawn again, never an error.
"""
from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

#: the key file, in the folder of the pictures it keys (a report's `timelines/`, `plot`'s folder)
KEYS = ".videoad-timeline-keys.json"
#: the key file's layout; a file of another is read as none
FORMAT = 1


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
    else:  # a new kind of drawing input must be keyed on purpose, not by its repr
        raise TypeError(f"timeline key: cannot key a {type(x).__name__}")


def _sized(h, tag: bytes, data: bytes) -> None:
    h.update(tag + b"%d:" % len(data))
    h.update(data)


def digest(path) -> str | None:
    """The sha256 of the file's bytes, None where it cannot be read."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


class TimelineKeys:
    """The key file of one folder of pictures, read once; `reuse` asks it of a picture, `save`
    writes it anew (atomically) after a drawing."""

    def __init__(self, path) -> None:
        self.path = Path(path)
        self.folder = self.path.parent
        self.entries = self._read()
        self._digests: dict[str, str] = {}  # pictures read for `reuse`: not read again for `save`

    def _read(self) -> dict[str, dict]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("pictures"), dict):
            return {}
        return {name: e for name, e in data["pictures"].items() if isinstance(e, dict)}

    def name(self, picture) -> str | None:
        """The picture's entry name: its file name, where it lies in the key file's folder."""
        picture = Path(picture)
        return picture.name if picture.parent == self.folder and picture.name != KEYS else None

    def reuse(self, picture, key: str | None) -> dict | None:
        """The geometry recorded for `picture` where it was drawn from `key` and its bytes are
        those then written; None where it must be drawn."""
        name = self.name(picture)
        entry = self.entries.get(name) if name and key else None
        if entry is None or entry.get("key") != key or not isinstance(entry.get("geometry"), dict):
            return None
        found = digest(picture)
        if found is None or found != entry.get("digest"):
            return None
        self._digests[name] = found
        return entry["geometry"]

    def save(self, pictures: list[tuple[Path, str | None, dict]]) -> None:
        """Record this drawing's (picture, key, geometry), key None: not to be kept (drawn again
        next time), beside the earlier entries of pictures still there that it did not draw (a
        `plot --video` of some videos keeps the others'). A write that fails loses only the next
        run's saving."""
        from extract.store import write_atomic

        mine = {self.name(p) for p, _, _ in pictures}
        kept = {name: e for name, e in self.entries.items()
                if name not in mine and Path(name).name == name and (self.folder / name).is_file()}
        for picture, key, geometry in pictures:
            name = self.name(picture)
            found = (self._digests.get(name) or digest(picture)) if name and key else None
            if found is not None:
                kept[name] = {"key": key, "digest": found, "geometry": geometry}
        text = json.dumps({"format": FORMAT, "pictures": dict(sorted(kept.items()))}, ensure_ascii=False)
        try:
            write_atomic(self.path, (text + "\n").encode("utf-8"), sync=False)
        except OSError as exc:
            log.debug("%s: not written (%s)", self.path, exc)
