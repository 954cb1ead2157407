"""Which label-free sign tells the better of two DUAD fits on the same data? KDDCUP99, development splits.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/kdd_kept_signals.py 0.2 5,6,7,8,9,10,11,12,13,14 --data ../shared/data

`DUAD(restarts=N)` keeps the first fit whose selection converged, else the one whose last
reselection changed the fewest rows (`kept_attempt`). On the reported splits that rule kept the
worse of two unsettled fits twice (docs/guard.md). This script fits DUAD twice per split (model
seeds split + 0 and split + 1000, the benchmark's settings) and reads, for each fit, signs that
need no labels, from the training rows' scores and the final selection:

- `last change`: rows that entered or left the selection at the last reselection (the rule's);
- `median ratio` / `mean ratio`: the unselected rows' score over the selected rows';
- `self AUROC`: how well the fit's own score separates the rows it left out from those it kept;
- `selected score`: the selected rows' mean score (lower taken as better);
- `q90/q50`: the 90th over the 50th percentile of every row's score;
- `out above q99`: share of the unselected rows scoring above the selection's 99th percentile.

For each sign: in how many splits it ranks the two fits as their test AUPRC does, and the mean
and minimum AUPRC of keeping the fit it prefers (alone, or after "the first that converged").
Last, no choice at all: the first fit that converged, else the mean of both fits' scores
(`restart_keep="mean"`).
Labels are read only to report AUPRC and the selection's anomaly share. Each fit's scores are
cached under runs/kdd_kept/ (rerun: reads them back). Writes
benchmarks/results/kdd_kept_signals[_<pct>].{json,md}.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from videoad.bench.common import evaluate_scores  # noqa: E402
from videoad.bench.kddcup import DEFAULT_CONFIG  # noqa: E402
from videoad.data import kddcup_file  # noqa: E402
from videoad.datasets.kddcup import contamination_split, load_kddcup  # noqa: E402
from videoad.detector.duad import DUAD  # noqa: E402

OUT = Path(__file__).resolve().parent / "results"
CACHE = ROOT / "runs" / "kdd_kept"
#: each try is one fit: the benchmark's settings without their restart
ONE_FIT = {**DEFAULT_CONFIG["duad"], "restarts": 0}
#: sign: (label, higher is better)
SIGNS = {"last_change": ("last change", False), "median_ratio": ("median ratio", True),
         "mean_ratio": ("mean ratio", True), "self_auroc": ("self AUROC", True),
         "selected_score": ("selected score", False), "q90_q50": ("q90/q50", True),
         "out_above_q99": ("out above q99", True)}


def fit_once(split, seed: int, path: Path) -> dict:
    """One fit's training scores, selection, test scores and test AUPRC, cached in `path` (a
    cache file without test scores, from before they were kept, is fitted again)."""
    if path.exists():
        with np.load(path) as z:
            if "test" in z.files:
                return {"train": z["train"], "sel": z["sel"].astype(bool), "test": z["test"],
                        **json.loads(str(z["meta"]))}
    t0 = time.perf_counter()
    det = DUAD(**ONE_FIT, random_state=seed).fit(split.X_train)
    test = det.decision_function(split.X_test)
    _, auprc = evaluate_scores(split.y_test, test)
    last = det.history_[-1]
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"auprc": auprc, "stop": det.stop_reason_, "last_change": int(last["entered"] + last["left"]),
            "seconds": time.perf_counter() - t0}
    np.savez(path, train=det.decision_scores_, sel=det.selection_, test=test, meta=json.dumps(meta))
    return {"train": det.decision_scores_, "sel": det.selection_.astype(bool), "test": test, **meta}


def signs(fit: dict) -> dict:
    s, sel = fit["train"], fit["sel"]
    return {"last_change": fit["last_change"],
            "median_ratio": float(np.median(s[~sel]) / np.median(s[sel])),
            "mean_ratio": float(s[~sel].mean() / s[sel].mean()),
            "self_auroc": float(roc_auc_score(~sel, s)),
            "selected_score": float(s[sel].mean()),
            "q90_q50": float(np.quantile(s, 0.9) / np.quantile(s, 0.5)),
            "out_above_q99": float(np.mean(s[~sel] > np.quantile(s[sel], 0.99)))}


def mean_rule(pairs: list[list[dict]], y_tests: list[np.ndarray]) -> list[float]:
    """AUPRC per split of `restart_keep="mean"`: the first fit if it converged, else the second if
    it did, else the mean of both fits' test scores."""
    out = []
    for (a, b), y in zip(pairs, y_tests):
        if a["stop"] == "converged" or b["stop"] == "converged":
            out.append(a["auprc"] if a["stop"] == "converged" else b["auprc"])
        else:
            out.append(evaluate_scores(y, (a["test"] + b["test"]) / 2)[1])
    return out


