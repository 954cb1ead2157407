"""`videoad watch` with large frames and many sources: each source's frame queue is bounded by
bytes as well as by frames (4K frames are 24.9 MB: 64 of them per camera outgrew the machine with
16 cameras), the setting is checked and read like the others, and Ctrl-C waits for the sources
together, not one after another. The queue through `watch` itself: tests/test_watch.py
(`test_a_watched_file_of_large_frames_queues_no_more_bytes_than_its_cap`)."""
from __future__ import annotations

import queue
import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest
from click.testing import CliRunner

from videoad import live, watch_config
from videoad.cli import cli
from videoad.config import ConfigError
from videoad.live.scorer import MB, FrameQueue, _reader, _Scorer

#: a frame of 400x500 RGB: 0.6 MB
FRAME = np.zeros((400, 500, 3), np.uint8)


def _settled(q: FrameQueue, quiet_s: float = 0.2, limit_s: float = 10.0) -> int:
    """The queue's length once it kept it `quiet_s` (the reader is blocked or done)."""
    n, since, t0 = q.qsize(), time.monotonic(), time.monotonic()
    while time.monotonic() - since < quiet_s:
        assert time.monotonic() - t0 < limit_s, "the queue kept changing"
        time.sleep(0.05)
        if q.qsize() != n:
            n, since = q.qsize(), time.monotonic()
    return n


def _frames_in(q: FrameQueue) -> int:
    with q._changed:
        return sum(item[0] == "frame" for item, _ in q._items)


def _read_through(q: FrameQueue, n_frames: int, frame_bytes: int) -> list:
    """Start the real reader on `n_frames` frames into `q` and take its messages one at a time,
    each once the reader has filled the queue again: the queued bytes stay within max(cap, two
    frames) at every step. Returns the messages taken."""
    frames = [np.full_like(FRAME, i) for i in range(n_frames)]
    stop = threading.Event()
    src = live.FramesSource("cam", lambda: iter(frames), fps=10.0)
    reader = threading.Thread(target=_reader, args=(src, q, stop, live.WatchOptions()), daemon=True)
    reader.start()
    taken, bound = [], max(q.max_bytes, 2 * frame_bytes)
    try:
        while not taken or taken[-1][0] != "done":
            _settled(q)
            assert q.bytes <= bound, (q.bytes, bound)
            assert q.bytes == _frames_in(q) * frame_bytes
            taken.append(q.get(timeout=5))
    finally:
        stop.set()
        reader.join(5)
    return taken


def test_the_frame_queue_holds_no_more_bytes_than_its_cap():
    """A cap of 2 MB and 0.6 MB frames: the reader stops at 3 frames queued (1.8 MB; a fourth
    would make 2.4), far under the 64-frame count; every frame still comes through, in order."""
    q = FrameQueue(64, 2 * MB)
    frames = [np.full_like(FRAME, i) for i in range(12)]
    stop = threading.Event()
    src = live.FramesSource("cam", lambda: iter(frames), fps=10.0)
    threading.Thread(target=_reader, args=(src, q, stop, live.WatchOptions()), daemon=True).start()
    try:
        t0 = time.monotonic()
        while _frames_in(q) < 3 and time.monotonic() - t0 < 10:
            time.sleep(0.05)
        time.sleep(0.5)  # the reader blocked with its fourth frame (it tries again every 0.2 s)
        assert _frames_in(q) == 3 and q.bytes == 3 * FRAME.nbytes
    finally:
        stop.set()
    taken = _read_through(FrameQueue(64, 2 * MB), 12, FRAME.nbytes)
    got = [m[1] for m in taken if m[0] == "frame"]
    assert len(got) == 12 and [int(f[0, 0, 0]) for f in got] == list(range(12))


