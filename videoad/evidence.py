"""Per event, the evidence an analyst opens: the peak frame with its heat map, and the footage.

For every event of a run: `E001.png`, the peak frame (middle frame of the peak clip) with the
peak clip's cell scores laid over it and the hottest cells boxed (the frame alone when the run
has no cell scores), and `E001.mp4` (or `.webm`), the event plus `pad_s` seconds either side,
read by seeking and encoded for a browser, optionally with each frame's heat map burnt in.
An event longer than `max_clip_s` gets that much footage centred on its peak.

A video whose source cannot be read gets its images with the reason written in them and no
clips; the other videos go on.

A rerun into the same folder remakes only the events whose files' inputs changed: each event's
picture and clip are keyed (`videoad.output_keys`, `EVENT_KEYS` beside them) by everything they
are made from, with what the report needs of them (`EventMedia`); over a dataset the pictures
were most of a rerun once its timelines were kept, and with footage the clips cost far more.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from extract.store import remove_dead_temporaries
from videoad.events import Event, EventSet, event_name, fmt_score
from videoad.footage import (FALLBACK_FPS, Footage, FootageError, PyAVMissing, clip_format, clip_frames,
                             write_clip)
from videoad.heatmap import burn, heat_figure
from videoad.names import worker_console, worker_console_args
from videoad.output_keys import EVENT_KEYS, KeyFile, key_of
from videoad.plots import AmbiguousSource, drawing_environment, footage_key, resolve_source, shared_file_names
from videoad.scores import ScoreSet, VideoScores

log = logging.getLogger(__name__)

#: event clips a report writes by default, the highest peaks first: a day of a busy camera's
#: events made thousands of clips (hundreds of MB, tens of minutes) that nobody plays
MAX_CLIPS = 200
_STALE = re.compile(r"^E\d+\.(png|mp4|webm)$")


@dataclass
class EventMedia:
    """What was written for one event; paths are relative to the evidence folder's parent."""

    event: int
    image: str | None = None
    clip: str | None = None
    clip_first_frame: int = 0
    clip_last_frame: int = 0
    clip_fps: float = FALLBACK_FPS
    play_from_s: float = 0.0  # where in the clip the event starts
    note: str = ""


def _name(e: Event) -> str:
    return event_name(e.event)


def _heat_range(v: VideoScores, e: Event) -> tuple[float, float]:
    """From the video's typical cell score to the event's hottest cell."""
    vmin = float(np.median(v.cells))
    vmax = float(v.cells[e.first_clip:e.last_clip + 1].max())
    return vmin, max(vmax, vmin + 1e-9)


def _title(e: Event, unit: str) -> str:
    when = f"{e.peak_s:.1f} s (frame {e.peak_frame})" if e.peak_s is not None else f"frame {e.peak_frame}"
    unit = "" if unit == "score" else " " + unit.split("(")[-1].rstrip(")")
    # "clip score": the colour bar beside it shows the cells' own scores, on another scale
    return f"{_name(e)}  {e.video}\npeak clip score {fmt_score(e.peak_score)}{unit} at {when}"


def source_changed(v, src) -> str | None:
    """Why `src` is not the source extraction read for `v` (its size or, for a frame folder, its
    image count differs from what the scores recorded), else None: its frames would not be those
    scored (a retention job deleting a folder's first images shifts every later one)."""
    was = v.source_fingerprint
    if not was or src is None:
        return None
    from extract.sources import Source

    try:
        now = Source(str(v.video), Path(src), "images" if Path(src).is_dir() else "video").fingerprint()
    except OSError:
        return None
    # its modification time too, where the file is still where extraction read it (a copy elsewhere,
    # found by --source-root, has a new one): a recorder's fixed-size segment rewritten in place
    # keeps its size
    at_home = v.source and os.path.abspath(str(src)) == os.path.abspath(str(v.source))
    touched = at_home and was.get("mtime_ns") is not None and now["mtime_ns"] != was["mtime_ns"]
    if now["size"] == was.get("size") and now["files"] == was.get("files") and not touched:
        return None
    what = (f"{was.get('files')} images then, {now['files']} now" if now["files"] != was.get("files")
            else f"{was.get('size')} bytes then, {now['size']} now" if now["size"] != was.get("size")
            else "the same size, modified since")
    if not at_home:  # found under --source-root: another file of that name as likely as an edited one
        return f"{src} is not the file extracted ({what}): its pictures may not be the frames scored"
    return f"source changed since extraction ({what}): its pictures may not be the frames scored"


