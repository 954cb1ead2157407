"""`videoad detect | evaluate | plot | report`: each one library call plus argument parsing."""
from __future__ import annotations

import contextlib
import errno
import os
import sys
from pathlib import Path

import click

from extract.sources import one_line
from videoad.detector.seeds import SEED_MAX

from . import ray_opts
from .settings import (MAX_THREADS, FiniteFloat, NonEmptyPath, SettingOption, check_output_folder, choice_flag, chosen,
                       count, refuse_given, seconds, setting_kwargs)


#: evaluate prints the per-video table by default for runs of at most this many videos
PER_VIDEO_MAX = 100


def _annotations(path, frame_counts=None, fmt="auto", scores=None):
    """The ground truth at `path`; intervals written as times become frames with the frame rates
    of `scores` (a run's ScoreSet)."""
    if path is None:
        return None
    from videoad.datasets.annotations import read_annotations

    ann = read_annotations(path, fmt=fmt, frame_counts=frame_counts)
    if ann.has_times and scores is not None:
        ann = ann.resolve_times({v.video: v.frame_at if v.variable_rate else v.fps for v in scores})
    return ann


def _detect_defaults() -> dict:
    """The packaged detect settings (videoad/defaults/detect.yaml), read as `videoad.video` reads them."""
    from videoad.config import defaults

    return defaults("detect")


#: option -> its dotted key in detect's settings (videoad/defaults/detect.yaml): its default shown in
#: --help; the options given are laid over the settings by `video.load_config` (a field each)
_TO_SETTINGS = {"activity_levels": "activity_levels", "detector": "detector.name", "min_clips": "min_clips",
                "n_jobs": "n_jobs", "seed": "seed", "history_drop": "history_drop",
                "history_neighbors": "history_neighbors", "ignore_cells": "ignore_cells"}
_setting = setting_kwargs(_TO_SETTINGS, _detect_defaults)


class DetectorOption(SettingOption):
    """An option naming a detector: its help lists the detector registry when the help is shown,
    so a detector registered in `videoad.detector.registry` (or by code run before the command)
    is listed without editing any help text."""

    def get_help_record(self, ctx):
        from videoad.detector import registry

        self.help = "One of: " + registry.help_text() + "."
        return super().get_help_record(ctx)


def _fail(exc: Exception) -> None:
    raise click.ClickException(str(exc)) from exc


#: why --burn-heatmap, --max-clips and --pad are refused beside --no-clips (report, run): taken in silence before
NO_CLIPS = "shape the event clips, and --no-clips writes none; leave them out, or leave out --no-clips"


#: videoad.evidence.MAX_CLIPS, written here so that the command line stays free of its imports
#: (matplotlib); tests/test_video_cli.py keeps the two equal
MAX_CLIPS = 200


def max_clips_option(command):
    """--max-clips: clips for the highest-peaked events only (videoad.evidence.MAX_CLIPS)."""
    return click.option("--max-clips", type=click.IntRange(min=0), default=MAX_CLIPS, show_default=True,
                        help="Write clips for this many events at most, the highest peaks first (the others keep "
                             "their picture); 0: every event.")(command)


def event_options(command=None, *, setting=None):
    """--merge-gap and --min-event: how clip scores become events (videoad.events), defaulting to
    EventSettings'; with `setting` (a command's `setting_kwargs`, watch's), to its settings file's."""
    from videoad.events import EventSettings

    if command is None:
        return lambda c: event_options(c, setting=setting)
    d = EventSettings()

    def default(name, value):
        return setting(name) if setting is not None else {"default": value, "show_default": True}

    command = click.option("--min-event", "min_event", type=seconds(zero=True), **default("min_event", d.min_length_s),
                           help="Drop events shorter than this (seconds).")(command)
    return click.option("--merge-gap", "merge_gap", type=seconds(zero=True), **default("merge_gap", d.merge_gap_s),
                        help="Join runs of clips over the alarm line at most this many seconds apart into one "
                        "event.")(command)


