"""What a data scientist hands the detectors and the loaders (review of the library use): real
pandas DataFrames of mixed column kinds, values too small for float32, parameters that are not
whole numbers, a PCA that keeps the whole space, data files of the wrong kind, and a damaged
feature file in a library call."""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from videoad.baselines.sklearn_baselines import PCARecon
from videoad.detector import DUAD

SMALL = dict(p0=25, p=20, r=2, max_reselections=2, n_components=3, clusterer="gmm",
             clusterer_params={"n_components": 3}, hidden_dims=[8], latent_dim=2, batch_size=64)


def _rows(n=200, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"load": rng.random(n), "count": rng.integers(0, 5, n), "flag": rng.random(n) > 0.5})


def test_a_dataframe_of_mixed_numeric_columns_is_fitted_with_its_names():
    """float + int + bool columns (and nullable Float64) made numpy's object array, refused as
    "dtype=object" without naming a column; scikit-learn's detectors fit the same frame."""
    df = _rows()
    for det in (PCARecon(n_components=2), DUAD(**SMALL, random_state=0)):
        det.fit(df)
        assert list(det.feature_names_in_) == ["load", "count", "flag"]
        np.testing.assert_allclose(det.decision_function(df), det.decision_function(df.to_numpy(dtype=float)),
                                   rtol=1e-6)
    nullable = df.astype({"load": "Float64", "count": "Int64"})
    np.testing.assert_allclose(PCARecon(n_components=2).fit(nullable).decision_scores_,
                               PCARecon(n_components=2).fit(df).decision_scores_, rtol=1e-6)
    nullable.loc[3, "load"] = pd.NA
    with pytest.raises(ValueError, match=r"NaN or inf \(1 NaN, 0 inf; first at row 3, column 0\)"):
        PCARecon(n_components=2).fit(nullable)
    with pytest.raises(ValueError, match=r"X must be real numbers; its column\(s\) 'site' \(.*\) are not"):
        PCARecon(n_components=2).fit(df.assign(site=["a", "b"] * 100))
    with pytest.raises(ValueError, match=r"X must be real numbers; its column\(s\) 'z' \(complex128\) are not"):
        PCARecon(n_components=2).fit(df.assign(z=np.full(200, 1 + 1j)))  # its imaginary part was dropped
    coded = df.assign(count=pd.Categorical(df["count"]))  # categories that are numbers: their values
    np.testing.assert_allclose(PCARecon(n_components=2).fit(coded).decision_scores_,
                               PCARecon(n_components=2).fit(df).decision_scores_, rtol=1e-6)


def test_values_too_small_for_float32_are_named_not_called_constant():
    rng = np.random.default_rng(0)
    X = rng.random((30, 4)) * 1e-50
    with pytest.raises(ValueError, match=r"X holds values too small for the float32 .* at row 0, column 0 becomes 0\), "
                                         r"so that no column varies"):
        PCARecon(n_components=2).fit(X)
    PCARecon(n_components=2).fit(X * 1e45)  # the same rows rescaled: fine
    # one tiny value among ordinary ones is a zero to every detector, at fit and at scoring (the first
    # version of the check refused it)
    Y = rng.random((30, 4))
    Y[7, 2] = 1e-50
    fitted = PCARecon(n_components=2).fit(Y)
    Y[0, 1] = 3e-60
    assert np.isfinite(fitted.decision_function(Y)).all()
    rows = np.ones((2, 4))
    rows[0, 3] = 1e-60  # scored rows are never refused for it, whatever the others in the batch
    rows[1, 3] = 0.0
    assert np.isfinite(fitted.decision_function(rows)).all()


