"""Classical baselines behind the detector contract: PCA reconstruction, Isolation Forest,
OC-SVM and k-nearest-neighbour distance (all scikit-learn; higher score = more anomalous).

They are what a number from DUAD has to beat: on KDDCUP99 a 4-component PCA already passes
the paper's AUROC at 20% contamination.
"""
from __future__ import annotations

import contextlib
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from videoad.detector.base import BaseDetector, resolve_seed
from videoad.detector.validation import (MAX_COUNT, MAX_REPEATS, MAX_THREADS, check_count, check_number, user_stacklevel,
                                         whole_valued)


#: data whose largest |value| is below this is scaled up for PCA (`tiny_scale`)
TINY = 2.0 ** -40


def tiny_scale(X: np.ndarray) -> float:
    """1.0, or for data whose every value is below `TINY` (about 9e-13) the power of two that brings
    its largest to [1, 2): at 1e-25 the float32 squares of PCA's covariance and residuals fell
    below float32's range, and every row got the score 0 in silence. A power of two scales exactly,
    and ordinary data is left as it is."""
    top = float(np.abs(X).max()) if X.size else 0.0
    return float(2.0 ** np.floor(np.log2(top))) if 0.0 < top < TINY else 1.0


class PCARecon(BaseDetector):
    """Squared reconstruction error after projecting onto the top principal components."""

    def __init__(self, n_components: int = 4, contamination: float | None = None, random_state=None):
        self.n_components = n_components
        self.contamination = contamination
        self.random_state = random_state

    def fit(self, X, y=None):
        from sklearn.decomposition import PCA

        self._check_params()
        X = self._validate_fit_input(X)
        if X.shape[1] == 1:  # "use at most 0 components" was the advice
            raise ValueError("PCARecon: X has one column, which PCA reconstructs exactly with its one component, so "
                             "no row scores above another; give it two or more columns")
        if self.n_components >= X.shape[1]:  # every row reconstructed exactly: all scores rounding noise
            raise ValueError(f"PCARecon: n_components {self.n_components} of X's {X.shape[1]} columns keeps the whole "
                             "space, so every row is reconstructed exactly and no row scores above another; use "
                             f"fewer components (at most {X.shape[1] - 1})")
        k = min(int(self.n_components), X.shape[0] - 1, X.shape[1])
        self.scale_ = tiny_scale(X)
        with threadpool_limits(1), self._overflow_named():
            scaled = X / self.scale_ if self.scale_ != 1.0 else X
            self.pca_ = PCA(k, random_state=resolve_seed(self.random_state)).fit(scaled)
        self.decision_scores_ = self._score(X)
        self._warn_rounding(scaled, self.decision_scores_ / self.scale_ ** 2)
        self._set_threshold()
        return self

    def _warn_rounding(self, X: np.ndarray, scores: np.ndarray) -> None:
        """Warn when every fitted row is reconstructed to rounding error: rows that span no more
        dimensions than the components (two rows, or a few distinct rows repeated) leave residuals of
        float noise (about 1e-12), which ranked the rows at random with no word said, since they
        are not exactly equal. Both must hold: the components explain all the variance (to 1e-4), and
        each residual is under 64 machine epsilons of its row's length (float noise at that size);
        the first alone cannot tell a real residual of 1e-4 from noise, the second alone took a real
        residual of rows offset by 1e6 for noise."""
        if scores.size < 2 or not np.ptp(scores):  # one score for all: `_warn_one_score` says so
            return
        if 1.0 - float(np.sum(self.pca_.explained_variance_ratio_)) > 1e-4:
            return
        eps = float(np.finfo(X.dtype if np.issubdtype(X.dtype, np.floating) else np.float64).eps)
        lengths = (np.asarray(X, dtype=np.float64) ** 2).sum(axis=1)
        if np.all(scores <= (64 * eps) ** 2 * lengths):
            warnings.warn(f"PCARecon: its {self.pca_.n_components_} component(s) reconstruct every one of the "
                          f"{scores.size} fitted rows to rounding error (the rows span no more dimensions than "
                          "that), so the scores are float noise and rank no row above another; give it more "
                          "distinct rows, or fewer components", UserWarning, stacklevel=user_stacklevel())

    def _check_params(self) -> None:
        """The settings a fit refuses whatever the data (also read when a config file is: registry.check_arguments)."""
        check_count(self.n_components, "PCARecon: n_components", at_least=1)  # 4.0 from a settings file is 4

    def _score(self, X):
        scale = getattr(self, "scale_", 1.0)  # a model pickled before `scale_`: 1
        if scale != 1.0:
            X = X / scale
        with threadpool_limits(1), self._overflow_named():
            rec = self.pca_.inverse_transform(self.pca_.transform(X))
        with np.errstate(over="ignore"):  # an overflow is named by `_finite`, not warned of
            scores = ((X - rec) ** 2).sum(axis=1).astype(np.float64)
        return scores * scale ** 2 if scale != 1.0 else scores

    @contextlib.contextmanager
    def _overflow_named(self):
        """Values near float32's limit overflow PCA's covariance to inf, then NaN, and scikit-learn
        said "Input X contains NaN" of finite input: the message `_finite` gives for the same."""
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                yield
        except (ValueError, np.linalg.LinAlgError) as exc:  # "contains NaN", or "Eigenvalues did not converge"
            if not isinstance(exc, np.linalg.LinAlgError) and "NaN" not in str(exc) and "infinity" not in str(exc):
                raise
            raise ValueError(f"{type(self).__name__}: X's values are too large for its float32 arithmetic (the "
                             "principal components overflowed); rescale X (standardise its columns, or take "
                             "logarithms of counts)") from exc