def options_not_in_file(names) -> str | None:
    """A comment for --print-config's YAML naming the options given among `names` that the
    settings file does not carry (the event rules, run's extraction): read back with --config
    alone, the run would use their defaults without a word. None when none was given."""
    from click.core import ParameterSource

    ctx = click.get_current_context()
    shown = [max(p.opts, key=len) for p in ctx.command.params if p.name in names
             and ctx.get_parameter_source(p.name) in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)]
    if not shown:
        return None
    return (f"# {', '.join(shown)}: options only, not settings of this file: give them again beside "
            "--config FILE")


def models_hint(models) -> str:
    """Where the saved models went and the command that uses them next (`run --fit-on`, `detect --save-model`)."""
    return f"models: {models} (videoad watch SOURCE --model {models})"


def event_settings(merge_gap, min_event):
    from videoad.events import EventSettings

    return EventSettings(merge_gap_s=float(merge_gap), min_length_s=float(min_event)).check()


def ignore_cells_option(setting):
    """`--ignore-cells`, shared by detect and run (`setting`: the command's `setting_kwargs`)."""
    return click.option("--ignore-cells", "ignore_cells", **setting("ignore_cells"),
                        help="Grid cells left out of the fit and of every clip score, named row:col as events.csv "
                             "names them, comma-separated (e.g. 0:0,1:0; *:0 is the left column, 0-1:3 two cells): "
                             "a tree, water or a flag in view that moves all the time.")


def activity_levels_option(setting):
    """`--activity-levels`, shared by detect and run (`setting`: the command's `setting_kwargs`)."""
    return click.option("--activity-levels", "activity_levels", type=click.Choice(["apart", "together"]),
                        **setting("activity_levels"),
                        help="A group whose videos fall into two levels of activity (one camera by day and at "
                             "night, a busy and a quiet camera): apart fits one model per level, together one model "
                             "over both with a warning.")


def cell_names_given(text: str | None) -> list[str] | None:
    """--ignore-cells' comma-separated names as a list (None when not given)."""
    return None if text is None else [c.strip() for c in text.split(",") if c.strip()]



def _not_zero(ctx, param, value):
    """--n-jobs: joblib's count (1 and up, or -1 for every core); 0 processes is no run."""
    if value == 0:
        raise click.BadParameter("0 fits nothing: 1 or more processes, or -1 for one per core (-2: all but one)")
    return value

@click.command()
@click.argument("features", required=False, type=NonEmptyPath(exists=True, file_okay=False, path_type=Path))
@click.option("-o", "--output", "output", type=NonEmptyPath(file_okay=False, path_type=Path),
              help="Scores folder to write (segments.csv + run.json).  [required]")
@choice_flag("--per-video", "per-video", "mode", help="One detector per video.")
@choice_flag("--per-category", "per-category", "mode",
             help="One detector per category (annotation class, else store folder).  [default: per-category]")
@choice_flag("--per-camera", "per-camera", "mode",
             help="One detector per camera, told apart by the scene picture each feature file keeps: "
                  "several cameras' footage in one folder. With --fit-on, the history's cameras.")
@choice_flag("--pooled", "pooled", "mode", help="One detector for all videos.")
@activity_levels_option(_setting)
@click.option("--config", "config", type=NonEmptyPath(exists=True, dir_okay=False, path_type=Path),
              help="YAML settings (see configs/video.yaml); command-line options win.")
@click.option("--print-config", is_flag=True,
              help="Print the settings this command would use (defaults, --config, options) as YAML and exit.")
@click.option("--annotations", type=NonEmptyPath(exists=True, path_type=Path),
              help="Ground truth (a file, or a folder of per-frame labels); only its class names are used, to group per category.")
@click.option("--detector", **{**_setting("detector"), "cls": DetectorOption},
              help="A registered detector (videoad.detector.registry).")
@click.option("--min-clips", type=count(), **_setting("min_clips"),
              help="Skip groups with fewer clips (the paper kept videos of 65 clips or more).")
@click.option("--n-jobs", type=count(-MAX_THREADS, MAX_THREADS), callback=_not_zero, **_setting("n_jobs"),
              help="Groups fitted in parallel (processes; -1: one per core, -2: all but one). Fitted in turn, a "
                   "group of 8,192 rows or more runs its two DUAD fits side by side where two cores are free.")
@click.option("--seed", type=click.IntRange(0, SEED_MAX), **_setting("seed"),
              help="Seed of the run; each group derives its own from it.")
