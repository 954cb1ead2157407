"""Distribution Clustering (Lin, Liu, Lai, Matsushita, CVPR 2018), vectorised.

Why this clusterer: in high dimension the points of one distribution sit on a thin shell, so a
point's whole row of distances (its "profile") is nearly the same for every member of its
distribution. DC grows one cluster at a time from the closest free pair, admitting a point when
its profile matches the cluster's mean profile (second-order distance) *and* its mean distance to
the members matches the cluster's typical distance. Compact distributions are peeled off first,
so clusters come out in increasing order of variance, and points that belong to no compact
distribution stay unclustered -- which is what DUAD's initial normal subset needs.

Algorithm as in `shared/research/method-notes.md` section 1.5 (reconstructed from the authors'
MATLAB release): L2-normalised rows, squared Euclidean distances, seed pairs in increasing
distance, a pair test and two growth passes with one `thres`, clusters kept only when larger
than `min_size`, stop when the closest free pair is at least `max_dist` apart.

Vectorisation (not bit-identical to the release, same fixed point in the common case):
- a sweep admits every passing candidate at once, then repeats until nothing is added;
- seed pairs are enumerated lazily in distance bands over the free rows only, and the pair
  test is done in small batches behind exact lower bounds (row means, then sums over column
  groups: `_Bounds`), so most failing pairs never read a full row;
- a candidate's profile distance to the (fixed) signature of a pass is computed once, behind
  the same group bound.
The labels equal those of a plain statement of the algorithm (tests/test_distribution_clustering.py).

Memory guard: the N x N distance matrix is the cost. Above `max_rows` a seeded subsample is
clustered and every other row is attached to a cluster by the same two tests (best profile
match), else left unclustered; `info["subsampled"]` says so.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from extract.device import resolve_device
from videoad.detector.base import resolve_seed
from videoad.detector.clustering import ClusterResult, group_add, result_from_labels, rows_per_block
from videoad.detector.validation import check_count, check_matrix

# rows of a distance block processed at once (bounds temporary memory to _CHUNK x N floats)
_CHUNK = 1024
# pairs sorted per band of the lazy seed enumeration
_BAND_PAIRS = 1_000_000
# column-group sizes of the lower bounds (`_Bounds`); a level is used when N >= 8 * groups
_GROUP_LEVELS = (16, 128)


@dataclass
class DCOutput:
    """What `distribution_clustering` returns.

    labels: (n,) int64, 0 = unclustered, 1..k in the order found (increasing variance).
    variances: (k,) trace variance mean ||x - centre||^2 of each cluster, in the L2-normalised
        space DC works in (the quantity the GMM reselection of DUAD uses too).
    intra_dist: (k,) DC's own measure, the mean pairwise squared distance of the members
        (= 2|S|/(|S|-1) x variance).
    info: diagnostics (counts of seeds examined/rejected, stop reason, subsampling, timing).
    """

    labels: np.ndarray
    variances: np.ndarray
    intra_dist: np.ndarray
    info: dict = field(default_factory=dict)

    @property
    def n_clusters(self) -> int:
        return int(self.variances.shape[0])


def _check_params(thres, min_size, max_dist, max_rows, attach_columns=None) -> None:
    """Each a number (never a bool: `thres: true` was read as 1) in its range; counts whole
    (`validation.check_count`: `4.0` from a settings file is 4)."""
    if not (_real(thres) and 0.0 < float(thres) < 4.0):
        raise ValueError(f"thres must be a number in (0, 4) (squared distances of unit vectors), got {thres!r}")
    check_count(min_size, "min_size", at_least=1)
    if not (_real(max_dist) and 0.0 < float(max_dist) <= 4.0):
        raise ValueError(f"max_dist must be in (0, 4] (squared distances of unit vectors), got {max_dist!r}")
    check_count(max_rows, "max_rows", at_least=2 * (int(min_size) + 1), words=(None,),
                what=" (at least 2 * (min_size + 1))")
    check_count(attach_columns, "attach_columns", at_least=2, words=(None,))


def _real(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def normalise_rows(X, center: bool = False, mean: np.ndarray | None = None) -> np.ndarray:
    """L2-normalise rows (optionally after removing the column means, or the given `mean`);
    zero rows are an error. float32 in, float32 out, chunk by chunk: no float64 copy of X."""
    X = check_matrix(X, min_rows=2)
    if center and mean is None:
        mean = column_mean(X)
    out = np.empty_like(X)
    norms = np.empty(X.shape[0])
    for s in range(0, X.shape[0], rows_per_block(X.shape[1])):
        block = X[s:s + rows_per_block(X.shape[1])].astype(np.float64)
        if mean is not None:
            block -= mean
        nb = np.sqrt(np.einsum("ij,ij->i", block, block))
        norms[s:s + block.shape[0]] = nb
        out[s:s + block.shape[0]] = block / np.where(nb > 0, nb, 1.0)[:, None]
    # relative to the largest row: data measured in tiny units (1e-15) is not "all zero"
    zero = np.flatnonzero((norms == 0) | (norms <= 1e-12 * float(norms.max(initial=0.0))))
    if zero.size:
        what = "equal to the column mean" if center else "all zero"
        raise ValueError(
            f"X has {zero.size} rows that are {what} (first: row {zero[0]}); Distribution Clustering "
            "L2-normalises rows, so drop or perturb them"
        )
    return out


def column_mean(X: np.ndarray) -> np.ndarray:
    """Column means accumulated in float64, chunk by chunk."""
    total = np.zeros(X.shape[1])
    for s in range(0, X.shape[0], rows_per_block(X.shape[1])):
        total += X[s:s + rows_per_block(X.shape[1])].sum(0, dtype=np.float64)
    return total / X.shape[0]


def label_means(Xn: np.ndarray, labels: np.ndarray, n_labels: int) -> tuple[np.ndarray, np.ndarray]:
    """(float64 mean row of each label 0..n_labels-1, row counts), block by block: no float64
    copy of the rows (at 200,000 x 4,096 one would be 6.5 GB). A label with no row has mean 0."""
    sums = np.zeros((n_labels, Xn.shape[1]))
    counts = np.bincount(labels, minlength=n_labels).astype(np.float64)
    step = rows_per_block(Xn.shape[1])
    for s in range(0, Xn.shape[0], step):
        group_add(sums, labels[s:s + step], Xn[s:s + step].astype(np.float64))
    return sums / np.maximum(counts, 1.0)[:, None], counts


def trace_variances(Xn: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """mean ||x - centre||^2 of the rows labelled 1..k, in float64 over float32 rows (two
    chunked passes: centres, then squared distances; exact differences, no cancellation)."""
    centres, counts = label_means(Xn, labels, k + 1)
    step = rows_per_block(Xn.shape[1])
    sq = np.zeros(k + 1)
    for s in range(0, Xn.shape[0], step):
        lab = labels[s:s + step]
        diff = Xn[s:s + step].astype(np.float64) - centres[lab]
        sq += np.bincount(lab, weights=np.einsum("ij,ij->i", diff, diff), minlength=k + 1)
    return (sq / np.maximum(counts, 1.0))[1:]



def _sq_dists(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """Squared distances of unit rows: 2 - 2 cos, clamped to [0, 4]."""
    return (2.0 - 2.0 * (A @ B.T)).clamp_(0.0, 4.0)


def _upper_blocks(D: torch.Tensor, idx: torch.Tensor):
    """Yield (rows, block, mask) over the rows idx: block = D[rows][:, idx], mask = column > row."""
    full = idx.numel() == D.shape[0]
    for s in range(0, idx.numel(), _CHUNK):
        rows = idx[s:s + _CHUNK]
        block = D[s:s + _CHUNK] if full else D[rows][:, idx]
        yield rows, block, idx[None, :] > rows[:, None]


def _pair_bands(D: torch.Tensor, free: torch.Tensor, max_dist: float):
    """Yield (i, j, d) tensors of free pairs i < j with d < max_dist, sorted by d, band by band.

    Band edges come from one histogram of all pairs (about _BAND_PAIRS pairs per band); each
    band is extracted by one scan over the rows still free, so consumed rows drop out of later
    scans and no N^2 list of pairs is ever held. Ties keep row-major (i, j) order.
    """
    bins = 4096
    hist = torch.zeros(bins, dtype=torch.float64, device=D.device)
    for _, block, upper in _upper_blocks(D, torch.arange(D.shape[0], device=D.device)):
        vals = block[upper & (block < max_dist)]
        if vals.numel():
            hist += torch.histc(vals, bins=bins, min=0.0, max=max_dist).double()
    cum = torch.cumsum(hist, 0).cpu().numpy()
    if cum[-1] == 0:
        return
    width = max_dist / bins
    edges, last = [], 0.0
    for k in range(bins):
        if cum[k] - last >= _BAND_PAIRS or k == bins - 1:
            edges.append((k + 1) * width)
            last = cum[k]
    lo = -1.0
    for b, hi in enumerate(edges):
        final = b == len(edges) - 1
        idx = torch.nonzero(free).squeeze(1)
        if idx.numel() < 2:
            return
        ii, jj, dd = [], [], []
        for rows, block, upper in _upper_blocks(D, idx):
            m = upper & (block > lo) & (block < max_dist)
            if not final:
                m &= block <= hi
            r, c = torch.nonzero(m, as_tuple=True)
            ii.append(rows[r])
            jj.append(idx[c])
            dd.append(block[r, c])
        d = torch.cat(dd)
        order = torch.argsort(d, stable=True)
        yield torch.cat(ii)[order], torch.cat(jj)[order], d[order]
        lo = hi


class _Bounds:
    """Column groups that turn O(N) profile comparisons into O(G) exact lower bounds.

    For any partition of the columns, sum_g |sum_{j in g} (a_j - b_j)| <= sum_j |a_j - b_j|
    (triangle inequality). Rows of nearby points differ smoothly across nearby columns
    (D_ik - D_jk = 2 (x_j - x_i) . x_k), so groups of nearby columns keep the bound tight: on
    MNIST pixels 128 groups reject > 97 % of the failing pairs without reading a full row.
    Groups are Voronoi cells of farthest-point sites (deterministic); coarser levels use a
    prefix of the same sites.
    """

    def __init__(self, D: torch.Tensor):
        n = D.shape[0]
        self.levels = [g for g in _GROUP_LEVELS if 8 * g <= n]
        self.sums, self.labels = [], []
        if not self.levels:
            return
        g_max = self.levels[-1]
        sites = [int(torch.argmax(D.sum(1)))]
        mind = D[sites[0]].clone()
        for _ in range(g_max - 1):
            nxt = int(torch.argmax(mind))
            sites.append(nxt)
            mind = torch.minimum(mind, D[nxt])
        site_rows = D[torch.as_tensor(sites, device=D.device)]
        for g in self.levels:
            lab = torch.argmin(site_rows[:g], dim=0)
            gs = torch.zeros(n, g, dtype=D.dtype, device=D.device)
            for s in range(0, n, _CHUNK):
                gs[s:s + _CHUNK].index_add_(1, lab, D[s:s + _CHUNK])
            self.labels.append(lab)
            self.sums.append(gs)

    def pair_maybe(self, bi, bj, bd, n: int, thres: float) -> torch.Tensor:
        """Indices of pairs whose pair-test lower bounds all stay below thres."""
        keep = torch.arange(bi.numel(), device=bi.device)
        for gs in self.sums:
            if keep.numel() == 0:
                break
            lb = ((gs[bi[keep]] - gs[bj[keep]]).abs().sum(1) - 2 * bd[keep]) / n
            keep = keep[lb < thres]
        return keep

    def sod_maybe(self, rows, v: torch.Tensor, c: float, n: int, thres: float) -> torch.Tensor:
        """Mask over `rows`: lower bound of the profile distance to signature v below thres."""
        if not self.sums:
            return torch.ones(rows.numel(), dtype=torch.bool, device=rows.device)
        gs, lab = self.sums[-1], self.labels[-1]
        vs = torch.zeros(gs.shape[1], dtype=v.dtype, device=v.device).index_add_(0, lab, v)
        rs = gs[rows]
        rs[torch.arange(rows.numel(), device=rows.device), lab[rows]] += c  # own column holds c
        return (rs - vs[None, :]).abs().sum(1) / n < thres


class _Grower:
    """The growth passes for one seed pair, over a fixed distance matrix (symmetric: rows are
    read instead of columns)."""

    def __init__(self, D: torch.Tensor, thres: float, bounds: _Bounds):
        self.D = D
        self.n = D.shape[0]
        self.thres = thres
        self.bounds = bounds

    def grow(self, S: torch.Tensor, sumS: torch.Tensor, size: int, c: float, free: torch.Tensor):
        """One pass: signature fixed, members' mean distance re-read after each sweep."""
        D, n, thres = self.D, self.n, self.thres
        v = (sumS + c * S.to(sumS.dtype)) / size
        # profile distance per row for this pass's signature; nan = not computed, inf = bound failed
        sod = torch.full((n,), float("nan"), dtype=D.dtype, device=D.device)
        while True:
            t = sumS / size
            local = free & ~S & ((t - c).abs() < thres)
            idx = torch.nonzero(local & torch.isnan(sod)).squeeze(1)
            if idx.numel():
                maybe = self.bounds.sod_maybe(idx, v, c, n, thres)
                sod[idx[~maybe]] = float("inf")
                idx = idx[maybe]
            for s in range(0, idx.numel(), _CHUNK):
                rows = idx[s:s + _CHUNK]
                diff = (D[rows] - v[None, :]).abs().sum(1)
                # a candidate's own column holds c, not 0, in its profile
                diff = diff - v[rows].abs() + (v[rows] - c).abs()
                sod[rows] = diff / n
            add = local & (sod < thres)
            add_idx = torch.nonzero(add).squeeze(1)
            if add_idx.numel() == 0:
                return S, sumS, size
            S = S | add
            sumS = sumS + D[add_idx].sum(0)
            size += int(add_idx.numel())