class IForest(BaseDetector):
    """scikit-learn's Isolation Forest, negated so that higher = more anomalous."""

    def __init__(self, n_estimators: int = 100, max_samples="auto", contamination: float | None = None,
                 random_state=None, n_jobs: int | None = 1):
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.contamination = contamination
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X, y=None):
        from sklearn.ensemble import IsolationForest

        self._check_params()
        X = self._validate_fit_input(X)
        self._check_spread(X)
        self.forest_ = IsolationForest(n_estimators=int(self.n_estimators), max_samples=self.max_samples,
                                       random_state=resolve_seed(self.random_state), n_jobs=self.n_jobs).fit(X)
        self.decision_scores_ = self._score(X)
        self._set_threshold()
        return self

    def _check_params(self) -> None:
        """The settings a fit refuses whatever the data (also read when a config file is: registry.check_arguments):
        `n_estimators: -1` passed the read and failed inside scikit-learn at the fit."""
        # 10**30 trees failed inside scikit-learn as "Python int too large to convert to C long"
        check_count(self.n_estimators, "IForest: n_estimators", at_least=1, at_most=MAX_REPEATS)
        m = self.max_samples
        if not (m == "auto" or (whole_valued(m) and not isinstance(m, float) and 1 <= m <= MAX_COUNT)
                or (isinstance(m, float) and 0.0 < m <= 1.0)):
            raise ValueError(f"IForest: max_samples must be 'auto', a number of rows >= 1 or a share in (0, 1], "
                             f"got {m!r}")
        if self.n_jobs is not None and not (whole_valued(self.n_jobs) and 0 < abs(self.n_jobs) <= MAX_THREADS):
            raise ValueError(f"IForest: n_jobs must be None or a whole number other than 0, from -{MAX_THREADS:,} "
                             f"to {MAX_THREADS:,}, got {self.n_jobs!r}")

    #: scikit-learn's trees take a feature whose values span no more than this for constant and
    #: never split on it (`FEATURE_THRESHOLD` of sklearn/tree/_partitioner.pxd, compared in float32)
    SPLIT_THRESHOLD = np.float32(1e-7)

    def _check_spread(self, X: np.ndarray) -> None:
        """Columns that vary, but by no more than `SPLIT_THRESHOLD`, are invisible to the forest: where
        every varying column is such, every row got the same score and no label, in silence (X * 1e-8);
        where some are, they are named in a warning."""
        low, high = X.min(axis=0), X.max(axis=0)
        unseen = np.flatnonzero((high > low) & (high <= low + self.SPLIT_THRESHOLD))
        if not unseen.size:
            return
        j = int(unseen[0])
        what = (f"column {j} spans {float(high[j]) - float(low[j]):.3g}" if unseen.size == 1 else
                f"columns {', '.join(map(str, unseen[:5]))}{' ...' if unseen.size > 5 else ''} span no more than "
                f"{float(self.SPLIT_THRESHOLD):g} (column {j}: {float(high[j]) - float(low[j]):.3g})")
        why = ("scikit-learn's trees take a feature that spans no more than 1e-07 for constant and never split on it; "
               "rescale X (standardise its columns)")
        if unseen.size == np.count_nonzero(high > low):
            raise ValueError(f"IForest: X varies too little to be split: {what}, so every row would get the same "
                             f"score; {why}")
        import warnings

        from videoad.detector.validation import user_stacklevel

        warnings.warn(f"IForest: X's {what}: the forest ignores {'it' if unseen.size == 1 else 'them'}; {why}",
                      UserWarning, stacklevel=user_stacklevel())

    def _score(self, X):
        return -self.forest_.score_samples(X).astype(np.float64)


