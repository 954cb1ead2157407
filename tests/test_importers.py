"""Importers: Sultani's 32-segment files (the real ones in ../shared/data) and per-video .npy
arrays (fabricated RTFM / video_features layouts), through the store and the CLI."""
from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from extract.importers import (import_npy, import_sultani, matlab_round, read_frame_counts,
                               sultani_segments)
from extract.store import FeatureStore
from _paths import shared  # noqa: E402

SULTANI = ("ucf_crime", "c3d_32seg_sultani")
TEST_ANNOTATION = ("ucf_crime", "annotations", "Test_Annotation.txt")
SULTANI_VIDEOS = {  # key in the annotation -> frame count (data README, table 2b)
    "Explosion/Explosion008_x264.mp4": 1748,
    "RoadAccidents/RoadAccidents022_x264.mp4": 716,
    "RoadAccidents/RoadAccidents123_x264.mp4": 1005,
    "Shooting/Shooting008_x264.mp4": 1625,
    "Shoplifting/Shoplifting028_x264.mp4": 1357,
    "Testing_Normal_Videos_Anomaly/Normal_Videos_024_x264.mp4": 1076,
}


# -- segment arithmetic --------------------------------------------------------------------------
def test_matlab_round_takes_halves_up():
    assert matlab_round(np.array([0.5, 1.5, 2.5, 2.4999])).tolist() == [1, 2, 3, 2]


def test_segments_follow_the_matlab_boundaries_half_up():
    # 17 clips: linspace(1, 17, 33) = 1, 1.5, 2, 2.5, ...; MATLAB rounds every .5 up
    clips, frames = sultani_segments(17 * 16 + 5)
    firsts = [1 + math.ceil(k / 2) for k in range(32)]
    assert clips[:, 0].tolist() == firsts
    assert clips[:, 1].tolist() == [max(firsts[k + 1] - 1, firsts[k]) if k < 31 else 17 for k in range(32)]
    assert frames[3].tolist() == [(3 - 1) * 16, 3 * 16 - 1]  # segment 4 = clip 3 (numpy's round: clip 2)


def test_segment_32_stops_one_clip_early():
    clips, frames = sultani_segments(1748)  # Explosion008: 109 clips
    assert clips[0].tolist() == [1, 3] and clips[-1].tolist() == [106, 108]
    assert frames[0].tolist() == [0, 47] and frames[-1].tolist() == [105 * 16, 108 * 16 - 1]
    assert (np.diff(frames[:, 0]) >= 0).all() and frames.max() < 1748


def test_segments_of_a_too_short_video_fail():
    with pytest.raises(ValueError, match="15 frames hold no complete 16-frame clip"):
        sultani_segments(15)


# -- annotation frame counts ---------------------------------------------------------------------
def test_frame_counts_from_the_real_annotation():
    counts = read_frame_counts(shared(*TEST_ANNOTATION))
    assert len(counts.entries) == 290
    assert sum(n for _, n in counts.entries.values()) == 1_111_808
    assert counts.entries["Explosion008_x264"] == ("Explosion/Explosion008_x264.mp4", 1748)


def test_frame_counts_errors_name_file_and_line(tmp_path):
    bad = tmp_path / "ann.txt"
    bad.write_text("A/a.mp4 100 A 1 2 -1 -1\nB/b.mp4 B 1 2 -1 -1\n")
    with pytest.raises(ValueError, match=r"ann\.txt:2: frame count 'B' is not an integer"):
        read_frame_counts(bad)
    # a count of 1e11 was taken (evaluate then asked for 93 GB); one video given two counts kept the last
    bad.write_text("A/a.mp4 100 A 1 2 -1 -1\nB/b.mp4 100000000000 B 1 2 -1 -1\n")
    with pytest.raises(ValueError, match=r"ann\.txt:2: frame count 100000000000 is beyond any video"):
        read_frame_counts(bad)
    bad.write_text("A/a.mp4 1748 A 1 2 -1 -1\nA/a.mp4 900 A 1 2 -1 -1\n")
    with pytest.raises(ValueError, match=r"ann\.txt:2: video 'A/a.mp4' listed twice with different frame counts "
                                         r"\(1748, 900\)"):
        read_frame_counts(bad)
    bad.write_text("A/a.mp4 1748 A 1 2 -1 -1\nA/a.mp4 1748 A 1 2 -1 -1\n")  # the same line twice: one count
    assert read_frame_counts(bad).entries == {"a": ("A/a.mp4", 1748)}


