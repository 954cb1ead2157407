"""Wall time and peak memory of a command and every process it starts (decode workers included).

    python3 benchmarks/measure_tree.py videoad extract IN -o OUT -q --workers 64

`/usr/bin/time -v` reports the largest single process only; this also samples the sum of the
resident memory of the command's process tree every 0.1 s (from /proc, Linux) and prints one JSON
line: exit status, wall seconds, the largest single process's and the tree's peak MB, and the most
processes alive at once. docs/throughput.md ("Large --workers, --batch-size, --prefetch") quotes
its figures; `compare_stores.py` checks the stores such runs wrote are equal.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time


def children() -> dict[int, list[int]]:
    """Each process's children, from /proc/*/stat (its parent pid is the field after the name)."""
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                parent = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):  # gone since listed
            continue
        kids.setdefault(parent, []).append(int(entry))
    return kids


def tree(root: int) -> list[int]:
    kids, out, todo = children(), [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += kids.get(pid, [])
    return out


def rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main(cmd: list[str]) -> None:
    start = time.monotonic()
    proc = subprocess.Popen(["/usr/bin/time", "-v", *cmd], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            text=True)
    peak_kb = peak_n = 0
    while proc.poll() is None:
        pids = tree(proc.pid)[1:]  # not /usr/bin/time itself
        peak_n = max(peak_n, len(pids))
        peak_kb = max(peak_kb, sum(rss_kb(p) for p in pids))
        time.sleep(0.1)
    err = proc.stderr.read()
    one = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
    print(json.dumps({"rc": proc.returncode, "wall_s": round(time.monotonic() - start, 1),
                      "maxrss_one_MB": int(one.group(1)) // 1024 if one else None, "tree_rss_MB": peak_kb // 1024,
                      "procs": peak_n, "tail": [ln for ln in err.splitlines() if not ln.startswith("\t")][-4:]}))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
