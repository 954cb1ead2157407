"""`videoad run INPUT... [-o OUT] [--fit-on HISTORY]`: one's own footage to a report, one command.

extract (the weight-free motion backbone with its default settings: 16-frame clips every 4
frames) -> detect (the defaults of `videoad detect`, pooled over all the footage, transductive)
-> events -> report.
With --fit-on, HISTORY (footage known to be mostly ordinary) is extracted too, the detector is
fitted on it alone and INPUT is scored with the saved models (inductive).

OUT (default `runs/<name of the first input>`) holds `features/`, `scores/` (segments.csv,
run.json, events.csv, events.json), `report/index.html`, and with --fit-on `history/` and
`models/`. Re-running resumes: videos already extracted with the same settings are not decoded
again.
"""
from __future__ import annotations

import contextlib
import glob
import sys
from dataclasses import replace
from pathlib import Path

import click

from extract.sources import one_line
from videoad.detector.seeds import SEED_MAX

from .extract_cmd import _parse_opts, fps_together
from .settings import (MAX_THREADS, FiniteFloat, NonEmptyPath, check_output_folder, count, choice_flag, chosen,
                       refuse_given, setting_kwargs)
from .video_cmd import (NO_CLIPS, activity_levels_option, cell_names_given, event_options, event_settings,
                        ignore_cells_option, max_clips_option, models_hint, options_not_in_file)


def _defaults() -> dict:
    """run's detection settings as packaged: videoad/defaults/run.yaml over detect.yaml (`video.run_config`)."""
    from videoad.config import defaults

    return {**defaults("detect"), **defaults("run")}


#: option -> its key in run's detection settings (`_defaults`): its default shown in --help; the options
#: given are laid over the settings by `video.run_config`
_TO_SETTINGS = {"activity_levels": "activity_levels", "min_clips": "min_clips", "seed": "seed",
                "ignore_cells": "ignore_cells"}
_setting = setting_kwargs(_TO_SETTINGS, _defaults)


def _cameras_decide(grouping, cfg) -> bool:
    """Whether the footage's cameras choose the grouping: no --per-camera / --pooled given, and the
    settings fit one model over a folder's cameras (pooled, run's own, or per category, a config's
    default); a config's per-video or per-camera stands."""
    return grouping is None and cfg.mode in ("pooled", "per-category")


def expand_inputs(patterns, hint: str = "INPUT") -> list[Path]:
    """Files, folders and glob patterns (quoted or left to the shell) -> existing paths, in order.
    An empty one is refused: Path("") is the current folder, which the run then took as its footage."""
    out: list[Path] = []
    for pattern in patterns:
        if str(pattern) == "":
            raise click.BadParameter("an empty path", param_hint=hint)
        p = Path(pattern).expanduser()
        if p.exists():
            matches = [p]
        else:
            matches = [Path(m) for m in sorted(glob.glob(str(p), recursive=True))]
            if not matches:
                raise click.BadParameter(f"{pattern}: no such file or folder, and no file matches it",
                                         param_hint=hint)
        out += [m for m in matches if m not in out]
    return out


def _footage_only(paths, past, out) -> None:
    """Refuse, before any decoding, an input or --fit-on that is one of videoad's own folders: run
    takes footage, and a feature store given as its history (as `detect --fit-on` takes one) was
    found out only after all of INPUT was extracted, as "no videos found". The run's own output
    given as its input (`run . -o .`, a rerun) is footage with its outputs inside, never read."""
    import os

    from videoad import output_kinds as kinds

    for option, given in (("INPUT", paths), ("--fit-on", past)):
        for path in given:
            kind = kinds.folder_kind(path, files=False)
            if kind is None or (kind == kinds.RUN and (os.path.realpath(path) == os.path.realpath(out)
                                                       or _has_footage(path))):
                continue  # a run's own folder, or footage that a run wrote its outputs into
            hint = {kinds.FEATURES: "features are scored with `videoad detect FEATURES -o SCORES`"
                                    + (" --fit-on STORE" if option == "--fit-on" else ""),
                    kinds.RUN: f"its features are in {Path(path) / 'features'} (`videoad detect`), its report "
                               f"in {Path(path) / 'report'}",
                    kinds.SCORES: "scores are read by `videoad report`, `plot` and `evaluate`"}.get(kind, "")
            raise click.UsageError(f"{option} {path} is {kind}, not footage: `videoad run` takes videos and frame "
                                   "folders" + (f"; {hint}" if hint else ""))


