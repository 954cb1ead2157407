"""Is a settled selection a sign of a poor fit? Every try fitted, then restart rules compared offline (KDDCUP99).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/kdd_settled.py 0.2 5,6,7,8,9,10,11,12,13,14 --tries 3 --overrides '{"lr": 0.0003}' --name kdd_settled_lr3e-4 --data ../shared/data

At lr 3e-4 on the development splits (kdd_dev_lr_0.0003.md) the fits whose selection never settled
scored 94.5-96.9 AUPRC and five of seven settled ones 55-64: a settled selection there had locked
a normal mode out (docs/guard.md, "what a clean, settled fit misses"). This script fits every split
at model seeds split + 1000 k for k < tries (all of them, whatever each did), keeps each fit's test
scores under runs/kdd_settled/NAME/ (a rerun reads them back), and compares the rules a user
could run, each label-free and read from the tries in order:

- `first`: the first fit alone;
- `unsettled` (the shipped restart rule with one restart): the first fit if it settled; else the
  second, kept alone if it settled; else the mean of both;
- `prefer_unsettled`: the first fit that did not settle among the tries, alone; when every try
  settled, the mean of them all;
- `mean_all`: the mean of every try;
- `median_all`, `min_all`: the median and the minimum of the tries' scores, row by row (a row any
  fit reconstructs well is kept low: a fit that learned a normal mode another missed speaks for it);
- `rank_mean_all`: the mean of each try's scores as ranks (fits on different scales weigh alike).

Labels are read only to report AUROC / AUPRC. Writes benchmarks/results/NAME.{json,md}.
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

from videoad.bench.common import evaluate_scores  # noqa: E402
from videoad.bench.kddcup import DEFAULT_CONFIG  # noqa: E402
from videoad.data import kddcup_file  # noqa: E402
from videoad.datasets.kddcup import contamination_split, load_kddcup  # noqa: E402
from videoad.detector.duad import DUAD  # noqa: E402

OUT = ROOT / "benchmarks" / "results"
CACHE = ROOT / "runs" / "kdd_settled"


def fit_try(split, s: int, k: int, params: dict, cache: Path) -> tuple[dict, np.ndarray]:
    stem = cache / f"split{s}_try{k + 1}"
    if stem.with_suffix(".json").is_file():
        return json.loads(stem.with_suffix(".json").read_text()), np.load(stem.with_suffix(".npy"))
    t0 = time.perf_counter()
    det = DUAD(**params, random_state=s + 1000 * k).fit(split.X_train)
    scores = det.decision_function(split.X_test)
    auroc, auprc = evaluate_scores(split.y_test, scores)
    row = {"split": s, "model_seed": s + 1000 * k, "try": k + 1, "stop": det.stop_reason_, "epochs": det.n_epochs_,
           "anomaly_share": round(100 * float(split.y_train[det.selection_].mean()), 2),
           "auroc": round(auroc, 2), "auprc": round(auprc, 2), "seconds": round(time.perf_counter() - t0, 1),
           "threads": torch.get_num_threads()}
    cache.mkdir(parents=True, exist_ok=True)
    np.save(stem.with_suffix(".npy"), scores.astype(np.float32))
    stem.with_suffix(".json").write_text(json.dumps(row))
    return row, scores


def rules(rows: list[dict], scores: list[np.ndarray]) -> dict[str, tuple[str, np.ndarray]]:
    """Each rule's kept scores and what it kept, from one split's tries in order."""
    settled = [r["stop"] == "converged" for r in rows]
    out = {"first": ("try 1", scores[0])}
    if settled[0] or len(rows) == 1:
        out["unsettled"] = ("try 1", scores[0])
    elif settled[1]:
        out["unsettled"] = ("try 2", scores[1])
    else:
        out["unsettled"] = ("mean of tries 1-2", (scores[0] + scores[1]) / 2)
    free = [i for i, s in enumerate(settled) if not s]
    out["prefer_unsettled"] = ((f"try {free[0] + 1}", scores[free[0]]) if free
                               else (f"mean of tries 1-{len(rows)}", np.mean(scores, axis=0)))
    out["mean_all"] = (f"mean of tries 1-{len(rows)}", np.mean(scores, axis=0))
    out["median_all"] = (f"median of tries 1-{len(rows)}", np.median(scores, axis=0))
    out["min_all"] = (f"minimum of tries 1-{len(rows)}", np.min(scores, axis=0))
    ranks = [np.argsort(np.argsort(sc)) / len(sc) for sc in scores]
    out["rank_mean_all"] = (f"mean rank of tries 1-{len(rows)}", np.mean(ranks, axis=0))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("contamination", type=float)
    ap.add_argument("seeds", help="comma-separated split seeds")
    ap.add_argument("--tries", type=int, default=3)
    ap.add_argument("--overrides", default="{}", help="JSON of DUAD arguments laid over the benchmark's duad settings")
    ap.add_argument("--name", required=True)
    ap.add_argument("--data", type=Path, default=None)
    args = ap.parse_args()
    X, y = load_kddcup(kddcup_file(args.data))
    params = {**DEFAULT_CONFIG["duad"], "restarts": 0, **json.loads(args.overrides)}
    cache = CACHE / args.name
    fits, kept = [], []
    for s in (int(v) for v in args.seeds.split(",")):
        split = contamination_split(X, y, args.contamination, s)
        rows, scores = zip(*(fit_try(split, s, k, params, cache) for k in range(args.tries)))
        for r in rows:
            print(json.dumps(r), flush=True)
        fits += rows
        for rule, (what, sc) in rules(list(rows), list(scores)).items():
            auroc, auprc = evaluate_scores(split.y_test, sc)
            kept.append({"split": s, "rule": rule, "kept": what, "auroc": round(auroc, 2), "auprc": round(auprc, 2)})
    command = (f"OMP_NUM_THREADS={torch.get_num_threads()} .venv/bin/python benchmarks/kdd_settled.py "
               f"{args.contamination} {args.seeds} --tries {args.tries}"
               + ("" if args.overrides == "{}" else f" --overrides '{args.overrides}'") + f" --name {args.name}")
    meta = {"command": command, "contamination": args.contamination, "threads": torch.get_num_threads(),
            "overrides": json.loads(args.overrides), "created": time.strftime("%Y-%m-%d %H:%M")}
    (OUT / f"{args.name}.json").write_text(json.dumps({"meta": meta, "fits": fits, "kept": kept}, indent=1) + "\n")
    (OUT / f"{args.name}.md").write_text(markdown(fits, kept, meta))
    print((OUT / f"{args.name}.md").read_text())


def markdown(fits: list[dict], kept: list[dict], meta: dict) -> str:
    lines = [f"# Restart rules compared on every try: KDDCUP99 at {100 * meta['contamination']:g}%", "",
             __doc__.split("\n\n", 2)[2].strip(), "",
             f"Command: `{meta['command']} --data ../shared/data` ({meta['threads']} thread(s), {meta['created']}); "
             f"DUAD arguments over the benchmark's: {meta['overrides'] or 'none'}.", "",
             "| split | try | model seed | stop | epochs | anomaly share of the selection | AUROC | AUPRC | seconds |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in fits:
        lines.append(f"| {r['split']} | {r['try']} | {r['model_seed']} | {r['stop']} | {r['epochs']} | "
                     f"{r['anomaly_share']:.2f}% | {r['auroc']:.2f} | {r['auprc']:.2f} | {r['seconds']} |")
    splits = list(dict.fromkeys(k["split"] for k in kept))
    lines += ["", "| rule | AUPRC per split | mean | min | AUROC mean |", "|---|---|---|---|---|"]
    for rule in dict.fromkeys(k["rule"] for k in kept):
        rs = [next(k for k in kept if k["split"] == s and k["rule"] == rule) for s in splits]
        au = [k["auprc"] for k in rs]
        lines.append(f"| `{rule}` | " + " / ".join(f"{a:.2f}" for a in au) + f" | **{np.mean(au):.2f}** | "
                     f"{min(au):.2f} | {np.mean([k['auroc'] for k in rs]):.2f} |")
    settled = [f["auprc"] for f in fits if f["stop"] == "converged"]
    free = [f["auprc"] for f in fits if f["stop"] != "converged"]
    lines += ["", f"Fits that settled: {len(settled)}, AUPRC mean {np.mean(settled) if settled else float('nan'):.2f}, "
              f"min {min(settled) if settled else float('nan'):.2f}; fits that did not: {len(free)}, mean "
              f"{np.mean(free) if free else float('nan'):.2f}, min {min(free) if free else float('nan'):.2f}."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
