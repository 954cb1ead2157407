"""The HDF5 feature store: atomic writes, reader API, groups, annotations, manifest merging."""
from __future__ import annotations

import json
import math

import h5py
import numpy as np
import pytest

from extract.manifest import Manifest, merge_shards, read_store_manifest
from extract.store import FeatureStore, write_video

ATTRS = {"n_frames": 40, "fps": 25.0, "clip_len": 16, "stride": 16, "backbone": "motion"}


def sample(n_clips: int = 3, dim: int = 5, seed: int = 0):
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(n_clips, dim)).astype(np.float32)
    frames = np.array([[16 * i, 16 * i + 15] for i in range(n_clips)])
    return features, frames


def test_round_trip(tmp_path):
    features, frames = sample()
    attrs = {**ATTRS, "fps": math.nan, "layer": None, "backbone_json": {"a": [1, 2]},
             "note": "caméra été"}
    path = write_video(tmp_path, "Abuse/Abuse001_x264.mp4", features, frames, attrs)
    assert path == tmp_path / "Abuse" / "Abuse001_x264.mp4.h5"
    video = FeatureStore(tmp_path).load("Abuse/Abuse001_x264.mp4")
    np.testing.assert_array_equal(video.features, features)
    np.testing.assert_array_equal(video.frames, frames)
    assert video.features.dtype == np.float32 and video.frames.dtype == np.int64
    assert (video.n_clips, video.dim) == (3, 5)
    assert video.attrs["n_frames"] == 40 and math.isnan(video.attrs["fps"])
    assert video.attrs["layer"] == "none" and json.loads(video.attrs["backbone_json"]) == {"a": [1, 2]}
    assert video.attrs["note"] == "caméra été" and video.attrs["n_clips"] == 3


def test_float16_on_request_loads_as_float32(tmp_path):
    features, frames = sample()
    path = write_video(tmp_path, "v.mp4", features, frames, ATTRS, dtype="float16")
    with h5py.File(path) as f:
        assert f["features"].dtype == np.float16
    loaded = FeatureStore(tmp_path).load("v.mp4").features
    assert loaded.dtype == np.float32
    np.testing.assert_allclose(loaded, features, rtol=1e-3, atol=1e-3)


def test_features_that_are_not_finite_numbers_are_refused_naming_the_video(tmp_path):
    """C3D weights holding NaN gave a store of NaN features ("1 done, 0 failed"), and --float16 turned
    values past 65504 into inf; the fit failed later naming no video. Nothing is written."""
    features, frames = sample()
    bad = features.copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"cam/v.mp4: its features hold 1 value\(s\) that are not finite float32 "
                                         r"numbers \(first at clip 1\)"):
        write_video(tmp_path, "cam/v.mp4", bad, frames, ATTRS)
    with pytest.raises(ValueError, match="beyond float16's range"):
        write_video(tmp_path, "cam/v.mp4", features * 1e6, frames, ATTRS, dtype="float16")
    cells = np.ones((features.shape[0], 4, 2), np.float32)
    cells[0, 3, 1] = np.inf
    with pytest.raises(ValueError, match="its cell features hold 1 value"):
        write_video(tmp_path, "cam/v.mp4", features, frames, ATTRS, cells=cells, cell_grid=(2, 2))
    assert not list(tmp_path.rglob("*.h5"))


def test_a_video_without_clips_is_stored_empty(tmp_path):
    write_video(tmp_path, "short.mp4", np.zeros((0, 7), np.float32), np.zeros((0, 2)), ATTRS)
    video = FeatureStore(tmp_path).load("short.mp4")
    assert video.features.shape == (0, 7) and video.frames.shape == (0, 2)


def test_cells_are_stored_beside_the_clip_vectors(tmp_path):
    features, frames = sample(n_clips=3)
    cells = np.arange(3 * 6 * 2, dtype=np.float32).reshape(3, 6, 2)
    path = write_video(tmp_path, "v.mp4", features, frames, ATTRS, cells=cells, cell_grid=(2, 3))
    store = FeatureStore(tmp_path)
    plain = store.load("v.mp4")
    assert plain.cells is None and plain.cell_grid == (2, 3)  # cells are read only on request
    video = store.load("v.mp4", cells=True)
    np.testing.assert_array_equal(video.cells, cells)
    assert video.attrs["format_version"] == 2 and video.attrs["cell_dim"] == 2
    with pytest.raises(ValueError, match="2x2 grid"):
        write_video(tmp_path, "w.mp4", features, frames, ATTRS, cells=cells, cell_grid=(2, 2))
    with pytest.raises(ValueError, match="give both or neither"):
        write_video(tmp_path, "w.mp4", features, frames, ATTRS, cells=cells)
    with h5py.File(path, "r+") as f:
        f.attrs["format_version"] = 9
    with pytest.raises(ValueError, match="schema version 9 is newer"):
        store.load("v.mp4")