def test_parameters_that_are_not_whole_numbers_are_refused():
    """r=2.5 trained 2 epochs a period and batch_size=1.5 batches of one row, in silence;
    contamination='x' was a bare "could not convert string to float"."""
    X = np.random.default_rng(0).random((100, 5))
    for key, value in (("r", 2.5), ("batch_size", 1.5), ("n_neighbors", 0), ("max_fit_rows", 1.5),
                       ("max_reselections", True), ("max_reference", "all")):
        with pytest.raises(ValueError, match=rf"{key}.* must be a whole number >= \d.*got {value!r}"):
            DUAD(**{**SMALL, key: value}).fit(X)
    assert DUAD(**{**SMALL, "r": 2.0}, random_state=0).fit(X).n_epochs_ > 0  # a whole float is whole
    DUAD(**{**SMALL, "r": np.float32(2), "batch_size": 64.0})._check_params()  # numpy's too, and a YAML 64.0
    # the other counts alike (`latent_dim: 2.0`, `restarts: 1.0`, `snapshots: 2.0` were refused as not whole)
    DUAD(**{**SMALL, "latent_dim": 2.0, "hidden_dims": [8.0, 4], "snapshots": np.float64(2)})._check_params()
    assert len(DUAD(**{**SMALL, "restarts": 1.0, "restart_when": "always"}, random_state=0).fit(X).restarts_) == 2
    for key, value in (("latent_dim", 1.5), ("restarts", 0.5), ("snapshots", 2.5)):
        with pytest.raises(ValueError, match=rf"{key} must be"):
            DUAD(**{**SMALL, key: value}).fit(X)
    PCARecon(n_components=2.0).fit(X)
    for c in ("x", True, 0.7):
        with pytest.raises(ValueError, match=r"contamination must be a share in \(0, 0.5\]"):
            PCARecon(contamination=c).fit(X)


def test_a_pca_that_keeps_every_column_is_refused():
    """n_components >= the columns reconstructs every row exactly: scores of 1e-13 rounding noise."""
    X = np.random.default_rng(0).random((50, 3))
    with pytest.raises(ValueError, match=r"n_components 4 of X's 3 columns keeps the whole space.*at most 2"):
        PCARecon().fit(X)
    assert PCARecon(n_components=2).fit(X).decision_scores_.max() > 1e-3


