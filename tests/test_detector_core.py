"""The detector core: selection rule, stopping rule, score, estimator contract, save/load, bad input."""
from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch
from sklearn.base import clone

from videoad.detector import DUAD, load_detector
from videoad.detector.clustering import ClusterResult, GMMClusterer, result_from_labels, select_normal

SMALL = dict(p0=30, p=20, r=2, n_components=4, clusterer="gmm", clusterer_params={"n_components": 4},
             hidden_dims=(8,), latent_dim=2, lr=1e-2, batch_size=64, max_reselections=3)


def mixture(seed=0, n_per=200, d=6, spreads=(0.05, 0.1, 1.0, 2.0)):
    """Four well-separated Gaussian clusters with increasing spread."""
    rng = np.random.default_rng(seed)
    parts, labels = [], []
    for k, s in enumerate(spreads):
        centre = np.zeros(d)
        centre[k % d] = 10.0 * (k + 1)
        parts.append(centre + s * rng.standard_normal((n_per, d)))
        labels.append(np.full(n_per, k))
    return np.concatenate(parts).astype(np.float32), np.concatenate(labels)


def inliers_with_outliers(seed=0, n=400, n_out=20, d=10):
    rng = np.random.default_rng(seed)
    basis = rng.standard_normal((2, d))
    inl = rng.standard_normal((n, 2)) @ basis + 5.0 + 0.05 * rng.standard_normal((n, d))
    out = 5.0 + 3.0 * rng.standard_normal((n_out, d))
    X = np.concatenate([inl, out]).astype(np.float32)
    y = np.r_[np.zeros(n), np.ones(n_out)].astype(int)
    return X, y


# ---------------------------------------------------------------- selection rule
def test_selection_drops_the_high_variance_clusters():
    X, truth = mixture()
    res = result_from_labels(X, truth)
    # variances come out in the order of the spreads
    assert np.all(np.diff(res.variances) > 0)
    keep = select_normal(res, 50, "component")
    # the 50th percentile of 4 variances lies between clusters 1 and 2: clusters 0, 1 stay
    assert set(np.unique(truth[keep])) == {0, 1}
    assert keep.sum() == 400
    keep_rows = select_normal(res, 50, "component_rows")
    assert set(np.unique(truth[keep_rows])) == {0, 1}


def test_component_rule_is_weighted_by_components_not_rows():
    X, truth = mixture(n_per=100)
    # make the widest cluster tiny: dropping it removes few rows under the paper's reading
    small = np.r_[np.flatnonzero(truth < 3), np.flatnonzero(truth == 3)[:5]]
    res = result_from_labels(X[small], truth[small])
    keep = select_normal(res, 25, "component")
    assert keep.sum() == 300  # only the 5-row cluster goes: 1.6% of rows for p = 25
    keep_rows = select_normal(res, 25, "row")
    assert 0.70 <= keep_rows.mean() <= 0.80  # the per-row reading drops ~p% of the rows


def test_unclustered_rows_are_never_selected():
    labels = np.array([0, 0, 0, -1, 1, 1, 1, -1])
    res = ClusterResult(labels, np.array([1.0, 2.0]), np.array([0.1, 0.2, 0.3, np.nan, 1, 2, 3, np.nan]))
    for rule in ("row", "component", "component_rows"):
        assert not select_normal(res, 10, rule)[labels < 0].any()


def test_gmm_clusterer_recovers_separated_clusters():
    X, truth = mixture()
    res = GMMClusterer(n_components=4, covariance_type="full")(X, 0)
    # four clusters, each pure and whole: the partition is the truth's up to naming
    from sklearn.metrics import adjusted_rand_score

    assert res.n_clusters == 4
    for k in range(res.n_clusters):
        assert np.unique(truth[res.labels == k]).size == 1
    assert adjusted_rand_score(truth, res.labels) == pytest.approx(1.0)


# ---------------------------------------------------------------- stopping rule
def test_stops_when_selection_settles_and_records_it():
    X, _ = inliers_with_outliers()
    det = DUAD(**{**SMALL, "max_reselections": 30, "tol": 0.02}, random_state=0).fit(X)
    assert det.stop_reason_ == "converged"
    assert det.n_reselections_ < 30
    last = det.history_[-1]
    assert last["entered"] + last["left"] <= 0.02 * X.shape[0]


def test_stops_at_the_cap_when_it_does_not_settle():
    X, _ = inliers_with_outliers()
    det = DUAD(**{**SMALL, "max_reselections": 2, "tol": 0.0}, random_state=0).fit(X)
    if det.stop_reason_ == "max_reselections":
        assert det.n_reselections_ == 2
        assert det.history_[-1]["entered"] + det.history_[-1]["left"] > 0
    else:  # settled exactly within two reselections: then nothing changed at the last one
        assert det.history_[-1]["entered"] + det.history_[-1]["left"] == 0
    assert len(det.history_) == det.n_reselections_ + 1
    assert det.n_epochs_ == det.n_reselections_ * SMALL["r"]


def test_a_reselection_too_small_to_train_on_keeps_the_selection_but_does_not_settle(monkeypatch):
    """When a reselection keeps fewer rows than the floor, the previous selection is kept; that is no
    decision, so it must not read as "converged" (which skips the restart a fit that never settles
    gets); `history_` marks the step."""
    import videoad.detector.duad as duad_module

    X, _ = inliers_with_outliers()
    calls = []

    def starved(result, p, rule):  # the initial selection as usual, every reselection nearly empty
        mask = select_normal(result, p, rule)
        calls.append(rule)
        if len(calls) > 1:
            mask = np.zeros_like(mask)
            mask[:1] = True
        return mask

    monkeypatch.setattr(duad_module, "select_normal", starved)
    det = DUAD(**{**SMALL, "max_reselections": 3, "tol": 0.02}, random_state=0).fit(X)
    assert len(calls) >= 4, calls
    assert det.stop_reason_ == "max_reselections" and det.n_reselections_ == 3
    assert all(h.get("kept_previous") for h in det.history_[1:]) and "kept_previous" not in det.history_[0]
    assert det.history_[-1]["selected"] == det.history_[0]["selected"]


def test_too_few_rows_are_refused_before_and_after_the_fit_cap():
    """Fewer rows than clusters are refused; so is a `max_fit_rows` that leaves fewer (it fitted on
    a selection that could not start and called the fit converged)."""
    X, _ = inliers_with_outliers()
    with pytest.raises(ValueError, match="X has 3 rows but the detector fits 4 clusters"):
        DUAD(**SMALL).fit(X[:3])
    with pytest.raises(ValueError, match=r"max_fit_rows=3 leaves fewer rows than the 4 the fit needs"):
        DUAD(**SMALL, max_fit_rows=3).fit(X)
    assert DUAD(**SMALL, max_fit_rows=50, random_state=0).fit(X).n_fit_rows_ == 50


def test_history_counts_are_consistent():
    X, _ = inliers_with_outliers()
    det = DUAD(**SMALL, random_state=0).fit(X)
    for prev, cur in zip(det.history_, det.history_[1:]):
        assert cur["selected"] == prev["selected"] + cur["entered"] - cur["left"]
    assert det.selection_.sum() == det.history_[-1]["selected"]


# ---------------------------------------------------------------- the score
def test_score_range_and_finds_outliers():
    X, y = inliers_with_outliers()
    det = DUAD(**SMALL, random_state=0).fit(X)
    s = det.decision_scores_
    assert s.shape == (X.shape[0],)
    assert np.all(s >= 0) and np.all(s <= np.pi)
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(y, s) > 0.9


def test_score_is_the_angle_to_the_reconstruction():
    X, _ = inliers_with_outliers()
    det = DUAD(**SMALL, random_state=0).fit(X)
    with torch.no_grad():
        x = torch.from_numpy(X / np.float32(det.scale_))
        _, x_hat = det.model_(x)
    cos = (x * x_hat).sum(1) / (x.norm(dim=1) * x_hat.norm(dim=1))
    np.testing.assert_allclose(det.decision_function(X), torch.arccos(cos.clamp(-1, 1)).numpy(), atol=1e-4)


def test_error_score_is_the_input_space_residual():
    X, y = inliers_with_outliers()
    det = DUAD(**SMALL, score="error", random_state=0).fit(X)
    with torch.no_grad():
        x = torch.from_numpy(X / np.float32(det.scale_))
        _, x_hat = det.model_(x)
    np.testing.assert_allclose(det.decision_function(X), (x - x_hat).norm(dim=1).numpy(), rtol=1e-4, atol=1e-5)
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(y, det.decision_scores_) > 0.9


