"""A group's features are held once: the store packs its videos into one matrix and the rows are
that matrix, not a copy (a pooled dataset's features are gigabytes)."""
from __future__ import annotations

import numpy as np
import pytest

from extract.store import write_video
from videoad.group_model import rows, stack
from videoad.video.groups import _load_group, open_store

ATTRS = {"fps": 10.0, "clip_len": 16, "stride": 4, "backbone": "motion"}


def _store(root, dims=(6, 6, 6), cells=True):
    rng = np.random.default_rng(0)
    for i, d in enumerate(dims):
        n = 3 + 2 * i
        starts = np.arange(n) * 4
        cell = rng.random((n, 4, 5), dtype=np.float32)
        write_video(root, f"g/v{i}.avi", rng.random((n, d), dtype=np.float32), np.stack([starts, starts + 15], 1),
                    {**ATTRS, "n_frames": int(starts[-1] + 16)}, cells=cell if cells else None,
                    cell_grid=(2, 2) if cells else None)
    return open_store(root)


def test_packed_videos_equal_their_own_loads_and_share_one_matrix(tmp_path):
    store = _store(tmp_path)
    keys = store.keys()
    packed = store.load_packed(keys, cells=True)
    for v, key in zip(packed, keys):
        alone = store.load(key, cells=True)
        np.testing.assert_array_equal(v.features, alone.features)
        np.testing.assert_array_equal(v.cells, alone.cells)
        np.testing.assert_array_equal(v.frames, alone.frames)
        assert v.attrs == alone.attrs
    for name in ("features", "cells"):
        parts = [getattr(v, name) for v in packed]
        whole = stack(parts)
        assert whole is parts[0].base and not whole.flags.writeable  # no copy, and shared, so read-only
        np.testing.assert_array_equal(whole, np.concatenate([getattr(store.load(k, cells=True), name) for k in keys]))
    vids = _load_group(str(tmp_path), keys, cells=False)
    X = rows(vids, "clip")
    assert X is vids[0].features.base
    with pytest.raises(ValueError, match="read-only"):
        X[0, 0] = 1.0


def test_parts_that_are_not_consecutive_rows_are_copied():
    base = np.arange(40, dtype=np.float32).reshape(10, 4).copy()  # owns its rows
    assert stack([base[:4], base[4:]]) is base
    for parts in ([base[:4], base[5:]], [base[4:], base[:4]], [base[:4], base[4:8]], [base[:, :2], base[:, 2:]]):
        out = stack(parts)
        assert out is not base
        np.testing.assert_array_equal(out, np.concatenate(parts))
    other = np.arange(8, dtype=np.float32).reshape(2, 4)
    np.testing.assert_array_equal(stack([base[:4], other]), np.concatenate([base[:4], other]))


def test_a_group_of_different_widths_is_loaded_one_by_one_and_named(tmp_path):
    _store(tmp_path, dims=(6, 7, 6), cells=False)
    with pytest.raises(ValueError, match=r"different feature sizes: 2 of 3 have 6 values per clip, these do not: g/v1.avi: 7$"):
        _load_group(str(tmp_path), open_store(tmp_path).keys(), cells=False)


def test_attributes_are_read_once_per_version_of_a_file(tmp_path, monkeypatch):
    """Screening, cameras, activity levels and the records each read every file's attributes: 2-7
    opens per file per command, ~3 ms each, at 1,900 videos tens of seconds."""
    import h5py

    from extract import store as store_mod

    store = _store(tmp_path)
    key = store.keys()[0]
    opened = []
    real = h5py.File

    class Counting(real):
        def __init__(self, name, *args, **kwargs):
            opened.append(str(name))
            super().__init__(name, *args, **kwargs)

    monkeypatch.setattr(store_mod.h5py, "File", Counting)
    first = store.attrs(key)
    assert store.attrs(key) == first and len(opened) == 1
    first["fps"] = -1.0  # a caller's change never reaches the next reader
    assert store.attrs(key)["fps"] == 10.0
    vids = store.load_packed(store.keys(), cells=True)  # shapes from the attributes: one open per file
    assert len(opened) == 1 + 3 + 2 and len(vids) == 3
    write_video(tmp_path, key, np.zeros((3, 6), np.float32), np.array([[0, 15], [4, 19], [8, 23]]),
                {**ATTRS, "n_frames": 24, "fps": 25.0})  # rewritten: a new file under the same name
    assert store.attrs(key)["fps"] == 25.0
