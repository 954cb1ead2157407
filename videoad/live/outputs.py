"""How `watch` runs (`WatchOptions`) and what comes out: per-source statistics, the summary, the
records in OUT (events.jsonl, the closed events' events.csv, clips.csv, the peak frames) and the
hooks behind their bounded queue, with their delivery log (delivered.jsonl)."""
from __future__ import annotations

import contextlib
import csv
import functools
import hashlib
import json
import logging
import math
import os
import queue
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field, fields
from pathlib import Path

from extract.sources import mark_output, one_line
from videoad.events import EventSettings
from videoad.live.sources import _iso, display_url
from videoad.names import cell_text, name_of_shown, shown

log = logging.getLogger(__name__)


EVENTS_FILE = "events.jsonl"
CLIPS_FILE = "clips.csv"
IMAGES = "events"
#: every closed event, one row each as it closes, for a spreadsheet (events.jsonl has every record)
EVENTS_CSV = "events.csv"
#: a folder's files scored to the end (or found unreadable, or too short for one clip), one JSON line
#: each: a restarted watch into the same OUT does not score them again (delete the file to score them again)
WATCHED_FILE = "watched.jsonl"
#: the hooks' delivery log, one JSON line per hooked record as it is queued (written before its
#: events.jsonl line) and as its calls end (`sent`, `failed`; `dropped`: never to be sent, the queue
#: full or its events.jsonl line not written), a `settled` line at each watch's normal end: a watch
#: killed with records queued or in a call leaves them unsettled, and the next start into OUT sends them first
DELIVERED_FILE = "delivered.jsonl"
EVENTS_CSV_COLUMNS = ("id", "source", "video", "group", "start_frame", "end_frame", "start_s", "end_s", "duration_s",
                      "peak_score", "peak_s", "mean_score", "threshold", "where", "cell_names", "start_clock",
                      "end_clock", "peak_clock", "start_at", "end_at", "closed_by", "image")
#: what a name that is not UTF-8 still holding a surrogate would be written with (none should: `_shown`
#: writes each name's odd bytes first), rather than the record failing and the source with it
_NAMES = "backslashreplace"
#: recent clips whose cell scores give the typical cell score ("cells involved", heat-map floor)
CELL_SAMPLE = 2048
#: the most clips `cell_sample` may keep: 10^30 passed the checks and failed at the first source as an
#: OverflowError traceback (a deque's length is a C integer)
CELL_SAMPLE_MAX = 1_000_000
#: seconds between two looks for event pictures past `keep_days`
PRUNE_EVERY_S = 3600.0
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
#: the longest wait a setting may ask for (a week): Python's thread waits overflow past ~9.2e9 s,
#: and 1e10 passed the checks, then failed at run time (the source lost, or a traceback at exit)
MAX_WAIT_S = 7 * 24 * 3600.0
#: the longest keep_days (a century): 1e308 days overflowed the clock at the first prune
KEEP_DAYS_MAX = 36500
#: the largest frame_queue_mb (100 GB a source): FFmpeg decodes no picture over about 268 megapixels
#: (av_image_check_size: 16255 x 16255 at most when square), 793 MB as the RGB frames the queue holds,
#: and 64 of them (frame_queue's default) are 51 GB; 10^30 passed, and the `watch` record stated a cap
#: of 10^36 bytes
MAX_FRAME_QUEUE_MB = 100_000
#: the most retries (a year of attempts at the default 30 s cap on the wait between them): 10^30 passed
#: as a way to say "for ever", which null (leaving --retries out) says
MAX_RETRIES = 1_000_000
_ONE_UP = (lambda v: v >= 1, ">= 1")
#: the most frames, clips or hook records a queue or batch holds: the detectors' counts' bound
#: (videoad.detector.validation: epochs, trees, restarts); 10^30 passed and the `watch` record stated it
MAX_QUEUE = 1_000_000
_QUEUE = (lambda v: 1 <= v <= MAX_QUEUE, f"a whole number >= 1, at most {MAX_QUEUE:,}")
_WAIT = (lambda v: math.isfinite(v) and 0 < v <= MAX_WAIT_S, f"a number of seconds > 0, at most {MAX_WAIT_S:g} (a week)")
#: each `WatchOptions` setting's range: (test, what the value must be); the --config file's check
#: (videoad.watch_config) and `WatchOptions.check` read the same rules
OPTION_RULES = {
    "max_lag_s": _WAIT, "backoff_s": _WAIT, "backoff_max_s": _WAIT,
    "retries": (lambda v: 0 <= v <= MAX_RETRIES,
                f"a whole number >= 0, at most {MAX_RETRIES:,} (null keeps trying for ever)"),
    "batch_size": _QUEUE, "frame_queue": _QUEUE,
    "frame_queue_mb": (lambda v: 1 <= v <= MAX_FRAME_QUEUE_MB,
                       f"a whole number of MB >= 1, at most {MAX_FRAME_QUEUE_MB:,} (100 GB a source)"),
    "hook_timeout_s": _WAIT, "hook_queue": _QUEUE,
    "warn_every_s": _WAIT,
    "cell_sample": (lambda v: 1 <= v <= CELL_SAMPLE_MAX, f"a number of clips >= 1, at most {CELL_SAMPLE_MAX:,}"),
    "keep_days": (lambda v: math.isfinite(v) and 0 < v <= KEEP_DAYS_MAX, f"a number of days > 0, at most {KEEP_DAYS_MAX:g}"),
    "post": (lambda v: v.lower().startswith(("http://", "https://")), "an http(s) URL"),
}


