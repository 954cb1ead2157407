"""`videoad bench images`: the paper's image tables in one run over seeds.

Protocol (paper section 4.2, rebuilt from the split the user has): one class is normal, the
others supply anomalies in equal numbers, `anomaly_ratio` of the set (MNIST: digit 4 with 5 %,
CIFAR-10: airplane with 8 %); rows are raw pixels in [0, 1]; every method is fitted on the
contaminated set and scores that same set (transductive, no labels seen); AUROC and AUPRC with
the anomaly as the positive class, mean +- std over seeds (the seed draws the anomalies and seeds
every model).

Tables:
- 4: DUAD beside Distribution Clustering alone, OC-SVM, Isolation Forest, DAGMM, PCA
  reconstruction and k-nearest-neighbour distance (plus any `variants` of DUAD);
- 7: DUAD with the reselection share p swept (p0 = p + the config's `p0_minus_p`);
- 8: DUAD with each initial clusterer (DC, K-means, HDBSCAN, GMM);
- timing: DUAD's full fit on `timing.duad_rows` rows of the dataset's split (clustering
  included) and DC alone on `timing.dc_rows` rows, with the torch/BLAS thread count stated.
Settings come from `configs/<dataset>.yaml` (constructor arguments + protocol).
"""
from __future__ import annotations

import copy
import logging
import shlex
import sys
import time
from pathlib import Path

import click
import numpy as np
import yaml

from videoad.bench.common import (Record, configured_baselines, evaluate_scores, markdown_table, summarise, timed_fit,
                                  write_results)

log = logging.getLogger(__name__)

DATASETS = ("mnist", "cifar10", "digits")
TABLES = ("4", "7", "8", "timing")
_REQUIRED = ("dataset", "duad")


def _merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in (override or {}).items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


def default_config_path(dataset: str) -> Path:
    return Path(__file__).resolve().parents[2] / "configs" / f"{dataset}.yaml"


