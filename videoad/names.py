"""File names made from names a user chose (video keys, group and camera names)."""
from __future__ import annotations

import hashlib
import re
import unicodedata


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
