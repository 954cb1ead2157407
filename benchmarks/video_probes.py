"""Probes of the video detector on the development sets: ideas measured and left (docs/defaults.md).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/video_probes.py cell-calibration  # per-cell score calibration
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/video_probes.py lof               # local outlier factor vs kNN
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/video_probes.py agreement         # the two restart fits' agreement
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/video_probes.py calibration-ped2  # a diagnosis on Ped2 (reported)

Development sets only but for calibration-ped2 (benchmarks/dev_sets.py, built and extracted by benchmarks/video_defaults.py's
helpers under runs/video_defaults), the detection defaults, run seed 0, pooled frame AUROC. Nothing
here is a default; each probe writes benchmarks/results/video_probe_<name>.{json,md}.

- cell-calibration: each cell's DUAD scores made relative to that cell's own over the fitted clips
  (the history's held-out scores when fitted on one), before the clip aggregate: "shift" (minus the
  cell's median), "ratio" (over the cell's median plus the grid's), "z" (minus the median, over the
  cell's median absolute deviation plus the grid's), "zq" (the same with the spread from the 90th
  percentile). Every variant scores the same fit; smoothing 0.5 s as the defaults.
- lof: scikit-learn's local outlier factor (k 5 and 20) beside the kNN distance (k 5 and 1), as
  baselines on the same cell rows.
- calibration-ped2: a diagnosis, not a choice, on the reported Ped2 test clips (the one probe that
  reads them): "none", "z" and "zsel" ("z" with each cell's range read from the rows DUAD's normal
  selection holds), after z lost the clean confirmation (docs/defaults.md, "Leaves in the wind").
- agreement: the rank correlation between the clip scores of the two DUAD fits the video defaults
  average (`restarts: 1`, every video fit), against each set's AUROC (transductive sets).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import dev_sets  # noqa: E402
import video_defaults as vd  # noqa: E402

from videoad import group_model, video  # noqa: E402
from videoad.bench.common import environment  # noqa: E402
from videoad.detector import registry  # noqa: E402
from videoad.detector.base import BaseDetector  # noqa: E402
from videoad.metrics import evaluate_scores  # noqa: E402

CALIBRATIONS = ("none", "shift", "ratio", "z", "zq")
#: "z" with each cell's ordinary range read from the rows the fit's normal selection holds
#: (`selected_ref`) instead of every fitted row; a column of the dev-calibrate-selection stage
SELECTION_CALIBRATIONS = ("none", "z", "zsel")


class LOF(BaseDetector):
    """scikit-learn's local outlier factor behind the detector contract (higher = more anomalous)."""

    def __init__(self, n_neighbors: int = 20, contamination: float | None = None):
        self.n_neighbors = n_neighbors
        self.contamination = contamination

    def fit(self, X, y=None):
        from sklearn.neighbors import LocalOutlierFactor

        X = self._validate_fit_input(X)
        self.lof_ = LocalOutlierFactor(n_neighbors=int(self.n_neighbors), novelty=True).fit(X)
        self.decision_scores_ = -self.lof_.negative_outlier_factor_.astype(np.float64)
        self._set_threshold()
        return self

    def decision_function(self, X):
        return -self.lof_.score_samples(self._validate_score_input(X)).astype(np.float64)


class FitCells:
    """Keeps, per `GroupModel.fit`, the fitted cell scores and the fitted detector."""

    def __enter__(self):
        self.fits, self._cls = [], group_model.GroupModel
        original = self._original = self._cls.__dict__["fit"]

        def fit(cls, vids, **kw):
            out = original.__func__(cls, vids, **kw)
            self.fits.append((np.asarray(out[1]), out[0]))
            return out

        self._cls.fit = classmethod(fit)
        return self

    def __exit__(self, *exc):
        self._cls.fit = self._original


