"""`videoad demo`: the README's main command, the whole video pipeline on embedded data.

Default (`--data synthetic`): generate a few small synthetic surveillance videos with known
anomalous intervals (`videoad.synth`), extract weight-free motion features, fit DUAD pooled over
all clips (transductive, label-free), evaluate frame-level AUROC against the generated ground
truth, and write the HTML report. Nothing downloads; it runs in about a minute on two cores.

`--data digits` keeps the detector-only check: DUAD on scikit-learn's digits (digit 4 normal,
5% other digits as anomalies) beside PCA.
"""
from __future__ import annotations

import time
from pathlib import Path

import click

from videoad.detector.seeds import SEED_MAX
from videoad.video.config import run_config

from .settings import MAX_THREADS, ErrorLines, NonEmptyPath, count

#: the demo's detection settings: those of `videoad run` (videoad/defaults/run.yaml: the detect
#: defaults, pooled over the demo's videos)
DEMO_CONFIG = run_config()
#: the synthetic set: normal videos plus one video per event type (4), 300 frames of 160x120 each
DEMO_NORMAL = 4
#: written into the demo's folder before anything else: a rerun knows the folder as its own (one
#: killed before it wrote data/Temporal_Anomaly_Annotation.txt, the mark of the demos before this one)
DEMO_MARK = ".videoad-demo"


def demo_folder(workdir) -> Path:
    """The demo's folder, made and marked: new, empty or an earlier demo's. Anything else is a
    ValueError naming it: the demo writes data/, features/, scores/ and report/ into it, and into
    a `videoad run` folder it added its videos to the run's store and wrote its scores over the
    run's (then stopped in a traceback). A system file (the `.DS_Store` of a folder made in macOS's
    Finder, `Thumbs.db`) leaves a folder empty."""
    from extract.sources import system_file
    from videoad.scores import WRITE_CHECK, ScoresError, writable_folder

    work = Path(workdir)
    ours = (work / DEMO_MARK).is_file() or (work / "data" / "Temporal_Anomaly_Annotation.txt").is_file()
    try:
        held = sorted(p.name for p in work.iterdir()
                      if not p.name.startswith(WRITE_CHECK) and not system_file(p)) if work.is_dir() else []
    except OSError as exc:
        raise ScoresError(f"cannot read {work}: {exc.strerror or exc}; choose another folder with -o") from None
    if held and not ours:
        from videoad.output_kinds import folder_kind

        kind = folder_kind(work)
        shown = ", ".join(held[:3]) + (", ..." if len(held) > 3 else "")
        raise ValueError(f"-o {work} " + (f"is {kind}" if kind else "holds other files") + f" ({shown}), not an "
                         "earlier demo's folder: the demo writes its videos, features, scores and report there; "
                         "give a new or empty folder")
    writable_folder(work)  # under a file, read-only (a ScoresError): named now, not in a traceback of its first video
    (work / DEMO_MARK).write_bytes(b"")
    return work


class DemoError(RuntimeError):
    """A stage of the demo failed (its lines name which, and why): the command says it, not a
    traceback; `lines`: the headline, then the stage's own summary, each a line of the message."""

    def __init__(self, *lines: str):
        super().__init__("\n".join(lines))
        self.lines = lines


def stop_words(reason: str, n: int) -> str:
    """DUAD's `stop_reason_` in a reader's words: the console showed the raw
    `max_reselections after 10 reselections`, the name of a parameter."""
    return {"converged": f"the selection settled after {n} reselection(s)",
            "max_reselections": f"the selection was still changing when its {n} reselection(s) ran out",
            "no_reselection": "no reselection run (max_reselections=0)"}.get(reason, f"{reason} after {n} reselection(s)")


def digits_demo(seed: int = 0) -> dict:
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.metrics import roc_auc_score

    from videoad.baselines import PCARecon
    from videoad.detector import DUAD

    X, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(seed)
    normal = np.flatnonzero(y == 4)
    others = np.flatnonzero(y != 4)
    anomalies = rng.choice(others, int(round(normal.size * 0.05 / 0.95)), replace=False)
    idx = np.concatenate([normal, anomalies])
    X, truth = X[idx] / 16.0, (y[idx] != 4).astype(int)
    det = DUAD(p0=25, p=20, r=5, lr=1e-3, batch_size=64, random_state=seed).fit(X)
    pca = PCARecon(8, random_state=seed).fit(X)
    return {"rows": int(X.shape[0]), "anomalies": int(truth.sum()),
            "duad_auroc": float(roc_auc_score(truth, det.decision_scores_)),
            "pca_auroc": float(roc_auc_score(truth, pca.decision_scores_)),
            "stop_reason": det.stop_reason_, "reselections": det.n_reselections_}