@click.option("--save-model", type=NonEmptyPath(file_okay=False, path_type=Path),
              help="Also save each group's fitted model here (inductive mode, step 1).")
@click.option("--model", "model_dir", type=NonEmptyPath(exists=True, file_okay=False, path_type=Path),
              help="Score with models saved earlier instead of fitting (inductive mode, step 2).")
@click.option("--fit-on", type=NonEmptyPath(exists=True, file_okay=False, path_type=Path),
              help="Fit on this feature store, footage known to be ordinary (a camera's normal history), "
                   "score FEATURES (without FEATURES, the history itself). DUAD's selection then drops only "
                   "--history-drop percent of it.")
@click.option("--history-drop", "history_drop", type=FiniteFloat(min=0, max=100, max_open=True),
              **_setting("history_drop"),
              help="With --fit-on: percent of the history DUAD's selection drops (0: DUAD's own p0/p, for a "
                   "history that may hold anomalies, e.g. an unlabeled training split).")
@click.option("--history-neighbors", "history_neighbors", type=click.IntRange(min=0), **_setting("history_neighbors"),
              help="With --fit-on: k of DUAD's knn score, how many history rows a clip is compared with (1: the "
                   "nearest; 0: DUAD's own, 5, for a history that may hold anomalies).")
@ignore_cells_option(_setting)
@click.option("--device", "device",
              help="Where a torch detector (DUAD, DAGMM) fits and scores: cpu, cuda, cuda:N, auto (a GPU when "
                   "torch sees one). Models saved with --save-model load on the CPU.  [default: auto, the "
                   "detectors' own]")
