"""History coverage: grid cells a normal history never shows moving, and scored clips that move there."""
from __future__ import annotations

import csv
import io
import json

import numpy as np
from click.testing import CliRunner
from video_helpers import FAST_DUAD

from extract.store import write_video
from videoad import coverage
from videoad.cli import cli

GRID = (2, 2)
BINS = 8  # the motion backbone's orientation bins, then 5 magnitude bins (moving shares), then 2 energies


def motion_video(root, key: str, n_clips: int, moving: dict[int, float], seed: int = 0) -> None:
    """A store video laid out like the motion backbone's cells: `moving` gives, per cell, the share
    of its pixels that moved (spread over the magnitude bins); other cells hold sensor noise only."""
    rng = np.random.default_rng(seed)
    cells = np.zeros((n_clips, GRID[0] * GRID[1], BINS + 7), np.float32)
    cells[:, :, -2:] = rng.uniform(0.001, 0.003, (n_clips, 4, 2))  # frame-difference energy of a still scene
    for cell, share in moving.items():
        cells[:, cell, BINS:BINS + 5] = share / 5 * rng.uniform(0.8, 1.2, (n_clips, 5))
        cells[:, cell, :BINS] = rng.uniform(0.2, 0.6, (n_clips, BINS)) * share
    starts = np.arange(n_clips) * 16
    frames = np.stack([starts, starts + 15], axis=1)
    attrs = {"n_frames": int(frames[-1, 1]) + 1, "fps": 10.0, "clip_len": 16, "stride": 16, "backbone": "motion",
             "backbone_options": json.dumps({"bins": BINS}), "cell_region": [0.0, 0.0, 1.0, 1.0]}
    write_video(root, key, cells.reshape(n_clips, -1), frames, attrs, cells=cells, cell_grid=GRID)


def test_moving_share_reads_the_motion_layout_and_nothing_else():
    cells = np.zeros((3, 4, BINS + 7))
    cells[:, 2, BINS:BINS + 5] = 0.06  # 30% of the cell's pixels moved
    share = coverage.moving_share(cells, {"backbone": "motion", "backbone_options": json.dumps({"bins": BINS})})
    np.testing.assert_allclose(share[:, 2], 0.3)
    assert np.all(share[:, [0, 1, 3]] == 0)
    assert coverage.moving_share(cells, {"backbone": "c3d"}) is None


def test_a_history_that_never_moves_in_a_cell_is_named_where_new_footage_does(tmp_path):
    """Fitted on a history in which the bottom-right cell never moves, scored footage that moves
    there gets a warning naming the cell and the clips (command line, run.json, report); footage
    that moves only where the history did gets none."""
    hist, new = tmp_path / "history", tmp_path / "new"
    for i in range(3):
        motion_video(hist, f"cam/h{i}.avi", 40, {0: 0.3, 1: 0.2, 2: 0.25}, seed=i)
    motion_video(new, "cam/usual.avi", 40, {0: 0.3, 1: 0.2, 2: 0.25}, seed=10)
    motion_video(new, "cam/lawn.avi", 40, {0: 0.3, 1: 0.2, 2: 0.25, 3: 0.4}, seed=11)
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(json.dumps({"mode": "pooled", "min_clips": 20, "detector": {"name": "duad", "params": FAST_DUAD}}))
    res = CliRunner().invoke(cli, ["detect", str(new), "--config", str(cfg), "--fit-on", str(hist),
                                   "--save-model", str(tmp_path / "models"), "-o", str(tmp_path / "scores")],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    warning = ("warning: group all: the history never shows motion in grid cell(s) (row 2, col 2); "
               "40 scored clip(s) of 1 video(s) do")
    assert warning in res.output
    assert "of them where the history never moved (unseen_cells)" in res.output  # the events' summary line
    # saved models carry what their history never showed
    res = CliRunner().invoke(cli, ["detect", str(new), "--model", str(tmp_path / "models"),
                                   "-o", str(tmp_path / "scores-saved")], catch_exceptions=False)
    assert res.exit_code == 0 and warning in res.output, res.output
    (group,) = json.loads((tmp_path / "scores" / "run.json").read_text())["groups"]
    assert group["history_still_cells"] == [3] and group["moving_where_history_still"] == {"cam/lawn.avi": 40}
    # each event in the unseen cell says so (events.csv's unseen_cells, row:col from 0)
    events = list(csv.DictReader(io.StringIO((tmp_path / "scores" / "events.csv").read_text())))
    assert events and all(e["video"] == "cam/lawn.avi" and e["unseen_cells"] == "1:1" for e in events)
    saved = (tmp_path / "scores-saved" / "events.csv").read_text()  # scored by the saved models: the same
    assert list(csv.DictReader(io.StringIO(saved))) == events
    res = CliRunner().invoke(cli, ["report", str(tmp_path / "scores"), "-o", str(tmp_path / "report"), "--no-clips"],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    page = (tmp_path / "report" / "index.html").read_text()
    assert "history coverage" in page
    assert page.count("history never moved here</span>") == len(events)

    (tmp_path / "usual").mkdir()
    motion_video(tmp_path / "usual", "cam/usual.avi", 40, {0: 0.3, 1: 0.2, 2: 0.25}, seed=10)
    res = CliRunner().invoke(cli, ["detect", str(tmp_path / "usual"), "--config", str(cfg), "--fit-on", str(hist),
                                   "-o", str(tmp_path / "scores2")], catch_exceptions=False)
    assert res.exit_code == 0 and "warning" not in res.output, res.output
    # transductive runs have no history to vouch for anything: no check
    res = CliRunner().invoke(cli, ["detect", str(new), "--config", str(cfg), "-o", str(tmp_path / "scores3")],
                             catch_exceptions=False)
    assert res.exit_code == 0 and "history never shows" not in res.output
    # a cell the user left out (--ignore-cells) is scored nowhere: no warning about it
    res = CliRunner().invoke(cli, ["detect", str(new), "--config", str(cfg), "--fit-on", str(hist),
                                   "--ignore-cells", "1:1", "-o", str(tmp_path / "scores4")], catch_exceptions=False)
    assert res.exit_code == 0 and "history never shows" not in res.output, res.output
    (group,) = json.loads((tmp_path / "scores4" / "run.json").read_text())["groups"]
    assert group["history_still_cells"] == [] and group["ignored_cells"] == [3]
