"""The extraction runner: decode workers feed batched feature computation into the store.

    videos ──> worker processes (decode, cut clips, backbone.preprocess) ──pipes──> main process
    main: batches clips across videos -> backbone.forward_batch -> one HDF5 file per video

Per video the outcome is one of: done (file written), skipped (a complete file for the same
source size/mtime and settings exists), failed (reason in the manifest; the batch goes on).

Failure handling, in order of severity:
* a file no decoder can open, or that errors mid-stream: failed, with each decoder's reason;
* a decode that makes no progress for `decode_timeout` seconds, or a worker process that dies
  (a native crash): the worker is killed and replaced, and the video is retried from its start
  with the next decoder in the list; when none is left it fails;
* the whole run killed: finished videos are complete files, a half-written one is a hidden
  temporary file that the next run deletes, and the next run redoes only what is missing.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import signal
import time
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path, PurePosixPath
from typing import Any, Mapping

import numpy as np

from .backbones.base import Backbone
from .clips import MAX_PLAUSIBLE_FPS, ClipSpec
from .decode import DEFAULT_DECODERS, installed_decoders
from .manifest import Manifest, manifest_name, same_folder, settings_change, settings_id
from .scene import SCENE_ATTR, add_picture, picture_of_source, scene_of
from .sources import (RAW_STREAM_EXTENSIONS, VIDEO_EXTENSIONS, Listing, Source, absolute_path, find_sources,
                      is_picture, names_shown, nothing_found_hint, one_line, select_shard, stray_pictures,
                      system_file, system_files_note)
from .timing import Timing, pauses_before
from .spawning import spawn_context
from .store import (SUFFIX, OutputError, blocking_file, check_key, count_of, typed_attr_problem, folded_clashes, key_path, output_error, read_attrs, remove_stale_temporaries, remove_store_temporaries, removed_note,
                    write_video)
from .video_stream import main_video_stream, probe_sample_aspect, raw_stream_rate
from .workers import DecodeWorker, Task

log = logging.getLogger(__name__)


@dataclass
class ExtractOptions:
    """Settings of one run; see `videoad extract --help` for the user-facing description."""

    stride: int | None = None        # None: the backbone's default_stride, else its clip length
    tail: str = "drop"
    target_fps: float | None = None
    max_fps: float | None = None     # None: the backbone's default_max_fps; 0: never resample
    image_fps: float | None = None   # frame rate of image-sequence folders (unknown otherwise)
    workers: int = 2
    batch_size: int = 8
    decode_timeout: float = 120.0    # seconds without decode progress before a worker is killed
    decoders: tuple[str, ...] = DEFAULT_DECODERS
    dtype: str = "float32"
    recursive: bool = False
    overwrite: bool = False
    shard: tuple[int, int] | None = None
    progress: bool = True
    progress_unit: str = "video"     # "video", or "frame": frames decoded, against the containers' counts
    prefetch: int = 4                # preprocessed clips a worker may hold ahead of the main process

    def clip_spec(self, backbone: Backbone) -> ClipSpec:
        stride = self.stride or getattr(backbone, "default_stride", None) or backbone.clip_len
        cap = self.max_fps if self.max_fps is not None else getattr(backbone, "default_max_fps", None)
        return ClipSpec(clip_len=backbone.clip_len, stride=stride,
                        tail=self.tail, target_fps=self.target_fps, max_fps=cap or None)


@dataclass
class VideoResult:
    key: str
    status: str  # "done" | "skipped" | "failed"
    reason: str | None = None   # why it failed
    warning: str | None = None  # e.g. no full clip
    note: str | None = None     # e.g. the container's frame count was wrong, a decoder fell back
    n_frames: int | None = None
    n_clips: int | None = None
    decoder: str | None = None
    seconds: float | None = None
    repeat_share: float | None = None  # of the sampled frames, those repeating the one before (motion)
    settings: str | None = None  # manifest.settings_id of the file's settings: merge checks the file is this one

    def __post_init__(self):  # a name in the reason as the console shows it, not as Python's repr quotes it
        if isinstance(self.reason, str):
            self.reason = names_shown(self.reason)

    def manifest_entry(self) -> dict[str, Any]:
        entry = {k: v for k, v in self.__dict__.items() if k != "key"}
        entry["status"] = "failed" if self.status == "failed" else "done"
        entry["resumed"] = True if self.status == "skipped" else None
        return entry


@dataclass
class RunSummary:
    results: dict[str, VideoResult] = field(default_factory=dict)
    clips: int = 0
    seconds: float = 0.0
    manifest_path: Path | None = None
    #: what the store holds beside this run's videos that a reader should know (another input
    #: folder's keys, features made with other settings)
    store_notes: list[str] = field(default_factory=list)

    def _with(self, status: str) -> list[VideoResult]:
        return [r for r in self.results.values() if r.status == status]

    @property
    def done(self) -> list[VideoResult]:
        return self._with("done")

    @property
    def skipped(self) -> list[VideoResult]:
        return self._with("skipped")

    @property
    def failed(self) -> list[VideoResult]:
        return self._with("failed")

    @property
    def ok(self) -> bool:
        return not self.failed

    def report(self) -> str:
        """The end-of-run text: counts, throughput, then every failure and warning."""
        rate = self.clips / self.seconds if self.seconds > 0 else 0.0
        lines = [f"{len(self.done)} done, {len(self.skipped)} skipped (already complete), "
                 f"{len(self.failed)} failed; {self.clips} clips in {self.seconds:.1f} s "
                 f"({rate:.1f} clips/s)"]
        if self.failed:
            lines.append("failed:")
            lines += [one_line(f"  {r.key}: {r.reason}") for r in self.failed]
        warned = [r for r in self.results.values() if r.warning]
        if warned:
            lines.append("warnings:")
            lines += [one_line(f"  {r.key}: {r.warning}") for r in warned]
        repeating = [r.repeat_share for r in self.results.values() if r.repeat_share]
        if repeating:  # docs/extract.md, "Repeated frames"
            lines.append(f"{len(repeating)} video(s) repeat sampled frames exactly (up to {max(repeating):.0%}: lost "
                         "frames filled in, or a camera slower than its file's rate; the manifest's notes say "
                         "which): --backbone-opt repeats=spread divides their motion over the gap")
        if self.store_notes:
            lines.append("store:")
            lines += [one_line(f"  {note}") for note in self.store_notes]
        if self.manifest_path is not None:
            lines.append(one_line(f"manifest: {self.manifest_path}"))
        return "\n".join(lines)


#: the manifest's words for what the backbone did at a scene cut (`extract.cuts.CutLog.handling`)
_CUT_NOTES = {"left out": "the frame pairs across them add no motion",
              "held": "a clip across one shows its longest shot only",
              "kept": "a clip across one holds both shots"}


def settings_for(source: Source, spec: ClipSpec, backbone: Backbone, options: ExtractOptions
                 ) -> dict[str, Any]:
    """Everything that changes a video's features; resume redoes a file when it differs. --image-fps
    is a frame folder's rate, and a raw stream's where its VUI timing states none (a stream that
    states one is not redone when it changes)."""
    settings = {"clip": spec.as_dict(), "backbone": backbone.describe(), "dtype": options.dtype}
    if takes_image_fps(source):
        settings["image_fps"] = options.image_fps
    return settings


def takes_image_fps(source: Source) -> bool:
    """Whether --image-fps gives `source` its rate: a frame folder, or a raw stream stating no rate."""
    return source.kind == "images" or states_no_rate(source.path)


def states_no_rate(path: Path) -> bool:
    """Whether the file at `path` is a raw H.264/HEVC stream whose VUI timing states no rate (--image-fps
    gives it one, extract.decode.raw_rate), whatever its name (`cam.bin` named as INPUT). A file named as
    a container is not opened: its rate is its own."""
    extension = os.path.splitext(path.name)[1].lower()
    if extension in VIDEO_EXTENSIONS and extension not in RAW_STREAM_EXTENSIONS:
        return False
    raw = raw_stream_rate(path)
    return raw is not None and raw[1] is None


def image_fps_unused(image_fps: float, frame_folders: bool = True) -> str:
    """The warning where no input takes --image-fps (it changed nothing, and said nothing); `frame_folders`:
    the command reads folders of frames and resamples a video with --fps (`extract`, not `watch`)."""
    takes = "folders of frames and of raw H.264/HEVC streams" if frame_folders else "raw H.264/HEVC streams"
    return (f"--image-fps {image_fps:g} changes nothing here: it is the rate of {takes} whose VUI timing states "
            "none, and none of these inputs is one (a video keeps its own rate"
            + ("; --fps resamples it)" if frame_folders else ")"))


def _canonical(settings: dict[str, Any]) -> str:
    return json.dumps(settings, sort_keys=True, default=str)


def _changed_while_read(source: Source, before: dict[str, int]) -> str | None:
    """Why the features of `source` are not those of the file as it now is (it grew or changed
    while it was decoded: still being recorded or copied), else None."""
    try:
        now = source.fingerprint()
    except OSError:
        return None  # gone meanwhile: the features are of what was read, as a deleted file's are
    if now == before:
        return None
    what = (f"{before['files']} -> {now['files']} frames" if now["files"] != before["files"]
            else f"{before['size']:,} -> {now['size']:,} bytes" if now["size"] != before["size"]
            else "modified")
    return (f"the source changed while it was read ({what}): still being recorded or copied? Rerun once "
            "it is complete (its features would cover part of it)")


def _has_pause(path: Path) -> bool:
    """Whether a feature file's frame times (kept for a variable rate) hold a pause in the recording;
    True where they were not kept (it cannot be told)."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            if "frame_times" not in f:
                return True
            times = f["frame_times"][()]
    except (OSError, KeyError, ValueError):
        return True
    return bool(pauses_before(times).any())


