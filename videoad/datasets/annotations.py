"""Ground-truth readers: UCF-Crime temporal annotations, UCSD Ped2, and a plain CSV.

Every reader returns an `Annotations` mapping of video name -> `VideoAnnotation`. Intervals are
kept exactly as the files write them (1-based, inclusive frame numbers) and are clipped to the
video's length only when a frame-label vector is built, because the frame count is often not
in the annotation file (it comes from the feature store) and five official UCF-Crime intervals
run 1-2 frames past the end of their videos (Arson011, Arson016, Explosion033, Fighting003,
Shooting015). An interval that *starts* past the end is an error: that is the wrong video or
the wrong file, not a rounding difference; one that ends more than `END_SLACK` frames (or 5% of
the video) past it is clipped with a warning naming it (labels made at another frame rate?).

Formats (`read_annotations` picks one from the file name and first line):
- ``ucf``: ``<video>.mp4 <Class> <s1> <e1> <s2> <e2>`` (`Temporal_Anomaly_Annotation*.txt`)
- ``ucf_counts``: ``<Class-dir>/<video>.mp4 <n_frames> <Class> <s1> <e1> ...`` (`Test_Annotation.txt`),
  or just ``<path> <n_frames>`` (`Train_Annotation.txt`: frame counts, no intervals)
- ``ped2``: `ped2_test_gt.csv` (video,num_frames,anomaly_start_frame,anomaly_end_frame) or `ped2.mat`
- ``csv``: your own labels, header ``video,start,end`` plus optional ``category`` and
  ``n_frames`` columns; one row per interval, a row with empty or -1 start/end lists a normal video.
- ``list``: a split list, one ``<Class-dir>/<video>.mp4`` per line (`Anomaly_Train.txt`): the
  category is the folder, there are no intervals.
- ``frames``: per-frame labels or masks, a folder of one file per video or one file (ShanghaiTech
  ``test_frame_mask/``, CUHK Avenue ``testing_label_mask/``); ``ucsd``: the official
  ``UCSDped1.m`` / ``UCSDped2.m``. Both in `videoad.datasets.frame_labels`.

`Annotations.find` is the one matcher from a feature-store key to an annotation: evaluation,
per-category grouping (`category_of`) and the report all use it, so a video cannot be in one
category for detection and another for evaluation.
"""
from __future__ import annotations

import csv
import io
import itertools
import logging
import math
import os
import re
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable, Iterator, Mapping

import numpy as np

from extract.text_files import read_text
from videoad.datasets.errors import AnnotationError
from videoad.datasets.frame_labels import label_files, runs_of, ucsd_m_entries

log = logging.getLogger(__name__)
#: frames an interval may end past its video's end without a warning (UCF-Crime's run 1-2 past)
END_SLACK = 16

FORMATS = ("ucf", "ucf_counts", "ped2", "csv", "list", "frames", "ucsd")
_VIDEO_EXT = re.compile(r"\.(mp4|avi|mkv|mov|mpg|mpeg|webm|m4v|wmv|flv|h5|hdf5)$", re.IGNORECASE)




def video_id(name: str) -> str:
    """Canonical id of a video: posix path with a known video extension removed, its characters
    composed (Unicode NFC): macOS writes `é` in file names as `e` and an accent, an annotation file
    typed elsewhere as one character, and the two never matched ("no ground truth")."""
    p = unicodedata.normalize("NFC", str(name)).replace("\\", "/").strip().strip("/")
    return _VIDEO_EXT.sub("", p)


def _number(name: str) -> int | None:
    """A name made of decimal digits as its number (`①` is a digit to Python, not to `int`)."""
    return int(name) if name.isdecimal() else None


def video_stem(name: str) -> str:
    """Last path component of `video_id` (the UCF-Crime temporal file only has bare names)."""
    return PurePosixPath(video_id(name)).name


