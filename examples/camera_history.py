"""The analyst's first path from Python: a camera's normal history -> models -> today's footage
scored, its events, a timeline, and the saved models scoring again later.

    .venv/bin/python examples/camera_history.py [WORKDIR]      # default: runs/example-camera

Offline and weight-free: the footage is drawn by `videoad.synth` (one corridor camera: the same
background in every video; a runner in today's second video). The same steps on the command
line are `videoad extract`, `videoad detect --fit-on ... --save-model`, `videoad detect --model`
and `videoad plot` (README; in full: docs/cli.md, docs/video.md). The saved models are what
`videoad watch` scores a live stream with; `examples/on_event_hook.py` receives its events.
"""
from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from extract.backbones import get_backbone
from extract.run import ExtractOptions, extract_videos
from videoad import synth, video
from videoad.events import find_events, where_words
from videoad.plots import timeline


def main(work: Path) -> None:
    camera = replace(synth.SceneConfig(n_frames=240), background_seed=7)  # one camera: its background kept
    synth.generate(work / "history", n_normal=3, events=(), seed=1, cfg=camera)
    synth.generate(work / "today", n_normal=1, events=("runner",), seed=2, cfg=camera)

    # 1. videos -> 16-frame clips -> motion features with their grid cells (one HDF5 file per video)
    for part in ("history", "today"):
        summary = extract_videos(work / part / "videos", work / f"{part}-features", get_backbone("motion"),
                                 ExtractOptions(workers=2, recursive=True, progress=False))
        if not summary.ok:
            raise SystemExit(summary.report())

    # 2. fit on the history (declared ordinary), score today's videos with it; keep the models
    cfg = video.DetectConfig(mode="pooled")  # the defaults of `videoad detect --pooled`
    scores = video.fit_and_score(work / "history-features", work / "today-features", cfg,
                                 save_models=work / "models")
    for v in scores:
        print(f"{v.video}: {len(v.scores)} clips, highest score {np.max(v.scores):.3f} "
              f"(alarm line {v.threshold:.3f})")

    # 3. events: runs of clips over the alarm line, with the grid cells where they happen
    events = find_events(scores)
    for e in events.events:
        print(f"event E{e.event}: {e.video} from {e.start_s:.1f} s to {e.end_s:.1f} s, peak {e.peak_score:.3f} "
              f"at {e.peak_s:.1f} s, {where_words(e.peak_cells, scores.cell_grid)}")
    if not events.events:
        print("no event")

    # 4. a timeline per video, the events marked (what the HTML report shows)
    for v in scores:
        path = timeline(v, work / "timelines" / f"{Path(v.video).stem}.png",
                        events=[e for e in events.events if e.video == v.video], source_root=work / "today" / "videos")
        print(f"timeline: {path}")

    # 5. later: the saved models score new footage without refitting, with the same scores
    again = video.score(work / "today-features", work / "models")
    same = all(np.allclose(a.scores, b.scores) for a, b in zip(sorted(scores, key=lambda v: v.video),
                                                               sorted(again, key=lambda v: v.video)))
    print(f"saved models in {work / 'models'} score today's footage again: {'the same scores' if same else 'DIFFERENT'}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("runs/example-camera"))