def test_knn_score_is_the_distance_to_the_selection_in_code_and_residual():
    from sklearn.metrics import roc_auc_score
    from sklearn.neighbors import NearestNeighbors

    X, y = inliers_with_outliers()
    det = DUAD(**SMALL, score="knn", n_neighbors=3, random_state=0).fit(X)
    with torch.no_grad():
        x = torch.from_numpy(X / np.float32(det.scale_))
        code, x_hat = det.model_(x)
    rep = torch.cat([code, x - x_hat], dim=1).numpy()
    ref = rep[det.selection_]
    np.testing.assert_allclose(det.reference_, ref, rtol=1e-5, atol=1e-6)
    d = NearestNeighbors().fit(ref).kneighbors(rep, n_neighbors=4)[0]
    # a selected training row does not count itself; other rows do not need to
    expected = np.where(det.selection_, d[:, 3], d[:, 2])
    np.testing.assert_allclose(det.decision_scores_, expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(det.decision_function(X), d[:, 2], rtol=1e-4, atol=1e-6)
    # a reference of no more than k rows: a fitted row outside it scores as decision_function scores it
    tiny = DUAD(**SMALL, score="knn", n_neighbors=5, max_reference=3, random_state=0).fit(X)
    differ = ~np.isclose(tiny.decision_scores_, tiny.decision_function(X), rtol=1e-5)
    assert differ.sum() <= 3  # the three reference rows alone, which skip themselves
    # off the manifold (the residual sees it) and rare on it (the code sees it)
    assert roc_auc_score(y, det.decision_scores_) > 0.9
    rng = np.random.default_rng(1)
    basis = rng.standard_normal((2, 10))
    plane = rng.standard_normal((400, 2))
    rare = rng.uniform(-1, 1, (20, 2)) * 4 + np.array([8.0, -8.0])  # scattered: none near another
    Xp = (np.vstack([plane, rare]) @ basis + 5.0).astype(np.float32)
    yp = np.r_[np.zeros(400), np.ones(20)]
    assert roc_auc_score(yp, DUAD(**SMALL, score="knn", random_state=0).fit(Xp).decision_scores_) > 0.9
    far = det.decision_function(np.vstack([X[:1], X[:1] * 5]))
    assert far[1] > far[0]


def test_knn_in_input_space_measures_the_scaled_rows_against_the_selection():
    from sklearn.neighbors import NearestNeighbors

    X, _ = inliers_with_outliers()
    det = DUAD(**SMALL, score="knn", knn_space="input", n_neighbors=3, random_state=0).fit(X)
    x = (X / np.float32(det.scale_)).astype(np.float32)
    np.testing.assert_allclose(det.reference_, x[det.selection_], rtol=1e-6)
    d = NearestNeighbors().fit(x[det.selection_]).kneighbors(x, n_neighbors=4)[0]
    np.testing.assert_allclose(det.decision_scores_, np.where(det.selection_, d[:, 3], d[:, 2]), rtol=1e-4, atol=1e-6)
    # the same fit (the space only changes the score), so the selections agree
    rep = DUAD(**SMALL, score="knn", n_neighbors=3, random_state=0).fit(X)
    np.testing.assert_array_equal(rep.selection_, det.selection_)


def test_knn_reference_is_capped_by_a_seeded_subsample():
    X, _ = inliers_with_outliers()
    a = DUAD(**SMALL, score="knn", max_reference=50, random_state=0).fit(X)
    b = DUAD(**SMALL, score="knn", max_reference=50, random_state=0).fit(X)
    assert a.reference_.shape[0] == 50
    np.testing.assert_array_equal(a.decision_scores_, b.decision_scores_)


def test_held_out_scores_leave_each_group_out_of_the_reference(tmp_path):
    """Each fitted row measured against the reference rows of the other groups only (brute force
    in [code, residual]); never below its fitted score; the angle score has nothing to leave out."""
    from sklearn.neighbors import NearestNeighbors

    X, _ = inliers_with_outliers()
    groups = np.arange(len(X)) % 3
    det = DUAD(**SMALL, score="knn", n_neighbors=3, max_reference=300, random_state=0).fit(X)
    assert len(det.reference_rows_) == 300 and det.selection_[det.reference_rows_].all()
    with torch.no_grad():
        x = torch.from_numpy(X / np.float32(det.scale_))
        code, x_hat = det.model_(x)
    rep = torch.cat([code, x - x_hat], dim=1).numpy()
    held = det.held_out_scores(X, groups)
    for g in range(3):
        ref = det.reference_rows_[groups[det.reference_rows_] != g]
        rows = groups == g
        d = NearestNeighbors().fit(rep[ref]).kneighbors(rep[rows], n_neighbors=3)[0]
        np.testing.assert_allclose(held[rows], d[:, 2], rtol=1e-4, atol=1e-5)
    assert np.all(held >= det.decision_scores_ - 1e-5) and np.mean(held > det.decision_scores_ + 1e-6) > 0.5
    # one group holding the whole reference (a one-video history): its fitted scores
    np.testing.assert_array_equal(det.held_out_scores(X, np.zeros(len(X))), det.decision_scores_)
    with pytest.raises(ValueError, match="fitted rows and one group label each"):
        det.held_out_scores(X[:10], groups[:10])
    # a row whose label equals none (NaN) was in no group: its score was whatever np.empty held
    unlabelled = groups.astype(float)
    unlabelled[5] = np.nan
    with pytest.raises(ValueError, match=r"groups holds NaN \(first at row 5\); give every row a group label"):
        det.held_out_scores(X, unlabelled)
    mixed = np.array([f"v{g}" for g in groups], dtype=object)
    mixed[7] = None
    with pytest.raises(ValueError, match=r"groups must be labels of one kind .*\['NoneType', 'str'\]"):
        det.held_out_scores(X, mixed)
    np.testing.assert_array_equal(det.held_out_scores(X, np.array([f"v{g}" for g in groups])), held)
    path = tmp_path / "m.pt"
    det.save(path)
    with pytest.raises(ValueError, match="a loaded model does not keep them"):
        load_detector(path).held_out_scores(X, groups)
    angle = DUAD(**SMALL, random_state=0).fit(X)
    np.testing.assert_array_equal(angle.held_out_scores(X, groups), angle.decision_scores_)


def test_fit_is_invariant_to_rescaling_x():
    X, _ = inliers_with_outliers()
    a = DUAD(**SMALL, random_state=0).fit(X).decision_scores_
    b = DUAD(**SMALL, random_state=0).fit(X * 1000.0).decision_scores_
    np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)


def test_row_scaling_makes_scores_invariant_per_row():
    X, _ = inliers_with_outliers()
    det = DUAD(**SMALL, input_scaling="row", random_state=0).fit(X)
    factors = np.random.default_rng(1).uniform(0.1, 50, size=(X.shape[0], 1)).astype(np.float32)
    np.testing.assert_allclose(det.decision_function(X * factors), det.decision_function(X), atol=1e-5)


# ---------------------------------------------------------------- estimator contract
def test_estimator_contract():
    X, _ = inliers_with_outliers()
    det = DUAD(**SMALL, contamination=0.05, random_state=0)
    assert det.fit(X) is det
    params = det.get_params()
    assert params["p0"] == 30 and params["contamination"] == 0.05
    twin = clone(det)
    assert not hasattr(twin, "decision_scores_")
    assert twin.get_params() == params
    assert det.decision_scores_.shape == (X.shape[0],)
    assert det.labels_.shape == (X.shape[0],) and set(np.unique(det.labels_)) <= {0, 1}
    assert abs(det.labels_.mean() - 0.05) < 0.01
    assert det.predict(X[:7]).shape == (7,)
    assert det.transform(X[:7]).shape == (7, 2)
    np.testing.assert_allclose(det.score_samples(X[:5]), -det.decision_function(X[:5]))
    det.set_params(p=25)
    assert det.get_params()["p"] == 25


def test_predict_without_contamination_says_why():
    X, _ = inliers_with_outliers()
    det = DUAD(**SMALL, random_state=0).fit(X)
    assert det.threshold_ is None
    with pytest.raises(ValueError, match="contamination"):
        det.predict(X)
    with pytest.raises(ValueError, match="contamination"):  # it returned None
        DUAD(**SMALL, random_state=0).fit_predict(X)
    assert DUAD(**SMALL, random_state=0, contamination=0.05).fit_predict(X).sum() == 21


def test_same_seed_same_scores_on_cpu():
    X, _ = inliers_with_outliers()
    a = DUAD(**SMALL, device="cpu", random_state=7).fit(X)
    b = DUAD(**SMALL, device="cpu", random_state=7).fit(X)
    np.testing.assert_array_equal(a.decision_scores_, b.decision_scores_)
    assert [h["selected"] for h in a.history_] == [h["selected"] for h in b.history_]
    c = DUAD(**SMALL, device="cpu", random_state=8).fit(X)
    assert not np.array_equal(a.decision_scores_, c.decision_scores_)