def test_mnist_files_of_another_type_and_a_cut_cifar_zip_are_named(tmp_path):
    from videoad.datasets.images import load_cifar10, load_mnist

    x = np.random.default_rng(0).integers(-100, 100, (5, 28, 28)).astype(np.int8)
    head = bytes([0, 0, 0x09, 3]) + b"".join(int(s).to_bytes(4, "big") for s in x.shape)
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(head + x.tobytes())
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(bytes([0, 0, 0x08, 1]) + (5).to_bytes(4, "big") + bytes(5))
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte: MNIST files hold unsigned bytes .*int8"):
        load_mnist(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(bytes([0, 0, 0x08, 3]) + head[4:] + x.view(np.uint8).tobytes())
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(bytes([0, 0, 0x08, 1]) + (5).to_bytes(4, "big") + bytes([12] * 5))
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte: MNIST labels are the digits 0-9; it holds 12"):
        load_mnist(tmp_path)
    import zipfile

    with zipfile.ZipFile(tmp_path / "c.zip", "w") as zf:
        zf.writestr("test/cat/1.png", b"x" * 4000)
    (tmp_path / "cut.zip").write_bytes((tmp_path / "c.zip").read_bytes()[:1000])
    with pytest.raises(ValueError, match=r"cut.zip: a zip file that cannot be read \(truncated or corrupt"):
        load_cifar10(tmp_path / "cut.zip")


def test_a_damaged_feature_file_left_out_of_a_library_call_is_said_and_listed(tmp_path, caplog):
    """`videoad.video.score` on a store with one truncated .h5 returned the other videos' scores
    with nothing said (an INFO line) and nothing in `skipped()`."""
    from video_helpers import FAST_DUAD, fake_video

    from videoad import video

    store = tmp_path / "features"
    for i in range(3):
        fake_video(store, f"cam/v{i}.mp4", 60, seed=i, anomalous=[5] if i == 1 else ())
    damaged = next(store.rglob("v2.mp4*.h5"))
    damaged.write_bytes(damaged.read_bytes()[:300])
    cfg = video.DetectConfig(mode="pooled", detector="duad", params=FAST_DUAD, min_clips=50, seed=3)
    with caplog.at_level(logging.WARNING, logger="videoad"):
        scored = video.detect(store, cfg)
    assert sorted(v.video for v in scored) == ["cam/v0.mp4", "cam/v1.mp4"]
    (left,) = scored.left_out()
    assert left["video"] == "cam/v2.mp4" and "v2.mp4" in left["reason"]
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(m.startswith("1 video(s) of ") and "left out, not scored (first: cam/v2.mp4" in m for m in said), said


def test_detect_names_a_damaged_feature_file_of_the_scored_videos_and_of_the_history(tmp_path):
    """A damaged feature file is named by `videoad detect` (its list of videos left out, and the
    library's warning), in the scored store and in a `--fit-on` history, which has no list of its own
    (a filter on the warning hid it there: found in review)."""
    import subprocess
    import sys

    import yaml
    from video_helpers import FAST_DUAD, fake_video

    store = tmp_path / "features"
    for i in range(3):
        fake_video(store, f"cam/v{i}.mp4", 60, seed=i)
    damaged = next(store.rglob("v2.mp4*.h5"))
    damaged.write_bytes(damaged.read_bytes()[:300])
    cfg = tmp_path / "fast.yaml"
    cfg.write_text(yaml.safe_dump({"detector": {"name": "duad", "params": FAST_DUAD}, "min_clips": 50}))
    res = subprocess.run([sys.executable, "-m", "videoad", "detect", str(store), "-o", str(tmp_path / "s"),
                          "--pooled", "--config", str(cfg)], capture_output=True, text=True)
    said = res.stdout + res.stderr
    assert res.returncode == 0, said
    assert said.count("left out cam/v2.mp4: ") == 1 and "left out, not scored (first: cam/v2.mp4" in said, said
    history = tmp_path / "history"
    for i in range(3):
        fake_video(history, f"cam/h{i}.mp4", 60, seed=10 + i)
    damaged = next(history.rglob("h2.mp4*.h5"))
    damaged.write_bytes(damaged.read_bytes()[:300])
    res = subprocess.run([sys.executable, "-m", "videoad", "detect", str(store), "-o", str(tmp_path / "s2"),
                          "--pooled", "--config", str(cfg), "--fit-on", str(history)], capture_output=True, text=True)
    said = res.stdout + res.stderr
    assert res.returncode == 0 and "left out, not scored (first: cam/h2.mp4" in said, said


def test_a_column_float32_cannot_tell_apart_at_its_size_is_warned_of():
    """A Unix time varying by seconds (1.7e9: float32 steps of 128) became one value and its
    anomaly vanished into constant_columns_, in silence; columns of ordinary sizes say nothing."""
    rng = np.random.default_rng(0)
    X = np.c_[1.7e9 + rng.normal(0, 30, 300), rng.normal(size=300)]
    with pytest.warns(UserWarning, match=r"column\(s\) 0 vary too little for their size.*steps of 128"):
        PCARecon(n_components=1).fit(X)
    outlier = X.copy()
    outlier[5, 0] = 0.0  # one odd row does not hide it
    with pytest.warns(UserWarning, match=r"column\(s\) 0 vary too little"):
        PCARecon(n_components=1).fit(outlier)
    rare = np.full((1000, 2), 1e6)
    rare[:3, 0] += 1  # mostly one value, rare deviations float32 holds exactly
    ordinary = [rng.normal(size=(300, 3)), rng.integers(0, 2, (300, 3)),
                (rng.normal(size=(300, 3)) * 1e6).astype(np.int64), np.r_[np.zeros((299, 2)), [[1e9, 1e9]]],
                np.c_[np.full(2000, 0.1), rng.normal(size=2000)],  # constant: its std is 1e-17, not 0
                rare, (1e6 + rng.integers(0, 5, (1000, 2))).astype(np.int64),
                np.c_[np.where(rng.random(2000) < 0.075, rng.random(2000) * 1e-50, 0.0), rng.normal(size=2000)]]
    import warnings

    for Y in ordinary:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            # some of these rows span one dimension, which PCA-1 reconstructs to rounding error: said by
            # its own warning (tests/test_core_edges.py), not by the one tested here
            warnings.filterwarnings("ignore", message="PCARecon: its 1 component")
            PCARecon(n_components=1).fit(Y)


def test_scoring_rows_without_the_fitted_column_names_or_with_new_ones_is_said():
    """Fitted on a DataFrame, scored on an array (or the other way round): scored by position
    without a word, where scikit-learn warns; the names come back from a saved model as an array."""
    df = _rows()
    det = DUAD(**SMALL, random_state=0).fit(df)
    for method in ("decision_function", "score_samples", "transform"):  # each points at the caller's line
        with pytest.warns(UserWarning, match="X has no column names, but DUAD was fitted on a DataFrame") as seen:
            getattr(det, method)(df.to_numpy(dtype=float))
        assert seen[0].filename == __file__, (method, seen[0].filename)
    plain = PCARecon(n_components=2).fit(df.to_numpy(dtype=float))
    with pytest.warns(UserWarning, match="X has column names, but PCARecon was fitted without any"):
        plain.decision_function(df)


def test_a_saved_model_gives_its_column_names_back_as_scikit_learns_array(tmp_path):
    det = DUAD(**SMALL, random_state=0).fit(_rows())
    det.save(tmp_path / "m.pt")
    loaded = DUAD.load(tmp_path / "m.pt")
    assert isinstance(loaded.feature_names_in_, np.ndarray) and loaded.feature_names_in_.tolist() == ["load", "count",
                                                                                                      "flag"]


def test_auto_clusterer_arguments_of_the_other_clusterer_are_named_before_the_fit():
    """`clusterer="auto"` takes Distribution Clustering at 200 columns or more: GMM's arguments
    passed the settings check and failed inside the fit as a TypeError."""
    X = np.random.default_rng(0).normal(size=(120, 200))
    with pytest.raises(ValueError, match=r"do not fit the clusterer that clusterer='auto' picks for X's 200 columns "
                                         r"\(dc.*name the clusterer"):
        DUAD(clusterer_params={"n_components": 3}, random_state=0).fit(X)


def test_duad_is_a_transformer_of_its_codes():
    """transform() gave the codes, but fit_transform and set_output were missing: scikit-learn's
    checks stopped at its transformer tag, and a pipeline's set_output(transform="pandas") failed."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = np.random.default_rng(0).normal(size=(200, 5))
    det = DUAD(**SMALL, random_state=0)
    codes = det.fit_transform(X)
    np.testing.assert_array_equal(codes, DUAD(**SMALL, random_state=0).fit(X).transform(X))
    assert det.get_feature_names_out().tolist() == ["duad0", "duad1"]
    assert codes.dtype == np.float32 and det.__sklearn_tags__().transformer_tags.preserves_dtype == ["float32"]
    out = make_pipeline(StandardScaler(), DUAD(**SMALL, random_state=0)).set_output(transform="pandas").fit_transform(X)
    assert out.columns.tolist() == ["duad0", "duad1"] and out.shape == (200, 2)


def test_a_column_of_one_value_and_a_minority_float32_merges_is_warned_of():
    """A Unix time constant in most rows, the rest minutes off: no median absolute deviation, so
    the check looked no further and the minority's anomaly vanished in silence."""
    rng = np.random.default_rng(0)
    t = np.full(20000, 1.7e9)
    some = rng.choice(20000, 6000, replace=False)
    t[some] += rng.integers(1, 60, some.size)
    with pytest.warns(UserWarning, match=r"column\(s\) 1 vary too little"):
        PCARecon(n_components=1).fit(np.c_[rng.normal(size=20000), t])


def test_training_settings_out_of_range_are_named_before_the_fit():
    """lr=0 trained nothing and tol=-1 never converged, both in silence; lr=-1 and weight_decay=-1
    failed inside torch's Adam, tol="x" after the training, p=None as float()'s TypeError, and
    final_epochs=1.5 ran one epoch."""
    X = np.random.default_rng(0).normal(size=(100, 5))
    for key, value, says in (("lr", 0, "lr must be a number from 1e-10 to 1"), ("lr", -1, "lr must be a number from"),
                             ("lr", "fast", "lr must be a number from 1e-10 to 1"),
                             # 1e-300 trained nothing in silence (no weight moved: validation.MIN_LR);
                             # 1e300 failed inside torch, weight_decay 1e39 too, 1e30 trained nothing
                             ("lr", 1e-300, "lr must be a number from 1e-10 to 1, got 1e-300"),
                             ("lr", 1e300, "lr must be a number from 1e-10 to 1, got 1e"),
                             ("weight_decay", -1, "weight_decay must be a number from 0 to 1e\\+06"),
                             ("weight_decay", 1e30, "weight_decay must be a number from 0 to 1e\\+06, got 1e"),
                             ("tol", -1, r"tol must be a number in \[0, 1\]"), ("tol", "x", "tol must be"),
                             ("guard_margin", "x", "guard_margin must be a number > 0"),
                             ("p", None, "p must be a percentage"), ("p0", True, "p0 must be a percentage"),
                             ("final_epochs", 1.5, "final_epochs must be a whole number >= 0"),
                             ("final_epochs", -1, "final_epochs must be"), ("guard_runs", 0, "guard_runs must be"),
                             ("dc_min_features", "x", "dc_min_features must be")):
        with pytest.raises(ValueError, match=says):
            DUAD(**{**SMALL, key: value}).fit(X)
    assert DUAD(**{**SMALL, "lr": "1e-3", "tol": 0}, random_state=0).fit(X).n_epochs_ > 0  # YAML may give "1e-3"
    # the ends of the ranges are fitted
    assert DUAD(**{**SMALL, "lr": 1e-10, "weight_decay": 1e6}, random_state=0).fit(X).n_epochs_ > 0
    assert DUAD(**{**SMALL, "lr": 1}, random_state=0).fit(X).n_epochs_ > 0


def test_dagmm_real_settings_out_of_range_are_named_before_the_fit():
    """DAGMM(eps=1e30) gave every row the same score (from 1e14 on: float64 lost the distances
    beside log(eps); DAGMM.MAX_EPS), lr=1e-300 trained nothing, both in silence."""
    from videoad.baselines.dagmm import DAGMM

    X = np.random.default_rng(0).normal(size=(60, 4))
    for key, value, says in (("eps", 1e30, r"eps must be a finite number > 0 and <= 1e\+06, got 1e\+30"),
                             ("eps", 1e14, r"eps must be a finite number > 0 and <= 1e\+06"),
                             ("lr", 1e-300, r"lr must be a finite number >= 1e-10 and <= 1, got 1e-300"),
                             ("lr", 2.0, r"lr must be a finite number >= 1e-10 and <= 1, got 2.0")):
        with pytest.raises(ValueError, match=says):
            DAGMM(**{key: value, "epochs": 1}).fit(X)
    assert np.ptp(DAGMM(eps=1e6, epochs=1, random_state=0).fit(X).decision_scores_) > 0


def test_baseline_counts_that_are_not_whole_or_too_small_are_refused():
    """KNNDist(n_neighbors=2.5) ran as 2 and "5" as 5; OCSVM(max_fit_rows=0) fitted every row and
    max_fit_rows=1 fitted one."""
    from videoad.baselines import KNNDist, OCSVM

    X = np.random.default_rng(0).normal(size=(60, 3))
    for value in (2.5, "5", True, 0):
        with pytest.raises(ValueError, match=f"n_neighbors must be a whole number >= 1, got {value!r}"):
            KNNDist(n_neighbors=value).fit(X)
    assert KNNDist(n_neighbors=3.0).fit(X).k_ == 3
    for value in (0, 1, 2.5):
        with pytest.raises(ValueError, match=f"max_fit_rows must be None .* >= 2, got {value!r}"):
            OCSVM(max_fit_rows=value).fit(X)
    assert OCSVM(max_fit_rows=None).fit(X).fit_rows_ == 60 and OCSVM(max_fit_rows=20).fit(X).fit_rows_ == 20


def test_a_contamination_set_after_the_fit_is_named_as_a_changed_setting():
    """set_params(contamination=0.1) on a fitted detector: predict said it was fitted without
    contamination and asked to set it, which the user had just done."""
    X = np.random.default_rng(0).normal(size=(100, 5))
    det = PCARecon(n_components=2).fit(X).set_params(contamination=0.1)
    with pytest.raises(ValueError, match=r"fitted with contamination=None; set_params changed it to 0.1.*fit again"):
        det.predict(X)


def test_fit_predict_without_contamination_is_refused_before_the_fit():
    """It fitted first (minutes for DUAD on a large X), then said a threshold was missing."""
    X = np.random.default_rng(0).normal(size=(100, 5))
    det = DUAD(**SMALL, random_state=0)
    with pytest.raises(ValueError, match="has no contamination"):
        det.fit_predict(X)
    assert not hasattr(det, "decision_scores_")


def test_a_saved_model_keeps_its_set_output_choice(tmp_path):
    """Pickling kept set_output(transform="pandas") but save/load dropped it: a reloaded model in a
    pipeline step returned arrays where the fitted one returned DataFrames."""
    df = pd.DataFrame(np.random.default_rng(0).normal(size=(200, 5)), columns=list("abcde"))
    det = DUAD(**SMALL, random_state=0).set_output(transform="pandas").fit(df)
    det.save(tmp_path / "m.pt")
    loaded = DUAD.load(tmp_path / "m.pt")
    out = loaded.transform(df)
    assert isinstance(out, pd.DataFrame) and out.columns.tolist() == ["duad0", "duad1"]
    pd.testing.assert_frame_equal(out, det.transform(df))
    plain = DUAD(**SMALL, random_state=0).fit(df)
    plain.save(tmp_path / "p.pt")
    assert isinstance(DUAD.load(tmp_path / "p.pt").transform(df), np.ndarray)


def test_a_float32_dataframe_is_not_copied_through_float64():
    """A float32 DataFrame went through a float64 copy (twice its size) before its float32 array:
    200,000 x 100 rows took 153 MB more than the array itself."""
    import tracemalloc

    from videoad.detector.validation import check_matrix

    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(20000, 50)).astype(np.float32), columns=[f"c{i}" for i in range(50)])
    df["flag"] = rng.random(20000) > 0.5  # bool and int16 columns: float32 holds them exactly too
    df["small"] = rng.integers(0, 100, 20000).astype(np.int16)
    tracemalloc.start()
    try:
        X = check_matrix(df)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(X, df.to_numpy(dtype=np.float64).astype(np.float32))
    assert peak < 2.5 * X.nbytes, (peak, X.nbytes)  # its float32 array and one copy in C order
    wide = pd.DataFrame({"a": rng.normal(size=100), "b": rng.integers(0, 2**30, 100)})  # float32 cannot hold these
    assert check_matrix(wide).dtype == np.float32  # read through float64, as before


