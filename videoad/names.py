"""File names made from names a user chose (video keys, group and camera names)."""
from __future__ import annotations

import codecs
import hashlib
import logging
import numbers
import re
import sys
import unicodedata
from collections.abc import Mapping

from extract.sources import bytes_shown, one_line

#: an odd byte as `shown` writes it: `\xe9`
_ESCAPED_BYTE = re.compile(r"\\x([89a-fA-F][0-9a-fA-F])")


def slug(name: str, empty: str = "video") -> str:
    """`name` with every run of characters that are not letters or digits (of any script), `_`, `.`
    or `-` replaced by one underscore (`cam/a b.avi` -> `cam_a_b.avi`, `日本 カメラ.avi` ->
    `日本_カメラ.avi`: a folder of timelines is read by its file names), composed as NFC (one file
    name for what macOS and Linux spell apart), no dot in front (a hidden file; `..`); `empty` where
    nothing is left."""
    out = re.sub(r"[^\w.-]+", "_", unicodedata.normalize("NFC", name))
    return out.strip("_").lstrip("._") or empty  # a leading dot hides a file


#: the most bytes (UTF-8) of a stem `file_stems` gives
MAX_STEM = 120


def _hash(name: str) -> str:
    return hashlib.sha1(name.encode("utf-8", "surrogateescape")).hexdigest()[:8]


def _capped(stem: str, name: str) -> str:
    raw = stem.encode("utf-8", "surrogateescape")
    if len(raw) <= MAX_STEM:
        return stem
    return f"{raw[:MAX_STEM - 9].decode('utf-8', 'ignore')}-{_hash(name)}"  # never half a character


def file_stems(keys, empty: str = "video") -> dict[str, str]:
    """A distinct, readable file name stem per name (`cam/a.avi` -> `cam_a.avi`).

    Names whose stems would collide (`cam/a.avi` and `cam_a.avi`, two names in another script,
    or names differing only in case, which are one file on some file systems) get a short hash of
    the name appended. A stem longer than `MAX_STEM` keeps its start and ends in a hash of the
    name: a file name must stay under the file system's 255 bytes with its suffixes
    (`-E001.png`, `.thumbs.png`) while a key's folders may each be that long.
    """
    keys = list(dict.fromkeys(keys))
    stems = {k: _capped(slug(k, empty), k) for k in keys}
    seen: dict[str, list[str]] = {}
    for k, s in stems.items():
        seen.setdefault(s.lower(), []).append(k)
    for group in seen.values():
        if len(group) > 1:
            for k in group:
                stems[k] = f"{stems[k]}-{_hash(k)}"
    return stems


#: what a spreadsheet reads as the start of a formula in a cell (OWASP's list for CSV injection)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell_text(name: str) -> str:
    """A name for a CSV cell that a spreadsheet shows as text, never runs: a name starting like a
    formula (`=HYPERLINK(...)` as a folder name) or with a quote gets one leading `'` (what a
    spreadsheet itself uses to mark text); `name_of_cell` undoes it exactly."""
    return "'" + name if name.startswith(FORMULA_STARTS + ("'",)) else name


