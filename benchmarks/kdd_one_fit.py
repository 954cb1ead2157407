"""One DUAD fit on one KDDCUP99 split: test AUROC/AUPRC and the selection's purity at each step.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/kdd_one_fit.py 0.2 9 '{"guard": true}'

`--readouts` adds the same fit's AUPRC under the other scores (error, knn to the final selection).
`--by-type` lists per record type of the raw file (neptune split by its TCP flag: S0 and REJ are
two modes) the share selected at every step and the test rows that score like anomalies;
`--components` lists the last reselection's mixture components (give `max_reselections` in the
JSON to stop at the step to read: a fit with `max_reselections: k` is the first k periods of a
longer one, bit for bit).

Arguments: contamination, seed (split and model), optional JSON of DUAD overrides laid over the
KDDCUP99 benchmark's `duad` settings; one fit (`restarts` 0 unless the JSON says otherwise).
Prints one line: the metrics, the fit time, the stop reason, and per step the anomaly share of
the selection (labels used for this report only) and, with the guard on, the rows it kept out as
`rows@median angle` against its reference. This is what docs/guard.md's per-seed figures come
from (those dated before the epoch cap ran whole epochs: add `"max_epoch_rows": null` to the
JSON); the benchmark (`videoad bench kddcup`) reports seeds 0-4, the guard was tuned on seeds
5-14. `--data` (default: VIDEOAD_DATA) names the data.

Every line printed is also appended to benchmarks/results/kdd_one_fit.md (`--out FILE` for
another file, `--out ''` for none), under the command, the date, the library versions and
thread settings (`videoad.bench.common.environment`) and the load average, so that a figure
quoted from one fit has a file to point to. Fits printed before this option existed were not
kept.
"""
from __future__ import annotations

import argparse
import json
import os
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

import _results  # noqa: E402  (benchmarks/: the results files' command line)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("contamination", type=float)
    ap.add_argument("seed", type=int)
    ap.add_argument("overrides", nargs="?", default="{}")
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--readouts", action="store_true",
                    help="Also the test AUPRC of the same fit read out by the other scores: reconstruction error, "
                         "and the distance to the k-th nearest row of the final selection (k 5 and 50) in "
                         "[code, residual] and in the scaled input.")
    ap.add_argument("--by-type", action="store_true",
                    help="Also, per record type of the raw file (smurf, neptune, normal, ...; types with at least "
                         "200 training rows): the share of its training rows in the final selection and how many "
                         "of its test rows score above the anomalies' 10th percentile (needs "
                         "kddcup99/kddcup.data_10_percent.gz beside the data).")
    ap.add_argument("--components", action="store_true",
                    help="Also the last reselection's mixture components, widest first: rows, variance in z (the "
                         "rule's key), whether selected, anomaly share, the commonest record type, median angle, "
                         "and the spread of their rows in the scaled input (needs the raw file as --by-type).")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "kdd_one_fit.md"),
                    help="append what is printed to this Markdown file ('' for none) [default: benchmarks/results/kdd_one_fit.md]")
    args = ap.parse_args()
    printed: list[str] = []

    def say(line: str) -> None:
        print(line, flush=True)
        printed.append(line)

    load_before = os.getloadavg()
    X, y = load_kddcup(kddcup_file(args.data))
    split = contamination_split(X, y, args.contamination, args.seed)
    extra = json.loads(args.overrides)
    start = time.time()
    det = DUAD(**{**DEFAULT_CONFIG["duad"], "restarts": 0, **extra}, random_state=args.seed,
               keep_selection_history=True).fit(split.X_train)
    seconds = time.time() - start
    test_scores = det.decision_function(split.X_test)
    auroc, auprc = evaluate_scores(split.y_test, test_scores)
    steps = []
    for h in det.history_:
        share = f"{h['step']}:{100 * split.y_train[h['mask']].mean():.2f}%"
        g = h.get("guard")
        if g and "rows_rejected" in g:
            kept_out = ",".join(f"{r['rows']}@{r['median_angle']:.2f}" for r in g["rejected"])
            share += f" kept out {g['rows_rejected']}({kept_out}) ref {g['reference_angle']}"
        steps.append(share)
    say(f"contamination {args.contamination} seed {args.seed} threads {torch.get_num_threads()} {extra} "
          f"AUROC {auroc:.2f} AUPRC {auprc:.2f} fit {seconds:.1f}s ({det.n_epochs_} epochs; "
          + ", ".join(f"{k} {v:.1f}" for k, v in det.timings_.items()) + f") {det.stop_reason_} | " + " ; ".join(steps))
    if args.readouts:
        say("AUPRC by readout of the same fit: " + ", ".join(f"{k} {v:.2f}" for k, v in readouts(det, split).items()))
    raw = kddcup_file(args.data).parent / "kddcup.data_10_percent.gz"
    if args.by_type or args.components:
        names = record_types(raw, y)
    if args.by_type:
        for line in by_type(det, split, test_scores, names):
            say(line)
    if args.components:
        for line in components(det, split, names[split.train_index]):
            say(line)
    if args.out:
        record(Path(args.out), printed, load_before)