def is_current(path: Path, fingerprint: dict[str, int], settings_json: str, source_path=None) -> bool:
    """A complete file made from this very source (size, mtime, file count) with these settings.
    `source_path`: where the source is now (it may have moved since: the stored path is then
    another), for the checks that read the source itself."""
    return why_stale(path, fingerprint, settings_json, source_path) is None


def why_stale(path: Path, fingerprint: dict[str, int], settings_json: str, source_path=None) -> str | None:
    """Why the feature file at `path` is not `is_current` (None where it is): what a rerun that
    makes it again says of it ("other settings or a changed file" left the user to guess which)."""
    if not path.is_file():
        return "no feature file"
    try:
        attrs = read_attrs(path)
    except (OSError, ValueError):  # damaged or not HDF5: redo
        return "its feature file is damaged or not HDF5"
    odd = typed_attr_problem(attrs)
    if odd:  # edited by hand or damaged: `videoad` leaves it out and says to rerun extract, which redoes it
        return f"its feature file is damaged ({odd})"
    if "frame_span_s" in attrs and "frame_times_kept" not in attrs:  # variable rate, written before its times were kept
        return "a variable-rate video written before its frame times were kept"
    if "frame_span_s" in attrs and "pauses" not in attrs and _has_pause(path):
        return "a variable-rate video with a pause, written before pauses were told apart"
    changed = [what for what, attr, key in (("size", "source_size", "size"), ("modified time", "source_mtime_ns",
                                                                                "mtime_ns"),
                                            ("number of files", "source_files", "files"))
               if attrs.get(attr) != fingerprint[key]]
    if changed:
        return f"its source changed since ({', '.join(changed)})"
    if attrs.get("settings_json") != settings_json:
        return "made with other settings: " + settings_change(attrs.get("settings_json"), settings_json)
    # the source opened last, and only for stores written before the aspect was read
    if attrs.get("source_kind") == "video" and "sample_aspect" not in attrs and probe_sample_aspect(
            source_path if source_path is not None else attrs.get("source_path", "")) is not None:
        return "non-square pixels, written before they were stretched"  # extract.video_stream
    return None


@dataclass
class _Job:
    source: Source
    fingerprint: dict[str, int]
    settings_json: str
    had_current_file: bool
    decoders: tuple[str, ...]
    token: int = -1
    started: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)
    ranges: dict[int, tuple[int, int]] = field(default_factory=dict)
    features: dict[int, np.ndarray] = field(default_factory=dict)
    cells: dict[int, np.ndarray] = field(default_factory=dict)
    pending: int = 0             # clips received but not yet through forward_batch
    n_frames: int | None = None  # set when the worker has finished the video
    expected: int = 0            # frames the container claims (the progress display's estimate)
    shown: int = 0               # frames the progress display has counted (kept across retries)
    notes: list[str] = field(default_factory=list)
    replaces: str | None = None  # another file whose features the store holds under this key (`_other_source`)
    retried: set = field(default_factory=set)    # decoders given a second try after their process died
    given_up: list = field(default_factory=list)  # decoders lost on it (died twice, or stalled): the next one read it

    def reset(self, token: int, decoders: tuple[str, ...]) -> None:
        self.token, self.decoders = token, decoders
        self.info, self.ranges, self.features, self.cells = {}, {}, {}, {}
        self.pending, self.n_frames = 0, None