def selected_ref(ref: np.ndarray, model) -> np.ndarray:
    """The fitted cell scores `ref` (m, C) with the rows the model's normal selection left out set
    to NaN (most of the seed ensemble's detectors must hold a row; a cell with fewer than
    `MIN_SELECTED` selected rows keeps all of its own)."""
    selections = [np.asarray(d.selection_, bool) for d in model.detectors if getattr(d, "selection_", None) is not None]
    if not selections:
        return ref
    held = (np.mean(selections, axis=0) > 0.5).reshape(ref.shape)
    held[:, held.sum(axis=0) < MIN_SELECTED] = True
    return np.where(held, ref, np.nan)


#: fewer selected rows than this in a cell and its range is read from all of its rows
MIN_SELECTED = 10


def calibrate(cells: np.ndarray, ref: np.ndarray, how: str) -> np.ndarray:
    """Cell scores (n, C) relative to each cell's own in `ref` (m, C); see the module docstring.
    NaN rows of `ref` (`selected_ref`) are left out."""
    if how == "none":
        return cells
    if np.isnan(ref).any():
        med, gmed = np.nanmedian(ref, axis=0), np.nanmedian(ref)
        return (cells - med) / (np.nanmedian(np.abs(ref - med), axis=0) + np.nanmedian(np.abs(ref - gmed)))
    med, gmed = np.median(ref, axis=0), np.median(ref)
    if how == "shift":
        return cells - med
    if how == "ratio":
        return cells / (med + gmed)
    if how == "z":
        return (cells - med) / (np.median(np.abs(ref - med), axis=0) + np.median(np.abs(ref - gmed)))
    if how == "zq":
        return (cells - med) / (np.quantile(ref, 0.9, axis=0) - med + np.quantile(ref, 0.9) - gmed)
    raise ValueError(how)


def dev_sets_all(work: Path):
    """Ped2-dev and ped2dev-small (both protocols), ped2dev-heavy, the demo histories 10-12
    (inductive), demo 13-14 (transductive), demo-far x3 10-12 (both protocols)."""
    yield from vd.ped2dev_sets(work)
    yield from vd.ped2dev_heavy_sets(work)
    yield from vd.ped2dev_small_sets(work)
    yield from vd.demo_history_sets(work, dev_sets.DEV_HISTORY_SEEDS)
    yield from vd.demo_sets(work, (13, 14))
    yield from vd.demo_far_sets(work, dev_sets.DEV_FAR_SEEDS, 3)


def transductive_sets(work: Path):
    """demo 10-14, Ped2-dev, ped2dev-heavy, ped2dev-small, demo-far x3 10-12, and the check-camera
    sets through noise and flicker, each fitted on itself."""
    sets = (list(vd.demo_sets(work, dev_sets.DEV_DEMO_SEEDS)) + list(vd.ped2dev_sets(work))
            + list(vd.ped2dev_heavy_sets(work)) + list(vd.ped2dev_small_sets(work))
            + list(vd.demo_far_sets(work, dev_sets.DEV_FAR_SEEDS, 3))
            + [s for effect in ("noise", "flicker") for s in vd.camera_sets(work, effect)])
    return [s for s in sets if s[1] == "transductive"]


def probe_cell_calibration(work: Path) -> dict:
    return calibration_rows(dev_sets_all(work))


def calibration_rows(sets, calibrations=CALIBRATIONS) -> dict:
    """Pooled frame AUROC of each calibration (`CALIBRATIONS`; "zsel": "z" from `selected_ref`) on
    each set (name, protocol, fit, features, annotations), every one scoring the same DUAD fit
    (defaults, run seed 0)."""
    base = video.DetectConfig(mode="pooled", smooth=0.0, cell_calibration="none")  # the detector's own cell scores
    rows = []
    for name, protocol, fit, feats, ann in sets:
        with FitCells() as rec:
            _, s = vd.run(protocol, fit, feats, ann, replace(base, seed=0))
        ref, model = rec.fits[0]
        row = {"set": name}
        for how in calibrations:
            reference = selected_ref(ref, model) if how == "zsel" else ref
            kind = "z" if how == "zsel" else how
            vids = [replace(v, scores=group_model.aggregate_cells(calibrate(np.asarray(v.cells, float), reference, kind),
                                                                 "top2")) for v in s]
            row[how] = evaluate_scores(vd.resmoothed(type(s)(vids, s.meta), 0.5), ann).pooled.auroc
        rows.append(row)
        print(name, {k: round(v, 4) for k, v in row.items() if k != "set"}, flush=True)
    return {"columns": list(calibrations), "rows": rows}


