"""Ground-truth readers against the real UCF-Crime / UCSD Ped2 files and hand-made ones."""
from __future__ import annotations

import numpy as np
import pytest

from videoad.datasets.annotations import (
    AnnotationError,
    VideoAnnotation,
    detect_format,
    read_annotations,
    read_csv_labels,
    read_frame_counts,
    write_ucf_crime,
)

from _paths import shared  # noqa: E402

TEMPORAL = ("ucf_crime", "annotations", "Temporal_Anomaly_Annotation_for_Testing_Videos.txt")
TEST_COUNTS = ("ucf_crime", "annotations", "Test_Annotation.txt")

OVERRUNS = {  # video: (n_frames, last annotated frame) per shared/data/README.md
    "Arson011_x264": (1266, 1267),
    "Arson016_x264": (1795, 1796),
    "Explosion033_x264": (3154, 3156),
    "Fighting003_x264": (3102, 3103),
    "Shooting015_x264": (1713, 1715),
}


def test_ucf_temporal_file_with_counts():
    ann = read_annotations(shared(*TEMPORAL), frame_counts=shared(*TEST_COUNTS))
    assert len(ann) == 290
    assert sum(a.is_anomalous for a in ann.values()) == 140
    cats = [a.category for a in ann.values()]
    assert cats.count("Normal") == 150 and cats.count("RoadAccidents") == 23
    assert sum(a.n_frames for a in ann.values()) == 1_111_808
    two = ann["Arson011_x264"]
    assert two.intervals == ((150, 420), (680, 1267))
    assert ann["Normal_Videos_024_x264"].intervals == ()


def test_lines_end_where_a_line_by_line_reading_ends_them(tmp_path):
    """A text read whole and split with str.splitlines broke lines at form feeds and U+2028 too, which
    a comment or a field may hold: the same file read line by line is read alike, one line of it per
    \\n, \\r\\n or \\r, and a video or picture given by mistake is named as not text."""
    text = shared(*TEMPORAL).read_text()
    odd = tmp_path / "odd.txt"
    odd.write_text("# exported from the web form\u2028 see notes\n" + text.replace("  Arson  ", "  Arson\x0c  ", 1),
                   encoding="utf-8")
    assert read_annotations(odd).keys() == read_annotations(shared(*TEMPORAL)).keys()
    (tmp_path / "v.txt").write_bytes(b"\x00\x00\x00\x18ftypmp42\xb8\xff")
    with pytest.raises(AnnotationError, match=r"v.txt: not an annotation file: byte \d+ is not UTF-8"):
        read_annotations(tmp_path / "v.txt", fmt="ucf")


def test_ucf_five_overrunning_intervals_are_clipped():
    ann = read_annotations(shared(*TEMPORAL), frame_counts=shared(*TEST_COUNTS))
    overrunning = {
        name: a for name, a in ann.items() if a.intervals and max(e for _, e in a.intervals) > a.n_frames
    }
    assert set(overrunning) == set(OVERRUNS)
    for name, (n, last) in OVERRUNS.items():
        a = ann[name]
        assert a.n_frames == n and max(e for _, e in a.intervals) == last
        labels = a.frame_labels()
        assert labels.shape == (n,) and labels[-1] == 1
        # every frame inside an interval is set, clipped at the end
        expected = np.zeros(n, np.int8)
        for s, e in a.intervals:
            expected[s - 1 : min(e, n)] = 1
        np.testing.assert_array_equal(labels, expected)
    # unclipped sum is 84,345 anomalous frames (method-notes 4.2); clipping removes exactly 7
    total = sum(int(a.frame_labels().sum()) for a in ann.values())
    assert total == 84_345 - sum(last - n for n, last in OVERRUNS.values()) == 84_338


def test_test_annotation_matches_temporal_file_and_lookup_by_store_key():
    counts_file, temporal_file = shared(*TEST_COUNTS), shared(*TEMPORAL)
    counts = read_annotations(counts_file)
    temporal = read_annotations(temporal_file)
    assert detect_format(counts_file) == "ucf_counts" and detect_format(temporal_file) == "ucf"
    for name, a in temporal.items():
        b = counts.require(name)  # bare name -> Class-dir/name
        assert b.intervals == a.intervals and b.category == a.category
    # store keys carry the folder and extension; both directions resolve
    assert temporal.require("Arson/Arson011_x264.mp4").video == "Arson011_x264"
    assert counts.require("Explosion008_x264.mp4").n_frames == 1748
    assert read_frame_counts(counts_file)["RoadAccidents/RoadAccidents021_x264"] == 155