def list_inputs(inputs, recursive: bool = False, exclude: os.PathLike | None = None
                ) -> tuple[Path, Listing]:
    """(root, listing) of the videos under one input or several (files, folders, frame folders).

    Keys are paths relative to the root: for one folder the folder itself, for one file or one
    frame folder its parent, for several inputs the deepest folder holding them all (so
    `cam1/a.mp4` and `cam2/a.mp4` keep distinct keys). A video named twice is listed once.
    Picture files and system files (Thumbs.db, macOS's `._name`: `system_file`) named beside other
    inputs (the shell's `videos/*`) are left out with a note; one named alone fails (`find_sources`).
    """
    paths = [absolute_path(p) for p in ([inputs] if isinstance(inputs, (str, os.PathLike)) else inputs)]
    if not paths:
        raise FileNotFoundError("no input given")
    pictures = [p for p in paths if is_picture(p) and p.is_file()]
    notes = []
    if pictures and len(pictures) < len(paths):  # read as videos, each was one frame, which scores nothing
        paths = [p for p in paths if p not in pictures]
        notes.append(stray_pictures("the inputs given", pictures, "named beside other inputs"))
    system = [p for p in paths if system_file(p) and p.is_file()]
    if system and len(system) < len(paths):  # each failed to decode, and the run exited 1
        paths = [p for p in paths if p not in system]
        notes.append(system_files_note(system))
    found = []
    for path in paths:
        try:
            listing = find_sources(path, recursive=recursive, exclude=exclude)
        except PermissionError as exc:  # one input folder locked: it fails alone, as a folder in a walk does
            if len(paths) == 1:
                raise
            why = getattr(exc.__cause__, "strerror", None) or exc
            found.append((path.parent, Listing(errors={path.name: f"cannot list folder: {why}"})))
            continue
        single = len(listing.sources) == 1 and listing.sources[0].path == path
        found.append((path if path.is_dir() and not single else path.parent, listing))  # a broken link: its folder
    if len(found) == 1:
        found[0][1].notes[:0] = notes
        return found[0]
    root = Path(os.path.commonpath([r for r, _ in found]))
    merged, seen = Listing(notes=notes), set()
    for own_root, listing in found:
        for src in listing.sources:
            if src.path not in seen:
                seen.add(src.path)
                merged.sources.append(Source(src.path.relative_to(root).as_posix(), src.path, src.kind))
        for key, why in listing.errors.items():
            merged.errors[(own_root / key).relative_to(root).as_posix()] = why
        merged.notes += listing.notes
    merged.sources.sort(key=lambda s: s.key)
    return root, merged


#: how to install each decoder's library (PyAV is a dependency of videoad; decord an extra)
_INSTALL = {"decord": "pip install 'videoad[decord]'", "pyav": "pip install av"}


def extract_videos(input_path, output: str | os.PathLike, backbone: Backbone,
                   options: ExtractOptions | None = None, *, runner=None, progress=None) -> RunSummary:
    """Extract features for every video under `input_path` (a path, or a list of them: see
    `list_inputs`) into the store at `output`.

    `runner`: what runs the videos that need work, called like `_Runner` (the default, local
    decode workers); `extract.ray_runner` passes one that spreads them over a Ray cluster, so
    listing, sharding, resume and the manifest stay this function's.
    `progress`: a tqdm-like bar to advance instead of this function's own (its total is raised
    by this run's work), so that a caller shows one display over several stages.
    """
    options = options or ExtractOptions()
    if options.workers < 1:
        raise ValueError("workers must be >= 1 (decoding always runs in worker processes, "
                         "so that a hung decoder can be stopped)")
    if options.batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    spec = options.clip_spec(backbone)
    decoders = installed_decoders(tuple(options.decoders))
    missing = [d for d in options.decoders if d not in decoders]
    installs = ", ".join(_INSTALL[d] for d in missing if d in _INSTALL)
    if not decoders:
        raise ValueError(f"none of the decoders {', '.join(options.decoders)} is installed"
                         + (f" ({installs})" if installs else ""))
    # decord, an extra the default list names, missing is no news (said at -v); PyAV missing is a broken install
    quiet = tuple(options.decoders) == DEFAULT_DECODERS and missing == ["decord"]
    if missing:
        (log.info if quiet else log.warning)("not installed, skipped: %s%s", ", ".join(missing),
                                             f" ({installs})" if installs else "")
    if options.progress_unit not in ("video", "frame"):
        raise ValueError(f"progress_unit must be 'video' or 'frame', got {options.progress_unit!r}")
    started = time.monotonic()
    output = absolute_path(output)
    input_root, listing = list_inputs(input_path, recursive=options.recursive, exclude=output)
    if not listing.sources and not listing.errors:
        given = [input_path] if isinstance(input_path, (str, os.PathLike)) else list(input_path)
        hint = "; ".join(filter(None, (nothing_found_hint(p, options.recursive) for p in given if os.path.isdir(p))))
        raise FileNotFoundError(f"no videos or frame folders found under {', '.join(map(str, given))}"
                                + (f": {hint}" if hint else ""))

    everything = sorted([s.key for s in listing.sources] + list(listing.errors))
    chosen = set(everything) if options.shard is None else set(
        _shard_keys(everything, *options.shard))
    sources = [s for s in listing.sources if s.key in chosen]
    listing_errors = {k: v for k, v in listing.errors.items() if k in chosen}
    # a name no feature file can take fails that video alone, before any work
    unnamable = {k: why for k in chosen if (why := _key_problem(k))}
    for k, why in unnamable.items():
        listing_errors.setdefault(k, why)  # a listing error (a broken link) keeps its own reason
    sources = [s for s in sources if s.key not in unnamable]
    chosen -= set(unnamable)

    try:
        output.mkdir(parents=True, exist_ok=True)
        leftovers = _remove_stale_temporaries(output, sorted(chosen), manifest_name(options.shard), options.shard is None)
    except OSError as exc:
        blocker = blocking_file(output)
        if blocker is not None:
            raise OutputError(exc.errno, f"cannot write the features to {output}: {blocker} is a file, not a "
                                         "folder; choose another folder with -o") from None
        raise output_error(output, exc, store=True) from None
    # two names one feature file on this drive (A.mp4 and a.mp4 where case is ignored): the later fails
    clashes = folded_clashes(output, chosen)
    for k, why in clashes.items():
        unnamable[k] = listing_errors[k] = why
    sources = [s for s in sources if s.key not in clashes]
    chosen -= set(clashes)
    run_settings = {"clip": spec.as_dict(), "backbone": backbone.describe(), "dtype": options.dtype}
    if any(takes_image_fps(s) for s in listing.sources):  # their clips and times depend on it (`settings_for`)
        run_settings["image_fps"] = options.image_fps
    elif options.image_fps is not None and listing.sources:  # it changed nothing, and said nothing
        log.warning(image_fps_unused(options.image_fps))
    manifest = Manifest(output, input_root=str(input_root), shard=options.shard, settings=run_settings,
                        n_videos_total=len(everything), keys=sorted(chosen | set(unnamable)),
                        listing=hashlib.sha1("\n".join(everything).encode("utf-8", "surrogateescape")).hexdigest())
    summary = RunSummary(manifest_path=manifest.path)
    if leftovers:
        summary.store_notes.append(removed_note(output, leftovers))
    if manifest.rebuilt:
        summary.store_notes.append(manifest.rebuilt)
    if manifest.previous_root is not None and not same_folder(manifest.previous_root, str(input_root)):
        summary.store_notes.append(
            f"this store was filled from {manifest.previous_root}, this run reads {input_root}: keys are paths "
            "under the input folder, so a video read from both is stored twice and two videos of one key replace "
            "each other; one store per input folder (-o) keeps them apart")

    summary.store_notes += listing.notes[:3] + ([f"... and {len(listing.notes) - 3} more such"]
                                                if len(listing.notes) > 3 else [])
    twice = _one_file_twice(sources)
    if twice:
        summary.store_notes.append(twice)
    jobs: list[_Job] = []
    made_again: dict[str, str] = {}  # in the store already, made otherwise, and why: replaced ("3 done" said no more)
    for key, reason in listing_errors.items():
        summary.results[key] = VideoResult(key, "failed", reason=reason)
    for source in sources:
        try:
            fingerprint = source.fingerprint()
        except OSError as exc:
            summary.results[source.key] = VideoResult(source.key, "failed",
                                                      reason=f"cannot read: {exc}")
            continue
        settings_json = _canonical(settings_for(source, spec, backbone, options))
        stored = key_path(output, source.key)
        stale = why_stale(stored, fingerprint, settings_json, source.path)
        current = stale is None
        if current and not options.overwrite:
            attrs = read_attrs(stored)
            note = _backfill_picture(stored, attrs, source, decoders, options)
            # what the run that made it said of it: the file keeps it (a kill can land before the
            # manifest's next save), else the earlier manifest
            earlier = manifest.videos.get(source.key, {})
            said = attrs.get("decode_notes") or earlier.get("note")
            summary.results[source.key] = VideoResult(
                source.key, "skipped", n_frames=attrs.get("n_frames"),
                note="; ".join(t for t in (said, note) if t) or None,
                warning=attrs.get("decode_warnings") or earlier.get("warning"), n_clips=attrs.get("n_clips"),
                decoder=attrs.get("decoder"), repeat_share=_repeat_share(attrs) or earlier.get("repeat_share"),
                settings=settings_id(settings_json))
            continue
        replaces = _other_source(stored, source)
        if not current and not options.overwrite and not replaces and stored.is_file():
            made_again[source.key] = stale  # another file under the key is warned of on its own
        jobs.append(_Job(source, fingerprint, settings_json, current,
                         () if source.kind == "images" else decoders, replaces=replaces))
    manifest.sources = {s.key: str(Path(s.path).absolute()) for s in sources}
    for result in summary.results.values():
        manifest.record(result.key, result.manifest_entry())
    manifest.save(force=True)  # before any work: an unwritable store stops the run here

    if runner is None and (note := workers_note(options.workers, len(jobs))):
        log.warning(note)
    progress = _Progress(progress, options, jobs, summary, len(sources) + len(listing_errors))
    runner = (runner or _Runner)(backbone, spec, options, output, manifest, summary, progress)
    stopped: OutputError | None = None
    try:
        runner.run(jobs)
    except OutputError as exc:  # the store is full or read-only: no later video could be saved
        stopped = exc
    finally:
        runner.shutdown()
        progress.close()
        try:
            manifest.save(force=True)  # also when interrupted: what finished stays recorded
        except OutputError as exc:
            stopped = stopped or exc   # never hides a Ctrl-C on its way out
    summary.seconds = time.monotonic() - started
    made_again = {k: why for k, why in made_again.items()
                  if k in summary.results and summary.results[k].status == "done"}
    if made_again:  # those this run did make again (a failed one's file was removed, and said so)
        summary.store_notes.append(_made_again_note(made_again))
    if stopped is None:
        other = _made_otherwise(output, set(manifest.videos) - {s.key for s in sources}, run_settings)
        if other:
            summary.store_notes.append(
                f"{len(other)} feature file(s) of videos not in this run were made with other settings "
                f"({', '.join(other[:3])}{', ...' if len(other) > 3 else ''}): `videoad detect` would fit one model "
                "over both kinds (it warns); extract them again alike, or keep each run in its own store")
        try:
            manifest.finish()
        except OutputError as exc:
            stopped = exc
    if stopped is not None:
        stopped.summary = summary
        raise stopped
    return summary


