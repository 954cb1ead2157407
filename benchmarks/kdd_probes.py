"""Probes of DUAD's instability on KDDCUP99 at 20%: what was tried on development splits, and lost.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/kdd_probes.py 5,6,7,8,9,10,11,12,13,14 --data ../shared/data

Development splits only (the benchmark reports 0-4), the benchmark's `duad` settings, one fit per
probe and split at model seed = split, beside one plain fit of the same run (`one_fit`: the
benchmark's settings without their restart; the library builds move DUAD's fits, so the reference
is measured here, not read from an older file):

- `members`: five DUAD fits per split, each on its own seeded subsample of 50,000 training rows
  (`max_fit_rows`, model seeds split + 7919 j), every row scored; their test scores aggregated by
  mean, median, minimum and a geometric mean over the first 2, 3 and 5 members. The idea: a
  bagged ensemble whose members fail independently, and five small fits cost about one full one.
- `raw`: the reselection mixture fitted on z = [code, angle] as it is, not L2-normalised (the
  paper normalises; with the benchmark's 1-unit code the normalised z is a point on a circle,
  so only the ratio angle / |code| is clustered). A third-party port clusters z unnormalised.
- `lat2`: the normalised z with a 2-unit code instead of 1.
- `raw_agree3`: `raw`, starting from the rows that three seeded initial clusterings all select
  (`guard_runs=3`), without the entry guard.

Labels are read only to report AUPRC and the selection's anomaly share per step. Fits are cached
under runs/kdd_probes/ (a rerun reads them back). Writes benchmarks/results/kdd_probes.{json,md}.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from videoad.bench.common import evaluate_scores  # noqa: E402
from videoad.bench.kddcup import DEFAULT_CONFIG  # noqa: E402
from videoad.data import kddcup_file  # noqa: E402
from videoad.datasets.kddcup import contamination_split, load_kddcup  # noqa: E402
from videoad.detector.duad import DUAD  # noqa: E402

CONTAMINATION = 0.2
MEMBERS, MEMBER_ROWS = 5, 50_000
CACHE = ROOT / "runs" / "kdd_probes"
OUT = ROOT / "benchmarks" / "results" / "kdd_probes"
AGGREGATES = {
    "mean": lambda t: t.mean(0),
    "median": lambda t: np.median(t, 0),
    "min": lambda t: t.min(0),
    "geometric mean": lambda t: np.exp(np.log(t + 1e-6).mean(0)),
}


class ProbeDUAD(DUAD):
    """DUAD with the reselection embedding unnormalised (`raw`) and/or no entry guard (the
    guard's flag then only switches on `guard_runs`' agreement of initial clusterings)."""

    raw_embedding = False
    entry_guard = True

    def _embedding(self, X_t):
        if not self.raw_embedding:
            return super()._embedding(X_t)
        code, angle = self._forward_all(X_t)
        return np.concatenate([code, angle[:, None]], axis=1).astype(np.float64), angle

    def _guard(self, new, old, angle, groups):
        if self.entry_guard:
            return super()._guard(new, old, angle, groups)
        return new, {"reference_angle": None, "groups_entering": 0, "rejected": [], "rows_rejected": 0}


PROBES = {  # name: (raw embedding, entry guard, DUAD overrides)
    "one_fit": (False, True, {}),
    "raw": (True, True, {}),
    "lat2": (False, True, {"latent_dim": 2}),
    "raw_agree3": (True, False, {"guard": True, "guard_runs": 3}),
}


def fit_once(split, name: str, seed: int, cls, overrides: dict) -> dict:
    """One fit (cached): test scores, stop reason, seconds, anomaly share per step."""
    path = CACHE / f"c{CONTAMINATION}_s{seed}_{name}.npz"
    if not path.exists():
        t0 = time.time()
        det = cls(**{**DEFAULT_CONFIG["duad"], "restarts": 0, **overrides}, random_state=seed,
                  keep_selection_history=True).fit(split.X_train)
        shares = [round(100 * float(split.y_train[h["mask"]].mean()), 2) for h in det.history_]
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, test=det.decision_function(split.X_test).astype(np.float32), stop=det.stop_reason_,
                 sec=time.time() - t0, shares=shares)
    d = np.load(path)
    return {"test": d["test"], "stop": str(d["stop"]), "seconds": round(float(d["sec"]), 1),
            "shares": [float(s) for s in d["shares"]]}


def probe_split(X, y, s: int) -> dict:
    split = contamination_split(X, y, CONTAMINATION, s)
    row: dict = {"split": s}
    for name, (raw, entry, overrides) in PROBES.items():
        cls = type(f"Probe_{name}", (ProbeDUAD,), {"raw_embedding": raw, "entry_guard": entry})
        f = fit_once(split, name, s, cls, overrides)
        row[name] = {"auprc": round(evaluate_scores(split.y_test, f["test"])[1], 2), "stop": f["stop"],
                     "seconds": f["seconds"], "shares": f["shares"]}
        print(f"split {s} {name}: {row[name]}", flush=True)
    members = []
    for j in range(MEMBERS):
        f = fit_once(split, f"R{MEMBER_ROWS}_m{j}", s + 7919 * j, DUAD, {"max_fit_rows": MEMBER_ROWS})
        members.append(f)
    t = np.array([m["test"] for m in members], dtype=np.float64)
    row["members"] = [{"auprc": round(evaluate_scores(split.y_test, m["test"])[1], 2), "stop": m["stop"],
                       "seconds": m["seconds"], "final_share": m["shares"][-1]} for m in members]
    row["ensembles"] = {f"{agg} of {n}": round(evaluate_scores(split.y_test, fn(t[:n]))[1], 2)
                        for agg, fn in AGGREGATES.items() for n in (2, 3, 5)
                        if not (agg == "median" and n == 2)}  # the median of two is their mean
    print(f"split {s} members: {row['members']}\n  ensembles: {row['ensembles']}", flush=True)
    return row


def markdown(rows: list[dict], meta: dict) -> str:
    def stats(vals):
        return f"{np.mean(vals):.2f} / {np.min(vals):.2f}"

    lines = ["# Probes of DUAD's instability on KDDCUP99 at 20% (development splits)", "",
             (__doc__ or "").split("\n\n", 2)[2].split("\n\nLabels")[0], "",
             f"Command: `{meta['command']}` ({meta['threads']} thread(s), {meta['date']}).", "",
             "AUPRC per split (`*` the selection converged):", "",
             "| split | " + " | ".join(PROBES) + " | members (50k rows each) |",
             "|---|" + "---|" * len(PROBES) + "---|"]
    for r in rows:
        cells = [f"{r[p]['auprc']:.2f}{'*' if r[p]['stop'] == 'converged' else ''}" for p in PROBES]
        mem = " / ".join(f"{m['auprc']:.1f}{'*' if m['stop'] == 'converged' else ''}" for m in r["members"])
        lines.append(f"| {r['split']} | " + " | ".join(cells) + f" | {mem} |")
    lines += ["", "Mean / minimum AUPRC over the splits:", "", "| method | AUPRC mean / min |", "|---|---|"]
    for p in PROBES:
        lines.append(f"| {p} | {stats([r[p]['auprc'] for r in rows])} |")
    lines.append(f"| a single 50k-row member (all members) | {stats([m['auprc'] for r in rows for m in r['members']])} |")
    for key in rows[0]["ensembles"]:
        lines.append(f"| members, {key} | {stats([r['ensembles'][key] for r in rows])} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("seeds", help="comma-separated development split seeds")
    ap.add_argument("--data", type=Path, default=None)
    args = ap.parse_args()
    import torch

    X, y = load_kddcup(kddcup_file(args.data))
    rows = [probe_split(X, y, int(s)) for s in args.seeds.split(",")]
    meta = {"command": "OMP_NUM_THREADS=1 .venv/bin/python benchmarks/kdd_probes.py " + args.seeds
                       + " --data ../shared/data",
            "threads": torch.get_num_threads(), "date": time.strftime("%Y-%m-%d %H:%M")}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.with_suffix(".json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    OUT.with_suffix(".md").write_text(markdown(rows, meta))
    print(OUT.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
