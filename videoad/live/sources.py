"""What `watch` reads: a file, a stream (reopened when it drops), a folder whose new files are
watched as they arrive, frames given in memory; `make_source` from the command line's text,
`name_apart` for sources whose names are shared."""
from __future__ import annotations

import logging
import os
import re
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Callable, Iterable, Iterator

import numpy as np

from videoad.live.model import WatchError

log = logging.getLogger(__name__)


@dataclass
class Feed:
    """One video a source delivers: a file, a stream (reopened when it drops), a generator."""

    name: str
    open: Callable[[], "object"]  # -> extract.decode.FrameStream
    live: bool = False  # frames come in real time: lag is measured, stale clips dropped
    reconnect: bool = False  # reopen when it ends or fails
    realtime: bool = False  # pace the frames at the stream's rate (a file played as a camera)
    key: tuple | None = None  # a folder's file: (folder, name, size, mtime_ns, inode), for OUT/watched.jsonl
    # a folder's file scored to its end before (this watch, or an earlier one's watched.jsonl) at a smaller
    # size, and grown since: (size, mtime_ns) it was scored at; it is scored again from its start
    grown_from: tuple[int, int] | None = None
    secret: str | None = None  # the address as given (with its password), never written out: `mask`

    def mask(self, text: str) -> str:
        """`text` (a library's error message) with the address as given replaced by the feed's name,
        also as a Python `repr` quotes it (PyAV's errors: `'rtsp://u:pa\\\\ss@cam'`, a backslash doubled,
        a control character escaped)."""
        if not self.secret or self.secret == self.name:
            return text
        for form in (self.secret, repr(self.secret)[1:-1]):
            text = text.replace(form, self.name)
        return text


class Source:
    """Something to watch; `feeds` yields its videos (one, or one per file arriving in a folder)."""

    name: str = ""
    named: bool = False  # the name was given (NAME=SOURCE): `name_apart` keeps it
    #: a file's or folder's raw H.264/HEVC streams that state no rate: the rate given (--image-fps), else
    #: (rate, where from) assumed in place of FFmpeg's 25 (`watch` sets the models' footage's; extract.decode.raw_rate)
    image_fps: float | None = None
    guessed_fps: tuple[float, str] | None = None
    #: a file opened here was a raw stream stating no rate, read at `image_fps` (given): else the option
    #: changed nothing, and `watch` says so
    took_image_fps: bool = False

    def _open(self, path: Path, decoders: tuple[str, ...]):
        """`path`'s frames (extract.decode.open_video), a raw stream's at the rate given or guessed."""
        from extract.decode import open_video

        if self.image_fps is not None and not self.took_image_fps:
            from extract.run import states_no_rate

            self.took_image_fps = states_no_rate(path)
        return open_video(path, decoders, unstated_fps=self.image_fps, guessed_fps=self.guessed_fps)

    def feeds(self, stop: threading.Event) -> Iterator[Feed]:
        raise NotImplementedError


class FileSource(Source):
    def __init__(self, path, realtime: bool = False, decoders: tuple[str, ...] | None = None,
                 image_fps: float | None = None):
        self.path, self.realtime = Path(path), bool(realtime)
        self.name = self.path.name
        self.decoders, self.image_fps = decoders, image_fps

    def feeds(self, stop):
        from extract.decode import DEFAULT_DECODERS, installed_decoders

        decoders = installed_decoders(self.decoders or DEFAULT_DECODERS)
        # the video is the file (its name read for a recording clock), whatever the source is called
        yield Feed(self.path.name, lambda: self._open(self.path, decoders), live=self.realtime,
                   realtime=self.realtime)


class StreamSource(Source):
    """A camera (/dev/videoN) or a URL; reopened with backoff whenever it ends or fails."""

    def __init__(self, url: str, timeout: float = 10.0):
        self.url, self.timeout = url, float(timeout)
        self.name = display_url(url)

    def feeds(self, stop):
        from extract.decode import open_stream

        yield Feed(self.name, lambda: open_stream(self.url, self.timeout), live=True, reconnect=True,
                   secret=self.url)


