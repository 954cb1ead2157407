"""File names made from names a user chose (video keys, group and camera names)."""
from __future__ import annotations

import hashlib
import re


def slug(name: str, empty: str = "video") -> str:
    """`name` with every run of characters outside [A-Za-z0-9_.-] replaced by one underscore
    (`cam/a b.avi` -> `cam_a_b.avi`); `empty` where nothing is left (a name in another script)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or empty


def file_stems(keys, empty: str = "video") -> dict[str, str]:
    """A distinct, readable file name stem per name (`cam/a.avi` -> `cam_a.avi`).

    Names whose stems would collide (`cam/a.avi` and `cam_a.avi`, two names in another script,
    or names differing only in case, which are one file on some file systems) get a short hash of
    the name appended.
    """
    keys = list(dict.fromkeys(keys))
    stems = {k: slug(k, empty) for k in keys}
    seen: dict[str, list[str]] = {}
    for k, s in stems.items():
        seen.setdefault(s.lower(), []).append(k)
    for group in seen.values():
        if len(group) > 1:
            for k in group:
                stems[k] = f"{stems[k]}-{hashlib.sha1(k.encode()).hexdigest()[:8]}"
    return stems