@dataclass
class WatchOptions:
    """How `watch` runs; see `videoad watch --help`. `check()` (which `live.watch` calls) refuses
    a value of the wrong kind or out of range, naming the setting."""

    events: EventSettings = field(default_factory=EventSettings)
    max_lag_s: float = 3.0  # a live clip whose last frame is older than this is dropped unscored
    retries: int | None = None  # reopen attempts in a row before a stream is given up (None: for ever)
    backoff_s: float = 1.0  # first wait before reopening; doubles per failed attempt up to backoff_max_s
    backoff_max_s: float = 30.0
    batch_size: int = 8  # clips scored together when the scorer is behind (one at a time when caught up)
    frame_queue: int = 64  # decoded frames waiting for the scorer, per source
    # ... and at most this many MB of them (scorer.FrameQueue; 2 frames always): 64 frames of 1080p
    # (6.2 MB each, 398 MB) as before, 4K (24.9 MB) held to 16, so 16 4K cameras queue 6.4 GB, not 25
    frame_queue_mb: int = 400
    on_event: str | None = None
    post: str | None = None
    hook_timeout_s: float = 10.0
    hook_queue: int = 100
    clip_scores: bool = False  # also write OUT/clips.csv, every scored clip
    images: bool = True
    progress: bool = False
    warn_every_s: float = 10.0  # at most one "clips dropped" warning per source this often
    cell_sample: int = CELL_SAMPLE  # recent clips whose cell scores set the typical cell score
    smooth: bool = True  # the model's smoothing in time (the batch's scores; a clip is final ~4 sigma later)
    keep_days: float | None = None  # event images older than this many days are deleted (None: all kept)

    def check(self) -> "WatchOptions":
        """Each setting of the kind its field says (an int where a count goes, a number where
        seconds go, True/False where a switch goes) and within `OPTION_RULES`: a library caller's
        `batch_size=0` or `max_lag_s="3"` is named here, not met as a stall or a traceback later."""
        self.events.check()
        for f in fields(self):
            if f.name == "events":
                continue
            value, kind = getattr(self, f.name), str(f.type)
            if value is None and "None" in kind:
                continue
            if kind.startswith("bool"):
                ok, must = isinstance(value, bool), "True or False"
            elif kind.startswith("int"):
                ok, must = isinstance(value, int) and not isinstance(value, bool), "a whole number"
            elif kind.startswith("float"):
                ok, must = isinstance(value, (int, float)) and not isinstance(value, bool), "a number"
            else:
                ok, must = isinstance(value, str), "text"
            if not ok:
                raise ValueError(f"watch option {f.name} must be {must}{' or None' if 'None' in kind else ''}, "
                                 f"got {value!r}")
            rule = OPTION_RULES.get(f.name)
            if rule is not None and not rule[0](value):
                raise ValueError(f"watch option {f.name} must be {rule[1]}, got {value!r}")
        return self


@dataclass
class SourceStats:
    """What one source did; the summary and the progress line read it."""

    name: str
    frames: int = 0
    clips: int = 0  # clips formed
    scored: int = 0
    dropped: int = 0
    events: int = 0
    gaps: int = 0
    scene_cuts: int = 0  # frames where the view changed at once (`scene_cut` records)
    failed: int = 0  # files that could not be read
    watched_before: int = 0  # a folder's files this OUT's watched.jsonl lists (scored by an earlier run), left alone
    # `--once`: a folder's files still being written when its wait ended, left for the next run (not in watched.jsonl)
    still_writing: list[str] = field(default_factory=list)
    unknown_camera: int = 0  # a folder's files that show none of per-camera models' cameras (`skipped` records)
    too_short: int = 0  # files read to their end too short for one clip: nothing scored (`skipped` records)
    unknown_views: int = 0  # views none of the models' history shows (`view` records)
    camera_switches: int = 0  # a source's view switched to another per-camera model's camera (`camera` records)
    recorded_before: int = 0  # events of a folder's file scored again that an earlier run had recorded: not raised again
    live: bool = False  # the current video arrives in real time
    open: bool = False  # an event is open now
    lag_s: float = 0.0  # of the latest scored clip: now minus its last frame's arrival
    max_lag_s: float = 0.0
    media_s: float = 0.0  # seconds of video scored (frames / fps)
    started: float = field(default_factory=time.time)
    ended: str = ""  # why it ended ("" while running)
    lost: str = ""  # set when the source was given up or could not be read
    # what keeps a source that is still tried from delivering now: a stream that cannot be reopened
    # (its `gap` record comes once it is back), a folder that cannot be listed; "" when it delivers
    down: str = ""


@dataclass
class WatchSummary:
    sources: list[SourceStats]
    interrupted: bool = False
    hook_failures: int = 0
    hook_dropped: int = 0
    hook_resent: int = 0  # records a killed watch into OUT had not sent, sent at this one's start

    @property
    def lost(self) -> list[SourceStats]:
        return [s for s in self.sources if s.lost]

    def report(self) -> str:
        lines = []
        for s in self.sources:
            lines.append(f"{s.name}: {s.frames} frames, {s.scored} clips scored, {s.events} event(s)"
                         + (f", {s.dropped} clip(s) dropped" if s.dropped else "")
                         + (f", {s.gaps} gap(s)" if s.gaps else "")
                         + (f", {s.scene_cuts} scene cut(s)" if s.scene_cuts else "")
                         + (f", {s.unknown_views} view(s) the history never showed" if s.unknown_views else "")
                         + (f", {s.camera_switches} switch(es) to another camera's model" if s.camera_switches else "")
                         + (f", {s.recorded_before} event(s) an earlier watch recorded, not raised again"
                            if s.recorded_before else "")
                         + (f", {s.failed} file(s) unreadable" if s.failed else "")
                         + (f", {s.watched_before} file(s) watched before, not scored again" if s.watched_before else "")
                         + (f", {len(s.still_writing)} file(s) still being written, left for the next run "
                            f"({', '.join(s.still_writing)})" if s.still_writing else "")
                         + (f", {s.unknown_camera} file(s) of no known camera, not scored" if s.unknown_camera else "")
                         + (f", {s.too_short} file(s) shorter than one clip, not scored" if s.too_short else "")
                         + (f"; max lag {s.max_lag_s:.2f} s" if s.max_lag_s else "")
                         + (f"; {s.down}" if s.down and not s.lost else "")
                         + ("; lost" if s.lost else f"; {s.ended}" if s.ended else ""))
        if self.hook_failures or self.hook_dropped:
            lines.append(f"hooks: {self.hook_failures} failed, {self.hook_dropped} not sent (queue full, or still queued at the end)")
        if self.hook_resent:
            lines.append(f"hooks: {self.hook_resent} record(s) a killed watch into this output had not sent, sent first")
        return "\n".join(one_line(line) for line in lines)  # a source's or file's name on its own line


