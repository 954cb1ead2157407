"""The estimator contract every detector here follows (scikit-learn / PyOD style).

`fit(X)` returns self and sets `decision_scores_` (training scores, higher = more anomalous);
with a `contamination` it also sets `threshold_` and `labels_` (1 = anomaly). `decision_function`
scores new rows and `predict` thresholds them. `random_state` reaches numpy, scikit-learn and torch
through local generators (`torch_base.forked_rng` for torch's global one), never the caller's.
"""
from __future__ import annotations

import abc
import warnings

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.utils.validation import check_is_fitted

from videoad.detector.seeds import SEED_MAX
from videoad.detector.validation import check_matrix, check_not_all_constant, user_stacklevel


def resolve_seed(random_state) -> int:
    """One integer seed from None / int / numpy Generator / RandomState (None draws one, recorded);
    a whole number outside 0..SEED_MAX is an error that says the range (numpy's and scikit-learn's
    own errors came from deep inside a fit)."""
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0] & 0x7FFFFFFF)
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        if not 0 <= int(random_state) <= SEED_MAX:
            raise ValueError(f"random_state must be a whole number from 0 to {SEED_MAX}, got {random_state!r}")
        return int(random_state)
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**31 - 1))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    raise ValueError(f"random_state must be None, an int or a numpy generator, got {random_state!r}")


#: settings that say where and how fast a fitted detector runs, not what it computes: they may
#: change between a fit and scoring (`BaseDetector._check_unchanged`)
RUNTIME_PARAMS = frozenset({"device", "n_jobs", "n_threads", "verbose", "random_state"})


def _same(a, b) -> bool:
    try:
        return bool(a == b) if not isinstance(a, np.ndarray) else bool(np.array_equal(a, b))
    except Exception:  # noqa: BLE001 - values that do not compare (arrays inside dicts): by identity
        return a is b


def _column_names(X) -> np.ndarray | None:
    """A DataFrame's column names when they are all strings (scikit-learn's rule), else None."""
    columns = getattr(X, "columns", None)
    if columns is None:
        return None
    names = np.asarray(list(columns), dtype=object)
    return names if names.size and all(isinstance(c, str) for c in names) else None