@dataclass(frozen=True)
class VideoAnnotation:
    """One video's ground truth. `intervals` are 1-based inclusive, as written in the file."""

    video: str
    category: str = ""
    intervals: tuple[tuple[int, int], ...] = ()
    n_frames: int | None = None
    source: str = ""
    #: intervals written as times (seconds from the video's start), which the video's frame rate
    #: turns into frames (`Annotations.resolve_times`) before any frame label is built
    times: tuple[tuple[float, float], ...] = ()
    #: the file `n_frames` was read from, where that is not `source` (`--frame-counts`)
    count_source: str = ""

    @property
    def is_anomalous(self) -> bool:
        return len(self.intervals) > 0 or len(self.times) > 0

    def clipped_intervals(self, n_frames: int) -> list[tuple[int, int]]:
        """Intervals clipped to [1, n_frames]; an interval starting past the end is an error."""
        if self.times:
            raise AnnotationError(f"{self.source}: video {self.video!r}: intervals given as times need the "
                                  "video's frame rate (read the labels with the scores: Annotations.resolve_times)")
        out = []
        for s, e in self.intervals:
            if s > n_frames:
                raise AnnotationError(
                    f"{self.source}: video {self.video!r}: interval {s}-{e} starts after the "
                    f"video's last frame ({n_frames} frames); wrong video or wrong annotation file?"
                )
            if e - n_frames > max(END_SLACK, 0.05 * n_frames):
                log.warning("%s: video %r: interval %d-%d ends %d frames after the video's last frame (%d frames); "
                            "clipped to it (labels made at another frame rate, or of another video?)",
                            self.source, self.video, s, e, e - n_frames, n_frames)
            out.append((s, min(e, n_frames)))
        return out

    def frame_labels(self, n_frames: int | None = None) -> np.ndarray:
        """0/1 label per frame (index 0 = frame 1 of the file). `n_frames` defaults to the file's
        own count; when both exist they must agree."""
        n = self.check_length(n_frames)
        labels = np.zeros(n, dtype=np.int8)
        for s, e in self.clipped_intervals(n):
            labels[s - 1 : e] = 1
        return labels

    def check_length(self, n_frames: int | None) -> int:
        """The frame count to use; raises when the caller's count disagrees with the file's."""
        if n_frames is None:
            if self.n_frames is None:
                raise AnnotationError(
                    f"{self.source}: video {self.video!r}: the annotation has no frame count and none was given"
                )
            return int(self.n_frames)
        n_frames = int(n_frames)
        if self.n_frames is not None and self.n_frames != n_frames:
            raise AnnotationError(
                f"length mismatch for video {self.video!r}: the scores cover {n_frames} frames but "
                f"{self.count_source or self.source} says the video has {self.n_frames}"
            )
        if n_frames < 1:
            raise AnnotationError(f"video {self.video!r}: frame count must be positive, got {n_frames}")
        return n_frames


