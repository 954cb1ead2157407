"""Shared benchmark plumbing: run detectors over seeds, aggregate, write JSON and Markdown.

Every benchmark runs the simple baselines beside DUAD in the same run, so that a number is
always read next to what a 4-component PCA does on the same split.
"""
from __future__ import annotations

import contextlib
import functools
import json
import os
import platform
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import click
import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from videoad.cli.settings import NonEmptyPath

#: where the benchmarks write their results unless told otherwise (relative to where they run)
RESULTS = Path("benchmarks/results")


def output_option(what: str):
    """`-o/--output DIR` of a benchmark command (with `--out`, its old spelling, hidden)."""
    def deco(f):
        f = click.option("--out", "out_alias", type=NonEmptyPath(file_okay=False, path_type=Path), default=None,
                         hidden=True, help="Old spelling of -o/--output.")(f)
        return click.option("-o", "--output", type=NonEmptyPath(file_okay=False, path_type=Path), default=None,
                            help=f"{what} [default: {RESULTS}]")(f)
    return deco


def results_dir(output: Path | None, out_alias: Path | None) -> Path:
    if output is not None and out_alias is not None and Path(output) != Path(out_alias):
        raise click.UsageError("give the output folder once: -o/--output (--out is its old spelling)")
    return Path(output or out_alias or RESULTS)


#: what a benchmark's output folder is called in a refusal (`videoad.output_kinds.check_output`)
BENCH_RESULTS = "a benchmark's results"


def data_inputs(data, *read) -> dict:
    """What `-o` must not be, for `output_ready`: `--data` as given, and the folder of each data
    file or the dataset folder read (None: nothing, digits)."""
    inputs = {"--data": data}
    for path in read:
        if path is None:
            continue
        path = Path(path)
        if path.is_file():
            inputs[f"the folder of the data file {path.name}"] = path.parent
        else:
            inputs[f"the data folder {path}"] = path
    return inputs


def output_allowed(out: Path, inputs: Mapping | None = None) -> None:
    """The usage check of `output_ready` alone, nothing made: a run that reads its data before it
    makes `out` refuses a wrong `-o` first (exit 2), as it would without data to read."""
    from videoad import output_kinds

    try:
        output_kinds.check_output(out, BENCH_RESULTS, dict(inputs or {}))
    except ValueError as exc:  # a usage error (exit 2), as every other command gives it
        raise click.UsageError(str(exc)) from None


def output_ready(out: Path, inputs: Mapping | None = None) -> Path:
    """`out` made and written to once before any fit: a folder under a file, read-only or full
    fails at once, named (it failed with a traceback after the whole run). A folder that is one
    of `inputs` (the data: `data_inputs`) or holds another kind of videoad output (scores, a
    model folder, a report, a feature store) is refused, as the other commands refuse theirs
    (the results were written in among the scores or beside the data files): a usage error, exit 2."""
    from videoad.scores import ScoresError, writable_folder

    output_allowed(out, inputs)
    try:
        return writable_folder(out)
    except ScoresError as exc:
        raise click.ClickException(str(exc)) from exc