class OutputError(OSError):
    """A write into OUT failed (a full disk, a folder made read-only, a share gone): the source whose
    record it was stops, named in one line, and the watch ends as at a stop; what was written
    stays whole (a line cut short is ended by the next start), and the next start into OUT takes
    up the folder files not finished, as after a kill."""


def _writing(path: Path):
    """A context in which an OSError writing `path` (of OUT) is an `OutputError` naming it."""

    @contextlib.contextmanager
    def guard():
        try:
            yield
        except OutputError:
            raise
        except OSError as exc:
            raise OutputError(f"cannot write {path} ({exc}): free space in its folder (or give write access "
                              "to it) and start the watch again: it takes up where its records end") from None

    return guard()


def _r(x, digits: int = 6):
    return None if x is None else round(float(x), digits)


#: how long, past one hook timeout, the records still queued at the end may take to send
DRAIN_EXTRA_S = 60.0


#: what a failed hook's message keeps of its standard error: the end of it, its last line cut
HOOK_ERROR_TAIL = 4096
HOOK_ERROR_LINE = 300


def _last_line(err) -> str:
    """The last line of a hook's standard error (a file), read from its last HOOK_ERROR_TAIL bytes
    and cut to HOOK_ERROR_LINE characters: a log line, whatever the hook wrote."""
    size = err.seek(0, os.SEEK_END)
    err.seek(max(0, size - HOOK_ERROR_TAIL))
    lines = err.read().decode(errors="replace").strip().splitlines()
    line = lines[-1] if lines else ""
    return line if len(line) <= HOOK_ERROR_LINE else line[:HOOK_ERROR_LINE] + "..."


class Hooks:
    """`--on-event CMD` and `--post URL`, called from one worker thread behind a bounded queue.

    With `ledger` (OUT/delivered.jsonl) each record submitted with its `key` is logged as queued
    (or dropped, the queue full), then as sent or failed once its calls end, and `close` logs the
    rest settled: what a kill leaves queued or in a call is the next start's to send
    (`Recorder.redeliver`). A failed call is final: it is not tried again, then or later."""

    def __init__(self, on_event: str | None, post: str | None, timeout_s: float, size: int,
                 ledger: Path | None = None):
        self.on_event, self.post, self.timeout_s = on_event, post, float(timeout_s)
        self.failures = self.dropped = self.resent = 0
        self._accepted = self._handled = 0  # records queued, records whose calls were made (or failed)
        self._closing = self._timed_out = False  # draining at the end; a call ran into its timeout
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, size))
        self._thread = None
        # held from a record's put to its `queued` line, and for each outcome line: the ledger's order
        # is the queue's, which `_unsettled` relies on
        self._ledger_lock = threading.Lock()
        self._ledger = None
        if on_event or post:
            self._ledger = _append_lines(ledger) if ledger is not None else None
            self._thread = threading.Thread(target=self._run, name="videoad-hooks", daemon=True)
            self._thread.start()

    @property
    def active(self) -> bool:
        return self._thread is not None

    @property
    def size(self) -> int:
        return self._queue.maxsize

    def announce(self, record: dict, key: str) -> None:
        """Log `record` as `queued` before it is written to events.jsonl and queued (`submit` with
        `announced`): a kill between the two leaves it unsettled, for the next start to send where
        events.jsonl has it and to drop where it does not (`Recorder.redeliver`)."""
        if self._thread is not None:
            with self._ledger_lock:
                self._note(key, record, "queued")

    def withdraw(self, record: dict, key: str, why: str) -> None:
        """An announced record that is not queued after all (its write to events.jsonl failed): logged
        `dropped` with `why`, never sent, and not counted among the records not sent (OUT lacks it)."""
        if self._thread is not None:
            with self._ledger_lock:
                self._note(key, record, "dropped", why=why)

    def submit(self, record: dict, key: str | None = None, announced: bool = False) -> bool:
        """Queue `record` for the hooks (`key`: its line's `record_key`, for the ledger, which logs it
        `queued` unless `announce` did); False when the queue is full (the record is not sent, and
        counted)."""
        if self._thread is None:
            return False
        with self._ledger_lock:
            try:
                self._queue.put_nowait((record, key))
            except queue.Full:
                self.dropped += 1
                self._note(key, record, "dropped", why="the queue was full")
            else:
                self._accepted += 1
                if not announced:
                    self._note(key, record, "queued")
                return True
        log.warning("event hooks are behind (%d waiting): %s %s not sent", self._queue.qsize(),
                    record.get("type"), record.get("id", record.get("source")))
        return False

    def give_up(self, key: str, why: str) -> None:
        """Log a record a killed watch left unsent as not to be sent (counted as not sent)."""
        self.dropped += 1
        with self._ledger_lock:
            self._note(key, {}, "dropped", why=why)

    def _note(self, key: str | None, record: dict, state: str, **more) -> None:
        """One ledger line (the caller holds `_ledger_lock`); a write that fails is logged, never raised:
        delivery goes on."""
        if key is None or self._ledger is None:
            return
        line = {"record": key, "state": state, "type": record.get("type"), "id": record.get("id"), **more,
                "at": _iso(time.time())}
        try:
            self._ledger.write(json.dumps(_shown({k: v for k, v in line.items() if v not in (None, "")}),
                                          ensure_ascii=False) + "\n")
            self._ledger.flush()
        except (OSError, ValueError) as exc:
            log.warning("the hooks' delivery log: %s not written (%s)", state, exc)

    def _settle(self) -> None:
        """The normal end: every record queued so far is done with, sent or not (those not are counted
        in the summary), and is never sent again; the ledger is closed."""
        with self._ledger_lock:
            ledger, self._ledger = self._ledger, None
            if ledger is None:
                return
            try:
                ledger.write(json.dumps({"state": "settled", "at": _iso(time.time())}) + "\n")
                ledger.close()
            except OSError as exc:
                log.warning("the hooks' delivery log: not settled (%s)", exc)

    def close(self, wait_s: float) -> None:
        """Make the queued calls before returning, each given `wait_s` seconds (the hook timeout):
        the last records (the events' closes) are those an alert pipeline needs most. What is
        still not made then is counted as dropped and named in the log, and the ledger settled:
        a later start sends none of them."""
        if self._thread is None:
            return
        waiting = self._accepted - self._handled
        # each queued call its timeout, at most a minute past one; a receiver that times out while
        # the queue drains is down, and the rest are not tried (one timeout, not one per record)
        budget = min(max(0.1, wait_s) * (waiting + 1), max(0.1, wait_s) + DRAIN_EXTRA_S)
        self._timed_out, self._closing = False, True  # a timeout before the end says nothing of now
        if waiting > 1:
            log.warning("sending %d queued record(s) to the event hooks before stopping (at most %.0f s)",
                        waiting, budget)
        deadline = time.monotonic() + budget
        try:
            self._queue.put(None, timeout=budget)
            self._thread.join(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Full:
            pass
        unsent = self._accepted - self._handled
        if unsent > 0:
            self.dropped += unsent
            log.warning("event hooks: %d record(s) not sent before stopping (the receiver too slow or "
                        "not answering)", unsent)
        self._settle()

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            record, key = item
            if self._closing and self._timed_out:  # the receiver is down: the rest are counted, not tried
                continue
            data = json.dumps(_shown(record), ensure_ascii=False).encode("utf-8", errors=_NAMES)
            errors = []
            if self.on_event:
                errors.append(self._call(self._command, data, f"--on-event {self.on_event!r}"))
            if self.post:
                errors.append(self._call(self._send, data, f"--post {display_url(self.post)}"))
            errors = [e for e in errors if e]
            with self._ledger_lock:
                self._note(key, record, "failed" if errors else "sent", error="; ".join(errors))
            self._handled += 1

    def _call(self, fn, data: bytes, what: str) -> str | None:
        """Make one call; its failure (logged, counted) as text, else None."""
        try:
            fn(data)
        except Exception as exc:  # noqa: BLE001 - a receiver's failure is reported, never raised
            self.failures += 1
            log.warning("%s failed: %s", what, exc)
            return f"{what}: {exc}"
        return None

    def _command(self, data: bytes) -> None:
        # a session of its own, so that a timeout stops the command's whole process tree (a shell's
        # curl to a dead host outlived the shell, one orphan per record). Its standard error goes to
        # a file, not a pipe: a job the hook puts in the background (`... &`) kept the pipe open, so a
        # hook that had exited 0 was waited for to its timeout and killed with its job, and a hook
        # that wrote hundreds of megabytes of errors had them all held in memory
        import tempfile

        with tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(self.on_event, shell=True, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                    stderr=err, start_new_session=True)
            try:
                proc.communicate(data, timeout=self.timeout_s)  # the record in, then the shell's own exit
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except OSError:  # gone meanwhile
                    pass
                proc.wait()
                if proc.stdin is not None:
                    proc.stdin.close()
                self._timed_out = True
                raise RuntimeError(f"still running after {self.timeout_s:g} s, killed") from None
            if proc.returncode != 0:
                raise RuntimeError(f"exit status {proc.returncode} {_last_line(err)}".strip())

    def _send(self, data: bytes) -> None:
        import socket
        import urllib.error
        import urllib.request

        url, headers = post_target(self.post)
        req = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "application/json",
                                                                             **headers})
        try:
            with _opener().open(req, timeout=self.timeout_s) as resp:  # noqa: S310 - the user's own URL
                resp.read(1024)
        except urllib.error.HTTPError as exc:
            if exc.code == 303:  # See Other: the receiver took the record and points to a page about it
                return
            if 300 <= exc.code < 400:  # urllib sent a redirected POST on as a GET without its body, "sent"
                moved = exc.headers.get("Location") if exc.headers else None
                raise RuntimeError(f"the receiver answered {exc.code} {exc.reason}"
                                   + (f", moved to {display_url(moved)}" if moved else "")
                                   + ": records are not sent on to another address; give --post the one it "
                                   "names") from None
            raise
        except (TimeoutError, socket.timeout):
            self._timed_out = True
            raise
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, (TimeoutError, socket.timeout)):
                self._timed_out = True
            raise


