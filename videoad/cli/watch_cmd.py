"""`videoad watch`: score cameras, streams, files or a folder as they arrive (videoad.live)."""
from __future__ import annotations

from pathlib import Path

import click

from extract.sources import one_line

from .settings import (FiniteFloat, NonEmptyPath, check_output_folder, config_options, given_settings, seconds,
                       setting_kwargs)
from .video_cmd import event_options


#: videoad.watch_config's bound on keep_days (a century), written here so that the command line
#: stays free of its imports; tests/test_video_cli.py keeps the two equal
KEEP_DAYS_MAX = 36500
#: ... and those on frame_queue_mb (100 GB a source: 64 frames of the largest picture FFmpeg decodes are
#: 51 GB) and retries (null, the option left out, keeps trying for ever), kept equal by tests/test_cli_bounds.py
FRAME_QUEUE_MB_MAX = 100_000
RETRIES_MAX = 1_000_000


class _Retries(click.IntRange):
    """--retries' range, its refusal saying how to ask for "for ever": `--retries 10**30` passed for it."""

    def convert(self, value, param, ctx):
        number = click.INT.convert(value, param, ctx)  # not a number: click's own words
        try:
            return super().convert(number, param, ctx)
        except click.BadParameter as exc:
            self.fail(f"{exc.message} Leave --retries out to keep trying for ever (retries: null in a --config "
                      "file).", param, ctx)


def _defaults() -> dict:
    from videoad.watch_config import defaults

    return defaults()


#: option -> its dotted key in the settings (videoad.watch_config): its default shown in --help (read from
#: the defaults), and where the value given goes
_TO_SETTINGS = {"group": "model.group", "device": "model.device", "realtime": "sources.realtime",
                "read_timeout": "sources.timeout", "poll": "sources.poll_s", "settle": "sources.settle_s",
                "image_fps": "sources.image_fps",
                "merge_gap": "events.merge_gap_s", "min_event": "events.min_length_s",
                "on_event": "on_event", "post": "post", "hook_timeout": "hook_timeout_s",
                "max_lag": "max_lag_s", "retries": "retries", "backoff": "backoff_s",
                "clip_scores": "clip_scores", "smooth": "smooth", "keep_days": "keep_days",
                "frame_queue_mb": "frame_queue_mb"}
_setting = setting_kwargs(_TO_SETTINGS, _defaults)


def _given_settings(ctx: click.Context) -> dict:
    """The options the user gave, in the layout of the settings file."""
    return given_settings(ctx, _TO_SETTINGS)


def _image_fps_unused(image_fps: float) -> None:
    from extract.run import image_fps_unused

    click.echo("warning: " + image_fps_unused(image_fps, frame_folders=False), err=True)


def _may_take_image_fps(srcs, image_fps: float | None) -> list:
    """The sources whose files --image-fps may give a rate: folders, files that are raw streams stating
    none. Where it was given and none may, it changed nothing: said now, not after a watch of a
    stream (as `extract` says it)."""
    from extract.run import states_no_rate
    from videoad import live

    if image_fps is None:
        return []
    may = [s for s in srcs if isinstance(s, live.FolderSource) or isinstance(s, live.FileSource)
           and states_no_rate(s.path)]
    if not may:
        _image_fps_unused(image_fps)
    return may


@click.command("watch")
@click.argument("sources", metavar="SOURCE...", nargs=-1)
@click.option("--model", "model_dir", type=NonEmptyPath(exists=True, file_okay=False, path_type=Path),
              help="Model folder written by `videoad detect ... --save-model DIR`.  [required]")
@click.option("-o", "--output", "output", type=NonEmptyPath(file_okay=False, path_type=Path),
              help="Folder for events.jsonl and the event images (events/).  [required]")
@config_options("configs/watch.yaml")
@click.option("--group", **_setting("group", none="the only one, else the pooled one; models fitted --per-camera: for "
                                    "each source the camera its first frames show, for a folder each file's"),
              help="Which group's model to use when the folder holds several.")
@click.option("--realtime/--no-realtime", **_setting("realtime"), help="Read files at their own frame rate, as a "
              "camera delivers them, or as fast as they decode.")
@event_options(setting=_setting)
@click.option("--on-event", "on_event", metavar="CMD", **_setting("on_event"),
              help="Run CMD (through the shell) for every open, close, gap, scene_cut, view, camera, level "
              "(a crossing), skipped, failed and lost record, the record's JSON on its standard input.")
