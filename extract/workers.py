"""Decode worker processes: source -> frames (-> `backbone.prepare_frame`) -> clips ->
`backbone.preprocess_prepared` -> main process.

Each worker owns its pipes (nothing is shared between workers), so killing one that hangs in
native decoding code cannot corrupt another's channel. A worker publishes through a small
shared array when it last made progress, and whether it is waiting on the main process (then
it is not stalled, only back-pressured): the main process kills a worker whose decode has made
no progress for the timeout, which is the only way to stop a native call that never returns.

Messages to the main process (tuples, first item the kind, second the task's token):
    ("ready", -1)                            once, when the process is up (its backbone unpickled)
    ("unusable", -1, reason)                 instead, when it cannot rebuild the backbone
    ("started", token, {"decoder", "fps", "container_frames", "open_errors"})
    ("frame_size", token, height, width)     once, before the first clip (for `cell_region`)
    ("clip", token, index, first_frame, last_frame, preprocessed_array)
    ("finished", token, n_decoded_frames, backbone.video_summary() + the scene picture, `extract.scene`)
    ("failed", token, reason)
"""
from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from .backbones.base import Backbone
from .clips import ClipSpec, iter_clips
from .clock import clock_after, recording_start, unset_clock
from .decode import DecodeError, open_image_folder, open_video, quiet_native_logs
from .scene import SCENE_ATTR, SceneSampler, scene_attr
from .sources import Source
from .timing import PAUSE_WINDOW, variable_timing

# indices into the shared status array
_BUSY_SINCE = 0  # time.monotonic() when the current decode step began; 0 = idle or waiting
_DECODER = 1     # index into the task's decoders being tried


@dataclass(frozen=True)
class Task:
    token: int
    source: Source
    decoders: tuple[str, ...]
    image_fps: float | None = None


class DecodeWorker:
    """Main-process handle of one worker process."""

    def __init__(self, ctx: mp.context.BaseContext, backbone: Backbone, spec: ClipSpec,
                 prefetch: int, log_path: str | None = None) -> None:
        task_reader, self._tasks = ctx.Pipe(duplex=False)
        self.results, result_writer = ctx.Pipe(duplex=False)
        self.status = ctx.RawArray("d", 2)
        self.task: Task | None = None
        #: the process said it is up: a death before that is the worker's (it could not start:
        #: an unpicklable backbone, an import), not the video's or its decoder's
        self.ready = False
        self.process = ctx.Process(
            target=_worker_main, name="videoad-decode",
            # the backbone as bytes, unpickled inside the worker: one it cannot rebuild (a class of a
            # notebook's __main__) is then reported with its reason instead of killing the process
            args=(task_reader, result_writer, self.status, pickle.dumps(backbone), spec, prefetch, log_path),
            daemon=True)
        self.process.start()  # deaf to Ctrl-C from its start where ctx is `spawning.spawn_context()`
        task_reader.close()
        result_writer.close()

    def submit(self, task: Task) -> None:
        """Hand over a task; raises OSError when the process is already gone."""
        self.status[_BUSY_SINCE] = 0.0  # the worker starts the clock when it picks the task up
        self.status[_DECODER] = 0
        self._tasks.send(task)
        self.task = task

    def stalled_for(self) -> float:
        """Seconds the current decode step has run without progress (0 when not decoding)."""
        since = self.status[_BUSY_SINCE]
        return 0.0 if self.task is None or since == 0.0 else time.monotonic() - since

    def decoder_index(self) -> int:
        return int(self.status[_DECODER])

    def receive(self) -> list[tuple]:
        """Every message waiting on the pipe; stops quietly at end of file (a dead worker)."""
        messages = []
        try:
            while self.results.poll():
                messages.append(self.results.recv())
        except (EOFError, OSError):
            pass
        return messages

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.process.kill()
        else:
            try:
                self._tasks.send(None)
            except OSError:
                self.process.kill()
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        for conn in (self._tasks, self.results):
            conn.close()