class FolderSource(Source):
    """A folder that new video files arrive in: each file is watched once, in arrival order,
    when its size and modification time have held still for `settle_s` seconds and at least one
    poll (a file still being written is left for a later poll: a recorder that paused 8 s while
    writing had its first part scored as a whole file, then the whole again, or a truncated AVI
    reported as failed). `once`: the files there now, then stop: those whose time is `settle_s` old
    at once, those changed since, once still for `settle_s` seconds, waiting at most `settle_s`
    seconds after the others are taken (a file changed within them is left for the next run, in
    `still_writing`); `settle_s` 0 takes them all at once. `seen`: (name, size, mtime_ns,
    inode, outcome) of files an earlier watch finished (OUT/watched.jsonl), left alone unless
    changed. A file renamed (or linked) after it was taken, by this watch or an earlier one, is
    not scored again under its new name (`_renamed`)."""

    def __init__(self, folder, poll_s: float = 2.0, once: bool = False, realtime: bool = False,
                 settle_s: float = 10.0, image_fps: float | None = None):
        self.folder, self.poll_s, self.once, self.realtime = Path(folder), float(poll_s), bool(once), bool(realtime)
        self.settle_s, self.image_fps = float(settle_s), image_fps
        self.name = self.folder.name or str(self.folder)
        self.seen: set[tuple] = set()  # (name, size, mtime_ns[, inode, outcome]): older callers give three
        self.watched_before = 0  # files passed over for `seen`
        self.still_writing: list[str] = []  # `once`: files still changing when the wait ended, left for the next run
        self.down = ""  # why the folder cannot be listed now (deleted, a share unmounted): "" while it can

    @property
    def folder_key(self) -> str:
        """The folder as watched.jsonl names it (absolute: two folders of one name stay apart)."""
        return str(self.folder.resolve())

    def _listing(self) -> dict[Path, tuple[int, int, int | None]]:
        """Each video file's size, mtime_ns and inode (None where the OS gives none: 0)."""
        from extract.sources import VIDEO_EXTENSIONS

        found = {}
        try:
            entries = list(os.scandir(self.folder))
        except OSError as exc:  # said once, not at every poll (a folder deleted filled the log, 1,800 lines an hour)
            if not self.down:
                log.warning("%s: cannot list the folder (%s); looking again every %g s", self.folder, exc, self.poll_s)
                self.down = f"cannot list the folder since {_iso(time.time())}: {exc}"
            return found
        if self.down:
            log.warning("%s: the folder can be listed again", self.folder)
            self.down = ""
        for e in entries:
            if e.name.startswith(".") or os.path.splitext(e.name)[1].lower() not in VIDEO_EXTENSIONS:
                continue
            try:
                st = e.stat()
            except OSError:
                continue
            if e.is_file():
                found[Path(e.path)] = (st.st_size, st.st_mtime_ns, st.st_ino or None)
        return found

    def _say_what_it_holds(self) -> None:
        """A folder with no video file at the start: a folder of frames (images) is not watched, and
        was idle for ever in silence; a warning says so (a folder of snapshots beside videos that
        come and go is watched as before)."""
        why = self.frames_only()
        if why:
            log.warning("%s%s", why, "" if self.once else "; waiting for video files")

    def frames_only(self) -> str | None:
        """Why the folder, holding images (or folders of them) and no video file, has nothing for
        watch to read; None where it holds a video file, or no image either."""
        from extract.sources import IMAGE_EXTENSIONS

        if self._listing():
            return None

        def images_in(folder) -> int:
            try:
                return sum(1 for e in os.scandir(folder) if os.path.splitext(e.name)[1].lower() in IMAGE_EXTENSIONS)
            except OSError:
                return 0

        images = images_in(self.folder)
        try:  # or folders of frames, one per video (UCSD Ped2's layout); videoad's own outputs aside
            from extract.sources import is_videoad_output

            frame_folders = sum(1 for e in os.scandir(self.folder)
                                if e.is_dir() and not is_videoad_output(e.path) and images_in(e.path))
        except OSError:
            frame_folders = 0
        if not images and not frame_folders:
            return None
        held = f"{images} image file(s)" if images else f"{frame_folders} folder(s) of images"
        return (f"{self.folder} holds {held} and no video file: watch reads video files (and streams); score "
                "frames with `videoad extract --image-fps R` then `videoad detect --model`")

    def feeds(self, stop):
        from extract.decode import DEFAULT_DECODERS, installed_decoders

        decoders = installed_decoders(DEFAULT_DECODERS)
        done: dict[Path, tuple[int, int]] = {}  # each file taken, with the size and time it was taken at
        inodes: dict[Path, int | None] = {}  # and its inode then
        last: dict[Path, tuple[int, int]] = {}
        still_since: dict[Path, float] = {}  # when each file was first seen at its present size and time
        earlier: dict[tuple[int, int], list[tuple[str, int | None, str | None]]] = {}  # watched.jsonl by content
        for name, size, mtime_ns, *more in self.seen:
            ino, outcome = (list(more) + [None, None])[:2]
            earlier.setdefault((size, mtime_ns), []).append((name, ino, outcome))
        first = True
        deadline = None  # `once`: when the wait for files still changing ends
        while not stop.is_set():
            listing = self._listing()
            now = {p: st[:2] for p, st in listing.items()}  # a name keeps its file while its size and time do
            seen_at = time.monotonic()
            present = {p.name: st for p, st in now.items()}
            if done:  # a name new (or changed) holding a file taken under another: renamed, not new
                taken: dict[tuple[int, int], list] = {}
                for new in [p for p, st in now.items() if done.get(p) != st]:
                    if not taken:
                        for p, st in done.items():
                            taken.setdefault(st, []).append((p.name, inodes.get(p), None))
                    was = _renamed(now[new], listing[new][2], taken.get(now[new], ()), present)
                    if was is not None:
                        done[new], inodes[new] = now[new], listing[new][2]
                        self.watched_before += 1
                        log.warning("%s: the file this watch took as %s, renamed (or linked) since: not scored "
                                    "again", new, was[0])
            still_since = {p: still_since[p] if last.get(p) == st and p in still_since else seen_at
                           for p, st in now.items()}
            if first and not now:
                self._say_what_it_holds()
            # a file taken before and changed since (a copy that stalled past a poll, written again) is new
            if self.once and self.settle_s > 0:
                # when each file last changed (monotonic): first seen in its present size and time, or its
                # modification time if that is earlier, so that a file whose time is settle_s old is taken
                # at once (an archive: no wait) and one that just changed once it has been still that long
                wall = time.time()
                changed = {p: min(still_since[p], seen_at - max(0.0, wall - st[1] / 1e9)) for p, st in now.items()}
                ready = [p for p, st in now.items() if done.get(p) != st and (first or last.get(p) == st)
                         and seen_at - changed[p] >= self.settle_s]
            else:
                ready = [p for p, st in now.items() if done.get(p) != st and (
                    self.once and first or last.get(p) == st and seen_at - still_since[p] >= self.settle_s)]
            for path in sorted(ready, key=lambda p: (now[p][1], p.name)):
                grown = _grown_from(path.name, now[path], listing[path][2], done.get(path), inodes.get(path),
                                    self.seen)
                done[path], inodes[path] = now[path], listing[path][2]
                before = earlier.get(now[path], ())
                if any(name == path.name for name, *_ in before):
                    self.watched_before += 1
                    log.info("%s: watched before (the output's watched.jsonl), not scored again", path)
                    continue
                was = _renamed(now[path], listing[path][2], before, present)
                if was is not None:
                    self.watched_before += 1
                    found = {"failed": "found unreadable", "too short": "found too short"}.get(was[2], "scored")
                    log.info("%s: the file an earlier watch into this output %s as %s (its watched.jsonl), renamed "
                             "since: not scored again", path, found, was[0])
                    continue
                if grown is not None:
                    log.warning("%s: scored to its end before at %d bytes, grown since: scored again from its start "
                                "(its events in the part scored then are marked `rescored`)", path, grown[0])
                yield Feed(path.name, (lambda p=path: self._open(_readable(p), decoders)), live=self.realtime,
                           realtime=self.realtime, key=(self.folder_key, path.name, *listing[path]), grown_from=grown)
                if stop.is_set():
                    return
            if self.once:
                waiting = sorted((p for p, st in now.items() if done.get(p) != st and p.name not in self.still_writing),
                                 key=lambda p: (now[p][1], p.name))
                if self.settle_s <= 0 or not waiting:
                    return
                if deadline is None:  # the wait begins once the files ready at the start are taken
                    deadline = seen_at + self.settle_s
                # a file changed after the wait's settle_s seconds (still being written) is left for the next
                # run; one that had stopped changing by then is waited for until it has been still that long
                left = [p for p in waiting if seen_at >= deadline and changed[p] > deadline]
                for p in left:
                    self.still_writing.append(p.name)
                    log.warning("%s: still being written (changed in the last %g s): left for the next --once",
                                p, self.settle_s)
                waiting = [p for p in waiting if p not in left]
                if not waiting:
                    return
                last, first = now, False
                # look again at the poll, at the wait's end, and when the first of them can be still long enough
                clock = time.monotonic()
                due = min(changed[p] for p in waiting) + self.settle_s
                stop.wait(max(0.05, min(self.poll_s, due - clock, *([deadline - clock] if clock < deadline else []))))
                continue
            # files deleted since (a recorder's retention: months of them were held for ever), forgotten
            # only while the folder still shows files taken before: a listing that failed, or a share
            # unmounted for a while, shows none, and forgetting then would score every file again
            if done.keys() & now.keys():
                for gone in done.keys() - now.keys():
                    del done[gone]
                    inodes.pop(gone, None)
            last, first = now, False
            stop.wait(self.poll_s)