def _pair_test(D, row_mean, bounds: _Bounds, bi, bj, bd, thres: float) -> torch.Tensor:
    """Indices of the pairs passing the pair test, mean |D_i - D_j| with D_ij, D_ji zeroed,
    i.e. (L1(D_i, D_j) - 2 m) / n < thres. Exact lower bounds first (row means, then column
    groups), full rows only for the pairs that survive them."""
    n = D.shape[0]
    lb = ((row_mean[bi] - row_mean[bj]).abs() * n - 2 * bd) / n
    maybe = torch.nonzero(lb < thres).squeeze(1)
    maybe = maybe[bounds.pair_maybe(bi[maybe], bj[maybe], bd[maybe], n, thres)]
    keep = []
    for s in range(0, maybe.numel(), _CHUNK):
        k = maybe[s:s + _CHUNK]
        l1 = (D[bi[k]] - D[bj[k]]).abs().sum(1)
        keep.append(k[(l1 - 2 * bd[k]) / n < thres])
    return torch.cat(keep) if keep else maybe


def _dc_core(D: torch.Tensor, thres: float, min_size: int, max_dist: float):
    """Distribution Clustering on a squared-distance matrix of unit rows.

    Returns labels (0 = none), the member masks, intra-distances and seed statistics.
    """
    n = D.shape[0]
    dev = D.device
    labels = torch.zeros(n, dtype=torch.int64, device=dev)
    free = torch.ones(n, dtype=torch.bool, device=dev)
    row_mean = D.mean(1)
    bounds = _Bounds(D)
    grower = _Grower(D, thres, bounds)
    clusters, intra = [], []
    stats = dict(pairs_seen=0, pairs_failed_pair_test=0, seeds_grown=0, seeds_too_small=0,
                 stop="no free pair closer than max_dist")
    for band_i, band_j, band_d in _pair_bands(D, free, max_dist):
        pos, step = 0, 64
        while pos < band_i.numel():
            # next slice of the band; small slices while clusters are being accepted (their
            # members' pairs drop out), larger ones while seeds keep failing
            bi, bj, bd = band_i[pos:pos + step], band_j[pos:pos + step], band_d[pos:pos + step]
            pos += step
            ok = free[bi] & free[bj] & (bd > 0)
            bi, bj, bd = bi[ok], bj[ok], bd[ok]
            stats["pairs_seen"] += int(bi.numel())
            passed = _pair_test(D, row_mean, bounds, bi, bj, bd, thres)
            stats["pairs_failed_pair_test"] += int(bi.numel() - passed.numel())
            accepted = False
            free_np = free.cpu().numpy()
            for i, j, m in zip(bi[passed].tolist(), bj[passed].tolist(), bd[passed].tolist()):
                if not (free_np[i] and free_np[j]):
                    continue
                stats["seeds_grown"] += 1
                S = torch.zeros(n, dtype=torch.bool, device=dev)
                S[i] = S[j] = True
                S, sumS, size = grower.grow(S, D[i] + D[j], 2, m, free)
                c = float(sumS[S].sum()) / (size * size - size)
                S, sumS, size = grower.grow(S, sumS, size, c, free)
                if size <= min_size:
                    stats["seeds_too_small"] += 1
                    continue
                free &= ~S
                labels[S] = len(clusters) + 1
                clusters.append(S)
                intra.append(float(sumS[S].sum()) / (size * size - size))
                free_np = free.cpu().numpy()
                accepted = True
                if int(free.sum()) < 2:
                    stats["stop"] = "all rows clustered"
                    return labels, clusters, intra, stats
            step = 64 if accepted else min(4 * step, 65536)
    return labels, clusters, intra, stats