def _worker_main(tasks: Connection, results: Connection, status: Any, backbone_bytes: bytes,
                 spec: ClipSpec, prefetch: int, log_path: str | None = None) -> None:
    import signal

    if log_path is not None:
        # native libraries print to file descriptor 2 whatever their log level (decord's
        # "ERROR opening ..."); the reasons reach the manifest anyway, so keep the terminal
        # for the progress bar and send this (and any worker traceback) to a log file
        try:
            fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError:
            pass  # no log file then; the terminal gets the chatter
        else:
            os.dup2(fd, 2)
            os.close(fd)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    quiet_native_logs()  # also imports decord and PyAV now, not inside the first timed decode
    import cv2

    cv2.setNumThreads(1)  # the workers are the parallelism
    outbox: queue.Queue = queue.Queue(maxsize=max(1, prefetch))

    def send_loop() -> None:
        while (message := outbox.get()) is not None:
            try:
                results.send(message)
            except OSError:  # the main process is gone
                os._exit(1)

    try:
        backbone: Backbone = pickle.loads(backbone_bytes)
    except Exception as exc:  # noqa: BLE001 - whatever stops it, no video can be read here
        results.send(("unusable", -1, f"the backbone cannot be rebuilt in a worker process ({type(exc).__name__}: "
                                      f"{exc}): define its class in an importable module, not in a notebook "
                                      "or the __main__ script"))
        return
    results.send(("ready", -1))  # sent here, before any task's message: a death after it is the video's
    sender = threading.Thread(target=send_loop, daemon=True)
    sender.start()

    def post(message: tuple) -> None:
        decoding = status[_BUSY_SINCE] != 0.0
        status[_BUSY_SINCE] = 0.0  # waiting on the main process is not a stall
        outbox.put(message)
        if decoding:  # the decode step's clock starts again; the backbone's work is never timed
            status[_BUSY_SINCE] = time.monotonic()


    while True:
        try:
            task = tasks.recv()
        except (EOFError, OSError):
            break
        if task is None:
            break
        status[_DECODER] = 0
        status[_BUSY_SINCE] = time.monotonic()  # from here on, opening the file may hang
        _run_task(task, post, status, backbone, spec)
        status[_BUSY_SINCE] = 0.0
    outbox.put(None)
    sender.join()