def test_random_state_stays_inside_the_fit():
    """The seed reaches torch and numpy through the fit's own generators; the caller's global
    state is not reseeded (it was before the torch base: tests/test_torch_base.py)."""
    X, _ = inliers_with_outliers()
    np.random.seed(0)
    torch.manual_seed(0)
    DUAD(**SMALL, random_state=3).fit(X)
    after_a = (np.random.rand(), torch.rand(1).item())
    DUAD(**SMALL, random_state=3).fit(X)
    after_b = (np.random.rand(), torch.rand(1).item())
    assert after_a != after_b  # the caller's generators went on from where they were
    np.random.seed(0)
    torch.manual_seed(0)
    assert after_a == (np.random.rand(), torch.rand(1).item())


def test_every_detector_leaves_the_callers_global_generator_alone():
    """OC-SVM's libsvm wrapper drew its seed from numpy's global generator: a caller's stream moved
    on by a fit (the torch-free baselines and DUAD alike must not touch it)."""
    from videoad.detector import registry

    X, _ = inliers_with_outliers()
    np.random.seed(0)
    expected = np.random.rand()
    for name in registry.names():
        np.random.seed(0)
        cls = registry.get(name).load()
        seeded = {"random_state": 0} if "random_state" in inspect.signature(cls).parameters else {}
        cls(**({**SMALL, **seeded} if name == "duad" else seeded)).fit(X)
        assert np.random.rand() == expected, name


def test_wrong_width_at_score_time():
    X, _ = inliers_with_outliers()
    det = DUAD(**SMALL, random_state=0).fit(X)
    with pytest.raises(ValueError, match="features"):
        det.decision_function(X[:, :5])


def test_a_refused_refit_leaves_the_detector_unfitted_not_broken(tmp_path):
    """A refit refused by the input checks set n_features_in_ to the new width beside the old model:
    the detector could score neither width (a torch shape error) and saved a file load called damaged."""
    from sklearn.exceptions import NotFittedError

    X, _ = inliers_with_outliers()
    det = DUAD(**SMALL, random_state=0).fit(X)
    with pytest.raises(ValueError, match="constant"):
        det.fit(np.ones((50, 7)))
    with pytest.raises(NotFittedError):
        det.decision_function(X)
    with pytest.raises(ValueError, match="not fitted"):
        det.save(tmp_path / "m.pt")
    np.testing.assert_array_equal(det.fit(X).decision_scores_, DUAD(**SMALL, random_state=0).fit(X).decision_scores_)


def test_settings_changed_after_a_fit_are_refused_until_it_is_fitted_again(tmp_path):
    """set_params(score="error") after a fit scored errors against the angle's threshold (0.5% of rows
    flagged instead of 10%); knn_space or input_scaling failed in torch; save recorded the new ones."""
    X, _ = inliers_with_outliers()
    det = DUAD(**SMALL, contamination=0.1, random_state=0).fit(X)
    det.set_params(score="error")
    with pytest.raises(ValueError, match=r"fitted with score='angle'; set_params changed it to 'error' since: fit again"):
        det.predict(X)
    with pytest.raises(ValueError, match="fit again"):
        det.save(tmp_path / "m.pt")
    det.set_params(score="angle", device="cpu", n_threads=1, random_state=5)  # where and how fast: fine
    assert det.predict(X).mean() == pytest.approx(0.1, abs=0.01)
    det.set_params(score="error").fit(X)
    assert det.predict(X).mean() == pytest.approx(0.1, abs=0.01)
    # a loaded model is held to the settings it was saved with, as a fitted one
    det.save(tmp_path / "m.pt")
    back = load_detector(tmp_path / "m.pt")
    back.set_params(input_scaling="row")
    with pytest.raises(ValueError, match="fitted with input_scaling='global'"):
        back.decision_function(X)
    # one column is refused only where the score is the angle: the error and knn scores rank it
    col = np.r_[np.random.default_rng(1).normal(0, 1, (300, 1)), np.random.default_rng(2).normal(8, 1, (15, 1))]
    s = DUAD(**SMALL, score="error", random_state=0).fit(col).decision_scores_
    assert s[300:].min() > np.median(s[:300])


# ---------------------------------------------------------------- save / load
def test_save_load_gives_identical_scores(tmp_path):
    X, _ = inliers_with_outliers()
    det = DUAD(**SMALL, contamination=0.05, random_state=0).fit(X)
    path = tmp_path / "model.pt"
    det.save(path)
    # the file is loadable with weights_only=True: no arbitrary unpickling
    torch.load(path, weights_only=True)
    back = DUAD.load(path)
    np.testing.assert_array_equal(back.decision_function(X), det.decision_function(X))
    np.testing.assert_array_equal(back.decision_scores_, det.decision_scores_)
    assert back.threshold_ == det.threshold_
    expected = {**det.get_params(), "random_state": det.seed_}  # a tuple setting comes back a tuple
    assert back.get_params() == expected
    assert back.device_ == "cpu"
    assert back.history_[0]["selected"] == det.history_[0]["selected"]
    np.testing.assert_array_equal(back.predict(X), det.predict(X))


@pytest.mark.parametrize("score", ["error", "knn"])
def test_save_load_keeps_every_score(tmp_path, score):
    X, _ = inliers_with_outliers()
    det = DUAD(**SMALL, score=score, random_state=0).fit(X)
    det.save(tmp_path / "m.pt")
    back = DUAD.load(tmp_path / "m.pt")
    np.testing.assert_allclose(back.decision_function(X[::7]), det.decision_function(X[::7]), rtol=1e-6)


def test_a_model_fitted_on_a_gpu_scores_on_a_machine_without_one(tmp_path, caplog):
    """`videoad detect --device cuda --save-model` then scoring elsewhere: the file says cuda
    (its `device` argument and where it trained); a machine without CUDA loads it onto the CPU,
    says so, and scores as the model scores. The file is written as a GPU fit writes it: the
    tensors are stored from the CPU either way, so only the recorded device differs."""
    import json
    import logging

    X, _ = inliers_with_outliers()
    det = DUAD(**SMALL, score="knn", random_state=0).fit(X)
    det.save(tmp_path / "cpu.pt")
    payload = torch.load(tmp_path / "cpu.pt", weights_only=True)
    meta = json.loads(payload["meta_json"])
    meta["params"]["device"], meta["attrs"]["device_"] = "cuda", "cuda:0"
    payload["meta_json"] = json.dumps(meta)
    torch.save(payload, tmp_path / "gpu.pt")
    with caplog.at_level(logging.WARNING, logger="videoad.detector.persistence"):
        back = load_detector(tmp_path / "gpu.pt")
    if torch.cuda.is_available():  # where the GPU exists the model goes back onto it
        assert back.device_ == "cuda:0" and not caplog.text
    else:
        assert "trained on cuda:0, which is not available here; loading onto the CPU" in caplog.text
        assert back.device_ == "cpu"
        np.testing.assert_array_equal(back.decision_function(X[::7]), det.decision_function(X[::7]))
    assert back.get_params()["device"] == "cuda"
    on_cpu = load_detector(tmp_path / "gpu.pt", device="cpu")  # what `videoad detect --model` asks for
    assert on_cpu.device_ == "cpu"
    np.testing.assert_array_equal(on_cpu.decision_function(X[::7]), det.decision_function(X[::7]))


def test_a_model_file_whose_bytes_changed_is_refused_not_loaded(tmp_path):
    """16 bytes flipped inside a stored tensor: torch.load read it (zip records' checksums are not
    checked) and the model scored garbage, or `detect --model` blamed the fit ("diverged?")."""
    import zipfile

    X, _ = inliers_with_outliers()
    det = DUAD(**SMALL, random_state=0).fit(X)
    det.save(tmp_path / "m.pt")
    with zipfile.ZipFile(tmp_path / "m.pt") as archive:
        info = next(i for i in archive.infolist() if "/data/" in i.filename and i.file_size >= 64)
    data = bytearray((tmp_path / "m.pt").read_bytes())
    at = info.header_offset  # the local header: its name and extra field (torch pads it to align) lengths
    name_len, extra_len = (int.from_bytes(data[at + k: at + k + 2], "little") for k in (26, 28))
    start = at + 30 + name_len + extra_len + 16
    data[start:start + 16] = bytes(b ^ 0xFF for b in data[start:start + 16])
    (tmp_path / "bad.pt").write_bytes(bytes(data))
    with pytest.raises(ValueError, match=rf"bad.pt: damaged: its record .*{info.filename.split('/')[-1]} fails its checksum"):
        load_detector(tmp_path / "bad.pt")
    np.testing.assert_array_equal(load_detector(tmp_path / "m.pt").decision_function(X[:9]), det.decision_function(X[:9]))


