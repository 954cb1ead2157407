"""`videoad bench scale`: fit time and peak memory of DUAD and the baselines against rows and columns.

Protocol. Every measurement runs in a fresh child process (`python -m videoad.bench.scale
--child SPEC`), so that allocator caches, torch's thread pools and one method's buffers never
reach another's figures. The child builds its data first (float32, chunk by chunk), reads its
resident set size (RSS), then fits the method once on all rows (for the detectors, a fit
includes scoring the fitted rows: `decision_scores_`). Peak memory is the RSS high-water mark
of the fit, from two sources: the kernel's (VmHWM, reset through /proc/self/clear_refs just
before the fit, so that loading or building the data does not count; results written before
2026-12-05 read `ru_maxrss`, the child's peak since it started, data loading included), and a
thread sampling /proc/self/statm every 20 ms during the fit; tracemalloc would miss torch's and
numpy's buffers.
The table reports the peak RSS of the whole child (what a machine must have: data, runtime and
the fit's buffers) and the part the fit added over what was resident before it.

Data sets:
- `mix255`, `mix4096`: synthetic mixtures with the widths of the motion descriptor's clip
  vector (255) and of C3D fc6 (4,096): 12 Gaussian clusters on random 24-dimensional
  subspaces, non-negative like both feature kinds, plus 5% scattered anomalies;
- `kdd`: the full KDDCUP99 10% file (494,021 x 118), subsampled to each row count;
- `cells15`: the same kind of mixture 15 wide, the motion descriptor's grid-cell rows, which is
  what `videoad detect` fits by default on motion features (one row per cell: 16 per clip, so
  the UCF-Crime test set's ~92,000 clips at the motion defaults are ~1.5 million rows).
Each DUAD runs the settings the product uses at that width: the video defaults for motion
(255, and its cell rows) and learned (4,096) features (`videoad/defaults/detect.yaml`), the
KDDCUP99 benchmark's config on KDDCUP99. Seeds are fixed at 0 (the mixtures, the KDDCUP99
subsample and every method), so a rerun times the same fits. The growth exponent is the least-squares slope of log(seconds) (or peak
MB) against log(rows) over the sizes from 4,000 rows up; a slope above 1.15 is marked as
growing faster than linearly. A method stops climbing the row ladder when the next size is
projected (from its own slope) to exceed `--max-seconds`, or after a size that failed.
"""
from __future__ import annotations

import json
import os
import platform
import shlex
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import click
import numpy as np

from videoad.bench.common import (data_inputs, environment, output_option, output_ready, results_dir,
                                  results_lock)
from videoad.cli.settings import MAX_SECONDS, MAX_THREADS, count, seconds, setting_kwargs
from videoad.config import ConfigError, ListOf, check, check_values, defaults, dump, layered

DATASETS = ("mix255", "mix4096", "kdd", "cells15")
SUPERLINEAR = 1.15

#: methods by name: (what it is, which data sets it runs on)
METHODS = {
    "DUAD": "DUAD with the product's settings for the width (see the protocol)",
    "DC alone": "Distribution Clustering as a detector (subsample of 10,000 rows + attachment)",
    "DC exact": "Distribution Clustering on every row (no subsample: an n x n distance matrix)",
    "PCA": "PCA reconstruction error, 16 components (4 on cells15)",
    "IsolationForest": "scikit-learn, 100 trees",
    "OC-SVM": "RBF one-class SVM fitted on at most 2,000 rows, scoring every row",
    "kNN": "distance to the 5th nearest row (exact, scikit-learn)",
    "DAGMM": "DAGMM, 20 epochs",
}
#: the names `--methods` also takes (lower case, no spaces, `-` or `_`): detect's --detector names
ALIASES = {"duad": "DUAD", "dc": "DC alone", "dcalone": "DC alone", "dcexact": "DC exact", "pca": "PCA",
           "iforest": "IsolationForest", "isolationforest": "IsolationForest", "ocsvm": "OC-SVM", "knn": "kNN",
           "dagmm": "DAGMM"}


def method_name(name: str) -> str:
    """A method as `METHODS` names it, from its name there or the detector registry's (`iforest`)."""
    return name if name in METHODS else ALIASES.get("".join(c for c in name.lower() if c not in " -_"), name)