def attach_columns_for(n_fit: int, clusters, columns: int | None, seed: int) -> np.ndarray:
    """The fit rows whose distances a row's profile is compared on when attaching.

    The profile distance is a mean over columns, so a seeded subsample of `columns` of them
    estimates it without bias, at columns/n_fit of the cost; every cluster keeps at least
    min(size, 16) of its members among them, for the second test (the mean distance to the
    members). None or n_fit <= columns: all of them.
    """
    if columns is None or n_fit <= int(columns):
        return np.arange(n_fit)
    rng = np.random.default_rng(seed)
    chosen = np.zeros(n_fit, dtype=bool)
    chosen[rng.choice(n_fit, int(columns), replace=False)] = True
    for S in clusters:
        members = np.flatnonzero(S.cpu().numpy())
        missing = min(members.size, 16) - int(chosen[members].sum())
        if missing > 0:
            chosen[rng.choice(members[~chosen[members]], missing, replace=False)] = True
    return np.flatnonzero(chosen)


def _attach(rows_of, n_rows: int, Xn_fit: torch.Tensor, D_fit: torch.Tensor, clusters, intra,
            thres: float, cols: np.ndarray):
    """Attach rows outside the fitted set: both DC tests against each cluster's signature.

    rows_of(start, stop) returns those rows (normalised, on the fit rows' device), so the rows
    are never gathered into one copy. Profiles are compared on the fit rows `cols`
    (`attach_columns_for`). Returns (labels 0..k, best second-order distance); a row passing
    several clusters goes to the one whose profile matches best.
    """
    dev = D_fit.device
    cols_t = torch.as_tensor(cols, device=dev)
    X_cols = Xn_fit[cols_t]
    sigs = []
    for S, c in zip(clusters, intra):
        size = int(S.sum())
        v = (D_fit[:, S].sum(1) + c * S.to(D_fit.dtype)) / size
        sigs.append((v[cols_t], S[cols_t], c))
    best = torch.full((n_rows,), float("inf"), dtype=D_fit.dtype, device=dev)
    lab = torch.zeros(n_rows, dtype=torch.int64, device=dev)
    for s in range(0, n_rows, _CHUNK):
        e = min(s + _CHUNK, n_rows)
        Dr = _sq_dists(rows_of(s, e), X_cols)
        for k, (v, S, c) in enumerate(sigs, start=1):
            sod = (Dr - v[None, :]).abs().mean(1)
            t = Dr[:, S].mean(1)
            ok = (sod < thres) & ((t - c).abs() < thres) & (sod < best[s:e])
            best[s:e] = torch.where(ok, sod, best[s:e])
            lab[s:e] = torch.where(ok, torch.full_like(lab[s:e], k), lab[s:e])
    return lab, best