def test_load_rejects_foreign_files(tmp_path):
    bad = tmp_path / "not_a_model.pt"
    bad.write_bytes(b"hello")
    with pytest.raises(ValueError, match="not a videoad model file"):
        load_detector(bad)
    with pytest.raises(ValueError, match="no such model file"):
        load_detector(tmp_path / "missing.pt")


def test_model_files_cut_short_empty_or_of_random_bytes_say_so(tmp_path):
    """A model file cut short was "not a videoad model file (OSError: [Errno 22] Invalid argument)",
    an empty one "(EOFError: )", and random bytes were said to hold Python objects."""
    from videoad.baselines import DAGMM

    X, _ = inliers_with_outliers()
    det = DAGMM(hidden_dims=(8,), latent_dim=1, epochs=1, batch_size=64, random_state=0).fit(X)
    det.save(tmp_path / "m.pt")
    data = (tmp_path / "m.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"cut.pt: cut short"):
        load_detector(tmp_path / "cut.pt")
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty.pt: the file is empty \(0 bytes\)"):
        load_detector(tmp_path / "empty.pt")
    for seed in (0, 17, 21, 54, 62):  # pickle's opcodes then noise: torch's IndexError, KeyError: 252, a
        # UnicodeDecodeError (seeds 17, 62, 54) were quoted as if they said something of the file
        (tmp_path / "noise.pt").write_bytes(b"\x80\x02" + np.random.default_rng(seed).bytes(1000))
        with pytest.raises(ValueError, match=r"noise.pt: not a videoad model file \(corrupt, or another kind of file\)$"):
            load_detector(tmp_path / "noise.pt")
    np.testing.assert_array_equal(load_detector(tmp_path / "m.pt").decision_function(X), det.decision_function(X))


def test_dagmm_save_load(tmp_path):
    from videoad.baselines import DAGMM

    X, _ = inliers_with_outliers()
    det = DAGMM(hidden_dims=(8,), latent_dim=1, epochs=3, batch_size=64, random_state=0).fit(X)
    det.save(tmp_path / "dagmm.pt")
    back = load_detector(tmp_path / "dagmm.pt")
    np.testing.assert_allclose(back.decision_function(X), det.decision_function(X), rtol=1e-6)


def test_empty_rows_are_judged_by_their_reconstructions_length_not_given_pi_over_2(tmp_path):
    """Sparse counts with a quarter of idle (all-zero) rows: every one scored pi/2, above 99.8% of
    the ordinary rows, the threshold landed on that tie and no anomaly was flagged (AUROC 0.70)."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    n, d = 1000, 10
    base = rng.gamma(2.0, 1.0, size=(1, d))
    normal = rng.poisson(base * rng.uniform(0.5, 1.5, size=(n, 1)))
    normal[rng.random(n) < 0.25] = 0
    X = np.vstack([normal, rng.poisson(rng.gamma(2.0, 1.0, size=(20, d)))]).astype(np.float32)
    y = np.r_[np.zeros(n), np.ones(20)]
    zero = ~X.any(axis=1)
    det = DUAD(r=10, max_reselections=3, batch_size=128, random_state=0, contamination=0.05).fit(X)
    s = det.decision_scores_
    assert np.ptp(s[zero]) == 0 and s[zero][0] < np.median(s[~zero & (y == 0)])  # the idle mode reads as normal
    with torch.no_grad():
        code, x_hat = det.model_(torch.zeros(1, d))
    assert s[zero][0] == pytest.approx(np.arctan(float(x_hat.norm()) / det.zero_scale_), rel=1e-5)
    assert roc_auc_score(y, s) > 0.78  # 0.687 with the idle rows at pi/2
    det.save(tmp_path / "m.pt")
    assert load_detector(tmp_path / "m.pt").decision_function(X[zero][:1])[0] == pytest.approx(s[zero][0])


def test_values_whose_squares_overflow_float32_are_scored_or_refused_never_wrong():
    """A row at 1e20 in a fixed direction: DUAD's angle read pi/2 (its squared norm overflowed),
    ranked below half the training rows; PCA gave inf, DAGMM NaN or torch's LinAlgError."""
    from videoad.baselines.dagmm import DAGMM
    from videoad.baselines.sklearn_baselines import PCARecon

    X, _ = inliers_with_outliers()
    det = DUAD(**SMALL, random_state=0).fit(X)
    row = X[:1] - X.mean(axis=0)
    angles = [det.decision_function(row * scale)[0] for scale in (1e3, 1e17, 1e20, 1e30)]
    assert np.allclose(angles, angles[0], atol=1e-5) and angles[0] != pytest.approx(np.pi / 2)
    np.testing.assert_array_equal(det.decision_function(X[:50]), DUAD(**SMALL, random_state=0).fit(X).decision_function(X[:50]))
    with pytest.raises(ValueError, match=r"PCARecon gave 1 row\(s\) a score that is not a finite number .* rescale X"):
        PCARecon().fit(X).decision_function(row * 1e30)
    with pytest.raises(ValueError, match="rescale X"):
        DAGMM(hidden_dims=(8,), latent_dim=1, epochs=2, batch_size=64, random_state=0).fit(np.r_[X, row * 1e20])


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("bad, message", [
    (np.array([[0.0, np.nan]] * 50), "NaN or inf"),
    (np.array([[0.0, np.inf]] * 50), "NaN or inf"),
    (np.ones((50, 4)), "constant"),
    (np.arange(50.0), "2-D"),
    (np.zeros((50, 0)), "no columns"),
    (np.random.default_rng(0).random((3, 4)), "rows"),
    (np.array([["a", "b"]] * 30), "numeric"),
    (np.random.default_rng(0).random((60, 1)), "one column: the angle between a one-value row and its reconstruction"
     " is 0 or pi, so score='angle' cannot rank such rows"),
    (np.random.default_rng(0).random((60, 3)) + 1j, r"X is complex \(complex128\); the detectors take real numbers"),
    (np.r_[np.random.default_rng(0).random((49, 3)), [[0.0, 1e39, 1.0]]],  # finite, not NaN or inf
     r"holds values beyond the float32 range the detectors compute in \(max \|x\| 1e\+39 at row 49, column 1\)"),
])
def test_bad_input_is_a_clear_value_error(bad, message):
    with pytest.raises(ValueError, match=message):
        DUAD(**SMALL).fit(bad)


def test_a_sparse_matrix_is_named_as_such():
    """np.asarray of a scipy.sparse matrix is a 0-D object array: the error read "dtype=object"."""
    from scipy import sparse

    with pytest.raises(ValueError, match=r"X is a sparse matrix.*toarray"):
        DUAD(**SMALL).fit(sparse.random(50, 4, density=0.5, format="csr", random_state=0))


def test_loading_onto_a_device_this_torch_lacks_is_a_named_error(tmp_path, monkeypatch):
    """DUAD.load(path, device="cuda") on a machine without CUDA ended in torch's AssertionError."""
    X, _ = inliers_with_outliers()
    path = tmp_path / "m.pt"
    DUAD(**SMALL, random_state=0).fit(X).save(path)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # a machine without CUDA, whatever this one has
    with pytest.raises(ValueError, match=r"m.pt: device 'cuda' asked for, but this torch has no usable CUDA"):
        load_detector(path, device="cuda")
    assert load_detector(path, device="cpu").device_ == "cpu"


@pytest.mark.parametrize("seed, restarts, message", [
    (-1, 0, "random_state must be a whole number from 0 to 4294967295, got -1"),
    (2**32, 0, "random_state must be a whole number from 0 to 4294967295"),
])
def test_a_seed_out_of_range_is_refused_before_the_fit(seed, restarts, message):
    """numpy's and scikit-learn's own errors came from deep inside the fit (or its second attempt)."""
    X, _ = inliers_with_outliers()
    with pytest.raises(ValueError, match=message):
        DUAD(**SMALL, random_state=seed, restarts=restarts).fit(X)


def test_every_accepted_seed_fits_with_its_derived_seeds_wrapped():
    """The top seeds were accepted and then failed inside scikit-learn's mixture (seed + step past
    2**32 - 1 at a reselection, seed + 1000 at a restart's, past the top); derived seeds wrap, and
    below the top they are the plain sums they always were."""
    from videoad.detector.seeds import offset_seed

    assert offset_seed(5, 1000) == 1005 and offset_seed(2**32 - 1, 1) == 0 and offset_seed(2**32 - 3, 1000) == 997
    X, _ = inliers_with_outliers()
    params = {**SMALL, "max_reselections": 3, "restarts": 1, "restart_when": "always"}
    for seed in (2**32 - 1, 2**32 - 1 - 1000):
        det = DUAD(**params, random_state=seed).fit(X)
        assert np.isfinite(det.decision_scores_).all() and len(det.restarts_) == 2
        assert [a["seed"] for a in det.restarts_] == [seed, offset_seed(seed, 1000)]


def test_fewer_rows_than_clusters():
    X = np.random.default_rng(0).random((10, 3))
    with pytest.raises(ValueError, match="at least as many rows as clusters"):
        DUAD(**{**SMALL, "n_components": 20}).fit(X)


@pytest.mark.parametrize("params, message", [
    ({"p0": 0}, "p0"), ({"p0": 100}, "p0"), ({"p0": -5}, "p0"), ({"p": 0}, "p must be"),
    ({"p": 150}, "p must be"), ({"p0": 20, "p": 30}, "must not exceed"), ({"r": 0}, "r "),
    ({"selection": "nope"}, "selection"), ({"contamination": 0.9}, "contamination"),
    ({"score": "nope"}, "score must be"), ({"score": "knn", "n_neighbors": 0}, "n_neighbors"),
    ({"knn_space": "code"}, "knn_space must be"),
    ({"hidden_dims": 32}, "hidden_dims must be 'auto' or a list"), ({"hidden_dims": [8, 0]}, "hidden_dims"),
    ({"hidden_dims": "wide"}, "hidden_dims"), ({"latent_dim": 0}, "latent_dim must be"),
    ({"latent_dim": 1.5}, "latent_dim must be"),
])
def test_bad_parameters(params, message):
    X, _ = inliers_with_outliers()
    with pytest.raises(ValueError, match=message):
        DUAD(**{**SMALL, **params}).fit(X)


def test_some_constant_columns_are_fine():
    X, y = inliers_with_outliers()
    X = np.concatenate([X, np.zeros((X.shape[0], 2), np.float32)], axis=1)
    det = DUAD(**SMALL, random_state=0).fit(X)
    assert list(det.constant_columns_) == [X.shape[1] - 2, X.shape[1] - 1]


def test_safe_cholesky_repairs_a_semidefinite_covariance():
    from videoad.baselines.dagmm import safe_cholesky

    v = torch.tensor([[1.0, 2.0, 3.0]], dtype=torch.float64)
    singular = (v.T @ v)[None]  # rank 1: plain Cholesky fails
    with pytest.raises(Exception):
        torch.linalg.cholesky(singular)
    chol = safe_cholesky(torch.cat([singular, torch.eye(3, dtype=torch.float64)[None]]))
    assert torch.isfinite(chol).all()
    torch.testing.assert_close(chol[1], torch.eye(3, dtype=torch.float64))  # a healthy matrix is untouched


def test_angle_reselection_keeps_the_best_reconstructed_rows():
    X, y = inliers_with_outliers()
    det = DUAD(**{**SMALL, "reselection": "angle"}, keep_selection_history=True, random_state=0).fit(X)
    for h in det.history_[1:]:
        assert h["n_clusters"] == 0  # no mixture is fitted for this rule
        assert abs(h["selected"] - 0.8 * X.shape[0]) <= 1  # p = 20: the lowest 80% of angles
    assert y[det.selection_].mean() < y.mean()  # outliers are reconstructed worst and left out


# ---------------------------------------------------------------- the selection guard
def planted_blob(seed=0, n=600, n_blob=60, d=10):
    """Rows on a plane (what an autoencoder with a 2-d code learns) and a tight blob off it:
    the blob is the tightest group there is, so a variance rule keeps it whenever it gets a
    mixture component of its own."""
    rng = np.random.default_rng(seed)
    basis = rng.standard_normal((2, d))
    plane = rng.uniform(-1, 1, (n, 2)) @ basis + 5.0 + 0.02 * rng.standard_normal((n, d))
    blob = 5.0 + 10.0 * rng.standard_normal(d) + 0.002 * rng.standard_normal((n_blob, d))
    return np.vstack([plane, blob]).astype(np.float32), np.r_[np.zeros(n, int), np.ones(n_blob, int)]


class _PlantedStart:
    """Initial clusterer that leaves the blob unclustered: it can only enter at a reselection."""

    def __init__(self, truth):
        self.truth = truth

    def __call__(self, X, seed):
        return result_from_labels(X, np.where(self.truth == 1, -1, np.arange(len(self.truth)) % 3))


PLANTED = dict(p0=20, p=15, r=5, selection="row", reselection="component_rows", n_components=4, hidden_dims=(8,),
               latent_dim=2, lr=1e-2, batch_size=64, max_reselections=3, keep_selection_history=True)


def test_guard_keeps_a_tight_badly_reconstructed_component_out(monkeypatch):
    from videoad.detector import clustering

    X, y = planted_blob()
    monkeypatch.setitem(clustering._REGISTRY, "planted", lambda: _PlantedStart(y))
    # without the guard the variance rule admits the blob at the first reselection
    bare = DUAD(clusterer="planted", guard=False, random_state=0, **PLANTED).fit(X)
    assert [int(y[h["mask"]].sum()) for h in bare.history_] == [0, 60, 60]
    assert "guard" not in bare.history_[1]
    # with it the blob never enters, and history_ says which group was kept out and why
    det = DUAD(clusterer="planted", guard=True, random_state=0, **PLANTED).fit(X)
    assert all(int(y[h["mask"]].sum()) == 0 for h in det.history_)
    g = det.history_[1]["guard"]
    assert g["rows_rejected"] == 60 and len(g["rejected"]) == 1
    assert g["rejected"][0]["rows"] == 60 and g["rejected"][0]["median_angle"] > g["reference_angle"]
    assert g["groups_entering"] >= 1
    # the guard only keeps rows out: what it returns is the rule's selection minus the rejected rows
    for prev, cur in zip(det.history_, det.history_[1:]):
        assert cur["selected"] == prev["selected"] + cur["entered"] - cur["left"]


def test_guard_never_removes_selected_rows_and_judges_groups_by_their_median():
    det = DUAD(p=30, guard=True)
    # rows 0-15 selected (row 0 badly reconstructed), 16-17 and 18-19 enter, 20-23 stay out
    angle = np.r_[0.9, np.full(15, 0.05), 0.1, 0.2, 0.6, 0.7, np.full(4, 1.0)]
    groups = np.r_[np.zeros(16, int), 1, 1, 2, 2, np.full(4, 3)]
    old = np.r_[np.ones(16, bool), np.zeros(8, bool)]
    new = np.r_[np.ones(20, bool), np.zeros(4, bool)]
    out, info = det._guard(new, old, angle, groups)
    cut = 2.0 * np.percentile(angle, 70)  # the default margin: twice the (100 - p)th percentile
    assert info["reference_angle"] == pytest.approx(cut) and 0.15 < cut < 0.65
    # group 1 (median 0.15) enters, group 2 (0.65) is kept out; row 0 stays although its angle is high
    np.testing.assert_array_equal(out, np.r_[np.ones(18, bool), np.zeros(6, bool)])
    assert info["rejected"] == [{"component": 2, "rows": 2, "median_angle": 0.65}]
    assert info["groups_entering"] == 2 and info["rows_rejected"] == 2
    # per-row rules (no mixture): every entering row is its own group
    out_rows, info_rows = det._guard(new, old, angle, None)
    np.testing.assert_array_equal(out_rows, out)
    assert info_rows["rows_rejected"] == 2
    # a wider margin admits group 2 as well
    wide, info_wide = DUAD(p=30, guard=True, guard_margin=4.0)._guard(new, old, angle, groups)
    np.testing.assert_array_equal(wide, new)
    assert info_wide["rows_rejected"] == 0
    # nothing entering: nothing to judge
    same, info_same = det._guard(old, old, angle, groups)
    np.testing.assert_array_equal(same, old)
    assert info_same["reference_angle"] is None


def test_angle_reselection_passes_the_guard_unchanged():
    """The angle rule admits rows below its own cut, which is the guard's reference."""
    X, _ = inliers_with_outliers()
    a = DUAD(**SMALL, reselection="angle", guard=True, random_state=0).fit(X)
    b = DUAD(**SMALL, reselection="angle", guard=False, random_state=0).fit(X)
    assert all(h["guard"]["rows_rejected"] == 0 for h in a.history_[1:])
    np.testing.assert_array_equal(a.decision_scores_, b.decision_scores_)


class _SeedDependentStart:
    """A clusterer whose seed decides whether the blob gets a tight component of its own
    (selected) or joins a wide one (left out), as GMM fits on KDDCUP99 do."""

    def __init__(self, truth, lucky_seed):
        self.truth, self.lucky_seed = truth, lucky_seed
        self.seeds = []

    def __call__(self, X, seed):
        self.seeds.append(seed)
        lab = np.arange(len(self.truth)) % 3
        lab[self.truth == 1] = 3 if seed == self.lucky_seed else 0
        if seed != self.lucky_seed:  # the blob inside a wide component, far from its centre
            X = X.copy()
            X[self.truth == 1] += 50.0
        return result_from_labels(X, lab)


def test_initial_selection_keeps_only_what_independent_clusterings_agree_on(monkeypatch):
    from videoad.detector import clustering

    X, y = planted_blob()
    start = _SeedDependentStart(y, lucky_seed=0)
    monkeypatch.setitem(clustering._REGISTRY, "seeded", lambda: start)
    one = DUAD(clusterer="seeded", guard_runs=1, random_state=0, **{**PLANTED, "max_reselections": 1}).fit(X)
    assert int(y[one.history_[0]["mask"]].sum()) == 60  # the lucky seed selects the whole blob
    start.seeds.clear()
    det = DUAD(clusterer="seeded", guard=True, guard_runs=3, random_state=0, **{**PLANTED, "max_reselections": 1}).fit(X)
    assert len(set(start.seeds)) == 3
    g = det.history_[0]["guard"]
    assert g["runs"] == 3 and g["selected_all"] == det.history_[0]["selected"] < min(g["selected_each"])
    assert int(y[det.history_[0]["mask"]].sum()) == 0
    assert det.init_info_["selected"] == g["selected_all"]


# ---------------------------------------------------------------- restarts on non-convergence
def test_restarts_refit_with_other_seeds_while_the_selection_does_not_settle():
    X, _ = inliers_with_outliers(seed=1)
    # tol 0 with one reselection: a fit rarely settles, so every restart runs
    stuck = dict(SMALL, max_reselections=1, tol=0.0)
    det = DUAD(**stuck, restarts=2, restart_keep="fewest_changes", random_state=5).fit(X)
    seeds = [a["seed"] for a in det.restarts_]
    assert seeds[0] == 5 and seeds[1:] == [5 + 1000 * k for k in range(1, len(seeds))]
    assert sum(a["kept"] for a in det.restarts_) == 1 and det.random_state == 5
    kept = next(a for a in det.restarts_ if a["kept"])
    if any(a["stop_reason"] == "converged" for a in det.restarts_):
        assert kept == next(a for a in det.restarts_ if a["stop_reason"] == "converged")
    else:
        assert len(seeds) == 3 and kept["last_change"] == min(a["last_change"] for a in det.restarts_)
    # the kept fit is exactly the fit with its seed
    alone = DUAD(**stuck, random_state=kept["seed"]).fit(X)
    assert det.seed_ == kept["seed"] and det.stop_reason_ == alone.stop_reason_
    np.testing.assert_allclose(det.decision_scores_, alone.decision_scores_, rtol=1e-6)
    np.testing.assert_allclose(det.decision_function(X[:30]), alone.decision_function(X[:30]), rtol=1e-6)
    # a fit that settles is kept without another; restarts=0 is one fit, said so
    settled = DUAD(**SMALL, tol=1.0, restarts=3, random_state=5).fit(X)
    assert [a["stop_reason"] for a in settled.restarts_] == ["converged"] and settled.restarts_[0]["kept"]
    assert len(DUAD(**stuck, random_state=5).fit(X).restarts_) == 1
    assert clone(det).get_params()["restarts"] == 2
    with pytest.raises(ValueError, match="restarts must be a whole number"):
        DUAD(**SMALL, restarts=-1).fit(X)


def test_restarts_that_never_settle_keep_every_attempt_and_score_by_their_mean(tmp_path):
    X, _ = inliers_with_outliers(seed=1)
    stuck = dict(SMALL, max_reselections=1, tol=0.0, score="knn")
    det = DUAD(**stuck, restarts=1, random_state=5).fit(X)
    assert [a["stop_reason"] for a in det.restarts_] == ["max_reselections"] * 2  # the case under test
    assert all(a["kept"] for a in det.restarts_) and len(det.members_) == 2
    alone = [DUAD(**stuck, random_state=a["seed"]).fit(X) for a in det.restarts_]
    np.testing.assert_allclose(det.decision_scores_, np.mean([a.decision_scores_ for a in alone], axis=0), rtol=1e-6)
    np.testing.assert_allclose(det.decision_function(X[:30]),
                               np.mean([a.decision_function(X[:30]) for a in alone], axis=0), rtol=1e-6)
    assert not np.allclose(alone[0].decision_function(X[:30]), alone[1].decision_function(X[:30]))
    groups = np.arange(len(X)) % 3
    np.testing.assert_allclose(det.held_out_scores(X, groups),
                               np.mean([a.held_out_scores(X, groups) for a in alone], axis=0), rtol=1e-6)
    # the selection and history are those of the attempt the old rule keeps
    fewest = min(det.restarts_, key=lambda a: a["last_change"])
    assert det.seed_ == fewest["seed"]
    # saved and loaded, every member comes back
    det.save(tmp_path / "m.pt")
    back = DUAD.load(tmp_path / "m.pt")
    assert len(back.members_) == 2
    np.testing.assert_allclose(back.decision_function(X[:30]), det.decision_function(X[:30]), rtol=1e-6)
    # its parameters are those given (the first attempt's seed, not the kept one's) and its attempts
    # are kept, so that the saved parameters fit the same model again
    assert back.random_state == 5 and back.restarts_ == det.restarts_
    np.testing.assert_array_equal(clone(back).fit(X).decision_scores_, det.decision_scores_)
    # a refit that settles drops the members of the fit before
    det.set_params(tol=1.0).fit(X)
    assert det.members_ is None and len(det.restarts_) == 1
    with pytest.raises(ValueError, match="restart_keep must be one of"):
        DUAD(**SMALL, restarts=1, restart_keep="best").fit(X)


def test_restart_when_always_averages_every_attempt_even_when_the_first_settles(tmp_path):
    X, _ = inliers_with_outliers(seed=1)
    settled = dict(SMALL, tol=1.0)  # every fit converges at its first reselection
    det = DUAD(**settled, restarts=2, restart_when="always", random_state=5).fit(X)
    assert [a["seed"] for a in det.restarts_] == [5, 1005, 2005]
    assert all(a["stop_reason"] == "converged" and a["kept"] for a in det.restarts_)
    alone = [DUAD(**settled, random_state=s).fit(X) for s in (5, 1005, 2005)]
    np.testing.assert_allclose(det.decision_function(X[:30]),
                               np.mean([a.decision_function(X[:30]) for a in alone], axis=0), rtol=1e-6)
    np.testing.assert_array_equal(det.selection_, alone[0].selection_)  # the first that converged
    det.save(tmp_path / "m.pt")
    np.testing.assert_allclose(DUAD.load(tmp_path / "m.pt").decision_function(X[:30]),
                               det.decision_function(X[:30]), rtol=1e-6)
    # the default rule stops at the first settled fit
    assert len(DUAD(**settled, restarts=2, random_state=5).fit(X).restarts_) == 1
    with pytest.raises(ValueError, match="restart_when must be one of"):
        DUAD(**settled, restarts=1, restart_when="sometimes").fit(X)


def test_snapshots_score_by_the_mean_of_the_last_two_periods_models(tmp_path):
    X, _ = inliers_with_outliers(seed=1)
    stuck = dict(SMALL, max_reselections=3, tol=0.0)
    for score in ("angle", "knn"):
        det = DUAD(**stuck, score=score, snapshots=2, random_state=5).fit(X)
        assert det.stop_reason_ == "max_reselections" and len(det.members_) == 2
        # a fit capped one period earlier is, bit for bit, the model one period back
        last = DUAD(**stuck, score=score, random_state=5).fit(X)
        before = DUAD(**dict(stuck, max_reselections=2), score=score, random_state=5).fit(X)
        # the members are those two models (weights equal) ...
        for member, fit in zip(det.members_, (before, last)):
            for name, value in fit.model_.state_dict().items():
                torch.testing.assert_close(member.model_.state_dict()[name], value, rtol=0, atol=0)
        np.testing.assert_array_equal(det.selection_, last.selection_)
        # ... and the fit scores by the mean of theirs; under "knn" each measures against the final
        # selection (the capped fit's own reference is its own, earlier selection)
        both = [before, last] if score == "angle" else det.members_
        np.testing.assert_allclose(det.decision_scores_, np.mean([m.decision_scores_ for m in both], axis=0),
                                   rtol=1e-6)
        np.testing.assert_allclose(det.decision_function(X[:30]),
                                   np.mean([m.decision_function(X[:30]) for m in both], axis=0), rtol=1e-6)
        assert not np.allclose(before.decision_function(X[:30]), last.decision_function(X[:30]))
        if score == "knn":
            np.testing.assert_array_equal(det.members_[0].reference_rows_, last.reference_rows_)
            np.testing.assert_allclose(det.members_[1].decision_function(X[:30]), last.decision_function(X[:30]),
                                       rtol=1e-6)
        det.save(tmp_path / f"{score}.pt")
        back = DUAD.load(tmp_path / f"{score}.pt")
        np.testing.assert_allclose(back.decision_function(X[:30]), det.decision_function(X[:30]), rtol=1e-6)
    # one period trained: nothing to average; refit_epochs replaces the model: refused
    one = DUAD(**dict(stuck, max_reselections=1), snapshots=2, random_state=5).fit(X)
    assert one.members_ is None
    with pytest.raises(ValueError, match="snapshots must be 1"):
        DUAD(**stuck, snapshots=3).fit(X)
    with pytest.raises(ValueError, match="refit_epochs"):
        DUAD(**stuck, snapshots=2, refit_epochs=2).fit(X)


def test_restarts_that_keep_snapshots_nest_and_save(tmp_path):
    X, _ = inliers_with_outliers(seed=1)
    stuck = dict(SMALL, max_reselections=2, tol=0.0)
    det = DUAD(**stuck, snapshots=2, restarts=1, random_state=5).fit(X)
    assert [len(m.members_) for m in det.members_] == [2, 2]  # two attempts, two periods each
    alone = [DUAD(**stuck, snapshots=2, random_state=a["seed"]).fit(X) for a in det.restarts_]
    np.testing.assert_allclose(det.decision_function(X[:30]),
                               np.mean([a.decision_function(X[:30]) for a in alone], axis=0), rtol=1e-6)
    det.save(tmp_path / "m.pt")
    back = DUAD.load(tmp_path / "m.pt")
    assert [len(m.members_) for m in back.members_] == [2, 2]
    np.testing.assert_allclose(back.decision_function(X[:30]), det.decision_function(X[:30]), rtol=1e-6)


def test_train_last_selection_trains_on_the_selection_an_unsettled_loop_ends_with():
    X, _ = inliers_with_outliers(seed=1)
    stuck = dict(SMALL, max_reselections=1, tol=0.0, score="angle")
    off = DUAD(**stuck, random_state=5).fit(X)
    on = DUAD(**stuck, train_last_selection=True, random_state=5).fit(X)
    assert off.stop_reason_ == on.stop_reason_ == "max_reselections"
    np.testing.assert_array_equal(on.selection_, off.selection_)  # the loop itself is the same
    assert (off.n_epochs_, on.n_epochs_) == (2, 4)
    # the extra period fits the final selection: its rows reconstruct better than before
    sel = on.selection_
    assert on.decision_scores_[sel].mean() < off.decision_scores_[sel].mean()
    # a loop that settled trained on its selection already: nothing changes
    settled = dict(SMALL, tol=1.0)
    a = DUAD(**settled, random_state=5).fit(X)
    b = DUAD(**settled, train_last_selection=True, random_state=5).fit(X)
    assert b.stop_reason_ == "converged" and a.n_epochs_ == b.n_epochs_
    np.testing.assert_array_equal(a.decision_scores_, b.decision_scores_)
    assert clone(on).get_params()["train_last_selection"] is True


def test_unselected_share_trains_on_rows_outside_the_selection():
    X, cluster = mixture(seed=2)
    # one period on the initial selection, which leaves the widest cluster out whole
    once = dict(SMALL, p0=25, p=25, selection="component_rows", max_reselections=0, r=20)
    alone = DUAD(**once, random_state=5).fit(X)
    left_out = ~alone.selection_
    assert np.array_equal(left_out, cluster == 3)
    mixed = DUAD(**once, unselected_share=0.3, random_state=5).fit(X)
    np.testing.assert_array_equal(mixed.selection_, alone.selection_)
    # trained on a share of those rows too, the model reconstructs them better
    assert np.median(mixed.decision_scores_[left_out]) < 0.5 * np.median(alone.decision_scores_[left_out])
    again = DUAD(**once, unselected_share=0.3, random_state=5).fit(X)
    np.testing.assert_array_equal(again.decision_scores_, mixed.decision_scores_)
    np.testing.assert_array_equal(DUAD(**once, unselected_share=0.0, random_state=5).fit(X).decision_scores_,
                                  alone.decision_scores_)
    with pytest.raises(ValueError, match="unselected_share"):
        DUAD(**once, unselected_share=1.0).fit(X)


def test_z_angle_log_puts_the_angle_logarithm_into_the_reselection_space():
    """`z_angle="log"`: each row's z is [code, log(angle floored at 1e-4)], L2-normalised, so that
    the badly reconstructed rows no longer sit together near the angle axis; the default keeps the
    paper's angle, and an unknown reading is refused."""
    X, _ = mixture(seed=2)
    fitted = DUAD(**{**SMALL, "max_reselections": 1}, random_state=5).fit(X)
    X_t = fitted._tensor(fitted._transform(X))
    z, angle = fitted._embedding(X_t)
    code, _ = fitted._forward_all(X_t)
    raw = np.c_[code, angle].astype(np.float64)
    np.testing.assert_allclose(z, raw / np.linalg.norm(raw, axis=1, keepdims=True), rtol=1e-6)
    fitted.z_angle = "log"
    z_log, angle_log = fitted._embedding(X_t)
    np.testing.assert_array_equal(angle_log, angle)
    logged = np.c_[code, np.log(np.maximum(angle, 1e-4))].astype(np.float64)
    np.testing.assert_allclose(z_log, logged / np.linalg.norm(logged, axis=1, keepdims=True), rtol=1e-6)
    assert DUAD().z_angle == "angle"
    with pytest.raises(ValueError, match="z_angle must be"):
        DUAD(**SMALL, z_angle="cos").fit(X)


def test_knn_baseline_refuses_no_neighbours_and_says_how_fitted_rows_score():
    """KNNDist(n_neighbors=0) fitted (every score 0) and then failed in decision_function. A fitted
    row does not count itself in decision_scores_; passed again it is a new row that does (documented)."""
    from videoad.baselines.sklearn_baselines import KNNDist

    X, _ = inliers_with_outliers()
    with pytest.raises(ValueError, match="n_neighbors must be a whole number >= 1, got 0"):
        KNNDist(n_neighbors=0).fit(X)
    det = KNNDist(n_neighbors=3, contamination=0.1).fit(X)
    again = det.decision_function(X)
    assert np.all(again <= det.decision_scores_ + 1e-12) and np.any(again < det.decision_scores_)
    new = X[:5] + 1e-3
    assert np.all(det.decision_function(new) > 0)


def test_a_model_file_whose_network_does_not_match_its_settings_is_named(tmp_path):
    """A damaged file (or another version's) loaded, then failed deep in torch at the first score."""
    import json as _json

    X, _ = inliers_with_outliers()
    DUAD(**SMALL, random_state=0).fit(X).save(tmp_path / "m.pt")
    payload = torch.load(tmp_path / "m.pt", weights_only=True)
    meta = _json.loads(payload["meta_json"])
    meta["attrs"]["n_features_in_"] = X.shape[1] - 2
    payload["meta_json"] = _json.dumps(meta)
    torch.save(payload, tmp_path / "width.pt")
    with pytest.raises(ValueError, match=r"width.pt: its network does not match its recorded settings"):
        DUAD.load(tmp_path / "width.pt")


@pytest.mark.parametrize("change, message", [
    (lambda params: params.update(snapshot_decay=0.5), r"new.pt: written by another version of videoad: DUAD here "
                                                        r"takes no setting\(s\) \['snapshot_decay'\]"),
    (lambda params: params.update(score="mahalanobis"), r"new.pt: its settings are not valid in this version of "
                                                         r"videoad \(score must be one of .*got 'mahalanobis'\)"),
])
def test_a_model_file_with_settings_this_version_lacks_is_named(tmp_path, change, message):
    """A file saved by a newer videoad: a setting this version lacks failed as a TypeError from the
    constructor (DUAD.__init__() got an unexpected keyword argument), and an option value it does not
    know (a new score) loaded and scored as the angle, in silence."""
    import json as _json

    X, _ = inliers_with_outliers()
    DUAD(**SMALL, random_state=0).fit(X).save(tmp_path / "m.pt")
    payload = torch.load(tmp_path / "m.pt", weights_only=True)
    meta = _json.loads(payload["meta_json"])
    change(meta["params"])
    payload["meta_json"] = _json.dumps(meta)
    torch.save(payload, tmp_path / "new.pt")
    with pytest.raises(ValueError, match=message):
        load_detector(tmp_path / "new.pt")


class _Frame:
    """A table with named columns, as a pandas DataFrame hands itself to numpy (pandas is not a
    dependency here)."""

    def __init__(self, data, columns):
        self.data, self.columns = np.asarray(data), list(columns)

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.data, dtype=dtype)


