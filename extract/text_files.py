"""Text files given where a video or a feature is not: annotation lists, frame counts.

A video or a picture given by mistake (`--annotations cam.mp4`) failed with Python's bare
"'utf-8' codec can't decode byte 0xb8 in position 42", naming neither the file nor what it was
taken for; the readers here name both.
"""
from __future__ import annotations

import io
import os


def read_text(path: str | os.PathLike, what: str = "a text file") -> str:
    """The file's text (UTF-8, a byte-order mark dropped); ValueError naming the file when it is not
    text (`what`: what it was taken for, in the message)."""
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not {what}: byte {exc.start} is not UTF-8 text (a video or a picture "
                         "given by mistake? a file saved in another encoding: save it as UTF-8)") from None


def text_stream(path: str | os.PathLike, what: str = "a text file") -> io.StringIO:
    """`read_text` as a file object (for csv, which wants one read with newline="")."""
    return io.StringIO(read_text(path, what), newline="")