def load_config(path) -> dict:
    """A dataset's benchmark config: `dataset` (protocol), `duad` (constructor arguments),
    `baselines`, `variants`, `table7`, `table8`, `timing`, `quick`."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"config {path} does not exist")
    with open(path) as fh:
        cfg = yaml.safe_load(fh) or {}
    if not isinstance(cfg, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    missing = [k for k in _REQUIRED if k not in cfg]
    if missing:
        raise ValueError(f"{path}: missing section(s) {missing}")
    ds = cfg["dataset"]
    if ds.get("name") not in DATASETS:
        raise ValueError(f"{path}: dataset.name must be one of {DATASETS}, got {ds.get('name')!r}")
    configured_baselines(cfg.get("baselines"), "images", where=str(path))  # every row names a detector
    return cfg


def protocol_text(ds: dict, n_rows: int, n_anom: int) -> str:
    split = "all 1,797 images" if ds["name"] == "digits" else f"{ds.get('split', 'test')} split"
    return (f"{ds['name']} {split}; normal class {ds['normal_class']!r}, all its images; "
            f"{100 * ds['anomaly_ratio']:g}% anomalies drawn evenly from the other classes "
            f"({n_rows} rows, {n_anom} anomalies); raw pixels in [0, 1]; fitted and scored on the same "
            "contaminated set; AUROC/AUPRC in %, anomaly = positive, mean ± std over seeds")


def _make(detector: str, params: dict, seed: int):
    """A function that makes the unfitted detector (a registry name; DUAD keeps its history)."""
    from videoad.detector import registry

    if detector == "duad":
        params = {**params, "keep_selection_history": True}
    return lambda: registry.make(detector, params, seed)


def method_factories(cfg: dict, seed: int) -> dict:
    """Table 4's rows -> functions that make the unfitted detectors: DUAD, its variants, then the
    baselines (`bench.common.configured_baselines`: the config's, then registered ones)."""
    duad = dict(cfg["duad"])
    methods = {"DUAD": _make("duad", duad, seed)}
    for vname, override in (cfg.get("variants") or {}).items():
        methods[vname] = _make("duad", _merge(duad, override), seed)
    for row, name, params in configured_baselines(cfg.get("baselines"), "images"):
        methods[row] = _make(name, params, seed)
    return methods


def _duad_extra(det, y: np.ndarray) -> dict:
    return {"stop_reason": det.stop_reason_, "reselections": det.n_reselections_, "epochs": det.n_epochs_,
            "init": {k: det.init_info_.get(k) for k in ("clusterer", "n_clusters", "unclustered", "selected")},
            "purity": [{"step": h["step"], "selected": h["selected"], "anomalies": int(y[h["mask"]].sum())}
                       for h in det.history_],
            "guard": [{"step": h["step"], "rows_rejected": h["guard"]["rows_rejected"],
                       "anomalies_rejected": int(y[h["rejected_mask"]].sum())}
                      for h in det.history_[1:] if "rejected_mask" in h]}


def _fit_eval(setting: str, method: str, make, X, y, seed: int, records: list) -> None:
    det, secs = timed_fit(make, X)
    auroc, auprc = evaluate_scores(y, det.decision_scores_)
    extra = _duad_extra(det, y) if hasattr(det, "history_") else {}
    records.append(Record(setting, method, seed, auroc, auprc, secs, extra))
    note = ""
    if extra:
        p = extra["purity"]
        note = (f"  [{extra['stop_reason']}; selection anomalies {p[0]['anomalies']}/{p[0]['selected']} at start, "
                f"{p[-1]['anomalies']}/{p[-1]['selected']} at the end]")
    click.echo(f"{setting:24s} seed {seed} {method:28s} AUROC {auroc:6.2f} AUPRC {auprc:6.2f} fit {secs:6.1f}s{note}")


def _load_images(ds: dict, path_override):
    from videoad.datasets.images import LOADERS

    path = path_override or ds.get("path")
    if ds["name"] != "digits":
        if path is None:
            raise ValueError(f"dataset {ds['name']!r} needs a path (config dataset.path or --data)")
        path = Path(path)
        if not path.is_absolute() and not path.exists():
            # configs hold paths relative to the repository root
            path = Path(__file__).resolve().parents[2] / path
    return LOADERS[ds["name"]](path, split=ds.get("split", "test"))


def run_dataset(cfg: dict, tables, seeds: int, out: Path | None, command: str, data_path=None,
                threads: int | None = None) -> dict:
    """Run the requested tables for one dataset config; returns {table: summary rows}."""
    import torch

    from videoad.datasets.images import load_protocol

    if threads:
        torch.set_num_threads(int(threads))
    _warm_up()
    ds = cfg["dataset"]
    name = ds["name"]
    images = _load_images(ds, data_path)
    sets = [load_protocol(name, images=images, normal_class=ds["normal_class"],
                          anomaly_ratio=float(ds["anomaly_ratio"]), random_state=s, split=ds.get("split", "test"))
            for s in range(seeds)]
    label = f"{ds.get('label', name)} raw pixels"
    protocol = protocol_text(ds, sets[0].X.shape[0], int(sets[0].y.sum()))
    duad = dict(cfg["duad"])
    results: dict = {}

    if "4" in tables:
        records: list[Record] = []
        for seed, s in enumerate(sets):
            for method, make in method_factories(cfg, seed).items():
                _fit_eval(label, method, make, s.X, s.y, seed, records)
        results["4"] = _write(out, f"images_{name}_table4", protocol, command, cfg, records)

    if "7" in tables:
        t7 = cfg.get("table7") or {}
        ps = t7.get("p", [5, 10, 20, 30, 40, 50])
        gap = float(t7.get("p0_minus_p", 5))
        records = []
        for p in ps:
            params = _merge(duad, {"p": p, "p0": min(float(p) + gap, 99.0)})
            for seed, s in enumerate(sets):
                _fit_eval(f"{label}, p={p:g}", "DUAD", _make("duad", params, seed), s.X, s.y, seed, records)
        protocol7 = protocol + f"; p swept, p0 = p + {gap:g}, everything else as in Table 4"
        results["7"] = _write(out, f"images_{name}_table7", protocol7, command, cfg, records)

    if "8" in tables:
        t8 = cfg.get("table8") or {}
        inits = t8.get("initialisers") or {"dc": duad.get("clusterer_params") or {}, "kmeans": {}, "hdbscan": {},
                                           "gmm": {}}
        modes = t8.get("modes") or {"": {}}
        records = []
        for mode, override in modes.items():
            for init, cparams in inits.items():
                params = _merge(duad, override or {})
                params["clusterer"] = init
                params["clusterer_params"] = dict(cparams or {})
                setting = f"{label}, init={init}" + (f", {mode}" if mode else "")
                for seed, s in enumerate(sets):
                    _fit_eval(setting, "DUAD", _make("duad", params, seed), s.X, s.y, seed, records)
        protocol8 = protocol + "; the initial clusterer varied, everything else as in Table 4"
        if len(modes) > 1:
            protocol8 += "; modes: " + "; ".join(f"{m or 'as configured'} = {o or 'no change'}" for m, o in modes.items())
        results["8"] = _write(out, f"images_{name}_table8", protocol8, command, cfg, records)

    if "timing" in tables:
        results["timing"] = _timing(cfg, images, name, out, command, threads)
    return results


def _warm_up() -> None:
    """One tiny DUAD fit, untimed: the first fit of a process pays torch's and scikit-learn's lazy
    imports (seconds), which would otherwise be billed to whichever method runs first."""
    from videoad.detector.duad import DUAD

    X = np.random.default_rng(0).random((64, 8)).astype(np.float32)
    DUAD(p0=25, p=20, r=1, clusterer="gmm", clusterer_params={"n_components": 2}, n_components=2,
         hidden_dims=[4], latent_dim=2, max_reselections=1, device="cpu", random_state=0).fit(X)


def _timing(cfg: dict, images, name: str, out: Path | None, command: str, threads) -> list[dict]:
    """Wall-clock fits on larger slices of the split (timing only, no AUROC)."""
    import torch

    from videoad.detector.distribution_clustering import distribution_clustering
    from videoad.detector.duad import DUAD

    t = cfg.get("timing") or {}
    scale = {"mnist": 255.0, "cifar10": 255.0, "digits": 16.0}[name]
    X_all = images.images.reshape(images.images.shape[0], -1).astype(np.float32) / np.float32(scale)
    rows = []
    n_threads = torch.get_num_threads()
    if t.get("duad_rows"):
        n = min(int(t["duad_rows"]), X_all.shape[0])
        t0 = time.perf_counter()
        det = DUAD(random_state=0, **cfg["duad"]).fit(X_all[:n])
        secs = time.perf_counter() - t0
        rows.append({"what": f"DUAD full fit (clustering {det.init_info_['seconds']:.1f}s included)",
                     "rows": n, "dim": X_all.shape[1], "seconds": secs, "threads": n_threads,
                     "epochs": det.n_epochs_, "budget_seconds": t.get("duad_budget_seconds")})
    if t.get("dc_rows"):
        n = min(int(t["dc_rows"]), X_all.shape[0])
        params = dict((cfg["duad"].get("clusterer_params") or {}))
        t0 = time.perf_counter()
        dc = distribution_clustering(X_all[:n], random_state=0, **params)
        secs = time.perf_counter() - t0
        rows.append({"what": f"Distribution Clustering alone ({dc.n_clusters} clusters, "
                             f"{dc.info['n_unclustered']} unclustered)",
                     "rows": n, "dim": X_all.shape[1], "seconds": secs, "threads": n_threads,
                     "budget_seconds": t.get("dc_budget_seconds")})
    lines = ["| what | rows x dim | seconds | budget | torch threads |", "|---|---|---|---|---|"]
    for r in rows:
        budget = f"{r['budget_seconds']:g} s" if r.get("budget_seconds") else "-"
        verdict = "" if not r.get("budget_seconds") else (" (within)" if r["seconds"] <= r["budget_seconds"]
                                                          else " (OVER)")
        lines.append(f"| {r['what']} | {r['rows']} x {r['dim']} | {r['seconds']:.1f}{verdict} | {budget} | "
                     f"{r['threads']} |")
    table = "\n".join(lines)
    click.echo(table)
    if out is not None:
        import json

        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        (out / f"images_{name}_timing.json").write_text(json.dumps({"command": command, "rows": rows}, indent=2))
        (out / f"images_{name}_timing.md").write_text(f"# images_{name}_timing\n\nCommand: `{command}`\n\n{table}\n")
    return rows


def _write(out, name, protocol, command, cfg, records) -> list[dict]:
    rows = summarise(records)
    click.echo(markdown_table(rows))
    if out is not None:
        json_path, md_path = write_results(out, name, protocol, command, cfg, records, rows)
        click.echo(f"wrote {json_path} and {md_path}")
    return rows


def _csv(value: str, allowed, what: str) -> list[str]:
    items = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in items if v not in allowed]
    if bad or not items:
        raise click.BadParameter(f"{what} must be a comma-separated subset of {','.join(allowed)}")
    return items