def test_frames_larger_than_the_cap_pass_two_at_a_time():
    """A cap smaller than one frame: two frames are queued, never more, and the source never stalls."""
    q = FrameQueue(64, MB // 2)
    taken = _read_through(q, 8, FRAME.nbytes)
    assert sum(m[0] == "frame" for m in taken) == 8


def test_messages_other_than_frames_count_no_bytes_but_the_count_still_bounds():
    q = FrameQueue(64, 2 * MB)
    for _ in range(3):
        q.put(("frame", FRAME, 0.0), timeout=0.1)
    with pytest.raises(queue.Full):
        q.put(("frame", FRAME, 0.0), timeout=0.1)  # 2.4 MB would pass the cap
    q.put(("warning", "damaged packets"), timeout=0.1)  # no bytes: let in
    assert q.bytes == 3 * FRAME.nbytes and q.qsize() == 4
    assert q.get(timeout=0.1)[0] == "frame" and q.bytes == 2 * FRAME.nbytes
    q.put(("frame", FRAME, 0.0), timeout=0.1)  # room again
    small = FrameQueue(3, 100 * MB)
    for _ in range(3):
        small.put(("session_end", "end of stream", 0), timeout=0.1)
    with pytest.raises(queue.Full):
        small.put(("done",), timeout=0.1)
    empty = FrameQueue(3, MB)
    with pytest.raises(queue.Empty):
        empty.get(timeout=0.05)
    assert empty.empty() and not small.empty()


# ---------------------------------------------------------------- the setting
def _printed(*args):
    return CliRunner().invoke(cli, ["watch", "--print-config", *args])


def test_frame_queue_mb_is_a_setting_of_the_command_line_and_the_file(tmp_path):
    assert live.WatchOptions().frame_queue_mb == 400
    res = _printed("--frame-queue-mb", "100")
    assert res.exit_code == 0 and "\nframe_queue_mb: 100\n" in res.output, res.output
    path = tmp_path / "w.yaml"
    path.write_text("frame_queue_mb: 50\n")
    assert watch_config.watch_options(watch_config.load(path)).frame_queue_mb == 50
    res = _printed("--config", str(path))
    assert res.exit_code == 0 and "\nframe_queue_mb: 50\n" in res.output
    res = _printed("--config", str(path), "--frame-queue-mb", "70")  # the option wins
    assert "\nframe_queue_mb: 70\n" in res.output


@pytest.mark.parametrize("value", ["0", "-5"])
def test_frame_queue_mb_below_one_is_refused_naming_the_setting(tmp_path, value):
    path = tmp_path / "w.yaml"
    path.write_text(f"frame_queue_mb: {value}\n")
    with pytest.raises(ConfigError,
                       match=f"frame_queue_mb must be a whole number of MB >= 1, at most 100,000 .*, got {value}"):
        watch_config.load(path)
    res = _printed("--config", str(path))
    assert res.exit_code != 0 and "frame_queue_mb must be" in res.output
    res = _printed("--frame-queue-mb", value)
    assert res.exit_code != 0 and "'--frame-queue-mb'" in res.output and "1<=x<=100000" in res.output, res.output


# ---------------------------------------------------------------- Ctrl-C
def test_ctrl_c_waits_for_stuck_sources_together_not_one_after_another(tmp_path, monkeypatch):
    """Five sources whose scorers never finish: at Ctrl-C the watch waited 30 s for each in turn
    (16 stuck cameras: 8 minutes); now one deadline for all (shortened here to 1 s)."""
    release = threading.Event()
    monkeypatch.setattr(live, "STOP_WAIT_S", 1.0)
    monkeypatch.setattr(_Scorer, "run", lambda self: release.wait(60))  # never sets `done`
    names = [f"cam{i}" for i in range(5)]
    sources = [live.FramesSource(n, lambda: (FRAME for _ in range(10 ** 6)), fps=10.0) for n in names]
    # per-camera models by name: no model is loaded (the scorers never run)
    models = {n: SimpleNamespace(model_dir="models", known=[]) for n in names}
    pressed = []

    def ctrl_c(_stats):
        if not pressed:
            pressed.append(time.monotonic())
            raise KeyboardInterrupt

    try:
        summary = live.watch(sources, models, tmp_path, live.WatchOptions(frame_queue=4), on_progress=ctrl_c)
        waited = time.monotonic() - pressed[0]
    finally:
        release.set()
    assert summary.interrupted
    assert 0.9 <= waited < 2.5, waited  # one deadline, not 5 x 1 s


def test_the_start_record_says_what_the_frame_queues_may_take(tmp_path, monkeypatch):
    import json

    monkeypatch.setattr(_Scorer, "run", lambda self: self.done.set())
    names = ["a", "b", "c"]
    sources = [live.FramesSource(n, lambda: iter(()), fps=10.0) for n in names]
    models = {n: SimpleNamespace(model_dir="models", known=[]) for n in names}
    live.watch(sources, models, tmp_path, live.WatchOptions(frame_queue_mb=300))
    start = json.loads((tmp_path / live.EVENTS_FILE).read_text().splitlines()[0])
    assert start["type"] == "watch"
    assert start["frame_queues"] == {"frames": 64, "mb_per_source": 300, "bytes_at_most": 3 * 300 * MB}


@pytest.mark.parametrize("height, cap_mb, read_ahead", [(120, 400, 30), (2160, 400, 17), (2160, 100, 10)])
def test_frames_read_ahead_to_time_a_stream_stop_at_its_byte_cap(height, cap_mb, read_ahead):
    """A stream timed by its frames' arrival (no rate, a clock's, FFmpeg's guess) held its first 30
    frames beside the queue at each connection: 750 MB a 4K source. They now stop at the source's
    byte cap once 10 are in; the rate is read from those (10 frames/s here)."""
    frame = np.zeros((height, height * 16 // 9, 3), np.uint8)  # one array, queued again and again
    messages = iter([("frame", frame, 100.0 + i / 10) for i in range(60)])
    scorer = SimpleNamespace(_get=lambda: next(messages), options=live.WatchOptions(frame_queue_mb=cap_mb))
    rate, read = _Scorer._arrival_rate(scorer)
    assert len(read) == read_ahead and rate == pytest.approx(10.0)