def _sources(scores, source_root) -> dict:
    """Each video's source file (`plots.resolve_source`), or the AmbiguousSource that says why not."""
    shared, out = shared_file_names(scores), {}
    for v in scores:
        try:
            out[v.video] = resolve_source(v, source_root, shared)
        except AmbiguousSource as exc:
            out[v.video] = exc
    return out


def footage_not_found(scores: ScoreSet, events: EventSet, source_root=None) -> dict[str, str]:
    """Per video with events whose named footage is not there, where it was looked for, as text:
    a report opened on a machine without the footage said only "no clip" under each event (the
    reason was written into the pictures and the viewer's caption alone)."""
    sources, out = _sources(scores, source_root), {}
    for v in scores:
        if not events.of(v.video):
            continue
        src = sources.get(v.video)
        if isinstance(src, AmbiguousSource):
            out[v.video] = f"not used: {src}"
        elif src is not None and not Path(src).exists():  # none named (imported scores): nothing to look for
            out[v.video] = f"not found at {src}" + (f", nor under {source_root}" if source_root is not None else "")
    return out


def write_evidence(scores: ScoreSet, events: EventSet, out_dir, *, pad_s: float = 3.0, max_clip_s: float = 60.0,
                   clips: bool = True, burn_heatmap: bool = False, source_root=None,
                   on_event=None, max_clips: int | None = MAX_CLIPS, workers: int | None = 1) -> dict[int, EventMedia]:
    """Write the image (and clip) of every event into `out_dir`; returns event number -> media.

    `max_clips`: clips for that many events at most, the highest peaks first (None or 0: every
    event); the others keep their image. `on_event(event)` is called after each event (a progress
    display; with workers, a video's events once the video is done). `workers`: processes, each
    taking a video at a time, when more than `plots.PARALLEL_FROM` videos have events (None: the
    cores, as the commands ask; a library call works here unless it asks, as `draw_timelines`).
    An event whose files an earlier call made into `out_dir` from the same inputs keeps them
    (`EVENT_KEYS`); every other event file there is removed or made anew."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    remove_dead_temporaries(out)  # a killed report's half-written clips (footage.write_clip), pictures, key file
    suffix = ".mp4"
    if clips and events.events:
        try:
            suffix = clip_format()[0]
        except FootageError as exc:  # no encoder (PyAV missing, or its FFmpeg without one): pictures alone
            log.warning("event clips not written: %s", exc)
            clips = False
    # the limit's slots go to events whose video is there to cut a clip from (a moved or deleted
    # source's event took one and left a readable one without a clip)
    sources = _sources(scores, source_root)
    can_clip = [e for e in events.events if isinstance(sources.get(e.video), Path) and sources[e.video].exists()]
    clipped = {e.event for e in sorted(can_clip, key=lambda e: (-e.peak_score, e.event))[:max_clips or None]}
    grid, region = events.cell_grid, events.cell_region
    ignored = {g.get("group"): g.get("ignored_cells") or [] for g in scores.groups if isinstance(g, dict)}
    known = KeyFile(out / EVENT_KEYS, entries="events", payload="made")
    env = None
    plans = []  # per video with events: (job, its state, each event's key and files, the events kept)
    for v in scores:
        evs = sorted(events.of(v.video), key=lambda e: e.start_frame)
        if not evs:
            continue
        job = (v, evs, sources[v.video], out, suffix, grid, v.cell_region or region, events.score_unit, pad_s,
               max_clip_s, clips, {e.event for e in evs if e.event in clipped}, burn_heatmap,
               ignored.get(v.group, []), max_clips)
        state = _footage_state(v, sources[v.video])
        if state is not None and env is None:
            env = making_environment(clips)
        keyed = {e.event: (_key(env, state, e, job), _files(e, out, suffix, state, clips and e.event in clipped))
                 for e in evs}
        kept = {}
        for e in evs:
            key, files = keyed[e.event]
            made = known.reuse(_name(e), key, files, accept=lambda made, e=e, files=files: _of_event(made, e, files))
            if made is not None:
                kept[e.event] = made
        plans.append((job, state, keyed, kept))
    keep = {f.name for _, _, keyed, kept in plans for n in kept for f in keyed[n][1]}
    for old in out.iterdir():  # an earlier report's numbering must not linger, nor an event's files remade
        if _STALE.match(old.name) and old.name not in keep:
            old.unlink(missing_ok=True)
    jobs = [(job[0], [e for e in job[1] if e.event not in kept], *job[2:])
            for job, _, _, kept in plans if len(kept) < len(job[1])]
    results = _each_video(jobs, workers)
    media: dict[int, EventMedia] = {}
    said: dict[str, list[tuple[str, str]]] = {}  # kind -> (video, why): one line per kind at the end
    entries = []  # the key file's (name, key, files, what was made)
    for (v, evs, *_), state, keyed, kept in plans:
        done, told, opened, failed = next(results) if len(kept) < len(evs) else ({}, {}, True, set())
        if not done:  # every event kept: what their video told then (their key says it would tell it now)
            told = {}
            for kind, why in next(iter(kept.values()))["told"]:
                told.setdefault(kind, []).append((v.video, why))
        mine = [[kind, why] for kind, found in told.items() if kind in _VIDEO_KINDS for _, why in found]
        for e in evs:
            key, files = keyed[e.event]
            if e.event in kept:
                made = kept[e.event]
                media[e.event] = _media(made["media"])
            else:
                media[e.event] = m = done[e.event]
                # kept next time where all it reads was read: not a source that could not be opened, a peak
                # frame or a clip that failed (the footage may be back, the disk no longer full)
                whole = ((opened or (state is not None and state[0] != "file")) and e.event not in failed
                         and _files_of(m, out) == files)
                made = {"media": dataclasses.asdict(m), "told": mine} if key is not None and whole else None
            entries.append((_name(e), key if made is not None else None, files, made))
        for kind, found in told.items():
            said.setdefault(kind, []).extend(found)
        if on_event is not None:
            for e in evs:
                on_event(e)
    known.save(entries)
    _say(said, source_root)
    return media


# -- what an event's files are made from: the key a rerun keeps them by (videoad.output_keys) --

#: raise to make every kept event again where nothing `making_environment` reads changed
EVIDENCE_VERSION = 1
#: kinds of problem told of a whole video (the rest, "frame" and "clip", of one event)
_VIDEO_KINDS = ("source", "ambiguous", "pyav", "changed")


def making_environment(clips: bool) -> tuple:
    """What every event's files are made by: what draws the timelines too (`plots.drawing_environment`:
    videoad's code, matplotlib, numpy, fonts, settings), and for clips the encoder, PyAV's FFmpeg
    libraries and OpenCV (which scales and burns the frames)."""
    clip_tools = None
    if clips:
        import av
        import cv2

        clip_tools = (av.__version__, dict(getattr(av, "library_versions", {})), cv2.__version__)
    return (EVIDENCE_VERSION, drawing_environment(), clip_tools)


def _footage_state(v: VideoScores, src) -> tuple | None:
    """What a video's events' files read of its footage, for their key: the scores name none; the
    file is not there (so the pictures say, and a file put there changes the key); or the file (its
    path, size, time: `plots.footage_key`) and whether it changed since extraction. None: made
    each run, as the timelines' peak frames are: a frame folder, a source found by a name other
    videos share, one that cannot be looked at, no PyAV."""
    if src is None:
        return ("none",)
    if isinstance(src, AmbiguousSource):
        return None
    try:
        os.stat(src)
    except (FileNotFoundError, NotADirectoryError):
        return ("missing", str(src))
    except OSError:
        return None
    found = footage_key(src)
    return None if found is None else ("file", found, str(src), source_changed(v, src))


def _key(env, state, e: Event, job: tuple) -> str | None:
    """The key of event `e`'s files, None where they are made each run."""
    if state is None:
        return None
    try:
        return key_of((env, state, _event_inputs(e, *job)))
    except TypeError as exc:  # an input of a kind not keyed (a library's own number type): made, as before
        log.debug("%s: event files not keyed (%s)", e.video, exc)
        return None


