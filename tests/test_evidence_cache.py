"""A rerun of the report remakes only the events whose picture and clip inputs changed
(videoad.evidence, keyed by videoad.output_keys): the event pictures were most of a rerun once its
timelines were kept, and with footage the clips cost far more."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("av")

import videoad.evidence as evidence  # noqa: E402
from videoad.events import EventSettings, find_events  # noqa: E402
from videoad.output_keys import EVENT_KEYS  # noqa: E402
from videoad.report import build_report  # noqa: E402
from videoad.scores import ScoreSet, VideoScores  # noqa: E402
from videoad.synth import SceneConfig, render_video, write_video  # noqa: E402

FPS = 10.0


def _footage(path: Path, seed: int = 0) -> Path:
    frames, _ = render_video(None, seed=seed, cfg=SceneConfig(n_frames=180))
    return write_video(path, frames, FPS)


def _video(name: str, peak_at: int, peak: float, source: str = "", n_clips: int = 20) -> VideoScores:
    """Scores with one event (its peak `peak` at clip `peak_at`) and 2x2 cell scores, hottest cell 3."""
    scores = np.full(n_clips, 0.1)
    scores[peak_at] = peak
    starts = np.arange(n_clips) * 8
    frames = np.stack([starts, starts + 15], 1)
    cells = np.tile(np.array([0.1, 0.12, 0.09, 0.11]), (n_clips, 1))
    cells[peak_at, 3] = peak
    return VideoScores(name, scores, frames, int(frames[-1, 1]) + 4, FPS, "X", "all", source, 0.3, cells=cells)


@pytest.fixture()
def footage(tmp_path) -> dict[str, Path]:
    return {"a": _footage(tmp_path / "footage" / "a.avi"), "b": _footage(tmp_path / "footage" / "b.avi", seed=1)}


def _scores(footage, c_peak: float = 0.6) -> ScoreSet:
    """Three videos, one event each, numbered by peak: E1 a's (footage), E2 b's (footage), E3 c's
    (the scores name no source: a picture saying so, no clip)."""
    return ScoreSet([_video("cam/a.avi", 4, 0.8, str(footage["a"])), _video("cam/b.avi", 9, 0.7, str(footage["b"])),
                     _video("cam/c.avi", 12, c_peak)], {"cell_grid": [2, 2]})


def _events(scores):
    return find_events(scores, EventSettings(min_length_s=0))


@pytest.fixture()
def made(monkeypatch):
    """The events whose files are made, by number, as they are made."""
    seen: list[int] = []
    real = evidence._one

    def spy(v, e, *args, **kw):
        seen.append(e.event)
        return real(v, e, *args, **kw)

    monkeypatch.setattr(evidence, "_one", spy)
    return seen


def _write(scores, folder: Path, made, **kw):
    """(the events made, the media returned) of `write_evidence` into `folder/events`."""
    made.clear()
    media = evidence.write_evidence(scores, _events(scores), folder / "events", pad_s=0.5, burn_heatmap=True, **kw)
    return sorted(made), media


def _files(folder: Path) -> dict[str, tuple[int, bytes]]:
    """Each file of `folder/events` by name: (inode, bytes); a file made again is a new inode
    (pictures and clips are written through a temporary and a rename)."""
    return {p.name: (p.stat().st_ino, p.read_bytes()) for p in sorted((folder / "events").iterdir())}


def _same_pictures(folder: Path, fresh: Path) -> None:
    """Byte for byte, the pictures; the clips by name (libx264 may encode the same frames into other
    bytes from one run to the next: docs/video.md), each a playable file of the same frames' count."""
    import av

    ours, theirs = _files(folder), _files(fresh)
    assert sorted(ours) == sorted(theirs)
    for name in ours:
        if name.endswith(".png"):
            assert ours[name][1] == theirs[name][1], name
        elif name.endswith((".mp4", ".webm")):
            counts = []
            for f in (folder, fresh):
                with av.open(os.fspath(f / "events" / name)) as c:
                    counts.append(sum(1 for _ in c.decode(video=0)))
            assert counts[0] == counts[1] > 0, name


def test_an_unchanged_rerun_remakes_no_event_file(tmp_path, footage, made):
    first, media = _write(_scores(footage), tmp_path / "r", made)
    assert first == [1, 2, 3]
    before = _files(tmp_path / "r")
    assert sorted(before) == [EVENT_KEYS, "E001.mp4", "E001.png", "E002.mp4", "E002.png", "E003.png"]
    again, kept = _write(_scores(footage), tmp_path / "r", made)
    assert again == []
    after = _files(tmp_path / "r")
    assert {n: f for n, f in after.items() if n != EVENT_KEYS} == {n: f for n, f in before.items() if n != EVENT_KEYS}
    assert after[EVENT_KEYS][1] == before[EVENT_KEYS][1]
    assert kept == media  # the paths, clip frames, rate, playhead start and notes the page is built from