def test_cell_region_is_checked_and_read_back(tmp_path):
    features, frames = sample(n_clips=3)
    cells = np.ones((3, 4, 2), np.float32)
    write_video(tmp_path, "v.mp4", features, frames, {**ATTRS, "cell_region": [0.25, 0.0, 0.75, 1.0]},
                cells=cells, cell_grid=(2, 2))
    assert FeatureStore(tmp_path).load("v.mp4").cell_region == (0.25, 0.0, 0.75, 1.0)
    for bad in ([0.5, 0.0, 0.25, 1.0], [0.0, 0.0, 1.0, 1.5], [0.0, 1.0], "centre"):
        with pytest.raises(ValueError, match="cell_region must be"):
            write_video(tmp_path, "w.mp4", features, frames, {**ATTRS, "cell_region": bad},
                        cells=cells, cell_grid=(2, 2))
    with pytest.raises(ValueError, match="cell_region describes cells"):
        write_video(tmp_path, "w.mp4", features, frames, {**ATTRS, "cell_region": [0, 0, 1, 1]})
    assert not (tmp_path / "w.mp4.h5").exists()


def test_version_1_files_without_cells_still_read(tmp_path):
    features, frames = sample()
    path = write_video(tmp_path, "old.mp4", features, frames, ATTRS)
    with h5py.File(path, "r+") as f:  # what a store of schema version 1 holds
        f.attrs["format_version"] = 1
    video = FeatureStore(tmp_path).load("old.mp4", cells=True)
    assert video.cells is None and video.cell_grid is None and video.cell_region is None
    np.testing.assert_array_equal(video.features, features)


@pytest.mark.parametrize("key", ["", "/abs.mp4", "../up.mp4", "a/../b.mp4", ".hidden.mp4",
                                 "a\\b.mp4", "a//b.mp4"])
def test_bad_keys_are_refused(tmp_path, key):
    with pytest.raises(ValueError, match="invalid store key"):
        write_video(tmp_path, key, *sample(), ATTRS)


def test_inconsistent_arrays_and_missing_attrs_are_refused(tmp_path):
    features, frames = sample()
    with pytest.raises(ValueError, match="frames must be"):
        write_video(tmp_path, "v.mp4", features, frames[:2], ATTRS)
    with pytest.raises(ValueError, match="first <= last"):
        write_video(tmp_path, "v.mp4", features, frames[:, ::-1], ATTRS)
    with pytest.raises(ValueError, match="n_frames"):
        write_video(tmp_path, "v.mp4", features, frames, {"fps": 1.0})
    assert list(tmp_path.iterdir()) == []


def test_a_file_whose_arrays_or_attributes_are_not_a_feature_files_is_named_when_read(tmp_path):
    """What `write_video` refuses to write, read from a file another program (or damage) made: the
    reader named none of it (a 1-d `features` failed later as an IndexError; `frames` of another length
    and an `n_clips` not the features' were read as they were)."""
    from extract.store import StoreReadError

    features, frames = sample()
    n = len(features)
    for name in ("flat", "short", "lying"):
        path = write_video(tmp_path, f"{name}.mp4", features, frames, ATTRS)
        with h5py.File(path, "r+") as f:
            if name == "flat":
                del f["features"]
                f["features"] = features[:, 0]
            elif name == "short":
                del f["frames"]
                f["frames"] = frames[:-1]
            else:
                f.attrs["n_clips"] = n + 5
        with pytest.raises(StoreReadError, match=rf"^{path}: not a readable feature file \((features of shape|"
                                                 r"frames of shape|its n_clips attribute says)"):
            FeatureStore(tmp_path).load(f"{name}.mp4")
    path = tmp_path / "foreign.mp4.h5"
    with h5py.File(path, "w") as f:  # another program's HDF5 file under a feature file's name
        f["features"], f["frames"] = features, frames
    assert FeatureStore(tmp_path).load("foreign.mp4").n_clips == n  # the arrays read: its attributes are missing
    with pytest.raises(StoreReadError, match=rf"^{path}: not a readable feature file \(it lacks the attribute\(s\) "
                                             "n_frames, fps, clip_len, stride, backbone"):
        FeatureStore(tmp_path).check("foreign.mp4")
    assert FeatureStore(tmp_path).check("short.mp4")["n_frames"] == ATTRS["n_frames"]


