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
Settings: the packaged `videoad/defaults/<dataset>.yaml` (mnist, cifar10; copied in
`configs/`), or a complete config of your own with `--config`. The data: `--data` (the
dataset's file or folder, or a data folder laid out like shared/data), else `VIDEOAD_DATA`
(`videoad.data`); a relative `dataset.path` is inside that data folder.
"""
from __future__ import annotations

import logging
import math
import shlex
import sys
import time
from pathlib import Path

import click
import numpy as np

from videoad.bench.common import (Record, check_bench_arguments, configured_baselines, data_files, data_inputs,
                                  environment, evaluate_scores, markdown_table, output_allowed, output_option, output_ready,
                                  results_dir, results_lock, summarise, timed_fit, write_results)
from videoad.config import (ARGS, ConfigError, ListOf, Map, Nullable, check, check_values, defaults_file,
                            defaults_path, dump, merge, read_yaml, require, yaml_loader)
from videoad.cli.settings import MAX_THREADS, count
from videoad.detector.validation import MAX_REPEATS

log = logging.getLogger(__name__)

DATASETS = ("mnist", "cifar10", "digits")
TABLES = ("4", "7", "8", "timing")
#: the datasets with packaged defaults (videoad/defaults/<name>.yaml)
PACKAGED = ("mnist", "cifar10")

_ROWS = Map(Nullable(ARGS))  # result-table row (or sweep entry) -> constructor arguments
_SECTIONS = {
    "dataset": {"name": str, "label": str, "path": Nullable(str), "split": str, "normal_class": (int, str),
                "anomaly_ratio": float},
    "duad": ARGS,
    "variants": _ROWS,
    "baselines": _ROWS,
    "table7": {"p": ListOf(float), "p0_minus_p": float},
    "table8": {"modes": _ROWS, "initialisers": _ROWS},
    "timing": {"duad_rows": int, "duad_budget_seconds": float, "dc_rows": int, "dc_budget_seconds": float},
}
#: what a config file may hold, and of which kind (videoad.config.check); `quick` overrides any
#: section for --quick and sets the seeds
SCHEMA = {**_SECTIONS, "quick": {**_SECTIONS, "seeds": int}}
_BUDGET = (lambda v: math.isfinite(v) and v > 0, "a finite number of seconds > 0")
_ROWS_OR_NONE = (lambda v: v >= 0, "a number of rows >= 0 (0: not timed)")
#: ranges of the tables' own settings (the detectors' arguments are their own rules': check_bench_arguments);
#: each passed the read and failed, or ran wrong, at its table, hours in (p0 = p + p0_minus_p, at most 99)
_RULES = {"table7.p": (lambda v: all(0 < p <= 99 for p in v), "a list of percentages in (0, 99]"),
          "table7.p0_minus_p": (lambda v: math.isfinite(v) and v >= 0, "a finite number >= 0"),
          "timing.duad_rows": _ROWS_OR_NONE, "timing.dc_rows": _ROWS_OR_NONE,
          "timing.duad_budget_seconds": _BUDGET, "timing.dc_budget_seconds": _BUDGET}
RULES = {**_RULES, **{f"quick.{k}": v for k, v in _RULES.items()}, "quick.seeds": (lambda v: 1 <= v <= MAX_REPEATS, f"from 1 to {MAX_REPEATS:,}")}


def default_config_path(dataset: str) -> Path:
    """The packaged defaults of a dataset (videoad/defaults/<dataset>.yaml)."""
    if dataset not in PACKAGED:
        raise ConfigError(f"no packaged config for dataset {dataset!r} (there are: {', '.join(PACKAGED)}); "
                          "write one and pass it with --config")
    defaults_file(dataset)
    return defaults_path(dataset)


def load_configs(path) -> list[dict]:
    """The dataset configs of one file: one YAML document, or several separated by `---` (what
    `--print-config` prints for several datasets), each checked as `load_config` checks one."""
    import yaml

    p = Path(path)
    try:
        docs = ([d for d in yaml.load_all(p.read_text(), Loader=yaml_loader()) if d is not None]  # noqa: S506
                if p.is_file() else [])
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        docs = []  # read_yaml names the problem
    if len(docs) <= 1:
        return [load_config(path)]
    return [load_config(path, doc, f"{p} (document {i + 1})") for i, doc in enumerate(docs)]


def load_config(path, doc: dict | None = None, where: str | None = None) -> dict:
    """A dataset's benchmark config, complete in itself: `dataset` (protocol), `duad`
    (constructor arguments), `baselines`, `variants`, `table7`, `table8`, `timing`, `quick`.
    A missing section, an unknown key or a value of the wrong kind is an error naming the file
    and the key. `doc`: the config already read (one document of a file of several)."""
    where = where or str(path)
    if doc is not None and not isinstance(doc, dict):
        raise ConfigError(f"{where}: expected a mapping of settings")
    cfg = read_yaml(path) if doc is None else doc
    check(cfg, SCHEMA, where)  # first: a misspelt `datset:` is named as such, not as `dataset` missing
    require(cfg, ("dataset", "duad"), where)
    ds = cfg["dataset"]
    if ds.get("name") not in DATASETS:
        raise ConfigError(f"{where}: dataset.name must be one of {DATASETS}, got {ds.get('name')!r}")
    for key in ("normal_class", "anomaly_ratio"):
        if key not in ds:
            raise ConfigError(f"{where}: dataset.{key} is missing")
    _check_protocol(ds, where, "dataset")
    quick = (cfg.get("quick") or {}).get("dataset")
    if quick:  # what --quick runs: the quick section's dataset keys laid over the dataset's
        _check_protocol(merge(ds, quick), where, "quick.dataset")
    check_values(cfg, RULES, where)
    check_bench_arguments(cfg, "images", where)  # every row names a detector, every argument is one of its
    return cfg


#: every dataset here has ten classes, 0-9 (MNIST's and digits' named "0" to "9")
N_CLASSES = 10


def _check_protocol(ds: dict, where: str, key: str) -> None:
    """The one-class protocol's values, when the config is read: a `normal_class: 99` was refused
    only once the images were read, an `anomaly_ratio` of the quick section at its run."""
    if ds.get("name") not in DATASETS:
        raise ConfigError(f"{where}: {key}.name must be one of {DATASETS}, got {ds.get('name')!r}")
    if not 0.0 < float(ds["anomaly_ratio"]) < 1.0:
        raise ConfigError(f"{where}: {key}.anomaly_ratio must be in (0, 1), got {ds['anomaly_ratio']!r}")
    k = ds["normal_class"]
    if isinstance(k, str):
        number = k.strip().lstrip("+-").isdigit()
        if not number and ds["name"] == "cifar10":  # a class name: the files' own names are read with them
            return
        if not number:
            raise ConfigError(f"{where}: {key}.normal_class must be a class from 0 to {N_CLASSES - 1} of "
                              f"{ds['name']}, got {k!r}")
        k = int(k)
    if not 0 <= k < N_CLASSES:
        raise ConfigError(f"{where}: {key}.normal_class must be a class from 0 to {N_CLASSES - 1} ({ds['name']} has "
                          f"{N_CLASSES}), got {ds['normal_class']!r}")


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
        methods[vname] = _make("duad", merge(duad, override), seed)
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


def dataset_path(ds: dict, data: Path | None = None) -> Path | None:
    """Where a dataset's images are: `data` when it is the dataset's own file or folder, else
    `dataset.path` inside the data folder (`data` when it holds it, else VIDEOAD_DATA); never
    the working directory. None for digits (shipped with scikit-learn)."""
    from videoad.data import locate

    if ds["name"] == "digits":
        return None
    rel = ds.get("path")
    if data is not None:
        data = Path(data).expanduser()
        if not data.exists():
            raise ValueError(f"--data {data}: no such file or folder")
        if rel is None or not (data.is_dir() and (data / rel).exists()):
            return data  # the dataset itself
    if rel is None:
        raise ValueError(f"dataset {ds['name']!r} needs a path (config dataset.path, or --data)")
    return locate(rel, f"dataset {ds['name']!r} (dataset.path {rel})", data)


def _load_images(ds: dict, data):
    from videoad.datasets.images import LOADERS

    path = dataset_path(ds, data)
    try:
        return LOADERS[ds["name"]](path, split=ds.get("split", "test"))
    except ValueError as exc:  # --data taken as the dataset itself: say where else the files may go
        rel = ds.get("path")
        if data is None or rel is None or Path(path) != Path(data).expanduser() or not Path(path).is_dir():
            raise
        raise ValueError(f"{exc}; --data is a data folder holding {rel}/ (dataset.path), or the dataset's own "
                         "folder") from None


def _check_dataset(cfg: dict, where: str, data_path=None):
    """The dataset's split, read, once its one-class set is known to build (seed 0); a protocol the
    split cannot give (a normal_class it lacks) is an error naming the config `where`."""
    from videoad.datasets.images import load_protocol

    ds = cfg["dataset"]
    images = _load_images(ds, data_path)
    try:
        load_protocol(ds["name"], images=images, normal_class=ds["normal_class"],
                      anomaly_ratio=float(ds["anomaly_ratio"]), random_state=0, split=ds.get("split", "test"))
    except ValueError as exc:
        raise ValueError(f"{where}: dataset: {exc} (in {images.source})") from None
    return images


def run_dataset(cfg: dict, tables, seeds: int, out: Path | None, command: str, data_path=None,
                threads: int | None = None, quick: bool = False, images=None) -> dict:
    """Run the requested tables for one dataset config; returns {table: summary rows}.

    `images`: the dataset's split already read (`videoad.datasets.images.ImageSet`), else read here.

    `quick` (the config's quick overrides applied): the files are `..._quick.json/.md` and their
    protocol says so, so that a smoke run never replaces a full run's results."""
    import torch

    from videoad.datasets.images import load_protocol

    if threads:
        torch.set_num_threads(int(threads))
    _warm_up()
    ds = cfg["dataset"]
    name = ds["name"]
    if images is None:
        images = _load_images(ds, data_path)
    source = dataset_path(ds, data_path)  # what was read: its files' sizes and hashes go in the results
    data = data_files(*([] if source is None else sorted(source.iterdir()) if source.is_dir() else [source]))
    sets = [load_protocol(name, images=images, normal_class=ds["normal_class"],
                          anomaly_ratio=float(ds["anomaly_ratio"]), random_state=s, split=ds.get("split", "test"))
            for s in range(seeds)]
    label = f"{ds.get('label', name)} raw pixels"
    protocol = protocol_text(ds, sets[0].X.shape[0], int(sets[0].y.sum()))
    sfx = "_quick" if quick else ""
    if quick:
        protocol += f"; QUICK: the config's quick overrides, {seeds} seed(s)"
    duad = dict(cfg["duad"])
    results: dict = {}

    def partial(stem: str, protocol_: str, records: list[Record]) -> None:
        """What a table has measured so far, as `<stem>.partial.json` / `.md` (an interrupted run
        keeps it; an earlier complete table stays until this one completes)."""
        if out is not None:
            write_results(out, stem, protocol_, command, cfg, records, summarise(records), complete=False, data=data)

    if "4" in tables:
        records: list[Record] = []
        for seed, s in enumerate(sets):
            for method, make in method_factories(cfg, seed).items():
                _fit_eval(label, method, make, s.X, s.y, seed, records)
            partial(f"images_{name}_table4{sfx}", protocol, records)
        results["4"] = _write(out, f"images_{name}_table4{sfx}", protocol, command, cfg, records, data)

    if "7" in tables:
        t7 = cfg.get("table7") or {}
        ps = t7.get("p", [5, 10, 20, 30, 40, 50])
        gap = float(t7.get("p0_minus_p", 5))
        records = []
        protocol7 = protocol + f"; p swept, p0 = p + {gap:g}, everything else as in Table 4"
        for p in ps:
            params = merge(duad, {"p": p, "p0": min(float(p) + gap, 99.0)})
            for seed, s in enumerate(sets):
                _fit_eval(f"{label}, p={p:g}", "DUAD", _make("duad", params, seed), s.X, s.y, seed, records)
            partial(f"images_{name}_table7{sfx}", protocol7, records)
        results["7"] = _write(out, f"images_{name}_table7{sfx}", protocol7, command, cfg, records, data)

    if "8" in tables:
        t8 = cfg.get("table8") or {}
        inits = t8.get("initialisers") or {"dc": duad.get("clusterer_params") or {}, "kmeans": {}, "hdbscan": {},
                                           "gmm": {}}
        modes = t8.get("modes") or {"": {}}
        records = []
        protocol8 = protocol + "; the initial clusterer varied, everything else as in Table 4"
        if len(modes) > 1:
            protocol8 += "; modes: " + "; ".join(f"{m or 'as configured'} = {o or 'no change'}"
                                                 for m, o in modes.items())
        for mode, override in modes.items():
            for init, cparams in inits.items():
                params = merge(duad, override or {})
                params["clusterer"] = init
                params["clusterer_params"] = dict(cparams or {})
                setting = f"{label}, init={init}" + (f", {mode}" if mode else "")
                for seed, s in enumerate(sets):
                    _fit_eval(setting, "DUAD", _make("duad", params, seed), s.X, s.y, seed, records)
                partial(f"images_{name}_table8{sfx}", protocol8, records)
        results["8"] = _write(out, f"images_{name}_table8{sfx}", protocol8, command, cfg, records, data)

    if "timing" in tables:
        results["timing"] = _timing(cfg, images, name, out, command, threads, quick)
    return results


def _warm_up() -> None:
    """One tiny DUAD fit, untimed: the first fit of a process pays torch's and scikit-learn's lazy
    imports (seconds), which would otherwise be billed to whichever method runs first."""
    from videoad.detector.duad import DUAD

    X = np.random.default_rng(0).random((64, 8)).astype(np.float32)
    DUAD(p0=25, p=20, r=1, clusterer="gmm", clusterer_params={"n_components": 2}, n_components=2,
         hidden_dims=[4], latent_dim=2, max_reselections=1, device="cpu", random_state=0).fit(X)


def _timing(cfg: dict, images, name: str, out: Path | None, command: str, threads, quick: bool = False
            ) -> list[dict]:
    """Wall-clock fits on larger slices of the split (timing only, no AUROC); a quick run's files
    are `images_<name>_timing_quick`."""
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
        split = cfg["dataset"].get("split", "test")
        protocol = (f"{name}: wall-clock seconds of one fit on larger slices of the {split} split "
                    "(timing only, no AUROC), after one untimed warm-up fit; the settings are the config's"
                    + ("; QUICK: the config's quick overrides" if quick else ""))
        from extract.store import write_atomic

        env = environment()
        stem = f"images_{name}_timing" + ("_quick" if quick else "")
        # each file whole or not at all (a kill while writing left half of one under its name)
        write_atomic(out / f"{stem}.json", json.dumps(
            {"command": command, "protocol": protocol, "environment": env, "config": cfg, "rows": rows},
            indent=2).encode())
        versions = ", ".join(f"{k} {v}" for k, v in env.items() if k not in ("machine", "date"))
        write_atomic(out / f"{stem}.md", (
            f"# {stem}\n\nProtocol: {protocol}.\n\nCommand: `{command}`\n\n"
            f"Versions: {versions} ({env['machine']}, {env['date']}).\n\n{table}\n").encode())
        click.echo(f"wrote {out / (stem + '.json')} and {out / (stem + '.md')}")
    return rows


def _write(out, name, protocol, command, cfg, records, data=None) -> list[dict]:
    rows = summarise(records)
    click.echo(markdown_table(rows))
    if out is not None:
        json_path, md_path = write_results(out, name, protocol, command, cfg, records, rows, data=data)
        click.echo(f"wrote {json_path} and {md_path}")
    return rows


def _csv(value: str, allowed, what: str) -> list[str]:
    """The comma-separated names of `value`, each one of `allowed` in any case (`--datasets MNIST`)."""
    items = [v.strip().lower() for v in value.split(",") if v.strip()]
    bad = [v for v in items if v not in allowed]
    if bad or not items:
        named = f" ({', '.join(repr(b) for b in bad)} is not one)" if bad else ""
        raise click.BadParameter(f"{what} must be a comma-separated subset of {','.join(allowed)}{named}")
    return items


@click.command("images")
@click.option("--datasets", default="mnist,cifar10", show_default=True,
              help="Comma-separated: mnist, cifar10 (each reads its packaged config, videoad/defaults/<name>.yaml).")
@click.option("--tables", default="4,7,8,timing", show_default=True, help="Comma-separated subset of 4,7,8,timing.")
@click.option("--seeds", type=count(1, MAX_REPEATS), default=None, help="Seeds 0..N-1 [default: 5, or the config's quick.seeds with --quick].")
@click.option("--config", "config_paths", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Complete config YAML(s) to use instead of the packaged ones (the dataset comes from the file; "
                   "configs/mnist.yaml and configs/cifar10.yaml are copies to start from).")
@click.option("--print-config", is_flag=True,
              help="Print the settings this command would use (with --quick's overrides applied) as YAML and exit.")
@click.option("--data", "data_path", type=click.Path(exists=True, path_type=Path), default=None,
              help="The dataset's file or folder (one dataset), or a data folder laid out like shared/data "
                   "[default: $VIDEOAD_DATA].")
@click.option("--quick", is_flag=True, help="Apply each config's `quick` overrides (fewer seeds, shorter training).")
@click.option("--threads", type=count(0, MAX_THREADS), default=1, show_default=True,
              help="torch threads (0: torch's own choice); on a shared machine more threads than idle "
                   "cores slow torch down many-fold.")
@output_option("Where images_<dataset>_table<N>.json/.md go.")
def images_cmd(datasets, tables, seeds, config_paths, print_config, data_path, quick, threads, output, out_alias):
    """Paper Tables 4, 7 and 8 on MNIST / CIFAR-10 raw pixels, with the baselines and fit times.

    A table's results so far are in its .partial.json / .md until it completes.

    Exit status: 0 done; 1 an error, named (data, config, an unwritable -o); 2 a wrong option or an -o that is the data or another output; 130 stopped
    with Ctrl-C (the partial files stay, the earlier complete ones untouched).
    """
    tables = _csv(tables, TABLES, "--tables")
    out = results_dir(output, out_alias)
    try:
        if config_paths:
            per_file = [(p, load_configs(p)) for p in config_paths]
            cfgs = [cfg for _, these in per_file for cfg in these]
            wheres = [str(p) if len(these) == 1 else f"{p} (document {i + 1})"
                      for p, these in per_file for i in range(len(these))]
            given = click.get_current_context().get_parameter_source("datasets") == click.core.ParameterSource.COMMANDLINE
            named = {cfg["dataset"]["name"] for cfg in cfgs}
            if given and set(_csv(datasets, PACKAGED, "--datasets")) != named:
                raise click.UsageError(f"--datasets {datasets} and --config (dataset(s) {', '.join(sorted(named))}) "
                                       "disagree: with --config the dataset comes from the file; leave --datasets out")
        else:
            wheres = [str(default_config_path(d)) for d in _csv(datasets, PACKAGED, "--datasets")]
            cfgs = [load_config(w) for w in wheres]
        seen = [cfg["dataset"]["name"] for cfg in cfgs]
        twice = sorted({n for n in seen if seen.count(n) > 1})
        if twice:  # the same result files twice: the second run's lock was refused as "another videoad bench"
            raise click.UsageError(f"dataset {', '.join(twice)} named more than once (in --datasets or by the --config "
                                   "files); its results would go to the same files: give each dataset once")
        if quick:
            cfgs = [merge(cfg, {k: v for k, v in (cfg.get("quick") or {}).items() if k != "seeds"}) for cfg in cfgs]
        if print_config:
            click.echo("---\n".join(dump(cfg) for cfg in cfgs), nl=False)
            return
        if data_path and len(cfgs) != 1 and not data_path.is_dir():
            raise click.BadParameter("a data file needs exactly one dataset", param_hint="--data")
        if data_path and len(cfgs) > 1:  # each dataset found before any runs: not one's folder for all
            places = [dataset_path(cfg["dataset"], data_path) for cfg in cfgs]
            if sum(1 for where in places if where is not None and Path(where) == Path(data_path).expanduser()) > 1:
                raise click.BadParameter(f"{data_path} is taken as the images of several datasets "
                                         f"({', '.join(c['dataset']['name'] for c in cfgs)}); give the data folder "
                                         "that holds each (or one dataset with --datasets)", param_hint="--data")
        n_seeds = [seeds if seeds is not None else int((cfg.get("quick") or {}).get("seeds", 2)) if quick else 5
                   for cfg in cfgs]  # every count checked before -o is made
        for cfg, n in zip(cfgs, n_seeds):
            if n < 1:  # --seeds itself is checked by click
                raise click.ClickException(f"{cfg['dataset']['name']}'s config: quick.seeds must be >= 1, got {n}")
        command = "videoad " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        # every dataset read, and its protocol built, before the first fit: a damaged CIFAR-10 or a
        # normal_class it lacks was found after MNIST's tables had run (hours), named by no file
        inputs = data_inputs(data_path, *(dataset_path(cfg["dataset"], data_path) for cfg in cfgs))
        output_allowed(out, inputs)  # a wrong -o is a usage error before any data is read
        loaded = [_check_dataset(cfg, where, data_path) for cfg, where in zip(cfgs, wheres)]
        output_ready(out, inputs)
        names = [f"images_{cfg['dataset']['name']}" + ("_quick" if quick else "") for cfg in cfgs]
        with results_lock(out, names, command):
            for cfg, n, images in zip(cfgs, n_seeds, loaded):
                click.echo(f"== {cfg['dataset']['name']}: tables {','.join(tables)}, {n} seeds")
                run_dataset(cfg, tables, n, out, command, data_path, threads, quick, images=images)
    except (ValueError, OSError) as exc:  # OSError: a full or read-only disk, named (extract.store.output_error)
        raise click.ClickException(str(exc)) from exc