class BaseDetector(OutlierMixin, BaseEstimator, metaclass=abc.ABCMeta):
    """Shared plumbing: validation, contamination threshold, predict."""

    #: minimum rows `fit` accepts (subclasses raise it, e.g. to the number of clusters)
    _min_rows = 2

    def __sklearn_is_fitted__(self) -> bool:
        """Fitted when a fit finished (`decision_scores_`, what scoring checks): a fit refused after
        its input was read leaves `n_features_in_`, which scikit-learn's own `check_is_fitted` (and a
        Pipeline ending in the detector) took for a fitted model."""
        return hasattr(self, "decision_scores_")

    def _check_contamination(self) -> None:
        c = getattr(self, "contamination", None)
        if c is None:
            return
        try:
            ok = not isinstance(c, (bool, str)) and 0.0 < float(c) <= 0.5
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ValueError(f"contamination must be a share in (0, 0.5] (or None), got {c!r}")

    def _forget_fit(self) -> None:
        """Drop what an earlier fit left (the attributes ending in "_"): a fit refused or failed
        partway leaves the detector unfitted, never an earlier model beside this fit's width and
        settings (which then failed in torch on its own rows, and saved a file `load` called damaged)."""
        for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("__")]:
            delattr(self, name)
        self.__dict__.pop("_nn_index", None)  # a cache built from the earlier fit's rows

    def _validate_fit_input(self, X) -> np.ndarray:
        self._forget_fit()
        self._check_contamination()
        names = _column_names(X)
        X = check_matrix(X, min_rows=self._min_rows)
        self.n_features_in_ = X.shape[1]
        # every detector, not DUAD alone: the baselines gave every row one score and labelled none
        self.constant_columns_ = np.flatnonzero(check_not_all_constant(X))
        if names is not None:  # what scoring holds a DataFrame's columns to (scikit-learn's attribute)
            self.feature_names_in_ = names
        self.fit_params_ = self.get_params(deep=False)  # what `_check_unchanged` holds scoring to
        return X

    def _check_unchanged(self) -> None:
        """The settings a fit used are the ones its model, threshold and scaling mean: `set_params`
        after a fit changed what `decision_function` computed (another score against the fitted
        threshold, a scaling the model never saw) or failed in torch. Where and how fast it runs
        (`RUNTIME_PARAMS`) and the seed may change."""
        fitted = getattr(self, "fit_params_", None)
        if not fitted:  # loaded from a file (its settings are the constructor's) or unpickled from before
            return
        now = self.get_params(deep=False)
        changed = [k for k in fitted if k not in RUNTIME_PARAMS and k in now and not _same(now[k], fitted[k])]
        if changed:
            k = changed[0]
            raise ValueError(f"{type(self).__name__} was fitted with {k}={fitted[k]!r}; set_params changed it to "
                             f"{now[k]!r} since: fit again (or set it back)"
                             + (f" ({len(changed) - 1} more setting(s) changed)" if len(changed) > 1 else ""))

    def _validate_score_input(self, X, empty: bool = False) -> np.ndarray:
        """X checked against the fit (its width, its column names); rows of none only with `empty`."""
        check_is_fitted(self, "decision_scores_")
        self._check_unchanged()
        self._check_column_names(_column_names(X))
        X = check_matrix(X, min_rows=0 if empty else 1)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} was fitted with {self.n_features_in_}"
            )
        return X

    def _check_column_names(self, names) -> None:
        """A DataFrame scored with other columns, or the same in another order, than the one fitted
        is refused: its values were scored by position, against the wrong columns, in silence."""
        fitted = getattr(self, "feature_names_in_", None)
        if (fitted is None) != (names is None):  # scored by position: said, as scikit-learn says it
            warnings.warn(f"X has no column names, but {type(self).__name__} was fitted on a DataFrame's columns; "
                          "its values are scored by position, in the fitted order" if names is None else
                          f"X has column names, but {type(self).__name__} was fitted without any; its values are "
                          "scored by position", UserWarning, stacklevel=user_stacklevel())
            return
        if fitted is None or list(names) == list(fitted):
            return
        fitted = list(fitted)
        if sorted(names) == sorted(fitted):
            i = next(k for k, (a, b) in enumerate(zip(names, fitted)) if a != b)
            raise ValueError(f"X's columns are those {type(self).__name__} was fitted with, in another order "
                             f"(column {i} is {names[i]!r}, was {fitted[i]!r}): reorder them as feature_names_in_, "
                             "e.g. X[det.feature_names_in_]")
        unseen = [c for c in names if c not in fitted][:3]
        missing = [c for c in fitted if c not in set(names)][:3]
        raise ValueError(f"X's columns are not those {type(self).__name__} was fitted with"
                         + (f": new {unseen}" if unseen else "") + (f", missing {missing}" if missing else ""))

    def _finite(self, scores) -> np.ndarray:
        """`scores` when every one is a number, else a ValueError naming the first row that is not:
        values past about 1e18 overflow the float32 arithmetic of distances and reconstructions
        (inf, then NaN), which no ranking or threshold can use."""
        scores = np.asarray(scores)
        bad = ~np.isfinite(scores)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{type(self).__name__} gave {int(bad.sum())} row(s) a score that is not a finite number "
                             f"(first: row {i}, {scores[i]}): values this large overflow its float32 arithmetic; "
                             "rescale X (standardise its columns, or take logarithms of counts)")
        return scores

    def _set_threshold(self) -> None:
        """Threshold at the (1 - contamination) quantile of the training scores, when given."""
        self._finite(self.decision_scores_)
        self._warn_one_score()
        c = getattr(self, "contamination", None)
        if c is None:
            self.threshold_ = None
            self.labels_ = None
            return
        self.threshold_ = float(np.quantile(self.decision_scores_, 1.0 - float(c)))
        self.labels_ = (self.decision_scores_ > self.threshold_).astype(int)

    def _warn_one_score(self) -> None:
        """Warn when every fitted row got the same score: nothing is ranked and, with a contamination,
        nothing labelled, which was said nowhere (kNN on rows each repeated more than k times, two
        mirror-image rows, a network that cannot see values this small)."""
        s = np.asarray(self.decision_scores_)
        if s.size > 1 and not np.ptp(s):
            warnings.warn(f"{type(self).__name__} gave every one of the {s.size} fitted rows the same score "
                          f"({float(s[0]):.6g}): no row ranks above another, and none can be labelled an anomaly "
                          "(rows repeated many times, too few rows, or values at a scale the detector cannot tell "
                          "apart: rescale X)", UserWarning, stacklevel=user_stacklevel())

    @abc.abstractmethod
    def fit(self, X, y=None): ...

    def decision_function(self, X) -> np.ndarray:
        """Anomaly score of each row of X, higher = more anomalous; X of no rows (of the fitted width):
        an empty array, as a stream's empty batch or a filter that kept nothing hands it (it was refused)."""
        X = self._validate_score_input(X, empty=True)
        if not X.shape[0]:
            return np.empty(0)
        return self._finite(self._score(X))

    def _score(self, X: np.ndarray) -> np.ndarray:
        """Anomaly scores of validated rows X (one row or more), for `decision_function`."""
        raise NotImplementedError(f"{type(self).__name__} defines neither decision_function nor _score")

    def score_samples(self, X) -> np.ndarray:
        """scikit-learn convention: higher = more normal (the negated anomaly score)."""
        return -self.decision_function(X)

    def predict(self, X) -> np.ndarray:
        """1 for anomalies, 0 for normal rows (needs `contamination` set at fit time)."""
        check_is_fitted(self, "decision_scores_")
        self._check_unchanged()  # a contamination set after the fit is named as such, not as missing
        self._require_threshold()
        return (self.decision_function(X) > self.threshold_).astype(int)

    def fit_predict(self, X, y=None) -> np.ndarray:
        """`predict` of the rows fitted on (needs `contamination`, as `predict` does: refused
        before the fit, which a DUAD fit would otherwise spend minutes on)."""
        if getattr(self, "contamination", None) is None:
            self._require_threshold(fitted=False)
        self.fit(X)
        self._require_threshold()
        return self.labels_

    def _require_threshold(self, fitted: bool = True) -> None:
        if fitted and getattr(self, "threshold_", None) is not None:
            return
        why = "was fitted without contamination" if fitted else "has no contamination (fit_predict asks before fitting)"
        raise ValueError(f"{type(self).__name__} {why}, so it has no threshold; "
                         "set contamination=... or threshold decision_function() yourself")