def post_target(url: str) -> tuple[str, dict]:
    """`--post URL` as (the address to open, its headers): a user and password in the address
    (`http://alice:secret@host/ingest`, which urllib cannot open: it took them for the host name)
    become an HTTP basic Authorization header. ValueError when URL is no http(s) address with a host."""
    import base64
    from urllib.parse import unquote, urlsplit, urlunsplit

    parts = urlsplit(url)
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:  # `host:port`, a port past 65535
        port_ok = False
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or not port_ok:
        raise ValueError(f"--post {display_url(url)}: not an http(s) address with a host (and a port number)")
    headers = {}
    if parts.username is not None or parts.password is not None:
        pair = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
        host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        netloc = host + (f":{parts.port}" if parts.port else "")
        url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return url, headers


@functools.lru_cache(maxsize=1)
def _opener():
    """urllib's opener without its redirect handling (a 301 turned the POST into a GET without the
    record, and the final 200 counted it as sent): a redirect is an error that names where to."""
    import urllib.request

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    return urllib.request.build_opener(_NoRedirect)


def _append_lines(path: Path, newline: str | None = None):
    """`path` opened to append lines (JSON, or CSV rows with `newline=""`), after ending a line a
    kill or a full disk cut short: the next record went onto that line, and both were lost to
    every reader (this run's first record among them; in events.csv and clips.csv the next row
    was glued onto the cut one, one row of wrong cells)."""
    fh = open(path, "a", encoding="utf-8", errors=_NAMES, newline=newline)
    try:
        if fh.tell() > 0:
            with open(path, "rb") as raw:
                raw.seek(-1, os.SEEK_END)
                if raw.read(1) != b"\n":
                    fh.write("\n")
                    fh.flush()
    except BaseException:
        fh.close()
        raise
    return fh


def abandoned_opens(path: Path, chunk: int = 1 << 20) -> list[dict]:
    """The open records of the last watch run in `path` (events.jsonl) that no close followed,
    where that run has no stop record (it was killed); [] otherwise (`_last_run`)."""
    return _last_run(path, chunk).abandoned


@dataclass
class _LastRun:
    """What the last watch into OUT left, read from the end of its events.jsonl."""

    abandoned: list[dict] = field(default_factory=list)  # its opens no close followed, when it was killed
    #: folder files it (or a watch before it) began and may not have finished, by (folder, name, size,
    #: mtime_ns): {start frame: id} of the events recorded of each
    begun: dict[tuple, dict[int, str]] = field(default_factory=dict)
    last_at: str | None = None  # the time of its last record


