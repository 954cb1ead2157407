"""Input checks shared by every detector: each failure is a ValueError that names the problem."""
from __future__ import annotations

import numpy as np


def check_matrix(X, *, name: str = "X", min_rows: int = 2) -> np.ndarray:
    """Return X as a finite float32 2-D array, or raise a ValueError saying what is wrong.

    Constant columns are allowed (KDDCUP99 has two, C3D fc6 has dead units within a video);
    a matrix in which *every* column is constant carries no information and is rejected.
    """
    if hasattr(X, "tocsr") and hasattr(X, "nnz"):  # scipy.sparse: np.asarray makes a 0-D object array
        raise ValueError(f"{name} is a sparse matrix; the detectors take dense rows (X.toarray())")
    _check_mask(X, name)
    frame = type(X).__module__.split(".")[0] == "pandas" and hasattr(X, "columns") and hasattr(X, "dtypes")
    arr = _frame_values(X, name) if frame else _array(X, name)
    if arr.dtype == object:  # numbers held as objects (a mixed frame's `.values`): read as float64
        arr = _object_values(arr, name)
    if arr.ndim != 2:
        hint = " (reshape a single feature with X.reshape(-1, 1), a single row with X.reshape(1, -1))" if arr.ndim == 1 else ""
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got {arr.ndim}-D shape {arr.shape}{hint}")
    if arr.shape[1] == 0:
        raise ValueError(f"{name} has no columns")
    if arr.shape[0] < min_rows:
        raise ValueError(f"{name} has {arr.shape[0]} rows; at least {min_rows} are needed")
    if not np.issubdtype(arr.dtype, np.number) and arr.dtype != bool:
        raise ValueError(f"{name} must be numeric, got dtype={arr.dtype}")
    if np.iscomplexobj(arr):  # float32 would drop the imaginary part with only a warning
        raise ValueError(f"{name} is complex ({arr.dtype}); the detectors take real numbers: pass "
                         f"{name}.real, abs({name}), or both parts as columns")
    given = arr
    with np.errstate(over="ignore", under="ignore"):  # values beyond float32 are named below, not warned of
        arr = arr.astype(np.float32, copy=False)
    if given.dtype.kind == "f" and given.dtype.itemsize > 4 and min_rows > 1:  # a fit: scoring takes any rows
        lost = (arr == 0) & (given != 0)  # below float32's smallest: they became zeros
        # harmless one by one (a probability of 1e-60 is 0 to every detector); named only where it
        # left nothing to tell rows apart, which was called "all columns constant"
        if lost.any() and not np.ptp(arr, axis=0).any() and np.ptp(given, axis=0).any():
            row, col = np.argwhere(lost)[0]
            raise ValueError(f"{name} holds values too small for the float32 the detectors compute in "
                             f"({float(given[row, col]):.3g} at row {row}, column {col} becomes 0), so that no "
                             f"column varies any more; rescale {name}")
    finite = np.isfinite(arr)
    if min_rows > 1 and finite.all() and given.dtype.kind in "fiu" and given.dtype.itemsize >= 4 \
            and given.dtype != np.float32:
        _warn_lost_precision(given, name)
    if not finite.all():
        bad = np.argwhere(~finite)[0]
        if given.dtype != np.float32 and np.isfinite(given[bad[0], bad[1]]):  # finite, beyond float32's range
            big = float(np.nanmax(np.abs(np.where(np.isfinite(given), given, np.nan))))
            raise ValueError(f"{name} holds values beyond the float32 range the detectors compute in (max |x| "
                             f"{big:.3g} at row {bad[0]}, column {bad[1]}); rescale {name}")
        n_nan = int(np.isnan(arr).sum())
        n_inf = int(np.isinf(arr).sum())
        raise ValueError(
            f"{name} contains NaN or inf ({n_nan} NaN, {n_inf} inf; first at row {bad[0]}, column {bad[1]})"
        )
    return np.ascontiguousarray(arr)