@click.option("--post", metavar="URL", **_setting("post"), help="POST the same records as JSON to URL.")
@click.option("--hook-timeout", type=seconds(), **_setting("hook_timeout"),
              help="Seconds an --on-event command or a --post may take before it is given up.")
@click.option("--max-lag", type=seconds(), **_setting("max_lag"),
              help="Live sources: drop (and count) clips whose last frame arrived longer ago than this.")
@click.option("--frame-queue-mb", "frame_queue_mb", type=click.IntRange(1, FRAME_QUEUE_MB_MAX), metavar="MB",
              **_setting("frame_queue_mb"),
              help="Decoded frames waiting for the scorer: at most MB megabytes of them per source (and at most "
              "64, frame_queue in a --config file; two always pass). The default holds 64 frames of 1080p, 16 of "
              "4K; the sources' queues together take at most MB times their number.")
@click.option("--retries", type=_Retries(0, RETRIES_MAX), **_setting("retries", none="keep trying"),
              help="Give a stream up after N+1 failed attempts in a row to open it; 0: never reopen it.")
@click.option("--backoff", type=seconds(), **_setting("backoff"),
              help="Seconds before the first reopen attempt; doubled after each failure, at most 30 "
              "(backoff_max_s in a --config file).")
@click.option("--timeout", "read_timeout", type=seconds(), **_setting("read_timeout"),
              help="Seconds a stream may stay silent (or take to open) before it counts as dropped.")
@click.option("--poll", type=seconds(), **_setting("poll"),
              help="Folders: seconds between looks for new files.")
@click.option("--settle", type=seconds(zero=True), **_setting("settle"),
              help="Folders: seconds a file must keep its size and time before it is taken (a recorder still "
              "writing it may pause). --once takes the files older than that at once, waits up to as long for "
              "those changed since to keep still, and leaves the ones still changing for the next run; 0 takes "
              "every file at once.")
@click.option("--image-fps", type=FiniteFloat(min=0, min_open=True),
              **_setting("image_fps", none="the rate of the models' footage, else 25; either warned"),
              help="Frame rate of raw .264/.h265 files that state none in their VUI timing.")
@click.option("--once", is_flag=True, help="Folders: watch the files there now, then stop (a file still being "
              "written, changed within --settle seconds and still changing, is left for the next run).")
@click.option("--clip-scores/--no-clip-scores", **_setting("clip_scores"),
              help="Also write every clip's score to OUT/clips.csv, or not.")
@click.option("--smooth/--no-smooth", **_setting("smooth"),
              help="Smooth clip scores in time as the model was fitted (the batch's scores and events; a clip's "
              "score is final about 2 s after it with the packaged smoothing) or score raw against the raw "
              "scores' alarm line, with no wait.")
@click.option("--keep-days", type=FiniteFloat(min=0, min_open=True, max=KEEP_DAYS_MAX), metavar="DAYS",
              **_setting("keep_days", none="keep them all"),
              help="Delete event images older than DAYS (they go into OUT/events/<date>/; checked hourly, the "
              "records stay).")
@click.option("--device", metavar="D", **_setting("device", none="as the models' extraction recorded it"),
              help="Device of a learned backbone's forward pass: cpu, cuda, cuda:N, auto.")
@click.option("--allow-pickle", is_flag=True,
              help="Unpickle in full the weights file the models record (a learned backbone's, extracted with "
                   "--backbone-opt allow_pickle=true): only a file you trust; its sha256 is checked against the "
                   "one recorded at extraction first. A model folder never gives this leave itself.")