def probe_lof(work: Path) -> dict:
    registry.register("lof", LOF, "LOF")
    base = video.DetectConfig(mode="pooled")
    methods = {"knn k5": ("knn", {"n_neighbors": 5}), "knn k1": ("knn", {"n_neighbors": 1}),
               "lof k5": ("lof", {"n_neighbors": 5}), "lof k20": ("lof", {"n_neighbors": 20})}
    rows = []
    for name, protocol, fit, feats, ann in dev_sets_all(work):
        row = {"set": name}
        for label, (det, params) in methods.items():
            row[label] = vd.run(protocol, fit, feats, ann, replace(base, detector=det, params=params))[0]["auroc"]
        rows.append(row)
        print(name, {k: round(v, 4) for k, v in row.items() if k != "set"}, flush=True)
    return {"columns": list(methods), "rows": rows}


def probe_agreement(work: Path) -> dict:
    from scipy.stats import spearmanr

    base = video.DetectConfig(mode="pooled")
    rows = []
    for name, protocol, fit, feats, ann in transductive_sets(work):
        with FitCells() as rec:
            r, _ = vd.run(protocol, fit, feats, ann, replace(base, seed=0))
        model = rec.fits[0][1]
        members = getattr(model.detectors[0], "members_", None) or []
        clips = [model._clip_scores(np.asarray(m.decision_scores_, float))[1] for m in members]
        agreement = float(spearmanr(clips[0], clips[1])[0]) if len(clips) >= 2 else float("nan")
        rows.append({"set": name, "auroc": r["auroc"], "agreement": agreement})
        print(name, round(r["auroc"], 4), round(agreement, 4), flush=True)
    au, ag = zip(*[(r["auroc"], r["agreement"]) for r in rows])
    return {"columns": ["auroc", "agreement"], "rows": rows,
            "summary": f"rank correlation of agreement with AUROC over the {len(rows)} sets: {spearmanr(au, ag)[0]:.3f}"}


def probe_calibration_ped2(work: Path) -> dict:
    return calibration_rows(vd.ped2_sets(work), SELECTION_CALIBRATIONS)


PROBES = {"cell-calibration": probe_cell_calibration, "lof": probe_lof, "agreement": probe_agreement,
          "calibration-ped2": probe_calibration_ped2}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("probe", choices=list(PROBES))
    ap.add_argument("--workdir", type=Path, default=vd.ROOT / "runs" / "video_defaults")
    ap.add_argument("--out", type=Path, default=vd.ROOT / "benchmarks" / "results")
    args = ap.parse_args()
    result = PROBES[args.probe](args.workdir)
    command = f"OMP_NUM_THREADS=1 .venv/bin/python benchmarks/video_probes.py {args.probe}"
    name = "video_probe_" + args.probe.replace("-", "_")
    meta = {"command": command, "env": environment(), "created": time.strftime("%Y-%m-%d %H:%M")}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{name}.json").write_text(json.dumps({"meta": meta, **result}, indent=2, default=str) + "\n")
    cols = result["columns"]
    where = "the reported Ped2 clips, a diagnosis" if args.probe == "calibration-ped2" else "development sets"
    lines = [f"# Video probe: {args.probe} ({where}, nothing chosen)", "",
             __doc__.split("\n\n")[2].replace("\n", " "), "", f"Command: `{command}`", "",
             "| set | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    lines += [f"| {r['set']} | " + " | ".join(f"{r[c]:.4f}" for c in cols) + " |" for r in result["rows"]]
    lines += ["| **mean** | " + " | ".join(f"{np.mean([r[c] for r in result['rows']]):.4f}" for c in cols) + " |"]
    if result.get("summary"):
        lines += ["", result["summary"]]
    (args.out / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("written", args.out / f"{name}.md")


if __name__ == "__main__":
    main()
