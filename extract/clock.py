"""When a recording began, so that an event can be told by the clock ("08:14:03") and not only by
its seconds into a file.

Recorders say it in one of two places: the file name (DVR and NVR exports and most cameras' own
recordings name each segment by its start, `cam1_20261205_080000.mp4`, `2026-12-05 08-00-00.mkv`),
or the container's `creation_time` tag (phones, body cameras, action cameras; kept by a remux).
The name is taken first: it is what the recorder wrote for this segment, while a tag can be the
time a file was re-encoded. A name's time carries no time zone (the recorder's local clock); a
tag's is usually UTC and is kept as written. Neither is guessed at: a name with only a date, or
digits that are no valid date and time, gives nothing; nor is a time from a clock that looks never
set (before 1990, the 2000-01-01 that many cameras reset to, or later than tomorrow), which would
put 1970 or 2000 on every event: `unset_clock` says why none was taken.

A fraction of a second, where either says one (a Matroska tag's `08:00:00.750000Z`, a phone's
`PXL_20261205_080000750`, `08-00-00.750`), is kept: cut off, every clock time read up to a second
early.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

#: a date and a time of day in a name: 20261205_080000, 20261205080000, 2026-12-05_08-00-00,
#: 2026-12-05 08.00.00, 2026-12-05T08:00:00 (years 1990-2099; separators optional, but alike in
#: the date and alike in the time), with a fraction of a second after a point or comma
#: (08-00-00.750, ISO 8601's decimal sign) or its milliseconds run on (a Pixel's 080000750). Not
#: after `_`: `cam_20261205_080000_001` is as often a recorder's segment counter.
_NAME = re.compile(
    r"(?<!\d)(?P<y>(?:19[9]\d|20\d\d))(?P<ds>[-_.]?)(?P<mo>\d\d)(?P=ds)(?P<d>\d\d)"
    r"(?:[T _-]|)(?P<h>\d\d)(?P<ts>[-_.:]?)(?P<mi>\d\d)(?P=ts)(?P<s>\d\d)"
    r"(?:[.,](?P<f>\d{1,6})|(?P<ms>\d{3}))?(?!\d)")


def from_name(name: str) -> datetime | None:
    """The first date and time of day written in `name` (a file or folder name), or None."""
    for m in _NAME.finditer(name):
        fraction = m["f"] or m["ms"] or ""
        try:
            return datetime(int(m["y"]), int(m["mo"]), int(m["d"]), int(m["h"]), int(m["mi"]), int(m["s"]),
                            int(fraction.ljust(6, "0")))
        except ValueError:  # 20261399_250000: digits, no date
            continue
    return None


def from_tag(value) -> datetime | None:
    """A container's `creation_time` (ISO 8601, as FFmpeg writes it, with any offset; UTC's `Z` in
    either case, as ISO 8601 allows and Python's reader does not), or None."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    text = text[:-1] + "+00:00" if text[-1] in "zZ" else text
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def unset(when: datetime, now: datetime | None = None) -> bool:
    """Whether `when` looks read off a clock never set: before 1990 (1970, the 1980 of a FAT
    file system), on 2000-01-01 (what many cameras start at after losing power) or after tomorrow
    (`now`'s; a day covers any zone's offset from this machine's)."""
    now = now or datetime.now(timezone.utc)
    aware = when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)
    return when.year < 1990 or when.date() == date(2000, 1, 1) or aware > now + timedelta(days=1)


def _said(path, metadata: dict | None) -> tuple[datetime | None, str | None]:
    """The time the name says, else the creation_time tag, and where it was read; or (None, None)."""
    name = from_name(Path(path).name)
    if name is not None:
        return name, "file name"
    tag = from_tag((metadata or {}).get("creation_time"))
    return (tag, "creation_time") if tag is not None else (None, None)


def recording_start(path, metadata: dict | None = None) -> tuple[str | None, str | None]:
    """(when the recording at `path` began, ISO 8601 with any fraction of a second, and where that
    was read: "file name" or "creation_time"), or (None, None). `metadata`: the container's tags.
    A name whose time looks off a clock never set gives none, and the tag is not read instead: a
    recorder that named it so stamped the tag from the same clock, and a plausible one is then the
    time of a later remux."""
    when, origin = _said(path, metadata)
    return (when.isoformat(), origin) if when is not None and not unset(when) else (None, None)


def unset_clock(path, metadata: dict | None = None) -> str | None:
    """Why the recording at `path` has no start though its name or tag gives a time (`unset`),
    or None: so that its events' missing clock times are explained, not a mystery."""
    when, origin = _said(path, metadata)
    return _unset_note(when, origin) if when is not None and unset(when) else None