# -- Sultani import ------------------------------------------------------------------------------
def test_sultani_round_trip_on_the_real_files(tmp_path):
    out = tmp_path / "store"
    sultani, annotation = shared(*SULTANI), shared(*TEST_ANNOTATION)
    result = import_sultani(sultani, out, annotation)
    assert sorted(result.written) == sorted(SULTANI_VIDEOS) and not result.failed
    store = FeatureStore(out)
    assert store.keys() == sorted(SULTANI_VIDEOS)
    for key, n_frames in SULTANI_VIDEOS.items():
        video = store.load(key)
        source = np.loadtxt(sultani / (Path(key).stem + ".txt"))
        np.testing.assert_allclose(video.features, source, rtol=1e-6)
        np.testing.assert_array_equal(video.frames, sultani_segments(n_frames)[1])
        assert video.attrs["n_frames"] == n_frames and video.attrs["fps"] == 30.0
        assert video.attrs["backbone"] == "c3d" and video.attrs["import_format"] == "sultani32"
        assert video.attrs["l2_normalised"] and video.attrs["row_kind"] == "segment"
    assert set(store.groups()) == {"Explosion", "RoadAccidents", "Shooting", "Shoplifting",
                                   "Testing_Normal_Videos_Anomaly"}
    again = import_sultani(sultani, out, annotation)
    assert not again.written and len(again.skipped) == 6
    assert len(import_sultani(sultani / "Shooting008_x264.txt", out, annotation,
                              overwrite=True).written) == 1


