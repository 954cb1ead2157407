"""One videoad at a time per output folder: a second command writing the same `-o` is refused.

Two runs into one folder (a nightly `videoad run` still going when the next one starts, a second
`videoad detect -o scores/` typed in another terminal, two `videoad watch` given one `-o`) wrote
over each other in silence: a scores folder holding one run's segments beside the other's run.json
(and readers took it), event clips renamed over each other's halves, two event logs interleaved.
Each atomic write is safe alone; a run is many writes. So the commands that write a folder hold
the kernel's lock on `FOLDER/.videoad-lock` (flock) while they run: it goes with the process, so
a kill or a crash leaves nothing to clear, and the file names the holder for the refusal.

The lock is per process and re-entrant: `videoad run` holds its output folder and the commands
it runs inside take the same folders again freely. Where the platform has no flock (Windows) or
the folder cannot be made (the command then fails where it writes, with its own message), no
lock is taken. A folder on a network file system is locked as well as that file system locks.
"""
from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Iterator

LOCK_FILE = ".videoad-lock"

#: folders this process holds: real path -> [descriptor, depth]
_held: dict[str, list[int]] = {}


class FolderBusyError(OSError):
    """Another videoad process is writing the output folder now (`holder`: what its lock says)."""

    holder = ""


@contextlib.contextmanager
def output_lock(*folders, command: str, shared: bool = False) -> Iterator[None]:
    """Hold `folders` for this process while the block runs; `FolderBusyError` (naming the holder)
    when another process holds one of them. `command` says who holds it, in the other's refusal.
    `shared`: several holders at once, none beside an exclusive one (the shards of one extraction
    run side by side; an unsharded run or a merge into their store is refused while one runs)."""
    with contextlib.ExitStack() as stack:
        for folder in folders:
            stack.enter_context(_hold(Path(folder), command, shared))
        yield


@contextlib.contextmanager
def _hold(folder: Path, command: str, shared: bool = False) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # no flock here: unlocked, as before
        yield
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        key = os.path.realpath(folder)
    except OSError:  # under a file, read-only, ...: the command's own write says so
        yield
        return
    if key in _held:  # this process holds it already (`videoad run` and the stages it runs)
        _held[key][1] += 1
        try:
            yield
        finally:
            _held[key][1] -= 1
        return
    try:
        fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _holder(fd)
        os.close(fd)
        error = FolderBusyError(f"{folder}: another videoad is writing this folder now ({holder}); wait for it to "
                                "finish, or give another output folder")
        error.holder = holder
        raise error from None
    except OSError:  # a file system without locks: unlocked, as before
        os.close(fd)
        yield
        return
    try:
        # shared holders too: the latest to start writes the note (converting the lock to clear it on
        # leaving made shards refuse each other for that instant; appending kept dead holders' lines)
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()}, {command}, since {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
    except OSError:
        pass  # the lock holds without its note
    _held[key] = [fd, 1]
    try:
        yield
    finally:
        del _held[key]
        os.close(fd)  # releases the lock; the file stays (removing it would let two hold two files)


def _holder(fd: int) -> str:
    """What the lock file says of the process holding it."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 512).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    return text or "a process that has not said which"