def stored_start(start, origin) -> tuple[str | None, str | None, str | None]:
    """(start, origin, None) for a recording's start read back from a feature store, or (None, None,
    why) where it looks off a clock never set (`unset`): a store extracted before that was checked
    holds it, and its events would carry 2000-01-01 clock times where a new one's carry none."""
    if not start:
        return None, None, None
    try:
        when = datetime.fromisoformat(str(start))
    except ValueError:  # kept as written, as readable_start shows it
        return str(start), str(origin) if origin else None, None
    if unset(when):
        return None, None, _unset_note(when, str(origin) if origin else "recorded start")
    return str(start), str(origin) if origin else None, None


def stored_start_warned(start, origin, warnings) -> tuple[str | None, str | None, str | None]:
    """`stored_start`, with why a start was left out joined to the video's `warnings` (its
    `decode_warnings`: said once, with what extraction warned of): for a feature store's and a
    scores folder's run.json alike."""
    start, origin, why = stored_start(start, origin)
    return start, origin, "; ".join(w for w in (str(warnings) if warnings else None, why) if w) or None


def _unset_note(when: datetime, origin: str) -> str:
    """Why a start read off `origin` (a file name, a creation_time) was not taken (`unset`)."""
    return (f"its {origin} says {when.isoformat(sep=' ')}, which looks like a camera clock never set "
            "(before 1990, on 2000-01-01 or in the future): its events are given no clock times")


def readable_start(start: str) -> str:
    """A recording's start (ISO 8601, as `recording_start` gives it) for a person: a space for the
    `T` and a fraction to the millisecond (`08:00:00.750`, not `.750000`); as written if no time."""
    try:
        at = datetime.fromisoformat(start)
    except ValueError:
        return start.replace("T", " ")
    return at.isoformat(sep=" ", timespec="milliseconds" if at.microsecond else "seconds")


def clock_after(start: datetime, seconds: float, rounding: str = "down") -> str:
    """The clock time `seconds` into a recording that began at `start`, ISO 8601 to the second. A
    start with no time zone (a name's: the recorder's local clock) is read in this machine's local
    zone, so that the seconds are added as time that passed: 38 s after 01:59:30 on a night the
    clocks jump to 03:00 is 03:00:08, not 02:00:08, a time that never was. Under a zone without
    such changes (UTC, as in most containers) nothing differs. `rounding` to the second: "down"
    (an event's start), "up" (its end: 08:00:06.4 is 08:00:07, so that the span covers the event)
    or "nearest" (a moment, its peak); or "exact", the fraction kept (a recording's start moved by
    the frames its decoder lost, from which every other clock time is counted)."""
    if rounding not in ("down", "up", "nearest", "exact"):
        raise ValueError(f"rounding must be down, up, nearest or exact, got {rounding!r}")
    plain = start + timedelta(seconds=seconds)
    if start.tzinfo is not None:
        return _to_second(plain, rounding)
    try:
        aware = start.astimezone()  # the local offset at the start
        if aware.replace(tzinfo=None) != start:  # a time the local clock skips (a recorder that keeps no
            return _to_second(plain, rounding)  # summer time): read as written, not an hour back
        later = _rounded(aware + timedelta(seconds=seconds), rounding)  # then the time that passed (rounded
        # before the local clock reads it: 01:59:59.6 up is 03:00:00 the night 02:00 is skipped)
        return _iso(later.astimezone().replace(tzinfo=None), rounding)  # the local clock then
    except (OverflowError, ValueError, OSError):  # past the platform's range of local times
        return _to_second(plain, rounding)


def _to_second(at: datetime, rounding: str) -> str:
    """`at` in ISO 8601 to the second, rounded as `clock_after` says."""
    return _iso(_rounded(at, rounding), rounding)


def _iso(at: datetime, rounding: str) -> str:
    """`at` (already rounded) in ISO 8601: to the second, its fraction too where "exact"."""
    return at.isoformat() if rounding == "exact" else at.isoformat(timespec="seconds")


def _rounded(at: datetime, rounding: str) -> datetime:
    """`at` with its fraction of a second rounded as `clock_after` says (isoformat alone cuts it
    off: an event's end up to a second before it ended, its peak up to a second early)."""
    fraction = at.microsecond
    up = fraction and (rounding == "up" or (rounding == "nearest" and fraction >= 500_000))
    try:
        return at + timedelta(microseconds=1_000_000 - fraction) if up else at
    except OverflowError:  # the last second of year 9999
        return at