@event_options
@ray_opts.detect_options
def detect(features, output, activity_levels, config, print_config, annotations, detector, min_clips, n_jobs, seed, save_model,
           model_dir, fit_on, history_drop, history_neighbors, ignore_cells, device, merge_gap, min_event,
           ray_address=None, ray_cpus=None, ray_gpus=None):
    """Fit the detector per group of videos in FEATURES; write clip scores with frame ranges and
    the events (runs of clips over the alarm line) to events.csv / events.json.

    Exit status: 0 done; 1 when a group failed or a video was left out for how it was extracted
    (the others' scores are written; run.json says why), or on an error; 2 a usage error. Videos
    the extraction could not read are named (left out) but leave the status as it is: `extract`
    gave its 1 for them.
    """
    from videoad import coverage, video
    from videoad.events import write_scores_and_events
    from videoad.output_lock import output_lock
    from videoad.report import event_summary, no_event_hint
    from videoad.scores import writable_folder

    mode = chosen("mode")
    held = contextlib.ExitStack()
    try:
        ann = annotations  # its classes group the videos per category
        cfg = video.load_config(config, mode=mode, activity_levels=activity_levels, detector=detector, min_clips=min_clips, n_jobs=n_jobs, seed=seed,
                                history_drop=history_drop, history_neighbors=history_neighbors,
                                ignore_cells=cell_names_given(ignore_cells))
        if device is not None:
            cfg = video.with_device(cfg, device)
        if print_config:
            click.echo(video.config_text(cfg), nl=False)
            if note := options_not_in_file(("merge_gap", "min_event")):
                click.echo(note)
            return
        if features is None and fit_on is not None:
            features = fit_on  # the history scored by its own model: its alarm line, ready for --save-model
        if features is None or output is None:
            raise click.UsageError("give FEATURES and -o/--output (or --print-config alone)")
        # combinations that cannot work: refused as usage errors before any folder is made (they were
        # ValueErrors raised after -o, --save-model and their locks were made, exit status 1)
        if model_dir is not None and (fit_on is not None or save_model is not None):
            raise click.UsageError("--model scores with saved models; it cannot be combined with "
                                   + " or ".join(o for o, v in (("--fit-on", fit_on), ("--save-model", save_model))
                                                 if v is not None))
        if model_dir is not None and ignore_cells is not None:
            raise click.UsageError("--ignore-cells is fixed when models are fitted (saved models keep theirs) and "
                                   "cannot be combined with --model; refit with it: --fit-on HISTORY --save-model DIR "
                                   "--ignore-cells ...")
        # where a setting came from, as a usage error names it: the option, else the config file
        per_video = ("--per-video" if mode == "per-video" else f"{config}'s mode: per-video" if config
                     else "mode: per-video")
        if fit_on is not None and cfg.mode == "per-video":
            raise click.UsageError("--fit-on fits the history's groups to score other videos; a per-video model "
                                   f"cannot score other videos: {per_video} cannot be combined with --fit-on (use "
                                   "--pooled, --per-category or --per-camera)")
        if save_model is not None:  # before any folder is made: a model that cannot be kept or used
            try:
                video.check_saving(cfg)
            except ValueError as exc:  # a usage error naming the options (it was exit 1 naming none)
                if cfg.mode == "per-video":
                    chose = per_video
                elif detector is not None:
                    chose = f"--detector {cfg.detector}"
                else:
                    chose = f"{config}'s detector {cfg.detector}" if config else f"the detector {cfg.detector}"
                raise click.UsageError(f"--save-model with {chose}: {exc}") from None
        history = [o for o, v in (("--history-drop", history_drop), ("--history-neighbors", history_neighbors))
                   if v is not None]
        if model_dir is not None:  # each was taken in silence: the saved models' own settings score
            fitting = [o for o, v in (("the grouping", mode), ("--activity-levels", activity_levels),
                                      ("--detector", detector), ("--min-clips", min_clips), ("--seed", seed))
                       if v is not None] + history
            if config is not None:  # the file's settings of a fit were taken in silence too (its n_jobs is used)
                from dataclasses import asdict

                base, own = asdict(video.load_config(None)), asdict(video.load_config(config))
                set_there = [k for k in own if k not in ("n_jobs", "threads_per_job") and own[k] != base[k]]
                if set_there:
                    fitting.append(f"{config}'s {', '.join(set_there)}")
            if fitting:
                click.echo(f"warning: {', '.join(fitting)} set how models are fitted, not used with --model: the "
                           "saved models score with the settings they were fitted with", err=True)
        elif history and fit_on is None:  # a fit on FEATURES alone takes DUAD's p0/p, not a history's
            click.echo(f"warning: {' and '.join(history)} appl{'y' if len(history) > 1 else 'ies'} to a fit on a "
                       "normal history (--fit-on), not used here: a fit on FEATURES itself takes the detector's "
                       "own settings", err=True)
        from videoad import output_kinds as kinds

        check_output_folder(output, kinds.SCORES, {"FEATURES": features, "--fit-on": fit_on, "--model": model_dir,
                                                   "--save-model": save_model})
        if save_model is not None:
            check_output_folder(save_model, kinds.MODELS, {"FEATURES": features, "--fit-on": fit_on}, "--save-model")
        writable_folder(output)  # before the fit: a folder that cannot take the scores fails now
        if save_model is not None:
            writable_folder(save_model, "--save-model")
        # before the fit: a second detect (or run) writing the same folder now is refused at once
        held.enter_context(output_lock(output, *([save_model] if save_model is not None else []),
                                       command="videoad detect"))
        executor = ray_opts.detect_executor(ray_address, ray_cpus, ray_gpus, cfg.threads_per_job)
        if fit_on is not None:
            if Path(features).resolve() != Path(fit_on).resolve():  # the history scored by its own model is asked
                same = coverage.scored_in_history(features, video.open_store(features).keys(), fit_on,
                                                  video.open_store(fit_on).keys())
                if same:  # as `run` says it: the protocol it is labelled is not what it does
                    click.echo(one_line(f"warning: {coverage.scored_in_history_words(same)}"), err=True)
            scores = video.fit_and_score(fit_on, features, cfg, annotations=ann, save_models=save_model,
                                         executor=executor)
            click.echo(one_line(f"fitted on {fit_on}" + (f"; models in {save_model}" if save_model else "")))
        elif model_dir is not None:
            scores = video.score(features, model_dir, annotations=ann, n_jobs=cfg.n_jobs, executor=executor)
        else:
            scores = video.detect(features, cfg, annotations=ann, save_models=save_model, executor=executor)
        scores, events = write_scores_and_events(output, scores, event_settings(merge_gap, min_event))
    except (ValueError, OSError) as exc:
        _fail(exc)
    except RuntimeError as exc:  # --ray: no cluster at the address, none that can hold one fit, or lost
        if "RayConnectionError" not in {c.__name__ for c in type(exc).__mro__}:  # ray is imported lazily
            raise
        _fail(exc)
    finally:
        held.close()
    for g in scores.groups:
        if g["status"] in ("skipped", "failed"):
            click.echo(one_line(f"{g['status']} {g['group']}: {g['reason']}"))
    for item in scores.meta.get("left_out", []):
        click.echo(one_line(f"left out {item['video']}: {item['reason']}"))
    for item in scores.meta.get("history_left_out", []):  # --fit-on: the models were fitted without them
        click.echo(one_line(f"left out of the history {item['video']}: {item['reason']}"))
    if scores.meta.get("config", {}).get("mode") == "per-camera":  # which camera is which
        for g in scores.groups:
            shown = ", ".join(g["videos"][:3]) + (f" and {len(g['videos']) - 3} more" if len(g["videos"]) > 3 else "")
            click.echo(one_line(f"{g['group']}: {len(g['videos'])} video(s) ({shown})"))
    for g in scores.groups:
        if g.get("cameras"):
            short = g.get("cameras_short") or 0
            click.echo(one_line(f"note: group {g['group']} fits one model over {g['cameras']} cameras (by their scene "
                       f"pictures); --per-camera fits one per camera (`videoad cameras {fit_on or features}` lists them)"
                       + (f", but {short} of them hold too few clips for a model of their own and would be skipped"
                          if short else "")))
    n_ok = sum(g["status"] not in ("skipped", "failed") for g in scores.groups)
    click.echo(one_line(f"{n_ok}/{len(scores.groups)} groups scored ({scores.meta['protocol']}), "
               f"{len(scores)} videos; scores in {output}"))
    click.echo(one_line(f"{event_summary(events)}; events in {output / 'events.csv'}"))
    hint = no_event_hint(events, scores.meta.get("protocol"))
    if hint:
        click.echo(hint)
    if save_model is not None and n_ok:  # the next step, as `run --fit-on` names it
        click.echo(one_line(models_hint(save_model)))
    for line in coverage.warnings(scores.groups):
        click.echo(one_line(f"warning: {line}"), err=True)
    if any(g["status"] == "failed" or g.get("unlike_extraction") for g in scores.groups):
        sys.exit(1)  # as extraction does when a video failed: the others' scores are written