@dataclass
class DCModel:
    """A fitted clustering that can attach new rows (used by the DC-alone scorer)."""

    Xn_fit: torch.Tensor
    D_fit: torch.Tensor
    clusters: list
    intra: list
    thres: float
    center_: np.ndarray | None
    cols: np.ndarray | None = None

    def attach(self, X) -> tuple[np.ndarray, np.ndarray]:
        X = check_matrix(X, min_rows=1)
        mean = self.center_.ravel() if self.center_ is not None else None
        Xn_np = _normalise_lenient(X, mean)
        Xn = torch.as_tensor(Xn_np, device=self.Xn_fit.device)
        cols = self.cols if self.cols is not None else np.arange(self.D_fit.shape[0])
        lab, best = _attach(lambda s, e: Xn[s:e], Xn.shape[0], self.Xn_fit, self.D_fit, self.clusters,
                            self.intra, self.thres, cols)
        return lab.cpu().numpy(), best.cpu().numpy()


def _normalise_lenient(X: np.ndarray, mean: np.ndarray | None) -> np.ndarray:
    """Like normalise_rows, but a zero row stays zero (it matches no cluster profile)."""
    out = np.empty_like(X)
    step = rows_per_block(X.shape[1])
    for s in range(0, X.shape[0], step):
        block = X[s:s + step].astype(np.float64)
        if mean is not None:
            block -= mean
        nb = np.sqrt(np.einsum("ij,ij->i", block, block))
        out[s:s + step] = block / np.where(nb > 0, nb, 1.0)[:, None]
    return out


