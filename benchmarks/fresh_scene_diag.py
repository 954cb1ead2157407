"""Why the defaults scored about 0.65 on vtest-fresh: the scores piece by piece.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/fresh_scene_diag.py   # benchmarks/results/vtest_fresh_diag.md

vtest-fresh (benchmarks/fresh_scene.py), after its confirmation run (video_confirm_fresh.md).
DUAD defaults (run seed 0) and the kNN baseline, inductive (fitted on pieces 01-08) and
transductive, with the product's evaluation (`videoad evaluate`: a frame's score is the mean of
the clips covering it). Per scored piece: its injected anomaly, the mean score of its normal and
of its anomalous frames, and its own frame AUROC; then the pooled AUROC, and the same pooled over
every piece but 11 (a normal piece in which two people leave the road and cross the lawn close
to the camera, which the history never shows). Last, the same two pooled figures with the
features extracted at two other settings of the motion backbone (native size up to 240 lines; an
8x8 grid). A diagnosis of a confirmation set: nothing is chosen from it.
"""
from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

SET_ASIDE = "11"
VARIANTS = {"default": {}, "size auto (<= 240 lines)": {"size": "auto"}, "grid 8x8": {"grid": 8}}


def main() -> None:
    import video_defaults as vd
    from videoad import video
    from videoad.metrics import evaluate_frames, score_frames

    work = ROOT / "runs" / "video_defaults" / "vtest-fresh"
    ann = vd.read_annotations(vd.fresh_scene.make_vtest_fresh(vd.DATA / "videos" / "vtest.avi", work))
    base = video.DetectConfig(mode="pooled", seed=0)
    methods = {"DUAD defaults": base, "knn": replace(base, detector="knn", params={})}
    lines = ["# vtest-fresh, piece by piece", "", __doc__.split("\n\n")[2].replace("\n", " "), "",
             "Command: `OMP_NUM_THREADS=1 .venv/bin/python benchmarks/fresh_scene_diag.py`", ""]
    summary = ["## Pooled frame AUROC, all pieces / without piece 11", "",
               "| features | method | inductive | transductive |", "|---|---|---|---|"]
    for label, opts in VARIANTS.items():
        tag = "default" if not opts else "-".join(f"{k}{v}" for k, v in opts.items())
        fit = vd._extract(work / "fit", work / f"fit-{tag}", opts, image_fps=10)
        ev_store = vd._extract(work / "eval", work / f"eval-{tag}", opts, image_fps=10)
        for method, cfg in methods.items():
            cells = []
            for protocol in ("inductive", "transductive"):
                _, scores = vd.run(protocol, fit if protocol == "inductive" else None, ev_store, ann, cfg)
                items = score_frames(scores, ann)
                every = evaluate_frames(items)
                kept = evaluate_frames([i for i in items if i.video != SET_ASIDE])
                cells.append(f"{every.pooled.auroc:.4f} / {kept.pooled.auroc:.4f}")
                if label == "default":
                    lines += [f"## {method}, {protocol}: pooled frame AUROC {every.pooled.auroc:.4f}", "",
                              "| piece | injected | mean score, normal frames | anomalous frames | piece AUROC |",
                              "|---|---|---|---|---|"]
                    for i, s in zip(items, every.per_video):
                        normal, anomalous = i.scores[i.labels == 0], i.scores[i.labels == 1]
                        lines.append(f"| {i.video} | {i.category} | {normal.mean():.3f} | "
                                     + (f"{anomalous.mean():.3f} | {s.auroc:.3f} |" if anomalous.size else "- | - |"))
                    lines.append("")
                print(label, method, protocol, cells[-1], flush=True)
            summary.append(f"| {label} | {method} | {cells[0]} | {cells[1]} |")
    out = ROOT / "benchmarks" / "results" / "vtest_fresh_diag.md"
    out.write_text("\n".join(lines + summary) + "\n")
    print("written", out)


if __name__ == "__main__":
    main()