def _cores() -> int:
    """The cores this process may run on (a container's or taskset's share, not the machine's)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def workers_note(asked: int, videos: int, cores: int | None = None) -> str | None:
    """One line where the decode workers started are not the `asked` ones: one video is decoded by one
    worker, so no more than `videos` start (`--workers 64` over 8 videos started 8 and said nothing);
    and where more than the cores start, they take turns on them, each with its own memory (on 2 shared
    cores 8 held 2.9x the memory of 2, in 1.7x the wall time; 6 over other videos, beside a busy job,
    0.73x: docs/throughput.md). None when there is nothing to say."""
    cores = cores or _cores()
    started = min(asked, videos)
    if started < 1:
        return None
    parts = []
    if started < asked:
        parts.append(f"{asked} decode workers asked for, {started} started: one video is decoded by one worker, "
                     f"and {videos} video(s) need extracting")
    if started > cores:
        parts.append(f"{started} decode workers on {cores} core(s) take turns on them, and each holds its own "
                     "memory (about 110 MB)")
    return "note: " + "; ".join(parts) if parts else None


def _one_file_twice(sources) -> str | None:
    """A note where two of `sources` are one file or folder (links to one video, a folder reached by
    two paths): each is extracted under its own name, as asked, but a fit pooled over them weighs
    that video twice and its events come twice, which nothing said."""
    seen: dict[tuple[int, int], list[str]] = {}
    for source in sources:
        try:
            st = os.stat(source.path)
        except OSError:  # fails in its turn, named
            continue
        seen.setdefault((st.st_dev, st.st_ino), []).append(source.key)
    groups = [sorted(keys) for keys in seen.values() if len(keys) > 1]
    if not groups:
        return None
    shown = "; ".join(" = ".join(keys) for keys in sorted(groups)[:3]) + ("; ..." if len(groups) > 3 else "")
    return (f"{sum(map(len, groups))} video names are {len(groups)} file(s) read twice or more (links to one "
            f"video, or one folder reached by two paths): {shown}. Each is extracted under its own name, and "
            "a fit over them counts that video more than once: give each video once")


def _made_again_note(made_again: Mapping[str, str], shown: int = 3) -> str:
    """The store note of the videos a run extracted again: how many, and why, the videos that share
    a reason named together (a changed setting redoes every video alike: said once)."""
    by_reason: dict[str, list[str]] = {}
    for key, why in made_again.items():
        by_reason.setdefault(why, []).append(key)
    parts = []
    for why, keys in list(by_reason.items())[:shown]:
        names = ", ".join(keys[:shown]) + (f" and {len(keys) - shown} more" if len(keys) > shown else "")
        parts.append(f"{names}: {why}")
    more = len(by_reason) - shown
    return (f"{len(made_again)} video(s) already in the store were extracted again, the earlier features replaced ("
            + "; ".join(parts) + (f"; and {more} other reason(s)" if more > 0 else "") + ")")


def _other_source(path: Path, source: Source) -> str | None:
    """The other file, still there, whose features `path` holds (a store filled from two input
    folders whose keys meet), else None."""
    if not path.is_file():
        return None
    try:
        held = read_attrs(path).get("source_path")
    except (OSError, ValueError):
        return None
    if not held or same_folder(held, str(source.path)) or not Path(held).exists():
        return None
    return str(held)


def _made_otherwise(output: Path, keys, run_settings: dict[str, Any]) -> list[str]:
    """The keys among `keys` whose feature files were made with another backbone description or
    clip sampling than this run's."""
    want = _canonical({k: run_settings[k] for k in ("clip", "backbone")})
    other = []
    for key in sorted(keys):
        try:  # a key no file can take (a failed one) has none to read
            made = json.loads(read_attrs(key_path(output, key)).get("settings_json") or "{}")
        except (OSError, ValueError):
            continue
        if made and _canonical({k: made.get(k) for k in ("clip", "backbone")}) != want:
            other.append(key)
    return other