@click.command()
@click.argument("scores", type=NonEmptyPath(exists=True, path_type=Path))
@click.option("--annotations", required=True, type=NonEmptyPath(exists=True, path_type=Path),
              help="Ground truth: UCF-Crime .txt, Ped2 .csv/.mat, UCSD .m, a folder (or file) of per-frame "
                   "labels or masks (.npy/.mat/.txt: ShanghaiTech, Avenue), or CSV video,start,end.")
@click.option("--frame-counts", type=NonEmptyPath(exists=True, dir_okay=False, path_type=Path),
              help="Test_Annotation.txt-style frame counts to check the scores' lengths against.")
@click.option("--format", "fmt", default="auto", show_default=True,
              type=click.Choice(["auto", "ucf", "ucf_counts", "ped2", "csv", "frames", "ucsd"]),
              help="Format of --annotations (auto: told from the file's name and first lines).")
@click.option("--overlap", type=click.Choice(["mean", "max"]),
              help="How overlapping clips combine per frame.  [default: the run's overlap setting, else mean]")
@click.option("--per-video/--no-per-video", default=None,
              help=f"Print the per-video table [default: for runs of at most {PER_VIDEO_MAX} videos; every run's is in "
                   "evaluation.json].")
@click.option("--json", "json_out", type=NonEmptyPath(dir_okay=False, allow_dash=True, path_type=Path),
              help="Write the results as JSON to this file; '-': the JSON alone on standard output, the table on "
                   "standard error.  [default: evaluation.json in the scores folder]")