def distribution_clustering(X, *, thres: float = 0.07, min_size: int = 5, max_dist: float = 2.0,
                            center: bool = False, max_rows: int | None = 10_000, attach_columns: int | None = 2048,
                            random_state=None, device: str = "cpu", return_model: bool = False):
    """Cluster the rows of X by Distribution Clustering.

    thres: the one threshold of both acceptance tests, in squared-distance units of unit vectors
        (release default 0.07). Smaller fragments clusters, larger absorbs outliers.
    min_size: a grown cluster is kept only when it has MORE than this many members.
    max_dist: stop when the closest free pair is at least this far apart (2 = orthogonal).
    center: subtract the column means before normalising (not in the release; can help
        non-negative inputs whose distances are compressed into [0, 2]).
    max_rows: memory guard; above it a seeded subsample of this size is clustered and the rest
        attached (None = never subsample). float32 distances cost 4 * max_rows^2 bytes.
    attach_columns: attaching compares profiles on at most this many fitted rows (a seeded
        subsample, `attach_columns_for`; None = all): attaching m rows costs m x attach_columns
        distances instead of m x max_rows.
    random_state: seeds the subsample (the algorithm itself is deterministic).
    device: "cpu", "cuda", "auto".
    Returns a `DCOutput` (and the fitted `DCModel` when return_model=True).
    """
    _check_params(thres, min_size, max_dist, max_rows, attach_columns)
    X = check_matrix(X, min_rows=2)
    if X.shape[1] == 1:  # every row normalised to +1 or -1: two "clusters" by sign, all scores alike within each
        raise ValueError("X has one column: Distribution Clustering L2-normalises each row, which leaves a one-value "
                         "row only its sign (+1 or -1), so it cannot tell rows apart; give it two or more columns")
    mean = column_mean(X) if center else None
    Xn_np = normalise_rows(X, center=center, mean=mean)
    out, model = _cluster_normalised(Xn_np, float(thres), int(min_size), float(max_dist), max_rows, attach_columns,
                                     resolve_seed(random_state), device)
    out.info["center"] = bool(center)
    if return_model:
        model.center_ = None if mean is None else mean[None, :]
        return out, model
    return out