def _last_run(path: Path, chunk: int = 1 << 20) -> _LastRun:
    """Read backwards from the end of `path` (events.jsonl): a run that stopped ends in its stop
    record, read first (every start of a watch that stopped as it should costs one chunk), whose
    `begun` lists the folder files it may have left unfinished; after a kill, back to that run's
    `watch` record (its `begun`: those it took over), a chunk at a time, only the lines of a few
    types parsed (a camera's months in one run were read whole, twice): its opens without a close,
    and each source's last file with the events recorded of it since its `video` record."""
    out = _LastRun()
    try:
        fh = open(path, "rb")
    except OSError:
        return out
    closed: set[str] = set()
    opened: dict[str, dict] = {}
    events: dict[str, dict[int, str]] = {}  # per source: its events after its last `video` record
    placed: set[str] = set()  # sources whose last `video` record was read
    with fh:
        last = True  # the last line of the file: one a kill cut short is passed over
        for line in _lines_back(fh, chunk):
            kind = _kind_of(line)
            if kind is None:
                last = last and not line.strip()
                continue
            try:
                rec = json.loads(line) if kind in ("open", "close", "video", "watch", "stop") or out.last_at is None \
                    else None
            except ValueError:  # the line a kill cut short
                continue
            if out.last_at is None and isinstance(rec, dict):
                out.last_at = rec.get("recorded_at") or rec.get("at")
            if kind == "stop" and last:
                _add_begun(out.begun, rec.get("begun"))
                return out
            last = False
            if kind == "watch":
                out.abandoned = [opened[k] for k in reversed(list(opened))]
                _add_begun(out.begun, rec.get("begun"))  # what it took over and had not scored again
                return out
            if kind in ("open", "close") and rec.get("id"):
                if kind == "close":
                    closed.add(rec["id"])
                elif rec["id"] not in closed:
                    opened.setdefault(rec["id"], rec)
                # an event still open at the kill is retired as abandoned at this start; scored again, it is
                # raised anew with its real close (kept out, its close would never have been recorded)
                if rec.get("source") not in placed and isinstance(rec.get("start_frame"), int) and \
                        (kind == "close" or rec["id"] in closed):
                    events.setdefault(rec.get("source"), {}).setdefault(rec["start_frame"], rec["id"])
            elif kind == "video" and rec.get("source") not in placed:
                placed.add(rec.get("source"))
                found = events.pop(rec.get("source"), {})
                key = _file_key(rec.get("folder"), rec.get("video"), rec.get("file_size"), rec.get("file_mtime_ns"))
                found = {**_events_of(rec.get("recorded_before")), **found}
                if key is not None and found:
                    out.begun[key] = found
    return out


def _lines_back(fh, chunk: int):
    """The lines of the binary file `fh`, the last first, read `chunk` bytes at a time."""
    pos = fh.seek(0, os.SEEK_END)
    rest = b""  # the start of a line whose beginning is in the chunk before
    while pos > 0:
        step = min(chunk, pos)
        pos -= step
        fh.seek(pos)
        lines = (fh.read(step) + rest).split(b"\n")
        rest = lines.pop(0) if pos > 0 else b""  # may be part of a line: kept for the next chunk
        yield from reversed(lines)


def _file_key(folder, name, size, mtime_ns) -> tuple[str, str, int, int] | None:
    """A folder's file as `Feed.key` names it, from a record's fields (names as `_shown` wrote them); None
    where they are not all there."""
    if isinstance(folder, str) and isinstance(name, str) and isinstance(size, int) and isinstance(mtime_ns, int):
        return name_of_shown(folder), name_of_shown(name), size, mtime_ns
    return None


def _shown(value):
    """A record with every name in it (keys, values, in lists) as the console writes it (`names.shown`):
    a file or folder name that is not UTF-8 (an old recorder's Latin-1 `caf\xe9.avi`) as `caf\\xe9.avi`.
    Written as it was, events.jsonl, watched.jsonl and the hooks' JSON held `"caf\\udce9.avi"`, a lone
    surrogate that other JSON readers take as an error or as U+FFFD, and events.csv and clips.csv
    `caf\\udce9.avi`, neither what the console said. Read back with `name_of_shown` (`_file_key`)."""
    if isinstance(value, str):
        return shown(value)
    if isinstance(value, dict):
        return {shown(k) if isinstance(k, str) else k: _shown(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_shown(v) for v in value]
    return value


def _events_of(items) -> dict[int, str]:
    """[{"id", "start_frame"}, ...] of a record as {start frame: id}."""
    out = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("start_frame"), int) and isinstance(item.get("id"), str):
            out[item["start_frame"]] = item["id"]
    return out


def _add_begun(begun: dict, items) -> None:
    """A `watch` or `stop` record's `begun` list into `begun` (the entries already there, read
    from later records, win)."""
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            key = _file_key(item.get("folder"), item.get("file"), item.get("size"), item.get("mtime_ns"))
            if key is not None:
                begun[key] = {**_events_of(item.get("events")), **begun.get(key, {})}


def record_key(line: bytes) -> str:
    """A record's name in the hooks' delivery log: the start of its events.jsonl line's SHA-1 (every
    line differs: each has the time it was written, to the millisecond)."""
    return hashlib.sha1(line).hexdigest()[:16]


def _unsettled(path: Path, chunk: int = 1 << 16) -> list[str]:
    """The records OUT/delivered.jsonl shows queued for the hooks and neither sent, failed nor
    dropped: those a killed watch left in its queue or in a call. Read backwards to the last
    `settled` line (a watch's normal end), or to the `queued` line of a record that was sent or
    failed: the queue is first in, first out, and each start sends (or drops) what was left
    before it queues anything new, so every record queued before that one is done with."""
    try:
        fh = open(path, "rb")
    except OSError:
        return []
    done: set[str] = set()
    called: set[str] = set()
    left: dict[str, None] = {}  # the latest first
    with fh:
        for line in _lines_back(fh, chunk):
            try:
                rec = json.loads(line)
            except ValueError:  # a blank line, or one a kill cut short
                continue
            if not isinstance(rec, dict):
                continue
            state, key = rec.get("state"), rec.get("record")
            if state == "settled":
                break
            if state in ("sent", "failed"):
                called.add(key)
            elif state == "dropped":
                done.add(key)
            elif state == "queued" and isinstance(key, str):
                if key in called:
                    break
                if key not in done:
                    left.setdefault(key)
    return list(reversed(left))