def test_sultani_bad_files_are_reported_and_the_rest_imported(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(shared(*SULTANI, "RoadAccidents022_x264.txt"), src)
    np.savetxt(src / "Explosion008_x264.txt", np.ones((31, 8)))
    np.savetxt(src / "Nowhere001_x264.txt", np.ones((32, 8)))
    (src / "Shooting008_x264.txt").write_text("0.1 0.2 x\n")
    huge = np.loadtxt(shared(*SULTANI, "Shoplifting028_x264.txt"))
    huge[3, 0] = 1e39  # finite as text, beyond float32: it was stored as inf and the fit failed naming no file
    np.savetxt(src / "Shoplifting028_x264.txt", huge)
    result = import_sultani(src, tmp_path / "store", shared(*TEST_ANNOTATION))
    assert result.written == ["RoadAccidents/RoadAccidents022_x264.mp4"]
    reasons = dict(result.failed)
    assert "expected 32 rows (segments), got 31" in reasons[str(src / "Explosion008_x264.txt")]
    assert "'Nowhere001_x264' is not listed in" in reasons[str(src / "Nowhere001_x264.txt")]
    assert "not a whitespace-separated numeric table" in reasons[str(src / "Shooting008_x264.txt")]
    assert "values beyond the float32 range the store holds (max |x| 1e+39)" in reasons[str(src / "Shoplifting028_x264.txt")]


# -- .npy import ---------------------------------------------------------------------------------
@pytest.fixture
def rtfm_release(tmp_path):
    """A flat folder of ten-crop arrays named like RTFM's UCF-Crime I3D release."""
    src = tmp_path / "rtfm"
    src.mkdir()
    rng = np.random.default_rng(0)
    arrays = {"Abuse028_x264": rng.random((5, 10, 6)), "Normal_Videos_003_x264": rng.random((3, 10, 6))}
    for stem, arr in arrays.items():
        np.save(src / f"{stem}_i3d.npy", arr.astype(np.float32))
    np.save(src / "Abuse028_x264_fps.npy", np.array(30.0))  # a video_features side-car: ignored
    ann = tmp_path / "ann.txt"
    ann.write_text("Abuse/Abuse028_x264.mp4 90 Abuse 10 20 -1 -1\n"
                   "Testing_Normal_Videos_Anomaly/Normal_Videos_003_x264.mp4 50 Normal -1 -1 -1 -1\n")
    return src, ann, arrays


@pytest.mark.parametrize("crops", ["mean", "keep", 3])
def test_npy_ten_crop_round_trip(tmp_path, rtfm_release, crops):
    src, ann, arrays = rtfm_release
    out = tmp_path / f"store-{crops}"
    result = import_npy(src, out, frame_counts=ann, suffix="_i3d", crops=crops, backbone="i3d")
    assert sorted(result.written) == ["Abuse/Abuse028_x264.mp4",
                                      "Testing_Normal_Videos_Anomaly/Normal_Videos_003_x264.mp4"]
    video = FeatureStore(out).load("Abuse/Abuse028_x264.mp4")
    arr = arrays["Abuse028_x264"]
    expected = {"mean": arr.mean(1), "keep": arr.reshape(5, 60), 3: arr[:, 3]}[crops]
    np.testing.assert_allclose(video.features, expected, rtol=1e-6)
    assert video.frames.tolist() == [[16 * i, 16 * i + 15] for i in range(5)]
    assert video.attrs["n_frames"] == 90 and video.attrs["crops"] == 10
    assert video.attrs["backbone"] == "i3d"


def test_npy_without_annotation_keeps_the_folder_layout(tmp_path):
    src = tmp_path / "vf" / "Fighting"
    src.mkdir(parents=True)
    np.save(src / "Fighting003_x264_r21d.npy", np.ones((4, 3), np.float32))
    np.save(src / "Fighting003_x264_timestamps_ms.npy", np.arange(4.0))
    result = import_npy(tmp_path / "vf", tmp_path / "store", suffix="_r21d", stride=8, clip_len=16)
    assert result.written == ["Fighting/Fighting003_x264"] and not result.failed
    video = FeatureStore(tmp_path / "store").load("Fighting/Fighting003_x264")
    assert video.frames.tolist() == [[0, 15], [8, 23], [16, 31], [24, 39]]
    assert video.attrs["n_frames"] == 40 and "estimated" in video.attrs["frame_count_source"]


def test_npy_bad_files_are_named(tmp_path, rtfm_release):
    src, ann, _ = rtfm_release
    np.save(src / "Abuse028_x264_i3d.npy", np.ones((7, 10, 6), np.float32))  # 7 x 16 > 90 frames
    np.save(src / "Normal_Videos_003_x264_i3d.npy", np.full((2, 3, 4, 5), np.nan, np.float32))
    result = import_npy(src, tmp_path / "store", frame_counts=ann, suffix="_i3d")
    reasons = dict(result.failed)
    assert not result.written
    assert "start past the video's 90 frames" in reasons[str(src / "Abuse028_x264_i3d.npy")]
    assert "expected (n, dim) or (n, crops, dim), got shape (2, 3, 4, 5)" in \
        reasons[str(src / "Normal_Videos_003_x264_i3d.npy")]
    with pytest.raises(ValueError, match="no feature files matching"):
        import_npy(src, tmp_path / "store", suffix="_flow")


def test_npy_snippets_padded_past_the_end_empty_files_duplicates_and_odd_names(tmp_path, rtfm_release):
    """ceil(n_frames / 16) snippets: the last one's range ends at the video's last frame, so the
    store evaluates (it ended past it and evaluate refused the video). An empty file, a second file
    of the same video and a file not named with the suffix fail alone, named (the empty one
    aborted the whole import; the duplicate replaced the first silently; the name lost letters)."""
    from videoad.metrics import clip_to_frames

    src, ann, arrays = rtfm_release
    np.save(src / "Abuse028_x264_i3d.npy", np.ones((6, 10, 6), np.float32))  # ceil(90 / 16) = 6
    (src / "Normal_Videos_003_x264_i3d.npy").write_bytes(b"")
    (src / "dup").mkdir()
    np.save(src / "dup" / "Abuse028_x264_i3d.npy", np.zeros((6, 10, 6), np.float32))
    np.save(src / "_i3d.npy", np.ones((2, 6), np.float32))
    result = import_npy(src, tmp_path / "store", frame_counts=ann, suffix="_i3d")
    assert result.written == ["Abuse/Abuse028_x264.mp4"]
    video = FeatureStore(tmp_path / "store").load("Abuse/Abuse028_x264.mp4")
    assert video.frames[-1].tolist() == [80, 89] and video.features.sum() > 0  # the first file's, kept
    assert len(clip_to_frames(np.ones(6), video.frames, 90)) == 90
    reasons = dict(result.failed)
    assert "the file is empty" in reasons[str(src / "Normal_Videos_003_x264_i3d.npy")]
    assert "names the same video (Abuse/Abuse028_x264.mp4) as" in reasons[str(src / "dup" / "Abuse028_x264_i3d.npy")]
    assert "not named <video>_i3d.npy" in reasons[str(src / "_i3d.npy")]
    # values a float32 store cannot hold, or complex ones, fail named (stored as inf or halved before)
    np.save(src / "Normal_Videos_003_x264_i3d.npy", np.full((3, 6), 1e39))
    again = import_npy(src, tmp_path / "store2", frame_counts=ann, suffix="_i3d")
    assert "beyond the float32 range" in dict(again.failed)[str(src / "Normal_Videos_003_x264_i3d.npy")]
    np.save(src / "Normal_Videos_003_x264_i3d.npy", np.ones((3, 6)) * (1 + 2j))
    again = import_npy(src, tmp_path / "store3", frame_counts=ann, suffix="_i3d")
    assert "complex values" in dict(again.failed)[str(src / "Normal_Videos_003_x264_i3d.npy")]


# -- CLI -----------------------------------------------------------------------------------------
def test_cli_import_sultani_and_npy(tmp_path, rtfm_release):
    from videoad.cli import cli

    runner = CliRunner()
    res = runner.invoke(cli, ["import", "sultani", str(shared(*SULTANI, "Explosion008_x264.txt")),
                              "-o", str(tmp_path / "s"), "--annotations", str(shared(*TEST_ANNOTATION))])
    assert res.exit_code == 0, res.output
    assert "written 1" in res.output
    assert FeatureStore(tmp_path / "s").keys() == ["Explosion/Explosion008_x264.mp4"]

    src, ann, _ = rtfm_release
    np.save(src / "Broken_i3d.npy", np.ones((2, 2, 2, 2), np.float32))
    res = runner.invoke(cli, ["import", "npy", str(src), "-o", str(tmp_path / "n"), "--suffix", "_i3d",
                              "--crops", "keep"])
    assert res.exit_code == 1
    assert "written 2" in res.output and "Broken_i3d.npy" in res.output
    (tmp_path / "a-file").write_text("not a folder")  # -o naming a file: one line, no traceback
    res = runner.invoke(cli, ["import", "npy", str(src), "-o", str(tmp_path / "a-file"), "--suffix", "_i3d"])
    assert res.exit_code == 2 and "is a file" in res.output and res.exception.__class__ is SystemExit


@pytest.mark.parametrize("option", ["--backbone", "--layer"])
@pytest.mark.parametrize("blank", ["", "  "])
def test_a_blank_backbone_or_layer_name_is_a_usage_error_naming_the_option(tmp_path, option, blank):
    """`import npy --backbone ""` stored an empty string as the store's backbone name, exit 0."""
    from videoad.cli import cli

    (tmp_path / "src").mkdir()
    np.save(tmp_path / "src" / "v.npy", np.ones((4, 8), np.float32))
    res = CliRunner().invoke(cli, ["import", "npy", str(tmp_path / "src"), "-o", str(tmp_path / "s"), option, blank])
    assert res.exit_code == 2 and option in res.output and "blank name" in res.output, res.output
    assert not (tmp_path / "s").exists()
    with pytest.raises(ValueError, match=option[2:]):  # the library call alike
        import_npy(tmp_path / "src", tmp_path / "s", **{option[2:]: blank})
    assert not (tmp_path / "s").exists()


def test_npy_snippets_that_cover_a_part_of_the_video_are_refused(tmp_path, rtfm_release):
    """20 snippets at stride 16 for a 950-frame video covered frames 0-319; evaluation padded the
    other 630 frames with the last snippet's score."""
    src, ann, _ = rtfm_release
    np.save(src / "Abuse028_x264_i3d.npy", np.ones((3, 10, 6), np.float32))  # 3 x 16 = 48 of 90 frames
    result = import_npy(src, tmp_path / "store", frame_counts=ann, suffix="_i3d")
    assert "cover frames 0-47 of the video's 90" in dict(result.failed)[str(src / "Abuse028_x264_i3d.npy")]
    np.save(src / "Abuse028_x264_i3d.npy", np.ones((5, 10, 6), np.float32))  # 80 of 90: floor(90 / 16) = 5
    result = import_npy(src, tmp_path / "store", frame_counts=ann, suffix="_i3d")
    assert "Abuse/Abuse028_x264.mp4" in result.written


def test_frame_counts_with_a_byte_order_mark(tmp_path):
    """A Test_Annotation.txt saved with a BOM put '\\ufeffExplosion' into a store key and a group."""
    path = tmp_path / "counts.txt"
    path.write_text("\ufeffExplosion/Explosion008_x264.mp4 1748 Explosion 1 2 -1 -1\n", encoding="utf-8")
    assert read_frame_counts(path).entries["Explosion008_x264"] == ("Explosion/Explosion008_x264.mp4", 1748)


def test_npy_files_that_are_not_one_plain_array_are_named_and_the_rest_imported(tmp_path):
    """An .npz under a .npy name stopped the whole import with an AttributeError; a 64-byte file whose
    header claimed 35 PiB raised a MemoryError; an empty mean cube printed only "Aborted!"; numpy's
    message on pickled data advised loading it unsafely."""
    import io
    import pickle

    from extract.array_files import read_npy
    from extract.backbones.c3d import load_mean_cube
    from extract.importers import import_npy

    src = tmp_path / "in"
    src.mkdir()
    np.save(src / "b_good.npy", np.ones((20, 8), np.float32))
    np.savez(tmp_path / "a.npz", a=np.ones((20, 8)))
    (tmp_path / "a.npz").rename(src / "a_bad.npy")
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (2**50, 4)})
    (src / "c_huge.npy").write_bytes(header.getvalue())  # the magic and a header, and no data
    np.save(src / "d_objects.npy", np.array([{"x": 1}], dtype=object), allow_pickle=True)
    (src / "e_pickle.npy").write_bytes(pickle.dumps({"x": 1}))
    np.save(src / "f_no_crops.npy", np.ones((5, 0, 8), np.float32))  # was "contains NaN or infinite values"
    result = import_npy(src, tmp_path / "out", fps=10.0)
    assert result.written == ["b_good"]
    reasons = dict(result.failed)
    assert "an .npz archive of several arrays, not one .npy array" in reasons[str(src / "a_bad.npy")]
    assert "cut short or damaged" in reasons[str(src / "c_huge.npy")]
    assert "holds pickled Python objects (dtype object), which are never loaded" in reasons[str(src / "d_objects.npy")]
    assert "not a .npy array file" in reasons[str(src / "e_pickle.npy")]
    assert reasons[str(src / "f_no_crops.npy")].endswith("f_no_crops.npy: empty feature array (5, 0, 8)")
    assert not any("allow_pickle" in r or "If you trust" in r for r in reasons.values())
    (tmp_path / "empty.npy").write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty.npy: the file is empty \(the mean cube, mean=;"):
        load_mean_cube(tmp_path / "empty.npy")
    with pytest.raises(ValueError, match="not a file"):
        read_npy(tmp_path)


def test_models_and_histories_refuse_imported_features_of_another_layer_crop_or_width(tmp_path):
    """Models fitted on I3D rgb features scored flow features of the same width (and a ten-crop mean
    scored crop 0 alone) with no word; another width failed only after the whole fit, naming
    neither store."""
    from videoad.cli import cli

    rng = np.random.default_rng(0)
    for name, shape in (("tc", (120, 10, 16)), ("w", (120, 8))):
        (tmp_path / name / "cam").mkdir(parents=True)
        for i in range(3):
            np.save(tmp_path / name / "cam" / f"v{i}.npy", rng.normal(size=shape).astype("f4"))
    runner = CliRunner()

    def run(*args):
        return runner.invoke(cli, [str(a) for a in args])

    for out, opts in (("rgb", ["--layer", "rgb"]), ("flow", ["--layer", "flow"]),
                      ("mean", ["--crops", "mean"]), ("crop0", ["--crops", "0"])):
        res = run("import", "npy", tmp_path / "tc", "-o", tmp_path / out, "--fps", 10, "--backbone", "i3d", *opts)
        assert res.exit_code == 0, res.output
    assert run("import", "npy", tmp_path / "w", "-o", tmp_path / "w8", "--fps", 10, "--backbone", "i3d",
               "--layer", "rgb").exit_code == 0
    res = run("detect", "--fit-on", tmp_path / "rgb", "--pooled", "-o", tmp_path / "s", "--save-model", tmp_path / "m")
    assert res.exit_code == 0, res.output
    res = run("detect", tmp_path / "flow", "--model", tmp_path / "m", "-o", tmp_path / "s2")
    assert res.exit_code != 0 and "layer (imported: --layer): 'rgb' (fitted) vs 'flow'" in res.output, res.output
    res = run("detect", tmp_path / "flow", "--fit-on", tmp_path / "rgb", "--pooled", "-o", tmp_path / "s3")
    assert res.exit_code != 0 and "was not extracted as the history" in res.output and "'flow'" in res.output
    res = run("detect", tmp_path / "crop0", "--fit-on", tmp_path / "mean", "--pooled", "-o", tmp_path / "s4")
    assert res.exit_code != 0 and "crops (imported: --crops): 'mean' (fitted) vs '0'" in res.output, res.output
    res = run("detect", tmp_path / "w8", "--fit-on", tmp_path / "rgb", "--pooled", "-o", tmp_path / "s5")
    assert res.exit_code != 0 and "feature width (values per clip): 16 (fitted) vs 8" in res.output, res.output
    assert not (tmp_path / "s5" / "segments.csv").exists()
    res = run("detect", tmp_path / "rgb", "--model", tmp_path / "m", "-o", tmp_path / "s6")  # alike: scored
    assert res.exit_code == 0, res.output


def test_an_import_into_a_store_adds_alike_features_of_new_files_only(tmp_path, rtfm_release):
    """Importing the same folder with and without --annotations stored every video twice under two
    keys (detect then fitted and scored each twice); other options went into the same store without
    a word; a source file changed since was "already present"."""
    src, ann, arrays = rtfm_release
    store = tmp_path / "store"
    first = import_npy(src, store, suffix="_i3d", backbone="i3d")
    assert sorted(first.written) == ["Abuse028_x264", "Normal_Videos_003_x264"]
    again = import_npy(src, store, suffix="_i3d", backbone="i3d")  # the same files: already there
    assert again.skipped == sorted(first.written) and not again.written and not again.failed
    twice = import_npy(src, store, frame_counts=ann, suffix="_i3d", backbone="i3d")  # other keys, same files
    assert not twice.written and len(twice.failed) == 2
    assert all("its bytes are those of the file imported as " in why for _, why in twice.failed)
    assert sorted(FeatureStore(store).keys()) == sorted(first.written)
    np.save(src / "Abuse028_x264_i3d.npy", np.ones((5, 10, 6), np.float32))  # the source changed since
    changed = import_npy(src, store, suffix="_i3d", backbone="i3d")
    assert dict(changed.failed)[str(src / "Abuse028_x264_i3d.npy")].endswith(
        "the store's file of Abuse028_x264 was imported from another file (its SHA-256 differs); --overwrite "
        "replaces it")
    replaced = import_npy(src, store, suffix="_i3d", backbone="i3d", overwrite=True)
    assert "Abuse028_x264" in replaced.written
    assert FeatureStore(store).load("Abuse028_x264").features.sum() == pytest.approx(5 * 6)
    (tmp_path / "more").mkdir()
    np.save(tmp_path / "more" / "New001_i3d.npy", np.zeros((4, 10, 6), np.float32))
    for options, differs in (({"backbone": "c3d"}, "backbone 'i3d' there, 'c3d' here"),
                             ({"backbone": "i3d", "layer": "flow"}, "layer 'unknown' there, 'flow' here"),
                             ({"backbone": "i3d", "crops": "keep"}, "dim 6 there, 60 here")):
        other = import_npy(tmp_path / "more", store, suffix="_i3d", **options)
        assert not other.written and differs in other.failed[0][1], other.failed
    alike = import_npy(tmp_path / "more", store, suffix="_i3d", backbone="i3d")
    assert alike.written == ["New001"]
    # every video again with another --layer and --overwrite: replaced, all of them (the review's case:
    # one was written, the others refused against the first's old kind, a mixed store left)
    (tmp_path / "all").mkdir()
    for name in ("Abuse028_x264", "Normal_Videos_003_x264", "New001"):
        shutil.copy(src / f"{name}_i3d.npy" if name != "New001" else tmp_path / "more" / "New001_i3d.npy",
                    tmp_path / "all" / f"{name}_i3d.npy")
    again = import_npy(tmp_path / "all", store, suffix="_i3d", backbone="i3d", layer="fc7", overwrite=True)
    assert sorted(again.written) == sorted(FeatureStore(store).keys()) and not again.failed, again.failed
    some = import_npy(tmp_path / "more", store, suffix="_i3d", backbone="i3d", layer="rgb", overwrite=True)
    assert not some.written and "layer 'fc7' there, 'rgb' here" in some.failed[0][1]  # the others stay fc7
    # every video again with --overwrite, one file of which fails: the store holds two kinds, and says so
    np.save(tmp_path / "all" / "New001_i3d.npy", np.zeros((0, 10, 6), np.float32))
    partial = import_npy(tmp_path / "all", store, suffix="_i3d", backbone="i3d", layer="fc9", overwrite=True)
    assert len(partial.written) == 2 and len(partial.failed) == 1
    assert partial.notes and "now holds features of 2 kinds" in partial.notes[0], partial.notes
    import_npy(tmp_path / "more", store, suffix="_i3d", backbone="i3d", layer="fc9", overwrite=True)
    # a damaged feature file of the store is named as such
    (store / "New001.h5").write_bytes(b"not hdf5")
    damaged = import_npy(tmp_path / "more", store, suffix="_i3d", backbone="i3d", layer="fc9")
    assert "the store's file of New001 cannot be read (damaged); --overwrite replaces it" in damaged.failed[0][1]


def test_a_rerun_with_other_options_is_not_already_present(tmp_path, rtfm_release):
    """A rerun over the same files with a corrected --stride, --fps, --crops or frame count said
    "already present" (exit 0) and the store kept the frame ranges and rate of the first run."""
    src, _, _ = rtfm_release
    store = tmp_path / "store"
    assert len(import_npy(src, store, suffix="_i3d", stride=16).written) == 2
    for options, differs in (({"stride": 8}, "stride 16 there, 8 here"), ({"fps": 25.0}, "fps 30.0 there, 25.0 here"),
                             ({"crops": 0}, "crop_reduce 'mean' there, '0' here")):
        rerun = import_npy(src, store, suffix="_i3d", **options)
        assert not rerun.skipped and not rerun.written and len(rerun.failed) == 2, rerun
        assert all(differs in why and why.endswith("--overwrite replaces it") for _, why in rerun.failed), rerun.failed
    assert FeatureStore(store).load("Abuse028_x264").frames[1].tolist() == [16, 31]
    fixed = import_npy(src, store, suffix="_i3d", stride=8, overwrite=True)
    assert len(fixed.written) == 2 and FeatureStore(store).load("Abuse028_x264").frames[1].tolist() == [8, 23]
    assert len(import_npy(src, store, suffix="_i3d", stride=8).skipped) == 2  # the same options: skipped
    # Sultani's: a frame count corrected in the annotation file
    txt = tmp_path / "c3d"
    txt.mkdir()
    np.savetxt(txt / "Cam001.txt", np.ones((32, 4)))
    ann = tmp_path / "counts.txt"
    ann.write_text("Cls/Cam001.mp4 1000\n")
    s32 = tmp_path / "s32"
    assert import_sultani(txt, s32, ann).written == ["Cls/Cam001.mp4"]
    ann.write_text("Cls/Cam001.mp4 1200\n")
    rerun = import_sultani(txt, s32, ann)
    assert not rerun.skipped and "n_frames 1000 there, 1200 here" in rerun.failed[0][1], rerun
    assert import_sultani(txt, s32, ann, fps=30.0, overwrite=True).written == ["Cls/Cam001.mp4"]
    assert FeatureStore(s32).attrs("Cls/Cam001.mp4")["n_frames"] == 1200
    assert import_sultani(txt, s32, ann).skipped == ["Cls/Cam001.mp4"]


def test_a_layer_option_of_extracted_features_is_still_compared_with_an_older_models_record():
    """The import record's keys once shared their names with backbone options: `layer` left the
    options' comparison, and a models.json written before the keys (C3D fc6) scored fc7 features of
    the same width without a word."""
    import json

    from videoad.video.run import _extraction_of, extraction_mismatch

    def attrs(layer):
        return {"backbone_name": "c3d", "backbone_options": json.dumps({"layer": layer}), "clip_len": 16,
                "stride": 16, "tail": "drop", "dim": 4096, "n_clips": 10, "fps": 25.0, "sampled_fps": 25.0}

    new = _extraction_of(attrs("fc6"))
    old = {k: v for k, v in new.items() if k not in ("import_layer", "import_crops", "dim")}  # c1a4437's record
    for fitted in (old, new):
        problems = extraction_mismatch(fitted, None, ["b"], {"b": attrs("fc7")})
        assert problems == ["backbone option layer: 'fc6' (fitted) vs 'fc7'"], problems
    assert new["import_layer"] is None and new["import_crops"] is None  # extracted, not imported
    assert extraction_mismatch(new, None, ["b"], {"b": attrs("fc6")}) == []
    # the models of commit 4b9200b named the imported layer and crops `layer` and `crop_reduce`
    imported = {**attrs("fc6"), "import_format": "npy", "layer": "fc6", "crop_reduce": "mean",
                "weights_sha256": "unknown (imported)", "backbone_options": None, "backbone_name": "i3d"}
    then = {k: v for k, v in _extraction_of(imported).items() if k not in ("import_layer", "import_crops")}
    then.update(layer="fc6", crop_reduce="mean")
    assert extraction_mismatch(then, None, ["b"], {"b": {**imported, "layer": "fc7"}}) == [
        "layer (imported: --layer): 'fc6' (fitted) vs 'fc7'"]
    assert extraction_mismatch(then, None, ["b"], {"b": {**imported, "crop_reduce": "0"}}) == [
        "crops (imported: --crops): 'mean' (fitted) vs '0'"]
    extracted_then = {**old, "layer": "fc6", "crop_reduce": None}  # an extracted store's: its option compares
    assert extraction_mismatch(extracted_then, None, ["b"], {"b": attrs("fc6")}) == []


def test_an_import_rerun_removes_the_temporaries_a_killed_one_left_and_holds_its_store(tmp_path):
    """An import killed mid-write left `.<key>.h5.<pid>-<id>.tmp`, which no rerun removed (extract's
    did); and an import took no lock on its store."""
    from extract.store import temp_prefix
    from videoad.cli import cli

    src = tmp_path / "vf"
    src.mkdir()
    for i, name in enumerate(("a", "b")):
        np.save(src / f"{name}.npy", np.full((4, 3), i + 1, np.float32))
    store = tmp_path / "store"
    store.mkdir()
    dead = store / f"{temp_prefix(store / 'b.h5')}999999999-deadbeef.tmp"  # a writer long gone
    dead.write_bytes(b"half an HDF5 file")
    alive = store / f"{temp_prefix(store / 'a.h5')}{os.getppid()}-cafe0001.tmp"  # another still writing: kept
    alive.write_bytes(b"being written")
    np.save(src / "._a.npy", np.ones((4, 3), np.float32))  # macOS's junk beside a: no key can take its name
    result = import_npy(src, store)
    assert sorted(result.written) == ["a", "b"] and not dead.exists() and alive.exists()
    assert [p.rsplit("/", 1)[-1] for p, _ in result.failed] == ["._a.npy"]  # it alone fails, named
    (src / "._a.npy").unlink()
    holder = subprocess.Popen(  # another process writing the store (a lock is this process's own otherwise)
        [sys.executable, "-c", "import sys, time; from videoad.output_lock import output_lock\n"
         "with output_lock(sys.argv[1], command='videoad extract'):\n print('held', flush=True); time.sleep(60)",
         str(store)], stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    try:
        assert holder.stdout.readline().strip() == "held"
        res = CliRunner().invoke(cli, ["import", "npy", str(src), "-o", str(store), "--overwrite"])
    finally:
        holder.kill()
        holder.wait()
    assert res.exit_code == 1 and "another videoad is writing this folder now" in res.output, res.output
    assert "videoad extract" in res.output
    res = CliRunner().invoke(cli, ["import", "npy", str(src), "-o", str(tmp_path / "s2")])
    assert res.exit_code == 0 and (tmp_path / "s2" / ".videoad-store").is_file(), res.output  # told as a store


def test_an_import_stops_at_a_store_that_cannot_be_written_and_a_rerun_imports_the_rest(tmp_path, monkeypatch):
    """A full disk failed every remaining file with the same line (1,900 of them for UCF-Crime) and
    went on reading and hashing each; `extract` stops there. Now the import stops too, names why and
    how many files it did not try, and the same command run again imports them."""
    import errno

    from extract import store as store_module
    from videoad.cli import cli

    src = tmp_path / "vf"
    src.mkdir()
    for i, name in enumerate("abcd"):
        np.save(src / f"{name}.npy", np.full((4, 3), i + 1, np.float32))
    real, writes = store_module.write_atomic, []

    def full_from_the_second(final, data):
        writes.append(Path(final).name)
        if len(writes) >= 2:
            raise store_module.output_error(final, OSError(errno.ENOSPC, "No space left on device"))
        return real(final, data)

    monkeypatch.setattr(store_module, "write_atomic", full_from_the_second)
    out = tmp_path / "store"
    res = CliRunner().invoke(cli, ["import", "npy", str(src), "-o", str(out)])
    assert res.exit_code == 1, res.output
    assert writes == ["a.h5", "b.h5"]  # c and d were not tried
    assert "written 1, already present 0, failed 1" in res.output
    assert "b.npy" in res.output and "no space left on the device" in res.output
    assert "2 file(s) not tried" in res.output
    monkeypatch.setattr(store_module, "write_atomic", real)  # space freed: the same command
    res = CliRunner().invoke(cli, ["import", "npy", str(src), "-o", str(out)])
    assert res.exit_code == 0 and "written 3, already present 1, failed 0" in res.output, res.output
    assert sorted(FeatureStore(out).keys()) == ["a", "b", "c", "d"]


def test_two_byte_identical_files_in_one_import_are_named_as_copies(tmp_path):
    """The second of two identical arrays was refused as "imported with other options: --annotations,
    --suffix", which no option of this run was: it is a copy."""
    src = tmp_path / "vf"
    src.mkdir()
    np.save(src / "cam1.npy", np.full((4, 3), 1, np.float32))
    (src / "cam1 copy.npy").write_bytes((src / "cam1.npy").read_bytes())
    result = import_npy(src, tmp_path / "store")
    assert result.written == ["cam1 copy"], result  # the files in name order: the copy's name sorts first
    (path, why), = result.failed
    assert path.endswith("cam1.npy") and "its bytes are those of the file imported as cam1 copy (a copy of it" in why


def test_a_failed_files_name_holding_a_line_feed_stays_on_its_line(tmp_path):
    """`import`'s `FAILED path: reason` printed a line feed in the file's name as it is: the rest of the
    name on a line of its own, read as the command's (`written 9, ...`)."""
    from click.testing import CliRunner

    from videoad.cli import cli

    (tmp_path / "src").mkdir()
    np.save(tmp_path / "src" / "v.npy", np.ones((4, 8), np.float32))
    np.save(tmp_path / "src" / "b\nwritten 9, already present 0, failed 0\r.npy", np.ones((2, 2, 2, 2), np.float32))
    res = CliRunner().invoke(cli, ["import", "npy", str(tmp_path / "src"), "-o", str(tmp_path / "s")])
    assert res.exit_code == 1, res.output
    lines = res.output.splitlines()
    assert lines[0] == "written 1, already present 0, failed 1", res.output
    assert any(x.startswith("FAILED ") and "b\\nwritten 9, already present 0, failed 0\\r.npy: " in x for x in lines)
    assert not any(x.startswith("written 9") for x in lines) and "\r" not in res.output, res.output


def test_scores_of_imported_features_name_no_footage_and_plot_decodes_none(tmp_path, monkeypatch):
    """Scores of imported features named the imported feature file as the video's source: `plot`
    then handed Sultani's .txt to FFmpeg, whose tty demuxer drew the file's numbers as the
    "peak frame" under each timeline (and `report` would cut an event's clip from it)."""
    from videoad.cli import cli
    from videoad.scores import read_scores

    runner = CliRunner()
    store, scores = tmp_path / "store", tmp_path / "scores"
    res = runner.invoke(cli, ["import", "sultani", str(shared(*SULTANI)), "-o", str(store),
                              "--annotations", str(shared(*TEST_ANNOTATION))])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["detect", str(store), "--pooled", "--detector", "pca", "-o", str(scores)])
    assert res.exit_code == 0, res.output
    assert [v.source for v in read_scores(scores)] == [""] * len(SULTANI_VIDEOS)
    import videoad.footage

    read = []
    monkeypatch.setattr(videoad.footage, "read_frames", lambda src, *a, **k: read.append(src) or {})
    res = runner.invoke(cli, ["plot", str(scores), "-o", str(tmp_path / "fig.png"),
                              "--video", "Shooting/Shooting008_x264.mp4"])
    assert res.exit_code == 0, res.output
    assert read == []