def summary(pairs: list[list[dict]]) -> list[dict]:
    out = []
    for key, (label, higher) in SIGNS.items():
        def better(a, b):
            return a[key] > b[key] if higher else a[key] < b[key]
        prefer = [p[0] if better(p[0], p[1]) or p[0][key] == p[1][key] else p[1] for p in pairs]
        converged_first = [next((f for f in p if f["stop"] == "converged"), q) for p, q in zip(pairs, prefer)]
        out.append({"sign": label, "right": sum((p[0]["auprc"] > p[1]["auprc"]) == better(p[0], p[1]) for p in pairs),
                    "pairs": len(pairs), "kept_mean": float(np.mean([f["auprc"] for f in prefer])),
                    "kept_min": float(min(f["auprc"] for f in prefer)),
                    "converged_first_mean": float(np.mean([f["auprc"] for f in converged_first])),
                    "converged_first_min": float(min(f["auprc"] for f in converged_first))})
    return out


def markdown(rows: list[dict], table: list[dict], meta: dict, mean_kept: list[float] | None = None) -> str:
    first = [r["auprc"] for r in rows if r["try"] == 1]
    best = [max(r["auprc"] for r in rows if r["split"] == s) for s in dict.fromkeys(r["split"] for r in rows)]
    lines = [f"# Which sign tells the better of two DUAD fits? KDDCUP99 at {100 * meta['contamination']:g}%", "",
             (__doc__ or "").split("\n\n", 2)[2].strip(), "",
             f"Command: `{meta['command']} --data ../shared/data` ({meta['threads']} thread(s), {meta['created']}).", "",
             "| split | try | stop | AUPRC | anomaly share of the selection | "
             + " | ".join(label for label, _ in SIGNS.values()) + " |",
             "|---" * (5 + len(SIGNS)) + "|"]
    for r in rows:
        lines.append(f"| {r['split']} | {r['try']} | {r['stop']} | {r['auprc']:.2f} | {r['anomaly_share']:.2f}% | "
                     + " | ".join(f"{r[k]:.4g}" for k in SIGNS) + " |")
    lines += ["", f"First fit: AUPRC mean {np.mean(first):.2f}, min {min(first):.2f}; the better of the two "
              f"(labels): mean {np.mean(best):.2f}, min {min(best):.2f}.", "",
              "| sign | ranks the pair as AUPRC does | keep the fit it prefers: mean / min | first converged, "
              "else the one it prefers: mean / min |", "|---|---|---|---|"]
    lines += [f"| {t['sign']} | {t['right']}/{t['pairs']} | {t['kept_mean']:.2f} / {t['kept_min']:.2f} | "
              f"{t['converged_first_mean']:.2f} / {t['converged_first_min']:.2f} |" for t in table]
    if mean_kept:  # results written before the mean rule existed have none
        lines += ["", "First converged, else the mean of both fits' scores (`restart_keep=\"mean\"`): AUPRC mean "
                  f"{np.mean(mean_kept):.2f}, min {min(mean_kept):.2f} (per split: "
                  + ", ".join(f"{v:.2f}" for v in mean_kept) + ")."]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("contamination", type=float)
    ap.add_argument("seeds", help="comma-separated split seeds")
    ap.add_argument("--data", type=Path, default=None)
    args = ap.parse_args()
    X, y = load_kddcup(kddcup_file(args.data))
    threads = torch.get_num_threads()
    rows, pairs, y_tests = [], [], []
    for s in (int(v) for v in args.seeds.split(",")):
        split = contamination_split(X, y, args.contamination, s)
        y_tests.append(split.y_test)
        pair = []
        for k in range(2):
            fit = fit_once(split, s + 1000 * k, CACHE / f"c{args.contamination:g}_s{s}_k{k}_t{threads}.npz")
            row = {"split": s, "try": k + 1, "stop": fit["stop"], "auprc": round(fit["auprc"], 2),
                   "anomaly_share": round(100 * float(split.y_train[fit["sel"]].mean()), 2), **signs(fit)}
            rows.append(row)
            pair.append({**row, "test": fit["test"]})
            print(json.dumps(row), flush=True)
        pairs.append(pair)
    table = summary(pairs)
    mean_kept = [round(v, 2) for v in mean_rule(pairs, y_tests)]
    pct = "" if args.contamination == 0.2 else f"_{round(100 * args.contamination)}pct"
    meta = {"contamination": args.contamination, "threads": threads, "created": time.strftime("%Y-%m-%d %H:%M"),
            "command": f"OMP_NUM_THREADS={threads} .venv/bin/python benchmarks/kdd_kept_signals.py "
                       f"{args.contamination:g} {args.seeds}"}
    OUT.mkdir(exist_ok=True)
    name = f"kdd_kept_signals{pct}"
    (OUT / f"{name}.json").write_text(json.dumps({"meta": meta, "rows": rows, "signs": table,
                                                  "mean_rule": mean_kept}, indent=2) + "\n")
    (OUT / f"{name}.md").write_text(markdown(rows, table, meta, mean_kept))
    print("written", OUT / f"{name}.md")


if __name__ == "__main__":
    main()
