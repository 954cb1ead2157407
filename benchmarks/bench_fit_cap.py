"""What fitting DUAD on a seeded subsample of a large store costs in detection, and saves in time.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/bench_fit_cap.py --rows 200000 --caps none,131072,65536

The default video fit on motion features is over grid-cell rows, 15 wide (16 per clip): a
UCF-Crime-sized store is about 1.5 million of them, and DUAD's "auto" caps, set by values (2^25
for the fit), let all of them into the fit. `max_fit_rows` fits on a seeded subsample and scores
every row. On the scale benchmark's cells15 mixture (`videoad.bench.scale.mixture`, its 5%
scattered anomalies as labels), with the motion DUAD settings of `videoad/defaults/detect.yaml`,
this fits once per cap and reports fit seconds (scoring every row included) and the AUROC over
every row, the full fit ("none": every row) as the baseline of the same run. Writes
benchmarks/results/fit_cap.{json,md} (`--name` changes the base name).
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

OUT = Path(__file__).resolve().parent / "results"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200000)
    ap.add_argument("--caps", default="none,131072,65536", help="max_fit_rows values; none: every row")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--name", default="fit_cap")
    args = ap.parse_args()
    import torch
    from sklearn.metrics import roc_auc_score
    from threadpoolctl import threadpool_limits

    from videoad.bench.scale import duad_params, mixture
    from videoad.detector.duad import DUAD

    torch.set_num_threads(args.threads)
    X, y = mixture(args.rows, 15, seed=args.seed, labels=True)
    params = duad_params("cells15")
    rows = []
    for cap in args.caps.split(","):
        value = None if cap == "none" else int(cap)
        start = time.perf_counter()
        with threadpool_limits(args.threads):
            det = DUAD(**{**params, "max_fit_rows": value}, random_state=args.seed).fit(X)
        seconds = time.perf_counter() - start
        row = {"max_fit_rows": cap, "n_fit_rows": int(det.n_fit_rows_), "seconds": round(seconds, 1),
               "auroc": round(100 * roc_auc_score(y, det.decision_scores_), 2), "phases": det.timings_}
        rows.append(row)
        print(json.dumps(row), flush=True)
    base = rows[0]
    meta = {"command": "OMP_NUM_THREADS=%s .venv/bin/python benchmarks/bench_fit_cap.py --rows %d --caps %s --seed %d"
                       % (args.threads, args.rows, args.caps, args.seed),
            "date": time.strftime("%Y-%m-%d %H:%M"), "torch": torch.__version__, "machine": platform.machine(),
            "threads": args.threads, "rows": args.rows, "params": params}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{args.name}.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    lines = [f"# DUAD fitted on a subsample of {args.rows:,} cell rows (cells15 mixture, motion settings)", "",
             __doc__.split("\n\n", 2)[2].strip(), "", f"Command: `{meta['command']}` ({meta['date']}, torch "
             f"{meta['torch']}, {args.threads} threads).", "",
             "| max_fit_rows | rows fitted | fit seconds (every row scored) | time / full fit | AUROC, every row |",
             "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['max_fit_rows']} | {r['n_fit_rows']:,} | {r['seconds']} | "
                     f"{r['seconds'] / base['seconds']:.2f} | {r['auroc']:.2f} |")
    (OUT / f"{args.name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
