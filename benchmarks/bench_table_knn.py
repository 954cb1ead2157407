"""What `videoad table`'s kNN baseline costs exact and with its reference cap, in the same run.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_table_knn.py --rows 100000 --data ../shared/data

A seeded sample of KDDCUP99's rows (`kdd_cup.npz`, min-max scaled over the sample as the command
scales a table; column 118, the label, left out) is fitted by `KNNDist` exact (every row compared
with every other) and with `max_reference=videoad.table.KNN_REFERENCE` (a seeded 20,000 rows, the
reference DUAD's knn score keeps), each timed with its fit's self-scores, and the AUROC of each
against the label. Writes benchmarks/results/table_knn.{json,md}.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _results import Run  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from videoad.baselines.sklearn_baselines import KNNDist
    from videoad.metrics import roc_auc
    from videoad.table import KNN_REFERENCE

    run = Run()
    kdd = np.load(args.data / "kddcup99" / "kdd_cup.npz")["kdd"]
    rows = kdd[np.sort(np.random.default_rng(args.seed).choice(len(kdd), min(args.rows, len(kdd)), replace=False))]
    X, y = rows[:, :118], rows[:, 118].astype(int)
    low, high = X.min(0), X.max(0)
    X = (X - low) / np.where(high > low, high - low, 1.0)
    out = {}
    for label, cap in (("exact", None), (f"reference {KNN_REFERENCE:,}", KNN_REFERENCE)):
        start = time.perf_counter()
        det = KNNDist(max_reference=cap, random_state=args.seed).fit(X)
        seconds = time.perf_counter() - start
        out[label] = {"seconds": round(seconds, 2), "auroc": round(100 * roc_auc(y, det.decision_scores_), 2)}
        print(label, out[label], flush=True)
    exact, capped = out["exact"], out[f"reference {KNN_REFERENCE:,}"]
    ratio = exact["seconds"] / capped["seconds"]
    table = ["| kNN baseline (k 5) | fit seconds | AUROC (%) |", "|---|---|---|",
             *(f"| {k} | {v['seconds']} | {v['auroc']} |" for k, v in out.items()),
             "", f"Exact over capped: {ratio:.1f}x the time."]
    run.write("table_knn", "`videoad table`'s kNN baseline: exact against its reference cap",
              f"{len(X):,} KDDCUP99 rows drawn with seed {args.seed}, min-max scaled over them; one fit each, "
              "its self-scores included; the cap's subsample drawn with the same seed.",
              table, {"rows": len(X), "seed": args.seed, "results": out, "exact_over_capped": round(ratio, 2)})


if __name__ == "__main__":
    main()