def test_one_changed_event_is_made_again_alone(tmp_path, footage, made):
    """b's cell scores at its peak change its heat map, nothing else of the run."""
    _write(_scores(footage), tmp_path / "r", made)
    before = _files(tmp_path / "r")
    changed = _scores(footage)
    changed.videos[1].cells[9, 2] = 0.5
    assert _write(changed, tmp_path / "r", made)[0] == [2]
    after = _files(tmp_path / "r")
    assert [n for n in sorted(after) if n != EVENT_KEYS and after[n] != before[n]] == ["E002.mp4", "E002.png"]


def test_a_renumbering_remakes_the_events_renumbered(tmp_path, footage, made):
    """c's peak raised over b's: c's event becomes E2 and b's E3; a's E1 is kept. The files are
    named by number, so the renumbered are written anew, and nothing of the old numbering stays."""
    _write(_scores(footage), tmp_path / "r", made)
    renumbered = _scores(footage, c_peak=0.75)
    assert [(e.event, e.video) for e in _events(renumbered).events] == [(1, "cam/a.avi"), (2, "cam/c.avi"),
                                                                        (3, "cam/b.avi")]
    made_now, media = _write(renumbered, tmp_path / "r", made)
    assert made_now == [2, 3]
    assert media[3].clip == "events/E003.mp4" and media[2].clip is None
    fresh_made, fresh_media = _write(renumbered, tmp_path / "fresh", made)
    assert media == fresh_media
    _same_pictures(tmp_path / "r", tmp_path / "fresh")