@dataclass
class Annotations(Mapping[str, VideoAnnotation]):
    """Video id -> annotation, with lookup by store key (full relative path or bare stem)."""

    videos: dict[str, VideoAnnotation] = field(default_factory=dict)
    source: str = ""

    def __post_init__(self) -> None:
        # every reader's names composed as `video_id` composes the keys looked up (a label file's
        # own name on macOS comes decomposed); two names that differ only so are one video
        if all(unicodedata.is_normalized("NFC", name) for name in self.videos):
            return
        videos: dict[str, VideoAnnotation] = {}
        for name, a in self.videos.items():
            composed = unicodedata.normalize("NFC", name)
            if composed in videos:
                raise AnnotationError(f"{a.source or self.source}: video {composed!r} is listed twice (its name "
                                      "written once with composed and once with decomposed accents)")
            videos[composed] = replace(a, video=unicodedata.normalize("NFC", a.video))
        self.videos = videos

    def __getitem__(self, key: str) -> VideoAnnotation:
        return self.videos[key]

    @property
    def has_times(self) -> bool:
        """Whether some intervals were written as times (a CSV's `12.5s`, `01:23`, `1:02:03.5`)."""
        return any(a.times for a in self.videos.values())

    def resolve_times(self, fps_of: Mapping[str, "float | Callable"]) -> "Annotations":
        """The labels with every interval in frames: a time interval [s, e] seconds covers the frames
        shown in it, from floor(s * fps) + 1 to ceil(e * fps) (1-based, inclusive). `fps_of`: store
        key -> frame rate (a run's scores), or -> a function from seconds to (fractional, 0-based)
        frame positions for a video whose frames keep no one rate (`VideoScores.frame_at`: at its
        average rate, a label 20 s into a burst camera's video fell 4 s early), matched to the
        labels as evaluation matches them; a video labelled in times that the run did not score is
        left out."""
        rate = {}
        for key, fps in fps_of.items():
            a = self.find(key)
            if a is not None and a.times:
                rate[a.video] = fps if callable(fps) else float(fps or 0.0)
        videos = {}
        for name, a in self.videos.items():
            if not a.times:
                videos[name] = a
                continue
            fps = rate.get(name)
            if fps is None:  # not scored in this run: nothing reads its labels
                continue
            if callable(fps):
                at = fps
            elif not math.isfinite(fps) or fps <= 0:
                raise AnnotationError(f"{a.source}: video {name!r}: its intervals are times, and its frame rate is "
                                      "unknown (a frame folder extracted without --image-fps); write them as frame "
                                      "numbers")
            else:
                def at(seconds, fps=fps):
                    return np.asarray(seconds, dtype=np.float64) * fps
            starts, ends = (at(np.array([t[i] for t in a.times], dtype=np.float64)) for i in (0, 1))
            # a millionth of a frame's slack: 17.6 s at 10 fps is frame 176, not 177 (17.6 * 10 = 176.00000000000003)
            first = [int(math.floor(p + 1e-6)) + 1 for p in starts]
            frames = [(f, max(f, int(math.ceil(p - 1e-6)))) for f, p in zip(first, ends)]
            videos[name] = replace(a, intervals=tuple(sorted(a.intervals + tuple(frames))), times=())
        return Annotations(videos, self.source)

    def __iter__(self) -> Iterator[str]:
        return iter(self.videos)

    def __len__(self) -> int:
        return len(self.videos)

    def find(self, key: str) -> VideoAnnotation | None:
        """The annotation for a store key, matched by full id, then by a unique path suffix.

        Store keys are paths relative to the extraction root (``Arson/Arson011_x264.mp4``);
        annotation files may hold bare names (``Arson011_x264.mp4``), fewer folders
        (``testing/frames/01`` vs ``01``) or more (``Anomaly-Videos/Arson/Arson011_x264``): one id
        is the whole end of the other. Ids that share only their end match where the
        annotation's folder is its class (``Arrest/Arrest001_x264``, UCF-Crime's lists, for a key
        ``x/Arrest001_x264``), not where it is another place (``cam2/2024-05-01`` is another
        camera's file of the same name as ``cam1/2024-05-01``). Ambiguous matches are errors,
        never guesses.
        """
        vid = video_id(key)
        if vid in self.videos:
            return self.videos[vid]
        parts = PurePosixPath(vid).parts
        # every match below ends in the key's last name: look among those alone (a dataset's keys
        # against its annotations were a scan of all of them per key)
        same_name = self._named(parts[-1] if parts else "")
        for k in range(1, len(parts)):  # longest suffix first
            suffix = "/".join(parts[k:])
            hits = [a for name, a in same_name
                    if name == suffix or (name.endswith("/" + suffix) and name[: -len(suffix) - 1] == a.category)]
            if len(hits) == 1:
                return hits[0]
            if len(hits) > 1:
                names = ", ".join(sorted(h.video for h in hits)[:5])
                raise AnnotationError(f"{self.source}: video {key!r} matches several annotations ({names})")
        # the annotation may be the longer path (Test_Annotation.txt has Class-dir/name)
        hits = [a for name, a in same_name if name.endswith("/" + vid)]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise AnnotationError(f"{self.source}: video {key!r} matches several annotations")
        return self._same_number(key)

    def _index(self) -> tuple[dict[str, list], dict[int, list]]:
        """(last name -> [(id, annotation)], number -> the same for number-only names), built once
        per set of videos."""
        stamp = (id(self.videos), len(self.videos))
        if getattr(self, "_index_stamp", None) != stamp:
            by_name: dict[str, list] = {}
            by_number: dict[int, list] = {}
            for name, a in self.videos.items():
                last = PurePosixPath(name).name
                by_name.setdefault(last, []).append((name, a))
                if (number := _number(last)) is not None:
                    by_number.setdefault(number, []).append((name, a))
            self._index_cache, self._index_stamp = (by_name, by_number), stamp
        return self._index_cache

    def _named(self, last: str) -> list:
        return self._index()[0].get(last, [])

    def match(self, keys) -> dict[str, VideoAnnotation | None]:
        """`find` for each key, each annotation going to one key at most: a bare name that two
        scored videos end in (`day.mp4` for `cam1/day.mp4` and `cam2/day.mp4`) would give both its
        labels, and every figure computed from them would be wrong without a sign."""
        found = {k: self.find(k) for k in keys}
        takers: dict[str, list[str]] = {}
        for key, a in found.items():
            if a is not None:
                takers.setdefault(a.video, []).append(key)
        for name, ks in takers.items():
            if len(ks) > 1:
                raise AnnotationError(f"{self.source}: the annotation of {name!r} matches {len(ks)} scored videos "
                                      f"({', '.join(ks[:5])}); name each video with its folder in the annotation "
                                      "file")
        return found

    def _same_number(self, key: str) -> VideoAnnotation | None:
        """A number-only name matches a number-only annotation of the same value (``01`` and
        ``1``: CUHK Avenue's label files drop the zero its videos' names have); never two."""
        number = _number(video_stem(key))
        if number is None:
            return None
        hits = [a for _, a in self._index()[1].get(number, [])]
        if len(hits) > 1:
            names = ", ".join(sorted(h.video for h in hits)[:5])
            raise AnnotationError(f"{self.source}: video {key!r} matches several annotations ({names})")
        return hits[0] if hits else None

    def category_of(self, key: str) -> str | None:
        """The category of a store key (by `find`), or None when no annotation names one."""
        a = self.find(key)
        return a.category if a is not None and a.category else None

    def require(self, key: str) -> VideoAnnotation:
        a = self.find(key)
        if a is None:
            raise AnnotationError(f"{self.source}: no annotation for video {key!r}")
        return a

    def with_frame_counts(self, counts: Mapping[str, int], *, source: str = "frame counts") -> "Annotations":
        """Copy with frame counts filled in from `counts` (video name -> n_frames).

        A count that disagrees with one already in the annotation is an error naming the video.
        """
        lookup = Annotations({video_id(k): VideoAnnotation(video_id(k), n_frames=int(v), source=source)
                              for k, v in counts.items()}, source=source)
        out = {}
        for name, a in self.videos.items():
            other = lookup.find(name)
            if other is None:
                out[name] = a
                continue
            if a.n_frames is not None and a.n_frames != other.n_frames:
                raise AnnotationError(
                    f"length mismatch for video {a.video!r}: {a.source} says {a.n_frames} frames, "
                    f"{source} says {other.n_frames}"
                )
            out[name] = replace(a, n_frames=other.n_frames, count_source=source)
        return Annotations(out, self.source)