def _cluster_normalised(Xn_np: np.ndarray, thres: float, min_size: int, max_dist: float, max_rows, attach_columns,
                        seed: int, device: str) -> tuple[DCOutput, DCModel]:
    t0 = time.perf_counter()
    n = Xn_np.shape[0]
    dev = resolve_device(device)
    max_rows = None if max_rows is None else int(max_rows)  # 10000.0 from a settings file
    attach_columns = None if attach_columns is None else int(attach_columns)
    subsampled = max_rows is not None and n > max_rows
    if subsampled:
        rng = np.random.default_rng(seed)
        fit_idx = np.sort(rng.choice(n, max_rows, replace=False))
    else:
        fit_idx = np.arange(n)
    Xn = torch.as_tensor(Xn_np)  # shares memory on the CPU; rows go to the device chunk by chunk
    Xf = Xn[torch.as_tensor(fit_idx)].to(dev)
    D = _sq_dists(Xf, Xf)
    D.fill_diagonal_(0.0)
    fit_labels, clusters, intra, stats = _dc_core(D, thres, min_size, max_dist)
    labels = np.zeros(n, dtype=np.int64)
    labels[fit_idx] = fit_labels.cpu().numpy()
    cols = attach_columns_for(D.shape[0], clusters, attach_columns, seed)
    n_attached = 0
    if subsampled and clusters:
        rest = torch.as_tensor(np.setdiff1d(np.arange(n), fit_idx))
        lab, _ = _attach(lambda s, e: Xn[rest[s:e]].to(dev), int(rest.numel()), Xf, D, clusters, intra, thres, cols)
        lab = lab.cpu().numpy()
        labels[rest.numpy()] = lab
        n_attached = int((lab > 0).sum())
    k = len(clusters)
    variances = trace_variances(Xn_np, labels, k) if k else np.zeros(0)
    sizes = np.bincount(labels, minlength=k + 1)[1:]
    info = dict(stats, n_rows=n, n_fit=int(fit_idx.size), subsampled=bool(subsampled),
                n_attached=n_attached, attach_columns=int(cols.size), n_clusters=k,
                n_unclustered=int((labels == 0).sum()), sizes=sizes.tolist(), thres=float(thres),
                min_size=int(min_size), max_dist=float(max_dist), device=str(dev),
                seconds=round(time.perf_counter() - t0, 3))
    out = DCOutput(labels, variances, np.asarray(intra, dtype=np.float64), info)
    return out, DCModel(Xf, D, clusters, intra, thres, None, cols)