def _event_inputs(e: Event, v: VideoScores, evs, src, out, suffix, grid, region, unit, pad_s, max_clip_s, clips,
                  clipped, burn_heatmap, ignored, max_clips) -> tuple:
    """Everything `_one` makes event `e`'s files from, beside its footage (`_footage_state`): the
    arguments `_video_media` gives it (the same parameters, a video's job)."""
    clip = clips and e.event in clipped
    has_cells = v.cells is not None and grid is not None
    heat = None
    if has_cells:
        heat = (_heat_range(v, e), v.cells[e.peak_clip], grid, region, ignored)
        if clip and burn_heatmap:
            heat += (v.cells[e.first_clip:e.last_clip + 1], v.frames[e.first_clip:e.last_clip + 1])
    return (out.name, v.video, v.n_frames, v.fps, unit, heat, (clips, clip, max_clips),
            clip and (suffix, pad_s, max_clip_s, burn_heatmap),
            (e.event, e.video, e.start_frame, e.end_frame, e.peak_frame, e.peak_score, e.peak_s, e.peak_clip,
             e.first_clip, e.last_clip, e.peak_cells))


def _files(e: Event, out: Path, suffix: str, state: tuple | None, clip: bool) -> list[Path]:
    """The files an event's making leaves: its picture, and its clip where asked for and its
    footage is a file."""
    return [out / f"{_name(e)}.png"] + ([out / f"{_name(e)}{suffix}"] if clip and state and state[0] == "file" else [])