def test_a_table_scored_with_its_columns_reordered_or_renamed_is_refused(tmp_path):
    """A DataFrame scored with its columns in another order was scored by position, against the wrong
    columns, in silence (scores off by up to 60 for DC alone); scikit-learn's own detectors refuse it.
    The names are kept as `feature_names_in_`, saved with the model; arrays are scored as before;
    and scikit-learn now sees these detectors as outlier detectors."""
    from sklearn.base import is_outlier_detector

    from videoad.baselines.sklearn_baselines import PCARecon

    X, _ = inliers_with_outliers()
    names = [f"c{i}" for i in range(X.shape[1])]
    for det in (DUAD(**SMALL, random_state=0), PCARecon(n_components=2)):
        assert is_outlier_detector(det)
        det.fit(_Frame(X, names))
        assert list(det.feature_names_in_) == names
        np.testing.assert_allclose(det.decision_function(_Frame(X, names)), det.decision_function(X), rtol=1e-6)
        with pytest.raises(ValueError, match=r"in another order \(column 0 is 'c\d+', was 'c0'\).*X\[det.feature_names_in_\]"):
            det.decision_function(_Frame(X[:, ::-1], names[::-1]))
        with pytest.raises(ValueError, match=r"not those .* fitted with: new \['z'\], missing \['c0'\]"):
            det.decision_function(_Frame(X, ["z"] + names[1:]))
        assert not hasattr(det.fit(X), "feature_names_in_")  # refitted on an array: no names to hold to
    det = DUAD(**SMALL, random_state=0).fit(_Frame(X, names))
    det.save(tmp_path / "m.pt")
    loaded = DUAD.load(tmp_path / "m.pt")
    assert list(loaded.feature_names_in_) == names
    with pytest.raises(ValueError, match="in another order"):
        loaded.decision_function(_Frame(X[:, ::-1], names[::-1]))


