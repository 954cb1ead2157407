"""How much of a DUAD fit's AUPRC on KDDCUP99 is the model seed, and does averaging fits help?

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/kdd_ensemble.py 5,6,7,8,9,10,11,12,13,14 --members 3 --data ../shared/data
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/kdd_ensemble.py 5,6,7,8,9,10,11,12,13,14 --members 3 --cap 32768 --data ../shared/data

Development splits only (the benchmark reports splits 0-4). For each split, `--members` DUAD
fits of the benchmark's settings, one fit each (`restarts` 0), at model seeds split + 1000 k
(the seeds a restart would use), every fit's test scores kept in `--workdir` (a rerun reuses
them); then per split the AUPRC of each fit and of the mean of the first m fits' scores (the
angles of fits of the same data, in radians, on one scale: what `restart_keep="mean"` averages).
`--cap N` sets `max_epoch_rows` (each epoch trains on a fresh random N rows of the selection;
without it, whole epochs): the cheapest way to cut a fit's time, measured here against its cost
in AUPRC. The benchmark ships the cap 32,768 that this comparison chose.

Writes benchmarks/results/kdd_ensemble[_capN].{json,md}.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
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


def member(split, seed: int, overrides: dict, path: Path) -> dict:
    """One fit's test scores, stop reason and seconds, cached in `path`."""
    if path.exists():
        z = np.load(path)
        return {"scores": z["scores"], "stop": str(z["stop"]), "seconds": float(z["seconds"])}
    t0 = time.perf_counter()
    det = DUAD(**{**DEFAULT_CONFIG["duad"], "restarts": 0, **overrides}, random_state=seed).fit(split.X_train)
    scores = det.decision_function(split.X_test)
    out = {"scores": scores, "stop": det.stop_reason_, "seconds": time.perf_counter() - t0}
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **out)
    return out


def restart_rule(fits: list[dict]):
    """The scores DUAD's shipped `restarts: 1` (`restart_keep="mean"`) would give from these fits:
    the first if it settled, else the second if that settled, else the mean of both (None with
    fewer than two fits)."""
    if len(fits) < 2:
        return None
    first, second = fits[0], fits[1]
    if first["stop"] == "converged":
        return first["scores"]
    if second["stop"] == "converged":
        return second["scores"]
    return (first["scores"] + second["scores"]) / 2.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("splits", help="comma-separated split seeds (development: 5-14)")
    ap.add_argument("--contamination", type=float, default=0.2)
    ap.add_argument("--members", type=int, default=3)
    ap.add_argument("--cap", type=int, default=None, help="max_epoch_rows of every fit (default: whole epochs)")
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--workdir", type=Path, default=ROOT / "runs" / "kdd_ensemble")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args()
    splits = [int(s) for s in args.splits.split(",")]
    overrides = {"max_epoch_rows": args.cap}  # None: every selected row, every epoch
    tag = "full" if args.cap is None else f"cap{args.cap}"
    X, y = load_kddcup(kddcup_file(args.data))
    rows = []
    for s in splits:
        split = contamination_split(X, y, args.contamination, s)
        fits = [member(split, s + 1000 * k, overrides, args.workdir / tag / f"{args.contamination}_{s}_{k}.npz")
                for k in range(args.members)]
        single = [evaluate_scores(split.y_test, f["scores"])[1] for f in fits]
        mean_of = [evaluate_scores(split.y_test, np.mean([f["scores"] for f in fits[:m]], axis=0))[1]
                   for m in range(1, args.members + 1)]
        restart = restart_rule(fits)
        rows.append({"split": s, "auprc": single, "converged": [f["stop"] == "converged" for f in fits],
                     "seconds": [f["seconds"] for f in fits], "mean_of_first": mean_of,
                     "restart_rule": evaluate_scores(split.y_test, restart)[1] if restart is not None else None})
        print(f"split {s}: fits " + " / ".join(f"{a:.2f}{'*' if f['stop'] == 'converged' else ''}"
                                                 for a, f in zip(single, fits))
              + " | mean of first m: " + " / ".join(f"{a:.2f}" for a in mean_of), flush=True)
    every = np.array([r["auprc"] for r in rows])
    summary = {"single_fit_mean": float(every.mean()), "single_fit_sd": float(every.std(ddof=1)),
               "within_split_sd": float(np.mean(every.std(axis=1, ddof=1))) if args.members > 1 else None,
               "first_fit_mean": float(every[:, 0].mean()), "first_fit_min": float(every[:, 0].min()),
               "seconds_median": float(np.median([t for r in rows for t in r["seconds"]])),
               "mean_of_first": {m: {"mean": float(np.mean([r["mean_of_first"][m - 1] for r in rows])),
                                     "min": float(np.min([r["mean_of_first"][m - 1] for r in rows]))}
                                 for m in range(1, args.members + 1)}}
    rule = [r["restart_rule"] for r in rows if r["restart_rule"] is not None]
    summary["restart_rule"] = {"mean": float(np.mean(rule)), "min": float(np.min(rule))} if rule else None
    name = f"kdd_ensemble_{tag}" if args.cap else "kdd_ensemble"
    command = (f"OMP_NUM_THREADS={torch.get_num_threads()} .venv/bin/python benchmarks/kdd_ensemble.py {args.splits} "
               f"--members {args.members}" + (f" --cap {args.cap}" if args.cap else "") + " --data ../shared/data")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{name}.json").write_text(json.dumps(
        {"command": command, "contamination": args.contamination, "overrides": overrides, "env": environment(),
         "splits": rows, "summary": summary}, indent=2, default=float) + "\n")
    md = [f"# DUAD fits and their mean on KDDCUP99 at {args.contamination:.0%}, development splits"
          + (f", {args.cap:,} rows per epoch" if args.cap else ""), "",
          __doc__.split("\n\n")[2].replace("\n", " "), "", f"Command: `{command}`", "",
          "| split | AUPRC of each fit (`*` settled) | mean of the first m fits' scores, m = 1.." + str(args.members)
          + " | seconds per fit |", "|---|---|---|---|"]
    for r in rows:
        md.append(f"| {r['split']} | " + " / ".join(f"{a:.2f}{'*' if c else ''}" for a, c in zip(r["auprc"], r["converged"]))
                  + " | " + " / ".join(f"{a:.2f}" for a in r["mean_of_first"]) + " | "
                  + " / ".join(f"{t:.0f}" for t in r["seconds"]) + " |")
    md += ["", f"Every fit: AUPRC mean {summary['single_fit_mean']:.2f}, standard deviation {summary['single_fit_sd']:.1f}"
           + (f" (within a split, over model seeds alone: {summary['within_split_sd']:.1f})" if summary["within_split_sd"] else "")
           + f"; median fit {summary['seconds_median']:.0f} s at {torch.get_num_threads()} thread(s) (other jobs sharing the cores).",
           "", "| fits averaged | AUPRC mean over splits | min |", "|---|---|---|"]
    md += [f"| {m} | {v['mean']:.2f} | {v['min']:.2f} |" for m, v in summary["mean_of_first"].items()]
    if summary["restart_rule"]:
        md += ["", "The shipped restart rule (`restarts: 1`) from the first two fits (the first if it settled, "
               "else the second if it did, else their mean): AUPRC mean "
               f"{summary['restart_rule']['mean']:.2f}, min {summary['restart_rule']['min']:.2f}; per split "
               + " / ".join(f"{r['restart_rule']:.2f}" for r in rows) + "."]
    (args.out / f"{name}.md").write_text("\n".join(md) + "\n")
    print("written", args.out / f"{name}.md")


if __name__ == "__main__":
    main()
