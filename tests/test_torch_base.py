"""The torch base of DUAD and DAGMM: a fit leaves the caller's random state and thread count as
they were, repeats with its seed whatever the caller's state, and both save and load."""
from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from videoad.baselines import DAGMM
from videoad.detector import DUAD
from videoad.detector.torch_base import (
    TorchDetector,
    forked_rng,
    thread_limits,
    torch_threads,
)

SMALL_DUAD = {"p0": 25, "p": 20, "r": 2, "n_components": 3, "clusterer": "gmm", "clusterer_params": {"n_components": 3},
              "hidden_dims": [6], "latent_dim": 2, "max_reselections": 2, "batch_size": 64, "lr": 1e-2, "device": "cpu"}
SMALL_DAGMM = {"hidden_dims": (6,), "latent_dim": 1, "n_gmm": 2, "epochs": 2, "batch_size": 64, "device": "cpu"}


def _data(seed=0, n=240, d=8):
    rng = np.random.default_rng(seed)
    X = rng.normal(0, 1, (n, d)).astype(np.float32)
    X[:12] += 6.0
    return X


MAKERS = {
    "duad": lambda **kw: DUAD(**SMALL_DUAD, **kw),
    "duad-knn": lambda **kw: DUAD(**SMALL_DUAD, score="knn", **kw),
    "dagmm": lambda **kw: DAGMM(**SMALL_DAGMM, **kw),
}


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_fit_leaves_the_callers_random_state_alone(name):
    X = _data()
    torch.manual_seed(1234)
    np.random.seed(99)
    random.seed(7)
    torch_state, np_state, py_state = torch.get_rng_state(), np.random.get_state(), random.getstate()
    det = MAKERS[name](random_state=5).fit(X)
    det.decision_function(X[:20])
    assert torch.equal(torch.get_rng_state(), torch_state)
    after = np.random.get_state()
    assert after[0] == np_state[0] and np.array_equal(after[1], np_state[1]) and after[2:] == np_state[2:]
    assert random.getstate() == py_state
    # ... and the caller's state does not reach the fit: the same seed gives the same scores
    torch.manual_seed(0)
    np.random.seed(0)
    again = MAKERS[name](random_state=5).fit(X)
    np.testing.assert_array_equal(again.decision_scores_, det.decision_scores_)


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_fit_leaves_the_callers_thread_count_alone(name):
    X = _data()
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        MAKERS[name](random_state=0).fit(X)
        assert torch.get_num_threads() == 2
        seen = []  # the thread count during training
        det = MAKERS[name](random_state=0, n_threads=1)
        original = det._batch_loss

        def loss(x):
            seen.append(torch.get_num_threads())
            return original(x)

        det._batch_loss = loss
        det.fit(X)
        assert set(seen) == {1} and torch.get_num_threads() == 2
        det.decision_function(X)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_thread_scopes_restore_on_error():
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        with pytest.raises(RuntimeError), thread_limits(1):
            assert torch.get_num_threads() == 1
            raise RuntimeError("boom")
        assert torch.get_num_threads() == 2
        with torch_threads(None):
            assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_forked_rng_seeds_inside_and_restores_after():
    torch.manual_seed(3)
    outside = torch.get_rng_state()
    with forked_rng(11):
        a = torch.rand(3)
    assert torch.equal(torch.get_rng_state(), outside)
    with forked_rng(11):
        b = torch.rand(3)
    assert torch.equal(a, b)


@pytest.mark.parametrize("cls, params", [(DUAD, SMALL_DUAD), (DAGMM, SMALL_DAGMM)])
def test_save_load_round_trip(tmp_path, cls, params):
    X = _data()
    det = cls(**params, contamination=0.05, random_state=3).fit(X)
    path = tmp_path / f"{cls.__name__}.pt"
    det.save(path)
    torch.load(path, weights_only=True)  # tensors, strings and numbers only
    back = cls.load(path)
    assert isinstance(back, cls) and isinstance(back, TorchDetector)
    np.testing.assert_array_equal(back.decision_scores_, det.decision_scores_)
    np.testing.assert_array_equal(back.decision_function(X), det.decision_function(X))
    np.testing.assert_array_equal(back.predict(X), det.predict(X))
    assert back.get_params()["random_state"] == 3 and back.device_ == "cpu"
    other = DAGMM if cls is DUAD else DUAD
    with pytest.raises(ValueError, match=f"not a {other.__name__}"):
        other.load(path)


# ---------------------------------------------------------------- one device resolver
def test_one_device_resolver_for_both_stages():
    import extract.backbones.torch_base as backbone_base
    import videoad.detector.distribution_clustering as dc
    import videoad.detector.torch_base as detector_base
    from extract.device import resolve_device

    assert backbone_base.resolve_device is resolve_device is detector_base.resolve_device is dc.resolve_device
    expected = torch.device("cuda", 0) if torch.cuda.is_available() else torch.device("cpu")
    assert resolve_device("auto") == resolve_device(None) == expected
    assert resolve_device("cpu") == torch.device("cpu")
    det = DUAD(**{**SMALL_DUAD, "device": "auto"}, random_state=0).fit(_data())
    assert det.device_ == str(expected)
    for bad in ("gpu", "meta"):
        with pytest.raises(ValueError, match="cpu"):
            resolve_device(bad)
    if not torch.cuda.is_available():
        for asked in ("cuda", "cuda:1"):
            with pytest.raises(ValueError, match="CUDA is not available"):
                resolve_device(asked)
        with pytest.raises(ValueError, match="CUDA is not available"):
            DUAD(**{**SMALL_DUAD, "device": "cuda"}, random_state=0).fit(_data())
        with pytest.raises(ValueError, match="CUDA is not available"):
            DAGMM(**{**SMALL_DAGMM, "device": "cuda"}, random_state=0).fit(_data())