@click.command("images")
@click.option("--datasets", default="mnist,cifar10", show_default=True,
              help="Comma-separated: mnist, cifar10, digits (each reads configs/<name>.yaml).")
@click.option("--tables", default="4,7,8,timing", show_default=True, help="Comma-separated subset of 4,7,8,timing.")
@click.option("--seeds", type=int, default=None, help="Seeds 0..N-1 [default: 5, or the config's quick.seeds with --quick].")
@click.option("--config", "config_paths", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Config YAML(s) to use instead of configs/<dataset>.yaml (the dataset comes from the file).")
@click.option("--data", "data_path", type=click.Path(exists=True), default=None,
              help="Override dataset.path (only with a single dataset).")
@click.option("--quick", is_flag=True, help="Apply each config's `quick` overrides (fewer seeds, shorter training).")
@click.option("--threads", type=int, default=1, show_default=True,
              help="torch threads; on a shared machine more threads than idle cores slow torch down many-fold.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("benchmarks/results"),
              show_default=True, help="Where images_<dataset>_table<N>.json/.md go.")
def images_cmd(datasets, tables, seeds, config_paths, data_path, quick, threads, out):
    """Paper Tables 4, 7 and 8 on MNIST / CIFAR-10 raw pixels, with the baselines and fit times."""
    tables = _csv(tables, TABLES, "--tables")
    try:
        if config_paths:
            cfgs = [load_config(p) for p in config_paths]
        else:
            cfgs = [load_config(default_config_path(d)) for d in _csv(datasets, DATASETS, "--datasets")]
        if data_path and len(cfgs) != 1:
            raise click.BadParameter("--data needs exactly one dataset", param_hint="--data")
        command = "videoad " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        for cfg in cfgs:
            if quick:
                q = cfg.get("quick") or {}
                cfg = _merge(cfg, {k: v for k, v in q.items() if k != "seeds"})
            n_seeds = seeds if seeds is not None else (int((cfg.get("quick") or {}).get("seeds", 2)) if quick else 5)
            if n_seeds < 1:
                raise click.BadParameter("must be >= 1", param_hint="--seeds")
            click.echo(f"== {cfg['dataset']['name']}: tables {','.join(tables)}, {n_seeds} seeds")
            run_dataset(cfg, tables, n_seeds, out, command, data_path, threads)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