class OCSVM(BaseDetector):
    """One-class SVM (RBF). Kernel SVMs scale quadratically, so it fits on a seeded subsample
    of at most `max_fit_rows` rows (recorded in `fit_rows_`) and scores every row."""

    def __init__(self, nu: float = 0.1, gamma="scale", kernel: str = "rbf", max_fit_rows: int = 10_000,
                 contamination: float | None = None, random_state=None):
        self.nu = nu
        self.gamma = gamma
        self.kernel = kernel
        self.max_fit_rows = max_fit_rows
        self.contamination = contamination
        self.random_state = random_state

    def fit(self, X, y=None):
        from sklearn.svm import OneClassSVM

        self._check_params()
        cap = self.max_fit_rows
        X = self._validate_fit_input(X)
        rng = np.random.default_rng(resolve_seed(self.random_state))
        fit_rows = X
        if cap is not None and X.shape[0] > cap:
            fit_rows = X[np.sort(rng.choice(X.shape[0], int(self.max_fit_rows), replace=False))]
        self.fit_rows_ = int(fit_rows.shape[0])
        state = np.random.get_state()  # libsvm's wrapper draws its seed from numpy's global generator:
        try:  # the caller's stream is left as it was, as every detector here leaves it
            with threadpool_limits(1):
                self.svm_ = OneClassSVM(nu=self.nu, gamma=self.gamma, kernel=self.kernel).fit(fit_rows)
        finally:
            np.random.set_state(state)
        self.decision_scores_ = self._score(X)
        self._set_threshold()
        return self

    def _check_params(self) -> None:
        """The settings a fit refuses whatever the data (also read when a config file is: registry.check_arguments)."""
        cap = self.max_fit_rows
        if cap is not None and not (whole_valued(cap) and cap >= 2):  # 0 meant no cap, 1 fitted one row
            raise ValueError(f"OCSVM: max_fit_rows must be None (every row) or a whole number >= 2, got {cap!r}")
        check_count(cap, "OCSVM: max_fit_rows", at_least=2, words=(None,))  # and at most int64's
        # `gamma: true` was fitted as gamma 1, in silence; a word other than these two failed in scikit-learn
        if not (isinstance(self.gamma, str) and self.gamma in ("scale", "auto")):
            try:
                check_number(self.gamma, "OCSVM: gamma (the RBF kernel's width)", above=0.0)
            except ValueError as exc:
                raise ValueError(f"{exc} (or 'scale' or 'auto')") from None
        # nu=1 (scikit-learn's range is (0, 1]) makes every row a bounded support vector: libsvm's
        # offset is then not finite, and scikit-learn said the data "may contain large values"
        check_number(self.nu, "OCSVM: nu (the share of rows outside the boundary)", above=0.0, below=1.0)

    def _score(self, X):
        with threadpool_limits(1):
            return -self.svm_.decision_function(X).astype(np.float64)


class KNNDist(BaseDetector):
    """Distance to the k-th nearest training row.

    A fitted row does not count itself (`decision_scores_`, `labels_`); `decision_function` and
    `predict` take their rows as new ones, so a fitted row passed again counts itself as its nearest
    neighbour and scores lower than in `decision_scores_` (as scikit-learn's LocalOutlierFactor
    with novelty=True): read the fitted rows' scores and labels from `decision_scores_` and `labels_`.

    `max_reference`: compare with at most this many fitted rows, a seeded subsample (recorded in
    `reference_rows_`), as DUAD's knn score caps its reference; None (the default) compares with
    every fitted row. Exact kNN over every row grows with the square of the rows (100,000 rows of
    KDDCUP99, one thread: 56 s exact, 12 s with 20,000 as the cap; benchmarks/bench_table_knn.py).
    """

    def __init__(self, n_neighbors: int = 5, contamination: float | None = None, max_reference: int | None = None,
                 random_state=None):
        self.n_neighbors = n_neighbors
        self.contamination = contamination
        self.max_reference = max_reference
        self.random_state = random_state

    def fit(self, X, y=None):
        from sklearn.neighbors import NearestNeighbors

        self._check_params()
        X = self._validate_fit_input(X)
        n, cap = X.shape[0], self.max_reference
        sample = None
        if cap is not None and n > cap:
            sample = np.sort(np.random.default_rng(resolve_seed(self.random_state)).choice(n, int(cap), replace=False))
        reference = X if sample is None else X[sample]
        k = min(int(self.n_neighbors), reference.shape[0] - 1)
        self.k_ = k
        self.reference_rows_ = int(reference.shape[0])
        self.nn_ = NearestNeighbors(n_neighbors=k + 1).fit(reference)
        dist, _ = self.nn_.kneighbors(X, n_neighbors=k + 1)
        if sample is None:
            self.decision_scores_ = dist[:, k].astype(np.float64)  # column 0 is the row itself
        else:  # a row of the reference skips itself (column 0); any other row's k-th is column k - 1
            in_reference = np.zeros(n, dtype=bool)
            in_reference[sample] = True
            self.decision_scores_ = np.where(in_reference, dist[:, k], dist[:, k - 1]).astype(np.float64)
        self._set_threshold()
        return self

    def _check_params(self) -> None:
        """The settings a fit refuses whatever the data (also read when a config file is: registry.check_arguments)."""
        check_count(self.n_neighbors, "n_neighbors", at_least=1)  # 2.5 ran as 2, "5" as 5
        check_count(self.max_reference, "kNN: max_reference", at_least=2, words=(None,))

    def _score(self, X):
        dist, _ = self.nn_.kneighbors(X, n_neighbors=self.k_)
        return dist[:, self.k_ - 1].astype(np.float64)