def _has_footage(path) -> bool:
    """Whether a folder holds videos or frame folders beside the outputs a run wrote into it."""
    from extract.run import list_inputs

    try:
        return bool(list_inputs(path, recursive=True)[1].sources)
    except (OSError, ValueError):
        return False


def default_output(inputs: list[Path]) -> Path:
    first = inputs[0].resolve()
    name = first.stem if first.is_file() else first.name
    return Path("runs") / (name or "footage")


class _Stage:
    """One progress display for the whole run: frames during extraction, then the stage's name; on
    a terminal a bar, in a log (`enabled` false) each stage's name and a line now and then."""

    def __init__(self, enabled: bool):
        from extract.progress import LogProgress
        from tqdm import tqdm

        self.bar = (tqdm if enabled else LogProgress)(total=0, unit="frame", unit_scale=True, desc="extract",
                                                       dynamic_ncols=True, leave=False)

    def stage(self, text: str) -> None:
        self.bar.set_description_str(text, refresh=True)

    def echo(self, text: str, err: bool = False) -> None:
        """A line said while the bar is up, written above it: click.echo wrote onto the bar's line. The
        names in it stay on it (`one_line`)."""
        text = one_line(text)
        if self.bar.disable:
            click.echo(text, err=err)
        else:
            self.bar.write(text, file=sys.stderr if err else sys.stdout)

    def close(self) -> None:
        self.bar.close()


def _note_earlier(store_root: Path, keys: list[str], echo=click.echo) -> None:
    """Say so where the output folder holds videos of earlier runs that this one leaves out."""
    from extract.store import FeatureStore

    earlier = sorted(set(FeatureStore(store_root).keys()) - set(keys))
    if earlier:
        echo(one_line(f"note: {store_root} also holds {len(earlier)} video(s) of earlier runs ("
                      f"{', '.join(earlier[:3])}{' and more' if len(earlier) > 3 else ''}); this run leaves them out"),
             err=True)


@click.command("run")
@click.argument("inputs", nargs=-1)
@click.option("-o", "--output", type=NonEmptyPath(file_okay=False, path_type=Path),
              help="Folder for features, scores, events and the report [default: runs/<first input's name>].")
@click.option("--fit-on", "history", multiple=True,
              help="Footage to fit the detector on (files, folders, globs; repeatable); INPUT is then only scored.")
@click.option("--config", type=NonEmptyPath(exists=True, dir_okay=False, path_type=Path),
              help="Detection settings (YAML, as configs/video.yaml), read over run's defaults "
                   "(videoad/defaults/run.yaml, copied in configs/run.yaml: detect's, pooled): a key the file "
                   "sets wins, the rest stay run's; start from --print-config's output.")
@click.option("--print-config", is_flag=True, help="Print the detection settings run would use as YAML and exit.")
@choice_flag("--per-camera", "per-camera", "grouping",
             help="One detector per camera, told apart by each video's scene picture (several cameras' "
                  "footage given at once); with --fit-on, the history's cameras. [default: per camera where "
                  "the footage (or history) shows two or more cameras, each in two or more videos, else pooled]")
@choice_flag("--pooled", "pooled", "grouping", help="One detector over all the footage, whatever cameras it shows.")
@activity_levels_option(_setting)
@click.option("--stride", type=count(), default=None,
              help="Frames between the starts of consecutive 16-frame clips [default: the backbone's, 4 for motion].")