def _find_lines(path: Path, keys, chunk: int = 1 << 20) -> tuple[list[tuple[str, bytes]], set[str]]:
    """The events.jsonl lines of the records `keys` names, in their order there, read backwards
    until all are found; and the keys not found (a line rotated out of the file)."""
    wanted = set(keys)
    found = []
    try:
        with open(path, "rb") as fh:
            for line in _lines_back(fh, chunk):
                if not wanted:
                    break
                key = record_key(line)
                if key in wanted:
                    wanted.discard(key)
                    found.append((key, line))
    except OSError:
        pass
    return found[::-1], wanted


def _run_stamp(after: str | None) -> str:
    """This watch's part of its event ids, `%Y%m%d-%H%M%S` in local time, later than `after` (the
    ISO time of the last record in OUT): a watch restarted within the second a killed one last
    wrote in waits for the next second, so that its new events never take that one's ids. (A clock
    set back by more than a few seconds is not waited for.)"""
    from datetime import datetime, timedelta

    try:
        last = datetime.fromisoformat(after).replace(tzinfo=None).replace(microsecond=0) if after else None
    except (TypeError, ValueError):
        last = None
    while True:
        now = datetime.now().replace(microsecond=0)
        if last is None or now > last or last - now > timedelta(seconds=3):
            return now.strftime("%Y%m%d-%H%M%S")
        time.sleep(1.001 - time.time() % 1)


def _kind_of(line: bytes) -> str | None:
    """The type of a record line as json.dumps writes it (`{"type": "open", ...`), else None."""
    if not line.startswith(b'{"type": "'):
        return None
    end = line.find(b'"', 10)
    return line[10:end].decode("ascii", "replace") if end > 0 else None


def _clear_dead_pictures(images: Path) -> None:
    """The half-written event pictures a killed watch left in OUT/events/<day>/ (their writer gone;
    a watch still writing into OUT keeps its own): a rerun left them for good."""
    from extract.store import remove_dead_temporaries

    try:
        days = [d for d in images.iterdir() if d.is_dir()]
    except OSError:
        return
    for day in days:
        remove_dead_temporaries(day)