@pytest.mark.parametrize("name", ["duad", "pca", "iforest", "ocsvm", "knn", "dc", "dagmm"])
def test_rows_that_are_all_alike_are_refused_by_every_detector(name):
    """validation.py promised it; DUAD alone kept the promise: the baselines fitted constant data and
    gave every row one score, none labelled."""
    from videoad.detector import registry

    X = np.ones((300, 6), np.float32)
    with pytest.raises(ValueError, match="all 6 columns are constant; there is nothing to tell rows apart"):
        registry.make(name, {}, seed=0).fit(X)


def test_pca_on_values_near_float32s_limit_says_to_rescale_not_nan():
    """Finite rows near 1e30 overflowed PCA's covariance and scikit-learn said "Input X contains
    NaN." of input that holds none."""
    from videoad.baselines.sklearn_baselines import PCARecon

    X = np.random.default_rng(0).normal(size=(500, 8)) * 1e30
    with pytest.raises(ValueError, match="too large for its float32 arithmetic.*rescale X") as err:
        PCARecon(random_state=0).fit(X)
    assert "contains NaN" not in str(err.value)
    fitted = PCARecon(random_state=0).fit(X / 1e30)  # the same rows rescaled: fine
    with pytest.raises(ValueError, match="rescale X"):
        fitted.decision_function(X)


