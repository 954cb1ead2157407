"""How `videoad table`'s defaults were chosen, and what they give on data they were not chosen on.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/table_defaults.py dev       # choose (about 45 min, one thread, two shared cores)
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/table_defaults.py confirm   # confirm (a few minutes)

Protocol (docs/defaults.md, "The table defaults"), written before any run:

Candidates (DUAD arguments laid over the constructor's defaults, as `videoad table --config` lays
a `duad:` section):
  A  the constructor's defaults (the paper's settings; what `videoad table` used before);
  B  the KDDCUP99 benchmark's `duad` section (videoad/defaults/kddcup.yaml);
  C  B with the video defaults' `score: knn` (videoad/defaults/detect.yaml);
  D  the video default for the motion descriptor (detect.yaml, duad_by_features.motion): a row of
     a few dozen physical numbers is what that descriptor is, so a table fitted like it would make
     one setting across the product.

Development sets (the only data chosen on): KDDCUP99 (`kdd_cup.npz`, column 118 the label), a
random 50,000-row sample drawn with each of the development split seeds 5, 6, 7 (docs/guard.md;
natural contamination, about 20%); scikit-learn's bundled digits, one set per normal digit 0-4:
every image of that digit plus other digits drawn (seed 0) to 5% of the set, pixels / 16.

Confirmation sets (run only after the choice is committed, for the chosen candidate, the
runner-up and A): digits 5-9 (as above); breast cancer (benign normal, malignant drawn to 5%;
draws 0, 1, 2); wine (classes 0 and 1 normal, class 2 drawn to 5%; draws 0, 1, 2).

Every set is written to an .npz with the label as its last column and goes through the functions
`videoad table` runs (videoad.table: read_rows with the label column, checked, fit_scaling and
apply_scaling (min-max over the fitted rows), fit_duad, threshold, baselines: PCA, kNN and
Isolation Forest as the command fits them, seed 0), fitted and scored transductively. DUAD runs at
seeds 0, 1, 2; a set's figure is the mean over them.

Rule: the candidate with the highest mean AUPRC over the development sets (each set weighs one),
unless it loses to A (lower mean AUPRC) on more than half of them; then A. It is shipped only if
its mean AUPRC over the confirmation sets is not below A's; otherwise A stays, and we say so.

The flag rule (videoad.table.threshold) is measured beside it: the share of the fitted rows each
fit flags under the video alarm line alone (median + 4 robust sd, what `videoad table` did) and
under the rule now shipped, with the rule each used.

A kill leaves each finished fit in the work folder (--work); a rerun skips them.
Results: benchmarks/results/table_defaults_{dev,confirm}.{json,md}.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import _results  # noqa: E402

from videoad import table as tb  # noqa: E402
from videoad.bench.common import environment  # noqa: E402
from videoad.config import defaults  # noqa: E402
from videoad.group_model import alarm_line  # noqa: E402

DATA = [ROOT.parent / "shared" / "data"]  # --data
KDD_ROWS = 50_000
DEV_KDD_SEEDS = (5, 6, 7)
DEV_DIGITS = (0, 1, 2, 3, 4)
CONFIRM_DIGITS = (5, 6, 7, 8, 9)
DRAWS = (0, 1, 2)
RUN_SEEDS = (0, 1, 2)
SHARE = 0.05  # anomalies' share of a drawn set


def candidates() -> dict:
    kdd = dict(defaults("kddcup")["duad"])
    motion = dict(defaults("detect")["duad_by_features"]["motion"])
    return {"A": {}, "B": kdd, "C": {**kdd, "score": "knn"}, "D": motion}


WHY = {"A": "the constructor's defaults (the paper's settings; videoad table before)",
       "B": "the KDDCUP99 benchmark's duad section (videoad/defaults/kddcup.yaml)",
       "C": "B with score: knn (the video defaults' score)",
       "D": "the video default for the motion descriptor (detect.yaml duad_by_features.motion)"}
RULE = ("the candidate with the highest mean AUPRC over the development sets (each set weighs one), unless it "
        "loses to A on more than half of them; shipped only if its mean AUPRC over the confirmation sets is not "
        "below A's")


# ---------------------------------------------------------------------------------------------
# the sets: (name, rows, labels)
def _drawn(normal: np.ndarray, other: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    k = int(round(len(normal) * SHARE / (1 - SHARE)))
    pick = np.random.default_rng(seed).choice(len(other), k, replace=False)
    X = np.concatenate([normal, other[np.sort(pick)]])
    return X, np.r_[np.zeros(len(normal)), np.ones(k)]


def kdd_set(seed: int):
    data = np.load(DATA[0] / "kddcup99" / "kdd_cup.npz")["kdd"]
    idx = np.sort(np.random.default_rng(seed).choice(data.shape[0], KDD_ROWS, replace=False))
    return f"kdd-{seed}", data[idx, :-1].astype(np.float64), data[idx, -1].astype(np.float64)


def digits_set(normal: int):
    from sklearn.datasets import load_digits

    d = load_digits()
    X = d.data / 16.0
    return (f"digits-{normal}", *_drawn(X[d.target == normal], X[d.target != normal], 0))


def cancer_set(draw: int):
    from sklearn.datasets import load_breast_cancer

    d = load_breast_cancer()  # target 1 = benign
    return (f"cancer-{draw}", *_drawn(d.data[d.target == 1], d.data[d.target == 0], draw))


def wine_set(draw: int):
    from sklearn.datasets import load_wine

    d = load_wine()
    return (f"wine-{draw}", *_drawn(d.data[d.target != 2], d.data[d.target == 2], draw))


def sets(stage: str):
    if stage == "dev":
        return [(lambda s=s: kdd_set(s)) for s in DEV_KDD_SEEDS] + [(lambda n=n: digits_set(n)) for n in DEV_DIGITS]
    return ([(lambda n=n: digits_set(n)) for n in CONFIRM_DIGITS] + [(lambda s=s: cancer_set(s)) for s in DRAWS]
            + [(lambda s=s: wine_set(s)) for s in DRAWS])


# ---------------------------------------------------------------------------------------------
def run_set(make, names: list[str], work: Path, run_seeds) -> dict:
    name, X_raw, y = make()
    cache = work / f"{name}.json"
    done = json.loads(cache.read_text()) if cache.is_file() else {"fits": {}, "baselines": None}
    path = work / f"{name}.npz"
    np.savez(path, table=np.column_stack([X_raw, y]))
    # what `videoad table SET.npz --label-column LAST` does
    rows = tb.read_rows(path, label_column=str(X_raw.shape[1]))
    tb.checked(rows, fit=True)
    scaling = tb.fit_scaling(rows)
    X = tb.apply_scaling(rows.X, scaling)
    cands = candidates()  # each laid over DUAD's constructor defaults (not over what videoad table ships)
    out = {"rows": int(X.shape[0]), "columns": int(X.shape[1]), "anomalies": float(rows.labels.mean())}
    if done["baselines"] is None:
        t0 = time.perf_counter()
        got = tb.baselines(X, None, 0)
        done["baselines"] = {k: (v if isinstance(v, str) else list(tb.metrics(rows.labels, v))) for k, v in got.items()}
        done["baselines_s"] = round(time.perf_counter() - t0, 1)
        cache.write_text(json.dumps(done))
    for c in names:
        for seed in run_seeds:
            key = f"{c}/{seed}"
            if key in done["fits"]:
                continue
            t0 = time.perf_counter()
            det = tb.fit_duad(X, cands[c], seed)
            s = np.asarray(det.decision_scores_, dtype=np.float64)
            line = tb.threshold(s, None)
            old = alarm_line(s, tb.ALARM_RULE, tb.ALARM_LEVEL)
            auroc, auprc = tb.metrics(rows.labels, s)
            done["fits"][key] = {"auroc": auroc, "auprc": auprc, "seconds": round(time.perf_counter() - t0, 1),
                                 "stop": getattr(det, "stop_reason_", None),
                                 "flagged_share": float((s > line["value"]).mean()), "line_rule": line["rule"],
                                 "flagged_share_mad4": float((s > old).mean())}
            cache.write_text(json.dumps(done))
            print(f"{name} {key}: AUROC {100 * auroc:.2f} AUPRC {100 * auprc:.2f} "
                  f"({done['fits'][key]['seconds']} s, flags {100 * done['fits'][key]['flagged_share']:.1f}% by "
                  f"{line['rule']}, {100 * done['fits'][key]['flagged_share_mad4']:.1f}% by mad 4)", flush=True)
    out["baselines"] = done["baselines"]
    out["fits"] = {k: v for k, v in done["fits"].items() if k.split("/")[0] in names}
    out["mean"] = {c: {m: float(np.mean([out["fits"][f"{c}/{s}"][m] for s in run_seeds]))
                       for m in ("auroc", "auprc", "flagged_share", "flagged_share_mad4")} for c in names}
    return name, out


def choose(results: dict, names: list[str]) -> dict:
    mean = {c: float(np.mean([r["mean"][c]["auprc"] for r in results.values()])) for c in names}
    losses = {c: int(sum(r["mean"][c]["auprc"] < r["mean"]["A"]["auprc"] for r in results.values())) for c in names}
    order = sorted(names, key=lambda c: -mean[c])
    half = len(results) / 2
    best = order[0]
    chosen = best if best == "A" or losses[best] <= half else "A"
    runner = next(c for c in order if c != chosen)
    return {"mean_auprc": mean, "losses_to_A": losses, "order": order, "chosen": chosen, "runner_up": runner,
            "why": (f"{best}: highest mean AUPRC" + ("" if chosen == best else
                    f", but it loses to A on {losses[best]} of {len(results)} sets (more than half): A"))}


def table_lines(results: dict, names: list[str]) -> list[str]:
    base = ("PCA", "kNN", "IsolationForest")
    head = "| set (rows, anomalies) | " + " | ".join(names) + " | " + " | ".join(base) + " |"
    lines = ["AUROC / AUPRC (%), DUAD the mean over run seeds " + ", ".join(map(str, RUN_SEEDS))
             + " (min-max AUPRC over them in brackets); the baselines at seed 0.", "", head,
             "|" + "---|" * (1 + len(names) + len(base))]

    def fmt(a, p):
        return f"{100 * a:.2f} / {100 * p:.2f}"
    for name, r in results.items():
        cells = []
        for c in names:
            m = r["mean"][c]
            ps = [r["fits"][f"{c}/{s}"]["auprc"] for s in RUN_SEEDS if f"{c}/{s}" in r["fits"]]
            cells.append(f"{fmt(m['auroc'], m['auprc'])} ({100 * min(ps):.1f}-{100 * max(ps):.1f})")
        for b in base:
            v = r["baselines"].get(b)
            cells.append(v if isinstance(v, str) else fmt(*v))
        lines.append(f"| {name} ({r['rows']}, {100 * r['anomalies']:.1f}%) | " + " | ".join(cells) + " |")
    means = [f"**{100 * np.mean([r['mean'][c]['auroc'] for r in results.values()]):.2f} / "
             f"{100 * np.mean([r['mean'][c]['auprc'] for r in results.values()]):.2f}**" for c in names]
    bmeans = [fmt(np.mean([r["baselines"][b][0] for r in results.values()]),
                  np.mean([r["baselines"][b][1] for r in results.values()]))
              if all(not isinstance(r["baselines"][b], str) for r in results.values()) else "-" for b in base]
    lines.append("| mean over the sets | " + " | ".join(means + bmeans) + " |")
    lines += ["", "Flagged share of the fitted rows (mean over the run seeds): the rule shipped (its line's rule) / "
              "median + 4 robust sd alone (what videoad table did).", "",
              "| set | anomalies | " + " | ".join(names) + " |", "|" + "---|" * (2 + len(names))]
    for name, r in results.items():
        cells = []
        for c in names:
            rules = sorted({r["fits"][f"{c}/{s}"]["line_rule"] for s in RUN_SEEDS})
            cells.append(f"{100 * r['mean'][c]['flagged_share']:.1f}% ({'/'.join(rules)}) / "
                         f"{100 * r['mean'][c]['flagged_share_mad4']:.1f}%")
        lines.append(f"| {name} | {100 * r['anomalies']:.1f}% | " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("stage", choices=("dev", "confirm"))
    ap.add_argument("--candidates", default=None,
                    help="confirm: the candidates to run (default: the dev result's chosen, runner-up and A)")
    ap.add_argument("--work", type=Path, default=None, help="folder of the finished fits (a rerun skips them)")
    ap.add_argument("--data", type=Path, default=DATA[0], help="the shared data folder (default ../shared/data)")
    ap.add_argument("--out", type=Path, default=None, help="results folder (default benchmarks/results)")
    args = ap.parse_args()
    out = args.out or _results.RESULTS
    DATA[0] = args.data
    work = args.work or Path(tempfile.gettempdir()) / f"videoad_table_defaults_{args.stage}"
    work.mkdir(parents=True, exist_ok=True)
    run = _results.Run()
    if args.stage == "dev":
        names = list(candidates())
    elif args.candidates:
        names = [c.strip() for c in args.candidates.split(",")]
    else:
        dev = json.loads((out / "table_defaults_dev.json").read_text())["choice"]
        names = ["A"] + [c for c in (dev["chosen"], dev["runner_up"]) if c != "A"]
    results = dict(run_set(make, names, work, RUN_SEEDS) for make in sets(args.stage))
    data = {"candidates": {c: {"settings": candidates()[c], "why": WHY[c]} for c in names}, "rule": RULE,
            "run_seeds": list(RUN_SEEDS), "environment": environment(), "sets": results}
    notes = ["Candidates: " + "; ".join(f"{c}: {WHY[c]}" for c in names) + ".", f"Rule (written before): {RULE}."]
    if args.stage == "dev":
        data["choice"] = choose(results, names)
        ch = data["choice"]
        notes.append(f"Choice: **{ch['chosen']}** ({ch['why']}); runner-up {ch['runner_up']}. Mean AUPRC: "
                     + ", ".join(f"{c} {100 * v:.2f}" for c, v in ch["mean_auprc"].items())
                     + "; sets where each is below A: " + ", ".join(f"{c} {n}" for c, n in ch["losses_to_A"].items()) + ".")
    else:
        mean = {c: float(np.mean([r["mean"][c]["auprc"] for r in results.values()])) for c in names}
        data["mean_auprc"] = mean
        notes.append("Mean AUPRC over the confirmation sets: " + ", ".join(f"{c} {100 * v:.2f}" for c, v in mean.items()) + ".")
    stage = "development" if args.stage == "dev" else "confirmation"
    run.write(f"table_defaults_{args.stage}", f"`videoad table` defaults: the {stage} sets",
              __doc__.split("Protocol")[1].split("A kill")[0].strip().join(["Protocol", ""]),
              table_lines(results, names), data, out=out, notes=notes)


if __name__ == "__main__":
    main()