def test_a_dataframe_with_sparse_columns_is_read_as_before_the_float32_path():
    """The float32 reading of a DataFrame asked np.dtype() of each column's kind: a sparse column
    (Sparse[float64, nan], Sparse[int8, 0]) is none, and check_matrix raised numpy's TypeError
    where it had read the frame's values."""
    from videoad.detector.validation import check_matrix

    rng = np.random.default_rng(0)
    dense = np.c_[np.r_[np.zeros(47), [1.0, 2.0, 3.0]], rng.random(50)].astype(np.float32)
    for sparse in (pd.arrays.SparseArray(dense[:, 0].astype(np.float64)),
                   pd.arrays.SparseArray(dense[:, 0].astype(np.int8))):
        df = pd.DataFrame({"a": sparse, "b": dense[:, 1]})
        np.testing.assert_array_equal(check_matrix(df), dense)


def test_isolation_forest_names_columns_that_vary_too_little_for_its_trees():
    """scikit-learn's trees never split a feature that spans no more than 1e-7: rows measured in
    small units (X * 1e-8) all got the same score and no label, in silence; a few such columns
    beside others were ignored, in silence."""
    from videoad.baselines.sklearn_baselines import IForest

    X = np.random.default_rng(0).normal(size=(300, 4))
    with pytest.raises(ValueError, match=r"IForest: X varies too little to be split: columns 0, 1, 2, 3 span no more "
                                         r"than 1e-07 .*every row would get the same score.*rescale X"):
        IForest(n_estimators=20, random_state=0).fit(X * 1e-8)
    assert np.unique(IForest(n_estimators=20, random_state=0).fit(X * 1e-6).decision_scores_).size == 300
    mixed = np.hstack([X[:, :3], X[:, 3:] * 1e-9, np.ones((300, 1))])  # the constant column is not named
    with pytest.warns(UserWarning, match=r"IForest: X's column 3 spans .*: the forest ignores it") as caught:
        IForest(n_estimators=20, random_state=0).fit(mixed)
    assert caught[0].filename == __file__  # pointed at the caller's line