@pytest.mark.parametrize("make, message", [
    (lambda: __import__("videoad.baselines.dagmm", fromlist=["DAGMM"]).DAGMM(n_gmm=0, epochs=1), "n_gmm must be a whole number >= 1, got 0"),
    (lambda: __import__("videoad.baselines.dagmm", fromlist=["DAGMM"]).DAGMM(latent_dim=0, epochs=1), "latent_dim must be"),
    (lambda: __import__("videoad.baselines.dagmm", fromlist=["DAGMM"]).DAGMM(est_hidden=0, epochs=1), "est_hidden must be"),
    (lambda: __import__("videoad.baselines.dagmm", fromlist=["DAGMM"]).DAGMM(hidden_dims=(8, 0), epochs=1), "hidden_dims must be"),
    (lambda: __import__("videoad.baselines.dagmm", fromlist=["DAGMM"]).DAGMM(dropout=1.0, epochs=1), "dropout must be"),
    (lambda: __import__("videoad.baselines.dagmm", fromlist=["DAGMM"]).DAGMM(lambda_cov=float("nan"), epochs=1),
     r"lambda_cov must be a finite number >= 0 and <= 1e\+06, got nan"),
    (lambda: __import__("videoad.baselines.dagmm", fromlist=["DAGMM"]).DAGMM(lambda_energy=-1.0, epochs=1),
     r"lambda_energy must be a finite number >= 0 and <= 1e\+06, got -1.0"),
    (lambda: __import__("videoad.baselines.dagmm", fromlist=["DAGMM"]).DAGMM(lr=float("inf"), epochs=1),
     r"lr must be a finite number >= 1e-10 and <= 1, got inf"),
    (lambda: __import__("videoad.baselines.dagmm", fromlist=["DAGMM"]).DAGMM(lr="1e-3", epochs=1),
     r"lr must be a finite number >= 1e-10 and <= 1, got '1e-3'"),
    (lambda: __import__("videoad.baselines.dagmm", fromlist=["DAGMM"]).DAGMM(grad_clip=None, epochs=1),
     r"grad_clip must be a finite number > 0, got None"),
    (lambda: DUAD(**SMALL, gmm_covariance="bogus"), r"gmm_covariance must be one of \('full', 'tied', 'diag', 'spherical'\), got 'bogus'"),
    (lambda: DUAD(**SMALL, n_threads=0), "n_threads must be None .* or a whole number >= 1, got 0"),
])
def test_network_and_mixture_settings_are_checked_before_the_fit(make, message, monkeypatch):
    """DAGMM's n_gmm=0 failed as an overflow asking to rescale X (its latent_dim=0 fitted in silence;
    lr=inf or lambda_cov=NaN made a NaN loss named the same way, grad_clip=None and lr="1e-3" failed
    inside torch as TypeErrors),
    DUAD's gmm_covariance was refused by scikit-learn after the training, n_threads=0 by torch
    without naming it."""
    from videoad.detector import torch_base

    X, _ = inliers_with_outliers()
    trained = []
    monkeypatch.setattr(torch_base.TorchDetector, "_fit_model", lambda self, X: trained.append(1))
    with pytest.raises(ValueError, match=message):
        make().fit(X)
    assert not trained


