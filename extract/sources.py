"""Finding the videos under an input path: video files and image-sequence folders, with keys.

A key is the video's path relative to the input root, in POSIX form ("Abuse/Abuse001_x264.mp4",
"testing/frames/01"), never the bare file stem, so two folders may both hold `001.mp4`. A
folder that holds image files and no video files is one video (the UCSD Ped2 layout); its frames
are ordered by the numbers in their names (`2.jpg` before `10.jpg`). Pictures beside footage (a
`cover.jpg` beside the videos, or above folders of them) are no video: left out, with a note.
"""
from __future__ import annotations

import errno
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

#: raw H.264/HEVC elementary streams as recorders export them: no container, so no timestamps; their
#: rate is the stream's VUI timing, else --image-fps, else assumed (extract.decode.raw_rate)
RAW_STREAM_EXTENSIONS = frozenset({".264", ".h264", ".265", ".h265", ".hevc"})
VIDEO_EXTENSIONS = frozenset({
    ".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".flv",
    ".ts", ".mts", ".m2ts", ".3gp", ".ogv", ".asf",
}) | RAW_STREAM_EXTENSIONS
# .webp: what browsers and some NVR exports save stills as (a folder of them was "no videos found")
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp"})


@dataclass(frozen=True)
class Source:
    """One video to extract: a file, or a folder of frames."""

    key: str
    path: Path
    kind: str  # "video" | "images"

    def fingerprint(self) -> dict[str, int]:
        """Size, newest mtime and file count: what resume compares to decide a file is stale."""
        if self.kind == "video":
            st = self.path.stat()
            return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "files": 1}
        stats = [p.stat() for p in image_files(self.path)]
        return {"size": sum(s.st_size for s in stats),
                "mtime_ns": max((s.st_mtime_ns for s in stats), default=0),
                "files": len(stats)}


@dataclass
class Listing:
    sources: list[Source] = field(default_factory=list)
    #: key of a folder that could not be listed -> why
    errors: dict[str, str] = field(default_factory=dict)
    #: what the walk left out that a reader should know of (ground-truth masks beside their frames)
    notes: list[str] = field(default_factory=list)
    #: hidden videos and folders the walk passed (`hidden_name`), for a note where others were found
    hidden: list[str] = field(default_factory=list)


#: what `one_line` writes as text: C0 controls but tab, DEL, C1, and the bidi overrides and isolates
_UNSHOWN = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_NAMED_CONTROLS = {"\n": "\\n", "\r": "\\r"}