# ---------------------------------------------------------------------------------------------
# readers


def _int(tok: str, where: str, what: str) -> int:
    try:
        return int(tok)
    except ValueError:
        raise AnnotationError(f"{where}: {what} must be an integer, got {tok!r}") from None


def _pairs(values: list[int], where: str) -> tuple[tuple[int, int], ...]:
    """(start, end) pairs from a flat list, -1 -1 meaning 'no interval'."""
    if len(values) % 2:
        raise AnnotationError(f"{where}: expected start/end pairs, got an odd number of frame numbers {values}")
    out = []
    for s, e in zip(values[::2], values[1::2]):
        if s == -1 and e == -1:
            continue
        if s == -1 or e == -1:
            raise AnnotationError(f"{where}: interval {s} {e} has only one end (-1 means 'none' for both)")
        if s < 1:
            raise AnnotationError(f"{where}: frame numbers are 1-based, got start {s}")
        if e < s:
            raise AnnotationError(f"{where}: interval end {e} is before its start {s}")
        out.append((s, e))
    return tuple(out)


def _add(videos: dict, ann: VideoAnnotation, where: str) -> None:
    if ann.video in videos:
        raise AnnotationError(f"{where}: video {ann.video!r} is listed twice")
    videos[ann.video] = ann


def _lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    # lines end at \n, \r or \r\n alone, as a file read line by line (str.splitlines also broke
    # them at form feeds, U+2028 and the like, which a line may hold)
    for i, line in enumerate(io.StringIO(_text(path), newline=None), 1):
        toks = line.split()
        if toks and not toks[0].startswith("#"):
            yield i, toks


def _text(path: Path) -> str:
    try:
        return read_text(path, "an annotation file")
    except ValueError as exc:
        raise AnnotationError(str(exc)) from None