def test_an_initial_selection_far_below_p0s_share_is_warned_of(caplog):
    """DUAD() on MNIST's 784 columns (Distribution Clustering, absolute thres 0.07) started from 2% of
    the rows, not the 65% p0 keeps, and said nothing."""
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(2, 40))
    tight = np.repeat(centres, 20, axis=0) + 0.01 * rng.normal(size=(40, 40))  # two tight groups of 20
    X = np.concatenate([tight, rng.normal(size=(360, 40))]).astype(np.float32)  # and rows DC leaves alone
    with caplog.at_level("WARNING", logger="videoad.detector.duad"):
        det = DUAD(**{**SMALL, "clusterer": "dc", "clusterer_params": {}, "max_reselections": 0}, random_state=0).fit(X)
    assert det.init_info_["unclustered"] >= 300 and det.init_info_["selected"] < 0.35 * 400
    assert "of the rows, not the 70% p0=30 keeps: the dc clustering left" in caplog.text
    assert "raise clusterer_params['thres']" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="videoad.detector.duad"):
        DUAD(**{**SMALL, "max_reselections": 0}, random_state=0).fit(X)  # a GMM: p0's share
    assert "initial selection holds" not in caplog.text


def test_a_mixture_that_did_not_converge_is_recorded_not_warned_of_raw():
    """scikit-learn's ConvergenceWarning reached `videoad bench kddcup`'s output raw, a file path and
    `warnings.warn(` line each time; the fit records it instead."""
    import warnings

    from videoad.detector.clustering import GMMClusterer

    X = np.random.default_rng(0).normal(size=(3000, 3))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = GMMClusterer(n_components=20, max_iter=2)(X, 0)
    assert result.info["converged"] is False
    assert not [w for w in caught if "converge" in str(w.message)]
