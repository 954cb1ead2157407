"""segments.csv read and written as columns: the same bytes as a row-by-row `csv.writer`, the same
videos back from a file whose rows a spreadsheet reordered, and bad rows named."""
from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from videoad.names import cell_text, name_of_cell
from videoad.scores import COLUMNS, ScoreSet, ScoresError, VideoScores, read_scores, segments_text, write_scores

NAMES = ["plain.avi", "a,comma.mp4", 'say "hi".mp4', "line\nbreak.avi", "été/café.mkv", " lead space.avi", "=1+1.avi",
         "'quoted.avi", '=HYPERLINK("http://x","y")/a.avi', "-1.avi"]


def _videos(seed: int = 0) -> list[VideoScores]:
    rng = np.random.default_rng(seed)
    out = []
    for i, name in enumerate(NAMES):
        n = int(rng.integers(1, 40))
        starts = np.sort(rng.choice(500, n, replace=False))
        scores = rng.normal(0, 1, n) * 10.0 ** rng.integers(-6, 6)
        if i == 2:
            scores = scores.astype(np.float32)  # float32 scores are written as the float64 they convert to
        if i == 3:
            scores[:3] = [0.1, 1e-05, 1e16][: len(scores[:3])]
        out.append(VideoScores(name, scores, np.stack([starts, starts + 15], 1), 520, [25.0, 0.0, 7.5][i % 3],
                               category=["c,1", "", 'q"', "@cat"][i % 4], group=f"g{i % 2}"))
    return out


def _row_by_row(videos) -> str:
    """One csv.writer row per clip, names made spreadsheet-safe (the reference the column writer must match)."""
    text = io.StringIO(newline="")
    w = csv.writer(text)
    w.writerow(COLUMNS)
    for v in videos:
        t = v.times()
        known = bool(v.fps and v.fps > 0)
        for i, ((a, b), s) in enumerate(zip(v.frames, v.scores)):
            start, end = (f"{t[i, 0]:.3f}", f"{t[i, 1]:.3f}") if known else ("", "")
            w.writerow([cell_text(v.video), cell_text(v.category), cell_text(v.group), i, int(a), int(b), start, end,
                        repr(float(s))])
    return text.getvalue()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_column_writer_gives_the_row_writers_bytes(seed):
    videos = _videos(seed)
    assert segments_text(videos) == _row_by_row(videos)