def _grown_from(name: str, content: tuple[int, int], inode: int | None, taken: tuple | None,
                taken_inode: int | None, seen) -> tuple[int, int] | None:
    """(size, mtime_ns) a folder's file `name`, now of `content` (size, mtime_ns) and `inode`, was
    scored at when it was smaller: by this watch (`taken`, at `taken_inode`) or by an earlier one
    (`seen`, watched.jsonl: (name, size, mtime_ns, inode, outcome), its scored entries); None if it
    was not. The largest such version; one of another inode (where both are known) is another file."""
    found = []
    if taken is not None and taken[0] < content[0] and (taken_inode is None or inode is None or taken_inode == inode):
        found.append(tuple(taken))
    for entry in seen:
        if entry[0] != name or entry[1] >= content[0] or (len(entry) > 4 and entry[4] not in (None, "scored")):
            continue
        ino = entry[3] if len(entry) > 3 else None
        if ino is None or inode is None or ino == inode:
            found.append((entry[1], entry[2]))
    return max(found) if found else None


def _readable(path: Path) -> Path:
    """`path`, once the OS lets this process open it: PermissionError as such where it does not (a
    recorder's files 0600 under another user), which `watch` leaves off watched.jsonl for the next
    start to try again; the decoders reported it inside "no decoder could read the file", and the
    file was listed as unreadable for good, never scored once its permissions were put right."""
    os.close(os.open(path, os.O_RDONLY))
    return path