def test_frame_labels_one_based_inclusive():
    a = VideoAnnotation("v", "X", ((1, 3), (8, 12)), 10, "hand-made")
    np.testing.assert_array_equal(a.frame_labels(), [1, 1, 1, 0, 0, 0, 0, 1, 1, 1])
    with pytest.raises(AnnotationError, match="length mismatch for video 'v'"):
        a.frame_labels(11)
    late = VideoAnnotation("w", "X", ((20, 25),), None, "f.txt")
    with pytest.raises(AnnotationError, match="starts after"):
        late.frame_labels(10)


def test_ped2_csv_and_mat_agree():
    csv_ann = read_annotations(shared("ucsd_ped2", "ped2_test_gt.csv"))
    mat_ann = read_annotations(shared("ucsd_ped2", "ped2.mat"))
    assert len(csv_ann) == len(mat_ann) == 12
    for name, a in csv_ann.items():
        assert mat_ann[name].intervals == a.intervals
        np.testing.assert_array_equal(mat_ann[name].frame_labels(a.n_frames), a.frame_labels())
    a1 = csv_ann.require("testing/frames/01")
    assert a1.n_frames == 180 and a1.frame_labels().sum() == 120 and a1.frame_labels()[60] == 1
    assert a1.frame_labels()[59] == 0
    assert csv_ann["02"].intervals == ((95, 180),)


def test_plain_csv(tmp_path):
    p = tmp_path / "labels.csv"
    p.write_text("video,start,end,category\ncam1/a.mp4,5,9,Theft\ncam1/a.mp4,20,22,Theft\ncam2/b.mp4,,,Normal\n")
    ann = read_csv_labels(p)
    assert ann.require("cam1/a.mp4").intervals == ((5, 9), (20, 22))
    assert not ann.require("b").is_anomalous
    assert ann.require("a").frame_labels(25).sum() == 8


def test_times_on_a_variable_rate_video_become_the_frames_shown_then(tmp_path):
    """A camera filming 150 frames at 25 fps, then 150 at 5 fps (6 s, then 30 s): its average rate
    (8.3 fps) put the label 20 s-25 s on frames 168-209 (shown at 9.4-17.6 s); the frames shown
    then are 221-245, read from the frames' own times as the timelines and events read them."""
    from videoad.cli.video_cmd import _annotations
    from videoad.scores import ScoreSet, VideoScores

    times = np.concatenate([np.arange(150) / 25, 6 + np.arange(150) / 5])
    frames = np.stack([np.arange(0, 285, 4), np.arange(0, 285, 4) + 15], axis=1)
    vfr = VideoScores("vfr.mp4", np.zeros(len(frames)), frames, 300, 300 / 36, frame_times=times)
    steady = VideoScores("cfr.mp4", np.zeros(len(frames)), frames, 300, 10.0)
    assert vfr.variable_rate and not steady.variable_rate
    p = tmp_path / "labels.csv"
    p.write_text("video,start,end\nvfr.mp4,20s,25s\ncfr.mp4,20s,25s\n")
    ann = _annotations(p, scores=ScoreSet([vfr, steady]))
    assert ann.require("vfr.mp4").intervals == ((221, 245),)
    assert ann.require("cfr.mp4").intervals == ((201, 250),)  # one rate: as before
    shown = vfr.seconds(np.array([220, 245]))  # 0-based frame 220 is the first shown at 20 s; 244 the last before 25
    assert shown.tolist() == pytest.approx([20.0, 25.0])