def read_ucf_crime(path, frame_counts=None) -> Annotations:
    """`Temporal_Anomaly_Annotation_for_Testing_Videos.txt` (``<video> <Class> s1 e1 s2 e2``).

    `frame_counts`: optional path to `Test_Annotation.txt`/`Train_Annotation.txt`, or a mapping of
    video name -> frame count (e.g. from the feature store), used to clip the intervals.
    """
    path = Path(path)
    videos: dict[str, VideoAnnotation] = {}
    for i, toks in _lines(path):
        where = f"{path}:{i}"
        if len(toks) < 4:
            raise AnnotationError(f"{where}: expected '<video> <Class> <start> <end> ...', got {' '.join(toks)!r}")
        if re.fullmatch(r"-?\d+", toks[1]):
            raise AnnotationError(
                f"{where}: second field is a number; this looks like Test_Annotation.txt (format 'ucf_counts')"
            )
        values = [_int(t, where, "frame number") for t in toks[2:]]
        _add(videos, VideoAnnotation(video_id(toks[0]), toks[1], _pairs(values, where), None, str(path)), where)
    _nonempty(videos, path)
    ann = Annotations(videos, str(path))
    return _apply_counts(ann, frame_counts)


def read_ucf_counts(path, frame_counts=None) -> Annotations:
    """`Test_Annotation.txt` (``<Dir>/<video> <n_frames> <Class> s1 e1 ...``) or
    `Train_Annotation.txt` (``<Dir>/<video> <n_frames>``: counts only, category from the folder)."""
    path = Path(path)
    videos: dict[str, VideoAnnotation] = {}
    for i, toks in _lines(path):
        where = f"{path}:{i}"
        if len(toks) < 2:
            raise AnnotationError(f"{where}: expected '<video> <n_frames> [<Class> <start> <end> ...]'")
        if len(toks) == 3:  # a class and no interval: a cut line was read as a normal video of that class
            hint = (" (a 'video start end' file? give it the header line video,start,end)"
                    if re.fullmatch(r"-?\d+", toks[2]) else " (-1 -1 for a video without one)")
            raise AnnotationError(f"{where}: expected '<video> <n_frames>' or '<video> <n_frames> <Class> <start> "
                                  f"<end> ...', got {' '.join(toks)!r}: a class without an interval{hint}")
        n = _int(toks[1], where, "frame count")
        if n < 1:
            raise AnnotationError(f"{where}: frame count must be positive, got {n}")
        vid = video_id(toks[0])
        parent = PurePosixPath(vid).parent.name
        category = toks[2] if len(toks) > 2 else parent
        values = [_int(t, where, "frame number") for t in toks[3:]]
        _add(videos, VideoAnnotation(vid, category, _pairs(values, where), n, str(path)), where)
    _nonempty(videos, path)
    return _apply_counts(Annotations(videos, str(path)), frame_counts)


def read_split_list(path) -> Annotations:
    """`Anomaly_Train.txt`: one ``<Class-dir>/<video>`` per line; category = the folder."""
    path = Path(path)
    videos: dict[str, VideoAnnotation] = {}
    for i, toks in _lines(path):
        where = f"{path}:{i}"
        if len(toks) != 1:
            raise AnnotationError(f"{where}: expected one '<Class-dir>/<video>' per line, got {' '.join(toks)!r}")
        vid = video_id(toks[0])
        _add(videos, VideoAnnotation(vid, PurePosixPath(vid).parent.name, (), None, str(path)), where)
    _nonempty(videos, path)
    return Annotations(videos, str(path))


def read_frame_counts(path) -> dict[str, int]:
    """Video id -> frame count from `Test_Annotation.txt` / `Train_Annotation.txt`."""
    return {k: int(a.n_frames) for k, a in read_ucf_counts(path).items()}


def read_ped2(path) -> Annotations:
    """UCSD Ped2 ground truth: `ped2_test_gt.csv` (with frame counts) or `ped2.mat` (without).

    Videos are named by their two-digit clip number (``01`` ... ``12``), which matches the
    frame folders ``testing/frames/01`` of the common JPEG packaging; category is ``ped2`` (a
    .mat's stem: the same ``gt`` layout, a 2 x M array of interval starts and ends per video,
    ships as ``avenue.mat`` and ``shanghai.mat``).
    """
    path = Path(path)
    if path.suffix.lower() == ".mat":
        return _read_ped2_mat(path)
    videos: dict[str, VideoAnnotation] = {}
    rows = _csv_rows(path, required=("video", "num_frames", "anomaly_start_frame", "anomaly_end_frame"))
    for i, row in rows:
        where = f"{path}:{i}"
        n = _int(row["num_frames"], where, "num_frames")
        s = _int(row["anomaly_start_frame"], where, "anomaly_start_frame")
        e = _int(row["anomaly_end_frame"], where, "anomaly_end_frame")
        name = video_id(row["video"])  # "Runner001.avi" as "Runner001", as the other readers name it
        _add(videos, VideoAnnotation(name, "ped2", _pairs([s, e], where), n, str(path)), where)
    _nonempty(videos, path)
    return Annotations(videos, str(path))


