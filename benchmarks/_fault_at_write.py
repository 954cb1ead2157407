"""`python benchmarks/_fault_at_write.py N LOG ARGS...`: `videoad ARGS` SIGKILLed (with its process
group) just before its Nth change to the file system: a kill at each point between two writes,
where kill_sweep.py's random delays land on a few. `full:N` instead: the disk fills at the Nth file
opened to be written: that write stops halfway with ENOSPC, and so does every later one.

Counted in the command's own process: for a kill, opening a file to write, os.open creating or
writing, renames, unlinks, mkdir/rmdir, truncation; for a full disk, files opened to write through
Python (`open`, pathlib, numpy's and zipfile's writes; not what C libraries write to files they open
themselves: PyAV's clips). What the call was goes to LOG first. A command that ends before its Nth
point exits as it would, LOG unwritten (kill_sweep.py then knows the points are all tried). N 0:
each kill point appended to LOG, no kill.
"""
from __future__ import annotations

import builtins
import errno
import io
import os
import signal
import sys


class _FullDisk:
    """A file opened to write on a full disk: the first write puts half its bytes down, then every
    write raises ENOSPC, as the kernel's would."""

    def __init__(self, fh):
        self._fh, self._full = fh, False

    def write(self, data):
        if not self._full:
            self._full = True
            half = memoryview(data).cast("B")[:len(memoryview(data).cast("B")) // 2] if not isinstance(data, str) \
                else data[:len(data) // 2]
            self._fh.write(half)
            self._fh.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._fh.close()
        return False

    def __iter__(self):
        return iter(self._fh)

    def __getattr__(self, name):
        return getattr(self._fh, name)


def _install(spec: str, log: str) -> None:
    main = os.getpid()
    full = spec.startswith("full:")
    n = int(spec.split(":")[-1])
    seen = [0]
    open_ = builtins.open

    def point(what: str) -> bool:
        """Count a point; True from the Nth on (a full disk stays full)."""
        if os.getpid() != main:
            return False
        seen[0] += 1
        if n == 0:  # list them all
            with open_(log, "a") as fh:
                fh.write(f"{seen[0]} {what}\n")
        elif seen[0] == n:
            with open_(log, "w") as fh:
                fh.write(what + "\n")
            if not full:
                os.killpg(os.getpgid(0), signal.SIGKILL)
        return full and n > 0 and seen[0] >= n

    def writing_open(file, mode="r", *args, **kwargs):
        writes = any(c in mode for c in "wax+")
        if writes and point(f"open({file!r}, {mode!r})"):
            return _FullDisk(open_(file, mode, *args, **kwargs))
        return open_(file, mode, *args, **kwargs)

    builtins.open = io.open = writing_open
    if full:
        return
    os_open, funcs = os.open, {name: getattr(os, name) for name in
                               ("replace", "rename", "unlink", "remove", "rmdir", "mkdir", "ftruncate", "truncate")}

    def writing_os_open(path, flags, *args, **kwargs):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            point(f"os.open({path!r})")
        return os_open(path, flags, *args, **kwargs)

    def wrap(name, f):
        def changed(*args, **kwargs):
            point(f"os.{name}{tuple(str(a) for a in args)}")
            return f(*args, **kwargs)
        return changed

    os.open = writing_os_open
    for name, f in funcs.items():
        setattr(os, name, wrap(name, f))


if __name__ == "__main__":
    _install(sys.argv[1], sys.argv[2])
    sys.argv = ["videoad", *sys.argv[3:]]
    from videoad.cli import main

    main()