def _files_of(m: EventMedia, out: Path) -> list[Path]:
    return [out / Path(rel).name for rel in (m.image, m.clip) if rel]


def _of_event(made: dict, e: Event, files: list[Path]) -> bool:
    """Whether what an earlier run recorded of an event is of this version's making and names its files."""
    if not isinstance(made.get("told"), list):
        return False
    try:
        m = _media(made["media"])
        told = [(str(kind), str(why)) for kind, why in made["told"]]
    except (KeyError, TypeError, ValueError):
        return False
    return m.event == e.event and _files_of(m, files[0].parent) == files and all(k in _VIDEO_KINDS for k, _ in told)


def _media(d: dict) -> EventMedia:
    """The EventMedia recorded as `d`; TypeError or ValueError where it is not one of this version's."""
    fields = {f.name: f for f in dataclasses.fields(EventMedia)}
    if not isinstance(d, dict) or set(d) != set(fields):
        raise ValueError("not an EventMedia")
    m = EventMedia(**d)
    if not (isinstance(m.event, int) and all(isinstance(x, (str, type(None))) for x in (m.image, m.clip))
            and isinstance(m.clip_first_frame, int) and isinstance(m.clip_last_frame, int)
            and isinstance(m.clip_fps, (int, float)) and isinstance(m.play_from_s, (int, float))
            and isinstance(m.note, str)):
        raise TypeError("not an EventMedia")
    m.clip_fps, m.play_from_s = float(m.clip_fps), float(m.play_from_s)
    return m