@click.option("--image-fps", type=FiniteFloat(min=0, min_open=True),
              help="Frame rate of image-sequence folders (else times are in frames), and of raw .264/.h265 streams "
                   "that state none in their VUI timing (else 25 assumed, warned).")
@click.option("--fps", "target_fps", default=None, type=FiniteFloat(min=0, min_open=True, max=240),
              help="Resample every video to this frame rate before cutting clips (footage and history from "
                   "cameras at different rates).")
@click.option("--max-fps", "max_fps", default=None, type=FiniteFloat(min=0),
              help="Resample only videos faster than this to this rate (0: keep every video's own; not with "
                   "--fps) "
                   "[default: the motion backbone's, 10].")
@click.option("--min-clips", type=count(), **_setting("min_clips"),
              help="Fit a group only with at least this many clips (65 clips are about 27 s at 10 fps or more); "
                   "lower it for short footage, at the cost of a less reliable fit.")
@click.option("--seed", type=click.IntRange(0, SEED_MAX), **_setting("seed"),
              help="Seed of the detection; each group derives its own from it.")
@click.option("--workers", type=count(1, MAX_THREADS), default=2, show_default=True,
              help="Decode workers (at most one per video starts).")
@click.option("--clips/--no-clips", default=True, show_default=True, help="Write a playable clip per event.")
@click.option("--burn-heatmap", is_flag=True, help="Burn the heat map into the event clips.")
@max_clips_option
@click.option("--backbone-opt", "backbone_opts", multiple=True, callback=_parse_opts, metavar="KEY=VALUE",
              help="A motion backbone option, repeatable, as on extract (e.g. \"mask=0,0,0.2,1\": an "
                   "exclusion zone; size=160x120).")
