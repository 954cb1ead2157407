"""Why a 3x3 grid lost the Ped2 confirmation: the kNN baseline's clip scores per test clip.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/ped2_grid_diag.py   # benchmarks/results/ped2_grid_diag.md

Ped2 inductive (fitted on the 16 training clips, scoring test clips 01-02), motion features at
the given grids, the kNN baseline on cell rows (deterministic, seconds). Per grid: the pooled
frame AUROC, and per test clip its clip-level AUROC (a clip is anomalous when its middle frame
is) and its clip scores along time: a grid can rank each clip's own frames well and still lose
the pooled AUROC when one clip's anomaly scores below the other clip's normal frames.
A diagnosis after the confirmation (docs/defaults.md, "The grid"): nothing is chosen from it.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


def main() -> None:
    import video_defaults as vd
    from videoad import video
    from videoad.datasets.annotations import read_annotations

    work = ROOT / "runs" / "video_defaults" / "ped2diag"
    ann = read_annotations(vd.DATA / "ucsd_ped2" / "ped2_test_gt.csv")
    cfg = video.DetectConfig(mode="pooled", detector="knn", params={}, seed=0)
    lines = ["# Ped2 inductive, the kNN baseline per test clip at two grids", "", __doc__.split("\n\n")[2], "",
             "Command: `OMP_NUM_THREADS=1 .venv/bin/python benchmarks/ped2_grid_diag.py`", ""]
    for grid in (3, 4):
        opts = {"grid": grid}
        fit = vd._extract(vd.DATA / "ucsd_ped2" / "training" / "frames", work / f"train{grid}", opts, image_fps=10)
        test = vd._extract(vd.DATA / "ucsd_ped2" / "testing" / "frames", work / f"test{grid}", opts, image_fps=10)
        res, scores = vd.run("inductive", fit, test, ann, cfg)
        lines += [f"## grid {grid}x{grid}: pooled frame AUROC {res['auroc']:.4f}", ""]
        for v in scores:
            starts = np.asarray(v.frames)[:, 0]
            middle = starts + (np.asarray(v.frames)[:, 1] - starts) // 2 + 1  # 1-based like the truth
            truth = np.zeros(len(v.scores), bool)
            for a, b in ann.find(v.video).intervals:
                truth |= (middle >= a) & (middle <= b)
            lines += [f"- clip {v.video}, anomalous frames {ann.find(v.video).intervals}: clip-level AUROC "
                      f"{roc_auc_score(truth, v.scores):.4f}; normal clips' scores {v.scores[~truth].min():.3f}-"
                      f"{v.scores[~truth].max():.3f}, anomalous {v.scores[truth].min():.3f}-{v.scores[truth].max():.3f}",
                      "  - scores every 12 frames (first frame: score): "
                      + " ".join(f"{f}: {x:.2f}" for f, x in zip(starts[::3], v.scores[::3]))]
        lines.append("")
    out = ROOT / "benchmarks" / "results" / "ped2_grid_diag.md"
    out.write_text("\n".join(lines))
    print(out.read_text())


if __name__ == "__main__":
    main()
