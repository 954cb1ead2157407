"""`videoad watch`: score cameras, streams, files or a folder as they arrive (videoad.live)."""
from __future__ import annotations

from pathlib import Path

import click

from .video_cmd import event_options, event_settings


@click.command("watch")
@click.argument("sources", metavar="SOURCE...", nargs=-1, required=True)
@click.option("--model", "model_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Model folder written by `videoad detect ... --save-model DIR`.")
@click.option("-o", "--output", "output", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for events.jsonl and the event images (events/).")
@click.option("--group", help="Which group's model to use when the folder holds several (default: the only "
              "one, else the pooled one).")
@click.option("--realtime", is_flag=True, help="Read files at their own frame rate, as a camera delivers them "
              "(default: as fast as they decode).")
@event_options
@click.option("--on-event", "on_event", metavar="CMD",
              help="Run CMD (through the shell) for every record of an event opening or closing, a gap, a "
              "lost stream or an unreadable file, the record's JSON on its standard input.")
@click.option("--post", metavar="URL", help="POST the same records as JSON to URL.")
@click.option("--hook-timeout", type=click.FloatRange(min=0, min_open=True), default=10.0, show_default=True,
              help="Seconds an --on-event command or a --post may take before it is given up.")
@click.option("--max-lag", type=click.FloatRange(min=0, min_open=True), default=3.0, show_default=True,
              help="Live sources: drop (and count) clips whose last frame arrived longer ago than this.")
@click.option("--retries", type=click.IntRange(min=0), default=None,
              help="Give a stream up after N+1 failed attempts in a row to open it; 0: never reopen it "
              "[default: keep trying].")
@click.option("--backoff", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="Seconds before the first reopen attempt; doubled after each failure, at most 30.")
@click.option("--timeout", "read_timeout", type=click.FloatRange(min=0, min_open=True), default=10.0,
              show_default=True, help="Seconds a stream may stay silent (or take to open) before it counts as dropped.")
@click.option("--poll", type=click.FloatRange(min=0, min_open=True), default=2.0, show_default=True,
              help="Folders: seconds between looks for new files.")
@click.option("--once", is_flag=True, help="Folders: watch the files there now, then stop.")
@click.option("--clip-scores", is_flag=True, help="Also write every clip's score to OUT/clips.csv.")
@click.option("--device", default=None, metavar="D", help="Device of a learned backbone's forward pass.")
@click.option("-q", "--quiet", is_flag=True, help="No progress line.")
def watch(sources, model_dir, output, group, realtime, merge_gap, min_event, on_event, post, hook_timeout, max_lag,
          retries, backoff, read_timeout, poll, once, clip_scores, device, quiet):
    """Score SOURCE as it arrives with saved models and raise events: a video file, a camera
    (/dev/videoN), a stream URL (rtsp://, http(s)://, anything FFmpeg opens), or a folder that new
    files arrive in; several SOURCEs are watched side by side.

    Each event is appended to OUT/events.jsonl when it opens and when it closes, with its peak
    frame and heat map in OUT/events/. Ctrl-C closes the open events and exits 0.
    """
    import signal

    import torch

    from videoad import live

    if post is not None and not post.lower().startswith(("http://", "https://")):
        raise click.ClickException(f"--post {post}: not an http(s) URL")
    try:
        settings = event_settings(merge_gap, min_event)
        srcs = [live.make_source(s, realtime=realtime, timeout=read_timeout, poll_s=poll, once=once) for s in sources]
        names = [s.name for s in srcs]
        if len(set(names)) < len(names):
            raise live.WatchError(f"two sources have the same name ({', '.join(names)}): their events would mix")
        torch.set_num_threads(1)  # per-clip scoring is small; the cores go to decoding and features
        wm = live.WatchModel.load(model_dir, group, device)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    options = live.WatchOptions(events=settings, max_lag_s=max_lag, retries=retries, backoff_s=backoff,
                                on_event=on_event, post=post, hook_timeout_s=hook_timeout, clip_scores=clip_scores)
    progress = live.Progress() if not quiet else None

    def terminate(_signum, _frame):  # a service manager's stop is a Ctrl-C: flush and exit 0
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        summary = live.watch(srcs, wm, output, options, on_progress=progress)
    except OSError as exc:
        raise click.ClickException(f"{output}: {exc}") from None
    finally:
        signal.signal(signal.SIGTERM, previous)
        if progress is not None:
            progress.done()
    click.echo(summary.report())
    click.echo(f"events: {output / live.EVENTS_FILE}" + (" (stopped)" if summary.interrupted else ""))
    if summary.lost:
        raise click.ClickException("; ".join(f"{s.name}: {s.lost}" for s in summary.lost))
