"""Per-frame ground truth (ShanghaiTech / Avenue masks, UCSD's .m files) read as intervals, and
used by the CLI exactly as the interval formats are."""
from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from scipy.io import savemat
from video_helpers import FAST_DUAD, small_store, write_labels

from videoad.cli import cli
from videoad.datasets.annotations import (AnnotationError, Annotations, VideoAnnotation, detect_format,
                                         read_annotations, read_frame_labels, read_ucsd_m)
from videoad.datasets.frame_labels import runs_of


def flags(n, *intervals):
    out = np.zeros(n, dtype=np.uint8)
    for s, e in intervals:
        out[s - 1:e] = 1
    return out


def test_runs_of_a_vector_are_one_based_inclusive():
    assert runs_of(np.array([0, 1, 1, 0, 1])) == ((2, 3), (5, 5))
    assert runs_of(np.array([1, 1, 0])) == ((1, 2),)
    assert runs_of(np.zeros(4)) == ()
    assert runs_of(np.array([0, 255, 0], np.uint8)) == ((2, 2),)  # any nonzero value marks the frame


def test_a_shanghaitech_folder_of_frame_and_pixel_masks(tmp_path):
    folder = tmp_path / "test_frame_mask"
    folder.mkdir()
    np.save(folder / "01_0014.npy", flags(40, (10, 20), (31, 33)))
    np.save(folder / "01_0015.npy", flags(25))  # a normal test video
    pixels = np.zeros((12, 6, 8), np.uint8)
    pixels[3:5, 2, 4] = 1  # frames 4-5 hold a marked pixel
    np.save(folder / "02_0001.npy", pixels)
    (folder / "notes.md").write_text("ignored")
    assert detect_format(folder) == "frames"
    ann = read_annotations(folder)
    assert ann["01_0014"].intervals == ((10, 20), (31, 33)) and ann["01_0014"].n_frames == 40
    assert ann["01_0015"].intervals == () and not ann["01_0015"].is_anomalous
    assert ann["02_0001"].intervals == ((4, 5),) and ann["02_0001"].n_frames == 12
    # matched to store keys as every format is: a frame folder's path, an extension
    assert ann.find("testing/frames/01_0014").video == "01_0014"
    assert ann.find("01_0015.avi").video == "01_0015"
    # one file alone is one video
    one = read_annotations(folder / "01_0014.npy")
    assert list(one) == ["01_0014"] and one["01_0014"].intervals == ((10, 20), (31, 33))


def _avenue_masks(n, marked):
    return [np.full((4, 5), 1 if i + 1 in marked else 0, np.uint8) for i in range(n)]


def _cell(masks):
    cell = np.empty((1, len(masks)), dtype=object)
    for i, m in enumerate(masks):
        cell[0, i] = m
    return cell


def _write_mat73(path, masks):
    """A MATLAB v7.3 file as MATLAB writes one: the 128-byte header in a 512-byte user block,
    then HDF5, the cell as references to transposed arrays under #refs#."""
    with h5py.File(path, "w", userblock_size=512) as fh:
        refs = fh.create_group("#refs#")
        handles = [refs.create_dataset(f"m{i}", data=m.T).ref for i, m in enumerate(masks)]
        fh.create_dataset("volLabel", data=np.array(handles, dtype=h5py.ref_dtype).reshape(-1, 1))
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64".ljust(116, b" ") + b"\0" * 8 + b"\x00\x02IM"
    with open(path, "r+b") as fh:
        fh.write(header)


def test_avenue_label_masks_v5_and_v73_and_the_number_only_names(tmp_path):
    folder = tmp_path / "testing_label_mask"
    folder.mkdir()
    savemat(folder / "1_label.mat", {"volLabel": _cell(_avenue_masks(9, {3, 4, 8}))})
    _write_mat73(folder / "2_label.mat", _avenue_masks(6, {1}))
    assert detect_format(folder / "1_label.mat") == "frames"
    ann = read_annotations(folder)
    assert ann["1"].intervals == ((3, 4), (8, 8)) and ann["1"].n_frames == 9
    assert ann["2"].intervals == ((1, 1),) and ann["2"].n_frames == 6
    # Avenue's videos are 01.avi ... 21.avi: the same number matches, whatever its zeros
    assert ann.find("testing_videos/01.avi").video == "1" and ann.find("02").video == "2"
    assert ann.find("03.avi") is None and ann.find("x1.avi") is None
    clash = Annotations({"1": VideoAnnotation("1"), "a/01": VideoAnnotation("a/01")}, "gt")
    with pytest.raises(AnnotationError, match="matches several annotations"):
        clash.find("001")


