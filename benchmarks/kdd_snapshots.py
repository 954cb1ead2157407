"""Snapshots against the last model, under each way of combining two fits: KDDCUP99 development splits.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/kdd_snapshots.py 0.2 5,6,7,8,9,10,11,12,13,14 --data ../shared/data

For each split seed, DUAD with the benchmark's settings and `snapshots=2` is fitted at model
seeds split and split + 1000 (the seeds a restart uses), one fit each (`restarts: 0`). A
snapshot fit holds the model as the paper stops it (`members_[1]`, bit for bit the fit with
`snapshots=1`: tests/test_detector_core.py) beside the model one period back, so each fit gives
both scores. Six policies are then read from the same fits:

- score: the last model (the paper) or the snapshot mean (the mean of the last two periods');
- fits: one fit; the restart rule as shipped (the first fit if it converged, else a second one,
  kept alone if it converged, else the mean of both); or always the mean of both fits.

Labels are read only to report AUPRC / AUROC. Test scores are cached in `--cache` (a rerun with
more splits fits only the new ones). Writes benchmarks/results/NAME.{json,md}
(default NAME: kdd_snapshots_<C>pct_<T>thread(s)).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from videoad.bench.common import evaluate_scores  # noqa: E402
from videoad.bench.kddcup import DEFAULT_CONFIG  # noqa: E402
from videoad.data import kddcup_file  # noqa: E402
from videoad.datasets.kddcup import contamination_split, load_kddcup  # noqa: E402
from videoad.detector.duad import DUAD, kept_attempt  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results"
SCORES = ("last", "snapshots")
POLICIES = ("one fit", "restart rule", "mean of two")


def fit_scores(split, seed: int, cache: Path) -> dict:
    """Test scores of the last model and of the snapshot mean, and the stop reason, of one fit."""
    if cache.is_file():
        z = np.load(cache)
        return {"last": z["last"], "snapshots": z["snapshots"], "stop": str(z["stop"]), "seconds": float(z["seconds"])}
    t0 = time.perf_counter()
    det = DUAD(**{**DEFAULT_CONFIG["duad"], "restarts": 0, "snapshots": 2}, random_state=seed).fit(split.X_train)
    snap = det.decision_function(split.X_test)
    last = det.members_[1].decision_function(split.X_test) if det.members_ else snap
    out = {"last": last, "snapshots": snap, "stop": det.stop_reason_, "seconds": time.perf_counter() - t0}
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_name(cache.stem + ".tmp.npz")
    np.savez(tmp, **out)
    tmp.replace(cache)
    return out


def combine(fits: list[dict], score: str, policy: str) -> np.ndarray:
    first, second = fits
    if policy == "one fit":
        return first[score]
    if policy == "mean of two":
        return (first[score] + second[score]) / 2
    # the restart rule: DUAD's own choice of attempt; the mean when none converged
    kept = fits[kept_attempt([{"stop_reason": f["stop"], "last_change": 0} for f in fits])]
    return kept[score] if kept["stop"] == "converged" else (first[score] + second[score]) / 2


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("contamination", type=float)
    ap.add_argument("splits", help="comma-separated split seeds (development: 5-14)")
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--name", default=None)
    ap.add_argument("--cache", type=Path, default=ROOT / "runs" / "kdd_snapshots")
    args = ap.parse_args()
    threads = torch.get_num_threads()
    name = args.name or f"kdd_snapshots_{100 * args.contamination:g}pct_{threads}thread{'s' if threads > 1 else ''}"
    X, y = load_kddcup(kddcup_file(args.data))
    rows = []
    for s in (int(v) for v in args.splits.split(",")):
        split = contamination_split(X, y, args.contamination, s)
        fits = [fit_scores(split, seed, args.cache / f"c{args.contamination:g}_t{threads}_split{s}_seed{seed}.npz")
                for seed in (s, s + 1000)]
        row = {"split": s, "stops": [f["stop"] for f in fits], "seconds": [round(f["seconds"], 1) for f in fits]}
        for score in SCORES:
            for policy in POLICIES:
                auroc, auprc = evaluate_scores(split.y_test, combine(fits, score, policy))
                row[f"{score}|{policy}"] = [round(auroc, 2), round(auprc, 2)]
        rows.append(row)
        print(json.dumps(row), flush=True)
    summary = {f"{score}|{policy}": {"auprc_mean": round(float(np.mean([r[f"{score}|{policy}"][1] for r in rows])), 2),
                                     "auprc_min": round(float(np.min([r[f"{score}|{policy}"][1] for r in rows])), 2),
                                     "auroc_mean": round(float(np.mean([r[f"{score}|{policy}"][0] for r in rows])), 2)}
               for score in SCORES for policy in POLICIES}
    command = (f"OMP_NUM_THREADS={threads} .venv/bin/python benchmarks/kdd_snapshots.py {args.contamination:g} "
               f"{args.splits}" + ("" if args.name is None else f" --name {args.name}") + " --data ../shared/data")
    meta = {"contamination": args.contamination, "threads": threads, "command": command,
            "created": time.strftime("%Y-%m-%d %H:%M")}
    OUT.mkdir(exist_ok=True)
    (OUT / f"{name}.json").write_text(json.dumps({"meta": meta, "rows": rows, "summary": summary}, indent=2) + "\n")
    (OUT / f"{name}.md").write_text(markdown(rows, meta, summary))
    print((OUT / f"{name}.md").read_text())


def markdown(rows: list[dict], meta: dict, summary: dict) -> str:
    head = "| split | stops (seed s, s + 1000) | " + " | ".join(f"{s}, {p}" for s in SCORES for p in POLICIES) + " |"
    lines = [f"# Snapshots on KDDCUP99 at {100 * meta['contamination']:g}%, development splits, "
             f"{meta['threads']} thread(s)", "", (__doc__ or "").split("\n\n", 2)[2].strip(), "",
             f"Command: `{meta['command']}` ({meta['created']}).", "", "AUPRC per split:", "", head,
             "|" + "---|" * (2 + len(SCORES) * len(POLICIES))]
    for r in rows:
        lines.append(f"| {r['split']} | {', '.join(r['stops'])} | "
                     + " | ".join(f"{r[f'{s}|{p}'][1]:.2f}" for s in SCORES for p in POLICIES) + " |")
    lines.append("| **mean** (min) | | " + " | ".join(
        f"**{summary[f'{s}|{p}']['auprc_mean']:.2f}** ({summary[f'{s}|{p}']['auprc_min']:.2f})"
        for s in SCORES for p in POLICIES) + " |")
    lines.append("| AUROC mean | | " + " | ".join(f"{summary[f'{s}|{p}']['auroc_mean']:.2f}"
                                                 for s in SCORES for p in POLICIES) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