@ignore_cells_option(_setting)
@event_options
def run(inputs, output, history, config, print_config, activity_levels, stride, image_fps, target_fps, max_fps,
        min_clips, seed, workers, clips, burn_heatmap, max_clips, backbone_opts, ignore_cells, merge_gap, min_event):
    """Extract, detect, find events and write a report for INPUT (files, folders, globs).

    Exit status: 0 done; 1 when a video (of the footage or of the --fit-on history) could not be
    extracted or scored, or a group failed (the report is written all the same; run.json lists
    them: left_out, history_left_out); 2 a usage error (nothing done).
    """
    from extract.backbones import get_backbone
    from extract.decode import quiet_native_logs
    from extract.run import ExtractOptions, WorkerStartError, extract_videos
    from extract.sources import mark_output
    from videoad import coverage, extract_config, video
    from videoad.events import write_scores_and_events
    from videoad.output_lock import output_lock
    from videoad.report import build_report, event_summary, no_event_hint

    grouping = chosen("grouping")
    fps_together(click.get_current_context())
    try:  # as extract checks its own: `--stride 1e30` failed every video at the feature write
        extract_config.check_options({"stride": stride, "image_fps": image_fps, "target_fps": target_fps,
                                      "max_fps": max_fps, "workers": workers})
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if not clips:
        refuse_given(click.get_current_context(), ("burn_heatmap", "max_clips"), NO_CLIPS)
    if print_config:
        try:
            cfg = video.run_config(config, ignore_cells=cell_names_given(ignore_cells),
                                   activity_levels=activity_levels, min_clips=min_clips, seed=seed)
            cfg = replace(cfg, mode=grouping) if grouping else cfg
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(video.config_text(cfg), nl=False)
        if _cameras_decide(grouping, cfg):
            click.echo("# mode: per-camera instead where the footage (or --fit-on history) shows two or more cameras "
                       "in two or more videos each (--pooled keeps one model)")
        elif grouping == "pooled":  # a config's pooled lets the cameras decide: the option does not travel in it
            click.echo("# --pooled: give it again beside --config FILE (a config's mode pooled lets the footage's "
                       "cameras decide)")
        if note := options_not_in_file(("stride", "image_fps", "target_fps", "max_fps", "workers", "backbone_opts",
                                        "clips", "burn_heatmap", "max_clips", "merge_gap", "min_event")):
            click.echo(note)
        return
    if not inputs:
        raise click.UsageError("give at least one INPUT (a file, folder or glob)")
    paths = expand_inputs(inputs)
    past = expand_inputs(history, "--fit-on") if history else []
    out = output or default_output(paths)
    _footage_only(paths, past, out)
    from videoad import output_kinds as kinds

    # -o INPUT is fine (`cd footage; videoad run . -o .`): its own outputs are never read as footage
    check_output_folder(out, kinds.RUN, {})
    settings = event_settings(merge_gap, min_event)
    quiet_native_logs()
    show = sys.stderr.isatty()
    bar = _Stage(show)
    held = contextlib.ExitStack()
    try:
        # the whole run and the folders other commands may be pointed at: an overlapping second run
        # (a nightly job still going) is refused at once
        held.enter_context(output_lock(out, out / "features", out / "scores", out / "report",
                                       *([out / "history", out / "models"] if past else []),
                                       command="videoad run"))  # models/: what `watch --model` reads
        cfg = video.run_config(config, ignore_cells=cell_names_given(ignore_cells), activity_levels=activity_levels,
                               min_clips=min_clips, seed=seed)
        cfg = replace(cfg, mode=grouping) if grouping else cfg
        if past and cfg.mode == "per-video":  # a config's mode: a video's own model scores no other video
            bar.echo("note: the settings say per-video, and a model fitted on --fit-on's history must score "
                     "other videos: the history is fitted pooled (or give --per-camera)", err=True)
            cfg = replace(cfg, mode="pooled")
        opts = ExtractOptions(stride=stride, workers=workers, recursive=True, image_fps=image_fps,
                              target_fps=target_fps, max_fps=max_fps, progress=show, progress_unit="frame")
        try:
            backbone = get_backbone("motion", **backbone_opts)
        except (TypeError, ValueError) as exc:  # an option the motion backbone does not have, or a bad value
            raise click.ClickException(f"--backbone-opt: {exc}") from exc
        mark_output(out)  # never read as footage (an -o inside the input: `cd footage; videoad run .` twice)
        stores = [("features", paths)] + ([("history", past)] if past else [])
        listed = {}  # per store, this run's videos: an output folder earlier runs filled holds theirs too
        not_read = {}  # this run's videos whose extraction failed: left out, in run.json and the report
        history_not_read = {}  # the history's: the models were fitted without them
        for folder, sources in stores:
            bar.stage("extract" if folder == "features" else "extract (history)")
            summary = extract_videos(sources, out / folder, backbone, opts, progress=bar.bar)
            listed[folder] = [r.key for r in summary.results.values() if r.status in ("done", "skipped")]
            if summary.skipped:  # a rerun: the features of unchanged videos are reused, not made again
                bar.echo(f"{folder}: {len(summary.skipped)} video(s) already extracted with these settings, "
                         f"reused; {len(summary.done)} extracted now", err=True)
            _note_earlier(out / folder, listed[folder], bar.echo)
            for r in summary.failed:
                if folder == "features":  # said with the videos left out, at the end
                    not_read[r.key] = f"not extracted: {r.reason}"
                else:
                    history_not_read[r.key] = f"not extracted: {r.reason}"
                    bar.echo(f"skipped {r.key} (history): {r.reason}", err=True)
            for r in summary.results.values():
                if r.status == "done" and r.warning:  # damaged frames, a picture that changed size, ...
                    bar.echo(f"warning: {r.key}: {r.warning}", err=True)
            for note in summary.store_notes:  # what `extract` says of the store (a video given twice, ...)
                bar.echo(f"note: {folder}: {note}", err=True)
            if not summary.done and not summary.skipped:  # each one's reason: it named none
                why = "; ".join(f"{r.key}: {r.reason}" for r in summary.failed[:5])
                more = f"; and {len(summary.failed) - 5} more" if len(summary.failed) > 5 else ""
                raise click.ClickException(f"no video of {', '.join(map(str, sources))} could be read"
                                           + (f" ({why}{more})" if why else ""))
        if _cameras_decide(grouping, cfg):  # no grouping named: the cameras decide
            from videoad.cameras import per_camera_fits
            from videoad.video import open_store

            fit = "history" if past else "features"
            fit_store = open_store(out / fit, listed[fit])
            apart, why = per_camera_fits(fit_store, open_store(out / "features", listed["features"]) if past else None,
                                         min_clips=int(cfg.min_clips))
            cfg = replace(cfg, mode="per-camera") if apart else cfg
            if why:
                bar.echo(why)
        bar.stage(f"detect ({cfg.detector}, {cfg.mode})")
        if past:
            same = coverage.scored_in_history(out / "features", listed["features"], out / "history",
                                              listed["history"])
            if same:  # scored by a model fitted on themselves: not the inductive protocol it is labelled
                bar.echo(f"warning: {coverage.scored_in_history_words(same)}", err=True)
            scores = video.fit_and_score(out / "history", out / "features", cfg, save_models=out / "models",
                                         keys=listed["features"], history_keys=listed["history"])
        else:
            scores = video.detect(out / "features", cfg, keys=listed["features"])
        if history_not_read:  # run.json says the history was fitted without them (beside those the fit left out)
            said = {e["video"] for e in scores.meta.get("history_left_out", [])}
            scores.meta["history_left_out"] = sorted(scores.meta.get("history_left_out", []) + [
                {"video": k, "reason": why} for k, why in history_not_read.items() if k not in said],
                key=lambda e: e["video"])
        if not_read:
            said = {e["video"] for e in scores.meta.get("left_out", [])}
            scores.meta["left_out"] = sorted(scores.meta.get("left_out", []) + [
                {"video": k, "reason": why} for k, why in not_read.items() if k not in said], key=lambda e: e["video"])
        # the report from the scores as stored: the one `videoad report` of the folder draws (and keeps)
        scores, events = write_scores_and_events(out / "scores", scores, settings)
        n = len(events.events)
        bar.stage("report")

        def step(e):
            bar.stage(f"report: event {e.event} of {n}")

        page = build_report(scores, out / "report", events=events, clips=clips, burn_heatmap=burn_heatmap,
                            title=f"videoad: {out.name}", on_event=step, workers=None, max_clips=max_clips)
    except (ValueError, OSError, WorkerStartError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        held.close()
        bar.close()
    for g in scores.skipped():
        click.echo(one_line(f"{g['status']} {g['group']}: {g['reason']}"))
    for item in scores.meta.get("left_out", []):
        click.echo(one_line(f"left out {item['video']}: {item['reason']}"))
    frames = sum(v.n_frames for v in scores)
    click.echo(one_line(f"{len(scores)} video(s), {frames} frames, {sum(len(v.scores) for v in scores)} clips scored "
               f"({scores.meta.get('protocol', '?')}); scores in {out / 'scores'}"))
    click.echo(event_summary(events))
    hint = no_event_hint(events, scores.meta.get("protocol"))
    if hint:
        click.echo(hint)
    for line in coverage.warnings(scores.groups):
        click.echo(one_line(f"warning: {line}"), err=True)
    if past:  # where the history's models went: `videoad watch --model` takes them
        click.echo(one_line(models_hint(out / "models")))
    click.echo(one_line(f"report: {page}"))
    if not_read or history_not_read or any(g["status"] == "failed" or g.get("unlike_extraction")
                                           for g in scores.groups):
        sys.exit(1)  # as extract and detect: the report is written, a group or a video was not scored