def name_of_cell(text: str) -> str:
    """The name `cell_text` wrote."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS + ("'",)) else text


def shown(text: str) -> str:
    """`text` as a UTF-8 page, CSV or message can hold it: a name that is not UTF-8 (an old recorder's
    Latin-1 `café.avi`, read as surrogates: the file system's bytes, `os.fsdecode`) with its odd bytes
    written as `\\xe9`, the bytes on disk; writing it as UTF-8 failed on it. A store key holds no
    backslash (`extract.store.check_key`), so `name_of_shown` gives the key back."""
    return bytes_shown(text)


def name_of_shown(text: str) -> str:
    """The name `shown` wrote as `text`: each `\\xNN` (NN 80-ff, a byte that is not UTF-8) back to
    the surrogate Python reads that byte of a file name as. Only for a name known to hold no backslash
    of its own (a store key), or where the result is checked against the names it may be."""
    if "\\x" not in text:
        return text
    return _ESCAPED_BYTE.sub(lambda m: chr(0xDC00 + int(m.group(1), 16)), text)


#: the codec error handler `shown_on_console` sets: a surrogate written as `shown` writes it
SHOWN_ERRORS = "videoad-shown"


def _shown_error(exc: UnicodeError):
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    bad = exc.object[exc.start:exc.end]
    return "".join(f"\\x{ord(c) - 0xDC00:02x}" if 0xDC80 <= ord(c) <= 0xDCFF else c.encode(
        "ascii", "backslashreplace").decode("ascii") for c in bad), exc.end


codecs.register_error(SHOWN_ERRORS, _shown_error)


def shown_on_console(*streams) -> list:
    """Each text stream (stdout, stderr) as the command's to write to: one that writes a name that is
    not UTF-8 as `shown` does (`caf\\xe9.avi`): under a UTF-8 locale other than C's, Python's stdout
    refuses surrogates, and a command that named such a file failed with a traceback after its work
    was done (or, where it passes them, printed bytes the terminal shows as `caf\ufffd`); and that
    writes the control characters a name may hold as text (`_Plain`)."""
    for stream in streams:
        try:
            stream.reconfigure(errors=SHOWN_ERRORS)
        except (AttributeError, ValueError, OSError):  # not a reconfigurable text stream (captured, replaced)
            pass
    return [_Plain(stream) for stream in streams]


#: what a terminal runs rather than shows: C0 controls but tab, line feed and carriage return (the
#: progress bars' own), DEL, and C1 (`\x9b` is ESC [); a colour sequence alone (SGR, `ESC [ 1;36 m`)
#: passes whole: it moves nothing and names nothing, and libraries colour their lines with it (Ray's
#: prefixes of its workers' output on a terminal)
_CONTROLS = re.compile("(\x1b\\[[0-9;]*m)|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _escaped(m: re.Match) -> str:
    return m.group(1) or f"\\x{ord(m.group()):02x}"


class _Plain:
    """A console stream that writes control characters as `\\x1b`: a file name is anyone's text, and one
    holding ESC sequences went raw to the terminal, which ran them (`\\x1b]0;...\\x07` retitles the
    window, `\\x1b[1A\\x1b[2K` writes over the line before). videoad writes none of its own."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(_CONTROLS.sub(_escaped, text))  # bytes raise TypeError, as a text stream's write
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name):
        return getattr(self._stream, name)


#: a console log line (`videoad -v`), the main process's and its worker processes' alike
LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"


def _on_its_line(arg):
    """A log line's argument as `OneLineNames` gives it on: a number as it is (`%d`, `%.1f` format it),
    anything else, which may hold a name, `_OnItsLine`."""
    return arg if isinstance(arg, numbers.Number) else _OnItsLine(arg)


class _OnItsLine:
    """A log line's argument that may hold a name: `%s` writes it `one_line`, `%r` as `repr` does (a line
    feed already `\\n` there: escaped again, `'cam\\\\n.avi'`, it named no file)."""

    def __init__(self, value):
        self.value = value

    def __str__(self) -> str:
        return one_line(str(self.value))

    def __repr__(self) -> str:
        return one_line(repr(self.value))

    # `%d`, `%x`, `%.3f` of a number Python's `numbers` does not count (a 0-d tensor, numpy's bool)
    def __int__(self) -> int:
        return int(self.value)

    def __index__(self) -> int:
        return self.value.__index__()

    def __float__(self) -> float:
        return float(self.value)


class OneLineNames(logging.Formatter):
    """LOG_FORMAT with each argument of a line but a number on that line (`one_line`): a name holding a
    line feed (`log.warning("%s: ...", key)`, in an error's message, a `%(name)s` of a mapping, an
    object whose `str` names a file) wrote a second line, forged, that read as the command's. A
    message's own lines (its format, an exception's traceback) are kept."""

    def __init__(self):
        super().__init__(LOG_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        args = record.args
        if isinstance(args, tuple):
            args = tuple(_on_its_line(a) for a in args)
        elif isinstance(args, Mapping):  # log.info("%(name)s", {...}): logging's args are the mapping
            args = {k: _on_its_line(v) for k, v in args.items()}
        if args:
            record = logging.makeLogRecord({**record.__dict__, "args": args})
        return super().format(record)


def worker_console(level: int) -> None:
    """A worker process's console as the main process's (an initializer of a spawned pool, `level`
    the main's): a spawned process starts with bare streams and no log handler, and a warning there
    (a timeline's annotation naming its file) went raw to the terminal, which ran the ESC sequences
    of a name, in another format, and without `-v`'s lines."""
    sys.stdout, sys.stderr = shown_on_console(sys.stdout, sys.stderr)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineNames())
    logging.basicConfig(level=level, handlers=[handler], force=True)


def worker_console_args() -> tuple[int]:
    """`worker_console`'s arguments in this process: its log level."""
    return (logging.getLogger().getEffectiveLevel(),)