def test_scores_come_back_from_rows_in_any_order(tmp_path):
    videos = _videos(3)
    write_scores(tmp_path / "s", ScoreSet(videos, {"protocol": "transductive"}))
    seg = tmp_path / "s" / "segments.csv"
    with open(seg, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    body = rows[1:]
    np.random.default_rng(0).shuffle(body)  # a spreadsheet sorted by score, say
    with open(seg, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(rows[0])
        w.writerows(body)
        fh.write("\r\n")  # a trailing blank line is skipped
    back = read_scores(tmp_path / "s")
    assert [v.video for v in back] == NAMES
    for a, b in zip(videos, back):
        np.testing.assert_array_equal(b.frames, a.frames)
        np.testing.assert_array_equal(b.scores, np.asarray(a.scores, dtype=np.float64))
        assert (b.category, b.group) == (a.category, a.group)


def test_a_video_missing_from_run_json_is_the_first_the_file_names(tmp_path):
    write_scores(tmp_path / "s", ScoreSet(_videos(4), {}))
    seg = tmp_path / "s" / "segments.csv"
    seg.write_text(seg.read_text(encoding="utf-8") + "zz.avi,,,0,0,15,,,1.0\r\naa.avi,,,0,0,15,,,1.0\r\n",
                   encoding="utf-8")
    with pytest.raises(ScoresError, match="video 'zz.avi' is in segments.csv but not in run.json"):
        read_scores(tmp_path / "s")


def _one_video_folder(folder, body: str):
    folder.mkdir()
    (folder / "segments.csv").write_text(",".join(COLUMNS) + "\n" + body)
    (folder / "run.json").write_text(json.dumps({"format": "videoad-scores/1", "videos": [
        {"video": "v.avi", "n_frames": 100, "fps": 10.0}]}))


def test_a_bad_number_is_named_with_its_row_and_video(tmp_path):
    _one_video_folder(tmp_path / "s", "v.avi,,,0,0,15,,,0.5\nv.avi,,,1,4,19,,,lots\n")
    with pytest.raises(ScoresError, match=r"segments.csv: bad number in data row 2 \(video 'v.avi', clip '1', "
                                          r"frames '4'-'19', score 'lots'\)"):
        read_scores(tmp_path / "s")
    _one_video_folder(tmp_path / "t", "v.avi,,,0,0.0,15,,,0.5\n")  # a frame is a whole number
    with pytest.raises(ScoresError, match=r"bad number in data row 1 .*frames '0.0'-'15'"):
        read_scores(tmp_path / "t")


def test_rows_read_a_block_at_a_time_come_back_as_read_whole(tmp_path, monkeypatch):
    """segments.csv is converted a block of rows at a time (each field's text held at once was 480
    bytes a row): videos interleaved across blocks, rows out of order, and a bad number in a later
    block named with its own row."""
    from videoad import scores as S

    rows = [f"{v}.avi,,,{c},{4 * c},{4 * c + 15},,,{0.1 * c + (v == 'b'):.1f}"
            for c in (3, 0, 2, 1) for v in ("a", "b")]
    _one_video_folder(tmp_path / "s", "\n".join(rows) + "\n")
    run = json.loads((tmp_path / "s" / "run.json").read_text())
    run["videos"].append({"video": "b.avi", "n_frames": 100, "fps": 10.0})
    run["videos"][0]["video"] = "a.avi"
    (tmp_path / "s" / "run.json").write_text(json.dumps(run))
    whole = {v.video: (v.frames.tolist(), v.scores.tolist()) for v in read_scores(tmp_path / "s")}
    monkeypatch.setattr(S, "READ_BLOCK", 3)
    assert {v.video: (v.frames.tolist(), v.scores.tolist()) for v in read_scores(tmp_path / "s")} == whole
    assert whole["a.avi"][0] == [[0, 15], [4, 19], [8, 23], [12, 27]]
    rows[6] = "a.avi,,,1,4,19,,,lots"
    (tmp_path / "s" / "segments.csv").write_text(",".join(COLUMNS) + "\n" + "\n".join(rows) + "\n")
    with pytest.raises(ScoresError, match=r"bad number in data row 7 \(video 'a.avi', clip '1', .*score 'lots'\)"):
        read_scores(tmp_path / "s")


def test_a_short_row_is_named_with_its_line(tmp_path):
    _one_video_folder(tmp_path / "s", "v.avi,,,0,0,15,,,0.5\n\nv.avi,,,1,4\n")
    with pytest.raises(ScoresError, match=r"segments.csv:4: 5 fields, the header has 9"):
        read_scores(tmp_path / "s")


def test_names_that_start_like_a_formula_are_text_in_a_spreadsheet_and_come_back_exactly():
    for name in ("=1+2.avi", "+x", "-1.avi", "@sum", "\tcam", "\rcam", "'", "''=", "'quoted", "'=x", "plain", "a=b", ""):
        text = cell_text(name)
        assert not text.startswith(("=", "+", "-", "@", "\t", "\r")), name
        assert name_of_cell(text) == name
    assert cell_text("=1+2.avi") == "'=1+2.avi" and cell_text("plain.avi") == "plain.avi"


def test_events_csv_marks_a_formula_name_as_text(tmp_path):
    from videoad.events import find_events, write_events

    n = 30
    s = np.zeros(n)
    s[10:14] = 5.0
    starts = np.arange(n) * 4
    v = VideoScores('=HYPERLINK("http://evil","x")/cam.avi', s, np.stack([starts, starts + 15], 1), 140, 10.0,
                    category='=HYPERLINK("http://evil","x")', threshold=1.0)
    write_events(tmp_path, find_events(ScoreSet([v], {})))
    with open(tmp_path / "events.csv", newline="", encoding="utf-8") as fh:
        row = next(csv.DictReader(fh))
    assert row["video"] == "'" + v.video and row["category"] == "'" + v.category
    assert json.loads((tmp_path / "events.json").read_text())["events"][0]["video"] == v.video


def test_scores_that_are_not_finite_and_hand_edited_run_json_are_named(tmp_path):
    _one_video_folder(tmp_path / "s", "v.avi,,,0,0,15,,,0.5\nv.avi,,,1,4,19,,,nan\n")
    with pytest.raises(ScoresError, match=r"video 'v.avi', clip 1: score nan is not a finite number"):
        read_scores(tmp_path / "s")
    cases = {"no_frames": ({"video": "v.avi", "fps": 10.0}, r"video 'v.avi': n_frames must be a whole number"),
             "threshold": ({"video": "v.avi", "n_frames": 100, "threshold": "0.3"},
                           r"video 'v.avi': threshold must be a finite number or null, got '0.3'"),
             "no_name": ({"n_frames": 100}, r"videos\[0\] has no 'video' name")}
    for name, (entry, message) in cases.items():
        _one_video_folder(tmp_path / name, "v.avi,,,0,0,15,,,0.5\n")
        (tmp_path / name / "run.json").write_text(json.dumps({"format": "videoad-scores/1", "videos": [entry]}))
        with pytest.raises(ScoresError, match=message):
            read_scores(tmp_path / name)


def test_events_json_stays_strict_json_with_a_threshold_that_is_not_finite(tmp_path):
    from videoad.events import find_events, write_events

    starts = np.arange(10) * 4
    v = VideoScores("v.avi", np.linspace(0, 1, 10), np.stack([starts, starts + 15], 1), 60, 10.0, threshold=np.inf)
    write_events(tmp_path, find_events(ScoreSet([v], {})))
    text = (tmp_path / "events.json").read_text()
    assert "Infinity" not in text and json.loads(text)["videos"][0]["threshold"] is None


def test_older_folders_keep_their_names_and_scores_that_are_not_finite_are_not_written(tmp_path):
    """A folder written before the text mark read `'-1.mp4` as `-1.mp4` (and then failed); a score
    of inf was written and then refused by every reader."""
    _one_video_folder(tmp_path / "old", "'-1.mp4,,,0,0,15,,,0.5\n")
    (tmp_path / "old" / "run.json").write_text(json.dumps({"format": "videoad-scores/1", "videos": [
        {"video": "'-1.mp4", "n_frames": 100, "fps": 10.0}]}))
    assert [v.video for v in read_scores(tmp_path / "old")] == ["'-1.mp4"]
    starts = np.arange(3) * 4
    v = VideoScores("'-1.mp4", np.array([0.1, np.inf, 0.2]), np.stack([starts, starts + 15], 1), 30, 10.0)
    with pytest.raises(ScoresError, match=r"video \"'-1.mp4\", clip 1: score inf is not a finite number"):
        write_scores(tmp_path / "new", ScoreSet([v], {}))
    v.scores[1] = 0.3
    write_scores(tmp_path / "new", ScoreSet([v], {}))
    assert (tmp_path / "new" / "segments.csv").read_text().splitlines()[1].startswith("''-1.mp4,")
    assert [x.video for x in read_scores(tmp_path / "new")] == ["'-1.mp4"]


def test_watch_clip_rows_mark_formula_names_as_text():
    from videoad.live.outputs import _csv

    assert _csv("=cam") == "'=cam" and _csv('=HYPERLINK("x","y")') == '"\'=HYPERLINK(""x"",""y"")"'
    assert _csv("cam,1") == '"cam,1"' and _csv("plain") == "plain"


def test_a_folder_written_with_marked_names_before_their_marker_reads(tmp_path):
    _one_video_folder(tmp_path / "s", "'-1.mp4,,,0,0,15,,,0.5\n")
    (tmp_path / "s" / "run.json").write_text(json.dumps({"format": "videoad-scores/1", "videos": [
        {"video": "-1.mp4", "n_frames": 100, "fps": 10.0}]}))
    assert [v.video for v in read_scores(tmp_path / "s")] == ["-1.mp4"]


def test_a_rewrite_removes_the_previous_scores_evaluation(tmp_path):
    """`videoad evaluate` writes evaluation.json into the scores folder; a detect that rewrote the
    folder left it there, the figures of scores no longer in it beside the new ones."""
    from click.testing import CliRunner

    from videoad.cli import cli

    out = tmp_path / "s"
    write_scores(out, ScoreSet(_videos(0)[:1], {"protocol": "transductive"}))
    (tmp_path / "gt.txt").write_text("plain.avi  Cat  10  20  -1  -1\n")  # _videos' first, named plainly
    res = CliRunner().invoke(cli, ["evaluate", str(out), "--annotations", str(tmp_path / "gt.txt")])
    assert (out / "evaluation.json").is_file(), res.output
    write_scores(out, ScoreSet(_videos(1)[:1], {"protocol": "transductive"}))
    assert not (out / "evaluation.json").exists()


def test_a_segments_csv_saved_by_a_spreadsheet_reads_or_names_its_encoding(tmp_path):
    """Excel's "CSV UTF-8" starts the file with a BOM (read as a column '\\ufeffvideo': "missing
    column(s) ['video']"); its plain "CSV" writes Windows-1252 (a UnicodeDecodeError that named no file)."""
    _one_video_folder(tmp_path / "s", "v.avi,,,0,0,15,,,0.5\r\nv.avi,,,1,4,19,,,0.75\r\n")
    seg = tmp_path / "s" / "segments.csv"
    seg.write_bytes(b"\xef\xbb\xbf" + seg.read_bytes())
    assert read_scores(tmp_path / "s").videos[0].scores.tolist() == [0.5, 0.75]
    _one_video_folder(tmp_path / "t", "v.avi,caf\xe9,,0,0,15,,,0.5\r\n")
    (tmp_path / "t" / "segments.csv").write_bytes((tmp_path / "t" / "segments.csv").read_text().encode("cp1252"))
    with pytest.raises(ScoresError, match=r"t/segments.csv: not UTF-8 text \(byte 0xe9 .*save it as 'CSV UTF-8'"):
        read_scores(tmp_path / "t")


def test_a_segments_csv_cut_short_inside_its_last_score_is_refused(tmp_path):
    """A copy or sync that stopped partway: cut inside the last row's score, every row and field was
    still there and "12.75" was read as the score 1.0, in silence."""
    write_scores(tmp_path / "s", ScoreSet([VideoScores("v.avi", np.array([0.5, 12.75]), np.array([[0, 15], [4, 19]]),
                                                       100, 10.0)], {}))
    seg = tmp_path / "s" / "segments.csv"
    whole = seg.read_bytes()
    assert whole.endswith(b",12.75\r\n")
    seg.write_bytes(whole[:-5])
    with pytest.raises(ScoresError, match=r"segments.csv: ends inside its last row \(video 'v.avi'\): the file was "
                                          "cut short"):
        read_scores(tmp_path / "s")
    for end in (b"\r\n", b"\n", b"\r"):  # every line end a text editor or a spreadsheet writes
        seg.write_bytes(whole[:-2] + end)
        assert read_scores(tmp_path / "s").videos[0].scores.tolist() == [0.5, 12.75]


@pytest.mark.parametrize("frames, shown", [("28,6", "28-6"), ("-6,28", "-6-28"), ("6,2800", "6-2800"),
                                           ("6,100", "6-100")])
def test_a_clip_whose_frames_are_no_range_of_its_video_is_named(tmp_path, frames, shown):
    """A hand-edited or damaged frame range: evaluate refused it, while plot and report drew it and
    made events of it in silence (a clip ending at frame 2800 of a 100-frame video stretched its
    timeline ten times and played nothing)."""
    _one_video_folder(tmp_path / "s", f"v.avi,,,0,0,15,,,0.5\nv.avi,,,1,{frames},,,0.75\n")
    with pytest.raises(ScoresError, match=rf"segments.csv: video 'v.avi', clip 1: frames {shown} are not a range of "
                                          r"its 100 frames \(run.json's n_frames; 0-based, first <= last <= 99\)"):
        read_scores(tmp_path / "s")
    _one_video_folder(tmp_path / "t", "v.avi,,,0,0,15,,,0.5\nv.avi,,,1,84,99,,,0.75\n")  # the last frame: kept
    assert read_scores(tmp_path / "t").videos[0].frames.tolist() == [[0, 15], [84, 99]]


@pytest.mark.parametrize("key, value, message", [
    ("groups", "x", r"'groups' must be a JSON list, got 'x'"),
    ("left_out", ["a.avi"], r"'left_out' must hold JSON objects, got 'a.avi'"),
    ("config", "x", r"'config' must be a JSON object, got 'x'"),
    ("category", 5, r"video 'v.avi': category must be text, got 5"),
    ("scene_cut_frames", "12", r"video 'v.avi': scene_cut_frames must be a list of frames, got '12'"),
    ("damaged_spans", [5], r"video 'v.avi': damaged_spans must be a list of \[first, last\] frames, got \[5\]"),
    ("repeated_frames", "3", r"video 'v.avi': repeated_frames must be a whole number or null, got '3'"),
    ("fps", float("inf"), r"video 'v.avi': fps must be a finite number >= 0 or null, got inf"),
    ("threshold", float("nan"), r"video 'v.avi': threshold must be a finite number or null, got nan"),
])
def test_a_hand_edited_run_json_of_the_wrong_shape_is_named(tmp_path, key, value, message):
    """run.json's values that plot, report and evaluate read, of the wrong JSON type: a traceback
    ("'str' object has no attribute 'get'", "cannot unpack non-iterable int object") from deep in
    the report, or (fps: Infinity, as Python's json reads it) every clip placed at 0 s in silence."""
    _one_video_folder(tmp_path / "s", "v.avi,,,0,0,15,,,0.5\n")
    run = json.loads((tmp_path / "s" / "run.json").read_text())
    (run if key in ("groups", "left_out", "config") else run["videos"][0])[key] = value
    (tmp_path / "s" / "run.json").write_text(json.dumps(run))
    with pytest.raises(ScoresError, match=r"run.json: " + message):
        read_scores(tmp_path / "s")


def test_a_folder_that_lost_times_h5_is_refused_not_read_at_one_rate(tmp_path):
    """A video whose frames keep no one rate (a camera recording in bursts) has its seconds from
    times.h5; a folder copied or synced without it (or with a damaged one) read the video at its
    average rate in silence: an event a burst camera saw at 9 s put at 5 s."""
    times = np.r_[np.arange(50) * 0.1, 20.0 + np.arange(50) * 0.1]  # two bursts, 15 s apart
    frames = np.stack([np.arange(0, 85, 5), np.arange(0, 85, 5) + 15], 1)
    v = VideoScores("burst.mp4", np.linspace(0, 1, len(frames)), frames, 100, 100 / 25.0, frame_times=times)
    write_scores(tmp_path / "s", ScoreSet([v], {}))
    np.testing.assert_allclose(read_scores(tmp_path / "s").videos[0].times(), v.times())
    (tmp_path / "s" / "times.h5").unlink()
    with pytest.raises(ScoresError, match=r"times.h5: video 'burst.mp4': its frames' own times are missing "
                                          r"\(run.json: its frames keep no one rate"):
        read_scores(tmp_path / "s")
    short = VideoScores("burst.mp4", v.scores, frames, 100, 4.0, frame_times=times[:60])  # not the video's 100
    write_scores(tmp_path / "t", ScoreSet([short], {}))
    with pytest.raises(ScoresError, match=r"its frames' own times are 60, for 100 frames"):
        read_scores(tmp_path / "t")
