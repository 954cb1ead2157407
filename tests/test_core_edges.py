"""Numerical and shape edge cases of the detectors used as a library: values far below float32's
range, rows every detector scores alike, scoring no rows, one column, a folder given as a model."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from videoad.baselines.dc_alone import DCAlone
from videoad.baselines.sklearn_baselines import KNNDist, PCARecon
from videoad.detector import DUAD, registry
from videoad.detector.persistence import load_detector

SMALL = dict(p0=25, p=20, r=2, max_reselections=2, n_components=3, clusterer="gmm",
             clusterer_params={"n_components": 3}, hidden_dims=[8], latent_dim=2, batch_size=64, device="cpu")
FAST = {"duad": SMALL, "dagmm": dict(hidden_dims=[8], epochs=2, batch_size=64, n_gmm=2, device="cpu"),
        "pca": dict(n_components=2), "iforest": dict(n_estimators=10)}


def _make(name, **extra):
    cls = registry.detector_class(name)
    kw = {**FAST.get(name, {}), **extra}
    if "random_state" in cls._get_param_names():
        kw["random_state"] = 0
    return cls(**kw)


def _rows(n=300, d=6, seed=0):
    X = np.random.default_rng(seed).normal(size=(n, d))
    X[:5] *= 6  # a few outliers
    return X


@pytest.mark.parametrize("n", [300, 3000])  # 3000 rows: scikit-learn's covariance solver, whose X.T @ X underflowed too
def test_pca_ranks_values_far_below_float32s_range_as_it_ranks_them_at_their_usual_scale(n):
    """At 1e-25 the float32 squares of the residuals (and, from 1,000 rows on, of the covariance)
    fell below float32's range: every row scored 0, in silence."""
    X = _rows(n)
    usual = PCARecon(n_components=2, random_state=0).fit(X).decision_scores_
    tiny = PCARecon(n_components=2, random_state=0).fit(X * 1e-25)
    assert np.allclose(tiny.decision_scores_ / 1e-50, usual, rtol=1e-3)
    assert np.allclose(tiny.decision_function(X[:10] * 1e-25) / 1e-50, usual[:10], rtol=1e-3)


def test_pca_scores_of_ordinary_data_are_the_plain_float32_residuals_bit_for_bit():
    """The rescaling of tiny data leaves an ordinary fit's numbers as they were (the benchmarks'
    recorded results)."""
    from sklearn.decomposition import PCA

    X = _rows().astype(np.float32)
    det = PCARecon(n_components=2, random_state=0).fit(X)
    pca = PCA(2, random_state=0).fit(X)
    expected = ((X - pca.inverse_transform(pca.transform(X))) ** 2).sum(axis=1).astype(np.float64)
    assert np.array_equal(det.decision_scores_, expected)
    assert np.array_equal(det.decision_function(X), expected)


def test_dagmm_names_rows_too_small_for_its_float32_norms():
    """At 1e-25 the relative distance and cosine DAGMM feeds its mixture underflowed: one score for
    every row, in silence."""
    X = _rows(120)
    with pytest.raises(ValueError, match=r"DAGMM: 120 row\(s\).*first: row 0.*rescale X"):
        _make("dagmm").fit(X * 1e-25)
    X[7] *= 1e-25  # one such row among ordinary ones: named by its place
    with pytest.raises(ValueError, match=r"1 row\(s\).*first: row 7"):
        _make("dagmm").fit(X)
    X[7] = 0.0  # a zero row is fine (its norm is clamped)
    assert np.ptp(_make("dagmm").fit(X).decision_scores_) > 0


def test_a_fit_that_gives_every_row_one_score_is_warned_of():
    """kNN on rows each repeated more often than k: every distance 0, every score 0, no label, said nowhere."""
    X = np.repeat(_rows(4), 30, axis=0)
    with pytest.warns(UserWarning, match=r"KNNDist gave every one of the 120 fitted rows the same score \(0\)"):
        det = KNNDist(n_neighbors=5, contamination=0.1).fit(X)
    assert not det.labels_.any()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # ordinary rows: no warning
        KNNDist(n_neighbors=5).fit(_rows(120))


@pytest.mark.parametrize("name", ["duad", "pca", "iforest", "ocsvm", "knn", "dagmm", "dc"])
def test_scoring_no_rows_gives_no_scores(name):
    """A stream's empty batch, or a filter that kept no row, was refused ("X has 0 rows")."""
    X = _rows(120)
    det = _make(name, contamination=0.1).fit(X)
    none = X[:0]
    for got in (det.decision_function(none), det.score_samples(none), det.predict(none)):
        assert got.shape == (0,)
    assert det.decision_function(none).dtype == np.float64
    with pytest.raises(ValueError, match="X has 5 features, but .* was fitted with 6"):
        det.decision_function(np.empty((0, 5)))  # the width is still checked
    if name == "duad":
        assert det.transform(none).shape == (0, 2) and det.transform(none).dtype == np.float32


def test_no_rows_survive_a_save_and_load(tmp_path):
    det = _make("duad").fit(_rows(120))
    det.save(tmp_path / "m.pt")
    assert load_detector(tmp_path / "m.pt").decision_function(np.empty((0, 6))).shape == (0,)


def test_one_column_is_named_by_pca_and_distribution_clustering():
    """PCA advised "at most 0" components; DC normalised every one-value row to +1 or -1 and
    scored two groups of rows, in silence."""
    x = _rows(120)[:, :1]
    with pytest.raises(ValueError, match="PCARecon: X has one column"):
        PCARecon(n_components=1).fit(x)
    with pytest.raises(ValueError, match="X has one column: Distribution Clustering"):
        DCAlone(random_state=0).fit(x)
    with pytest.raises(ValueError, match="X has one column: Distribution Clustering"):
        DCAlone(random_state=0, center=True).fit(x)  # centred, then normalised: signs again