def test_csv_intervals_written_as_times_become_frames_with_each_videos_frame_rate(tmp_path):
    """As a player shows them (1:23, 01:02:03.5) or in seconds (83s): frames once the scores'
    frame rates are known, those shown in the interval; frame numbers and times may mix across rows;
    a time interval without its video's frame rate is an error naming it, one of a video the run
    did not score is left out."""
    p = tmp_path / "labels.csv"
    p.write_text("video,start,end\ncam1/a.mp4,0:01.6,0:03.2\ncam1/a.mp4,30,35\ncam2/b.mp4,1.6s,1:02:03.5\n"
                 "cam3/c.mp4,,\n")
    ann = read_csv_labels(p)
    assert ann.has_times and ann.require("a").times == ((1.6, 3.2),) and ann.require("a").is_anomalous
    with pytest.raises(AnnotationError, match="need the video's frame rate"):
        ann.require("a").frame_labels(100)
    frames = ann.resolve_times({"cam1/a.mp4": 10.0, "cam2/b.mp4": 25.0, "cam3/c.mp4": 10.0})
    assert frames.require("a").intervals == ((17, 32), (30, 35)) and not frames.has_times
    assert frames.require("b").intervals == ((41, 93088),)  # 1.6 s at 25 fps is frame 41; 3723.5 s ends at 93,088
    assert frames.require("c").intervals == ()
    with pytest.raises(AnnotationError, match="'cam2/b': its intervals are times, and its frame rate is unknown"):
        ann.resolve_times({"cam1/a.mp4": 10.0, "cam2/b.mp4": 0.0})
    partial = ann.resolve_times({"cam1/a.mp4": 10.0})  # b is not scored in this run: its labels are not read
    assert partial.find("cam2/b.mp4") is None and partial.require("a").intervals == ((17, 32), (30, 35))
    bad = tmp_path / "mixed.csv"
    bad.write_text("video,start,end\nx,0:01,40\n")
    with pytest.raises(AnnotationError, match="mixed.csv:2: start '0:01' and end '40': give both as times"):
        read_csv_labels(bad)


@pytest.mark.parametrize(
    "text, match",
    [
        ("video,start\nx,1\n", "missing column"),
        ("video,start,end\nx,9,3\n", "end 3 is before its start 9"),
        ("video,start,end\nx,0,3\n", "1-based"),
        ("video,start,end\nx,a,3\n", "start must be an integer"),
        ("video,start,end\nx,-1,3\n", "only one end"),
        ("video,start,end\nx,1:05,1:75\n", "'1:75' is no time a player shows"),  # read as 2:15
        ("video,start,end\nx,0:59:00,1:60:00\n", "'1:60:00' is no time a player shows"),
    ],
)
def test_csv_errors_name_file_and_line(tmp_path, text, match):
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(AnnotationError, match=match) as err:
        read_csv_labels(p)
    # the file, and the line of a row's error (a missing column is the header's)
    where = f"{p}: " if match == "missing column" else f"{p}:2: "
    assert str(err.value).startswith(where), str(err.value)


def test_a_csv_rows_error_names_its_line_after_blank_lines(tmp_path):
    """csv skips blank lines; the rows after one were named by their count, a line or more early."""
    p = tmp_path / "labels.csv"
    p.write_text("video,start,end\n\na.mp4,1,2\n\nb.mp4,9,3\n")
    with pytest.raises(AnnotationError, match=f"^{p}:5: interval end 3 is before its start 9"):
        read_csv_labels(p)
    ped2 = tmp_path / "ped2_test_gt.csv"  # Excel's CRLF, a blank line after the header
    ped2.write_bytes(b"video,num_frames,anomaly_start_frame,anomaly_end_frame\r\n\r\n01,180,61,180\r\n02,180,95,18O\r\n")
    with pytest.raises(AnnotationError, match=f"^{ped2}:4: anomaly_end_frame must be an integer, got '18O'"):
        read_annotations(ped2)