def evaluate(scores, annotations, frame_counts, fmt, overlap, per_video, json_out):
    """Frame-level AUROC/AP of SCORES: pooled, tail dropped, anomalous videos, per category, per video."""
    import json

    from videoad.metrics import evaluate_scores, format_evaluation
    from videoad.scores import EVALUATION_JSON, read_scores

    try:
        s = read_scores(scores)
        ann = _annotations(annotations, frame_counts, fmt, scores=s)
        ev = evaluate_scores(s, ann, overlap=overlap)
    except (ValueError, OSError) as exc:
        _fail(exc)
    listed = per_video if per_video is not None else len(ev.per_video) <= PER_VIDEO_MAX
    text = json.dumps(ev.as_dict(), indent=2) + "\n"
    to_stdout = json_out is not None and str(json_out) == "-"  # a script's pipe: the JSON alone there
    target = None if to_stdout else json_out or (s.path / EVALUATION_JSON)
    unwritten = None
    if target is not None:  # written before anything is printed: `| head` closing the pipe lost the file
        from extract.store import write_atomic

        try:
            if target.exists() and not target.is_file():  # a pipe or a device (/dev/stderr): written into
                target.write_text(text)
            elif not target.parent.is_dir():  # a mistyped folder is no folder to make
                raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT))
            else:  # whole or not at all: a full disk left half a file under the name, and said "not written"
                write_atomic(target.resolve(), text.encode("utf-8"))
        except OSError as exc:  # the figures are printed all the same, then the failure
            reason = os.strerror(exc.errno) if exc.errno else str(exc)  # (write_atomic's own hint is -o's)
            unwritten = click.ClickException(f"{'--json ' if json_out else ''}{target}: not written ({reason})")
    click.echo(format_evaluation(ev, per_video=listed), err=to_stdout)
    if unwritten is not None:
        raise unwritten
    if not listed and per_video is None:  # 2,000 videos printed 2,025 lines above the figures that matter
        where = f"in {target}" if target is not None else "in the JSON"
        click.echo(f"\n(the per-video table of {len(ev.per_video)} videos: {where}; --per-video prints it)",
                   err=to_stdout)
    auroc = f"{ev.pooled.auroc:.4f}" if ev.pooled.auroc == ev.pooled.auroc else f"n/a: {ev.pooled.note}"  # not "nan"
    click.echo("\n" + one_line(f"pooled frame AUROC {auroc} ({s.meta.get('protocol', '?')})"
                               + (f"; written to {target}" if target is not None else "")), err=to_stdout)
    if to_stdout:
        click.echo(text, nl=False)


@click.command()
@click.argument("scores", type=NonEmptyPath(exists=True, path_type=Path))
@click.option("-o", "--output", required=True, type=NonEmptyPath(path_type=Path),
              help="Folder for the figures, or a .png/.svg file when one --video is given.")
@click.option("--video", "videos", multiple=True, help="Only these videos (store keys); repeatable.")
@click.option("--annotations", type=NonEmptyPath(exists=True, path_type=Path),
              help="Ground truth (any format evaluate reads) to shade on the timelines.")
@click.option("--format", "fmt", default="png", show_default=True, type=click.Choice(["png", "svg"]),
              help="Image format of the timelines (a single -o FILE.png/.svg: its suffix).")
@click.option("--thumbnails", default=3, show_default=True, type=click.IntRange(min=0),
              help="Peak frames of the strongest events shown below each timeline (0: none).")
@click.option("--source-root", type=NonEmptyPath(exists=True, file_okay=False, path_type=Path),
              help="Where the videos are now, if they moved since extraction (found by key, then by name).")