def _each_video(jobs: list[tuple], workers: int | None):
    """`_video_media(*job)` for every job, yielded in order as each is done: here, or in worker
    processes (one at a time here, 2,000 videos' events took minutes on one core while the others
    idled); a pool that breaks leaves the rest to this process."""
    import os

    from videoad.plots import PARALLEL_FROM

    workers = min(8, os.cpu_count() or 1) if workers is None else max(1, int(workers))
    if workers > 1 and len(jobs) > PARALLEL_FROM:
        from concurrent.futures.process import BrokenProcessPool

        from extract.spawning import process_pool

        done = 0
        try:
            with process_pool(workers, initializer=worker_console, initargs=worker_console_args()) as pool:
                for result in pool.map(_video_job, jobs, chunksize=max(1, len(jobs) // (workers * 4))):
                    done += 1
                    yield result
            return
        except BrokenProcessPool as exc:
            log.warning("event pictures and clips made in this process: the worker processes failed (%s)", exc)
        jobs = jobs[done:]
    for job in jobs:
        yield _video_media(*job)


def _video_job(job: tuple) -> tuple[dict, dict, bool, set]:
    return _video_media(*job)


def _video_media(v, evs, src, out, suffix, grid, region, unit, pad_s, max_clip_s, clips, clipped, burn_heatmap,
                 ignored, max_clips) -> tuple[dict[int, EventMedia], dict[str, list[tuple[str, str]]], bool, set[int]]:
    """One video's events: their pictures and clips, what went wrong (kind -> (video, why)),
    whether its footage opened, and the events whose peak frame or clip failed."""
    media: dict[int, EventMedia] = {}
    said: dict[str, list[tuple[str, str]]] = {}
    failed: set[int] = set()
    footage, why = None, ""
    try:
        if isinstance(src, AmbiguousSource):
            raise src
        if src is None:
            raise FileNotFoundError("the scores do not name a source video")
        footage = Footage(src, v.n_frames)
    except AmbiguousSource as exc:
        why = f"source not used: {exc}"
        said.setdefault("ambiguous", []).append((v.video, why))
    except PyAVMissing as exc:
        why = str(exc)
        said.setdefault("pyav", []).append((v.video, why))
    except Exception as exc:  # noqa: BLE001 - one unreadable source must not stop the others
        why = f"source not readable: {exc}"
        said.setdefault("source", []).append((v.video, why))
    changed = source_changed(v, src) if footage is not None else None
    if changed:
        said.setdefault("changed", []).append((v.video, changed))
    opened = footage is not None
    try:
        for e in evs:
            told = sum(len(found) for found in said.values())
            media[e.event] = _one(v, e, footage, why, out, suffix, grid, region, unit, pad_s, max_clip_s,
                                  clips and e.event in clipped, burn_heatmap, ignored, said,
                                  None if e.event in clipped or not clips else
                                  f"no clip: clips for the {max_clips} highest-peaked events only (--max-clips)")
            if sum(len(found) for found in said.values()) > told:  # its peak frame or its clip
                failed.add(e.event)
            if changed:
                m = media[e.event]
                m.note = f"{changed}; {m.note}" if m.note else changed
    finally:
        if footage is not None:
            footage.close()
    return media, said, opened, failed


#: how each kind of per-video problem is told once for a whole report (each event's note on the page
#: names its own): a line per video was thousands of lines where the footage is elsewhere
_KINDS = {"source": ("video(s) with events cannot be read, so their events show no frame and no clip",
                     "; --source-root names where the videos are now"),
          "ambiguous": ("video(s) with events found under --source-root by a file name other videos of the run "
                        "have, so their events show no frame and no clip", "; put each under its key's path there"),
          "pyav": ("video(s) with events whose frames cannot be read without PyAV", ""),
          "changed": ("video(s) changed since extraction: their pictures may not show the scored frames", ""),
          "frame": ("event(s) whose peak frame could not be read", ""),
          "clip": ("event clip(s) not written", "")}


def _say(said: dict[str, list[tuple[str, str]]], source_root=None) -> None:
    for kind, found in said.items():
        what, hint = _KINDS[kind]
        if kind == "source" and source_root is not None:
            hint = f"; not under --source-root {source_root} either"
        video, why = found[0]
        log.warning("%d %s (first: %s: %s)%s", len(found), what, video, why, hint)


def _one(v, e, footage, why, out, suffix, grid, region, unit, pad_s, max_clip_s, clips, burn_heatmap,
         ignored=(), said=None, no_clip: str | None = None) -> EventMedia:
    said = {} if said is None else said
    m = EventMedia(e.event, note=why)
    frame = None
    if footage is not None:
        try:
            frame = footage.frame(e.peak_frame)
        except Exception as exc:  # noqa: BLE001
            m.note = f"peak frame not readable: {exc}"
            said.setdefault("frame", []).append((v.video, m.note))
    has_cells = v.cells is not None and grid is not None
    heat = {}
    if has_cells:
        vmin, vmax = _heat_range(v, e)
        heat = dict(grid=grid, region=region, vmin=vmin, vmax=vmax)
    # a run with cells may hold a video without (its group scored as whole clips): "this run" was wrong there
    whose = "in this run" if grid is None else "for this video"
    note = m.note or ("" if has_cells else f"no cell scores {whose}: the whole frame scored as one")
    image = heat_figure(frame, out / f"{_name(e)}.png", cells=v.cells[e.peak_clip] if has_cells else None,
                        hot=e.peak_cells, title=_title(e, unit), unit=unit, note=note,
                        ignored=list(ignored) if has_cells else None, **heat)
    m.image = f"{out.name}/{image.name}"
    if not clips:
        m.note = m.note or no_clip or "no clip: this report was written without clips"
    if not clips or footage is None:
        return m
    # the rate extraction read the video at: a file whose frames do not keep its container's rate
    # plays at the rate they keep (extract.timing), not the container's claim
    fps = (v.fps if v.fps and v.fps > 0 else None) or footage.fps or FALLBACK_FPS
    pad = int(round(pad_s * fps))
    first, last = max(0, e.start_frame - pad), min(v.n_frames - 1, e.end_frame + pad)
    limit = int(round(max_clip_s * fps))
    if last - first + 1 > limit:
        first = max(0, min(e.peak_frame - limit // 2, v.n_frames - limit))
        last = min(v.n_frames - 1, first + limit - 1)
        if first > e.start_frame:  # the clip does not reach back to the event's start: say so beside it
            started = (first - e.start_frame) / fps
            long_note = (f"clip: the {max_clip_s:g} s around the peak; the event began {started:.1f} s before "
                         "the clip does")
            m.note = f"{m.note}; {long_note}" if m.note else long_note
    draw = None
    if burn_heatmap and has_cells:
        mids = (v.frames[e.first_clip:e.last_clip + 1].sum(axis=1)) / 2.0

        def burned(i, img):
            if not e.start_frame <= i <= e.end_frame:
                return img
            k = e.first_clip + int(np.abs(mids - i).argmin())
            return burn(img, v.cells[k], grid, region, heat["vmin"], heat["vmax"], hot=e.peak_cells)

        draw = burned
    try:
        path = write_clip(clip_frames(footage, first, last, draw), out / f"{_name(e)}{suffix}", fps)
    except Exception as exc:  # noqa: BLE001 - a clip that cannot be written leaves the image
        m.note = f"clip not written: {exc}"
        said.setdefault("clip", []).append((f"{v.video} {_name(e)}", m.note))
        return m
    m.clip, m.clip_first_frame, m.clip_last_frame, m.clip_fps = f"{out.name}/{path.name}", first, last, float(fps)
    m.play_from_s = max(0.0, (e.start_frame - first) / fps)
    return m