def test_a_csv_value_no_column_names_is_an_error_not_dropped(tmp_path):
    """csv set a row's values past the header aside and kept a repeated column's last value: a second
    interval written on the row of the first was lost, and the reported AUROC with it."""
    p = tmp_path / "labels.csv"
    p.write_text("video,start,end\na.mp4,10,20,30,40\nb.mp4,-1,-1\n")
    with pytest.raises(AnnotationError, match=f"^{p}:2: 5 values in a row of 3 columns"):
        read_csv_labels(p)
    p.write_text("video,start,end,start,end\na.mp4,10,20,30,40\n")
    with pytest.raises(AnnotationError, match=rf"^{p}: column\(s\) \['end', 'start'\] appear more than once"):
        read_csv_labels(p)
    ped2 = tmp_path / "ped2_test_gt.csv"
    ped2.write_text("video,num_frames,anomaly_start_frame,anomaly_end_frame\n01,180,61,180\n02,180,20,40,95,180\n")
    with pytest.raises(AnnotationError, match=f"^{ped2}:3: 6 values in a row of 4 columns"):
        read_annotations(ped2)
    # a spreadsheet's trailing commas hold no value: read as before
    p.write_text("video,start,end,\na.mp4,10,20,\nb.mp4,-1,-1,,\n")
    assert {k: a.intervals for k, a in read_csv_labels(p).items()} == {"a": ((10, 20),), "b": ()}


def test_a_count_line_with_a_class_and_no_interval_is_an_error(tmp_path):
    """`<video> <n_frames> <Class>` was read as a normal video of that class (a cut line of
    Test_Annotation.txt: Arson011's anomaly gone from the AUROC), and a headerless `video start end`
    file as frame counts with the end for a class."""
    p = tmp_path / "Test_Annotation.txt"
    p.write_text("Normal/Normal_1.mp4 900 Normal -1 -1 -1 -1\nArson/Arson011_x264.mp4 1266 Arson\n")
    with pytest.raises(AnnotationError, match=f"^{p}:2: expected .*a class without an interval .-1 -1 for"):
        read_annotations(p)
    p.write_text("a.mp4 10 20\n")
    with pytest.raises(AnnotationError, match=f"^{p}:1: .*give it the header line video,start,end"):
        read_annotations(p)


