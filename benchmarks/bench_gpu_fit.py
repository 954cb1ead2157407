"""DUAD's fit on a GPU against the CPU: one prepared script for a machine that has one.

    .venv/bin/python benchmarks/bench_gpu_fit.py --json runs/gpu_fit.json            # CUDA if present
    .venv/bin/python benchmarks/bench_gpu_fit.py --device cpu --rows 2000 --json x.json  # smoke run

For each case: the same DUAD settings and data on `--device` (default cuda) and, unless
`--skip-cpu`, on the CPU with `--threads` threads; wall time of `fit` per phase
(`DUAD.timings_`: clustering, training, reselection, scoring), the peak GPU memory
(torch.cuda.max_memory_allocated) and whether the two devices agree (Spearman correlation of
the scores: different kernels round differently, so the runs are not bit-identical).
On CUDA the autoencoder, its forward passes, the knn search and the reselection mixture
(`gmm_torch`, DUAD(gmm_backend="auto")) run on the device; Distribution Clustering's distance
matrix too. Cases:
- kdd: KDDCUP99 at 20% contamination, seed 5, the benchmark's settings (243,020 x 118);
- mix4096: the scale benchmark's synthetic mixture, `--rows` x 4,096, the video defaults for
  learned features (score knn).
Measured on one H200 (two leases): benchmarks/results/gpu_checks.md (run through benchmarks/gpu_checks.sh).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from videoad.bench.scale import duad_params, mixture  # noqa: E402
from videoad.detector import DUAD  # noqa: E402


def _case_data(name: str, rows: int):
    if name == "kdd":
        from videoad.data import kddcup_file
        from videoad.datasets.kddcup import contamination_split, load_kddcup

        shared = ROOT.parent / "shared" / "data"  # VIDEOAD_DATA wins when set
        X, y = load_kddcup(kddcup_file(None if os.environ.get("VIDEOAD_DATA") else shared))
        return contamination_split(X, y, 0.2, 5).X_train.astype(np.float32), duad_params("kdd")
    return mixture(rows, 4096), duad_params("mix4096")


def _fit(X, params, device: str) -> dict:
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    det = DUAD(random_state=0, device=device, **params).fit(X)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    out = {"device": device, "seconds": time.perf_counter() - t0, "phases": det.timings_,
           "reselections": det.n_reselections_, "stop_reason": det.stop_reason_,
           "n_fit_rows": det.n_fit_rows_, "scores": det.decision_scores_}
    if device.startswith("cuda"):
        out["peak_gpu_bytes"] = int(torch.cuda.max_memory_allocated())
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--cases", default="kdd,mix4096")
    ap.add_argument("--rows", type=int, default=69000, help="rows of the mix4096 case")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-cpu", action="store_true")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA device: run with --device cpu for a smoke run", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    from scipy.stats import spearmanr

    report = {"env": {"torch": torch.__version__, "python": platform.python_version(),
                      "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
                      "threads": args.threads}, "cases": []}
    for case in [c.strip() for c in args.cases.split(",") if c.strip()]:
        X, params = _case_data(case, args.rows)
        runs = [_fit(X, params, args.device)]
        if not args.skip_cpu and args.device != "cpu":
            runs.append(_fit(X, params, "cpu"))
        entry = {"case": case, "rows": int(X.shape[0]), "cols": int(X.shape[1]),
                 "runs": [{k: v for k, v in r.items() if k != "scores"} for r in runs]}
        if len(runs) == 2:
            entry["spearman_devices"] = float(spearmanr(runs[0]["scores"], runs[1]["scores"])[0])
            entry["speedup"] = runs[1]["seconds"] / runs[0]["seconds"]
        report["cases"].append(entry)
        print(json.dumps(entry, indent=1))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
