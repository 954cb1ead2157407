"""DUAD's model after each training period of one KDDCUP99 fit: its test AUPRC, the purity of the
selection it was trained on, and label-free statistics of its training scores.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/kdd_phases.py 5,6,8,10 --data ../shared/data

A fit with `max_reselections: k` runs exactly the first k periods of a fit with more (same seeds,
same row draws: bit-identical at a fixed thread count), and its scores are those of the model at
the end of period k, trained on the selection of reselection k - 1. So fitting k = 1..6 reads one
fit's trajectory without hooks in DUAD. Labels are read only to report AUPRC and the anomaly
share of the trained selection. Statistics, from the fit's own training-row scores (angles):
`out/in` the median score of the rows outside the trained selection over the median inside;
`q80/q50`, `q70/q50` percentile ratios of all rows' scores; `self AUROC` how well the score
separates the rows left out of the trained selection from those in it; `entering/in` the median
score of the rows this model's own reselection (reselection k) admits over the trained
selection's median.
Also, per split, the fit's last period against the mean of its last two periods' test scores (a
snapshot mean, which would cost no extra training). Development splits only (the benchmark
reports 0-4). Writes benchmarks/results/kdd_phases.{json,md} (`--name` changes the base name).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from videoad.bench.common import environment, evaluate_scores  # noqa: E402
from videoad.bench.kddcup import DEFAULT_CONFIG  # noqa: E402
from videoad.data import kddcup_file  # noqa: E402
from videoad.datasets.kddcup import contamination_split, load_kddcup  # noqa: E402
from videoad.detector.duad import DUAD  # noqa: E402


def period(split, seed: int, k: int) -> dict | None:
    """The model at the end of period k (None when the fit converged before it)."""
    det = DUAD(**{**DEFAULT_CONFIG["duad"], "restarts": 0, "max_reselections": k, "keep_selection_history": True},
               random_state=seed).fit(split.X_train)
    if len(det.history_) <= k:
        return None
    trained = det.history_[k - 1]["mask"]
    entering = det.history_[k]["mask"] & ~trained  # what this model's own reselection admits
    sc = det.decision_scores_
    q50, q70, q80 = np.percentile(sc, [50, 70, 80])
    test_scores = det.decision_function(split.X_test)
    return {"period": k, "auprc": evaluate_scores(split.y_test, test_scores)[1], "test_scores": test_scores,
            "trained_anomaly_share": 100.0 * float(split.y_train[trained].mean()),
            "out_in": float(np.median(sc[~trained]) / np.median(sc[trained])),
            "q80_q50": float(q80 / q50), "q70_q50": float(q70 / q50),
            "self_auroc": evaluate_scores((~trained).astype(int), sc)[0],
            "entering_rows": int(entering.sum()),
            "entering_in": float(np.median(sc[entering]) / np.median(sc[trained])) if entering.any() else None}


def last_two_periods(split, seed: int, periods: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Test scores of the fit as it stops and of the period before (None when it stopped at 1):
    one fit with `snapshots=2`, whose members are those two models (bit for bit the fits capped
    at the stopping period and at the one before: tests/test_detector_core.py)."""
    cfg = {**DEFAULT_CONFIG["duad"], "restarts": 0, "max_reselections": periods, "snapshots": 2}
    det = DUAD(**cfg, random_state=seed).fit(split.X_train)
    if not det.members_:
        return det.decision_function(split.X_test), None
    before, last = det.members_
    return last.decision_function(split.X_test), before.decision_function(split.X_test)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("splits", help="comma-separated split seeds (development: 5-14); model seed = split")
    ap.add_argument("--contamination", type=float, default=0.2)
    ap.add_argument("--periods", type=int, default=6)
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    ap.add_argument("--name", default="kdd_phases")
    ap.add_argument("--seed-offset", type=int, default=0, help="model seed = split + this")
    ap.add_argument("--last-two-only", action="store_true",
                    help="fit only what the snapshot mean needs (the fit as it stops and the period before): "
                         "no per-period table")
    args = ap.parse_args()
    X, y = load_kddcup(kddcup_file(args.data))
    rows, last_two = [], []
    for s in (int(v) for v in args.splits.split(",")):
        split = contamination_split(X, y, args.contamination, s)
        seed = s + args.seed_offset
        scores = []
        if args.last_two_only:
            last, before = last_two_periods(split, seed, args.periods)
            scores = [last] if before is None else [before, last]
        for k in range(1, 0 if args.last_two_only else args.periods + 1):
            r = period(split, seed, k)
            if r is None:
                print(f"split {s}: converged before period {k}", flush=True)
                break
            scores.append(r.pop("test_scores"))
            rows.append({"split": s, "model_seed": seed, **r})
            print(json.dumps(rows[-1]), flush=True)
        # the fit as it stops (its last period) against the mean of its last two periods' scores
        mean_two = scores[-1] if len(scores) < 2 else (scores[-1] + scores[-2]) / 2.0
        last_two.append({"split": s, "model_seed": seed, "last": evaluate_scores(split.y_test, scores[-1])[1],
                         "mean_last_two": evaluate_scores(split.y_test, mean_two)[1]})
        print(json.dumps(last_two[-1]), flush=True)
    command = (f"OMP_NUM_THREADS={torch.get_num_threads()} .venv/bin/python benchmarks/kdd_phases.py {args.splits}"
               + (f" --contamination {args.contamination}" if args.contamination != 0.2 else "")
               + (f" --seed-offset {args.seed_offset}" if args.seed_offset else "")
               + (" --last-two-only" if args.last_two_only else "")
               + ("" if args.name == "kdd_phases" else f" --name {args.name}") + " --data ../shared/data")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{args.name}.json").write_text(json.dumps(
        {"command": command, "contamination": args.contamination, "env": environment(), "periods": rows, "last_two": last_two},
        indent=2, default=float) + "\n")
    md = [f"# One DUAD fit, period by period: KDDCUP99 at {args.contamination:.0%}, development splits", "",
          __doc__.split("\n\n")[2].replace("\n", " "), "", f"Command: `{command}`"]
    if rows:
        md += ["", "| split | period | test AUPRC | anomalies in the trained selection (%) | out/in | q80/q50 | q70/q50 "
               "| self AUROC | rows entering at reselection k | entering/in |", "|---|---|---|---|---|---|---|---|---|---|"]
        md += [f"| {r['split']} | {r['period']} | {r['auprc']:.1f} | {r['trained_anomaly_share']:.2f} | {r['out_in']:.0f} | "
               f"{r['q80_q50']:.0f} | {r['q70_q50']:.0f} | {r['self_auroc']:.2f} | {r['entering_rows']:,} | "
               + ("-" if r["entering_in"] is None else f"{r['entering_in']:.1f}") + " |" for r in rows]
    md += ["", "The fit as it stops (its last period) against a snapshot mean: the mean of its last two periods' "
           "test scores (angles of two models of one fit, on one scale).", "",
           "| split | model seed | last period | mean of the last two |", "|---|---|---|---|"]
    md += [f"| {r['split']} | {r['model_seed']} | {r['last']:.2f} | {r['mean_last_two']:.2f} |" for r in last_two]
    md += [f"| mean | | {np.mean([r['last'] for r in last_two]):.2f} | {np.mean([r['mean_last_two'] for r in last_two]):.2f} |"]
    (args.out / f"{args.name}.md").write_text("\n".join(md) + "\n")
    print("written", args.out / f"{args.name}.md")


if __name__ == "__main__":
    main()