def _unshown(m: re.Match) -> str:
    c = m.group()
    return _NAMED_CONTROLS.get(c) or (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")


def one_line(text: str) -> str:
    """`text` (a name, or a message naming one) on one console line, as the name's bytes: a line feed
    or carriage return written `\\n`, `\\r`, another control `\\x1b` (as the console's stream writes
    it), a bidi override `\\u202e`. Linux allows them in a file name: `bad\\nFAKE 3 done.avi` printed a
    line of its own that read as the command's; Click strips an ESC sequence from a line it writes
    to a pipe or file, and `bad\\x1b[2Jx.avi` was named `badx.avi`, a file that is not there; and
    `\\u202e` showed the rest of the line reversed where a terminal orders bidi text."""
    return _UNSHOWN.sub(_unshown, text)


#: a byte of a name that is not UTF-8 as Python's repr quotes it (`'caf\\udce9.avi'`), not after a
#: backslash of its own
_REPR_BYTE = re.compile(r"(?<!\\)\\udc([89a-fA-F][0-9a-fA-F])")


def names_shown(text: str) -> str:
    """An error's text (a failed video's reason) with a file name that is not UTF-8 written as the
    console, the watch files and `videoad.names.shown` write it, `caf\\xe9.avi` (the byte on disk):
    the decoders and OSError quote a path as Python's repr does (`'caf\\udce9.avi'`, the manifest's
    and the watch records' reasons held that), and an f-string of a path holds the surrogate itself."""
    return bytes_shown(_REPR_BYTE.sub(r"\\x\1", text))


def bytes_shown(text: str) -> str:
    """`text` as UTF-8 can hold it: the surrogates a name that is not UTF-8 was read as (`os.fsdecode`)
    written as `\\xe9`, the bytes on disk (`videoad.names.shown` is this)."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        try:
            return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:  # a surrogate no byte gave (a hand-written "\ud800" in run.json)
            return text.encode("utf-8", "backslashreplace").decode("utf-8")


def natural_key(name: str) -> tuple:
    """Sort key that orders embedded numbers numerically: frame2 < frame10. Names it reads alike
    (`02.jpg` and `2.jpg`, `Frame1` and `frame1`) follow by the name itself, not by the order the
    file system lists them in, which differs from one disk to the next."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)], name


def _is_file(entry: os.DirEntry) -> bool:
    """`entry.is_file()`, False for a link that cannot be followed: a link that loops (`x.mp4 ->
    x.mp4`, or two links to each other) raises ELOOP there, which failed the listing of its whole
    folder, the input folder's with it (`_walk` names the link)."""
    try:
        return entry.is_file()
    except OSError:
        return False


def image_files(folder: Path) -> list[Path]:
    """The frames of an image-sequence folder, in frame order."""
    names = [e.name for e in os.scandir(folder)
             if _is_file(e) and not e.name.startswith(".")
             and os.path.splitext(e.name)[1].lower() in IMAGE_EXTENSIONS]
    return [folder / n for n in sorted(names, key=natural_key)]


_NUMBERED = re.compile(r"^(.*?)(\d+)$")

#: a numbering that leaves more than this many positions empty per frame present is no frame counter
#: (capture times in milliseconds, a date and time): its holes are not missing frames
CLOCK_RATIO = 10


def _numbering(frames: list[Path]):
    """(prefix, digits of the first name, sorted numbers, step, positions) of a numbered frame
    sequence, or None when the names are not one prefix plus a number."""
    parts = [_NUMBERED.match(path.stem) for path in frames]
    if len(frames) < 3 or not all(parts) or len({m.group(1) for m in parts}) != 1:
        return None
    numbers = sorted(int(m.group(2)) for m in parts)
    if len(set(numbers)) != len(numbers):
        return None
    step = math.gcd(*(b - a for a, b in zip(numbers, numbers[1:])))
    return parts[0].group(1), parts[0].group(2), numbers, step, (numbers[-1] - numbers[0]) // step + 1


def check_numbering(frames: list[Path]) -> tuple[list[str], str | None]:
    """(names missing from a numbered frame sequence, a note when the numbers are capture times).

    A frame's position is its index in the folder, so one missing file would shift every later
    frame against ground truth: `019.jpg`, `021.jpg` miss `020.jpg`. Checked when every name is
    one prefix plus a number; the step is the greatest common divisor of the numbers' differences
    (every 5th frame kept: step 5). Names that leave more than `CLOCK_RATIO` positions empty per
    frame are capture times, not a counter: no gap can be told (listing their holes could take
    millions), and the note says so for the extraction's notes.
    """
    found = _numbering(frames)
    if found is None:
        return [], None
    prefix, digits, numbers, step, positions = found
    if positions - len(numbers) > CLOCK_RATIO * len(numbers):
        return [], (f"the frame names number {numbers[0]}-{numbers[-1]} for {len(numbers)} frames: read as "
                    "capture times, not a frame counter, so missing frames cannot be told; frames are taken in "
                    "name order, one per 1/--image-fps")
    present = set(numbers)
    missing = [n for n in range(numbers[0], numbers[-1] + 1, step) if n not in present]
    width = len(digits) if digits.startswith("0") else 0
    return [f"{prefix}{n:0{width}d}{frames[0].suffix}" for n in missing], None


def shared_numbers(frames: list[Path]) -> list[list[str]]:
    """The names that take one position of a frame folder's numbering (`001.jpg` and `001.png`,
    `1.jpg` and `01.jpg`), each such group in frame order: two sequences in one folder, which name
    order interleaves frame by frame (the numbering check gave up on repeated numbers, and the
    folder read as one video of twice the frames, each at the wrong position)."""
    by_position: dict[tuple[str, int], list[str]] = {}
    for path in frames:
        match = _NUMBERED.match(path.stem)
        if match:
            by_position.setdefault((match.group(1).lower(), int(match.group(2))), []).append(path.name)
    return [names for names in by_position.values() if len(names) > 1]


def numbering_gaps(frames: list[Path]) -> list[str]:
    """Names missing from a numbered frame sequence (`check_numbering`)."""
    return check_numbering(frames)[0]


def numbering_note(frames: list[Path]) -> str | None:
    """The note on frames named by capture times, else None (`check_numbering`)."""
    return check_numbering(frames)[1]


def absolute_path(path: str | os.PathLike) -> Path:
    """`path` made absolute without `..`: each dropped with the folder before it where that names the
    folder the file system reaches (else, a link before the `..`, the part up to it resolved), the
    rest kept as given (a link's own name stays a video's key). `Path.absolute` keeps `..`:
    `run . ../yesterday` keyed yesterday's videos `../yesterday/a.mp4`, which no feature file can
    take, and a frame folder given as `..` was keyed `..`."""
    path = Path(path).absolute()
    parts = path.parts
    if ".." not in parts:
        return path
    last = len(parts) - parts[::-1].index("..")
    head = Path(*parts[:last])
    plain = os.path.normpath(head)
    if os.path.realpath(plain) != os.path.realpath(head):
        plain = os.path.realpath(head)
    return Path(plain).joinpath(*parts[last:])


def is_picture(path: str | os.PathLike) -> bool:
    """Whether `path` is named as a picture (IMAGE_EXTENSIONS): one frame, never a video of its own."""
    return os.path.splitext(os.fspath(path))[1].lower() in IMAGE_EXTENSIONS


#: why a picture file named as an input is not taken: read as a video it was one frame, which scores nothing
PICTURE_ALONE = ("a picture, not a video: the pictures of one video go in a folder of their own (a frame "
                 "folder), and that folder is the input")


#: files an operating system keeps beside the footage, never a video: Windows' thumbnail caches and
#: folder settings, macOS's folder settings (a folder's walk skips them by extension or dot; the
#: shell's `videos/*` names Thumbs.db and desktop.ini, `find -name '*.mp4'` names AppleDouble files)
SYSTEM_FILES = frozenset({"thumbs.db", "ehthumbs.db", "ehthumbs_vista.db", "desktop.ini", ".ds_store"})


def system_file(path: str | os.PathLike) -> str | None:
    """What `path` is when its name is a system file's (SYSTEM_FILES, or macOS's AppleDouble `._name`
    that a copy to a non-Mac drive writes beside every file), else None: named as an input it was
    decoded and failed ("no decoder could read the file"), and `videoad run videos/*` exited 1."""
    name = os.path.basename(os.fspath(path))
    if name.startswith("._") and len(name) > 2:
        return f"macOS metadata of {name[2:]} (an AppleDouble file), not a video"
    if name.lower() in SYSTEM_FILES:
        return "a file the operating system keeps beside the footage, not a video"
    return None


def find_sources(input_path: str | os.PathLike, recursive: bool = False,
                 exclude: os.PathLike | None = None) -> Listing:
    """List the videos under `input_path` (a video file, a frame folder, or a folder of them).

    Without `recursive`, only the input folder's own video files and its direct frame-folder
    children are taken. `exclude` (e.g. the output folder inside the input) is never entered.
    Folders that cannot be listed, and links to videos that do not exist, become errors, so the
    run reports them instead of missing them. A picture file given is an error (PICTURE_ALONE);
    pictures beside footage are left out with a note (`stray_pictures`).
    """
    path = absolute_path(input_path)
    if path.is_file():
        if is_picture(path):  # read as a one-frame video, which scores nothing: named, not decoded
            return Listing(errors={path.name: PICTURE_ALONE})
        if system_file(path):
            return Listing(errors={path.name: system_file(path)})
        return Listing([Source(path.name, path, "video")])
    if path.is_symlink() and not path.exists():  # named itself (a glob, the shell's `*.mp4`): it fails
        # alone, as in a folder's walk; "input not found" stopped every other input with it
        return Listing(errors={path.name: f"broken symbolic link: {_why_broken(os.fspath(path))}"})
    if not path.is_dir():
        raise FileNotFoundError(f"input not found: {path}")
    excluded = absolute_path(exclude) if exclude is not None else None
    listing = Listing()
    try:
        own_images = image_files(path)
    except OSError as exc:
        raise PermissionError(f"cannot list the input folder {path}: {exc}") from exc
    # its subfolders are walked all the same, as a subfolder's are: a stray picture beside folders
    # of videos (a cover.jpg) does not hide them, and is no video itself (`stray_pictures`)
    _walk_tree(path, recursive, excluded, listing)
    if own_images and not _video_files(path):
        if listing.sources or (not recursive and _footage_below(path, excluded)):  # not a video of their own
            listing.notes.append(stray_pictures("the input folder", own_images, "above the footage in its "
                                                                                 "subfolders"))
        else:
            listing.sources.append(Source(path.name, path, "images"))  # the input is a frame folder
    if listing.hidden and listing.sources:  # with none found, the error names them (nothing_found_hint)
        listing.notes.append(hidden_note(listing.hidden))
    listing.sources.sort(key=lambda s: s.key)
    return listing


def hidden_name(name: str, is_dir: bool) -> bool:
    """Whether a name the walk never reads (it starts with a dot) is one a user may miss: a folder,
    or a video file that is no system file (`system_file`: macOS's `._` files are no loss)."""
    return name.startswith(".") and (is_dir or (os.path.splitext(name)[1].lower() in VIDEO_EXTENSIONS
                                                and not system_file(name)))


def hidden_note(names: list[str]) -> str:
    """The words for hidden names left out (`hidden_name`; a folder's with a trailing `/`)."""
    shown = ", ".join(sorted(names)[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return f"{len(names)} hidden name(s) left out ({shown}): names starting with a dot are never read"


def _footage_below(folder: Path, excluded: Path | None) -> bool:
    """Whether a video or frame folder lies in `folder`'s subfolders, at any depth: pictures above
    footage are not a video, even where a walk without `recursive` does not take that footage (a
    cover.jpg above folders of videos was a one-frame video, and hid the hint to --recursive)."""
    below = Listing()
    _walk_tree(folder, True, excluded, below)
    return bool(below.sources)


def _walk_tree(root: Path, recursive: bool, excluded: Path | None, listing: Listing) -> None:
    """Walk `root` into `listing`, the folders reached through symbolic links after every real one:
    a folder is read once, and under its own path where the tree holds it (`alink -> cam1` beside
    `cam1/` keyed cam1's videos `alink/...`, by name order, and a removed link re-keyed them)."""
    visited: set[tuple[int, int]] = set()
    links: list[Path] = []
    _walk(root, root, recursive, excluded, listing, visited, links)
    while links:
        _subfolder(root, links.pop(0), recursive, excluded, listing, visited, links)


def stray_pictures(where: str, pictures: list, beside: str) -> str:
    """The note for pictures left out of the listing: beside videos they are a cover, a thumbnail or
    a screenshot, and read as a video each was one frame (or all together a frame folder of a few),
    which scores nothing."""
    names = [Path(p).name for p in pictures]
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return (f"left out {len(names)} picture(s) in {where} ({shown}): {beside}, not footage; a folder that holds "
            "pictures alone is one video (a frame folder)")


def system_files_note(paths: list) -> str:
    """The note for system files (`system_file`) named beside other inputs, left out."""
    names = sorted(Path(p).name for p in paths)
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return (f"left out {len(names)} system file(s) named beside other inputs ({shown}): files the operating system "
            "keeps beside the footage (Thumbs.db, desktop.ini, macOS's ._ files), not videos")


#: `.dav` is Dahua's own container. FFmpeg has a reader for it (`dhav`, in PyAV's build), but no real
#: recorder's file was tried here, and Dahua's players write variants: not taken from a folder, said how
DAV_HINT = (".dav is a Dahua recorder's own format, untested here: name one as INPUT to try FFmpeg's reader of "
            "it, or convert them first (ffmpeg -i IN.dav -c copy OUT.mp4, or export as MP4/AVI from Dahua's "
            "player) and extract the converted files")


def nothing_found_hint(folder: str | os.PathLike, recursive: bool) -> str:
    """What a folder where the walk found no video holds instead, for the error: files whose extension
    is no video's (a recorder's `.dav`: a folder of them read "no videos found ... (videos in
    subfolders need --recursive)", with no subfolder there; DAV_HINT says what to do), hidden folders and videos
    (names starting with a dot, never entered), and subfolders when the walk did not enter them."""
    other: dict[str, int] = {}
    hidden: list[str] = []
    subfolders = 0
    for path, dirs, files in os.walk(folder, onerror=lambda exc: None):
        for name in files:
            extension = os.path.splitext(name)[1].lower()
            if name.startswith("."):
                hidden += [name] if hidden_name(name, False) else []
            elif not is_picture(name) and not system_file(name):
                other[extension or "no extension"] = other.get(extension or "no extension", 0) + 1
        hidden += [name + "/" for name in dirs if hidden_name(name, True)]
        dirs[:] = [name for name in dirs if not name.startswith(".") and name not in SYSTEM_FOLDERS
                   and not is_videoad_output(os.path.join(path, name))]
        if not recursive:
            subfolders = len(dirs)
            break
    parts = []
    if other.get(".dav"):
        parts.append(DAV_HINT)
    if other:
        counts = sorted(other.items(), key=lambda item: (-item[1], item[0]))
        parts.append(f"{sum(other.values())} file(s) whose extension is not a video's ("
                     + ", ".join(f"{ext} x{n}" for ext, n in counts[:5]) + (", ..." if len(counts) > 5 else "")
                     + "): a file named as INPUT is read whatever its extension")
    if hidden:
        parts.append(hidden_note(hidden))
    if subfolders:
        parts.append("videos in subfolders need --recursive")
    return "; ".join(parts)


def _video_files(folder: Path) -> list[str]:
    return [e.name for e in os.scandir(folder)
            if _is_file(e) and os.path.splitext(e.name)[1].lower() in VIDEO_EXTENSIONS]


#: folders a file system, a NAS or an archiver keeps beside the footage, never entered (as hidden
#: ones are not): Synology's thumbnails (`@eaDir/<video>/SYNOPHOTO_THUMB_*.jpg`) and recycle bin,
#: macOS's zip metadata, Windows' recycle bin and volume information. The thumbnails were read as
#: one-frame videos, and a recycle bin's deleted footage as the camera's
SYSTEM_FOLDERS = frozenset({"@eaDir", "#recycle", "#snapshot", "__MACOSX", "$RECYCLE.BIN", "System Volume Information"})


#: the UCSD Anomaly Dataset keeps each test clip's pixel masks beside it as `Test001_gt/`: scored as
#: footage, every mask folder was one more "video" of white blobs in the fit
GT_SUFFIX = "_gt"


def _masks_of_sibling(folder: Path) -> bool:
    """Whether a frame folder is the ground-truth masks of the frame folder beside it (`Test001_gt`
    beside `Test001`)."""
    name = folder.name
    return name.lower().endswith(GT_SUFFIX) and len(name) > len(GT_SUFFIX) and \
        (folder.parent / name[:-len(GT_SUFFIX)]).is_dir()


def _walk(root: Path, folder: Path, recursive: bool, excluded: Path | None,
          listing: Listing, visited: set[tuple[int, int]], links: list[Path]) -> None:
    """`folder`'s videos and frame folders into `listing` (its subfolders' too where `recursive`);
    subfolders reached through a link go to `links`, walked after the real ones (`_walk_tree`)."""
    try:
        info = folder.stat()
        if (info.st_dev, info.st_ino) in visited:  # a symlink back up the tree
            return
        visited.add((info.st_dev, info.st_ino))
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        listing.errors[_key(root, folder)] = f"cannot list folder: {exc.strerror or exc}"
        return
    pictures, has_videos = [], False  # this folder's own: pictures beside videos are left out, said
    for entry in entries:
        if entry.name.startswith(".") or (entry.name in SYSTEM_FOLDERS and entry.is_dir()):
            if hidden_name(entry.name, entry.is_dir()):  # said once the walk is done (`find_sources`)
                listing.hidden.append(_key(root, Path(entry.path)) + ("/" if entry.is_dir() else ""))
            continue
        entry_path = Path(entry.path)
        if entry.is_symlink() and not os.path.exists(entry.path):
            if _may_be_video(entry.name):
                listing.errors[_key(root, entry_path)] = f"broken symbolic link: {_why_broken(entry.path)}"
            continue
        if _is_file(entry):
            if os.path.splitext(entry.name)[1].lower() in VIDEO_EXTENSIONS:
                listing.sources.append(Source(_key(root, entry_path), entry_path, "video"))
                has_videos = True
            elif is_picture(entry.name):
                pictures.append(entry.name)
            continue
        if not entry.is_dir():
            continue
        if entry.is_symlink():
            links.append(entry_path)
        else:
            _subfolder(root, entry_path, recursive, excluded, listing, visited, links)
    if pictures and has_videos:
        listing.notes.append(stray_pictures(_key(root, folder) if folder != root else "the input folder",
                                             sorted(pictures, key=natural_key), "beside its videos"))


def _subfolder(root: Path, entry_path: Path, recursive: bool, excluded: Path | None,
               listing: Listing, visited: set[tuple[int, int]], links: list[Path]) -> None:
    """One subfolder met by `_walk`: a frame folder, ground-truth masks, or a folder walked in turn."""
    if (excluded is not None and entry_path == excluded) or is_videoad_output(entry_path):
        return
    try:
        is_frames = bool(image_files(entry_path)) and not _video_files(entry_path)
    except OSError as exc:
        listing.errors[_key(root, entry_path)] = f"cannot list folder: {exc.strerror or exc}"
        return
    if is_frames and _masks_of_sibling(entry_path):
        listing.notes.append(f"left out {_key(root, entry_path)}: the ground-truth masks of "
                             f"{entry_path.name[:-len(GT_SUFFIX)]} beside it (the UCSD layout), not footage")
        return
    before = len(listing.sources)
    if recursive:
        _walk(root, entry_path, recursive, excluded, listing, visited, links)
    if is_frames and (len(listing.sources) > before or (not recursive and _footage_below(entry_path, excluded))):
        listing.notes.append(stray_pictures(_key(root, entry_path), image_files(entry_path),
                                             "above the footage in its subfolders"))
    elif is_frames:
        listing.sources.append(Source(_key(root, entry_path), entry_path, "images"))


#: the file that marks a folder as videoad's own output, never read as footage: a run's report holds
#: event clips and timeline pictures, which a second `videoad run .` scored as videos and as a
#: frame folder (`videoad run`, `report`, `plot` and `watch` mark theirs: `mark_output`)
OUTPUT_MARK = ".videoad-output"


def mark_output(folder: str | os.PathLike) -> None:
    """Mark `folder` (made if missing) as videoad's output: the walk for videos never enters it."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        mark = folder / OUTPUT_MARK
        if not mark.exists():
            mark.write_text("written by videoad: a folder of its outputs, never read as footage\n")
    except OSError:  # an unwritable output fails where it is written, with its own message
        pass


def is_videoad_output(folder: str | os.PathLike) -> bool:
    """Whether `folder` holds `OUTPUT_MARK`, or is a report or a `watch` output written before the
    mark was (`_unmarked_output`): the walk for videos never enters it."""
    return os.path.isfile(os.path.join(folder, OUTPUT_MARK)) or _unmarked_output(folder)


def _unmarked_output(folder: str | os.PathLike) -> bool:
    """Whether `folder` is a report or a `watch` output of a videoad from before `OUTPUT_MARK`
    (those carry no mark): a report's page beside its report.css and report.js (or, the first
    reports, its timelines/); a watch's events.jsonl opening with the watch's own record. Read as
    footage, an upgraded `extract`/`run` over the folder holding them scored the report's event clips
    (events/E001.mp4) as videos and its timelines/ (or watch's events/ pictures) as frame folders."""
    join = os.path.join
    if os.path.isfile(join(folder, "index.html")) and (
            (os.path.isfile(join(folder, "report.css")) and os.path.isfile(join(folder, "report.js")))
            or os.path.isdir(join(folder, "timelines"))):
        return True
    try:
        with open(join(folder, "events.jsonl"), "rb") as fh:
            first = fh.readline(65536)
    except OSError:
        return False
    try:
        record = json.loads(first)
    except ValueError:
        return False
    return isinstance(record, dict) and record.get("type") == "watch"


def _why_broken(link: str) -> str:
    """Why a symbolic link leads to nothing, for the listing's errors."""
    target = os.readlink(link)
    try:
        os.stat(link)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return (f"it loops (its target {target} leads back to a link on the way; a link made in the "
                    "wrong folder?): point the link at the video, or remove it")
    return f"its target {target} does not exist (point the link at the video, or remove it)"


def _may_be_video(name: str) -> bool:
    """A broken link worth reporting: a video name, or no extension (a frame folder's name)."""
    extension = os.path.splitext(name)[1].lower()
    return extension in VIDEO_EXTENSIONS or not extension


def _key(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def select_shard(sources: list[Source], index: int, count: int) -> list[Source]:
    """Shard `index` of `count` (0-based): every count-th video of the key-sorted list.

    Round-robin rather than contiguous ranges, so that each shard gets a mix of the folders
    (categories) and shards finish at about the same time.
    """
    if count < 1 or not 0 <= index < count:
        raise ValueError(f"shard must be i/N with 0 <= i < N, got {index}/{count}")
    ordered = sorted(sources, key=lambda s: s.key)
    return ordered[index::count]
