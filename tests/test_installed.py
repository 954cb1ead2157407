"""Installed, not a checkout: `pip install .` (not editable) into a fresh virtual environment
outside the checkout, then `videoad detect` and `videoad bench kddcup --data FILE` from another
directory. Everything the commands need (defaults, report assets) must come with the package;
nothing may come from the working directory or the checkout.

Nothing is downloaded: the new environment reaches the running environment's packages (torch,
numpy, ...) through a .pth file, and pip installs the project alone (`--no-deps --no-index
--no-build-isolation`, from a copy of the sources so the checkout gets no build folder). The
running environment's editable videoad comes after the fresh install on sys.path: the test
checks that `videoad` and `extract` are imported from the new environment.
"""
from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from video_helpers import small_store

REPO = Path(__file__).resolve().parents[1]

# one xdist worker builds the module's installed environment (its fixture) and runs its tests
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("installed")]


def _run(cmd, cwd, env, timeout=600):
    res = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                         check=False)
    assert res.returncode == 0, f"{' '.join(map(str, cmd))} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}"
    return res


def _kddcup_like(path: Path, n: int = 1600, seed: int = 0) -> Path:
    """A small file in the layout of kdd_cup.npz: 118 columns in [0, 1], then the label (1 =
    the minority class, the benchmark's anomaly, ~20%)."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.2).astype(np.float64)
    centres = rng.random((4, 118))
    X = centres[rng.integers(0, 4, n)] + rng.normal(0, 0.02, (n, 118))
    X[y == 1] = rng.random((int(y.sum()), 118))
    np.savez(path, kdd=np.concatenate([np.clip(X, 0, 1), y[:, None]], axis=1))
    return path


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    root = tmp_path_factory.mktemp("installed")
    src = root / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    for name in ("videoad", "extract"):
        shutil.copytree(REPO / name, src / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    venv = root / "venv"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIDEOAD_DATA")}
    # no pip of its own (ensurepip would also bring an old setuptools that shadows the running
    # environment's): the running environment's pip installs into it (`pip --python`)
    _run([sys.executable, "-m", "venv", "--without-pip", venv], root, env)
    py = venv / "bin" / "python"
    purelib = Path(_run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], root, env)
                   .stdout.strip())
    # the running environment's packages (torch, numpy, ...) after the new environment's own
    (purelib / "zz_running_env.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    _run([sys.executable, "-m", "pip", "--python", py, "install", "--quiet", "--no-deps", "--no-index",
          "--no-build-isolation", "--ignore-installed", src], root, env)
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    return venv, purelib, elsewhere, env


def test_the_installed_package_is_the_one_imported(installed):
    venv, purelib, elsewhere, env = installed
    code = ("import videoad, extract, videoad.config as c; print(videoad.__file__); print(extract.__file__); "
            "print(sorted(c.COPIES) == sorted(p.name[:-5] for p in c.defaults_file('detect').parent.iterdir() "
            "if p.name.endswith('.yaml')))")
    res = _run([venv / "bin" / "python", "-c", code], elsewhere, env)
    vfile, efile, packaged = res.stdout.split()
    assert Path(vfile).is_relative_to(purelib) and Path(efile).is_relative_to(purelib), res.stdout
    assert packaged == "True"  # every packaged default was installed with the package


def test_detect_runs_from_another_directory(installed, tmp_path):
    venv, _, elsewhere, env = installed
    small_store(tmp_path / "features")
    res = _run([venv / "bin" / "videoad", "detect", tmp_path / "features", "-o", tmp_path / "scores"], elsewhere, env)
    assert "1/2 groups scored" in res.stdout, res.stdout
    run = json.loads((tmp_path / "scores" / "run.json").read_text())
    assert run["config"]["detector"] == "duad" and (tmp_path / "scores" / "events.csv").is_file()
    printed = _run([venv / "bin" / "videoad", "detect", "--print-config"], elsewhere, env).stdout
    assert yaml.safe_load(printed)["mode"] == "per-category"


def test_bench_kddcup_runs_from_another_directory(installed, tmp_path):
    venv, _, elsewhere, env = installed
    data = _kddcup_like(tmp_path / "kdd_small.npz")
    cfg = tmp_path / "small.yaml"  # the whole file, one contamination: a smoke run of seconds
    cfg.write_text("contaminations: [0.2]\nquick: {fraction: 1.0}\n")
    res = _run([venv / "bin" / "videoad", "bench", "kddcup", "--quick", "--data", data, "--config", cfg,
                "-o", tmp_path / "results"], elsewhere, env)
    payload = json.loads((tmp_path / "results" / "kddcup_quick.json").read_text())
    assert {r["method"] for r in payload["summary"]} == {"DUAD", "PCA-4", "IsolationForest", "OC-SVM", "DAGMM"}
    assert "| 20% | DUAD |" in res.stdout
    # without --data and without VIDEOAD_DATA there is no data, whatever the directory holds
    missing = subprocess.run([venv / "bin" / "videoad", "bench", "kddcup", "--quick"], cwd=elsewhere, env=env,
                             capture_output=True, text=True, timeout=300, check=False)
    assert missing.returncode != 0 and "VIDEOAD_DATA" in missing.stderr
