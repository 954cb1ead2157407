"""When a recording began, so that an event can be told by the clock ("08:14:03") and not only by
its seconds into a file.

Recorders say it in one of two places: the file name (DVR and NVR exports and most cameras' own
recordings name each segment by its start, `cam1_20261205_080000.mp4`, `2026-12-05 08-00-00.mkv`),
or the container's `creation_time` tag (phones, body cameras, action cameras; kept by a remux).
The name is taken first: it is what the recorder wrote for this segment, while a tag can be the
time a file was re-encoded. A name's time carries no time zone (the recorder's local clock); a
tag's is usually UTC and is kept as written. Neither is guessed at: a name with only a date, or
digits that are no valid date and time, gives nothing.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

#: a date and a time of day in a name: 20261205_080000, 20261205080000, 2026-12-05_08-00-00,
#: 2026-12-05 08.00.00, 2026-12-05T08:00:00 (years 1990-2099; separators optional, but alike in
#: the date and alike in the time)
_NAME = re.compile(
    r"(?<!\d)(?P<y>(?:19[9]\d|20\d\d))(?P<ds>[-_.]?)(?P<mo>\d\d)(?P=ds)(?P<d>\d\d)"
    r"(?:[T _-]|)(?P<h>\d\d)(?P<ts>[-_.:]?)(?P<mi>\d\d)(?P=ts)(?P<s>\d\d)(?!\d)")


def from_name(name: str) -> datetime | None:
    """The first date and time of day written in `name` (a file or folder name), or None."""
    for m in _NAME.finditer(name):
        try:
            return datetime(int(m["y"]), int(m["mo"]), int(m["d"]), int(m["h"]), int(m["mi"]), int(m["s"]))
        except ValueError:  # 20261399_250000: digits, no date
            continue
    return None


def from_tag(value) -> datetime | None:
    """A container's `creation_time` (ISO 8601, as FFmpeg writes it), or None; 1970 and earlier are
    a camera whose clock was never set."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.year > 1970 else None


def recording_start(path, metadata: dict | None = None) -> tuple[str | None, str | None]:
    """(when the recording at `path` began, ISO 8601 to the second, and where that was read: "file
    name" or "creation_time"), or (None, None). `metadata`: the container's tags."""
    name = from_name(Path(path).name)
    if name is not None:
        return name.isoformat(timespec="seconds"), "file name"
    tag = from_tag((metadata or {}).get("creation_time"))
    if tag is not None:
        return tag.isoformat(timespec="seconds"), "creation_time"
    return None, None


def clock_after(start: datetime, seconds: float, rounding: str = "down") -> str:
    """The clock time `seconds` into a recording that began at `start`, ISO 8601 to the second. A
    start with no time zone (a name's: the recorder's local clock) is read in this machine's local
    zone, so that the seconds are added as time that passed: 38 s after 01:59:30 on a night the
    clocks jump to 03:00 is 03:00:08, not 02:00:08, a time that never was. Under a zone without
    such changes (UTC, as in most containers) nothing differs. `rounding` to the second: "down"
    (an event's start), "up" (its end: 08:00:06.4 is 08:00:07, so that the span covers the event)
    or "nearest" (a moment, its peak)."""
    if rounding not in ("down", "up", "nearest"):
        raise ValueError(f"rounding must be down, up or nearest, got {rounding!r}")
    plain = start + timedelta(seconds=seconds)
    if start.tzinfo is not None:
        return _to_second(plain, rounding)
    try:
        aware = start.astimezone()  # the local offset at the start
        if aware.replace(tzinfo=None) != start:  # a time the local clock skips (a recorder that keeps no
            return _to_second(plain, rounding)  # summer time): read as written, not an hour back
        later = _rounded(aware + timedelta(seconds=seconds), rounding)  # then the time that passed (rounded
        # before the local clock reads it: 01:59:59.6 up is 03:00:00 the night 02:00 is skipped)
        return later.astimezone().replace(tzinfo=None).isoformat(timespec="seconds")  # the local clock then
    except (OverflowError, ValueError, OSError):  # past the platform's range of local times
        return _to_second(plain, rounding)


def _to_second(at: datetime, rounding: str) -> str:
    """`at` in ISO 8601 to the second, rounded as `clock_after` says."""
    return _rounded(at, rounding).isoformat(timespec="seconds")


def _rounded(at: datetime, rounding: str) -> datetime:
    """`at` with its fraction of a second rounded as `clock_after` says (isoformat alone cuts it
    off: an event's end up to a second before it ended, its peak up to a second early)."""
    fraction = at.microsecond
    up = fraction and (rounding == "up" or (rounding == "nearest" and fraction >= 500_000))
    try:
        return at + timedelta(microseconds=1_000_000 - fraction) if up else at
    except OverflowError:  # the last second of year 9999
        return at
