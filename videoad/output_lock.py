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

Readers take no lock (a report beside a nightly fit reads the folder's previous version, complete,
for as long as the fit runs). A folder's writer removes its index file (a scores folder's
run.json, a model folder's models.json) first and writes it last, so `read_whole` reads a folder
between the two reads of its index that find the same file: a rewrite that began or ended
meanwhile (a report's run.json from one run beside the cells of the next, a `--model` scoring
with one fit's alarm lines and the next fit's weights) is read again, or refused naming the
writer (`writer_of`).
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import time
from pathlib import Path
from typing import Callable, Iterator, TypeVar

T = TypeVar("T")

LOCK_FILE = ".videoad-lock"

#: folders this process holds: real path -> [descriptor, depth]
_held: dict[str, list[int]] = {}

#: seconds a writer retries a lock it found taken before refusing: a reader's probe (`writer_of`)
#: holds it for an instant, a writer for its whole run
PROBE_GRACE_S = 1.0


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
        _lock_soon(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
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


def _lock_soon(fd: int, kind: int) -> None:
    """`flock(fd, kind)` without waiting on a holder, retried for `PROBE_GRACE_S`: a lock taken only
    by a reader's instant probe is free again within it; `BlockingIOError` where it is still held."""
    import fcntl

    deadline = time.monotonic() + PROBE_GRACE_S
    while True:
        try:
            fcntl.flock(fd, kind | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


def _holder(fd: int) -> str:
    """What the lock file says of the process holding it."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 512).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    return text or "a process that has not said which"


def writer_of(folder) -> str | None:
    """What the lock of `folder` says of the other videoad holding it to write now (the shards of an
    extraction, which share it, too), else None (none does, this process does, or no flock here).
    Asked only of a folder found mid-rewrite; a writer starting at the instant of its probe's lock
    waits the probe out (`PROBE_GRACE_S`), and so does this probe another reader's: taken at once
    for a writer's, it named the lock file's note, that of a writer long gone, as writing now (a
    lock still held after the grace is a writer's: named, a second later)."""
    try:
        import fcntl
    except ImportError:
        return None
    if os.path.realpath(folder) in _held:  # this process writes it (`videoad run` reading its own scores)
        return None
    try:
        fd = os.open(Path(folder) / LOCK_FILE, os.O_RDONLY)
    except OSError:
        return None
    try:
        _lock_soon(fd, fcntl.LOCK_EX)
    except BlockingIOError:
        return _holder(fd)
    except OSError:
        return None
    finally:
        os.close(fd)  # releases the probe's lock
    return None


def index_version(path) -> tuple | None:
    """What tells one writing of an index file from another (its inode, size, times and a digest of
    its bytes), None where it is missing."""
    try:
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            digest = hashlib.sha256(fh.read()).digest()
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, digest


def read_whole(folder, index, read: Callable[[], T], error: type[Exception] = FolderBusyError,
               attempts: int = 3) -> T:
    """`read()` of `folder`, whose writer removes its index file `index` first and writes it last,
    taken where `index` is the same file before and after it (one version of the folder, whole); a
    read that a rewrite overlapped is done again, up to `attempts` times. `error` (naming the folder
    and its writer) where the index is missing while another videoad writes the folder, or where
    each attempt was overlapped. A missing index with no writer: `read()`'s own message."""
    folder, index = Path(folder), Path(index)
    for _ in range(max(1, attempts)):
        before = index_version(index)
        if before is None:
            holder = writer_of(folder)
            if holder is not None:
                raise error(f"{folder}: another videoad is writing this folder now ({holder}) and has not "
                            f"written its {index.name} yet; read it once that finishes")
            return read()
        try:
            result = read()
        except Exception:
            if index_version(index) != before:
                continue  # the error came of the rewrite (a file of the next version): read again
            raise
        if index_version(index) == before:
            return result
    holder = writer_of(folder)
    raise error(f"{folder}: rewritten while it was read ({attempts} time{'s' if attempts > 1 else ''}), by "
                f"{holder or 'another process'}: nothing read from it was used; read it once that finishes")