class Recorder:
    """OUT/events.jsonl (one JSON record a line, appended and flushed as it happens), the event
    images, optionally OUT/clips.csv; shared by every source's scorer."""

    def __init__(self, out: Path, options: WatchOptions):
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / IMAGES).mkdir(exist_ok=True)
        mark_output(self.out)  # its event pictures are never read as footage (an -o inside a watched folder)
        _clear_dead_pictures(self.out / IMAGES)
        self._lock = threading.Lock()
        earlier = _last_run(self.out / EVENTS_FILE)  # before this run's records follow
        self._abandoned = earlier.abandoned
        self.run_stamp = _run_stamp(earlier.last_at)  # the scorers' part of event ids
        # the hooked records a killed watch left queued or in a call, read before this run's lines follow
        # (without hooks they wait for a watch that has them)
        unsettled = _unsettled(self.out / DELIVERED_FILE) if options.on_event or options.post else []
        self._unsent, self._lost = _find_lines(self.out / EVENTS_FILE, unsettled) if unsettled else ([], set())
        self._events = _append_lines(self.out / EVENTS_FILE)
        self._clips = None
        if options.clip_scores:  # a header wherever the file is new or empty (a kill before any row)
            new = not (self.out / CLIPS_FILE).exists() or not (self.out / CLIPS_FILE).stat().st_size
            self._clips = _append_lines(self.out / CLIPS_FILE)
            if new:
                self._clips.write("source,video,clip,start_frame,end_frame,score,lag_s\n")
                self._clips.flush()
        new = not (self.out / EVENTS_CSV).exists() or not (self.out / EVENTS_CSV).stat().st_size
        self._closed = _append_lines(self.out / EVENTS_CSV, newline="")
        self._closed_rows = csv.writer(self._closed)
        if new:  # with the events closed before it was written (an OUT of a watch from before events.csv)
            self._closed_rows.writerow(EVENTS_CSV_COLUMNS)
            self._closed_rows.writerows(_closed_row(rec) for rec in _closes(self.out / EVENTS_FILE))
            self._closed.flush()
        self.hooks = Hooks(options.on_event, options.post, options.hook_timeout_s, options.hook_queue,
                           ledger=self.out / DELIVERED_FILE)
        self._scored: dict[tuple, int | None] = {}  # folder files scored to their end: frames read (None: not said)
        self._watched_before = _read_watched(self.out / WATCHED_FILE, self._scored)
        self._watched = _append_lines(self.out / WATCHED_FILE)
        # folder files earlier watches began and did not finish, with their events: {start frame: id}
        self._begun = {key: found for key, found in earlier.begun.items() if self._unfinished(key)}
        self._current: dict[str, tuple[tuple, dict[int, str]]] = {}  # per source: its file now, its events
        self.keep_days = options.keep_days
        self._stop_pruning = threading.Event()
        self._pruner = None
        if self.keep_days is not None:  # at the start, then hourly, whether events come or not
            self.prune()
            self._pruner = threading.Thread(target=self._prune_hourly, name="videoad-prune", daemon=True)
            self._pruner.start()

    def image_path(self, name: str, when: float | None = None) -> tuple[Path, str]:
        """Where an event image named `name` goes: OUT/events/<local date>/, one folder a day (a
        camera watched for months made one folder of a hundred thousand pictures, and nothing could
        clear it by age); (the path, its name relative to OUT as records give it)."""
        day = time.strftime("%Y-%m-%d", time.localtime(time.time() if when is None else when))
        relative = f"{IMAGES}/{day}/{name}"
        return self.out / relative, relative

    def prune(self, now: float | None = None) -> int:
        """With `keep_days`: delete the event pictures (OUT/events/**/*.jpg) older than that many
        days, and the day folders they leave empty; other files are left alone. The records stay,
        naming pictures no longer there. Returns the pictures deleted."""
        if self.keep_days is None:
            return 0
        now = time.time() if now is None else now
        limit = now - float(self.keep_days) * 86400.0
        limit_day = time.strftime("%Y-%m-%d", time.localtime(limit))
        today = time.strftime("%Y-%m-%d", time.localtime(now))
        deleted, failed = 0, []

        def old_pictures(folder: str, every: bool):
            nonlocal deleted
            for entry in os.scandir(folder):
                try:
                    if entry.name.endswith(".jpg") and entry.is_file(follow_symlinks=False) \
                            and (every or entry.stat().st_mtime < limit):
                        os.unlink(entry.path)
                        deleted += 1
                except OSError as exc:  # another user's file: left, named once per pass
                    failed.append(f"{entry.path} ({exc})")

        try:
            old_pictures(os.fspath(self.out / IMAGES), every=False)  # pictures of watches before the day folders
            for day in os.scandir(self.out / IMAGES):
                if not (day.is_dir(follow_symlinks=False) and _DAY.fullmatch(day.name)) or day.name > limit_day:
                    continue  # a folder of someone else's, or a day whose pictures are all newer
                old_pictures(day.path, every=day.name < limit_day)  # the limit's own day: by age
                if day.name < today:  # today's stays: a picture may be on its way into it
                    with contextlib.suppress(OSError):
                        os.rmdir(day.path)  # only once empty
        except OSError as exc:
            failed.append(f"{self.out / IMAGES} ({exc})")
        if failed:
            log.warning("event pictures past --keep-days not removed: %s%s", "; ".join(failed[:3]),
                        f" and {len(failed) - 3} more" if len(failed) > 3 else "")
        if deleted:
            log.info("%s: %d event picture(s) older than %g day(s) removed", self.out / IMAGES, deleted,
                     self.keep_days)
        return deleted

    def _prune_hourly(self) -> None:
        while not self._stop_pruning.wait(PRUNE_EVERY_S):  # a monotonic wait: a clock set back changes nothing
            try:
                self.prune()
            except Exception as exc:  # noqa: BLE001 - the watch goes on; the next hour tries again
                log.warning("pruning event pictures failed: %s", exc)

    def watched_before(self, folder: str) -> set[tuple[str, int, int, int | None, str | None]]:
        """(name, size, mtime_ns, inode, outcome) of `folder`'s files that an earlier watch into this OUT finished."""
        return set(self._watched_before.get(folder, ()))

    def watched(self, key: tuple, outcome: str, frames: int | None = None) -> None:
        """A folder's file is done (`key`: folder, name, size, mtime_ns and its inode or None; `outcome`:
        scored, failed, or too short (read to its end, too short for one clip: nothing scored);
        `frames`: how many a scored or too short one had): appended once its events are recorded,
        so that a kill before it leaves the file to score again. The inode tells the file under a new
        name after a restart (renamed since); the frames, the events of the part scored then when the
        file grows and is scored again (`scored_frames`)."""
        folder, name, size, mtime_ns, *inode = key
        rec = {"folder": folder, "file": name, "size": size, "mtime_ns": mtime_ns,
               "ino": inode[0] if inode else None, "outcome": outcome}
        if frames is not None:
            rec["frames"] = int(frames)
        line = json.dumps(_shown({**rec, "at": _iso(time.time())}), ensure_ascii=False)
        with self._lock, _writing(self.out / WATCHED_FILE):
            self._watched.write(line + "\n")
            self._watched.flush()
            if outcome == "scored":
                self._scored[(folder, name, size, mtime_ns)] = frames

    def scored_frames(self, folder: str, name: str, size: int, mtime_ns: int) -> tuple[bool, int | None]:
        """Whether this version of a folder's file was scored to its end (this watch, or an earlier
        one's watched.jsonl), and how many frames it had then (None where its record does not say)."""
        key = (folder, name, size, mtime_ns)
        with self._lock:
            return key in self._scored, self._scored.get(key)

    def _unfinished(self, key: tuple) -> bool:
        """Whether a folder's file an earlier watch began may be scored again: not in watched.jsonl,
        and still there as it was (a folder that is not there now, a share unmounted, keeps it)."""
        folder, name, size, mtime_ns = key
        if any(tuple(done[:3]) == (name, size, mtime_ns) for done in self.watched_before(folder)):
            return False
        try:
            st = os.stat(os.path.join(folder, name))
        except FileNotFoundError:
            return not os.path.isdir(folder)
        except OSError:
            return True
        return (st.st_size, st.st_mtime_ns) == (size, mtime_ns)

    def file_begun(self, source: str, key: tuple) -> dict[int, str]:
        """`source` begins the folder file `key` (folder, name, size, mtime_ns): the events an earlier
        watch into OUT recorded of this very file without finishing it (killed, or stopped partway),
        as {start frame: id}, for the scorer to leave them unraised and keep their ids."""
        key = tuple(key[:4])  # as records name the file (a key may carry more, such as its inode)
        with self._lock:
            found = dict(self._begun.pop(key, {}))
            self._current[source] = (key, dict(found))
        return found

    def file_event(self, source: str, start_frame: int, event_id: str) -> None:
        """An event of `source`'s current folder file is recorded (for the `begun` of the stop record)."""
        with self._lock:
            if source in self._current:
                self._current[source][1][int(start_frame)] = event_id

    def begun(self) -> dict:
        """For the `watch` and `stop` records: `begun`, the folder files this watch may leave for the next
        to score again (each source's file now, or its last; those earlier watches left and this one did
        not take up), each with the ids and start frames of its events recorded so far; {} if none. The
        next start leaves out those that watched.jsonl lists by then."""
        with self._lock:
            files = {k: found for k, found in {**self._begun, **dict(self._current.values())}.items() if found}
        return {"begun": [{"folder": k[0], "file": k[1], "size": k[2], "mtime_ns": k[3],
                           "events": [{"id": i, "start_frame": f} for f, i in sorted(found.items())]}
                          for k, found in files.items()]} if files else {}

    def record(self, rec: dict, hook: bool = False) -> None:
        """Append `rec` to events.jsonl (and a close to events.csv); with `hook`, for the hooks too.
        A hooked record is logged `queued` in the delivery log before events.jsonl has it (a kill
        between the two leaves no record there unlogged: the next start sends it) and queued for the
        hooks only once it is written there: a write that fails (OutputError) logs it `dropped`, and
        no receiver gets a record that OUT does not have."""
        rec = _shown(rec)  # events.jsonl, events.csv and the hooks name a file as the console does
        line = json.dumps(rec, ensure_ascii=False)
        with self._lock:
            # named by its line, which a restart finds it by
            key = record_key(line.encode("utf-8", errors=_NAMES)) if hook and self.hooks.active else None
            if key is not None:
                self.hooks.announce(rec, key)
            try:
                with _writing(self.out / EVENTS_FILE):
                    self._events.write(line + "\n")
                    self._events.flush()
            except OutputError as exc:
                if key is not None:
                    self.hooks.withdraw(rec, key, f"not written to {EVENTS_FILE}: {exc}")
                raise
            if key is not None:
                self.hooks.submit(rec, key, announced=True)
            if rec.get("type") == "close":
                with _writing(self.out / EVENTS_CSV):
                    self._closed_rows.writerow(_closed_row(rec))
                    self._closed.flush()

    def redeliver(self) -> int:
        """Queue first the hooked records the last watch into OUT wrote to events.jsonl and had not
        sent (queued, or in a call) when it was killed, in their order: the newest the queue holds;
        older ones (the call under way at the kill, which the receiver likely got, first) and any no
        longer in events.jsonl are logged as dropped, not sent. Returns how many were queued."""
        unsent, lost, self._unsent, self._lost = self._unsent, self._lost, [], set()
        if not self.hooks.active:
            return 0
        keep = unsent[-self.hooks.size:]
        for key, _ in unsent[:len(unsent) - len(keep)]:
            self.hooks.give_up(key, f"more than the queue's {self.hooks.size} left by a killed watch")
        for key in sorted(lost):
            self.hooks.give_up(key, f"not in {EVENTS_FILE} (rotated out, or a kill came before it was written)")
        queued = sum(self.hooks.submit(json.loads(line), key) for key, line in keep)
        self.hooks.resent += queued
        if unsent or lost:
            given_up = len(unsent) - len(keep) + len(lost)
            log.warning("event hooks: %d record(s) the last watch into %s wrote and had not sent when it was "
                        "stopped (killed) are sent first%s", queued, self.out,
                        f"; {given_up} older or no longer in {EVENTS_FILE}, not sent" if given_up else "")
        return queued

    def retire_abandoned(self) -> int:
        """A close record (to the hooks too) for each event the last watch into OUT opened and, killed,
        never closed: a receiver tracking open events kept them open for ever. Its extent is what was
        known at opening; `closed_by` says why. Returns how many."""
        now = _iso(time.time())
        for rec in self._abandoned:
            self.record({**rec, "type": "close", "closed_by": "abandoned: the watch that opened it was stopped "
                         "without closing it (killed)", "image": None, "recorded_at": now}, hook=True)
        if self._abandoned:
            log.warning("%d event(s) the last watch into %s left open (it was killed) closed as abandoned: %s",
                        len(self._abandoned), self.out, ", ".join(r.get("id", "?") for r in self._abandoned[:3]))
        done, self._abandoned = len(self._abandoned), []
        return done

    def clip(self, source: str, video: str, clip: int, first: int, last: int, score: float, lag: float | None) -> None:
        if self._clips is None:
            return
        with self._lock, _writing(self.out / CLIPS_FILE):
            self._clips.write(f"{_csv(shown(source))},{_csv(shown(video))},{clip},{first},{last},{score:.6g},"
                              f"{'' if lag is None else f'{lag:.3f}'}\n")
            self._clips.flush()  # as every record: a kill loses no scored clip

    def close(self, wait_s: float) -> None:
        self._stop_pruning.set()
        self.hooks.close(wait_s)
        with self._lock:
            for fh in (self._events, self._closed, self._watched, self._clips):
                try:
                    if fh is not None:
                        fh.close()
                except OSError as exc:  # what a full disk still held back: lost, the file closed all the same
                    log.error("%s: its last lines not written (%s)", fh.name, exc)