class DCClusterer:
    """Adapter to the clusterer interface: labels shifted to -1 = unclustered.

    Variances and row distances are computed in the L2-normalised space DC clusters in.
    """

    def __init__(self, thres: float = 0.07, min_size: int = 5, max_dist: float = 2.0, center: bool = False,
                 max_rows: int | None = 10_000, attach_columns: int | None = 2048, device: str = "cpu"):
        self.thres = thres
        self.min_size = min_size
        self.max_dist = max_dist
        self.center = center
        self.max_rows = max_rows
        self.attach_columns = attach_columns
        self.device = device

    def check(self) -> None:
        """The arguments' ranges, before any data (DUAD checks its clusterer's when read)."""
        from extract.device import check_device_text

        _check_params(self.thres, self.min_size, self.max_dist, self.max_rows, self.attach_columns)
        check_device_text(self.device)

    def __call__(self, X: np.ndarray, random_state: int) -> ClusterResult:
        _check_params(self.thres, self.min_size, self.max_dist, self.max_rows, self.attach_columns)
        Xn = normalise_rows(X, center=self.center)
        out, _ = _cluster_normalised(Xn, float(self.thres), int(self.min_size), float(self.max_dist), self.max_rows,
                                     self.attach_columns, resolve_seed(random_state), self.device)
        info = {k: v for k, v in out.info.items() if k != "sizes"}
        return result_from_labels(Xn, out.labels - 1, centres=None, clusterer="dc", center=bool(self.center), **info)
