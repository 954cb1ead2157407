"""`videoad bench kddcup`: the paper's KDDCUP99 protocol, DUAD beside the baselines, over seeds.

Protocol (paper section 4.3, after DAGMM): the minority `normal.` traffic is the anomaly class;
a random 50% of the rows is the test set; the training set is every majority-class row of the
other half plus anomalies at 5 / 10 / 20% (`datasets.kddcup.contamination_split`). Every method
is fitted on the training set and scores the test set; AUROC and AUPRC (average precision)
with the anomaly as the positive class, mean ± std over seeds.
"""
from __future__ import annotations

import logging
import shlex
import sys
from pathlib import Path

import click
import numpy as np

from videoad.bench.common import (Record, check_bench_arguments, configured_baselines, evaluate_scores,
                                  data_files, data_inputs, output_option, output_ready, results_dir, results_lock,
                                  summarise, timed_fit, write_results)
from videoad.config import ARGS, ConfigError, ListOf, Map, Nullable, check, defaults, dump, merge, read_yaml
from videoad.detector.validation import MAX_REPEATS

log = logging.getLogger(__name__)

PROTOCOL = ("KDDCUP99 10% (DAGMM preprocessing, 118 features); anomaly = `normal.` traffic; "
            "50% random test split; training = majority rows of the other half + anomalies at the given "
            "share (all anomalies and subsampled majority rows where the half has too few); "
            "fit on train, score the test half; AUROC/AUPRC in %, mean ± std over seeds")

#: the defaults: the packaged videoad/defaults/kddcup.yaml, the one place they are written
#: (configs/kddcup.yaml is a copy a test keeps equal)
DEFAULT_CONFIG: dict = defaults("kddcup")

_ROWS = Map(Nullable(ARGS))  # result-table row -> constructor arguments
#: what a config file may hold, and of which kind (videoad.config.check)
SCHEMA = {
    "contaminations": ListOf(float),
    "duad": ARGS,
    "variants": _ROWS,
    "baselines": _ROWS,
    "quick": {"fraction": float, "seeds": int, "duad": ARGS, "baselines": _ROWS},
}


def load_config(path=None) -> dict:
    """The packaged defaults with the YAML file at `path` (if any) laid over them, key by key;
    a key the defaults do not have, or a value of the wrong kind, is an error naming the file
    and the key."""
    where = str(path) if path is not None else "videoad/defaults/kddcup.yaml"
    cfg = defaults("kddcup")
    if path is not None:
        user = read_yaml(path)
        check(user, SCHEMA, where)
        cfg = merge(cfg, user)
    check(cfg, SCHEMA, where)
    if not cfg["contaminations"]:
        raise ConfigError(f"{where}: contaminations is empty; give at least one share, e.g. [0.2]")
    for i, c in enumerate(cfg["contaminations"]):
        if not 0.0 < float(c) < 1.0:
            raise ConfigError(f"{where}: contaminations[{i}] must be a share in (0, 1), got {c!r}")
    q = cfg["quick"]
    if not 0.0 < float(q["fraction"]) <= 1.0 or not 1 <= int(q["seeds"]) <= MAX_REPEATS:
        raise ConfigError(f"{where}: quick.fraction must be in (0, 1] and quick.seeds from 1 to {MAX_REPEATS:,}, got "
                          f"{q['fraction']!r}, {q['seeds']!r}")
    check_bench_arguments(cfg, "kddcup", where)  # every row names a detector, every argument is one of its
    return cfg


def method_factories(cfg: dict, seed: int) -> dict:
    """Row name -> a function that makes the unfitted detector: DUAD, its variants, then the
    baselines (`bench.common.configured_baselines`: the config's, then registered ones)."""
    from videoad.detector import registry

    duad = dict(cfg["duad"])
    methods = {"DUAD": lambda: registry.make("duad", {**duad, "keep_selection_history": True}, seed)}
    for name, override in (cfg.get("variants") or {}).items():
        params = {**merge(duad, override), "keep_selection_history": True}
        methods[name] = lambda params=params: registry.make("duad", params, seed)
    for row, name, params in configured_baselines(cfg.get("baselines"), "kddcup"):
        methods[row] = lambda name=name, params=params: registry.make(name, params, seed)
    return methods


def quick_settings(cfg: dict) -> dict:
    """The settings a --quick run fits with: the quick section's duad and baselines laid over the rest
    (idempotent, so --print-config shows what the run uses)."""
    q = cfg["quick"]
    return merge(cfg, {"duad": q.get("duad", {}), "baselines": q.get("baselines", {})})


