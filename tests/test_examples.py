"""The scripts in examples/ run as a user runs them, and say what their docstrings promise."""
from __future__ import annotations

import csv
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args, cwd=ROOT, timeout=600) -> str:
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)}
    res = subprocess.run([sys.executable, *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True,
                         timeout=timeout)
    assert res.returncode == 0, res.stdout + res.stderr
    return res.stdout


def test_tabular_example_fits_scores_and_reloads():
    out = _run(ROOT / "examples" / "tabular_detector.py")
    duad = float(re.search(r"DUAD AUROC (\d\.\d+)", out).group(1))
    pca = float(re.search(r"PCA  AUROC (\d\.\d+)", out).group(1))
    assert duad > 0.9 and pca > 0.5, out
    assert "reloaded model scores identically" in out


@pytest.mark.slow
def test_camera_history_example_and_the_event_hook(tmp_path):
    """The history example finds the runner (and nothing in the normal video), draws timelines,
    and its saved models score again identically; `watch` with the hook example then writes the
    runner's event as a CSV row."""
    out = _run(ROOT / "examples" / "camera_history.py", tmp_path / "work")
    events = re.findall(r"event E\d+: (\S+) from", out)
    assert events == ["Runner/Runner001.avi"], out
    assert "the same scores" in out
    assert (tmp_path / "work" / "timelines" / "Runner001.png").stat().st_size > 10_000
    alerts = tmp_path / "alerts.csv"
    hook = f"{shlex.quote(sys.executable)} {shlex.quote(str(ROOT / 'examples' / 'on_event_hook.py'))} " \
           f"{shlex.quote(str(alerts))}"
    video = tmp_path / "work" / "today" / "videos" / "Runner" / "Runner001.avi"
    _run("-m", "videoad", "watch", video, "--model", tmp_path / "work" / "models", "-o", tmp_path / "live",
         "-q", "--on-event", hook)
    with open(alerts, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 1 and rows[0]["source"] == "Runner001.avi", rows
    assert float(rows[0]["peak_score"]) > float(rows[0]["threshold"]) and rows[0]["where"]
