"""After check-h264 (a recorder's H.264 at CRF 38 with a keyframe every 2 s costs up to 0.08): is it
the low quality, or the jump in quality at every keyframe? A probe on demo seed 10 (fitted on its
normal history and alone) and Ped2-dev (both protocols), history and scored videos through the same
encoding: the check's stream, the same quality with every frame a keyframe (no jumps), and a better
quality (CRF 28) with the check's keyframes. Run seed 0, DUAD defaults and kNN on the same cell rows.
Nothing is chosen on it.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/h264_probe.py   # benchmarks/results/video_probe_h264.md
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import dev_sets  # noqa: E402
import video_defaults as vd  # noqa: E402

from videoad.datasets.annotations import read_annotations  # noqa: E402

#: label -> (CRF, seconds between keyframes; 0: every frame a keyframe)
VARIANTS = {"CRF 38, keyframe every 2 s (check-h264)": (38, 2.0), "CRF 38, every frame a keyframe": (38, 0.0),
            "CRF 28, keyframe every 2 s": (28, 2.0)}


def probe_sets(work: Path, label: str):
    crf, key_s = VARIANTS[label]
    dev_sets.H264_CRF = crf
    dev_sets.H264_KEYFRAME_S = key_s if key_s else 1e-6  # g = round(key_s * fps), at least 1
    root = work / "camera" / f"h264-probe-crf{crf}-g{key_s:g}"
    seed = 10
    for part in ("data", "history"):
        dev_sets.degrade_tree(work / f"demo{seed}" / part, root / f"demo{seed}" / part, "h264", seed=seed)
    fit = vd._extract(root / f"demo{seed}" / "history" / "videos", root / f"demo{seed}" / "history-features")
    feats = vd._extract(root / f"demo{seed}" / "data" / "videos", root / f"demo{seed}" / "features")
    ann = read_annotations(root / f"demo{seed}" / "data" / "Temporal_Anomaly_Annotation.txt",
                           frame_counts=root / f"demo{seed}" / "data" / "Test_Annotation.txt")
    yield f"demo seed {seed}, fitted on normal history ({label})", "inductive", fit, feats, ann
    yield f"demo seed {seed} ({label})", "transductive", None, feats, ann
    labels = dev_sets.make_ped2dev(vd.DATA / "ucsd_ped2" / "training" / "frames", work / "ped2dev")
    for part in ("fit", "eval"):
        dev_sets.degrade_tree(work / "ped2dev" / part, root / "ped2dev" / part, "h264", seed=123, image_fps=10)
    fit = vd._extract(root / "ped2dev" / "fit", root / "ped2dev" / "fit-features", image_fps=10)
    ev = vd._extract(root / "ped2dev" / "eval", root / "ped2dev" / "eval-features", image_fps=10)
    yield f"Ped2-dev inductive ({label})", "inductive", fit, ev, read_annotations(labels)
    yield f"Ped2-dev transductive ({label})", "transductive", None, ev, read_annotations(labels)


def main() -> None:
    args = vd.probe_args(__doc__.splitlines()[0])
    for seed in (10,):  # the clean sources, written only where missing (as camera_sets does)
        if not (args.workdir / f"demo{seed}" / "data" / "Temporal_Anomaly_Annotation.txt").is_file():
            dev_sets.make_demo(seed, args.workdir / f"demo{seed}" / "data")
        if not (args.workdir / f"demo{seed}" / "history" / "videos").is_dir():
            dev_sets.make_demo_history(seed, args.workdir / f"demo{seed}" / "history")
    rows = vd.probe_rows(lambda label: probe_sets(args.workdir, label), VARIANTS)
    vd.write("video_probe_h264", {"rows": rows}, {
        "title": "Video defaults: H.264 quality or its keyframes? (a probe, nothing chosen)",
        "protocol": ("Demo seed 10 (fitted on its normal history, and alone) and Ped2-dev (both protocols), history "
                     "and scored videos through `dev_sets.camera_effect`'s h264 with each variant's CRF and keyframe "
                     "interval (libx264, no B-frames, decoded back); the defaults of `videoad extract` / `videoad "
                     "detect`, pooled; DUAD and kNN at run seed 0, pooled frame AUROC; the alarm column is the "
                     "default line's outcome."),
        "command": "OMP_NUM_THREADS=1 .venv/bin/python benchmarks/h264_probe.py"}, args.out)


if __name__ == "__main__":
    main()