def _run_task(task: Task, post: Callable[[tuple], None], status: Any, backbone: Backbone,
              spec: ClipSpec) -> None:
    token = task.token
    try:
        if task.source.kind == "images":
            stream = open_image_folder(task.source.path, fps=task.image_fps)
        else:
            stream = open_video(task.source.path, task.decoders,
                                on_attempt=lambda i: status.__setitem__(_DECODER, i), unstated_fps=task.image_fps)
        timing = stream.timing
        post(("started", token, {"decoder": stream.backend, "fps": stream.fps,
                                 "container_frames": stream.container_frames,
                                 "open_errors": stream.open_errors,
                                 "timing": None if timing is None else {"note": timing.note(), **timing.attrs(),
                                                                        "frame_times": timing.times}}))
        try:
            backbone.start_video()
            backbone.frame_times(None if timing is None else timing.times)
            scene = SceneSampler()
            frames = scene.watch(_beating(stream.frames, status))
            clock = stream.clock
            for clip in iter_clips(frames, spec, stream.fps, prepare=backbone.prepare_frame, keep_frames=False,
                                   times=None if timing is None else timing.times, clock=clock):
                if clip.index == 0:
                    post(("frame_size", token, *clip.source_shape))
                if clock is not None and clock.drifted and clock.drifted_at <= clip.sources[-1] + PAUSE_WINDOW:
                    # frames dropped without an error: the pauses around this clip by the frames' own times
                    first = max(0, clip.sources[0] - PAUSE_WINDOW - 1)
                    backbone.frame_times(clock.window(first, clip.sources[-1] + PAUSE_WINDOW + 1), first=first)
                features = np.ascontiguousarray(backbone.preprocess_prepared(clip.prepared, clip.sources))
                post(("clip", token, clip.index, clip.first, clip.last, features))
        finally:
            stream.close()
        retimed = _retimed(stream, spec)
        # what the stream itself told beyond its frames (extract.decode, extract.clock): the run's notes
        told = ({"resized_frames": stream.resized, "size_note": stream.size_note()} if stream.resized else {})
        if task.source.kind != "images":  # the stored pixels' aspect the frames were stretched to (extract.decode)
            aspect = stream.sample_aspect
            told["sample_aspect"] = "1:1" if aspect is None else f"{aspect.numerator}:{aspect.denominator}"
        if stream.note:  # a frame folder named by capture times (extract.sources.check_numbering)
            told["numbering_note"] = stream.note
        if stream.rate_note:  # a raw H.264/HEVC stream: its rate stated, given or assumed (extract.decode.raw_rate)
            told.update(rate_note=stream.rate_note, rate_assumed=stream.rate_guessed)
        if stream.depth_note:  # 16-bit frames whose 8-bit reading keeps little contrast (extract.decode)
            told["depth_note"] = stream.depth_note
        damage = stream.damage_note()
        if damage:  # extract.decode, "Damage"
            told.update(damaged_frames=len(stream.reader.damaged), damaged_spans=stream.damaged_spans(),
                        damage_note=damage)
        if stream.restart_note:  # extract.timing: a clock set back, recordings joined
            told["restart_note"] = stream.restart_note
        missing = stream.missing_note()
        if missing:  # extract.decode: frames of a constant-rate recording that never arrived
            told.update(missing_frames=stream.missing_frames(), missing_note=missing)
        start, origin = recording_start(task.source.path, stream.reader.metadata if stream.reader else None)
        leading = stream.start_note()
        if leading:  # extract.decode: a segment that starts mid-GOP; its frame 0 is that much after its start
            told.update(start_note=leading, leading_seconds=round(stream.leading_seconds, 6),
                        **({"leading_lost": stream.leading_lost} if stream.leading_lost else {}))
            if start is not None:
                start = clock_after(datetime.fromisoformat(start), stream.leading_seconds, "exact")
        if start is not None:  # extract.clock: an event is told by the clock too
            told.update(start_time=start, start_time_from=origin)
        else:  # a name or tag whose time looks off a clock never set: said, not printed on every event
            unset = unset_clock(task.source.path, stream.reader.metadata if stream.reader else None)
            told.update({"clock_note": unset} if unset else {})
        others = stream.streams_note()
        if others:
            told.update(video_streams=1 + len(stream.reader.other_streams), streams_note=others)
        if retimed is not None:  # the frames' own times, where they are not the packets' (extract.timing.DecodedClock)
            told["retimed"] = retimed
        post(("finished", token, stream.count, {**backbone.video_summary(), **told,
                                                SCENE_ATTR: scene_attr(scene.picture())}))
    except DecodeError as exc:
        post(("failed", token, str(exc)))
    except Exception as exc:  # noqa: BLE001 - a bad file must never take the worker down
        post(("failed", token, f"{type(exc).__name__}: {exc}"))


def _retimed(stream, spec: ClipSpec) -> dict | None:
    """The video's timing by its decoded frames' own times where they are not its packets' (a decoder
    that dropped frames without an error: `extract.timing.DecodedClock`), for the run to store in place of
    what it was told at the start: {"timing": the `Timing` entry ("frame_times" included) or None where the
    frames keep the container's rate after all, "fps": the rate}; None where nothing changed. `stream.timing`
    becomes it, for the notes on frames missing. The rate stays the one the clips were cut by where the
    frame-rate cap would decide otherwise at the new one."""
    clock = stream.clock
    if clock is None or not stream.ended:
        return None
    times = clock.final(stream.count)
    if times is None:
        return None
    container = stream.timing.container_fps if stream.timing is not None else stream.fps
    timing = variable_timing(times, container, [i for i in clock.held if i < stream.count])
    fps = timing.fps if timing is not None else container
    if spec.rate_for(fps) != spec.rate_for(stream.fps):
        fps = stream.fps
    if timing is None:  # evenly spaced after all (frames dropped at the very end): seconds at the rate are right
        stream.timing = None
        return {"timing": None, "fps": fps}
    stream.timing = timing
    return {"timing": {"note": timing.note(), **timing.attrs(), "frame_times": timing.times}, "fps": fps}


def _beating(frames: Iterable[np.ndarray], status: Any) -> Iterator[np.ndarray]:
    """Mark the start of each frame's decode, so a stall is measured per frame."""
    iterator = iter(frames)
    while True:
        status[_BUSY_SINCE] = time.monotonic()
        try:
            frame = next(iterator)
        except StopIteration:
            return
        status[_BUSY_SINCE] = 0.0  # the backbone's work on the frames is no decode stall (--decode-timeout)
        yield frame
