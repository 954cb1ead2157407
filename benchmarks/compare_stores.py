"""Are two feature stores equal? Every HDF5 file's datasets compared value for value, and their
attributes except the ones that record when or how long (`created`, `elapsed_s`, ...).

    python3 benchmarks/compare_stores.py STORE_A STORE_B

Prints each difference and a count; exits 1 when a dataset differs.
"""
from __future__ import annotations

import sys
from pathlib import Path

import h5py
import numpy as np

CLOCK_ATTRS = {"created", "created_at", "elapsed_s", "extracted_at", "time"}


def datasets(f: h5py.File) -> list[str]:
    names: list[str] = []
    f.visit(lambda n: names.append(n) if isinstance(f[n], h5py.Dataset) else None)
    return sorted(names)


def main(a: Path, b: Path) -> int:
    files = sorted(p.relative_to(a) for p in a.rglob("*.h5"))
    if files != sorted(p.relative_to(b) for p in b.rglob("*.h5")):
        print("the stores hold different files")
        return 1
    bad = 0
    for rel in files:
        with h5py.File(a / rel) as x, h5py.File(b / rel) as y:
            if datasets(x) != datasets(y):
                bad += 1
                print("datasets differ:", rel)
                continue
            for name in datasets(x):
                if not np.array_equal(x[name][()], y[name][()]):
                    bad += 1
                    print("differs:", rel, name)
            for key in (set(x.attrs) | set(y.attrs)) - CLOCK_ATTRS:
                va, vb = x.attrs.get(key), y.attrs.get(key)
                if not (np.array_equal(va, vb) if isinstance(va, np.ndarray) else va == vb):
                    print("attribute differs:", rel, key, va, vb)
    print(f"{len(files)} files, {bad} differing datasets")
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
