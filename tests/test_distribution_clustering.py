"""Distribution Clustering: recovery on high-dimensional mixtures, the size rule, determinism,
the subsample-and-attach path, agreement with a plain re-statement of the algorithm, bad input,
and the DC-alone detector."""
from __future__ import annotations


import numpy as np
import pytest
import torch
from sklearn.metrics import adjusted_rand_score, roc_auc_score

import videoad.detector.distribution_clustering as dcmod
from videoad.baselines.dc_alone import DCAlone
from videoad.detector.clustering import make_clusterer, select_normal
from videoad.detector.distribution_clustering import DCClusterer, distribution_clustering

from _paths import shared  # noqa: E402


def mixture(d=2048, n=80, sigmas=(0.5, 1.0, 1.5), n_scatter=12, seed=0):
    """Three Gaussians of increasing spread around nearby centres, plus scattered points that
    each sit at their own place between two centres with their own spread (no shared profile)."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=d)
    X, y, centres = [], [], []
    for k, s in enumerate(sigmas):
        centre = base + rng.normal(size=d)
        centres.append(centre)
        X.append(centre + s * rng.normal(size=(n, d)))
        y += [k] * n
    for s in np.geomspace(0.3, 1.5, n_scatter):
        i, j = rng.choice(len(sigmas), 2, replace=False)
        w = rng.uniform(0.2, 0.8)
        X.append(w * centres[i] + (1 - w) * centres[j] + s * rng.normal(size=(1, d)))
        y.append(-1)
    X, y = np.vstack(X), np.array(y)
    perm = rng.permutation(y.size)
    return X[perm].astype(np.float32), y[perm]


def naive_dc(X, thres=0.07, min_size=5, max_dist=2.0):
    """The algorithm of method-notes 1.5 written plainly: every pair in order, full rows, no
    bounds; growth sweeps add all passing rows at once (as the vectorised version does)."""
    Xn = torch.as_tensor(X / np.linalg.norm(X, axis=1, keepdims=True), dtype=torch.float32)
    D = (2.0 - 2.0 * Xn @ Xn.T).clamp(0.0, 4.0)
    D.fill_diagonal_(0.0)
    D = D.numpy().astype(np.float64)
    n = D.shape[0]
    iu, ju = np.triu_indices(n, 1)
    order = np.argsort(D[iu, ju], kind="stable")
    labels = np.zeros(n, dtype=int)

    def grow(S, c):
        prof = D[S].copy()
        prof[np.arange(len(S)), S] = c
        v = prof.mean(0)
        while True:
            add = []
            for k in range(n):
                if labels[k] or k in S:
                    continue
                row = D[k].copy()
                row[k] = c
                if np.abs(v - row).mean() < thres and abs(D[k, S].mean() - c) < thres:
                    add.append(k)
            if not add:
                return S
            S = S + add

    n_clusters = 0
    for p in order:
        i, j = iu[p], ju[p]
        m = D[i, j]
        if m >= max_dist:
            break
        if labels[i] or labels[j] or m == 0:
            continue
        if (np.abs(D[i] - D[j]).sum() - 2 * m) / n >= thres:
            continue
        S = grow([i, j], m)
        c = D[np.ix_(S, S)].sum() / (len(S) ** 2 - len(S))
        S = grow(S, c)
        if len(S) > min_size:
            n_clusters += 1
            labels[S] = n_clusters
    return labels


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recovers_clusters_in_increasing_variance_and_leaves_scatter_out(seed):
    X, y = mixture(seed=seed)
    out = distribution_clustering(X)
    assert out.n_clusters == 3
    for k in range(3):
        members = y[out.labels == k + 1]
        assert (members == k).all(), f"cluster {k + 1} is not pure: {np.bincount(members + 1)}"
        assert members.size >= 78  # of 80; a stray member may stay unclustered
    assert (out.labels[y == -1] == 0).all(), "scattered points must stay unclustered"
    assert np.all(np.diff(out.variances) > 0) and np.all(np.diff(out.intra_dist) > 0)
    assert out.info["n_unclustered"] == int((out.labels == 0).sum())


def test_min_size_is_strict():
    rng = np.random.default_rng(3)
    d = 1024
    groups = [rng.normal(size=d) * 3 + 0.3 * rng.normal(size=(m, d)) for m in (5, 6, 40)]
    X = np.vstack(groups).astype(np.float32)
    truth = np.repeat([0, 1, 2], [5, 6, 40])
    out = distribution_clustering(X, min_size=5)
    sizes = np.bincount(out.labels, minlength=out.n_clusters + 1)[1:]
    assert (sizes > 5).all()
    assert (out.labels[truth == 0] == 0).all(), "a group of exactly min_size rows is not a cluster"
    assert sorted(sizes.tolist()) == [6, 40]
    out4 = distribution_clustering(X, min_size=4)
    assert sorted(np.bincount(out4.labels)[1:].tolist()) == [5, 6, 40]
    out40 = distribution_clustering(X, min_size=40)
    assert out40.n_clusters == 0 and (out40.labels == 0).all()


def test_same_seed_same_labels_and_seed_reaches_the_subsample():
    X, _ = mixture(d=1024, seed=4)
    a = distribution_clustering(X, max_rows=150, random_state=7)
    b = distribution_clustering(X, max_rows=150, random_state=7)
    c = distribution_clustering(X, max_rows=150, random_state=8)
    assert np.array_equal(a.labels, b.labels) and np.allclose(a.variances, b.variances)
    assert a.info["subsampled"] and a.info["n_fit"] == 150
    sub_a = distribution_clustering(X, max_rows=150, random_state=7, return_model=True)[1].Xn_fit
    sub_c = distribution_clustering(X, max_rows=150, random_state=8, return_model=True)[1].Xn_fit
    assert not torch.equal(sub_a, sub_c), "a different seed must draw a different subsample"
    assert c.info["subsampled"]


@pytest.mark.parametrize("seed", [0, 1])
def test_subsample_and_attach_agrees_with_full(seed):
    X, y = mixture(seed=seed)
    full = distribution_clustering(X, max_rows=None)
    sub = distribution_clustering(X, max_rows=120, random_state=seed)
    assert not full.info["subsampled"] and sub.info["subsampled"]
    assert sub.info["n_fit"] == 120 and sub.info["n_attached"] > 100
    assert adjusted_rand_score(full.labels, sub.labels) > 0.95
    assert sub.n_clusters == full.n_clusters
    assert (sub.labels[y == -1] == 0).all(), "attaching must apply both tests, not nearest cluster"


@pytest.mark.parametrize("data", ["mixture", "mnist"])
def test_fast_path_equals_plain_algorithm(data, monkeypatch):
    """Bounds, bands and slices are exact shortcuts: same labels as the plain statement."""
    if data == "mixture":
        X, _ = mixture(d=512, n=60, seed=5)  # fragments at this dimension: many seeds, many paths
        thres = 0.07
    else:
        from videoad.datasets.images import load_mnist

        X = load_mnist(shared("mnist")).images[:260].reshape(260, -1).astype(np.float32) / 255
        thres = 0.12
    monkeypatch.setattr(dcmod, "_CHUNK", 17)
    monkeypatch.setattr(dcmod, "_BAND_PAIRS", 700)
    monkeypatch.setattr(dcmod, "_GROUP_LEVELS", (4, 16))
    fast = distribution_clustering(X, thres=thres, max_rows=None)
    assert fast.n_clusters >= 3
    assert np.array_equal(fast.labels, naive_dc(X, thres=thres))


def test_max_dist_stops_early():
    X, _ = mixture(d=1024, seed=1)
    assert distribution_clustering(X, max_dist=0.01).n_clusters == 0
    out = distribution_clustering(X, max_dist=0.5)  # only the tightest cluster has pairs this close
    assert out.n_clusters == 1


@pytest.mark.parametrize("bad, match", [
    (np.array([[1.0, np.nan], [0.5, 0.2], [0.1, 0.1]]), "NaN"),
    (np.ones(10), "2-D"),
    (np.array([[0.0, 0.0], [1.0, 2.0], [2.0, 1.0]]), "all zero"),
    (np.array([["a", "b"], ["c", "d"]]), "numeric"),
    (np.ones((1, 4)), "rows"),
])
def test_bad_input_is_a_clear_error(bad, match):
    with pytest.raises(ValueError, match=match):
        distribution_clustering(bad)


def test_data_in_tiny_units_is_not_called_all_zero():
    """An absolute floor (1e-12 when the largest row is shorter than 1) called every row of X * 1e-15
    zero; through DUAD the clusterer then fell back to every row, silently."""
    X, _ = mixture(d=64, seed=2)
    tiny = distribution_clustering(X * 1e-15)
    np.testing.assert_array_equal(tiny.labels, distribution_clustering(X).labels)


@pytest.mark.parametrize("kw, match", [
    (dict(thres=0.0), "thres"), (dict(thres=-1), "thres"), (dict(min_size=0), "min_size"),
    (dict(min_size=2.5), "min_size"), (dict(max_dist=5.0), "max_dist"), (dict(max_rows=5), "max_rows"),
])
def test_bad_parameters_are_clear_errors(kw, match):
    X, _ = mixture(d=64, n=10, n_scatter=2)
    with pytest.raises(ValueError, match=match):
        distribution_clustering(X, **kw)


def test_center_rejects_rows_equal_to_the_mean():
    X = np.array([[1.0, 2.0], [3.0, 4.0], [2.0, 3.0]])
    with pytest.raises(ValueError, match="column mean"):
        distribution_clustering(X, center=True)


def test_clusterer_adapter_shifts_labels_and_feeds_selection():
    X, y = mixture(seed=2)
    res = make_clusterer("dc", thres=0.07)(X, 0)
    assert isinstance(make_clusterer("dc"), DCClusterer)
    out = distribution_clustering(X)
    assert np.array_equal(res.labels, out.labels - 1)
    assert np.allclose(res.variances, out.variances)
    assert np.isnan(res.row_dist[res.labels < 0]).all() and np.isfinite(res.row_dist[res.labels >= 0]).all()
    keep = select_normal(res, 34, rule="component")  # drops the widest of the three clusters
    assert not keep[y == 2].any() and keep[y == 0].all() and not keep[y == -1].any()


def test_dc_alone_scores_unclustered_and_wide_clusters_highest():
    X, y = mixture(seed=3)
    det = DCAlone(random_state=0).fit(X)
    s = det.decision_scores_
    assert s[y == -1].min() > s[y >= 0].max()
    assert s[y == 2].mean() > s[y == 1].mean() > s[y == 0].mean()
    assert roc_auc_score(y == -1, s) == 1.0
    # new rows: a copy of a tight-cluster row and a point far from everything
    rng = np.random.default_rng(0)
    fresh = np.vstack([X[y == 0][:1], rng.normal(size=(1, X.shape[1])) * 5]).astype(np.float32)
    f = det.decision_function(fresh)
    assert f[0] < s[y == 1].min() and f[1] > s[y >= 0].max()
    with pytest.raises(ValueError, match="features"):
        det.decision_function(X[:, :10])


def test_dc_alone_centres_block_by_block_equal_the_whole_mean(monkeypatch):
    """The cluster centres are summed a block of rows at a time (no float64 copy of the data);
    with tiny blocks they equal the mean over all rows of each cluster."""
    import videoad.baselines.dc_alone as dc_alone
    import videoad.detector.distribution_clustering as dc

    X, _ = mixture(seed=3)
    whole = DCAlone(random_state=0).fit(X)
    monkeypatch.setattr(dc, "rows_per_block", lambda d: 7)
    blocks = DCAlone(random_state=0).fit(X)
    labels = whole.labels_dc_
    Xn = X / np.linalg.norm(X.astype(np.float64), axis=1, keepdims=True)
    expected = np.stack([Xn[labels == c].mean(0) for c in range(1, labels.max() + 1)])
    np.testing.assert_allclose(blocks.centres_, expected, atol=1e-6)
    np.testing.assert_allclose(blocks.decision_scores_, whole.decision_scores_, rtol=1e-9, atol=1e-12)
    # nothing clustered: one centre, the mean row
    monkeypatch.setattr(dc, "rows_per_block", lambda d: 5)
    np.testing.assert_allclose(dc_alone._centres(Xn.astype(np.float32), np.zeros(len(X), dtype=np.int64), 0),
                               Xn.mean(0, keepdims=True), atol=1e-6)