def _renamed(content: tuple[int, int], inode: int | None, taken, present: dict) -> tuple | None:
    """Which of `taken` ((name, inode, outcome) of files taken before with this `content`: size and
    mtime_ns) a file of that content and `inode` is under another name; None if none. The same inode
    says so (a rename, or a hard link; a copy gets an inode of its own, and mostly a time of its
    own, so it is scored). Where either inode is unknown (a file system that gives none, a record
    written before inodes were kept) the old name must no longer hold that content in the folder
    (`present`: name -> size and time now): a copy beside its original is scored. Devices are not
    compared: one folder's files share one, and a share or a disk mounted again gets a new number."""
    for entry in taken:
        name, ino = entry[0], entry[1]
        if ino is not None and inode is not None:
            if ino == inode:
                return entry
        elif present.get(name) != content:
            return entry
    return None


class FramesSource(Source):
    """Frames from Python (RGB uint8 arrays): a synthetic camera for tests and benchmarks. `times`: each
    frame's time (s) as the camera stamps it (as PyAV gives a stream's), else none."""

    def __init__(self, name: str, frames: Callable[[], Iterable[np.ndarray]] | Iterable[np.ndarray], fps: float,
                 live: bool = False, realtime: bool = False, times: Iterable[float] | None = None):
        self.name, self.fps, self.live, self.realtime = name, float(fps), bool(live or realtime), bool(realtime)
        self._frames, self.times = frames, times

    def feeds(self, stop):
        from extract.decode import FrameStream

        def opener():
            frames = self._frames() if callable(self._frames) else self._frames
            if self.times is None:
                return FrameStream("python", self.fps, -1, iter(frames))
            shown = [None]

            def stamped():
                for frame, t in zip(frames, self.times):
                    shown[0] = float(t)
                    yield frame

            return FrameStream("python", self.fps, -1, stamped(), stamp=lambda: shown[0])

        yield Feed(self.name, opener, live=self.live, realtime=self.realtime)