def test_ucf_errors(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text("a.mp4 Arson 10 20 -1 -1\na.mp4 Arson 10 20 -1 -1\n")
    with pytest.raises(AnnotationError, match=r"t.txt:2: video 'a' is listed twice"):
        read_annotations(p)
    p.write_text("a.mp4 Arson 10 20 -1\n")
    with pytest.raises(AnnotationError, match="odd number"):
        read_annotations(p)
    counts = tmp_path / "c.txt"
    counts.write_text("X/a.mp4 100 Arson 10 20 -1 -1\n")
    p.write_text("a.mp4 Arson 10 20 -1 -1\n")
    assert read_annotations(p, frame_counts=counts)["a"].n_frames == 100
    with pytest.raises(AnnotationError, match="length mismatch for video 'X/a'.*100.*99"):
        read_annotations(counts, frame_counts={"a.mp4": 99})
    # a count from --frame-counts that the scores contradict names that file, not the intervals' (it
    # named t.txt, which holds no count)
    with pytest.raises(AnnotationError, match=f"scores cover 104 frames but {counts} says the video has 100"):
        read_annotations(p, frame_counts=counts)["a"].frame_labels(104)


def test_write_then_read_round_trip(tmp_path):
    vids = [
        VideoAnnotation("Runner/Runner001.avi", "Runner", ((5, 40),), 100),
        VideoAnnotation("Normal/Normal001.avi", "Normal", (), 90),
        VideoAnnotation("Crowd/Crowd001.avi", "Crowd", ((1, 2), (50, 90)), 90),
    ]
    t = write_ucf_crime(tmp_path / "t.txt", vids)
    c = write_ucf_crime(tmp_path / "c.txt", vids, with_counts=True)
    back = read_annotations(t, frame_counts=c)
    for v in vids:
        b = back.require(v.video)
        assert (b.intervals, b.category, b.n_frames) == (v.intervals, v.category, v.n_frames)


def test_another_folders_file_of_the_same_name_is_not_its_ground_truth(tmp_path):
    """Cameras name files by date: cam1/2024-05-01 is not cam2/2024-05-01, whose labels it took.
    A folder that is the annotation's class (UCF-Crime's lists) still matches another arrangement."""
    path = tmp_path / "labels.csv"
    path.write_text("video,start,end,n_frames,category\ncam2/2024-05-01.mp4,100,200,1000,fight\n"
                    "Arrest/Arrest001_x264.mp4,10,20,100,Arrest\n")
    ann = read_annotations(path)
    assert ann.find("cam1/2024-05-01.mp4") is None
    assert ann.find("cam2/2024-05-01.mp4").intervals == ((100, 200),)
    assert ann.find("2024-05-01.mp4").intervals == ((100, 200),)  # fewer folders: the whole end
    assert ann.find("site/cam2/2024-05-01.mp4").intervals == ((100, 200),)  # more folders
    assert ann.find("x/Arrest001_x264.mp4").intervals == ((10, 20),)  # the class folder, not a place


def test_a_per_frame_label_file_is_read_as_such_without_naming_its_format(tmp_path):
    """One video's 0/1 per frame, in a column or on one line (`evaluate`'s help offers it with the
    default `--format auto`): read as frame labels, not as a list of videos or a frame count."""
    flags = [0] * 10 + [1] * 5 + [0] * 5
    column, line = tmp_path / "col" / "01_0014.txt", tmp_path / "line" / "01_0015.txt"
    for path, text in ((column, "\n".join(map(str, flags))), (line, " ".join(map(str, flags)))):
        path.parent.mkdir()
        path.write_text(text + "\n")
        ann = read_annotations(path)
        (a,) = ann.values()
        assert a.intervals == ((11, 15),) and a.n_frames == 20
    listing = tmp_path / "list.txt"
    listing.write_text("Abuse/Abuse001_x264.mp4\nNormal/n1.mp4\n")
    assert len(read_annotations(listing)) == 2  # a list of videos stays one


def test_a_csv_of_labels_under_another_suffix_is_read_as_csv(tmp_path):
    """labels.txt holding `video,start,end` rows was read as a list of videos named
    'Runner/Runner001.avi,102,184' (then "no ground truth for scored video ...")."""
    text = "video,start,end\nRunner/Runner001.avi,102,184\nNormal/n1.avi,,\n"
    for name in ("labels.txt", "labels"):
        (tmp_path / name).write_text(text)
        assert detect_format(tmp_path / name) == "csv"
        ann = read_annotations(tmp_path / name)
        assert ann.find("Runner/Runner001.avi").intervals == ((102, 184),) and len(ann) == 2
    (tmp_path / "ped2.txt").write_text("video,anomaly_start_frame,anomaly_end_frame\nTest001,61,180\n")
    assert detect_format(tmp_path / "ped2.txt") == "ped2"
    (tmp_path / "list.txt").write_text("Abuse/Abuse001_x264.mp4\n")
    assert detect_format(tmp_path / "list.txt") == "list"


def test_one_matcher_groups_per_category_as_evaluation_matches(tmp_path):
    """The category a video is fitted with is the one it is evaluated under (Annotations.find)."""
    from extract.store import FeatureStore, write_video
    from videoad import video

    annotations = shared("ucf_crime", "annotations")
    official = read_annotations(annotations / "Temporal_Anomaly_Annotation_for_Testing_Videos.txt")
    assert len(official) == 290 and official.category_of("Abuse028_x264.mp4") == "Abuse"
    assert sum(a.category == "Normal" for a in official.values()) == 150
    with_counts = read_annotations(annotations / "Test_Annotation.txt")
    assert {k.rsplit("/", 1)[-1]: a.category for k, a in with_counts.items()} == {
        k: a.category for k, a in official.items()}
    split = read_annotations(annotations / "Anomaly_Train.txt")  # a plain list: class from the folder
    assert split.category_of("Abuse/Abuse001_x264.mp4") == "Abuse" and not split.find("Abuse001_x264").intervals

    attrs = {"n_frames": 40, "fps": 25.0, "clip_len": 16, "stride": 16, "backbone": "motion"}
    frames = np.array([[0, 15], [16, 31]])
    for key in ["Abuse028_x264.mp4", "x/Arrest001_x264.mp4", "Normal_Videos_003_x264", "mine.mp4"]:
        write_video(tmp_path, key, np.ones((2, 3), np.float32), frames, attrs)
    store = FeatureStore(tmp_path)
    groups = video.make_groups(store, "per-category", annotations / "Test_Annotation.txt")
    assert groups["Abuse"] == ["Abuse028_x264.mp4"]
    assert groups["Arrest"] == ["x/Arrest001_x264.mp4"]
    assert groups["Normal"] == ["Normal_Videos_003_x264"]  # a frame folder matches without its extension
    assert groups["unannotated"] == ["mine.mp4"]
    assert video.categories(store, official)["x/Arrest001_x264.mp4"] == "Arrest"
    assert video.make_groups(store, "per-category") == {".": ["Abuse028_x264.mp4", "Normal_Videos_003_x264",
                                                              "mine.mp4"], "x": ["x/Arrest001_x264.mp4"]}


def test_one_annotation_is_never_the_ground_truth_of_two_scored_videos(tmp_path):
    """`day.mp4` in the labels and two cameras' `day.mp4` scored: both took its labels, and every
    figure was computed from another video's ground truth."""
    from videoad.metrics import evaluate_scores
    from videoad.scores import ScoreSet, VideoScores

    path = tmp_path / "labels.csv"
    path.write_text("video,start,end,n_frames\nday.mp4,1,32,64\n")
    ann = read_annotations(path)
    starts = np.arange(13) * 4
    vids = [VideoScores(k, np.linspace(0, 1, 13), np.stack([starts, starts + 15], 1), 64, 10.0)
            for k in ("cam1/day.mp4", "cam2/day.mp4")]
    with pytest.raises(AnnotationError, match=r"the annotation of 'day' matches 2 scored videos \(cam1/day.mp4, "
                                              r"cam2/day.mp4\)"):
        evaluate_scores(ScoreSet(vids, {}), ann)
    assert evaluate_scores(ScoreSet(vids[:1], {}), ann).pooled.n_frames == 64  # one camera: its labels


def test_two_videos_that_differ_by_extension_are_not_one_annotation(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("video,start,end\ncam/clip.mp4,1,16\ncam/clip.avi,81,96\n")
    with pytest.raises(AnnotationError, match=r"labels.csv:3: 'cam/clip.avi' and 'cam/clip.mp4' name one video"):
        read_csv_labels(path)
    path.write_text("video,start,end\ncam/clip.mp4,1,16\ncam/clip,81,96\ncam/clip.MP4,100,110\n")
    assert read_csv_labels(path)["cam/clip"].intervals == ((1, 16), (81, 96), (100, 110))  # one video, spelt 3 ways


def test_an_interval_ending_far_past_its_video_is_clipped_with_a_warning(caplog):
    a = VideoAnnotation("v", intervals=((90, 400),), source="gt.csv")
    np.testing.assert_array_equal(np.flatnonzero(a.frame_labels(96)), np.arange(89, 96))
    assert "interval 90-400 ends 304 frames after the video's last frame (96 frames)" in caplog.text
    caplog.clear()
    VideoAnnotation("u", intervals=((90, 98),), source="gt.csv").frame_labels(96)  # UCF-Crime's 1-2 frames
    assert "ends" not in caplog.text


def test_a_semicolon_csv_under_another_suffix_says_so(tmp_path):
    path = tmp_path / "labels.txt"
    path.write_text("video;start;end\nRunner001;116;170\n")
    assert detect_format(path) == "csv"
    with pytest.raises(AnnotationError, match=r"separated by ';': save it with commas"):
        read_annotations(path)


def test_names_of_digits_python_reads_but_int_does_not_break_no_lookup(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("video,start,end\n\u2460,1,2\ncam/a.mp4,3,4\n07,5,6\n", encoding="utf-8")
    ann = read_annotations(path)
    assert ann.find("x/cam/a.mp4").intervals == ((3, 4),) and ann.find("7").intervals == ((5, 6),)
    assert ann.find("\u0660\u0667").intervals == ((5, 6),)  # Arabic-Indic 07: the number 7, as 07 is


def test_a_ped2_csv_naming_videos_with_their_extension_matches_them(tmp_path):
    """`Runner001.avi,300,116,170` never matched the scored `Runner/Runner001.avi` (every other
    reader drops a video extension; this one kept it)."""
    path = tmp_path / "gt.csv"
    path.write_text("video,num_frames,anomaly_start_frame,anomaly_end_frame\nRunner001.avi,300,116,170\n"
                    "01,180,61,180\n")
    ann = read_annotations(path)
    assert sorted(ann) == ["01", "Runner001"]
    assert ann.find("Runner/Runner001.avi").intervals == ((116, 170),)


def test_names_with_accents_match_whether_composed_or_decomposed(tmp_path):
    """macOS writes `é` in a file name as `e` plus a combining accent (NFD); an annotation typed on
    another system holds one character (NFC). The two never matched: every such video was "no
    ground truth" and left out of the figures, with no hint why."""
    import unicodedata

    from videoad.datasets.annotations import AnnotationError, read_annotations

    nfc, nfd = (unicodedata.normalize(form, "entrée_caméra") for form in ("NFC", "NFD"))
    assert nfc != nfd
    for typed, stored in ((nfc, nfd), (nfd, nfc)):
        gt = tmp_path / f"gt_{len(typed)}.csv"
        gt.write_text(f"video,start,end\n{typed}.mp4,10,20\nplain.mp4,-1,-1\n", encoding="utf-8")
        found = read_annotations(gt).match([f"site/{stored}.mp4", "site/plain.mp4"])
        assert found[f"site/{stored}.mp4"].intervals == ((10, 20),)
        assert found["site/plain.mp4"].intervals == ()
    # per-frame label files named on macOS (decomposed) against scores named elsewhere
    labels = tmp_path / "labels"
    labels.mkdir()
    np.save(labels / f"{nfd}.npy", np.array([0, 1, 1, 0]))
    assert read_annotations(labels, fmt="frames").find(f"{nfc}.avi").intervals == ((2, 3),)
    # one name written both ways is one video: a CSV's rows add its intervals (one per row), and
    # UCF-Crime's list, one line per video, holds it twice
    both = tmp_path / "both.csv"
    both.write_text(f"video,start,end\n{nfc}.mp4,1,2\n{nfd}.mp4,5,6\n", encoding="utf-8")
    assert read_annotations(both).find(nfc).intervals == ((1, 2), (5, 6))
    ucf = tmp_path / "Temporal_Anomaly_Annotation.txt"
    ucf.write_text(f"{nfc}.mp4  Arson  1  2  -1  -1\n{nfd}.mp4  Arson  5  6  -1  -1\n", encoding="utf-8")
    with pytest.raises(AnnotationError, match="listed twice"):
        read_annotations(ucf)


@pytest.mark.parametrize("name, header", [("labels.txt", "Video,Start,End,Category"),
                                          ("gt.csv", "VIDEO,START,END"),
                                          ("ped2.csv", "Video,Num_Frames,Anomaly_Start_Frame,Anomaly_End_Frame")])
def test_column_names_are_read_whatever_their_case(tmp_path, name, header):
    """A spreadsheet's header `Video,Start,End` was "missing column(s) ['video', 'start', 'end']"
    (and a .txt of it was not taken for a CSV at all)."""
    from videoad.datasets.annotations import read_annotations

    path = tmp_path / name
    row = "01.avi,180,61,180" if "Num_Frames" in header else "01.avi,61,180" + (",Walk" if "Category" in header else "")
    path.write_text(f"{header}\n{row}\n", encoding="utf-8")
    a = read_annotations(path).find("testing/frames/01")
    assert a.intervals == ((61, 180),)
    assert a.category == ("Walk" if "Category" in header else "ped2" if "Num_Frames" in header else "")


def test_intervals_are_one_based_and_inclusive_at_both_ends_and_times_fall_in_the_frames_shown(tmp_path):
    """Frames 1 and 10 of a 10-frame video are its first and last (0-based 0 and 9); at NTSC's
    30000/1001 fps, 2.0 s falls in frame 60 (59.94 frames in) and 3.0 s in frame 90 (89.91)."""
    p = tmp_path / "gt.csv"
    p.write_text("video,start,end\na,1,1\na,10,10\nb,2.0s,3.0s\n")
    ann = read_csv_labels(p)
    np.testing.assert_array_equal(np.flatnonzero(ann.require("a").frame_labels(10)), [0, 9])
    b = ann.resolve_times({"a": 29.97, "b": 30000 / 1001}).require("b")
    assert b.intervals == ((60, 90),)
    np.testing.assert_array_equal(np.flatnonzero(b.frame_labels(100))[[0, -1]], [59, 89])