def plot(scores, output, videos, annotations, fmt, thumbnails, source_root):
    """Timeline per video: clip scores over time and frames, events, alarm line, ground truth, peak frames."""
    from videoad.events import find_events, read_settings
    from videoad.output_lock import output_lock
    from videoad.plots import FORMATS, plot_run
    from videoad.scores import read_scores

    single = Path(output).suffix.lower() in FORMATS  # one timeline into one file: no folder to hold
    given = click.get_current_context().get_parameter_source("fmt") is click.core.ParameterSource.COMMANDLINE
    if single and given and Path(output).suffix.lower() != f".{fmt}":  # the file's suffix was used in silence
        raise click.UsageError(f"--format {fmt} and -o {output} disagree: a single timeline takes the format of "
                               f"its file's suffix; name the file .{fmt} or leave --format out")
    if not single and Path(output).exists() and not Path(output).is_dir():  # was "[Errno 17] File exists", exit 1
        raise click.BadParameter(f"'{output}' is a file, not a folder: the timelines go into a folder (a single "
                                 f"--video's into a {' or '.join(FORMATS)} file).", param_hint="'-o' / '--output'")
    try:
        s = read_scores(scores, damaged="leave")  # one video's damaged rows: the others are still drawn
        damaged = [d for d in s.damaged if not videos or d["video"] in videos]
        if videos and {d["video"] for d in damaged} == set(videos):  # nothing asked for can be drawn
            raise ValueError("; ".join(d["reason"] for d in damaged))
        ann = _annotations(annotations, scores=s)
        if not single:
            from videoad import output_kinds as kinds

            check_output_folder(output, kinds.TIMELINES, {"SCORES": scores})
        events = find_events(s, read_settings(s.path, s.meta))
        with contextlib.nullcontext() if single else output_lock(output, command="videoad plot"):
            written = plot_run(s, output, videos=[n for n in videos if n not in {d["video"] for d in damaged}],
                               annotations=ann, fmt=fmt, thumbnails=thumbnails, events=events, workers=None,
                               source_root=source_root)
    except (ValueError, OSError) as exc:
        _fail(exc)
    click.echo(one_line(f"{len(written)} timeline(s) written to {output}"))
    if damaged:  # named, each, and the exit status says it (as extract and detect do for a video not read)
        for d in damaged:
            click.echo(one_line(f"error: not plotted: {d['reason']}"), err=True)
        sys.exit(1)


@click.command()
@click.argument("scores", type=NonEmptyPath(exists=True, path_type=Path))
@click.option("-o", "--output", required=True, type=NonEmptyPath(file_okay=False, path_type=Path),
              help="Report folder (index.html + timelines/).")
@click.option("--annotations", type=NonEmptyPath(exists=True, path_type=Path),
              help="Ground truth (any format evaluate reads): adds the results tables and shades the timelines.")
@click.option("--format", "fmt", default="png", show_default=True, type=click.Choice(["png", "svg"]),
              help="Image format of the timelines.")
@click.option("--clips/--no-clips", default=True, show_default=True,
              help="Write a playable clip per event (needs the source videos).")
@click.option("--burn-heatmap", is_flag=True, help="Burn the heat map into the event clips.")
@max_clips_option
@click.option("--pad", "pad_s", type=FiniteFloat(min=0), default=3.0, show_default=True,
              help="Seconds of footage before and after each event in its clip.")
@click.option("--source-root", type=NonEmptyPath(exists=True, file_okay=False, path_type=Path),
              help="Where the videos are now, when they moved since extraction: each is looked for there by its "
                   "path below the folder extraction was given (the key), then by its file name.")
def report(scores, output, annotations, fmt, clips, burn_heatmap, max_clips, pad_s, source_root):
    """Static HTML report: the events (table, clips, heat maps), a timeline per video, the run."""
    from videoad.events import find_events, read_settings
    from videoad.metrics import evaluate_scores, unlabelled_note
    from videoad.output_lock import output_lock
    from videoad.report import build_report, event_summary
    from videoad.scores import read_scores

    if not clips:
        refuse_given(click.get_current_context(), ("burn_heatmap", "max_clips", "pad_s"), NO_CLIPS)
    try:
        s = read_scores(scores)
        ann = _annotations(annotations, scores=s)
        ev = evaluate_scores(s, ann, unlabelled="leave") if ann is not None else None
        if ev is not None and ev.settings.get("scored_without_truth"):
            click.echo(one_line(f"warning: {unlabelled_note(ev)}"), err=True)
        from videoad import output_kinds as kinds

        check_output_folder(output, kinds.REPORT, {"SCORES": scores})
        events = find_events(s, read_settings(s.path, s.meta))
        with output_lock(output, command="videoad report"):
            page = build_report(s, output, annotations=ann, evaluation=ev, fmt=fmt, events=events, clips=clips,
                                burn_heatmap=burn_heatmap, pad_s=pad_s, source_root=source_root, workers=None,
                                max_clips=max_clips)
    except (ValueError, OSError) as exc:
        _fail(exc)
    click.echo(event_summary(events))
    click.echo(one_line(f"report: {page}"))