def make_source(text: str, *, realtime: bool = False, timeout: float = 10.0, poll_s: float = 2.0,
                settle_s: float = 10.0, once: bool = False, image_fps: float | None = None) -> Source:
    """A SOURCE argument of `videoad watch`: a URL or /dev/videoN, a folder, or a video file; or
    NAME=SOURCE, naming it (NAME holds no `/`, `\\` or `=`; a path that exists as written is a path).
    `image_fps`: the rate of a file's or a folder's raw H.264/HEVC streams that state none."""
    from extract.decode import is_stream

    m = re.fullmatch(r"([^=/\\]*)=(.+)", text, flags=re.DOTALL)  # an address has `/` before any `=`
    if m and not Path(text).exists() and (is_stream(m[2]) or Path(m[2]).exists()):
        if not m[1].strip():
            raise WatchError(f"{text}: an empty name before `=` (NAME=SOURCE names a source)")
        source = make_source(m[2], realtime=realtime, timeout=timeout, poll_s=poll_s, settle_s=settle_s, once=once,
                             image_fps=image_fps)
        source.name, source.named = m[1], True
        return source
    if text == "":  # Path("") is the current folder: it was watched for ever, waiting for videos
        raise WatchError("SOURCE: an empty path")
    if is_stream(text):
        return StreamSource(text, timeout)
    path = Path(text)
    if path.is_dir():
        folder = FolderSource(path, poll_s, once, realtime, settle_s, image_fps)
        why = folder.frames_only() if once else None  # `--once` ended "0 frames, 0 clips scored", status 0
        if why:
            raise WatchError(f"{why} (`--once` has no video file to take there)")
        return folder
    if path.is_file():
        return FileSource(path, realtime, image_fps=image_fps)
    if path.exists():  # a named pipe, a socket, a device other than a camera
        kind = "a named pipe" if stat.S_ISFIFO(path.stat().st_mode) else "neither a file nor a folder"
        raise WatchError(f"{text}: {kind}: watch reads video files, folders and stream addresses; send a pipe's "
                         "video to a local stream instead (ffmpeg -i PIPE -c copy -f mpegts udp://127.0.0.1:5000, "
                         "then watch udp://127.0.0.1:5000)")
    raise WatchError(f"{text}: no such file or folder, and not a stream address "
                     "(rtsp://, http(s)://, /dev/videoN, ...)")


def _iso(t: float | None) -> str | None:
    """A time as every watch record writes it: local, to the millisecond, with the zone."""
    if t is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(t)) + f".{int(t % 1 * 1000):03d}" + time.strftime(
        "%z", time.localtime(t))


def name_apart(sources: list[Source]) -> None:
    """Sources that share a name (folders `site1/inbox` and `site2/inbox`, files `d1/cam.mp4` and
    `d2/cam.mp4`), whose events, ids and pictures would mix, each renamed by the shortest end of its
    path that no other of them ends in (`site1/inbox`; names with `/` are made file names where
    used, as a stream's address is). The other sources keep their names, so that an output
    watched before goes on with the same names and ids; a name given (NAME=SOURCE) is kept.
    WatchError for one file or folder given twice, and for a name still shared (streams whose
    addresses differ only in a password, which names leave out), saying how to name them."""
    where: dict = {}
    for src in sources:
        same = _identity(src)
        if same is not None and same in where:
            path = _path_of(src)
            raise WatchError(f"{src.name} is given twice: give it once" if path is None else
                             f"{where[same]} and {path} are the same {_kind(src)}: give it once")
        where[same] = _path_of(src)
    names = [s.name for s in sources]
    shared = {n for n in names if names.count(n) > 1}
    renamed = {}
    for name in shared:
        group = [s for s in sources if s.name == name and not s.named and _path_of(s) is not None]
        kept = {s.name for s in sources if s not in group}
        parts = {id(s): Path(os.path.abspath(_path_of(s))).parts for s in group}
        for src in group:
            mine = parts[id(src)]
            for k in range(1, len(mine) + 1):
                tail = PurePath(*mine[-k:]).as_posix()
                if all(parts[id(o)][-k:] != mine[-k:] for o in group if o is not src) and tail not in kept:
                    renamed[id(src)] = tail
                    break
    for src in sources:
        if id(src) in renamed:  # the others untouched: a library caller's Source may name itself by a property
            src.name = renamed[id(src)]
    names = [s.name for s in sources]
    name = next((n for n in names if names.count(n) > 1), None)
    if name is not None:
        alike = [s for s in sources if s.name == name]
        example = " ".join(f"{_short(name)}-{i}={_path_of(s) or _address(s)}" for i, s in enumerate(alike, 1))
        raise WatchError(f"{len(alike)} sources have the same name ({name}): their events would mix; name each "
                         f"as NAME=SOURCE ({example}" + (", each address in full" if any(
                             isinstance(s, StreamSource) for s in alike) else "") + ")")