def test_a_failed_write_leaves_neither_a_file_nor_a_temporary(tmp_path):
    with pytest.raises(TypeError):
        write_video(tmp_path, "v.mp4", *sample(), {**ATTRS, "bad": object()})
    assert list(tmp_path.iterdir()) == []


def test_temporaries_and_foreign_files_are_not_listed(tmp_path):
    write_video(tmp_path, "b/2.mp4", *sample(), ATTRS)
    write_video(tmp_path, "a.mp4", *sample(), ATTRS)
    (tmp_path / "b" / ".2.mp4.h5.123-abcd.tmp").write_bytes(b"half written")
    (tmp_path / "notes.txt").write_text("x")
    store = FeatureStore(tmp_path)
    assert store.keys() == ["a.mp4", "b/2.mp4"]
    assert "b/2.mp4" in store and "c.mp4" not in store and len(store) == 2
    with pytest.raises(KeyError):
        store.load("c.mp4")


def test_rewriting_a_key_replaces_it(tmp_path):
    write_video(tmp_path, "v.mp4", *sample(seed=1), ATTRS)
    features, frames = sample(n_clips=2, seed=2)
    write_video(tmp_path, "v.mp4", features, frames, ATTRS)
    np.testing.assert_array_equal(FeatureStore(tmp_path).load("v.mp4").features, features)


def test_groups_by_folder_video_and_all(tmp_path):
    for key in ["Abuse/Abuse001_x264.mp4", "Abuse/Abuse002_x264.mp4", "Normal/n1.mp4", "loose.mp4"]:
        write_video(tmp_path, key, *sample(), ATTRS)
    store = FeatureStore(tmp_path)
    assert store.groups() == {".": ["loose.mp4"],
                              "Abuse": ["Abuse/Abuse001_x264.mp4", "Abuse/Abuse002_x264.mp4"],
                              "Normal": ["Normal/n1.mp4"]}
    assert store.groups("video")["Normal/n1.mp4"] == ["Normal/n1.mp4"]
    assert store.groups("all") == {"all": store.keys()}
    with pytest.raises(ValueError, match="nonsense"):
        store.groups("nonsense")


def test_groups_by_a_labelling_function(tmp_path):
    for key in ["cam1/a.mp4", "cam1/b.mp4", "cam2/c.mp4", "loose.mp4"]:
        write_video(tmp_path, key, *sample(), ATTRS)
    store = FeatureStore(tmp_path)
    groups = store.groups(by=lambda key: "long" if key.startswith("cam1") else "other")
    assert groups == {"long": ["cam1/a.mp4", "cam1/b.mp4"], "other": ["cam2/c.mp4", "loose.mp4"]}


def test_a_store_read_for_some_of_its_videos_lists_and_groups_those_alone(tmp_path):
    for key in ["cam1/a.mp4", "cam1/b.mp4", "cam2/c.mp4"]:
        write_video(tmp_path, key, *sample(), ATTRS)
    store = FeatureStore(tmp_path, only=["cam1/b.mp4", "cam2/c.mp4", "gone.mp4"])
    assert store.keys() == ["cam1/b.mp4", "cam2/c.mp4"] and len(store) == 2
    assert "cam1/a.mp4" not in store and "cam1/b.mp4" in store and "gone.mp4" not in store
    assert store.groups("folder") == {"cam1": ["cam1/b.mp4"], "cam2": ["cam2/c.mp4"]}
    assert FeatureStore(tmp_path).keys() == ["cam1/a.mp4", "cam1/b.mp4", "cam2/c.mp4"]


def test_a_store_without_manifest_is_readable(tmp_path):
    write_video(tmp_path, "v.mp4", *sample(), ATTRS)
    store = FeatureStore(tmp_path)
    assert read_store_manifest(store.root)["videos"] == {} and read_store_manifest(store.root)["complete"] is None
    assert store.load("v.mp4").n_clips == 3
    with pytest.raises(FileNotFoundError):
        FeatureStore(tmp_path / "missing")


def _shard_manifest(root, index, n, keys, done, complete=True, settings=None):
    manifest = Manifest(root, input_root="/in", settings=settings or {"s": 1}, n_videos_total=4,
                        keys=keys, shard=(index, n))
    for key in keys:
        if key in done:
            write_video(root, key, *sample(), ATTRS)
            manifest.record(key, {"status": "done", "n_clips": 3})
        else:
            manifest.record(key, {"status": "failed", "reason": "broken"})
    manifest.save(force=True)
    if complete:
        manifest.finish()