def test_a_folder_given_as_a_model_file_is_called_a_folder(tmp_path):
    with pytest.raises(ValueError, match="a folder, not a model file"):
        load_detector(tmp_path)
    with pytest.raises(ValueError, match="no such model file"):
        load_detector(tmp_path / "missing.pt")



def test_a_masked_array_hiding_values_is_refused_not_scored_unmasked():
    """`np.asarray` drops a mask: the -999 sentinels it hid were fitted as data, in silence."""
    X = _rows(60)
    X[3, 1] = -999.0
    masked = np.ma.masked_equal(X, -999.0)
    with pytest.raises(ValueError, match=r"X is a masked array with 1 masked value\(s\) \(first at index \(3, 1\)\)"):
        PCARecon(n_components=2).fit(masked)
    det = PCARecon(n_components=2).fit(np.ma.masked_array(_rows(60)))  # nothing masked: its values
    with pytest.raises(ValueError, match="masked array"):
        det.decision_function(masked)


def test_rows_of_several_lengths_are_named_as_such():
    with pytest.raises(ValueError, match="X is not a table of one width: its rows are not all of one length"):
        PCARecon(n_components=1).fit([[1.0, 2.0, 3.0], [3.0, 4.0]])


def test_a_covariance_the_torch_mixture_lacks_is_named_before_the_fit_or_left_to_scikit_learn():
    """gmm_backend='torch' with gmm_covariance='tied' trained the network, then failed at the first
    reselection as "covariance_type must be ..."; under "auto" the same settings fitted on the CPU and
    failed on a GPU."""
    X = _rows(120)
    with pytest.raises(ValueError, match=r"gmm_backend='torch' fits only gmm_covariance in \('full', 'diag'\), "
                                         r"got 'tied'"):
        DUAD(**SMALL, gmm_backend="torch", gmm_covariance="tied", random_state=0).fit(X)
    det = DUAD(**SMALL, gmm_covariance="spherical", random_state=0)
    det.device_ = "cuda:0"  # where "auto" picks the torch mixture
    assert type(det._reselection_mixture()).__name__ == "GMMClusterer"  # scikit-learn's
    det.gmm_covariance = "diag"
    assert type(det._reselection_mixture()).__name__ == "TorchGMMClusterer"  # as before


@pytest.mark.parametrize("X", [np.random.default_rng(1).normal(size=(2, 10)),  # two rows: one component spans them
                               np.repeat(np.random.default_rng(2).normal(size=(5, 10)), 20, axis=0).astype(np.float32)])
def test_pca_says_when_every_row_is_reconstructed_to_rounding_error(X):
    """Rows that span no more dimensions than the components left residuals of float noise (1e-12 to
    1e-14), not exactly equal, so no warning was given and the rows were ranked by noise."""
    with pytest.warns(UserWarning, match=r"PCARecon: its \d component\(s\) reconstruct every one of the \d+ fitted "
                                         r"rows to rounding error"):
        PCARecon(random_state=0).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # ordinary rows, and rows of values far below float32's range: no warning
        PCARecon(n_components=2, random_state=0).fit(_rows(300))
        PCARecon(n_components=2, random_state=0).fit(_rows(300) * 1e-25)
        PCARecon(n_components=1).fit((1e6 + np.random.default_rng(3).integers(0, 5, (1000, 2))).astype(np.int64))
        # a real residual far below the rest (1e-4): PCA-3 of these rows ranks them by it
        PCARecon(n_components=3).fit(np.c_[_rows(500, 3), 1e-4 * np.random.default_rng(4).normal(size=(500, 1))])


def test_knn_reference_cap_compares_with_a_seeded_subsample_and_skips_only_itself():
    """Exact kNN over every fitted row grows with the square of the rows (`videoad table` on all 494,021
    of KDDCUP99 had not finished after 18 minutes): `max_reference` compares with a seeded subsample, as DUAD's
    knn score does. A row of the subsample skips itself; any other row counts its k nearest of it."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 4))
    exact = KNNDist(n_neighbors=3).fit(X)
    assert np.array_equal(KNNDist(n_neighbors=3, max_reference=300, random_state=0).fit(X).decision_scores_,
                          exact.decision_scores_)  # a cap the rows do not reach changes nothing
    det = KNNDist(n_neighbors=3, max_reference=50, random_state=7).fit(X)
    assert det.reference_rows_ == 50
    again = KNNDist(n_neighbors=3, max_reference=50, random_state=7).fit(X)
    assert np.array_equal(det.decision_scores_, again.decision_scores_)
    ref = X[np.sort(np.random.default_rng(7).choice(300, 50, replace=False))]
    d = np.sqrt(((X[:, None, :] - ref[None, :, :]) ** 2).sum(-1))
    in_ref = (d == 0).any(1)
    assert in_ref.sum() == 50
    d[d == 0] = np.inf  # a reference row is not its own neighbour
    expected = np.sort(d, 1)[:, 2]
    assert np.allclose(det.decision_scores_, expected)
    assert not np.array_equal(det.decision_scores_,
                              KNNDist(n_neighbors=3, max_reference=50, random_state=8).fit(X).decision_scores_)
    with pytest.raises(ValueError, match="max_reference must be a whole number >= 2"):
        KNNDist(max_reference=1).fit(X)