def test_ocsvm_nu_of_one_is_refused_by_name_not_blamed_on_the_data():
    """nu=1.0, within scikit-learn's (0, 1], always fails in libsvm: scikit-learn then said the
    input "may contain large values and need to be preprocessed", of any data."""
    from videoad.baselines import OCSVM
    from videoad.detector import registry

    X = np.random.default_rng(0).normal(size=(60, 3))
    for value in (1.0, 0, float("nan"), None):
        with pytest.raises(ValueError, match=rf"OCSVM: nu \(the share of rows outside the boundary\) must be a finite "
                                             rf"number > 0 and < 1, got {value!r}") as err:
            OCSVM(nu=value).fit(X)
        assert "large values" not in str(err.value)
    with pytest.raises(ValueError, match=r"bench.yaml: ocsvm: OCSVM: nu .* got 1.0"):  # as a config is read
        registry.check_arguments("ocsvm", {"nu": 1.0}, "bench.yaml", "ocsvm")
    assert OCSVM(nu=0.999).fit(X).decision_scores_.shape == (60,)


def test_an_object_array_of_numbers_is_fitted_as_the_frame_it_came_from():
    """`df.values` / `df.to_numpy()` of a frame of float, int and bool columns is an object array
    of numbers: the frame itself was fitted, its own array refused as "dtype=object" (scikit-learn's
    detectors take both). Values that are not numbers are named with their place; None is missing."""
    from videoad.baselines.sklearn_baselines import KNNDist

    df = _rows(60)
    as_objects = df.to_numpy()
    assert as_objects.dtype == object
    ref = KNNDist().fit(df.to_numpy(dtype=float))
    det = KNNDist().fit(as_objects)
    np.testing.assert_array_equal(det.decision_scores_, ref.decision_scores_)
    np.testing.assert_array_equal(det.decision_function(df.values[:5]), ref.decision_function(df.to_numpy(float)[:5]))
    words = as_objects.copy()
    words[4, 1] = "3"
    with pytest.raises(ValueError, match=r"X must be real numbers; its value '3' \(str\) at row 4, column 1 is not"):
        KNNDist().fit(words)
    missing = as_objects.copy()
    missing[2, 0] = None
    with pytest.raises(ValueError, match=r"NaN or inf \(1 NaN, 0 inf; first at row 2, column 0\)"):
        KNNDist().fit(missing)
    with pytest.raises(ValueError, match=r"X must be 2-D .* got 1-D"):  # its shape is still checked
        KNNDist().fit(as_objects[:, 0])