def run(data: Path, seeds: int, quick: bool, cfg: dict, out: Path | None, command: str) -> list[dict]:
    from videoad.datasets.kddcup import contamination_split, load_kddcup

    X, y = load_kddcup(data)
    if quick:
        cfg = quick_settings(cfg)
        idx = np.random.default_rng(12345).choice(X.shape[0], int(cfg["quick"]["fraction"] * X.shape[0]),
                                                  replace=False)
        X, y = X[np.sort(idx)], y[np.sort(idx)]
    records: list[Record] = []
    for c in cfg["contaminations"]:
        setting = f"{100 * c:g}%"
        for seed in range(seeds):
            split = contamination_split(X, y, c, seed)
            for name, make in method_factories(cfg, seed).items():
                try:
                    det, secs = timed_fit(make, split.X_train)
                except ValueError as exc:  # the data's fault here (too few rows, one column): name the file
                    raise ValueError(f"{data}: {setting} split {seed}, {name}: {exc}") from exc
                auroc, auprc = evaluate_scores(split.y_test, det.decision_function(split.X_test))
                extra = {}
                if hasattr(det, "history_"):
                    extra = {"stop_reason": det.stop_reason_, "reselections": det.n_reselections_,
                             "purity": [{"step": h["step"], "selected": h["selected"],
                                         "anomaly_share": float(split.y_train[h["mask"]].mean())}
                                        for h in det.history_],
                             "guard": [_guard_record(h, split.y_train) for h in det.history_[1:]]}
                    if len(getattr(det, "restarts_", [])) > 1:  # every attempt of a restarted fit
                        extra["attempts"] = det.restarts_
                records.append(Record(setting, name, seed, auroc, auprc, secs, extra))
                note = ""
                if extra:
                    guarded = [g for g in extra["guard"] if g]
                    note = (f"  [{extra['stop_reason']}, selection anomaly share "
                            f"{100 * extra['purity'][-1]['anomaly_share']:.2f}%"
                            + (f", guard kept out {sum(g['rows_rejected'] for g in guarded)} rows" if guarded else "")
                            + (f", {len(extra['attempts'])} attempts: "
                               + "/".join(a["stop_reason"] for a in extra["attempts"]) if "attempts" in extra else "")
                            + "]")
                click.echo(f"{setting} seed {seed} {name:32s} AUROC {auroc:6.2f} AUPRC {auprc:6.2f} "
                           f"fit {secs:6.1f}s" + note)
            if out is not None:  # after every split, so that an interrupted run keeps what it measured
                _write(out, quick, cfg, command, records, data, complete=False)
    if out is not None:  # the whole run: the results, in place of an earlier run's (and of the partial)
        paths = _write(out, quick, cfg, command, records, data)
        click.echo(f"wrote {paths[0]} and {paths[1]}")
    return summarise(records)


def _guard_record(entry: dict, y: np.ndarray) -> dict | None:
    """What the guard did at one reselection, with the anomaly share of the rows it kept out
    (labels used for this report only; the guard never sees them)."""
    g = entry.get("guard")
    if g is None:
        return None
    out = {"step": entry["step"], "reference_angle": g["reference_angle"], "rows_rejected": g["rows_rejected"],
           "rejected": [{"rows": r["rows"], "median_angle": r["median_angle"]} for r in g["rejected"]]}
    if "rejected_mask" in entry:
        out["anomaly_share_rejected"] = float(y[entry["rejected_mask"]].mean()) if g["rows_rejected"] else None
    return out


def _write(out: Path, quick: bool, cfg: dict, command: str, records: list[Record], data: Path,
           complete: bool = True):
    protocol = PROTOCOL + (f"; QUICK: {100 * cfg['quick']['fraction']:g}% of the rows, shorter training"
                           if quick else "")
    return write_results(out, "kddcup" + ("_quick" if quick else ""), protocol, command, cfg, records,
                         summarise(records), complete=complete, data=data_files(data))


@click.command("kddcup")
@click.option("--data", type=click.Path(path_type=Path), default=None,
              help="The KDDCUP99 file (kdd_cup.npz or kddcup.data_10_percent(.gz)), or a data folder laid out "
                   "like shared/data [default: $VIDEOAD_DATA].")
@click.option("--seeds", type=click.IntRange(1, MAX_REPEATS), default=None, help="Seeds 0..N-1 (split and model) [default: 5, or the config's quick.seeds with --quick].")
@click.option("--quick", is_flag=True, help="5% of the rows, one seed, shorter training: a smoke run (< 3 min).")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="YAML laid over the defaults (videoad/defaults/kddcup.yaml, copied in configs/kddcup.yaml).")
@click.option("--print-config", is_flag=True, help="Print the settings this command would use as YAML and exit.")
@output_option("Where kddcup.json and kddcup.md go (kddcup_quick.json and .md with --quick).")
def kddcup_cmd(data, seeds, quick, config_path, print_config, output, out_alias):
    """KDDCUP99 at 5/10/20% contamination: DUAD vs PCA, Isolation Forest, OC-SVM, DAGMM.

    After each split the results so far are in kddcup.partial.json / .md; the complete run
    replaces kddcup.json / .md and removes them.

    Exit status: 0 done; 1 an error, named (data, config, an unwritable -o); 2 a wrong option or an -o that is the data or another output; 130 stopped
    with Ctrl-C (the partial files stay, the earlier complete ones untouched).
    """
    from videoad.data import kddcup_file

    out = results_dir(output, out_alias)
    try:
        cfg = load_config(config_path)
        if print_config:
            click.echo(dump(quick_settings(cfg) if quick else cfg), nl=False)
            return
        path = kddcup_file(data)
        if seeds is None:
            seeds = cfg["quick"]["seeds"] if quick else 5
        output_ready(out, data_inputs(data, path))
        command = "videoad " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        with results_lock(out, ["kddcup" + ("_quick" if quick else "")], command):
            rows = run(path, seeds, quick, cfg, out, command)
    except (ValueError, OSError) as exc:  # OSError: a full or read-only disk, named (extract.store.output_error)
        raise click.ClickException(str(exc)) from exc
    from videoad.bench.common import markdown_table

    click.echo(markdown_table(rows, "contamination"))