def test_the_official_ucsd_m_file(tmp_path):
    m = tmp_path / "UCSDped2.m"
    m.write_text("TestVideoFile = {};\n% clip 1\nTestVideoFile{end+1}.gt_frame = [61:180];\n"
                 "TestVideoFile{end+1}.gt_frame = [95:180];\n"
                 "TestVideoFile{end+1}.gt_frame = [1:5, 10:20 30];\n")
    assert detect_format(m) == "ucsd"
    ann = read_annotations(m)
    assert list(ann) == ["Test001", "Test002", "Test003"]
    assert ann["Test001"].intervals == ((61, 180),)
    assert ann["Test003"].intervals == ((1, 5), (10, 20), (30, 30))
    assert ann.find("UCSDped2/Test/Test002").video == "Test002"


def test_a_ucsd_m_files_comments_are_no_entries(tmp_path):
    """A commented-out line was read as a video's labels, and every later video took those of the
    one before it."""
    m = tmp_path / "UCSDped2.m"
    m.write_text("TestVideoFile = {};\nTestVideoFile{end+1}.gt_frame = [61:180];\n"
                 "% TestVideoFile{end+1}.gt_frame = [90:180];  % before the second look\n"
                 "TestVideoFile{end+1}.gt_frame = [95:180]; % cyclist\n"
                 "%{\nTestVideoFile{end+1}.gt_frame = [1:10];\n  %{\n%}\n%}\n"
                 "TestVideoFile{end+1}.gt_frame = [1:146];\n"
                 "TestVideoFile{end+1}.gt_frame = [9:3];\n")
    with pytest.raises(AnnotationError, match=r"UCSDped2.m:11: range '9:3'"):  # lines still counted
        read_ucsd_m(m)
    m.write_text(m.read_text().replace("[9:3]", "[31:180]"))
    ann = read_ucsd_m(m)
    assert {k: a.intervals for k, a in ann.items()} == {
        "Test001": ((61, 180),), "Test002": ((95, 180),), "Test003": ((1, 146),), "Test004": ((31, 180),)}


def test_a_ucsd_m_files_end_plus_one_follows_the_highest_index(tmp_path):
    """MATLAB's {end+1} after {5} is 6: it was read as 2 (the count of entries plus one), the labels
    of video 6 given to video 2."""
    m = tmp_path / "UCSDped1.m"
    m.write_text("TestVideoFile{5}.gt_frame = [60:152];\nTestVideoFile{end+1}.gt_frame = [50:175];\n"
                 "TestVideoFile{end\t+ 1}.gt_frame = [91:200];\nTestVideoFile{1}.gt_frame = [31:168];\n")
    ann = read_ucsd_m(m)
    assert {k: a.intervals for k, a in ann.items()} == {
        "Test005": ((60, 152),), "Test006": ((50, 175),), "Test007": ((91, 200),), "Test001": ((31, 168),)}


@pytest.mark.parametrize("name, content, problem", [
    ("bad.npy", None, "not a .npy array file"),
    ("nan.npy", np.array([0.0, np.nan]), "NaN"),
    ("empty.npy", np.zeros(0), "holds no frames"),
    ("signs.npy", np.array([-1, -1, 1, 1, -1]), "holds negative values"),  # every frame was anomalous
    ("signs.txt", "-1\n-1\n1\n", "holds negative values"),
    ("words.txt", "0 1 x", "one number per frame"),
    ("two.mat", {"a": np.zeros(3), "b": np.ones(3)}, "found variables"),
])
def test_bad_label_files_name_the_file_and_the_problem(tmp_path, name, content, problem):
    path = tmp_path / name
    if name == "bad.npy":
        path.write_bytes(b"not numpy")
    elif name.endswith(".npy"):
        np.save(path, content)
    elif name.endswith(".txt"):
        path.write_text(content)
    else:
        savemat(path, content)
    with pytest.raises(AnnotationError, match=problem) as err:
        read_frame_labels(path)
    assert str(path) in str(err.value)


def test_folder_and_m_file_errors(tmp_path):
    with pytest.raises(AnnotationError, match="no per-frame label files"):
        read_frame_labels(tmp_path)
    np.save(tmp_path / "a.npy", flags(3))
    np.save(tmp_path / "a_label.npy", flags(3))  # the same video twice
    with pytest.raises(AnnotationError, match=r"a_label.npy: a second label file for video 'a' \(.*a.npy\)"):
        read_frame_labels(tmp_path)
    m = tmp_path / "x.m"
    m.write_text("disp('hello')\n")
    with pytest.raises(AnnotationError, match="not a UCSD .m file"):
        read_ucsd_m(m)
    m.write_text("TestVideoFile{end+1}.gt_frame = [9:3];\n")
    with pytest.raises(AnnotationError, match=r"x.m:1: range '9:3'"):
        read_ucsd_m(m)