#: DC exact on n rows holds 4 n^2 bytes of distances: not attempted above this
DC_EXACT_MAX_ROWS = 40000


# ---------------------------------------------------------------------------------------------
# data
def mixture(n: int, d: int, seed: int = 0, labels: bool = False):
    """n x d float32: 12 Gaussian clusters on random 24-d subspaces, non-negative, 5% anomalies
    (with `labels`, also the (n,) 0/1 anomaly labels: the same data either way).

    Built in blocks of about 16 M values, cluster by cluster, so that making the data never
    holds much more than the data itself (the measured peak is the fit's, not the generator's).
    """
    rng = np.random.default_rng(seed)
    k, r = 12, 24
    centres = rng.gamma(2.0, 1.0, (k, d)).astype(np.float32)
    bases = (rng.standard_normal((k, r, d)) / np.sqrt(r)).astype(np.float32)
    scales = rng.uniform(0.2, 1.0, k).astype(np.float32)
    X = np.empty((n, d), dtype=np.float32)
    y = np.zeros(n, dtype=np.int8)
    chunk = max(256, (1 << 24) // d)
    for s in range(0, n, chunk):
        m = min(chunk, n - s)
        block = X[s:s + m]
        lab = rng.integers(0, k, m)
        for c in range(k):
            rows = np.flatnonzero(lab == c)
            coef = rng.standard_normal((rows.size, r)).astype(np.float32)
            block[rows] = centres[c] + scales[c] * (coef @ bases[c])
        block += np.float32(0.05) * rng.standard_normal((m, d), dtype=np.float32)
        anom = np.flatnonzero(rng.random(m) < 0.05)
        block[anom] = rng.gamma(2.0, 1.5, (anom.size, d)).astype(np.float32)
        y[s + anom] = 1
        np.maximum(block, 0.0, out=block)
    return (X, y) if labels else X


def _warm_up() -> None:
    """A tiny fit before the timed one: torch's and scikit-learn's first calls load code and
    initialise pools, a fixed cost that is not the method's."""
    from videoad.detector.duad import DUAD

    X = np.random.default_rng(0).random((200, 8)).astype(np.float32)
    DUAD(p0=25, p=20, r=1, clusterer="gmm", clusterer_params={"n_components": 2}, n_components=2,
         hidden_dims=[4], latent_dim=2, max_reselections=1, score="knn", device="cpu", random_state=0).fit(X)


#: rows of the KDDCUP99 10% file (`videoad.datasets.kddcup`)
KDD_ROWS = 494021


def kdd_rows(n: int, path: Path, seed: int = 0) -> np.ndarray:
    from videoad.datasets.kddcup import load_kddcup

    X, _ = load_kddcup(path)
    if n < X.shape[0]:
        X = X[np.sort(np.random.default_rng(seed).choice(X.shape[0], n, replace=False))]
    return np.ascontiguousarray(X, dtype=np.float32)


def duad_params(dataset: str) -> dict:
    """The settings the product fits at this width."""
    if dataset == "kdd":
        from videoad.bench.kddcup import DEFAULT_CONFIG

        return dict(DEFAULT_CONFIG["duad"])
    from videoad.video import DUAD_BY_FEATURES

    return dict(DUAD_BY_FEATURES["learned" if dataset == "mix4096" else "motion"])


def make_method(name: str, dataset: str, threads: int):
    """The detector a method row measures, made through the detector registry."""
    from videoad.detector import registry

    specs = {  # method -> (registry name, constructor arguments)
        "DUAD": ("duad", duad_params(dataset) if name == "DUAD" else {}),
        "DC alone": ("dc", {}),
        "DC exact": ("dc", {"max_rows": None}),
        # 16 components, 4 on the 15 values of a motion cell (16 would keep the whole space)
        "PCA": ("pca", {"n_components": 4 if dataset == "cells15" else 16}),
        "IsolationForest": ("iforest", {"n_estimators": 100, "n_jobs": threads}),
        "OC-SVM": ("ocsvm", {"nu": 0.1, "max_fit_rows": 2000}),
        "kNN": ("knn", {"n_neighbors": 5}),
        "DAGMM": ("dagmm", {"epochs": 20, "lr": 1e-3, "batch_size": 1024}),
    }
    if name not in specs:
        raise ValueError(f"unknown method {name!r}; known: {sorted(METHODS)}")
    detector, params = specs[name]
    return registry.make(detector, params, seed=0)


# ---------------------------------------------------------------------------------------------
# the child: one measurement
def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _reset_peak() -> bool:
    """Reset the kernel's high-water mark of this process's memory to what it holds now (Linux's
    /proc/self/clear_refs), so that the peak read after the fit is the fit's, not building the data's."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _peak_kernel() -> int | None:
    """The kernel's high-water mark of this process's memory (VmHWM), None where it cannot be read."""
    try:
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmHWM:"))
    except (OSError, StopIteration, ValueError):
        return None


class _RSSSampler(threading.Thread):
    def __init__(self, every: float = 0.02):
        super().__init__(daemon=True)
        self.every = every
        self.peak = _rss_bytes()
        self._halt = threading.Event()

    def run(self):
        while not self._halt.wait(self.every):
            self.peak = max(self.peak, _rss_bytes())

    def stop(self) -> int:
        self._halt.set()
        self.join()
        self.peak = max(self.peak, _rss_bytes())
        return self.peak


def measure(spec: dict) -> dict:
    """Build the data, fit once, return seconds and memory (runs inside the child)."""
    import torch
    from threadpoolctl import threadpool_limits

    threads = int(spec["threads"])
    torch.set_num_threads(threads)
    n, d, dataset = int(spec["rows"]), int(spec.get("cols", 0)), spec["dataset"]
    X = kdd_rows(n, Path(spec["kdd_path"])) if dataset == "kdd" else mixture(n, d)
    det = make_method(spec["method"], dataset, threads)
    _warm_up()
    rss_before = _rss_bytes()
    reset = _reset_peak()  # without it the process's peak would include loading or building the data
    sampler = _RSSSampler()
    sampler.start()
    t0 = time.perf_counter()
    with threadpool_limits(threads):
        det.fit(X)
    seconds = time.perf_counter() - t0
    peak_sampled = sampler.stop()
    peak_kernel = _peak_kernel() if reset else None  # the fit's alone; else only the samples say
    out = {"seconds": seconds, "rss_before": rss_before, "peak_rss": max(peak_kernel or 0, peak_sampled),
           "peak_sampled": peak_sampled, "peak_kernel": peak_kernel, "data_bytes": int(X.nbytes),
           "rows": X.shape[0], "cols": X.shape[1], "threads": threads}
    if hasattr(det, "timings_"):
        out["phases"] = det.timings_
        out["epochs"] = det.n_epochs_
        out["reselections"] = det.n_reselections_
        out["stop_reason"] = det.stop_reason_
        out["init"] = {k: det.init_info_.get(k) for k in ("clusterer", "n_clusters", "subsampled", "n_fit",
                                                          "attach_columns")}
    if hasattr(det, "info_"):
        out["dc"] = {k: det.info_.get(k) for k in ("n_clusters", "n_unclustered", "subsampled", "n_fit")}
    return out


def exit_with_parent(every: float = 1.0) -> threading.Thread:
    """End this process when the process that started it is gone: a `bench scale` stopped by a
    kill (SIGTERM, SIGKILL; Ctrl-C reaches the child too) left its measuring child fitting on,
    up to `--timeout` (30 min by default), on the cores and memory of the next measurement."""
    parent = os.getppid()

    def watch():
        while True:
            time.sleep(every)
            if os.getppid() != parent:  # reparented: the parent died
                os._exit(143)

    thread = threading.Thread(target=watch, daemon=True, name="exit-with-parent")
    thread.start()
    return thread


def run_child(spec: dict, timeout: float) -> dict:
    """One measurement in a fresh interpreter; a failure or a timeout is recorded, not raised."""
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[var] = str(spec["threads"])
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-m", "videoad.bench.scale", "--child", json.dumps(spec)],
                              capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {**spec, "status": "timeout", "seconds": time.perf_counter() - t0}
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {**spec, "status": f"failed (exit {proc.returncode})", "error": " | ".join(tail),
                "seconds": time.perf_counter() - t0}
    return {**spec, "status": "ok", **json.loads(proc.stdout.strip().splitlines()[-1])}


# ---------------------------------------------------------------------------------------------
# the ladder and the table
def slope(points: list[tuple[float, float]], min_rows: int = 4000) -> float | None:
    """Least-squares slope of log(value) against log(rows) over the points with rows >= min_rows."""
    pts = [(r, v) for r, v in points if r >= min_rows and v > 0]
    if len(pts) < 2:
        return None
    x = np.log([r for r, _ in pts])
    y = np.log([v for _, v in pts])
    return float(np.polyfit(x, y, 1)[0])


def _project(points: list[tuple[float, float]], rows: int) -> float | None:
    """Seconds at `rows` from the last two measured sizes and their local slope, which may be
    below 1: a method that fits on a capped subsample (DUAD's `max_fit_rows`) grows slower than
    linearly past the cap, and a linear projection stopped it early. The child's timeout bounds
    what an underestimate costs."""
    if not points:
        return None
    if len(points) == 1:
        r, v = points[-1]
        return v * rows / r
    (r1, v1), (r2, v2) = points[-2], points[-1]
    k = max(0.0, np.log(max(v2, 1e-3) / max(v1, 1e-3)) / np.log(r2 / r1))
    return v2 * (rows / r2) ** k


def ladder(methods, datasets, rows, threads: int, max_seconds: float, timeout: float, kdd_path: Path | None,
           log=click.echo, kdd_total: int = KDD_ROWS, after=None) -> list[dict]:
    """Every measurement of the ladder; `after(results)` is called after each (the partial files)."""
    results = []
    for dataset in datasets:
        if dataset == "kdd" and kdd_path is None:
            log("kdd: no KDDCUP99 file found; skipped")
            continue
        cols = {"mix255": 255, "mix4096": 4096, "kdd": 118, "cells15": 15}[dataset]
        # KDDCUP99 has 494,021 rows (`kdd_total`: the file's own count): a size above is that size
        # (measured once, not twice under two names)
        sizes = (sorted({min(int(n), kdd_total) for n in rows} | {kdd_total}) if dataset == "kdd" else list(rows))
        for method in methods:
            done: list[tuple[float, float]] = []
            stop = None
            for n in sizes:
                spec = {"method": method, "dataset": dataset, "rows": n, "cols": cols, "threads": threads,
                        "kdd_path": str(Path(kdd_path).resolve()) if kdd_path else None}
                if method == "DC exact" and n > DC_EXACT_MAX_ROWS:
                    stop = stop or f"n x n distances: {4 * n * n / 1e9:.0f} GB"
                projected = _project(done, n)
                if stop is None and projected is not None and projected > max_seconds:
                    stop = f"projected {projected:.0f} s > {max_seconds:.0f} s"
                if stop is not None:
                    results.append({**spec, "status": "not run", "reason": stop, "projected_seconds": projected})
                    log(f"{dataset:8s} {method:16s} {n:7d} rows: not run ({stop})")
                    continue
                res = run_child(spec, timeout)
                results.append(res)
                if after is not None:
                    after(results)
                if res["status"] != "ok":
                    stop = f"{res['status']} at {n} rows"
                    log(f"{dataset:8s} {method:16s} {n:7d} rows: {res['status']} {res.get('error', '')}")
                    continue
                done.append((n, res["seconds"]))
                phases = res.get("phases")
                log(f"{dataset:8s} {method:16s} {n:7d} rows: {res['seconds']:8.1f} s  peak RSS "
                    f"{res['peak_rss'] / 2**20:8.0f} MB (fit +{(res['peak_rss'] - res['rss_before']) / 2**20:.0f})"
                    + (f"  {phases}" if phases else ""))
    return results


def summary_rows(results: list[dict]) -> list[dict]:
    out = []
    keys = dict.fromkeys((r["dataset"], r["method"]) for r in results)
    for dataset, method in keys:
        rs = [r for r in results if r["dataset"] == dataset and r["method"] == method]
        ok = [r for r in rs if r["status"] == "ok"]
        t = slope([(r["rows"], r["seconds"]) for r in ok])
        m = slope([(r["rows"], r["peak_rss"] - r["rss_before"]) for r in ok])
        out.append({"dataset": dataset, "method": method, "time_slope": t, "memory_slope": m,
                    "largest_rows": max((r["rows"] for r in ok), default=None),
                    "superlinear": bool((t is not None and t > SUPERLINEAR) or (m is not None and m > SUPERLINEAR))})
    return out


def _fmt_cell(r: dict) -> str:
    if r["status"] == "ok":
        return f"{r['seconds']:.1f} s / {r['peak_rss'] / 2**30:.2f} GB"
    if r["status"] == "not run":
        p = r.get("projected_seconds")
        return "-" + (f" (~{p:.0f} s)" if p else "")
    return r["status"]


def _versions(env: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in env.items() if k not in ("machine", "date"))


def markdown(results: list[dict], rows: list[dict], meta: dict) -> str:
    sizes = sorted({r["rows"] for r in results})
    lines = ["# scale", "", meta["protocol"], "", f"Command: `{meta['command']}`", "",
             f"Machine: {meta['machine']}; torch/BLAS threads {meta['threads']}; load average at the start "
             f"{meta['load_start']}, at the end {meta['load_end']}; {meta['date']}.", "",
             *([f"Versions: {_versions(meta['environment'])}.", ""] if meta.get("environment") else []),
             "Each cell: fit seconds / peak RSS of the measuring process (data and runtime included). "
             "`-`: not run (projected seconds in brackets).", ""]
    for dataset in dict.fromkeys(r["dataset"] for r in results):
        these = [r for r in results if r["dataset"] == dataset]
        ds_sizes = [s for s in sizes if any(r["rows"] == s for r in these)]
        cols = these[0]["cols"]
        lines += [f"## {dataset} ({cols} columns)", "",
                  "| method | " + " | ".join(f"{s:,} rows" for s in ds_sizes) + " | time slope | memory slope |",
                  "|---|" + "---|" * (len(ds_sizes) + 2)]
        for method in dict.fromkeys(r["method"] for r in these):
            cells = []
            for s in ds_sizes:
                r = next((r for r in these if r["method"] == method and r["rows"] == s), None)
                cells.append(_fmt_cell(r) if r else "")
            summ = next(x for x in rows if x["dataset"] == dataset and x["method"] == method)

            def fmt(v):
                if v is None:
                    return "-"
                return f"**{v:.2f}**" if v > SUPERLINEAR else f"{v:.2f}"

            lines.append(f"| {method} | " + " | ".join(cells) + f" | {fmt(summ['time_slope'])} | "
                         f"{fmt(summ['memory_slope'])} |")
        lines.append("")
        duad = [r for r in these if r["method"] == "DUAD" and r["status"] == "ok"]
        if duad:
            lines += ["DUAD by phase (seconds): " + "; ".join(
                f"{r['rows']:,} rows: " + ", ".join(f"{k} {v:.1f}" for k, v in r["phases"].items())
                for r in duad), ""]
    lines += ["Slopes: least squares of log(seconds) and log(peak RSS added by the fit) against log(rows), "
              f"sizes from 4,000 rows up; **bold**: above {SUPERLINEAR} (faster than linear).", ""]
    return "\n".join(lines)


def _write(out: Path, name: str, meta: dict, results: list[dict], complete: bool = True) -> str:
    """`NAME.json` and `NAME.md` (`complete=False`: `NAME.partial.*`, marked incomplete), each
    written whole or not at all; the complete write removes the partial files. Returns the Markdown."""
    from extract.store import write_atomic

    from videoad.bench.common import PARTIAL

    stem = name if complete else name + PARTIAL
    if "load_end" not in meta:  # a partial's: the load after its latest measurement
        meta = {**meta, "load_end": _load()}
    summ = summary_rows(results)
    md = markdown(results, summ, meta)
    if not complete:
        md = md.replace("# scale\n", "# scale\n\n**INCOMPLETE**: the run was stopped, or is still going; these are "
                        "the measurements it finished.\n", 1)
    write_atomic(out / f"{stem}.json", json.dumps({"meta": meta, "complete": complete, "summary": summ,
                                                    "results": results}, indent=2).encode())
    write_atomic(out / f"{stem}.md", md.encode())
    if complete:
        for leftover in (out / f"{name}{PARTIAL}.json", out / f"{name}{PARTIAL}.md"):
            leftover.unlink(missing_ok=True)
    return md


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


SCHEMA = {"datasets": ListOf(str), "methods": ListOf(str), "rows": ListOf(int), "threads": int,
          "max_seconds": (int, float), "timeout": (int, float), "name": str}


def load_config(path=None, **given) -> dict:
    """The packaged defaults (videoad/defaults/scale.yaml), the YAML file at `path` over them,
    then the options `given` (not None); errors name the file and the key."""
    from videoad.video.config import MAX_THREADS

    where = str(path) if path is not None else "videoad/defaults/scale.yaml"
    # the options' kinds first, named as the command line's: `--max-seconds nan` was said to be the file's
    check({k: v for k, v in given.items() if v is not None}, SCHEMA, "the command line options")
    cfg = layered(defaults("scale"), path, SCHEMA, {k: v for k, v in given.items() if v is not None})
    check(cfg, SCHEMA, where)
    cfg["methods"] = [method_name(m) if isinstance(m, str) else m for m in cfg["methods"]]
    options = {k for k, v in given.items() if v is not None}  # a bad option is the command line's, not the file's
    for key, known in (("datasets", DATASETS), ("methods", METHODS), ("rows", None)):
        origin = f"--{key}" if key in options else f"{where}: {key}"
        bad = [x for x in cfg[key] if x not in known] if known is not None else []
        if bad:
            raise ConfigError(f"{origin}: unknown {key} {bad}; known: {', '.join(known)}")
        if not cfg[key]:
            raise ConfigError(f"{origin}: none given" + (f"; known: {', '.join(known)}" if known else ""))
    rules = {"rows": (lambda v: all(int(r) >= 2 for r in v), "whole numbers >= 2"),
             "name": (lambda v: v not in ("", ".", "..") and not v.startswith(".") and not set(v) & set("/\\\0"),
                      "a file name without a folder (scale.json and scale.md are written under -o)"),
             # at most detect's cap: 10^30 passed the read and overflowed torch.set_num_threads at the first fit
             "threads": (lambda v: 1 <= v <= MAX_THREADS, f">= 1, at most {MAX_THREADS}"),
             # a week at most, as --max-seconds and --timeout take: a file's timeout of 1e30
             # overflowed the child's wait
             "max_seconds": (lambda v: 0 < v <= MAX_SECONDS, f"> 0, at most {MAX_SECONDS:g} (a week)"),
             "timeout": (lambda v: 0 < v <= MAX_SECONDS, f"> 0, at most {MAX_SECONDS:g} (a week)")}
    check_values({k: cfg[k] for k in options if k in rules}, rules, "the command line options")
    check_values({k: v for k, v in cfg.items() if k not in options}, rules, where)
    return cfg


def _listed(value: str | None, kind=str, option: str = "") -> list | None:
    """A comma-separated option as a list (None: not given)."""
    if value is None:
        return None
    try:
        return [kind(x.strip()) for x in value.split(",") if x.strip()]
    except ValueError:
        raise ValueError(f"{option} must be comma-separated whole numbers, got {value!r}") from None


#: option -> its key in the settings (videoad/defaults/scale.yaml): its default shown in --help; the
#: options given are laid over the settings by `load_config` (its keyword arguments)
_TO_SETTINGS = {"datasets": "datasets", "methods": "methods", "rows_opt": "rows", "threads": "threads",
                "max_seconds": "max_seconds", "timeout": "timeout", "name": "name"}
_setting = setting_kwargs(_TO_SETTINGS, lambda: defaults("scale"))


@click.command("scale")
@click.option("--datasets", **_setting("datasets"), help="Comma-separated subset of " + ", ".join(DATASETS) + ".")
@click.option("--methods", **_setting("methods"), help="Comma-separated subset of " + ", ".join(METHODS)
              + " (or detect's names: duad, pca, iforest, ocsvm, knn, dagmm).")
@click.option("--rows", "rows_opt", **_setting("rows_opt"), help="Row ladder (KDDCUP99 adds its full 494,021 rows).")
@click.option("--threads", type=count(1, MAX_THREADS), **_setting("threads"),
              help="torch and BLAS threads per measurement.")
@click.option("--max-seconds", type=seconds(), **_setting("max_seconds"),
              help="A method stops climbing when its next size is projected above this.")
@click.option("--timeout", type=seconds(), **_setting("timeout"), help="Seconds before a child is killed.")
@click.option("--data", "kdd_path", type=click.Path(path_type=Path), default=None,
              help="The KDDCUP99 file, or a data folder laid out like shared/data [default: $VIDEOAD_DATA].")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="YAML laid over the defaults (videoad/defaults/scale.yaml, copied in configs/scale.yaml).")
@click.option("--print-config", is_flag=True, help="Print the settings this command would use as YAML and exit.")
@output_option("Where scale.json and scale.md go.")
@click.option("--name", **_setting("name"), help="Base name of the result files.")
@click.option("--child", default=None, hidden=True)
def scale_cmd(datasets, methods, rows_opt, threads, max_seconds, timeout, kdd_path, config_path, print_config,
              output, out_alias, name, child):
    """Fit time and peak memory against rows and columns, each measurement in its own process.

    After each measurement the results so far are in NAME.partial.json / .md; the complete run
    replaces NAME.json / .md and removes them.

    Exit status: 0 done; 1 an error, named (data, config, an unwritable -o), or no measurement
    finished (the files are written all the same); 2 a wrong option or an -o that is the data or
    another output; 130 stopped with Ctrl-C.
    """
    if child is not None:  # inside the measuring process
        exit_with_parent()
        click.echo(json.dumps(measure(json.loads(child))))
        return
    from videoad.data import kddcup_file

    try:
        cfg = load_config(config_path, datasets=_listed(datasets), methods=_listed(methods),
                          rows=_listed(rows_opt, int, "--rows"), threads=threads, max_seconds=max_seconds, timeout=timeout,
                          name=name)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    if print_config:
        click.echo(dump(cfg), nl=False)
        return
    ds, ms, rows, threads, name = cfg["datasets"], cfg["methods"], cfg["rows"], cfg["threads"], cfg["name"]
    max_seconds, timeout = float(cfg["max_seconds"]), float(cfg["timeout"])
    given = kdd_path
    if "kdd" in ds:
        try:
            kdd_path = kddcup_file(kdd_path)
        except ValueError as exc:
            if kdd_path is not None:  # named and wrong: an error; not found: kdd is skipped, saying so
                raise click.ClickException(str(exc)) from exc
            kdd_path = None
    else:  # no dataset reads it: a data folder was opened as the KDDCUP99 file ("FOLDER: no such file")
        kdd_path = None
    out = output_ready(results_dir(output, out_alias), data_inputs(given, kdd_path if "kdd" in ds else None))
    kdd_total = KDD_ROWS
    if kdd_path is not None:  # read once here: a broken file named before the ladder, its own row count used
        from videoad.datasets.kddcup import load_kddcup

        try:
            kdd_total = load_kddcup(kdd_path)[0].shape[0]
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
    meta = {"protocol": "Protocol. " + __doc__.split("Protocol.", 1)[1].strip(),
            "command": "videoad " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs", "threads": threads,
            "date": time.strftime("%Y-%m-%d %H:%M"), "load_start": _load(), "max_seconds": max_seconds,
            "methods": {m: METHODS[m] for m in ms},
            # the measuring children run at `threads` (this process's own counts are not theirs)
            "environment": {**environment(), "torch_threads": threads}}
    # after each measurement NAME.partial.json / .md (an interrupted ladder keeps what it measured,
    # and leaves an earlier complete run's files as they were); the complete files replace them
    try:
        with results_lock(out, [name], meta["command"]):
            results = ladder(ms, ds, rows, threads, max_seconds, timeout, kdd_path, kdd_total=kdd_total,
                             after=lambda done: _write(out, name, meta, done, complete=False))
            meta["load_end"] = _load()
            md = _write(out, name, meta, results)
    except OSError as exc:  # a full or read-only disk, named (extract.store.output_error)
        raise click.ClickException(str(exc)) from exc
    click.echo(md)
    click.echo(f"wrote {out / (name + '.json')} and {out / (name + '.md')}")
    if results and not any(r["status"] == "ok" for r in results):  # a table of nothing is not a benchmark
        counts = Counter(r["status"] for r in results)
        raise click.ClickException("no measurement finished (" + ", ".join(f"{n} {s}" for s, n in counts.items())
                                   + "); raise --timeout or --max-seconds, or start from fewer --rows")


if __name__ == "__main__":
    scale_cmd()  # the child entry point: python -m videoad.bench.scale --child SPEC