def _address(src: Source) -> str:
    """What a source reads, as a suggestion may show it: a stream's address without its password
    (a stream named `x=` showed `x-1=x`, its name where its address was asked for), else its name."""
    return display_url(src.url) if isinstance(src, StreamSource) else src.name


def _identity(src: Source):
    """What a source reads, however given: a file or folder (a link, another spelling) or an address."""
    path = _path_of(src)
    if path is None:
        return src.url if isinstance(src, StreamSource) else None
    try:
        st = os.stat(path)
        if st.st_ino:
            return st.st_dev, st.st_ino
    except OSError:
        pass
    return os.path.normcase(os.path.realpath(path))


def _path_of(src: Source) -> Path | None:
    return src.path if isinstance(src, FileSource) else src.folder if isinstance(src, FolderSource) else None


def _kind(src: Source) -> str:
    return "folder" if isinstance(src, FolderSource) else "file"


def _short(name: str) -> str:
    """A short NAME to suggest for `name`: the last part of its path (an address's, without its query)."""
    last = re.split(r"[?#]", name)[0].rstrip("/").rsplit("/", 1)[-1]
    return re.sub(r"[^\w.-]+", "_", last).strip("_.") or "cam"


#: query parameters whose values are credentials (an IP camera's `videostream.cgi?user=admin&pwd=...`,
#: an SRT stream's `srt://host:9000?passphrase=...`), also as the last word of a longer name
#: (`access_token`, `api-key`, `X-Amz-Signature`, `apikey`, `Authorization`, `credentials`)
SECRET_PARAMS = ("pwd", "pass", "passwd", "password", "passphrase", "token", "key", "secret", "auth", "signature",
                 "sig")
_SECRET_NAME = re.compile(r"(?:^|[\W_])(?:%s)$|(?:token|apikey|passwd|password|secret|authorization|credentials?)$"
                          % "|".join(SECRET_PARAMS))


def display_url(url: str) -> str:
    """A stream's name for records and file names: its address without a password, in the
    user-info (`_userinfo_end`) or in the query or fragment (`pwd=`, `access_token=`, ..., the
    name percent-decoded). A value runs to the next parameter (`&`, `;` or `#` and a `name=`): a `#`,
    `;` or `&` typed in a password (`pwd=a#b`) is the password's, not a fragment's, to a camera's CGI."""
    from urllib.parse import unquote

    m = re.match(r"(.*?:///*)(.*)", url, flags=re.DOTALL)  # text before the scheme, `rtsp:///u:pw@cam`: all
    if not m:  # a stream still (`is_stream`), whose name showed the password
        return url
    scheme, after = m.groups()
    end = _userinfo_end(after)
    user = ""
    if end >= 0:
        info, after = after[:end], after[end + 1:]
        user = (info.split(":", 1)[0] + ":***" if ":" in info else info) + "@"

    def hide(m: re.Match) -> str:
        return m[1] + "***" if _SECRET_NAME.search(unquote(m[2]).lower()) else m[0]
    return scheme + user + re.sub(r"([?&;#]([^=&#;?]*)=)(?:[^&#;]|[&#;](?![^=&#;?]*=))*", hide, after)


def _userinfo_end(after: str) -> int:
    """Where the user-info of an address (after its `://`) ends: the index of its `@`, else -1.
    It runs to the last `@` before the path (a password may hold `@`, `?`, `#` or `:`); a password
    holding `/` (not written %2F, which FFmpeg cannot open) after `user:`, to the first `@` past it
    (then to the last before the host's path). A password of digits alone before its `/`
    (`user:1234/56@cam`) reads as a port: an address with a port and an `@` in its path
    (`cam:554/a@b/live`) cannot be told from it, and is masked as one (`cam:***@b/live`): its name
    showed the password whole. An IPv6 host (`[::1]:554/a@b`) is no user. A password holding `@` and
    then `/` (`user:a@b/c@cam/s`) runs likewise to the `@` past its `/`: the name showed `b/c`, the
    password's end (an `@` in the path of an address with a password, `user:pw@cam/p@th`, is masked
    as one, `user:***@th`: told from it by nothing)."""
    slash = after.find("/")
    head = after if slash < 0 else after[:slash]
    user, host = head.split("@", 1) if "@" in head else (head, head)  # a password's `:`; no IPv6 host
    if slash >= 0 and ":" in user and not host.rsplit("@", 1)[-1].startswith("[") and after.find("@", slash) > 0:
        slash = after.find("/", after.find("@", slash))
        head = after if slash < 0 else after[:slash]
    return head.rfind("@")