def _read_ped2_mat(path: Path) -> Annotations:
    from scipy.io import loadmat

    try:
        gt = loadmat(path)["gt"]
    except (KeyError, ValueError, OSError) as exc:
        raise AnnotationError(f"{path}: not a Ped2 ground-truth .mat with a 'gt' cell array ({exc})") from None
    cells = np.asarray(gt, dtype=object).ravel()
    category = path.stem  # "ped2"; the same layout ships as avenue.mat, shanghai.mat
    videos = {}
    for k, cell in enumerate(cells, 1):
        arr = np.asarray(cell, dtype=np.int64)
        # a 2 x M array, one column per interval (starts in row 1, ends in row 2)
        vals = arr.T.ravel().tolist() if arr.ndim == 2 and arr.shape[0] == 2 else arr.ravel().tolist()
        name = f"{k:02d}"
        videos[name] = VideoAnnotation(name, category, _pairs(vals, f"{path}: gt[{k}]"), None, str(path))
    _nonempty(videos, path)
    return Annotations(videos, str(path))


#: a time in a label CSV: seconds with an "s" (12.5s), or minutes:seconds, hours:minutes:seconds
#: as a player shows them (1:23, 01:02:03.5)
_TIME = re.compile(r"^(?:(?P<sec>\d+(?:\.\d+)?)s|(?:(?P<h>\d+):)?(?P<m>\d+):(?P<s>\d\d(?:\.\d+)?))$")


def _time(tok: str, where: str = "") -> float | None:
    """Seconds of a time token (`_TIME`), or None when it is not one (a frame number). A clock's
    field past its range (`1:75`, `1:75:00`) is an error: no player shows one, and it was read as
    the time it adds up to (1:75 as 2:15), a typo's interval taken as the labels."""
    m = _TIME.match(tok)
    if m is None:
        return None
    if m["sec"] is not None:
        return float(m["sec"])
    if float(m["s"]) >= 60 or (m["h"] is not None and int(m["m"]) >= 60):
        raise AnnotationError(f"{where}: {tok!r} is no time a player shows (minutes and seconds run to 59)")
    return int(m["h"] or 0) * 3600 + int(m["m"]) * 60 + float(m["s"])


def read_csv_labels(path) -> Annotations:
    """Your own labels: CSV with header ``video,start,end`` (+ optional ``category``, ``n_frames``).

    Frame numbers are 1-based and inclusive, like UCF-Crime; one row per interval; a row with
    empty or -1 start and end declares a video without anomalies. A row may give its interval as
    times instead, as a player shows them (`1:23`, `01:02:03.5`, or seconds `83s`): those become
    frames with the video's frame rate once the scores are known (`Annotations.resolve_times`).
    """
    path = Path(path)
    rows = _csv_rows(path, required=("video", "start", "end"))
    acc: dict[str, dict] = {}
    spelled: dict[str, str] = {}  # id -> the name as the file first gave it
    for i, row in rows:
        where = f"{path}:{i}"
        raw = (row["video"] or "").replace("\\", "/").strip().strip("/")
        name = video_id(raw)
        if not name:
            raise AnnotationError(f"{where}: empty video name")
        first = spelled.setdefault(name, raw)
        if (unicodedata.normalize("NFC", first).lower() != unicodedata.normalize("NFC", raw).lower()
                and name not in (first, raw)):  # clip.mp4 and clip.avi: one id, two videos
            raise AnnotationError(f"{where}: {raw!r} and {first!r} name one video to videoad (a video is known "
                                  "without its extension); rename one of the two videos")
        s_tok, e_tok = (row["start"] or "").strip(), (row["end"] or "").strip()
        entry = acc.setdefault(name, {"intervals": [], "times": [], "category": "", "n_frames": None})
        t0, t1 = _time(s_tok, where), _time(e_tok, where)
        if t0 is not None or t1 is not None:
            if t0 is None or t1 is None:
                raise AnnotationError(f"{where}: start {s_tok!r} and end {e_tok!r}: give both as times "
                                      "(1:23, 01:02:03.5, 83s) or both as frame numbers")
            if t1 < t0:
                raise AnnotationError(f"{where}: interval end {e_tok} is before its start {s_tok}")
            entry["times"].append((t0, t1))
        else:
            s = -1 if s_tok == "" else _int(s_tok, where, "start")
            e = -1 if e_tok == "" else _int(e_tok, where, "end")
            entry["intervals"].extend(_pairs([s, e], where))
        cat = (row.get("category") or "").strip()
        if cat:
            if entry["category"] and entry["category"] != cat:
                raise AnnotationError(f"{where}: video {name!r} has two categories ({entry['category']!r}, {cat!r})")
            entry["category"] = cat
        nf = (row.get("n_frames") or "").strip()
        if nf:
            n = _int(nf, where, "n_frames")
            if entry["n_frames"] is not None and entry["n_frames"] != n:
                raise AnnotationError(f"{where}: video {name!r} has two frame counts ({entry['n_frames']}, {n})")
            entry["n_frames"] = n
    videos = {
        name: VideoAnnotation(name, e["category"], tuple(sorted(e["intervals"])), e["n_frames"], str(path),
                              tuple(sorted(e["times"])))
        for name, e in acc.items()
    }
    _nonempty(videos, path)
    return Annotations(videos, str(path))


