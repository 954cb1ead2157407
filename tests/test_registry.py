"""One detector registry: a detector registered in one place is seen by `videoad detect` (config,
group model, --help), both benchmarks' method lists, and save/load."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from video_helpers import small_store

from videoad.detector import registry
from videoad.detector.base import BaseDetector


class Toy(BaseDetector):
    """Squared distance to the training mean (plus `shift`): a detector in a dozen lines."""

    _json_attrs = ("n_features_in_", "threshold_")
    _array_attrs = ("decision_scores_", "labels_", "mean_")

    def __init__(self, shift: float = 0.0, contamination: float | None = None, random_state=None):
        self.shift = shift
        self.contamination = contamination
        self.random_state = random_state

    def fit(self, X, y=None):
        X = self._validate_fit_input(X)
        self.mean_ = X.mean(axis=0)
        self.decision_scores_ = self._score(X)
        self._set_threshold()
        return self

    def _score(self, X):
        return ((X - self.mean_) ** 2).sum(axis=1).astype(np.float64) + float(self.shift)

    def decision_function(self, X):
        return self._score(self._validate_score_input(X))


@pytest.fixture()
def toy():
    spec = registry.register("toy", f"{__name__}:Toy", "Toy", saves=True, benches=("kddcup", "images"),
                             summary="distance to the mean")
    yield spec
    registry.unregister("toy")


def _run(*args):
    from videoad.cli import cli

    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_toy_is_in_detect_its_help_and_saved_models(toy, tmp_path):
    store = tmp_path / "features"
    small_store(store)
    res = _run("detect", "--help")
    assert res.exit_code == 0 and "toy (Toy)" in " ".join(res.output.split())
    res = _run("detect", store, "--detector", "toy", "--pooled", "--min-clips", "10", "-o", tmp_path / "scores",
               "--save-model", tmp_path / "models")
    assert res.exit_code == 0, res.output
    run_json = json.loads((tmp_path / "scores" / "run.json").read_text())
    assert run_json["config"]["detector"] == "toy"
    res = _run("detect", store, "--model", tmp_path / "models", "-o", tmp_path / "again")
    assert res.exit_code == 0, res.output
    first = (tmp_path / "scores" / "segments.csv").read_text()
    assert first == (tmp_path / "again" / "segments.csv").read_text()
    # the config path names the same registry
    from videoad import video

    assert video.load_config(None, detector="toy").detector == "toy"
    assert isinstance(video.make_detector("toy", {"shift": 1.0}), Toy)


def test_toy_joins_both_benches(toy):
    from videoad.bench import images, kddcup

    methods = kddcup.method_factories(kddcup.load_config(None), seed=0)
    assert "Toy" in methods and isinstance(methods["Toy"](), Toy)
    assert "PCA-4" in methods and type(methods["PCA-4"]()).__name__ == "PCARecon"
    assert methods["PCA-4"]().n_components == 4
    cfg = images.load_config(images.default_config_path("mnist"))
    methods = images.method_factories(cfg, seed=3)
    assert isinstance(methods["Toy"](), Toy) and methods["Toy"]().random_state == 3
    # a config that names it already keeps its own row and arguments
    cfg["baselines"]["mean distance"] = {"detector": "toy", "shift": 2.0}
    methods = images.method_factories(cfg, seed=0)
    assert "Toy" not in methods and methods["mean distance"]().shift == 2.0


def test_toy_saves_and_loads(toy, tmp_path):
    from videoad.detector.persistence import load_detector, save_detector

    X = np.random.default_rng(0).normal(size=(50, 4))
    det = Toy(shift=0.5, contamination=0.1).fit(X)
    save_detector(det, tmp_path / "toy.pt")
    back = load_detector(tmp_path / "toy.pt")
    assert isinstance(back, Toy) and back.shift == 0.5
    np.testing.assert_array_equal(back.decision_function(X), det.decision_function(X))
    np.testing.assert_array_equal(back.predict(X), det.predict(X))


def test_unregistered_and_non_saving_classes_are_refused(tmp_path):
    from videoad.baselines import PCARecon
    from videoad.detector.persistence import load_detector, save_detector

    X = np.random.default_rng(0).normal(size=(50, 4))
    with pytest.raises(ValueError, match="cannot be saved"):
        save_detector(PCARecon(2).fit(X), tmp_path / "pca.pt")
    registry.register("toy", f"{__name__}:Toy", "Toy", saves=True)
    try:
        save_detector(Toy().fit(X), tmp_path / "toy.pt")
    finally:
        registry.unregister("toy")
    with pytest.raises(ValueError, match="unknown detector class"):  # a file cannot name a class to import
        load_detector(tmp_path / "toy.pt")


def test_registry_rules():
    assert registry.get("pca").label == "PCA" and registry.find("OC-SVM").name == "ocsvm"
    with pytest.raises(ValueError, match="registered already"):
        registry.register("pca", "x:Y", "Other")
    with pytest.raises(ValueError, match="label"):
        registry.register("pca2", "x:Y", "PCA")
    with pytest.raises(ValueError, match="unknown detector"):
        registry.make("nope")
    with pytest.raises(ValueError, match="no parameter"):
        registry.make("pca", {"n_componentz": 3})
    assert set(registry.savers()) == {"duad", "dagmm"}


def test_importing_the_registry_imports_no_detector():
    import subprocess
    import sys

    code = ("import sys; from videoad.detector import registry; registry.names(); "
            "print(any(m.startswith(('videoad.baselines', 'videoad.detector.duad', 'torch')) for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_detector_registered_in_user_code_runs_in_parallel_workers(toy, tmp_path):
    """--n-jobs fits in fresh worker processes, which import only the built-in registry; each
    task carries the entry of its detector, so a plugin's detector fits, saves and scores there."""
    from dataclasses import replace

    from videoad import video
    from videoad.video.run import _run, _task, _with_detector

    store = tmp_path / "features"
    small_store(store)
    cfg = video.DetectConfig(mode="per-category", detector="toy", min_clips=10, seed=0)
    serial = video.detect(store, cfg, save_models=tmp_path / "m1")
    parallel = video.detect(store, replace(cfg, n_jobs=2), save_models=tmp_path / "m2")
    assert [g["status"] for g in parallel.groups] == ["fitted", "fitted"]
    for a, b in zip(serial, parallel):
        np.testing.assert_allclose(a.scores, b.scores)
    again = video.score(store, tmp_path / "m2", n_jobs=2)
    for a, b in zip(serial, again):
        np.testing.assert_allclose(a.scores, b.scores)
    # what a task carries, and that a worker without the entry learns it
    fn, (entry, inner, _, group) = _task("toy", len, ((1, 2),), "g")
    assert fn is _with_detector and inner is len and entry["target"] == f"{__name__}:Toy" and group == "g"
    registry.unregister("toy")
    assert _run([_task("pca", len, ((1, 2, 3),), "g")], 1) == [3]
    _with_detector(entry, len, ((),))
    assert registry.get("toy").label == "Toy"