def test_merge_refuses_missing_or_unfinished_shards(tmp_path):
    _shard_manifest(tmp_path, 0, 2, ["a.mp4", "c.mp4"], done={"a.mp4", "c.mp4"})
    report = merge_shards(tmp_path)
    assert not report.ok and "shards [1] of 2" in report.problems[0]
    _shard_manifest(tmp_path, 1, 2, ["b.mp4", "d.mp4"], done={"b.mp4", "d.mp4"}, complete=False)
    assert any("did not finish" in p for p in merge_shards(tmp_path).problems)
    assert not (tmp_path / "manifest.json").exists()
    assert read_store_manifest(tmp_path)["complete"] is False


def test_merge_joins_complete_shards_and_reports_failures(tmp_path):
    _shard_manifest(tmp_path, 0, 2, ["a.mp4", "c.mp4"], done={"a.mp4", "c.mp4"})
    _shard_manifest(tmp_path, 1, 2, ["b.mp4", "d.mp4"], done={"b.mp4"})
    assert read_store_manifest(tmp_path)["complete"] is True  # joined on the fly before merging
    report = merge_shards(tmp_path)
    assert report.problems == [] and report.n_done == 3 and report.failed == {"d.mp4": "broken"}
    merged = json.loads((tmp_path / "manifest.json").read_text())
    assert sorted(merged["videos"]) == ["a.mp4", "b.mp4", "c.mp4", "d.mp4"] and merged["complete"]
    assert read_store_manifest(tmp_path)["videos"]["d.mp4"]["status"] == "failed"


def test_merge_catches_inconsistent_shards(tmp_path):
    _shard_manifest(tmp_path, 0, 2, ["a.mp4", "c.mp4"], done={"a.mp4", "c.mp4"})
    _shard_manifest(tmp_path, 1, 2, ["b.mp4", "d.mp4"], done={"b.mp4", "d.mp4"}, settings={"s": 2})
    (tmp_path / "c.mp4.h5").unlink()
    problems = merge_shards(tmp_path).problems
    assert any("different settings" in p for p in problems)
    assert any("c.mp4.h5 is missing" in p for p in problems)


def test_a_file_written_in_chunks_is_whole_or_not_there(tmp_path):
    """write_atomic takes chunks (segments.csv of a dataset's run is written as it is made, not held
    whole three times): all of them land, and a writer failing partway leaves the earlier file and
    no temporary."""
    from extract.store import write_atomic

    final = tmp_path / "out.csv"
    write_atomic(final, (f"row {i}\n".encode() for i in range(1000)))
    assert final.read_bytes() == b"".join(f"row {i}\n".encode() for i in range(1000))

    def failing():
        yield b"half"
        raise RuntimeError("the writer failed")

    with pytest.raises(RuntimeError, match="the writer failed"):
        write_atomic(final, failing())
    assert final.read_bytes().startswith(b"row 0\n") and sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_an_atomic_write_without_sync_flushes_neither_the_file_nor_its_folder(tmp_path, monkeypatch):
    """`write_atomic(sync=False)` (pictures a rerun draws again) still synced the folder: a report's
    every picture paid a directory fsync."""
    from extract import store

    calls = []
    monkeypatch.setattr(store, "_fsync_dir", lambda folder: calls.append(folder))
    monkeypatch.setattr(store.os, "fsync", lambda fd: calls.append(fd))
    store.write_atomic(tmp_path / "a.png", b"picture", sync=False)
    assert (tmp_path / "a.png").read_bytes() == b"picture" and calls == []
    store.write_atomic(tmp_path / "b.h5", b"features")
    assert len(calls) == 2  # the file and its folder, as before


def test_a_feature_file_whose_attributes_are_damaged_is_redone_by_extract(tmp_path):
    """`videoad detect` leaves out a file whose backbone_options (or another typed attribute) is not
    what its readers take and says to rerun `videoad extract`, which kept it as current (its source
    and settings unchanged): the advice redid nothing. Now extract redoes it, saying why."""
    import h5py

    from extract.run import why_stale

    fingerprint, settings = {"size": 10, "mtime_ns": 5, "files": 1}, "{}"
    base = {"source_size": 10, "source_mtime_ns": 5, "source_files": 1, "settings_json": "{}",
            "backbone_options": '{"bins": 8}', "stride": 16}
    for name, odd in (("ok", {}), ("options", {"backbone_options": "{bins: 8"}), ("stride", {"stride": "16 frames"})):
        path = tmp_path / f"{name}.h5"
        with h5py.File(path, "w") as f:
            for k, v in {**base, **odd}.items():
                f.attrs[k] = v
        why = why_stale(path, fingerprint, settings)
        if not odd:
            assert why is None
        else:
            assert why.startswith(f"its feature file is damaged (its {name.replace('options', 'backbone_options')} "
                                  "attribute is"), why