def _csv_rows(path: Path, required: Iterable[str]) -> list[tuple[int, dict]]:
    if not path.is_file():
        raise AnnotationError(f"{path}: no such file")
    with io.StringIO(_text(path), newline="") as fh:
        reader = csv.DictReader(fh)
        # column names read as lower case: a spreadsheet's `Video,Start,End` was "missing column(s)"
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        missing = [c for c in required if c not in header]
        if missing:
            hint = " (its fields are separated by ';': save it with commas)" if ";" in "".join(header) else ""
            raise AnnotationError(f"{path}: missing column(s) {missing}; header is {header}{hint}")
        named = [h for h in header if h]
        twice = sorted({h for h in named if named.count(h) > 1})
        if twice:  # csv keeps the last one's value: `video,start,end,start,end` lost every row's first interval
            raise AnnotationError(f"{path}: column(s) {twice} appear more than once in the header {header}; "
                                  "write one interval per row")
        reader.fieldnames = header
        rows = []
        # each row with the file's line number (its last line, for a quoted field spanning lines), not its
        # count: csv skips blank lines, and the row after one was named a line too early
        for row in reader:
            extra = [v for v in row.pop(None, None) or [] if v.strip()]  # a trailing empty field is no value
            if extra:  # csv puts them aside: `a.mp4,10,20,30,40` lost the interval 30-40 without a word
                raise AnnotationError(f"{path}:{reader.line_num}: {len(header) + len(extra)} values in a row of "
                                      f"{len(header)} columns {header}; write one interval per row")
            if any((v or "").strip() for v in row.values()):
                rows.append((reader.line_num, row))
        return rows


def _nonempty(videos: dict, path: Path) -> None:
    if not videos:
        raise AnnotationError(f"{path}: no videos listed")


def _apply_counts(ann: Annotations, frame_counts) -> Annotations:
    if frame_counts is None:
        return ann
    if isinstance(frame_counts, (str, os.PathLike)):
        return ann.with_frame_counts(read_frame_counts(frame_counts), source=str(frame_counts))
    return ann.with_frame_counts(frame_counts)


def detect_format(path) -> str:
    """Guess the format of a ground-truth file from its name and first data line."""
    path = Path(path)
    if path.is_dir():
        return "frames"
    if not path.is_file():
        raise AnnotationError(f"{path}: no such annotation file")
    suffix = path.suffix.lower()
    if suffix == ".mat":
        return "ped2" if _mat_names(path) == ["gt"] else "frames"
    if suffix == ".npy":
        return "frames"
    if suffix == ".m":
        return "ucsd"
    header = _csv_header(path)
    semicolons = {h.strip() for h in ";".join(header).split(";")}  # a spreadsheet's CSV in a ';' locale
    if {"video", "start", "end"} <= semicolons and suffix != ".csv":
        return "csv"  # read as one, so that the error shows the header it found
    if suffix == ".csv" or {"video", "start", "end"} <= set(header) or "anomaly_start_frame" in header:
        return "ped2" if "anomaly_start_frame" in header else "csv"  # a CSV whatever its name (labels.txt)
    if _binary_flags(path):  # one video's per-frame 0/1 labels, in a column or on a line
        return "frames"
    for _, toks in _lines(path):
        if len(toks) == 1:
            return "list"
        return "ucf_counts" if len(toks) >= 2 and re.fullmatch(r"\d+", toks[1]) else "ucf"
    raise AnnotationError(f"{path}: empty annotation file")


