"""The large-end code paths, exercised on small data: the torch kNN, the torch reselection
mixture (DUAD's GPU path, run on the CPU here), attachment on a column subsample, epochs on a
row subsample, float32 throughout, and the `videoad bench scale` measuring machinery."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import adjusted_rand_score
from sklearn.neighbors import NearestNeighbors

from videoad.detector import DUAD
from videoad.detector.clustering import make_clusterer, result_from_labels
from videoad.detector.distribution_clustering import distribution_clustering
from videoad.detector.knn import KNNIndex

SMALL = dict(p0=30, p=20, r=2, n_components=4, clusterer="gmm", clusterer_params={"n_components": 4},
             hidden_dims=(8,), latent_dim=2, lr=1e-2, batch_size=64, max_reselections=3)


def blobs(n=600, d=10, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 5, (4, d))
    lab = rng.integers(0, 4, n)
    return (centres[lab] + rng.normal(0, 0.3 + 0.3 * lab[:, None], (n, d))).astype(np.float32), lab


# ---------------------------------------------------------------- kNN
def test_knn_index_equals_brute_force_with_duplicates_and_chunks(monkeypatch):
    import videoad.detector.knn as knnmod

    rng = np.random.default_rng(0)
    ref = rng.normal(50.0, 1.0, (300, 40)).astype(np.float32)  # far from the origin: cancellation-prone
    ref[100:160] = ref[99]  # 61 identical rows, as KDDCUP99 has
    q = np.vstack([ref[:50], rng.normal(50.0, 1.0, (70, 40)).astype(np.float32)])
    monkeypatch.setattr(knnmod, "CHUNK_VALUES", 5000)  # several chunks
    idx = KNNIndex(ref)
    assert idx.chunk_rows(6) < q.shape[0]
    got = idx.query(q, 6)
    want = NearestNeighbors().fit(ref.astype(np.float64)).kneighbors(q.astype(np.float64), 6)[0]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    assert (got[99:100, :6] == 0).all() or (idx.query(ref[99:100], 6) == 0).all()
    stream = idx.query_stream(iter([torch.from_numpy(q[:37]), torch.from_numpy(q[37:])]), 6)
    np.testing.assert_allclose(stream, got)
    with pytest.raises(ValueError, match="reference rows"):
        KNNIndex(ref[:3]).query(q, 4)


def test_knn_reference_auto_cap_follows_the_width():
    X, _ = blobs(n=500, d=10)
    det = DUAD(**SMALL, score="knn", random_state=0).fit(X)
    assert det._reference_cap() == 20000 and det.reference_.shape[0] == det.selection_.sum()
    det.architecture_ = {**det.architecture_, "n_features": 4096, "latent": 16}
    assert det._reference_cap() == (1 << 24) // 4112


# ---------------------------------------------------------------- the reselection mixture in torch
@pytest.mark.parametrize("cov", ["full", "diag"])
def test_torch_gmm_recovers_what_sklearn_does(cov):
    rng = np.random.default_rng(1)
    X = np.concatenate([rng.normal(c, s, (400, 3)) for c, s in [(0, 0.1), (3, 0.3), (-3, 0.2), (7, 1.0)]])
    truth = np.repeat(np.arange(4), 400)
    ours = make_clusterer("gmm_torch", n_components=4, covariance_type=cov, max_fit_rows=1000)(X, 0)
    theirs = make_clusterer("gmm", n_components=4, covariance_type=cov)(X, 0)
    assert adjusted_rand_score(truth, ours.labels) > 0.99
    assert adjusted_rand_score(theirs.labels, ours.labels) > 0.99
    assert ours.info["fit_rows"] == 1000 and ours.info["device"] == "cpu"
    # variances as the selection rule reads them: the tightest cluster is the tightest component
    tight = np.bincount(ours.labels[truth == 0]).argmax()
    assert ours.variances.argmin() == tight


def test_torch_gmm_survives_collapsed_components():
    z = np.zeros((300, 2))
    z[:150] = [1.0, 0.0]
    z[150:] = [0.0, 1.0]  # two points repeated: singular covariances without regularisation
    res = make_clusterer("gmm_torch", n_components=4, covariance_type="full", reg_covar=0.0)(z, 0)
    assert adjusted_rand_score(np.repeat([0, 1], 150), res.labels) == 1.0
    assert res.info["reg_covar"] > 0


def test_duad_gpu_path_runs_on_the_cpu_with_the_torch_mixture():
    """gmm_backend="torch" is what device="cuda" uses; here it runs on CPU tensors."""
    X, _ = blobs()
    det = DUAD(**SMALL, gmm_backend="torch", random_state=0).fit(X)
    assert det.n_reselections_ >= 1 and det.history_[1]["n_clusters"] == 4
    ref = DUAD(**SMALL, gmm_backend="sklearn", random_state=0).fit(X)
    assert adjusted_rand_score(det.selection_, ref.selection_) > 0.5
    with pytest.raises(ValueError, match="gmm_backend"):
        DUAD(**SMALL, gmm_backend="cupy").fit(X)


# ---------------------------------------------------------------- subsampling where exactness is not needed
def test_attach_on_a_column_subsample_agrees_with_all_columns():
    rng = np.random.default_rng(2)
    d = 512
    groups = [rng.normal(size=d) * 3 + s * rng.normal(size=(m, d)) for m, s in ((150, 0.3), (150, 0.5), (100, 0.8))]
    X = np.vstack(groups + [rng.normal(size=(20, d)) * 3]).astype(np.float32)
    full = distribution_clustering(X, max_rows=200, attach_columns=None, random_state=0)
    sub = distribution_clustering(X, max_rows=200, attach_columns=40, random_state=0)
    assert full.info["attach_columns"] == 200 and sub.info["attach_columns"] >= 40
    assert sub.info["attach_columns"] < 200
    assert adjusted_rand_score(full.labels, sub.labels) > 0.95
    assert sub.info["n_attached"] > 150


def test_epochs_train_on_a_fresh_subset_when_capped(monkeypatch):
    X, _ = blobs(n=800)
    steps = []
    real_step = torch.optim.Adam.step

    def counting(self, *a, **k):
        steps.append(1)
        return real_step(self, *a, **k)

    monkeypatch.setattr(torch.optim.Adam, "step", counting)
    capped = DUAD(**{**SMALL, "max_reselections": 1, "batch_size": 50}, max_epoch_rows=100, random_state=0).fit(X)
    assert len(steps) == 2 * SMALL["r"]  # 100 rows an epoch in batches of 50, not the whole selection
    steps.clear()
    full = DUAD(**{**SMALL, "max_reselections": 1, "batch_size": 50}, max_epoch_rows=None, random_state=0).fit(X)
    n_sel = int(full.history_[0]["selected"])
    assert len(steps) == -(-n_sel // 50) * SMALL["r"]
    assert capped._epoch_rows() == 100 and full._epoch_rows() is None


def test_epoch_cap_auto_follows_the_width():
    det = DUAD()
    det.architecture_ = {"n_features": 4096}
    assert det._epoch_rows() == 4096
    det.architecture_ = {"n_features": 118}
    assert det._epoch_rows() == (1 << 24) // 118
    with pytest.raises(ValueError, match="max_epoch_rows"):
        DUAD(max_epoch_rows=0)._check_params()


def test_float32_throughout_and_no_copy_without_scaling():
    X, _ = blobs()
    det = DUAD(**SMALL, input_scaling="none", random_state=0)
    assert det.set_params(input_scaling="none")._transform(X) is X
    det.input_scaling = "row"
    out = det._transform(X)
    assert out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)


def test_result_from_labels_is_exact_for_tight_components():
    """Chunked float64 over float32 rows keeps a 1e-8 variance (KDDCUP99's duplicate traffic)."""
    rng = np.random.default_rng(0)
    X = np.vstack([0.5 + 1e-4 * rng.standard_normal((3000, 3)), rng.standard_normal((500, 3))]).astype(np.float32)
    labels = np.r_[np.zeros(3000, int), np.ones(500, int)]
    res = result_from_labels(X, labels)
    want = [((X[labels == k].astype(np.float64) - X[labels == k].astype(np.float64).mean(0)) ** 2).sum(1).mean()
            for k in (0, 1)]
    np.testing.assert_allclose(res.variances, want, rtol=1e-6)
    assert 1e-9 < res.variances[0] < 1e-7


# ---------------------------------------------------------------- the benchmark's machinery
def test_growth_slope_and_projection():
    from videoad.bench.scale import _project, slope

    lin = [(1000, 1.0), (4000, 4.0), (16000, 16.0)]
    quad = [(1000, 1.0), (4000, 16.0), (16000, 256.0)]
    assert slope(lin) == pytest.approx(1.0)
    assert slope(quad) == pytest.approx(2.0)
    assert slope(lin[:1]) is None
    assert _project(quad, 64000) == pytest.approx(256.0 * 16)
    assert _project([(1000, 2.0)], 4000) == pytest.approx(8.0)
    # past a fit cap the time grows slower than the rows: the projection follows the slope
    capped = [(8000, 40.0), (16000, 50.0)]
    assert _project(capped, 64000) == pytest.approx(50.0 * 4 ** np.log2(50 / 40), rel=1e-6)
    assert _project(capped, 64000) < 50.0 * 4


def test_mixture_is_float32_and_seeded():
    from videoad.bench.scale import mixture

    a, b = mixture(500, 33, seed=1), mixture(500, 33, seed=1)
    assert a.dtype == np.float32 and a.shape == (500, 33) and (a >= 0).all()
    np.testing.assert_array_equal(a, b)


def test_bench_scale_measures_in_child_processes(tmp_path):
    from click.testing import CliRunner

    from videoad.bench.scale import scale_cmd

    res = CliRunner().invoke(scale_cmd, ["--datasets", "mix255,cells15", "--methods", "PCA,DC exact", "--rows",
                                         "300,600", "--threads", "1", "--out", str(tmp_path), "--name", "t"])
    assert res.exit_code == 0, res.output
    payload = json.loads((tmp_path / "t.json").read_text())
    ok = [r for r in payload["results"] if r["status"] == "ok"]
    assert len(ok) == 8 and {r["cols"] for r in ok} == {255, 15}
    for r in ok:
        assert r["peak_rss"] >= r["rss_before"] > r["data_bytes"] > 0
        assert r["seconds"] > 0 and r["rows"] in (300, 600)
    assert {s["method"] for s in payload["summary"]} == {"PCA", "DC exact"}
    md = (tmp_path / "t.md").read_text()
    assert "| PCA |" in md and "time slope" in md
    assert payload["meta"]["environment"]["torch_threads"] == 1  # the children's, not this process's


def test_rows_past_kddcups_size_are_its_size_measured_once(monkeypatch):
    """--rows 4000,600000 on KDDCUP99 fitted all 494,021 rows under the name 600000, then again as
    494,021: two measurements of one size, the table showing the first."""
    from videoad.bench import scale

    asked = []

    def child(spec, timeout):
        asked.append(spec["rows"])
        return {**spec, "status": "ok", "seconds": 1.0, "peak_rss": 2, "rss_before": 1, "data_bytes": 1}

    monkeypatch.setattr(scale, "run_child", child)
    scale.ladder(["PCA"], ["kdd"], [4000, 600000], 1, 1e9, 60, Path("kdd.npz"), log=lambda *a: None)
    assert asked == [4000, scale.KDD_ROWS]


def test_the_peak_is_the_fits_not_building_the_data(monkeypatch):
    """A measurement whose data were built with a large temporary (as loading KDDCUP99's whole file
    is): the reported peak is the fit's, not the process's high-water mark since it started (every
    kdd cell read 1.17 GB for a PCA on 1,000 rows)."""
    import numpy as np

    from videoad.bench import scale

    built = scale.mixture

    def mixture_with_a_temporary(n, d):
        temporary = np.ones((256 * 2**20 // 8,))  # 256 MB touched, then freed
        del temporary
        return built(n, d)

    monkeypatch.setattr(scale, "mixture", mixture_with_a_temporary)
    out = scale.measure({"method": "PCA", "dataset": "mix255", "rows": 500, "cols": 255, "threads": 1})
    assert out["peak_kernel"] is not None  # Linux resets the high-water mark
    assert out["peak_rss"] - out["rss_before"] < 32 * 2**20, out


def test_cells15_is_the_motion_cell_rows_fit():
    """The default video fit on motion features is over grid-cell rows, 15 wide, with the motion
    DUAD settings: the scale benchmark's `cells15` measures exactly that."""
    from videoad.bench.scale import DATASETS, duad_params
    from videoad.video import DUAD_BY_FEATURES

    assert "cells15" in DATASETS
    assert duad_params("cells15") == dict(DUAD_BY_FEATURES["motion"]) == duad_params("mix255")
    assert duad_params("mix4096") == dict(DUAD_BY_FEATURES["learned"])


def test_fit_on_a_subsample_scores_every_row():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    basis = rng.standard_normal((2, 10))
    X = np.vstack([rng.standard_normal((900, 2)) @ basis + 5.0 + 0.05 * rng.standard_normal((900, 10)),
                   5.0 + 3.0 * rng.standard_normal((45, 10))]).astype(np.float32)
    y = np.r_[np.zeros(900), np.ones(45)]
    for score in ("angle", "knn"):
        det = DUAD(**SMALL, max_fit_rows=300, score=score, keep_selection_history=True, random_state=0).fit(X)
        assert det.n_fit_rows_ == 300 and det.decision_scores_.shape == (945,)
        assert det.selection_.shape == (945,) and det.selection_.sum() <= 300
        assert all(h["mask"].shape == (945,) for h in det.history_)
        assert det.history_[-1]["selected"] == det.selection_.sum()
        assert roc_auc_score(y, det.decision_scores_) > 0.9
        np.testing.assert_allclose(det.decision_function(X[~det.selection_][:20]),
                                   det.decision_scores_[~det.selection_][:20], rtol=1e-5)
    assert DUAD(**SMALL, random_state=0).fit(X).n_fit_rows_ == 945
    det = DUAD()
    det.architecture_ = {"n_features": 4096}
    assert det._fit_rows_cap() == 8192


def test_bench_scale_settings_come_from_its_file_then_the_options(tmp_path):
    import yaml
    from click.testing import CliRunner

    from videoad.bench.scale import load_config, scale_cmd

    assert load_config()["rows"] == [1000, 4000, 16000, 69000, 200000]
    mine = tmp_path / "mine.yaml"
    mine.write_text("datasets: [mix255]\nmethods: [PCA]\nrows: [300, 600]\nthreads: 1\nname: fromfile\n")
    res = CliRunner().invoke(scale_cmd, ["--config", str(mine), "--rows", "400", "--print-config"])
    assert res.exit_code == 0, res.output
    printed = yaml.safe_load(res.output)
    assert printed["rows"] == [400] and printed["methods"] == ["PCA"] and printed["name"] == "fromfile"
    # the file's settings drive the run: one size, one method, the file's name
    res = CliRunner().invoke(scale_cmd, ["--config", str(mine), "-o", str(tmp_path)])
    assert res.exit_code == 0, res.output
    payload = json.loads((tmp_path / "fromfile.json").read_text())
    assert {(r["method"], r["rows"]) for r in payload["results"]} == {("PCA", 300), ("PCA", 600)}
    mine.write_text("methods: [PCA, Magic]\n")
    res = CliRunner().invoke(scale_cmd, ["--config", str(mine), "--print-config"])
    assert res.exit_code != 0 and "mine.yaml" in res.output and "Magic" in res.output
    mine.write_text("threads: two\n")
    res = CliRunner().invoke(scale_cmd, ["--config", str(mine), "--print-config"])
    assert res.exit_code != 0 and "mine.yaml" in res.output and "threads" in res.output
    # past the week --timeout and --max-seconds take: the file's 1e30 passed and overflowed the child's wait
    for key in ("timeout", "max_seconds"):
        mine.write_text(f"{key}: 1.0e30\n")
        res = CliRunner().invoke(scale_cmd, ["--config", str(mine), "--print-config"])
        assert res.exit_code != 0 and f"mine.yaml: {key} must be > 0, at most 604800 (a week)" in res.output, res.output
    res = CliRunner().invoke(scale_cmd, ["--rows", "1k", "--print-config"])
    assert res.exit_code != 0 and "--rows must be comma-separated whole numbers" in res.output
    # detect's names for the same methods (`--methods duad,pca` was "unknown methods")
    res = CliRunner().invoke(scale_cmd, ["--methods", "duad,pca,iforest,oc-svm,knn,DC_alone", "--print-config"])
    assert res.exit_code == 0 and yaml.safe_load(res.output)["methods"] == [
        "DUAD", "PCA", "IsolationForest", "OC-SVM", "kNN", "DC alone"], res.output


def test_bench_scale_names_the_option_and_fails_when_nothing_was_measured(tmp_path, monkeypatch):
    """`--datasets foo` was blamed on videoad/defaults/scale.yaml, which the user never touched;
    a run whose every measurement timed out wrote an empty table and exited 0, as a success."""
    from click.testing import CliRunner

    from videoad.bench import scale

    res = CliRunner().invoke(scale.scale_cmd, ["--datasets", "foo", "--print-config"])
    assert res.exit_code == 1 and "--datasets: unknown datasets ['foo']; known: mix255" in res.output
    assert "scale.yaml" not in res.output
    res = CliRunner().invoke(scale.scale_cmd, ["--methods", ",", "--print-config"])
    assert res.exit_code == 1 and "--methods: none given" in res.output

    def slow(spec, timeout):
        return {**spec, "status": "timeout", "seconds": timeout}

    monkeypatch.setattr(scale, "run_child", slow)
    res = CliRunner().invoke(scale.scale_cmd, ["--datasets", "mix255", "--methods", "PCA,kNN", "--rows", "300",
                                               "-o", str(tmp_path)])
    assert res.exit_code == 1 and "no measurement finished (2 timeout)" in res.output, res.output
    assert len(json.loads((tmp_path / "scale.json").read_text())["results"]) == 2  # the record is kept all the same

    def one_ok(spec, timeout):
        done = spec["method"] == "PCA"
        return {**spec, "status": "ok" if done else "timeout", "seconds": 1.0, "peak_rss": 2, "rss_before": 1,
                "data_bytes": 1}

    monkeypatch.setattr(scale, "run_child", one_ok)
    res = CliRunner().invoke(scale.scale_cmd, ["--datasets", "mix255", "--methods", "PCA,kNN", "--rows", "300",
                                               "-o", str(tmp_path)])
    assert res.exit_code == 0, res.output


def test_bench_scale_checks_its_name_output_and_kdd_file_before_the_ladder(tmp_path, monkeypatch):
    """`--name ../x` wrote outside -o, `--name a/b` failed after the whole ladder, an -o under a
    file too (a traceback); a KDDCUP99 file of 4,000 rows was reported as 100,000 and 494,021 rows
    fitted on its 4,000, and a broken one failed in every child, each a traceback tail."""
    from click.testing import CliRunner

    from videoad.bench import scale

    def never(spec, timeout):
        raise AssertionError("the ladder ran")

    monkeypatch.setattr(scale, "run_child", never)
    for name in ("../escape", "a/b", "", ".hidden"):
        res = CliRunner().invoke(scale.scale_cmd, ["--datasets", "mix255", "--methods", "PCA", "--rows", "300",
                                                   "--name", name, "-o", str(tmp_path / "o")])
        assert res.exit_code == 1 and "a file name without a folder" in res.output, (name, res.output)
    (tmp_path / "afile").write_text("")
    res = CliRunner().invoke(scale.scale_cmd, ["--datasets", "mix255", "--methods", "PCA", "--rows", "300",
                                               "-o", str(tmp_path / "afile" / "sub")])
    assert res.exit_code == 2 and "afile' is a file, not a folder" in res.output and "Traceback" not in res.output
    (tmp_path / "cut.npz").write_bytes(b"PK\x03\x04 cut short")
    res = CliRunner().invoke(scale.scale_cmd, ["--datasets", "kdd", "--methods", "PCA", "--rows", "1000",
                                               "--data", str(tmp_path / "cut.npz"), "-o", str(tmp_path / "o")])
    assert res.exit_code == 1 and "cut.npz: not a readable .npz file" in res.output
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "small.npz", kdd=np.c_[rng.random((4000, 5)), rng.random(4000) < 0.2])
    asked = []

    def child(spec, timeout):
        asked.append(spec["rows"])
        return {**spec, "status": "ok", "seconds": 1.0, "peak_rss": 2, "rss_before": 1, "data_bytes": 1}

    monkeypatch.setattr(scale, "run_child", child)
    res = CliRunner().invoke(scale.scale_cmd, ["--datasets", "kdd", "--methods", "PCA", "--rows", "1000,100000",
                                               "--data", str(tmp_path / "small.npz"), "-o", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert asked == [1000, 4000] and "100000 rows" not in res.output


def test_bench_scale_names_a_full_disk_at_its_results_write(tmp_path, monkeypatch):
    """The results write on a full disk ended in OutputError's traceback; now the file and the problem."""
    import errno
    import os

    from click.testing import CliRunner

    from videoad.bench import scale

    monkeypatch.setattr(scale, "run_child", lambda spec, timeout: {**spec, "status": "ok", "seconds": 1.0,
                                                                    "peak_rss": 2, "rss_before": 1, "data_bytes": 1})

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    res = CliRunner().invoke(scale.scale_cmd, ["--datasets", "mix255", "--methods", "PCA", "--rows", "300",
                                               "-o", str(tmp_path)])
    assert res.exit_code == 1 and not isinstance(res.exception, OSError), res.output
    assert "scale.partial.json: no space left" in res.output.lower(), res.output


def test_bench_scale_takes_a_data_folder_when_no_dataset_reads_it(tmp_path, monkeypatch):
    """A copy of configs/scale.yaml without kdd, run with `--data FOLDER` as the README's commands
    give it, failed before the ladder with "FOLDER: no such file" (the folder was opened as the
    KDDCUP99 file, which no dataset of the run reads)."""
    from click.testing import CliRunner

    from videoad.bench import scale

    def child(spec, timeout):
        return {**spec, "status": "ok", "seconds": 1.0, "peak_rss": 2, "rss_before": 1, "data_bytes": 1}

    monkeypatch.setattr(scale, "run_child", child)
    data = tmp_path / "data"
    (data / "kddcup99").mkdir(parents=True)
    mine = tmp_path / "mine.yaml"
    mine.write_text("datasets: [mix255]\nmethods: [PCA]\nrows: [300]\n")
    res = CliRunner().invoke(scale.scale_cmd, ["--config", str(mine), "--data", str(data), "-o", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert [r["dataset"] for r in json.loads((tmp_path / "o" / "scale.json").read_text())["results"]] == ["mix255"]
