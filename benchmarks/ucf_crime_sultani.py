"""Sultani et al.'s C3D features of the six shared UCF-Crime test videos: import, fit pooled, frame AUROC.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/ucf_crime_sultani.py [--workdir runs/ucf_sultani] [--run-seeds 3]

The same as the documented commands (docs/video.md):

    videoad import sultani ../shared/data/ucf_crime/c3d_32seg_sultani -o runs/ucf_sultani/features \
        --annotations ../shared/data/ucf_crime/annotations/Test_Annotation.txt
    videoad detect runs/ucf_sultani/features --config configs/ucf_crime_sultani.yaml -o runs/ucf_sultani/scores
    videoad evaluate runs/ucf_sultani/scores \
        --annotations ../shared/data/ucf_crime/annotations/Temporal_Anomaly_Annotation_for_Testing_Videos.txt \
        --frame-counts ../shared/data/ucf_crime/annotations/Test_Annotation.txt

plus PCA reconstruction, Isolation Forest and DAGMM on the same 192 segment rows. Protocol:
transductive, label-free, pooled over the six videos (5 anomalous, 1 normal); each segment's
score covers the frames of the clips it averages (Sultani's boundaries), the tail after the
last segment is padded with its score. Six videos are not the 290-video test set: this checks
the pipeline on the authors' own features, it is not a UCF-Crime result.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _video_bench import compare, write_results  # noqa: E402

from extract.importers import import_sultani  # noqa: E402
from videoad import video  # noqa: E402
from videoad.datasets.annotations import read_annotations  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "ucf_crime"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", type=Path, default=ROOT / "runs" / "ucf_sultani")
    ap.add_argument("--run-seeds", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args()

    features = args.workdir / "features"
    counts = DATA / "annotations" / "Test_Annotation.txt"
    res = import_sultani(DATA / "c3d_32seg_sultani", features, counts)
    if res.failed:
        raise SystemExit(f"import failed: {res.failed}")
    cfg = video.load_config(ROOT / "configs" / "ucf_crime_sultani.yaml")
    ann = read_annotations(DATA / "annotations" / "Temporal_Anomaly_Annotation_for_Testing_Videos.txt",
                           frame_counts=counts)
    rows = compare(features, cfg, ann, run_seeds=tuple(range(args.run_seeds)))
    meta = {"title": "Sultani's C3D fc6 32-segment features, six UCF-Crime test videos",
            "protocol": "transductive, label-free: one detector fitted on the 192 segments of the six videos "
                        "themselves; frame AUROC pooled over their 7,527 frames, tail padded with the last score",
            "command": "videoad import sultani ../shared/data/ucf_crime/c3d_32seg_sultani -o runs/ucf_sultani/features "
                       "--annotations ../shared/data/ucf_crime/annotations/Test_Annotation.txt && videoad detect "
                       "runs/ucf_sultani/features --config configs/ucf_crime_sultani.yaml -o runs/ucf_sultani/scores && "
                       "videoad evaluate runs/ucf_sultani/scores --annotations "
                       "../shared/data/ucf_crime/annotations/Temporal_Anomaly_Annotation_for_Testing_Videos.txt "
                       "--frame-counts ../shared/data/ucf_crime/annotations/Test_Annotation.txt",
            "seed": cfg.seed, "config": "configs/ucf_crime_sultani.yaml"}
    for p in write_results("ucf_crime_sultani", rows, meta, args.out):
        print("written", p)


if __name__ == "__main__":
    main()