@pytest.mark.parametrize("change", ["mtime", "size"])
def test_a_changed_footage_file_remakes_its_events(tmp_path, footage, made, monkeypatch, change):
    """The file b's frames are read from, touched or replaced (its path, size and time key them):
    its event is made again, clip and all; the others are kept."""
    _write(_scores(footage), tmp_path / "r", made)
    st = os.stat(footage["b"])
    if change == "mtime":
        os.utime(footage["b"], ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    else:  # another recording of the same length, its old time put back: the size alone tells
        _footage(footage["b"], seed=7)
        assert os.stat(footage["b"]).st_size != st.st_size
        os.utime(footage["b"], ns=(st.st_atime_ns, st.st_mtime_ns))
    encoded = []
    real = evidence.write_clip
    monkeypatch.setattr(evidence, "write_clip", lambda frames, path, fps: encoded.append(Path(path).name)
                        or real(frames, path, fps))
    assert _write(_scores(footage), tmp_path / "r", made)[0] == [2]
    assert encoded == ["E002.mp4"]


def test_a_deleted_or_corrupted_picture_or_clip_is_made_again(tmp_path, footage, made):
    _write(_scores(footage), tmp_path / "r", made)
    ev = tmp_path / "r" / "events"
    (ev / "E003.png").unlink()
    clip = (ev / "E001.mp4").read_bytes()
    (ev / "E001.mp4").write_bytes(clip[:len(clip) // 2])  # cut short
    assert _write(_scores(footage), tmp_path / "r", made)[0] == [1, 3]
    (ev / "E002.mp4").unlink()  # a clip alone gone: its picture is made again with it
    assert _write(_scores(footage), tmp_path / "r", made)[0] == [2]
    assert _write(_scores(footage), tmp_path / "r", made)[0] == []
    _write(_scores(footage), tmp_path / "fresh", made)
    _same_pictures(tmp_path / "r", tmp_path / "fresh")


@pytest.mark.parametrize("damage", ["garbage", "other format", "wrong key", "media not a dict", "media of another "
                                    "version", "files of another event", "deleted"])
def test_a_missing_or_damaged_key_file_remakes_without_an_error(tmp_path, footage, made, damage):
    _write(_scores(footage), tmp_path / "r", made)
    keys = tmp_path / "r" / "events" / EVENT_KEYS
    data = json.loads(keys.read_text())
    entry = data["events"]["E002"]
    if damage == "garbage":
        keys.write_bytes(b"\x00{not json")
    elif damage == "other format":
        keys.write_text(json.dumps({**data, "format": 1}))
    elif damage == "deleted":
        keys.unlink()
    else:
        if damage == "wrong key":
            entry["key"] = "0" * 64
        elif damage == "media not a dict":
            entry["made"]["media"] = [1, 2]
        elif damage == "media of another version":
            entry["made"]["media"]["clip_frames"] = entry["made"]["media"].pop("clip_first_frame")
        else:
            entry["made"]["media"] = data["events"]["E001"]["made"]["media"]
        keys.write_text(json.dumps(data))
    again = [2] if damage not in ("garbage", "other format", "deleted") else [1, 2, 3]
    assert _write(_scores(footage), tmp_path / "r", made)[0] == again
    assert _write(_scores(footage), tmp_path / "r", made)[0] == []  # the key file written anew
    _write(_scores(footage), tmp_path / "fresh", made)
    _same_pictures(tmp_path / "r", tmp_path / "fresh")


def test_a_cached_rerun_writes_what_a_fresh_report_writes(tmp_path, footage, made):
    """Through the report: the page (built from the kept events' media), the pictures byte for
    byte, the clips kept as they were written; an event gone leaves no file and no key."""
    def report(scores, folder):
        made.clear()
        build_report(scores, folder, events=_events(scores), pad_s=0.5)
        return sorted(made)

    assert report(_scores(footage), tmp_path / "r") == [1, 2, 3]
    clip = (tmp_path / "r" / "events" / "E001.mp4").read_bytes()
    two = _scores(footage)
    two.videos = two.videos[:1] + two.videos[2:]  # b gone: c's event is E2 now
    assert report(two, tmp_path / "r") == [2]
    assert report(two, tmp_path / "fresh") == [1, 2]
    assert (tmp_path / "r" / "index.html").read_bytes() == (tmp_path / "fresh" / "index.html").read_bytes()
    _same_pictures(tmp_path / "r", tmp_path / "fresh")
    assert (tmp_path / "r" / "events" / "E001.mp4").read_bytes() == clip
    assert sorted(p.name for p in (tmp_path / "r" / "events").iterdir()) == [EVENT_KEYS, "E001.mp4", "E001.png",
                                                                             "E002.png"]
    assert sorted(json.loads((tmp_path / "r" / "events" / EVENT_KEYS).read_text())["events"]) == ["E001", "E002"]


def test_a_missing_source_is_kept_until_its_file_is_there_and_still_told(tmp_path, footage, made, caplog):
    """A source not where the scores say (footage left on another machine) gets a picture saying
    so: kept, and told once a run as before; the file put there changes the key: a clip then."""
    scores = _scores(footage)
    gone = tmp_path / "elsewhere" / "b.avi"
    scores.videos[1].source = str(gone)
    _write(scores, tmp_path / "r", made)
    caplog.clear()
    with caplog.at_level("WARNING"):
        made_now, media = _write(scores, tmp_path / "r", made)
    assert made_now == [] and media[2].clip is None and "source not found" in media[2].note
    assert "2 video(s) with events cannot be read" in caplog.text  # b and c
    gone.parent.mkdir()
    os.link(footage["b"], gone)
    made_now, media = _write(scores, tmp_path / "r", made)
    assert made_now == [2] and media[2].clip == "events/E002.mp4"


def test_frame_folder_footage_is_made_each_run(tmp_path, footage, made):
    """A folder of images changes a file at a time (as the timelines' peak frames, never kept)."""
    from _extract_media import make_frames

    folder = make_frames(tmp_path / "frames", 180)
    scores = _scores(footage)
    scores.videos[0].source = str(folder)
    assert _write(scores, tmp_path / "r", made)[0] == [1, 2, 3]
    assert _write(scores, tmp_path / "r", made)[0] == [1]


def test_a_video_without_cell_scores_in_a_run_with_them_is_not_said_to_be_a_run_without(tmp_path, footage,
                                                                                        monkeypatch):
    """A run with a grid may hold a video scored as whole clips (its group's videos mostly had no
    cells): its picture said "no cell scores in this run" beside other events' heat maps."""
    notes = {}
    real = evidence.heat_figure

    def spy(frame, out, **kw):
        notes[Path(out).name] = (kw["note"], kw["cells"] is not None)
        return real(frame, out, **kw)

    monkeypatch.setattr(evidence, "heat_figure", spy)
    scores = _scores(footage)
    scores.videos[1].cells = None  # b: E2
    evidence.write_evidence(scores, _events(scores), tmp_path / "events", clips=False)
    assert notes["E002.png"] == ("no cell scores for this video: the whole frame scored as one", False)
    assert notes["E001.png"] == ("", True)
    scores = ScoreSet([_video("cam/a.avi", 4, 0.8, str(footage["a"]))], {})
    scores.videos[0].cells = None
    evidence.write_evidence(scores, _events(scores), tmp_path / "whole", clips=False)
    assert notes["E001.png"] == ("no cell scores in this run: the whole frame scored as one", False)