@contextlib.contextmanager
def results_lock(out: Path, names, command: str):
    """Hold `out/.<name>.videoad-lock` (flock) for each result name while a benchmark runs: a
    second run writing the same results into the same folder is refused, naming the first (two
    wrote over each other's partial files in turn, and the pair of files left could be one run's
    JSON beside the other's Markdown). Other benchmarks writing other names into the folder (the
    default benchmarks/results) run beside it. No flock (Windows), no lock, as `output_lock`. The
    temporaries a killed run left in `out` (their writer gone) are removed."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on Linux
        yield
        return
    with contextlib.ExitStack() as stack:
        for name in names:
            try:
                fd = os.open(Path(out) / f".{name}.videoad-lock", os.O_RDWR | os.O_CREAT, 0o644)
            except OSError:  # the command's own writes say what is wrong with the folder
                continue
            stack.callback(os.close, fd)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 512).decode("utf-8", "replace").strip() or "a process that has not said which"
                raise click.ClickException(f"{out}: another videoad bench is writing {name}.json / .md there now "
                                           f"({holder}); wait for it to finish, or give another -o") from None
            except OSError:  # a file system without locks
                continue
            os.ftruncate(fd, 0)
            os.write(fd, f"pid {os.getpid()}, {command}, since {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
        from extract.store import remove_dead_temporaries

        remove_dead_temporaries(out)  # what a killed run's atomic writes left (a living writer's are kept)
        yield


@dataclass
class Record:
    """One (setting, method, seed) measurement."""

    setting: str
    method: str
    seed: int
    auroc: float
    auprc: float
    fit_seconds: float
    extra: dict = field(default_factory=dict)


def _not_seeded_here(params: Mapping | None, where: str, what: str) -> None:
    """A bench config's detector arguments hold no `random_state`: each fit is seeded with its
    split's seed (`registry.make`), which replaced a configured one in silence while the results'
    config still showed it."""
    if isinstance(params, Mapping) and "random_state" in params:
        raise ValueError(f"{where}: {what}: random_state is not used: each fit is seeded with the seed of its "
                         "split (0..N-1, --seeds), recorded in every result; remove it")


def configured_baselines(baselines: Mapping | None, bench: str, where: str = "config"
                         ) -> list[tuple[str, str, dict]]:
    """(row name, registry name, constructor arguments) of each entry of a bench config's
    `baselines:`, in order, then every registered detector that joins `bench` on its own
    (`DetectorSpec.benches`) and is not named already, with its default arguments.

    An entry's key is its row in the result tables; it names the detector by its registry name
    or label ("PCA", "OC-SVM"), or the entry says which with `detector: NAME` ("PCA-4":
    `{detector: pca, n_components: 4}`).
    """
    from videoad.detector import registry
    from videoad.detector.registry import check_arguments

    out = []
    for row, entry in (baselines or {}).items():
        if entry is not None and not isinstance(entry, Mapping):
            raise ValueError(f"{where}: baselines: {row}: expected a mapping of constructor arguments, got {entry!r}")
        params = dict(entry or {})
        name = params.pop("detector", None)
        if name is not None:
            if name not in registry.names():
                raise ValueError(f"{where}: baselines: {row}: detector: unknown detector {name!r}; "
                                 f"registered: {list(registry.names())}")
            spec = registry.get(name)
        else:
            spec = registry.find(row)
            if spec is None:
                raise ValueError(f"{where}: baselines: unknown baseline {row!r}, not a registered detector (names "
                                 f"{list(registry.names())}, labels {[s.label for s in registry.specs()]}); "
                                 "for a row of your own name, say which with `detector: NAME`")
        _not_seeded_here(params, where, f"baselines: {row}")
        check_arguments(spec.name, params, where, f"baselines: {row}")
        out.append((str(row), spec.name, params))
    named = {name for _, name, _ in out} | {"duad"}
    for spec in registry.specs():
        if bench in spec.benches and spec.name not in named:
            out.append((spec.label, spec.name, {}))
    return out


def check_bench_arguments(cfg: Mapping, bench: str, where: str) -> None:
    """Every detector's arguments in a bench config (`duad`, `variants`, `baselines`, and their
    `quick` overrides; the images' Table 8 modes and initialisers) checked against the detector they
    are for, and by its own rules as each row is fitted (laid over the duad, or the baseline's row)."""
    from videoad.config import merge
    from videoad.detector.registry import check_arguments

    rows = {row: name for row, name, _ in configured_baselines(cfg.get("baselines"), bench, where=where)}
    for section in (cfg, cfg.get("quick") or {}):
        prefix = "quick: " if section is not cfg else ""
        _not_seeded_here(section.get("duad"), where, f"{prefix}duad")
        check_arguments("duad", section.get("duad"), where, f"{prefix}duad", rules=section is cfg)
        for row, args in (section.get("variants") or {}).items():
            # a row of the table each: a variant named as DUAD's row or a baseline's replaced it, or
            # was replaced by it, in silence
            if str(row) == "DUAD" or str(row) in rows:
                raise ValueError(f"{where}: {prefix}variants: {row}: that is the name of "
                                 + ("DUAD's own row" if str(row) == "DUAD" else "a baseline's row")
                                 + " in the result tables; give the variant a name of its own")
            _not_seeded_here(args, where, f"{prefix}variants: {row}")
            check_arguments("duad", args, where, f"{prefix}variants: {row}", rules=False)
            _check_over(cfg, section, args, where, f"{prefix}variants: {row}")
        for row, args in ((section.get("table8") or {}).get("modes") or {}).items():
            _not_seeded_here(args, where, f"{prefix}table8: modes: {row}")
            check_arguments("duad", args, where, f"{prefix}table8: modes: {row}", rules=False)
            _check_over(cfg, section, args, where, f"{prefix}table8: modes: {row}")
        for init, args in ((section.get("table8") or {}).get("initialisers") or {}).items():
            # each the initial clusterer of a Table 8 row, with these arguments (`images.run_dataset`)
            _check_over(cfg, section, {"clusterer": init}, where, f"{prefix}table8: initialisers: {init}",
                        clusterer_params=dict(args or {}))
        if section is not cfg:
            if section.get("duad"):  # a --quick run fits it over the duad: checked as that, with --quick or not
                _check_over(cfg, section, {}, where, "quick: duad")
            configured = {row: params for row, _, params in configured_baselines(cfg.get("baselines"), bench, where)}
            for row, args in (section.get("baselines") or {}).items():
                args = {k: v for k, v in (args or {}).items() if k != "detector"}
                name = rows.get(row)
                if name is None:
                    raise ValueError(f"{where}: quick: baselines: {row}: not a row of baselines ({sorted(rows)})")
                _not_seeded_here(args, where, f"quick: baselines: {row}")
                check_arguments(name, args, where, f"quick: baselines: {row}", rules=False)
                check_arguments(name, merge(configured.get(row) or {}, args), where,
                                f"quick: baselines: {row} (over baselines: {row})")


def _check_over(cfg: Mapping, section: Mapping, args: Mapping | None, where: str, what: str, **replaced) -> None:
    """DUAD's own rules on the arguments a row is fitted with: `args` laid over the duad (and the quick
    duad's over it, for the quick section), then `replaced`: checked alone, a variant's `restarts: -1`
    or an initialiser's `n_clusters: abc` passed the read and failed at its fit, hours in."""
    from videoad.config import merge
    from videoad.detector.registry import check_arguments

    duad = merge(cfg.get("duad") or {}, section.get("duad") if section is not cfg else None)
    params = {**merge(duad, args), **replaced}
    check_arguments("duad", params, where, what + " (over duad)" if args or replaced else what)


def evaluate_scores(y_true: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """AUROC and AUPRC (average precision) in percent, anomaly = positive class."""
    return 100.0 * roc_auc_score(y_true, scores), 100.0 * average_precision_score(y_true, scores)


def timed_fit(make: Callable[[], object], X_fit: np.ndarray):
    det = make()
    t0 = time.perf_counter()
    det.fit(X_fit)
    return det, time.perf_counter() - t0


def summarise(records: list[Record]) -> list[dict]:
    """Mean and std over seeds for each (setting, method), in first-seen order."""
    groups: dict[tuple[str, str], list[Record]] = {}
    for rec in records:
        groups.setdefault((rec.setting, rec.method), []).append(rec)
    rows = []
    for (setting, method), recs in groups.items():
        au = np.array([r.auroc for r in recs])
        ap = np.array([r.auprc for r in recs])
        ft = np.array([r.fit_seconds for r in recs])
        rows.append({"setting": setting, "method": method, "n_seeds": len(recs),
                     "auroc_mean": float(au.mean()), "auroc_std": float(au.std()),
                     "auprc_mean": float(ap.mean()), "auprc_std": float(ap.std()),
                     "fit_seconds_mean": float(ft.mean())})
    return rows


def markdown_table(rows: list[dict], setting_name: str = "setting") -> str:
    lines = [f"| {setting_name} | method | AUROC | AUPRC | fit s | seeds |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['setting']} | {r['method']} | {r['auroc_mean']:.2f} ± {r['auroc_std']:.2f} | "
                     f"{r['auprc_mean']:.2f} ± {r['auprc_std']:.2f} | {r['fit_seconds_mean']:.1f} | {r['n_seeds']} |")
    return "\n".join(lines)


def best_baseline_check(rows: list[dict], ours: str, variants=()) -> list[str]:
    """Lines saying, per setting, whether `ours` beats every other method on AUROC and AUPRC;
    `variants` (the config's rows of `ours` with overrides) are not baselines, whatever their
    names (a variant not named "DUAD ..." was cited as the best baseline, a baseline named
    "DUAD..." was never compared)."""
    variants = {str(v) for v in variants}
    out = []
    for setting in dict.fromkeys(r["setting"] for r in rows):
        these = [r for r in rows if r["setting"] == setting]
        mine = [r for r in these if r["method"] == ours]
        if not mine:
            continue
        m = mine[0]
        for metric in ("auroc", "auprc"):
            others = [r for r in these if r["method"] != ours and r["method"] not in variants]
            best = max(others, key=lambda r: r[f"{metric}_mean"]) if others else None
            if best is None:
                continue
            verdict = "beats" if m[f"{metric}_mean"] > best[f"{metric}_mean"] else "LOSES to"
            out.append(f"{setting}: {ours} {metric.upper()} {m[f'{metric}_mean']:.2f} {verdict} "
                       f"best baseline {best['method']} {best[f'{metric}_mean']:.2f}")
    return out


def cpu_model() -> str:
    """The processor as /proc/cpuinfo names it, with its widest vector instructions (AVX-512,
    AVX2): a fit repeats bit for bit only on alike processors, since the vectorised kernels round
    sums in another order on another; KDDCUP99 at 20%, one thread, moved a seed's AUPRC from
    78.45 to 68.62 between two machines with the same pinned libraries (docs/results.md, KDDCUP99).
    `platform.processor()` where there is no /proc/cpuinfo."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return platform.processor() or platform.machine()
    name = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")),
                platform.machine())
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    wide = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else None
    return f"{name}, {wide}" if wide else name


def environment() -> dict:
    """Versions, thread count and processor a benchmark ran with: its fits are repeatable only at
    these (.ci/constraints.txt pins the numerical libraries; `cpu_model`)."""
    import scipy
    import sklearn

    import videoad

    env = {"python": platform.python_version(), "machine": platform.machine(), "cpu": cpu_model(),
           "date": time.strftime("%Y-%m-%d"),
           "videoad": videoad.__version__, "videoad_commit": _commit(),
           "numpy": np.__version__, "scipy": scipy.__version__, "scikit-learn": sklearn.__version__,
           # the thread settings the fits ran under (one thread and two give different fits)
           **{k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
              if k in os.environ}}
    try:
        import torch

        env["torch"] = torch.__version__
        env["torch_threads"] = torch.get_num_threads()
    except ImportError:  # pragma: no cover - torch is a hard dependency
        pass
    return env


@functools.lru_cache(maxsize=1)
def _commit() -> str | None:
    """The git commit of the videoad source that ran, when it runs from a checkout of videoad (the
    defaults change from commit to commit); None otherwise, and for an install that merely lies
    inside another project's work tree (its commit is not ours). Asked once per process."""
    import subprocess

    here = Path(__file__).resolve().parent  # git finds the checkout holding the package, if any

    def git(*args) -> subprocess.CompletedProcess | None:
        try:
            return subprocess.run(["git", "-C", str(here), *args], capture_output=True, text=True, timeout=5)
        except (OSError, subprocess.SubprocessError):
            return None

    ours = git("ls-files", "--error-unmatch", "common.py")  # this very file tracked: a videoad checkout
    head = git("rev-parse", "HEAD") if ours is not None and ours.returncode == 0 else None
    if head is None or head.returncode != 0:
        return None
    dirty = git("status", "--porcelain", "--untracked-files=no")
    state = ("" if dirty is None or dirty.returncode != 0 else
             " (with uncommitted changes)" if dirty.stdout.strip() else "")
    return head.stdout.strip() + state


def data_files(*paths) -> list[dict]:
    """Each data file a benchmark read: its path, size and SHA-256 (which of two formats, which copy)."""
    import hashlib

    out = []
    for p in paths:
        p = Path(p)
        if not p.is_file():
            continue
        digest = hashlib.sha256()
        with open(p, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        out.append({"path": str(p.resolve()), "bytes": p.stat().st_size, "sha256": digest.hexdigest()})
    return out


#: the suffix of results a run is still writing, or that an interrupted run left (`write_results`)
PARTIAL = ".partial"


def write_results(out_dir: Path, name: str, protocol: str, command: str, config: dict,
                  records: list[Record], rows: list[dict], extra_md: str = "", *, complete: bool = True,
                  data: list[dict] | None = None) -> tuple[Path, Path]:
    """`<name>.json` (every record, the summary, the protocol, the command) and `<name>.md`.

    `complete=False` (a run still going: after each split, so that an interrupted run keeps what
    it measured) writes `<name>.partial.json` / `.md` instead, marked incomplete, and leaves an
    earlier complete result in place; the complete write replaces it and removes the partial."""
    from extract.store import write_atomic

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    env = environment()
    stem = name if complete else name + PARTIAL
    payload = {"benchmark": name, "complete": complete, "protocol": protocol, "command": command, "config": config,
               "env": env, **({"data": data} if data else {}), "summary": rows, "records": [r.__dict__ for r in records]}
    json_path = out_dir / f"{stem}.json"
    md = [f"# {name}", ""]
    if not complete:
        md += ["**INCOMPLETE**: the run was stopped, or is still going; these are the splits it finished.", ""]
    md += [f"Protocol: {protocol}", "", f"Command: `{command}`", "", markdown_table(rows), ""]
    checks = best_baseline_check(rows, "DUAD", (config or {}).get("variants") or ())
    if checks:
        md += ["Ours against the best baseline of the same run:", ""] + [f"- {c}" for c in checks] + [""]
    if extra_md:
        md += [extra_md, ""]
    md_path = out_dir / f"{stem}.md"
    write_atomic(json_path, json.dumps(payload, indent=2, default=float).encode())
    write_atomic(md_path, "\n".join(md).encode())
    if complete:
        for leftover in (out_dir / f"{name}{PARTIAL}.json", out_dir / f"{name}{PARTIAL}.md"):
            leftover.unlink(missing_ok=True)
    return json_path, md_path
