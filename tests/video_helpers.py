"""Small feature stores for the video tests: made-up clip features with planted anomalies.

Normal clips are positive vectors near one direction; anomalous clips point elsewhere, so any
reasonable detector ranks them first and a test can check that the pipeline kept track of which
clip is which (frame ranges, video order, grouping).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from extract.store import write_video

DIM = 12
#: a tiny, fast DUAD (seconds for a few hundred rows)
FAST_DUAD = {"p0": 25, "p": 20, "r": 3, "max_reselections": 2, "lr": 0.01, "batch_size": 32,
             "hidden_dims": [8], "latent_dim": 2, "n_components": 4, "clusterer": "gmm",
             "clusterer_params": {"n_components": 4}}


def fake_video(root, key: str, n_clips: int, *, anomalous=(), seed: int = 0, stride: int = 16,
               clip_len: int = 16, tail: int = 5, fps: float = 10.0, source: str = "", drift: float = 0.0,
               attrs: dict | None = None) -> dict:
    """Write one video's features; returns its n_frames and 1-based anomalous frame intervals.
    `drift`: each value also follows a slow wave of that amplitude, with phases of the video's own,
    so consecutive clips are alike (as overlapping clips are) and videos differ. `attrs`: more
    store attributes (how the features were extracted)."""
    rng = np.random.default_rng(seed)
    base = np.linspace(1.0, 2.0, DIM)
    X = base + rng.normal(0, 0.05, (n_clips, DIM))
    if drift:
        X += drift * np.sin(np.arange(n_clips)[:, None] / 6.0 + rng.uniform(0, 2 * np.pi, DIM))
    odd = np.zeros(DIM)
    odd[: DIM // 2] = 3.0
    for i in anomalous:
        X[i] = odd + rng.normal(0, 0.05, DIM)
    starts = np.arange(n_clips) * stride
    frames = np.stack([starts, starts + clip_len - 1], axis=1)
    n_frames = int(frames[-1, 1]) + 1 + tail
    attrs = {"n_frames": n_frames, "fps": fps, "clip_len": clip_len, "stride": stride, "backbone": "fake",
             **(attrs or {})}
    if source:
        attrs["source_path"] = source
    write_video(root, key, X.astype(np.float32), frames, attrs)
    intervals = [(int(frames[i, 0]) + 1, int(frames[i, 1]) + 1) for i in anomalous]
    return {"n_frames": n_frames, "intervals": intervals}


def write_labels(path, videos: dict[str, dict]) -> Path:
    """CSV ground truth (video,start,end,n_frames) for `fake_video` results."""
    lines = ["video,start,end,n_frames"]
    for key, info in videos.items():
        if not info["intervals"]:
            lines.append(f"{key},,,{info['n_frames']}")
        for s, e in info["intervals"]:
            lines.append(f"{key},{s},{e},{info['n_frames']}")
    Path(path).write_text("\n".join(lines) + "\n")
    return Path(path)


def small_store(root) -> dict[str, dict]:
    """Category A: two videos of 60 clips with anomalies; category B: one video of 20 clips."""
    return {
        "A/a1.mp4": fake_video(root, "A/a1.mp4", 60, anomalous=[10, 11, 40], seed=1),
        "A/a2.mp4": fake_video(root, "A/a2.mp4", 60, anomalous=[], seed=2),
        "B/b1.mp4": fake_video(root, "B/b1.mp4", 20, anomalous=[5], seed=3),
    }


def fake_cell_video(root, key: str, n_clips: int, *, anomalous=(), grid=(2, 2), seed: int = 0,
                    stride: int = 16, fps: float = 10.0, region=(0.0, 0.0, 1.0, 1.0)) -> dict:
    """A video whose clips carry grid cells: normal cells are alike; `anomalous` lists
    (clip, cell) pairs whose cell points elsewhere. The clip vector is the cells side by side."""
    rng = np.random.default_rng(seed)
    n_cells = grid[0] * grid[1]
    base = np.linspace(1.0, 2.0, DIM)
    cells = base + rng.normal(0, 0.05, (n_clips, n_cells, DIM))
    odd = np.zeros(DIM)
    odd[: DIM // 2] = 3.0
    for clip, cell in anomalous:
        cells[clip, cell] = odd + rng.normal(0, 0.05, DIM)
    starts = np.arange(n_clips) * stride
    frames = np.stack([starts, starts + 15], axis=1)
    n_frames = int(frames[-1, 1]) + 1
    attrs = {"n_frames": n_frames, "fps": fps, "clip_len": 16, "stride": stride, "backbone": "fake",
             "cell_region": list(region)}
    write_video(root, key, cells.reshape(n_clips, -1).astype(np.float32), frames, attrs,
                cells=cells.astype(np.float32), cell_grid=grid)
    return {"n_frames": n_frames}


def busy_cell_video(root, key: str, n_clips: int, *, anomalous=(), seed: int = 0, busy: int = 0,
                    grid=(2, 2), fps: float = 10.0) -> dict:
    """A video whose cell `busy` moves in every clip, each clip unlike the last and by its own amount
    (leaves in the wind), while the other cells are alike; `anomalous` clips carry a moderate odd
    vector in the last cell: less far from the normal rows than the busy cell's ordinary clips."""
    rng = np.random.default_rng(seed)
    n_cells = grid[0] * grid[1]
    base = np.linspace(1.0, 2.0, DIM)
    cells = base + rng.normal(0, 0.05, (n_clips, n_cells, DIM))
    cells[:, busy] += rng.uniform(0.2, 1.0, (n_clips, 1)) * rng.normal(0, 1, (n_clips, DIM))
    for clip in anomalous:
        cells[clip, -1, : DIM // 2] += 0.8
    starts = np.arange(n_clips) * 16
    frames = np.stack([starts, starts + 15], axis=1)
    n_frames = int(frames[-1, 1]) + 1
    attrs = {"n_frames": n_frames, "fps": fps, "clip_len": 16, "stride": 16, "backbone": "fake",
             "cell_region": [0.0, 0.0, 1.0, 1.0]}
    write_video(root, key, cells.reshape(n_clips, -1).astype(np.float32), frames, attrs,
                cells=cells.astype(np.float32), cell_grid=grid)
    return {"n_frames": n_frames}


def holding_folder(folder: Path, command: str = "videoad detect", shared: bool = False):
    """Another process holding `folder` as a videoad command does (`shared`: as a shard of an
    extraction does), until killed."""
    code = ("import sys, time; from videoad.output_lock import output_lock\n"
            f"with output_lock({str(folder)!r}, command={command!r}, shared={shared!r}):\n"
            "    print('held', flush=True); time.sleep(120)\n")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})
    assert holder.stdout.readline().strip() == "held"
    return holder