def _closed_row(rec: dict) -> list:
    """A close record as its events.csv row."""
    return ["" if rec.get(k) is None else cell_text(rec[k]) if isinstance(rec[k], str) else rec[k]
            for k in EVENTS_CSV_COLUMNS]


def _closes(path: Path):
    """The close records of events.jsonl at `path`, in order (none where it is missing); a line a
    kill cut short is passed over."""
    try:
        fh = open(path, "rb")
    except OSError:
        return
    with fh:
        for line in fh:
            if b'"close"' not in line:
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict) and rec.get("type") == "close":
                yield rec


def _read_watched(path: Path, scored: dict | None = None) -> dict[str, set[tuple[str, int, int, int | None, str | None]]]:
    """watched.jsonl by folder: (file, size, mtime_ns, inode, outcome); a record without an inode
    (written before they were kept) gives None. A line a kill cut short (or any unreadable one) is
    passed over, so its file is scored again rather than lost. `scored` gets the files scored (an
    older record, with no outcome, counts), (folder, file, size, mtime_ns) -> their frames or None."""
    out: dict[str, set] = {}
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return out
    for n, line in enumerate(text.splitlines(), 1):
        try:
            r = json.loads(line)
            folder, entry = name_of_shown(str(r["folder"])), (name_of_shown(str(r["file"])), int(r["size"]),
                                                              int(r["mtime_ns"]))
            ino = r.get("ino")
            out.setdefault(folder, set()).add((*entry, None if ino is None else int(ino), r.get("outcome")))
            if scored is not None and r.get("outcome") in (None, "scored"):
                frames = r.get("frames")
                scored[(folder, *entry)] = frames if isinstance(frames, int) and not isinstance(frames, bool) else None
        except (ValueError, KeyError, TypeError):
            if line.strip():
                log.warning("%s, line %d: not a watched-file record; passed over", path, n)
    return out


def _csv(text: str) -> str:
    """A name as one CSV cell: quoted where it holds a comma, a quote or a line break, and marked as
    text where a spreadsheet would run it (`names.cell_text`), as events.csv beside it."""
    text = cell_text(text)
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n\r') else text