def _csv_header(path) -> list[str]:
    """The first line's comma-separated names, stripped (a text file that is no CSV gives one or
    a few that match no header)."""
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as fh:
            return [h.strip().lower() for h in fh.readline().split(",")]
    except OSError:
        return []


def _binary_flags(path, lines: int = 200) -> bool:
    """Whether a text file's first data lines hold nothing but 0s and 1s (at least two of them):
    per-frame labels, not a list of videos named 0 and 1 or a video with a frame count."""
    tokens = [t for _, toks in itertools.islice(_lines(path), lines) for t in toks]
    return len(tokens) >= 2 and all(t in ("0", "1") for t in tokens)


def read_frame_labels(path) -> Annotations:
    """Per-frame labels or masks, one file or a folder of one file per video
    (`videoad.datasets.frame_labels`): runs of marked frames, the frame count the vector's length."""
    videos = {name: VideoAnnotation(name, "", runs_of(flags), int(flags.size), source)
              for name, flags, source in label_files(path)}
    return Annotations(videos, str(path))


def read_ucsd_m(path) -> Annotations:
    """The UCSD Anomaly Dataset's own ``UCSDped1.m`` / ``UCSDped2.m`` (videos ``Test001`` ...)."""
    return Annotations({name: VideoAnnotation(name, "", intervals, None, str(path))
                        for name, intervals in ucsd_m_entries(path)}, str(path))


def _mat_names(path: Path) -> list[str]:
    """The variables of a .mat file (v5 by scipy, v7.3 by h5py), to tell Ped2's 'gt' from masks."""
    from scipy.io import whosmat

    try:
        return [name for name, _, _ in whosmat(path)]
    except NotImplementedError:  # v7.3 (HDF5)
        import h5py

        with h5py.File(path, "r") as fh:
            return [k for k in fh if not k.startswith("#")]
    except (ValueError, OSError) as exc:
        raise AnnotationError(f"{path}: not a readable MATLAB file ({exc})") from None


def read_annotations(path, fmt: str = "auto", frame_counts=None) -> Annotations:
    """Read any supported ground truth, a file or a folder (see the module docstring for the formats)."""
    fmt = detect_format(path) if fmt == "auto" else fmt
    if fmt in ("frames", "ucsd"):
        return _apply_counts((read_frame_labels if fmt == "frames" else read_ucsd_m)(path), frame_counts)
    if fmt == "ucf":
        return read_ucf_crime(path, frame_counts)
    if fmt == "ucf_counts":
        return read_ucf_counts(path, frame_counts)
    if fmt == "ped2":
        return _apply_counts(read_ped2(path), frame_counts)
    if fmt == "csv":
        return _apply_counts(read_csv_labels(path), frame_counts)
    if fmt == "list":
        return _apply_counts(read_split_list(path), frame_counts)
    raise AnnotationError(f"{path}: unknown annotation format {fmt!r}; choose one of {FORMATS} or 'auto'")


def write_ucf_crime(path, annotations: Iterable[VideoAnnotation], *, with_counts: bool = False) -> Path:
    """Write annotations in the UCF-Crime temporal format (or `Test_Annotation.txt` style with counts).

    Videos with one interval get ``-1 -1`` for the second pair, as in the official file.
    """
    path = Path(path)
    lines = []
    for a in annotations:
        nums = [v for iv in a.intervals for v in iv]
        while len(nums) < 4:
            nums += [-1, -1]
        name = a.video if "." in PurePosixPath(a.video).name else a.video + ".mp4"
        if with_counts:
            if a.n_frames is None:
                raise AnnotationError(f"video {a.video!r} has no frame count to write")
            lines.append(" ".join([name, str(a.n_frames), a.category or "Normal", *map(str, nums)]))
        else:
            lines.append("  ".join([PurePosixPath(name).name, a.category or "Normal", *map(str, nums)]))
    path.write_text("\n".join(lines) + "\n")
    return path