def test_the_cli_reads_a_mask_folder_as_it_reads_intervals(tmp_path):
    """detect, evaluate, plot and report take a folder of per-frame masks; evaluate gives the same
    figures as from the equivalent CSV; grouping falls back to the store folder (the masks name
    no class), never to one 'unannotated' group."""
    store = tmp_path / "features"
    videos = small_store(store)
    csv = write_labels(tmp_path / "gt.csv", videos)
    masks = tmp_path / "masks"
    masks.mkdir()
    for key, info in videos.items():
        np.save(masks / (key.split("/")[1].replace(".mp4", "") + ".npy"), flags(info["n_frames"], *info["intervals"]))
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump({"min_clips": 10, "seed": 1, "detector": {"name": "duad", "params": FAST_DUAD}}))
    run = CliRunner().invoke
    res = run(cli, ["detect", str(store), "--config", str(cfg), "--per-category", "--annotations", str(masks),
                    "-o", str(tmp_path / "scores")], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    meta = json.loads((tmp_path / "scores" / "run.json").read_text())
    assert sorted(g["group"] for g in meta["groups"]) == ["A", "B"]
    out = {}
    for name, gt in [("csv", csv), ("masks", masks)]:
        res = run(cli, ["evaluate", str(tmp_path / "scores"), "--annotations", str(gt), "--json",
                        str(tmp_path / f"{name}.json")], catch_exceptions=False)
        assert res.exit_code == 0, res.output
        out[name] = json.loads((tmp_path / f"{name}.json").read_text())
    assert out["masks"]["pooled"] == out["csv"]["pooled"] and out["masks"]["pooled"]["n_videos"] == 3
    assert out["masks"]["per_video"] == out["csv"]["per_video"]
    res = run(cli, ["report", str(tmp_path / "scores"), "--annotations", str(masks), "-o", str(tmp_path / "report"),
                    "--no-clips"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "Frame-level results" in (tmp_path / "report" / "index.html").read_text()
    # a mask of the wrong length is the length error naming the video, as for any format
    np.save(masks / "a2.npy", flags(videos["A/a2.mp4"]["n_frames"] + 7))
    res = run(cli, ["evaluate", str(tmp_path / "scores"), "--annotations", str(masks)])
    assert res.exit_code != 0 and "a2" in res.output and "length mismatch" in res.output


def test_a_gt_mat_with_several_intervals_per_video_reads_its_columns(tmp_path):
    """The `gt` cell layout of ped2.mat (a 2 x M array per video, one column per interval) also
    ships as avenue.mat: two intervals are (s1, e1), (s2, e2), not (s1, s2), (e1, e2); the
    category is the file's stem."""
    cell = np.empty((1, 2), dtype=object)
    cell[0, 0] = np.array([[10, 50], [20, 60]])
    cell[0, 1] = np.array([[5], [9]])
    savemat(tmp_path / "avenue.mat", {"gt": cell})
    ann = read_annotations(tmp_path / "avenue.mat")
    assert ann["01"].intervals == ((10, 20), (50, 60)) and ann["02"].intervals == ((5, 9),)
    assert ann["01"].category == "avenue"


def test_a_folders_label_file_that_is_not_text_or_has_a_bad_token_is_named_with_its_line(tmp_path):
    """A folder's .txt in another encoding said only "'utf-8' codec can't decode byte 0xe9", with no
    file; a bad token named the file and not its line."""
    np.save(tmp_path / "a.npy", flags(3))
    (tmp_path / "b.txt").write_bytes("0\n1\né\n".encode("latin-1"))
    with pytest.raises(AnnotationError, match=r"b\.txt: not a per-frame label file: byte 4 is not UTF-8") as err:
        read_frame_labels(tmp_path)
    assert str(tmp_path / "b.txt") in str(err.value)
    (tmp_path / "b.txt").write_text("0\n1\n0 1\n1 x\n")
    with pytest.raises(AnnotationError, match=r"b\.txt:4: expected one number per frame, got 'x'"):
        read_frame_labels(tmp_path)


def test_a_label_folder_skips_hidden_files_as_the_walk_for_videos_does(tmp_path):
    """macOS leaves `._<name>.npy` (its metadata, not an array) beside each file on a shared or USB
    drive: the labels folder failed as a whole on the first one."""
    from videoad.datasets.annotations import read_annotations

    np.save(tmp_path / "01.npy", np.array([0, 1, 1, 0]))
    (tmp_path / "._01.npy").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ")
    (tmp_path / ".02.npy").write_bytes(b"")
    labels = read_annotations(tmp_path, fmt="frames")
    assert sorted(labels) == ["01"] and labels.find("01").intervals == ((2, 3),)
