"""UCSD Ped2 test clips 01-02, end to end: frames -> motion features -> DUAD -> pooled frame AUROC.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/ucsd_ped2.py [--workdir runs/ucsd_ped2] [--run-seeds 5]

The same as the documented commands (docs/video.md):

    videoad extract ../shared/data/ucsd_ped2/testing/frames -o runs/ucsd_ped2/features \
        --stride 1 --backbone-opt size=360x240
    videoad detect runs/ucsd_ped2/features --config configs/ucsd_ped2.yaml -o runs/ucsd_ped2/scores
    videoad evaluate runs/ucsd_ped2/scores --annotations ../shared/data/ucsd_ped2/ped2_test_gt.csv

plus PCA reconstruction, Isolation Forest and DAGMM fitted on the same features in the same
run. Protocol: transductive and label-free (the detectors are fitted on the two test clips
themselves); one frame-level AUROC pooled over the 360 frames of both clips. Results:
`benchmarks/results/ucsd_ped2.json` and `.md`.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _video_bench import compare, write_results  # noqa: E402

from extract.backbones import get_backbone  # noqa: E402
from extract.run import ExtractOptions, extract_videos  # noqa: E402
from videoad import video  # noqa: E402
from videoad.datasets.annotations import read_annotations  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "ucsd_ped2"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", type=Path, default=ROOT / "runs" / "ucsd_ped2")
    ap.add_argument("--run-seeds", type=int, default=5)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args()

    features = args.workdir / "features"
    summary = extract_videos(DATA / "testing" / "frames", features, get_backbone("motion", size="360x240"),
                             ExtractOptions(stride=1, workers=2, progress=False))
    if not summary.ok:
        raise SystemExit(summary.report())
    print(summary.report())
    cfg = video.load_config(ROOT / "configs" / "ucsd_ped2.yaml")
    ann = read_annotations(DATA / "ped2_test_gt.csv")
    rows = compare(features, cfg, ann, run_seeds=tuple(range(args.run_seeds)))
    meta = {"title": "UCSD Ped2 test clips 01-02, motion backbone 360x240, 16-frame clips at stride 1",
            "protocol": "transductive, label-free: fitted on the two test clips themselves, pooled over both; "
                        "frame AUROC pooled over all 360 frames, overlapping clips averaged per frame",
            "command": "videoad extract ../shared/data/ucsd_ped2/testing/frames -o runs/ucsd_ped2/features --stride 1 "
                       "--backbone-opt size=360x240 && videoad detect runs/ucsd_ped2/features --config "
                       "configs/ucsd_ped2.yaml -o runs/ucsd_ped2/scores && videoad evaluate runs/ucsd_ped2/scores "
                       "--annotations ../shared/data/ucsd_ped2/ped2_test_gt.csv",
            "seed": cfg.seed, "config": "configs/ucsd_ped2.yaml"}
    for p in write_results("ucsd_ped2", rows, meta, args.out):
        print("written", p)


if __name__ == "__main__":
    main()