def test_a_refused_fit_leaves_a_detector_that_scikit_learn_calls_unfitted():
    """A fit refused after its input was read left n_features_in_ (and two more attributes ending in
    "_"): scikit-learn's check_is_fitted, and so a Pipeline ending in the detector, called it fitted,
    while its own scoring said NotFittedError."""
    from sklearn.exceptions import NotFittedError
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.utils.validation import check_is_fitted

    X = np.random.default_rng(0).random((40, 3))
    det = PCARecon(n_components=3)
    with pytest.raises(ValueError, match="keeps the whole space"):
        det.fit(X)
    with pytest.raises(NotFittedError):
        check_is_fitted(det)
    pipe = make_pipeline(StandardScaler(), PCARecon(n_components=3))
    with pytest.raises(ValueError, match="keeps the whole space"):
        pipe.fit(X)
    with pytest.raises(NotFittedError):
        check_is_fitted(pipe)
    check_is_fitted(det.set_params(n_components=2).fit(X))  # fitted: said so
    check_is_fitted(pipe.set_params(pcarecon__n_components=2).fit(X))


def test_a_saved_model_gives_its_settings_back_as_they_were_given(tmp_path):
    """JSON has no tuples: DAGMM's default hidden_dims=(60, 30, 10) came back from a file as a list,
    so the loaded model's get_params() (and repr) differed from the one saved."""
    from videoad.baselines.dagmm import DAGMM

    X = np.random.default_rng(0).random((60, 4))
    det = DAGMM(epochs=1, batch_size=32, random_state=0).fit(X)
    det.save(tmp_path / "d.pt")
    loaded = DAGMM.load(tmp_path / "d.pt")
    assert loaded.get_params() == det.get_params() and loaded.hidden_dims == (60, 30, 10)
    np.testing.assert_array_equal(loaded.decision_function(X), det.decision_function(X))
    listed = DAGMM(hidden_dims=[6], latent_dim=1, epochs=1, batch_size=32, random_state=0).fit(X)
    listed.save(tmp_path / "l.pt")
    assert DAGMM.load(tmp_path / "l.pt").hidden_dims == [6]  # a list stays a list