def record(out: Path, printed: list[str], load_before) -> None:
    """Append this fit's printed lines to `out` under its command and environment."""
    command = _results.command()  # as the other scripts' results files write it
    env = ", ".join(f"{k} {v}" for k, v in environment().items() if k not in ("machine", "date"))
    new = not out.exists()
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "a", encoding="utf-8") as fh:
        if new:
            fh.write("# One DUAD fit on one KDDCUP99 split (`benchmarks/kdd_one_fit.py`)\n\n"
                     "Each section is one run of the script, appended as it printed: test AUROC/AUPRC of the fit, "
                     "its time, stop reason and, per step, the selection's anomaly share (labels read for this "
                     "report only). One fit: the model seed is most of the variance on these splits "
                     "(docs/guard.md), so read one line as one draw.\n")
        fh.write(f"\n## {time.strftime('%Y-%m-%d %H:%M')}\n\n`{command}`\n\n{env}; load average "
                 f"{load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after.\n\n```\n" + "\n".join(printed) + "\n```\n")
    print(f"appended to {out}")


def record_types(raw: Path, y) -> np.ndarray:
    """Each record's type from the raw file, neptune split by its TCP flag (S0 and REJ: two
    modes of one attack). Labels read for the report only."""
    import gzip

    with gzip.open(raw, "rt") as fh:
        fields = [line.rstrip().split(",") for line in fh if line.strip()]
    names = np.array([f[-1].rstrip(".") for f in fields])
    if names.size != y.size or not np.array_equal(names == "normal", y == 1):
        raise ValueError(f"{raw}: its records are not those of the loaded data, in the same order")
    flags = np.array([f[3] for f in fields])
    return np.where(names == "neptune", np.char.add("neptune/", flags), names)


def by_type(det: DUAD, split, test_scores, names: np.ndarray) -> list[str]:
    """Which record types the selection holds at each step, and which of them score like
    anomalies on the test half."""
    train, test = names[split.train_index], names[split.test_index]
    cut = np.percentile(test_scores[split.y_test == 1], 10)
    steps = [h["step"] for h in det.history_]
    lines = ["type | training rows | share selected at step " + " / ".join(map(str, steps))
             + " | test rows | test rows above the anomalies' 10th percentile"]
    for t in np.unique(train):
        m, mt = train == t, test == t
        if m.sum() >= 200:
            shares = " / ".join(f"{h['mask'][m].mean():.2f}" for h in det.history_)
            lines.append(f"{t} | {m.sum()} | {shares} | {mt.sum()} | "
                         f"{int((test_scores[mt] > cut).sum())} ({(test_scores[mt] > cut).mean():.3f})")
    return lines


def components(det: DUAD, split, train_names: np.ndarray) -> list[str]:
    """The mixture the last reselection fitted, as the rule saw it (refitted from the final model
    with the same seed: the same components), widest first."""
    if det.reselection == "angle" or not det.n_reselections_:
        raise ValueError("--components reads a mixture reselection: give max_reselections >= 1 and a mixture rule")
    step = det.n_reselections_
    Xs = det._transform(split.X_train)
    z, angle = det._embedding(det._tensor(Xs))
    result = det._reselection_mixture()(z, det.seed_ + step)
    mask = det.history_[-1]["mask"]
    lines = [f"reselection {step}: component | rows (share, cumulative from the widest) | variance in z | selected "
             "| anomaly share | commonest type (its share) | median angle | spread in the scaled input"]
    cum = 0
    for k in np.argsort(-result.variances):
        m = result.labels == k
        if not m.any():
            continue
        cum += int(m.sum())
        types, counts = np.unique(train_names[m], return_counts=True)
        spread = float(((Xs[m] - Xs[m].mean(0)) ** 2).sum(1).mean())
        lines.append(f"{k} | {m.sum()} ({100 * m.mean():.1f}%, {100 * cum / m.size:.1f}%) | {result.variances[k]:.2e} | "
                     f"{mask[m].mean():.2f} | {split.y_train[m].mean():.2f} | {types[counts.argmax()]} "
                     f"({counts.max() / m.sum():.2f}) | {np.median(angle[m]):.3f} | {spread:.3f}")
    return lines


def readouts(det: DUAD, split) -> dict[str, float]:
    """The fitted model's test AUPRC under each score (the fit itself does not depend on it)."""
    out = {}
    det.score = "error"
    det.fit_params_ = det.get_params(deep=False)  # a readout of the same fit, on purpose (not a refit)
    out["error"] = evaluate_scores(split.y_test, det.decision_function(split.X_test))[1]
    X_t = det._tensor(det._transform(split.X_train))
    for space in ("rep", "input"):
        for k in (5, 50):
            det.score, det.knn_space, det.n_neighbors = "knn", space, k
            det._fit_scores(X_t, det.selection_)  # the reference: the final selection in that space
            det.fit_params_ = det.get_params(deep=False)
            out[f"knn {space} k{k}"] = evaluate_scores(split.y_test, det.decision_function(split.X_test))[1]
    return out


if __name__ == "__main__":
    main()