def _backfill_picture(path: Path, attrs: Mapping[str, Any], source: Source, decoders: tuple[str, ...],
                      options: ExtractOptions) -> str | None:
    """A current feature file written before the extractor kept scene pictures gets its picture
    from one decode of its source (no feature recomputed; `videoad detect --per-camera` needs
    it), and so does one whose picture is damaged (not 32x24 finite values: `scene_of` reads none,
    and `--per-camera` sent the user to this rerun, which kept the damaged one). An empty picture
    (the extraction saw no frame) is left as it is. A failure is a note: the features stay as they
    are."""
    if SCENE_ATTR in attrs and (scene_of(attrs) is not None or _empty_picture(attrs[SCENE_ATTR])):
        return None
    try:
        add_picture(path, picture_of_source(source, decoders, options.image_fps)[0])
    except Exception as exc:  # noqa: BLE001 - the features are intact; only the picture is missing
        log.warning("%s: no scene picture added: %s", source.key, exc)
        return f"no scene picture added ({type(exc).__name__}: {exc})"
    return "scene picture added" + (" in place of a damaged one" if SCENE_ATTR in attrs else "")


def _empty_picture(value: Any) -> bool:
    """Whether a stored scene picture is the empty one `scene_attr` writes where there was no frame."""
    if isinstance(value, str):
        return value.strip() == "[]"
    return hasattr(value, "__len__") and len(value) == 0


def _shard_keys(keys: list[str], index: int, count: int) -> list[str]:
    placeholders = [Source(k, Path(k), "video") for k in keys]
    return [s.key for s in select_shard(placeholders, index, count)]


def _repeat_share(attrs: Mapping) -> float | None:
    """The share of a stored video's sampled frames that repeat the one before (as the run that
    extracted it computed it), None where the file does not say."""
    repeated, n, fps = count_of(attrs.get("repeated_frames")), count_of(attrs.get("n_frames")), attrs.get("fps")
    if not repeated or not n:  # none, or not a count (a damaged file: `videoad` names it at screening)
        return None
    rate = attrs.get("sampled_fps")
    sampled = float(n) * (min(1.0, float(rate) / float(fps)) if rate and fps and float(fps) > 0 else 1.0)
    return round(min(1.0, float(repeated) / max(sampled, 1.0)), 4)


def _key_problem(key: str) -> str | None:
    """Why a video's name cannot name its feature file (None where it can): a backslash or another
    store-key rule (`check_key`), a name over the file system's 255 bytes once `.h5` is added. A
    name that is not UTF-8 (an old recorder's Latin-1 `caf\xe9.avi`, read as surrogates) names its
    feature file with the same bytes (`caf\xe9.avi.h5`), and the store reads that back as the key."""
    try:
        check_key(key)
    except ValueError as exc:
        return f"its name cannot name a feature file ({exc}): rename the file"
    try:
        name = os.fsencode(PurePosixPath(key).name + SUFFIX)
    except UnicodeEncodeError:  # a surrogate no byte on disk gives: no file can carry the name
        return ("its name is not valid UTF-8 and not bytes a file system gives back: rename the file")
    if len(name) > 255:
        return (f"its name is too long for a feature file ({len(name)} bytes with {SUFFIX!r}, 255 at most): "
                "rename the file")
    return None


def _remove_stale_temporaries(output: Path, keys: list[str], manifest: str | None = None,
                              whole: bool = False) -> list[Path]:
    """Delete half-written files a killed run left for the videos this run owns (and its manifest);
    `whole`: every one in the store (`remove_store_temporaries`: a run that holds the store alone,
    unsharded), those of videos since gone from the input or of another sharding too."""
    finals = [key_path(output, key) for key in keys] + ([output / manifest] if manifest else [])
    return remove_store_temporaries(output) if whole else remove_stale_temporaries(finals)