def video_demo(workdir, *, seed: int = 0, workers: int = 2, baselines: tuple[str, ...] = ("pca", "knn", "iforest"),
               echo=print) -> dict:
    """Generate -> extract -> detect -> evaluate -> report; returns the numbers and paths."""
    from dataclasses import replace

    from extract.backbones import get_backbone
    from extract.run import ExtractOptions, extract_videos
    from videoad import synth, video
    from videoad.datasets.annotations import read_annotations
    from videoad.events import write_scores_and_events
    from videoad.metrics import evaluate_scores
    from videoad.report import build_report

    work = demo_folder(workdir)
    t0 = time.perf_counter()
    ds = synth.generate(work / "data", n_normal=DEMO_NORMAL, seed=seed)
    echo(f"[1/5] {len(ds.videos)} synthetic videos in {ds.root} ({time.perf_counter() - t0:.0f} s)")
    summary = extract_videos(ds.root, work / "features", get_backbone("motion"),
                             ExtractOptions(workers=workers, recursive=True, progress=False))
    if not summary.ok:
        raise DemoError(f"feature extraction into {work / 'features'} failed:", *summary.report().split("\n"))
    echo(f"[2/5] motion features in {work / 'features'} ({time.perf_counter() - t0:.0f} s)")
    cfg = replace(DEMO_CONFIG, seed=seed)
    scores = video.detect(work / "features", cfg, note_cameras=False)  # one corridor, a background drawn per video
    scores, events = write_scores_and_events(work / "scores", scores)  # as stored: what `videoad report` reads
    echo(f"[3/5] DUAD fitted pooled over {sum(len(v.scores) for v in scores)} clips; scores in {work / 'scores'} "
         f"({time.perf_counter() - t0:.0f} s)")
    ann = read_annotations(ds.annotation_file, frame_counts=ds.counts_file)
    ev = evaluate_scores(scores, ann)
    results = {"duad": ev.pooled.auroc}
    for name in baselines:
        b = video.detect(work / "features", replace(cfg, detector=name, params={}, n_seeds=1), note_cameras=False)
        results[name] = evaluate_scores(b, ann).pooled.auroc
    echo(f"[4/5] evaluated against {ds.annotation_file} ({time.perf_counter() - t0:.0f} s)")
    page = build_report(scores, work / "report", annotations=ann, evaluation=ev, events=events,
                        title="videoad demo: synthetic corridor")
    echo(f"[5/5] report with {len(events.events)} event(s), their heat maps and clips ({time.perf_counter() - t0:.0f} s)")
    return {"auroc": ev.pooled.auroc, "ap": ev.pooled.ap, "baselines": results, "evaluation": ev,
            "events": events, "report": page, "seconds": time.perf_counter() - t0}


@click.command("demo")
@click.option("--data", type=click.Choice(["synthetic", "digits"]), default="synthetic", show_default=True,
              help="synthetic: the whole video pipeline; digits: the detector alone on sklearn's digits.")
@click.option("-o", "--output", "--workdir", "workdir", type=NonEmptyPath(file_okay=False, path_type=Path),
              default=Path("runs/demo"), show_default=True,
              help="Where videos, features, scores and the report go (--data digits writes nothing); -o as on "
                   "every other command, --workdir its older name.")
@click.option("--seed", type=click.IntRange(0, SEED_MAX), default=0, show_default=True,
              help="Seed of the generated footage (or the digits' split) and of every fit.")
@click.option("--workers", type=count(1, MAX_THREADS), default=2, show_default=True, help="Decode workers.")
def demo(data: str, workdir: Path, seed: int, workers: int) -> None:
    """Run the pipeline on embedded data and print the frame-level AUROC and where the report is."""
    if data == "digits":
        res = digits_demo(seed)
        click.echo(f"digits: {res['rows']} rows, {res['anomalies']} anomalies (digit 4 normal)")
        click.echo(f"DUAD AUROC {res['duad_auroc']:.4f} ({stop_words(res['stop_reason'], res['reselections'])}); "
                   f"PCA-8 AUROC {res['pca_auroc']:.4f}")
        return
    from videoad.output_lock import output_lock
    from videoad.scores import ScoresError

    try:
        demo_folder(workdir)
    except ScoresError as exc:  # a folder that cannot be written
        raise click.ClickException(str(exc)) from None
    except ValueError as exc:  # one that holds what the demo would mix with or write over
        raise click.UsageError(str(exc)) from None
    try:  # as `videoad run` holds its folders: a second demo into the same -o wrote over this one's
        with output_lock(workdir, *(workdir / sub for sub in ("features", "scores", "report")),
                         command="videoad demo"):
            res = video_demo(workdir, seed=seed, workers=workers, echo=click.echo)
    except DemoError as exc:  # a stage that failed: named, its summary below
        raise ErrorLines(*exc.lines) from None
    except (OSError, ValueError) as exc:  # busy, full or unwritable: named
        raise click.ClickException(str(exc)) from None
    ev = res["evaluation"]
    click.echo("")
    click.echo("per category: " + ", ".join(f"{c.name} {c.auroc:.3f}" for c in ev.per_category if c.auroc == c.auroc))
    others = ", ".join(f"{k} {v:.4f}" for k, v in res["baselines"].items() if k != "duad")
    click.echo(f"frame AUROC (pooled, transductive, label-free): DUAD {res['auroc']:.4f}  [baselines: {others}]")
    click.echo(f"report: {res['report']}  ({res['seconds']:.0f} s)")