@click.option("-q", "--quiet", is_flag=True, help="No progress line.")
@click.pass_context
def watch(ctx, sources, model_dir, output, config, print_config, once, quiet, allow_pickle, **_given):
    """Score SOURCE as it arrives with saved models and raise events: a video file, a camera
    (/dev/videoN), a stream URL (rtsp://, http(s)://, anything FFmpeg opens), or a folder that new
    files arrive in; several SOURCEs are watched side by side. NAME=SOURCE names a source (its
    records' `source`, its event ids); sources of one name are named by their paths' ends
    (site1/inbox, site2/inbox).

    Each event is appended to OUT/events.jsonl when it opens and when it closes, with its peak
    frame and heat map in OUT/events/. Ctrl-C closes the open events and exits 0. Settings come
    from the options, then --config FILE, then the defaults (--print-config shows them).
    """
    import signal

    from videoad import live, watch_config
    from videoad.live.sources import name_apart
    from videoad.output_lock import FolderBusyError, output_lock

    try:
        cfg = watch_config.load(config, _given_settings(ctx))
        if print_config:
            click.echo(watch_config.text(cfg), nl=False)
            return
        if not sources or model_dir is None or output is None:
            raise click.UsageError("give SOURCE..., --model and -o/--output (or --print-config alone)")
        if cfg["post"] is not None:
            from videoad.live.outputs import post_target

            post_target(cfg["post"])  # `http://` alone, a bad port: named now, not once per record
        options = watch_config.watch_options(cfg)
        src = cfg["sources"]
        srcs = [live.make_source(s, realtime=src["realtime"], timeout=src["timeout"], poll_s=src["poll_s"],
                                 settle_s=src["settle_s"], once=once, image_fps=src["image_fps"]) for s in sources]
        if once and not any(isinstance(s, live.FolderSource) for s in srcs):  # taken in silence before
            click.echo("warning: --once is for folders (their files now, then stop); a file is watched to its end "
                       "anyway and a stream until it ends or fails", err=True)
        name_apart(srcs)  # two `inbox` folders: site1/inbox and site2/inbox, as their events must not mix
        may_take = _may_take_image_fps(srcs, src["image_fps"])
        import torch  # here, not at the top: --print-config and the usage errors took 1.8 s of its import

        torch.set_num_threads(1)  # per-clip scoring is small; the cores go to decoding and features
        group, device = cfg["model"]["group"], cfg["model"]["device"]
        from videoad import output_kinds as kinds

        # `-o SCORES` appended watch's rows under the scores' events.csv header; `-o MODELS` wrote beside them
        check_output_folder(output, kinds.WATCH, {"--model": model_dir,  # NAME=SOURCE folders too
                                                  **{f"SOURCE {x.name}": x.folder for x in srcs
                                                     if isinstance(x, live.FolderSource)}})
        from videoad.output_lock import read_whole
        from videoad.video.index import MODELS_INDEX

        def whole(load):  # one version of the folder: a `--save-model` into it now mixed two fits' files
            return read_whole(model_dir, Path(model_dir) / MODELS_INDEX, load, live.WatchError)

        cameras = None
        if group is None:  # models fitted --per-camera: each source with the model of the camera it shows
            from videoad.live.camera import CameraModels

            cameras = whole(lambda: CameraModels.of(model_dir, device, allow_pickle))
        if cameras is not None:
            wm, lines = cameras.choose(srcs)
            for line in lines:
                click.echo(one_line(f"camera of {line}"))
        else:
            wm = whole(lambda: live.WatchModel.load(model_dir, group, device, allow_pickle=allow_pickle))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    progress = live.Progress() if not quiet else None

    stopping = []

    def terminate(_signum, _frame):  # a service manager's stop is a Ctrl-C: flush and exit 0
        if stopping:  # `timeout` sends its TERM to the watch, then to its process group: one stop, not
            return  # a second that breaks into the first (open events left, no stop record); SIGKILL is the hard one
        stopping.append(True)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        with output_lock(output, command="videoad watch"):  # a second watch into OUT: two logs in one
            summary = live.watch(srcs, wm, output, options, on_progress=progress)
    except FolderBusyError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"{output}: {exc}") from None
    finally:
        if not stopping:  # after a stop, `timeout`'s second TERM (to the group) may come as the watch returns:
            signal.signal(signal.SIGTERM, previous)  # the default action would kill the exit (-15) on its way out
        if progress is not None:
            progress.done()
    click.echo(summary.report())
    if may_take and not any(s.took_image_fps for s in may_take):  # a folder's files: none was one
        _image_fps_unused(src["image_fps"])
    click.echo(one_line(f"events: {output / live.EVENTS_FILE}, closed ones also in {output / live.EVENTS_CSV}"
                        + (" (stopped)" if summary.interrupted else "")))
    unreadable = [s for s in summary.sources if s.failed and not s.lost]  # a folder's: it went on without them
    if summary.lost or unreadable:  # exit status 1, as a cron job's `--once` needs to notice
        raise click.ClickException(one_line("; ".join(
            [f"{s.name}: {s.lost}" for s in summary.lost]
            + [f"{s.name}: {s.failed} file(s) unreadable (their `failed` records in {output / live.EVENTS_FILE})"
               for s in unreadable])))