def _exit_reason(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            pass
    return f"exit code {code}"


class _Progress:
    """The progress display, counting videos or frames (`ExtractOptions.progress_unit`).

    Frames: the total starts as the containers' frame counts (a file's header, not a decode;
    the file count of a frame folder) and is corrected as each video finishes with the number
    that really decoded. A bar handed in by the caller is advanced and left open.
    """

    def __init__(self, bar, options: ExtractOptions, jobs: list["_Job"], summary: RunSummary,
                 n_videos: int) -> None:
        self.frames = options.progress_unit == "frame"
        self.own = bar is None
        if bar is None:
            from tqdm import tqdm

            bar = tqdm(total=0, unit=options.progress_unit, disable=not options.progress,
                       dynamic_ncols=True, desc="extract")
        self.bar = bar
        done = list(summary.results.values())  # skipped and listing failures
        if self.frames:
            for job in jobs:
                job.expected = container_frames(job.source)
            self.bar.total = (self.bar.total or 0) + sum(j.expected for j in jobs) + sum(
                r.n_frames or 0 for r in done)
            self.bar.update(sum(r.n_frames or 0 for r in done))
        else:
            self.bar.total = (self.bar.total or 0) + n_videos
            self.bar.update(len(done))

    def clip(self, job: "_Job", last_frame: int) -> None:
        if self.frames and last_frame + 1 > job.shown:
            self.bar.update(last_frame + 1 - job.shown)
            job.shown = last_frame + 1

    def finished(self, job: "_Job | None", n_frames: int | None) -> None:
        if not self.frames:
            self.bar.update(1)
        elif job is not None:
            real = job.shown if n_frames is None else int(n_frames)
            self.bar.total += real - job.expected
            job.expected = real
            self.clip(job, real - 1)
            self.bar.refresh()

    def set_postfix_str(self, text: str, refresh: bool = False) -> None:
        self.bar.set_postfix_str(text, refresh=refresh)

    def update(self, n: int = 1) -> None:
        self.bar.update(n)

    def close(self) -> None:
        if self.own:
            self.bar.close()


def container_frames(source: Source) -> int:
    """Frames a source says it has without decoding (0 when it does not say)."""
    if source.kind == "images":
        from .sources import image_files

        try:
            return len(image_files(source.path))
        except OSError:
            return 0
    try:
        import av

        with av.open(os.fspath(source.path)) as container:
            stream = main_video_stream(container)
            if stream.frames:
                return int(stream.frames)
            rate = stream.average_rate or stream.guessed_rate
            if stream.duration and rate:
                return int(float(stream.duration * stream.time_base) * float(rate))
            if container.duration and rate:
                return int(container.duration / 1e6 * float(rate))
    except Exception:  # noqa: BLE001 - only an estimate for the display; decoding will tell
        pass
    return 0


#: where decode workers' stderr goes (FFmpeg chatter, tracebacks), in the store root
WORKER_LOG = ".extract-workers.log"


class WorkerStartError(RuntimeError):
    """Decode worker processes die before they are up (a backbone they cannot unpickle, such as a
    class defined in a notebook or `__main__`; a broken install): no video can be read."""


def _last_error(log_path: Path, start: int = 0) -> str:
    """The last line the worker log gained since byte `start` that looks like an error, else where to look."""
    try:
        with open(log_path, "rb") as fh:
            fh.seek(start)
            lines = [x.strip() for x in fh.read().decode(errors="replace").splitlines() if x.strip()]
    except OSError:
        lines = []
    errors = [x for x in lines if re.match(r"^[\w.]*(Error|Exception)\b", x)]
    return errors[-1] if errors else f"see {log_path}"

#: bytes of a video file worth one byte of a frame folder (JPEG frames are ~10x larger than
#: compressed video per frame); only used to order the work
_IMAGE_WEIGHT = 0.1


class _Runner:
    """The main-process loop: dispatch videos, collect clips, batch, write, watch workers."""

    def __init__(self, backbone: Backbone, spec: ClipSpec, options: ExtractOptions,
                 output: Path, manifest: Manifest, summary: RunSummary, progress) -> None:
        self.backbone, self.spec, self.options = backbone, spec, options
        self.output, self.manifest, self.summary, self.progress = output, manifest, summary, progress
        self.ctx = spawn_context()  # no inherited locks, threads or device contexts; deaf to Ctrl-C
        self.workers: list[DecodeWorker] = []
        self.queue: deque[_Job] = deque()
        self.active: dict[int, _Job] = {}
        self.pending: list[tuple[_Job, int, np.ndarray]] = []
        self.next_token = 0
        self.clip_clock = time.monotonic()
        #: clips through the backbone, for the progress rate; the summary counts clips stored
        #: (a video retried with the next decoder computes some clips twice)
        self.computed = 0
        #: the summary's failed videos, kept as results are recorded: the rate shown after each video
        #: counted them over every result, a pass over the whole run per video (quadratic in videos)
        self.n_failed = sum(r.status == "failed" for r in summary.results.values())
        self.start_failures = 0  # decode workers in a row that died before they were up
        try:  # the worker log is appended to across runs: this run's errors start here
            self.log_start = (output / WORKER_LOG).stat().st_size
        except OSError:
            self.log_start = 0

    # -- main loop ------------------------------------------------------------------------------
    def run(self, jobs: list[_Job]) -> None:
        # largest first (file size as the proxy for length), so that no long video starts
        # last and runs alone while the other workers idle
        for job in sorted(jobs, key=lambda j: -j.fingerprint["size"]
                          * (1.0 if j.source.kind == "video" else _IMAGE_WEIGHT)):
            self._enqueue(job, job.decoders)
        n_workers = min(self.options.workers, len(jobs))
        # idle workers of an earlier call are kept (a Ray actor calls run once per video)
        self.workers += [self._spawn() for _ in range(n_workers - len(self.workers))]
        while self.queue or self.active:
            self._dispatch()
            ready = wait([w.results for w in self.workers] + [w.process.sentinel for w in self.workers],
                         timeout=0.02 if self.pending else 0.5)
            got_messages = False
            for worker in list(self.workers):
                if worker.results in ready or worker.process.sentinel in ready:
                    for message in worker.receive():
                        got_messages = True
                        self._handle(worker, message)
                if not worker.process.is_alive():
                    self._lost(worker, f"the decoder process died ({_exit_reason(worker.process.exitcode)})",
                               retry=True)
                elif worker.stalled_for() > self.options.decode_timeout:
                    self._lost(worker, f"no decode progress for {self.options.decode_timeout:g} s")
            while len(self.pending) >= self.options.batch_size:
                self._forward(self.options.batch_size)
            if self.pending and not got_messages:
                self._forward(len(self.pending))  # the workers are slower than compute: go now
            self._finish_ready()

    def shutdown(self) -> None:
        for worker in self.workers:
            worker.stop(kill=worker.task is not None)
        self.workers = []

    # -- workers -------------------------------------------------------------------------------
    def _spawn(self) -> DecodeWorker:
        return DecodeWorker(self.ctx, self.backbone, self.spec, self.options.prefetch,
                            log_path=str(self.output / WORKER_LOG))

    def _enqueue(self, job: _Job, decoders: tuple[str, ...], front: bool = False) -> None:
        job.reset(self.next_token, decoders)
        self.next_token += 1
        (self.queue.appendleft if front else self.queue.append)(job)

    def _dispatch(self) -> None:
        for worker in list(self.workers):
            if worker.task is None and self.queue:
                job = self.queue.popleft()
                job.started = job.started or time.monotonic()
                try:
                    worker.submit(Task(job.token, job.source, job.decoders, self.options.image_fps))
                except OSError:  # the worker died while idle: replace it, the job goes first
                    self.queue.appendleft(job)
                    self._not_started(worker)
                    self._replace(worker)
                    continue
                self.active[job.token] = job

    def _replace(self, worker: DecodeWorker) -> None:
        worker.stop(kill=True)
        self.workers[self.workers.index(worker)] = self._spawn()

    def _lost(self, worker: DecodeWorker, why: str, retry: bool = False) -> None:
        """Kill and replace a stalled or dead worker; retry its video with the next decoder (with
        `retry`, a process that died, first with the same decoder once more: the OOM killer or a
        kill from outside rarely strikes twice, and another decoder reads frames its own way)."""
        for message in worker.receive():  # what it managed to say still counts
            self._handle(worker, message)
        task = worker.task
        index = worker.decoder_index()
        started = worker.ready
        self._not_started(worker)
        self._replace(worker)
        if task is None or task.token not in self.active:
            return
        job = self.active.pop(task.token)
        if not started:  # the process never came up: no decoder tried the video, it goes again first
            self.pending = [p for p in self.pending if p[0] is not job]
            self._enqueue(job, task.decoders, front=True)
            return
        self.pending = [p for p in self.pending if p[0] is not job]
        if job.source.kind == "images":
            job.notes.append(f"reading frames: {why}")
            return self._fail(job, "; ".join(job.notes))
        tried = job.decoders[min(index, len(job.decoders) - 1)]
        job.notes.append(f"{tried}: {why}")
        log.warning("%s: %s: %s", job.source.key, tried, why)
        if retry and tried not in job.retried:
            job.retried.add(tried)
            self._enqueue(job, job.decoders[job.decoders.index(tried):], front=True)
            return
        job.given_up.append(tried)
        remaining = job.decoders[job.decoders.index(tried) + 1:]
        if remaining:
            self._enqueue(job, remaining, front=True)
        else:
            self._fail(job, "; ".join(job.notes))

    # -- messages ------------------------------------------------------------------------------
    def _not_started(self, worker: DecodeWorker) -> None:
        """A worker died or was given up: three in a row that never came up stop the run with
        what the last one wrote to the worker log (their videos are not failed: nothing read them)."""
        if worker.ready:
            return
        self.start_failures += 1
        if self.start_failures >= 3:
            raise WorkerStartError(f"decode workers die as they start ({_exit_reason(worker.process.exitcode)}, "
                                   f"{self.start_failures} in a row): "
                                   f"{_last_error(self.output / WORKER_LOG, self.log_start)} "
                                   "(and the terminal's error output)")

    def _handle(self, worker: DecodeWorker, message: tuple) -> None:
        kind, token = message[0], message[1]
        if kind == "ready":
            worker.ready = True
            self.start_failures = 0
            return
        if kind == "unusable":  # the worker cannot rebuild the backbone: no worker ever will
            raise WorkerStartError(message[2])
        job = self.active.get(token)
        if kind in ("finished", "failed") and worker.task is not None and worker.task.token == token:
            worker.task = None
        if job is None:
            return  # a message of an attempt that was given up
        if kind == "started":
            job.info = message[2]
        elif kind == "clip":
            _, _, index, first, last, array = message
            job.ranges[index] = (first, last)
            job.pending += 1
            self.pending.append((job, index, array))
            self.progress.clip(job, last)
        elif kind == "frame_size":
            job.info["frame_size"] = (message[2], message[3])
        elif kind == "finished":
            job.n_frames = message[2]
            job.info["summary"] = dict(message[3]) if len(message) > 3 else {}
            retimed = job.info["summary"].pop("retimed", None)
            if retimed is not None:  # the frames' own times, not the packets' (extract.workers._retimed)
                job.info.update(timing=retimed["timing"], fps=retimed["fps"])
        elif kind == "failed":
            del self.active[token]
            self.pending = [p for p in self.pending if p[0] is not job]
            self._fail(job, "; ".join(job.notes + [message[2]]))

    def _forward(self, n: int) -> None:
        batch, self.pending = self.pending[:n], self.pending[n:]
        try:
            features, cells = self.backbone.forward_cells(np.stack([a for _, _, a in batch]))
            features = np.asarray(features)
            if features.shape[0] != len(batch) or (cells is not None and len(cells) != len(batch)):
                raise ValueError(f"the backbone returned {features.shape[0]} rows for {len(batch)} clips")
        except Exception as exc:  # noqa: BLE001 - fail these videos, keep the run alive
            log.exception("forward_batch failed")
            for job in {id(j): j for j, _, _ in batch}.values():
                if self.active.pop(job.token, None) is not None:
                    self.pending = [p for p in self.pending if p[0] is not job]
                    self._fail(job, f"backbone failed: {type(exc).__name__}: {exc}")
            return
        for row, ((job, index, _), vector) in enumerate(zip(batch, features)):
            if self.active.get(job.token) is job:
                job.features[index] = vector
                if cells is not None:
                    job.cells[index] = cells[row]
                job.pending -= 1
        self.computed += len(batch)
        self._show_rate()

    def _finish_ready(self) -> None:
        for token, job in list(self.active.items()):
            if job.n_frames is not None and job.pending == 0:
                del self.active[token]
                self._write(job)

    # -- outcomes ------------------------------------------------------------------------------
    def _write(self, job: _Job) -> None:
        source, info = job.source, job.info
        changed = _changed_while_read(source, job.fingerprint)
        if changed:  # features of part of a file a camera or a copy is still writing are no file's
            return self._fail(job, changed)
        order = sorted(job.features)
        features = (np.stack([job.features[i] for i in order]).astype(np.float32)
                    if order else np.zeros((0, self.backbone.dim), np.float32))
        frames = np.array([job.ranges[i] for i in order], dtype=np.int64).reshape(-1, 2)
        grid = self.backbone.cell_grid
        cells = None
        if grid is not None:
            cells = (np.stack([job.cells[i] for i in order]).astype(np.float32) if order
                     else np.zeros((0, grid[0] * grid[1], 0), np.float32))
        fps = float(info.get("fps", math.nan))
        notes = list(job.notes)
        notes += [f"{name} could not read it ({why})" for name, why in info.get("open_errors", {}).items()]
        timing = info.get("timing") or {}
        if timing:
            rate = self.spec.rate_for(fps)
            notes.append(timing["note"] + (f", sampled at {rate:g} fps by timestamp" if rate else ", every frame kept"))
        summary = info.get("summary", {})
        if summary.get("restart_note"):  # extract.timing: a clock set back, recordings joined (read as carrying on)
            notes.append(summary["restart_note"])
        if summary.get("scene_cuts"):
            at = summary.get("scene_cut_frames") or []
            where = f" (at frames {', '.join(map(str, at[:8]))}{', ...' if len(at) > 8 else ''})" if at else ""
            done = _CUT_NOTES.get(summary.get("scene_cut_handling", "left out"), "")
            notes.append(f"{summary['scene_cuts']} scene cut(s) found{where}" + (f"; {done}" if done else ""))
        repeat_share = None
        if summary.get("repeated_frames"):  # motion: docs/extract.md, "Repeated frames"
            rate = self.spec.rate_for(fps)
            sampled = job.n_frames * (min(1.0, rate / fps) if rate and fps > 0 else 1.0)
            repeat_share = round(min(1.0, summary["repeated_frames"] / max(sampled, 1.0)), 4)
            spread = summary.get("repeat_handling") == "spread over the gap"
            notes.append(f"{summary['repeated_frames']} sampled frame(s) repeat the one before exactly (frames lost "
                         "and filled in, or a slower camera in a faster container): "
                         + ("no pair there, the next pair's motion spread over the gap" if spread else
                            "each makes a pair without motion before one that carries the gap's "
                            "(--backbone-opt repeats=spread divides it over the gap)"))
        if summary.get("numbering_note"):
            notes.append(summary["numbering_note"])
        claimed = int(info.get("container_frames", -1))
        warnings = []
        if summary.get("rate_note"):  # a raw stream's rate; a warning where it was assumed (extract.decode.raw_rate)
            notes.append(summary["rate_note"])
            warnings += [summary["rate_note"]] if summary.get("rate_assumed") else []
        if job.replaces:  # two input folders into one store: a key met twice
            warnings.append(f"replaced the features of {job.replaces}, another file under the same key (still "
                            "there): one store per input folder keeps both")
        if job.given_up:  # a decoder's process lost twice: another decoder read it, by its own rules
            warnings.append(f"read by {info.get('decoder', 'another decoder')}, {' and '.join(job.given_up)} having "
                            "stopped or died on it (see the notes): each decoder reads frames and their times its own "
                            "way (a variable-rate file by index at the container's rate); delete its feature file "
                            "and rerun to try again")
        if source.kind == "video" and not math.isfinite(fps):  # extract.decode.stated_rate: FFmpeg's clock is no rate
            notes.append("no frame rate: the container states none and its timestamps give none"
                         + (" (a single frame)" if job.n_frames == 1 else "") + ", so its frames have no seconds")
        if source.kind == "video" and math.isfinite(fps) and fps > MAX_PLAUSIBLE_FPS:
            warnings.append(f"the container says {fps:g} frames per second, more than cameras film (a wrong "
                            "header?): clips, the frame-rate cap and every second follow that rate; check the "
                            "footage's real rate")
        # extract.decode: streams, "Damage", frames missing, "Size", a frame folder's 16-bit frames; extract.clock: a
        # clock never set
        for key in ("streams_note", "start_note", "damage_note", "missing_note", "size_note", "depth_note",
                    "clock_note"):
            if summary.get(key):
                notes.append(summary[key])
                warnings.append(summary[key])
        # frames filled in for damage can outnumber the container's (`damage_note`): not a camera writing now and then
        if (source.kind == "video" and 0 <= claimed and job.n_frames < claimed
                and Timing.covers_slots(timing, claimed)):
            notes.append(f"{job.n_frames} of the container's {claimed} frame slots hold a frame, from its "
                         "first slot to its last (a camera that writes frames only now and then)")
        elif source.kind == "video" and claimed >= 0 and claimed != job.n_frames:
            notes.append(f"the container claims {claimed} frames, {job.n_frames} decoded")
            if job.n_frames < claimed:  # frames lost in the middle would shift every later one
                warnings.append(f"the container claims {claimed} frames, {job.n_frames} decoded "
                                "(a damaged file, or a wrong header): check it before trusting "
                                "frame positions")
        if not order:
            rate = self.spec.rate_for(fps)
            cut = (f" (about {int(job.n_frames * rate / fps)} at the {rate:g} fps clips are cut at)"
                   if rate and fps and math.isfinite(fps) and rate < fps else "")
            warnings.append(f"no full clip: {job.n_frames} frames{cut} < clip length {self.spec.clip_len}"
                            if self.spec.tail == "drop" else f"no clip from {job.n_frames} frames{cut}")
        warning = "; ".join(warnings) or None
        description = self.backbone.describe()
        if warning:  # what an analyst reading the scores should know of the source (videoad.report)
            summary = {**summary, "decode_warnings": warning}
        attrs = {
            **description,
            "backbone_json": description,
            "backbone_name": self.backbone.registry_name or self.backbone.name,
            "backbone_options": self.backbone.options(),
            "source_path": str(source.path), "source_kind": source.kind,
            "source_size": job.fingerprint["size"], "source_mtime_ns": job.fingerprint["mtime_ns"],
            "source_files": job.fingerprint["files"],
            "n_frames": int(job.n_frames), "container_frames": claimed, "fps": fps,
            "decoder": info.get("decoder", ""), "decode_notes": "; ".join(notes),
            "clip_len": self.spec.clip_len, "stride": self.spec.stride, "tail": self.spec.tail,
            "target_fps": float(self.spec.target_fps or 0.0), "max_fps": float(self.spec.max_fps or 0.0),
            # the rate clips were cut at: the stride's frames are this many per second
            "sampled_fps": float(self.spec.rate_for(fps) or fps), "dtype": self.options.dtype,
            "settings_json": job.settings_json,
            **{k: v for k, v in summary.items() if isinstance(v, (int, float, str, list)) and not k.endswith("_note")},
            **{k: v for k, v in timing.items() if k not in ("note", "frame_times")},
        }
        frame_times = timing.get("frame_times")
        if frame_times is not None and len(frame_times) != job.n_frames:  # frames lost or filled: not one per frame
            frame_times = None
        if timing:
            attrs["frame_times_kept"] = frame_times is not None
            # pauses in the recording: no clip is made inside one, and no motion read across one
            attrs["pauses"] = int(np.count_nonzero(pauses_before(timing["frame_times"])))
        if "frame_size" in info:  # what a model fitted on these features may score: videoad.video.run
            height, width = info["frame_size"]
            attrs["frame_size"] = [int(height), int(width)]
            if hasattr(self.backbone, "working_size"):
                attrs["working_size"] = [int(v) for v in self.backbone.working_size(int(width), int(height))]
        region = (self.backbone.cell_region(*info["frame_size"])
                  if grid is not None and "frame_size" in info else None)
        if region is not None:
            attrs["cell_region"] = [round(float(v), 6) for v in region]
        try:
            write_video(self.output, source.key, features, frames, attrs, dtype=self.options.dtype,
                        cells=cells, cell_grid=grid, frame_times=frame_times)
        except OutputError as exc:  # disk full or read-only: this video fails and the run stops
            self._fail(job, str(exc))
            raise
        except Exception as exc:  # noqa: BLE001 - a problem of this video: it fails, not the run
            return self._fail(job, f"writing features failed: {type(exc).__name__}: {exc}")
        self.summary.clips += len(order)
        self._record(VideoResult(
            source.key, "done", warning=warning, note="; ".join(notes) or None,
            n_frames=int(job.n_frames), n_clips=len(order), decoder=info.get("decoder"),
            seconds=round(time.monotonic() - job.started, 3), repeat_share=repeat_share,
            settings=settings_id(job.settings_json)), job)

    def _fail(self, job: _Job, reason: str) -> None:
        if not job.source.path.exists():  # the decoders' own words ("no decoder could read ...") hid it
            reason = f"the source is gone (deleted or moved while the run went on): {reason}"
        final = key_path(self.output, job.source.key)
        if final.is_file():
            if job.had_current_file:
                reason += "; the earlier features (same source and settings) were kept"
            else:
                try:
                    final.unlink()  # outdated: must not pass for features of the current source
                    reason += "; the outdated features file was removed"
                except OSError as exc:  # a file another user owns: this video fails, not the run
                    error = output_error(final, exc)
                    if isinstance(error, OutputError):  # the whole store cannot be written
                        raise error from exc
                    reason += (f"; its outdated features file could not be removed ({exc.strerror or exc}): "
                               f"remove {final} before using this store")
        self._record(VideoResult(job.source.key, "failed", reason=reason,
                                 seconds=round(time.monotonic() - job.started, 3)), job)

    def _record(self, result: VideoResult, job: _Job | None = None) -> None:
        before = self.summary.results.get(result.key)
        self.summary.results[result.key] = result
        self.n_failed += (result.status == "failed") - (before is not None and before.status == "failed")
        self.manifest.record(result.key, result.manifest_entry())
        self.progress.finished(job, result.n_frames)
        self._show_rate()

    def _show_rate(self) -> None:
        elapsed = time.monotonic() - self.clip_clock
        failed = self.n_failed
        self.progress.set_postfix_str(
            f"{self.computed / elapsed if elapsed > 0 else 0:.1f} clips/s"
            + (f", {failed} failed" if failed else ""), refresh=False)