#: a column whose float32 step at its typical size is over this share of its typical spread (the
#: median absolute deviation) is a suspect; it is named where float32 merges its sampled values
LOST_PRECISION = 0.01
#: rows the check reads (strided): its cost stays small on any X
PRECISION_SAMPLE = 2048


def _warn_lost_precision(given: np.ndarray, name: str) -> None:
    """Warn of columns whose values float32 cannot tell apart at their size: a Unix time (about
    1.7e9, steps of 128) that varies by minutes became a few values and its anomaly was gone, in
    silence. Read on a strided sample of rows: its median and median absolute deviation (an outlier
    does not mislead them), then, for a suspect, whether float32 merges the
    sample's distinct values (integers and values it holds exactly are not named; a column of one
    value and a few others, its majority constant, is read from its standard deviation)."""
    import warnings

    sample = np.asarray(given[:: max(1, given.shape[0] // PRECISION_SAMPLE)], dtype=np.float64)
    mid = np.median(sample, axis=0)
    mad = np.median(np.abs(sample - mid), axis=0)
    # a constant majority has no MAD: its minority's spread is read from the standard deviation
    spread = np.where(mad > 0, mad, sample.std(axis=0))
    step = np.spacing((np.abs(mid) + spread).astype(np.float32)).astype(np.float64)
    lost = []
    normal = np.abs(mid) + spread >= np.finfo(np.float32).tiny  # values below float32's range: not an offset's loss
    for j in np.flatnonzero(normal & (spread > 0) & (step > LOST_PRECISION * spread)):
        wide, narrow = len(np.unique(sample[:, j])), len(np.unique(sample[:, j].astype(np.float32)))
        if narrow < 0.9 * wide:
            lost.append((int(j), wide, narrow))
    if lost:
        c, wide, narrow = lost[0]
        listed = ", ".join(str(j) for j, _, _ in lost[:5]) + (f" and {len(lost) - 5} more" if len(lost) > 5 else "")
        warnings.warn(f"{name}'s column(s) {listed} vary too little for their size to survive the float32 the "
                      f"detectors compute in (column {c}: values about {mid[c]:.6g} spread {spread[c]:.3g}, float32 "
                      f"steps of {step[c]:.3g} there: {wide} distinct values of a sample become {narrow}); subtract "
                      "each column's offset first (e.g. StandardScaler, or a time as seconds since the first row)",
                      UserWarning, stacklevel=user_stacklevel())


def user_stacklevel() -> int:
    """The `stacklevel` of a warning raised here that points at the first caller outside videoad
    and scikit-learn (fit, predict, a pipeline: each reaches the check by its own path)."""
    import os
    import sys

    import sklearn

    import videoad

    inside = tuple(os.path.dirname(m.__file__) + os.sep for m in (videoad, sklearn))
    frame, level = sys._getframe(1), 1  # the function that calls warnings.warn
    while frame is not None and frame.f_code.co_filename.startswith(inside):
        frame, level = frame.f_back, level + 1
    return level


def _array(X, name: str) -> np.ndarray:
    """`np.asarray(X)`; rows of several lengths named as such (numpy's "inhomogeneous shape" named
    neither X nor its rows)."""
    try:
        return np.asarray(X)
    except ValueError as exc:
        if "inhomogeneous" not in str(exc):
            raise
        raise ValueError(f"{name} is not a table of one width: its rows are not all of one length ({exc})") from None


def _check_mask(X, name: str) -> None:
    """A numpy masked array whose mask hides values is refused: `np.asarray` drops the mask, and the
    hidden values (often a -999 sentinel) were scored as data, in silence."""
    if np.ma.isMaskedArray(X) and np.ma.getmaskarray(X).any():
        hidden = np.ma.getmaskarray(X)
        where = np.argwhere(hidden)[0]
        raise ValueError(f"{name} is a masked array with {int(hidden.sum())} masked value(s) (first at index "
                         f"{tuple(int(i) for i in where)}); its mask would be ignored: fill them "
                         f"({name}.filled(...)) or drop those rows")


def _object_values(arr: np.ndarray, name: str) -> np.ndarray:
    """An object array of real numbers (Python's, numpy's, bools) as float64, None and pandas' NA as
    NaN (named as missing by `check_matrix`); any other value is named with its place. `df.values`
    of a frame of float, int and bool columns is such an array: the frame was fitted and its own
    array refused as "dtype=object"."""
    import numbers

    if arr.ndim == 0:  # one object, not an array (a dict, a model ...)
        raise ValueError(f"{name} must be a 2-D array of numbers, got {type(arr.item()).__name__}")
    flat = arr.ravel()
    missing = np.fromiter((v is None or type(v).__name__ == "NAType" for v in flat), bool, flat.size)
    real = np.fromiter((isinstance(v, (numbers.Real, np.bool_)) for v in flat), bool, flat.size)
    bad = np.flatnonzero(~(real | missing))
    if bad.size:
        v = flat[bad[0]]
        where = np.unravel_index(bad[0], arr.shape)
        place = f" at row {where[0]}, column {where[1]}" if arr.ndim == 2 else f" at index {tuple(map(int, where))}"
        raise ValueError(f"{name} must be real numbers; its value {v!r:.40} ({type(v).__name__}){place} is not"
                         + (f" ({bad.size} such values)" if bad.size > 1 else ""))
    try:
        return np.where(missing, np.nan, flat).astype(np.float64).reshape(arr.shape)
    except OverflowError:  # a Python int past float64's range
        raise ValueError(f"{name} holds a number beyond the float range; rescale {name}") from None


def _frame_values(X, name: str) -> np.ndarray:
    """A pandas DataFrame's values as numbers: columns of several numeric kinds (float, int, bool,
    the nullable ones) made one object array that was refused; a column that is not numeric is
    named with its kind."""
    from pandas.api.types import is_bool_dtype, is_complex_dtype, is_numeric_dtype

    def real(t) -> bool:  # complex values lose their imaginary part in float64, with only a warning
        return (is_numeric_dtype(t) or is_bool_dtype(t)) and not is_complex_dtype(t)

    odd = [(c, str(t)) for c, t in X.dtypes.items()
           if not (real(t) or (str(t) == "category" and real(t.categories.dtype)))]  # categories that are numbers
    if odd:
        listed = ", ".join(f"{c!r} ({t})" for c, t in odd[:5]) + (f" and {len(odd) - 5} more" if len(odd) > 5 else "")
        raise ValueError(f"{name} must be real numbers; its column(s) {listed} are not")
    # float32 holds these kinds exactly: read them as float32 at once (a float64 copy of a float32
    # frame was twice its size, beside the float32 array made from it)
    def kind(t):  # None: not a numpy kind (a category, a sparse column ...): read as float64, as before
        if str(t) == "category":
            return None
        try:
            return np.dtype(getattr(t, "numpy_dtype", t))
        except TypeError:  # Sparse[float64, nan] is no numpy dtype: np.dtype() raised out of the check
            return None

    kinds = [kind(t) for t in X.dtypes]
    narrow = bool(kinds) and all(k is not None and (k.kind in "bfiu" and k.itemsize <= 2 or k == np.float32)
                                 for k in kinds)
    try:
        return X.to_numpy(dtype=np.float32 if narrow else np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: its columns cannot be read as numbers ({exc})") from None


def check_not_all_constant(X: np.ndarray, *, name: str = "X") -> np.ndarray:
    """Raise when every column is constant; return the boolean mask of constant columns."""
    const = np.ptp(X, axis=0) == 0
    if const.all():
        raise ValueError(
            f"{name}: all {X.shape[1]} columns are constant; there is nothing to tell rows apart"
        )
    return const


def whole_valued(value) -> bool:
    """A whole number (numpy's too), or a float that holds one (YAML's `4.0` or `1e3`, a numpy float): a
    count as a settings file writes it; never a bool, and no float from where its kind no longer holds
    every whole number (2**53 for a float64, 2**24 for a float32: `10000000000000001.0` reads as 1e16)."""
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, np.integer)):
        return True
    if not isinstance(value, (float, np.floating)):
        return False
    exact = 2.0 ** (np.finfo(value).nmant + 1 if isinstance(value, np.floating) else 53)
    return float(value).is_integer() and abs(float(value)) < exact


#: the most a count may be where nothing smaller bounds it: the int64 that numpy and torch hold
#: (2**63 failed inside torch as "Overflow when unpacking long long", or in scikit-learn)
MAX_COUNT = 2**63 - 1
#: the most repetitions: epochs, reselections, restarts, guard runs, EM iterations, trees, seeds. A
#: million epochs of a one-row set is days of work; 10**30 ran for ever, 2**63 trees overflowed
MAX_REPEATS = 10**6
#: the widest network layer (units) or mixture of an estimation network: a million units of a
#: 4,096-wide input is 16 GB of weights (10**7 allocated for minutes, 2**63 overflowed inside torch)
MAX_WIDTH = 10**6
#: the most threads (torch's, BLAS's, scikit-learn's n_jobs): 10**30 overflowed inside torch
MAX_THREADS = 4096
#: the smallest learning rate (DUAD's, DAGMM's): Adam moves each weight by about lr a step, and a
#: float32 weight of a typical size (0.01 to 0.1) cannot move by less than about 1e-9. Measured on a
#: DUAD fit (1,220 weights, median |w| 0.11): lr 1e-8 moved 97% of them, 1e-9 13%, 1e-10 1.3% (by at
#: most 2e-6 of their size), 1e-11 two, 1e-12 and below none at all: 1e-300 trained nothing, in silence
MIN_LR = 1e-10
#: the largest learning rate: Adam's step of about lr is then larger than any initial weight (at most
#: 1/sqrt(fan_in)); 1e30 diverged after the training, 1e300 failed inside torch ("cannot be converted
#: to type float without overflow")
MAX_LR = 1.0


def check_count(value, name: str, *, at_least: int = 0, at_most: int = MAX_COUNT, words: tuple = (),
                what: str = "") -> int:
    """A count (`whole_valued`) from `at_least` to `at_most`, as an int; else a ValueError naming the
    setting and its range. `words`: values also allowed (None, "auto"), returned as they are;
    `what`: said after the name ("r (epochs between reselections)")."""
    if any(value is w or (isinstance(value, str) and value == w) for w in words):
        return value
    alt = (" (or " + " or ".join(repr(w) for w in words) + ")") if words else ""
    real = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    if real and value > at_most:  # 1e30 too (a float that large holds no exact count: the range says why)
        raise ValueError(f"{name}{what} must be a whole number from {at_least} to {at_most:,}{alt}, got {value!r}")
    if not whole_valued(value) or value < at_least:
        raise ValueError(f"{name}{what} must be a whole number >= {at_least}{alt}, got {value!r}")
    return int(value)


def check_number(value, name: str, *, above: float | None = None, at_least: float | None = None,
                 below: float | None = None, at_most: float | None = None) -> float:
    """A finite real number (not a bool, not a string) within the bounds given, as a float; else a
    ValueError naming the setting and its range (None, a word or inf failed inside torch, or, as a
    NaN loss, as an error that asked to rescale X)."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    v = float(value) if ok else float("nan")
    ok = bool(np.isfinite(v)) and (above is None or v > above) and (at_least is None or v >= at_least) \
        and (below is None or v < below) and (at_most is None or v <= at_most)
    if not ok:
        parts = [f"> {above:g}" if above is not None else None, f">= {at_least:g}" if at_least is not None else None,
                 f"< {below:g}" if below is not None else None, f"<= {at_most:g}" if at_most is not None else None]
        rule = " and ".join(p for p in parts if p)
        raise ValueError(f"{name} must be a finite number{' ' + rule if rule else ''}, got {value!r}")
    return v


def check_percent(value: float, name: str) -> float:
    """A percentage strictly inside (0, 100)."""
    try:
        v = float(value) if not isinstance(value, bool) else float("nan")
    except (TypeError, ValueError):  # None, a word: float()'s own error did not name the setting
        v = float("nan")
    if not 0.0 < v < 100.0:
        raise ValueError(f"{name} must be a percentage strictly between 0 and 100, got {value!r}")
    return v
