"""Grid cells of the learned backbones (the shared mechanics in torch_base, shown on C3D, which
runs on the CPU-only torch), the region they cover, and the runner writing them end to end.
torchvision and pytorchvideo networks: tests/test_torchvision_nets.py (marked `vision`).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from _extract_media import make_video
from extract.backbones.c3d import C3DBackbone
from extract.backbones.motion import MotionBackbone
from extract.backbones.torch_base import parse_cells
from extract.run import ExtractOptions, extract_videos
from extract.store import FeatureStore
from test_c3d import coordinate_clip

C5 = 512 // 16  # conv5b channels of the width-16 network


def clips(n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (16, 128, 171, 3), dtype=np.uint8) for _ in range(n)]


def conv5b_by_hook(backbone: C3DBackbone, batch: np.ndarray) -> torch.Tensor:
    """conv5b after its ReLU, time-averaged, read with a forward hook: (N, C, 7, 7)."""
    seen = {}
    model = backbone._ready_model()
    handle = model.conv5b.register_forward_hook(lambda mod, inp, out: seen.update(out=out))
    with torch.inference_mode():
        model(torch.from_numpy(batch), layer="fc6")
    handle.remove()
    return torch.relu(seen["out"]).mean(dim=2)


def test_cells_come_with_the_features_from_one_forward_pass():
    backbone = C3DBackbone(random_init=True, width=16)
    batch = np.stack([backbone.preprocess(c) for c in clips(2)])
    calls = []
    backbone._ready_model().conv1.register_forward_hook(lambda *a: calls.append(1))
    features, cells = backbone.forward_cells(batch)
    assert calls == [1]  # one pass through the network for both
    assert backbone.cell_grid == (3, 3) and features.shape == (2, 256) and cells.shape == (2, 9, C5)
    assert cells.dtype == np.float32 and cells.min() >= 0  # post-ReLU
    np.testing.assert_allclose(features, backbone.forward_batch(batch), rtol=1e-5, atol=1e-6)
    assert not np.allclose(cells[0], cells[1])


def test_cells_are_conv5b_averaged_per_cell_row_major():
    full = C3DBackbone(random_init=True, width=16, cells="7x7")  # one cell per map position
    three = C3DBackbone(random_init=True, width=16)
    batch = np.stack([full.preprocess(c) for c in clips(2, seed=1)])
    conv5b = conv5b_by_hook(full, batch).numpy()  # (N, C, 7, 7)
    _, cells = full.forward_cells(batch)
    for r, c in [(0, 0), (0, 6), (6, 0), (3, 5)]:  # cell r * 7 + c is row r, column c
        np.testing.assert_allclose(cells[:, r * 7 + c], conv5b[:, :, r, c], rtol=1e-4, atol=1e-6)
    _, coarse = three.forward_cells(batch)
    # adaptive pooling of 7 into 3: rows/columns 0-2, 2-4, 4-6
    np.testing.assert_allclose(coarse[:, 0], conv5b[:, :, 0:3, 0:3].mean((2, 3)), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(coarse[:, 5], conv5b[:, :, 2:5, 4:7].mean((2, 3)), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(coarse[:, 7], conv5b[:, :, 4:7, 2:5].mean((2, 3)), rtol=1e-4, atol=1e-6)
    one = C3DBackbone(random_init=True, width=16, cells="1x1").forward_cells(batch)[1]
    np.testing.assert_allclose(one[:, 0], conv5b.mean((2, 3)), rtol=1e-4, atol=1e-6)


def test_ten_crop_cells_are_the_centre_crops():
    clip = coordinate_clip()
    centre = C3DBackbone(random_init=True, width=16)
    features, cells = centre.forward_cells(centre.preprocess(clip)[None])
    for reduce in ("mean", "keep"):
        ten = C3DBackbone(random_init=True, width=16, crops="tencrop", crop_reduce=reduce)
        ten_features, ten_cells = ten.forward_cells(ten.preprocess(clip)[None])
        np.testing.assert_allclose(ten_cells, cells, rtol=1e-5, atol=1e-6)
        assert ten_features.shape == (1, 256 if reduce == "mean" else 2560)
        assert "centre crop only" in ten.describe()["cell_layer"]
    assert not np.allclose(ten_features.reshape(10, 256)[0], features[0])  # the crops do differ


def test_cells_option_and_description():
    assert parse_cells("3x3") == (3, 3) and parse_cells("2X4") == (2, 4) and parse_cells("5") == (5, 5)
    assert parse_cells("none") is None and parse_cells(None) is None and parse_cells((1, 2)) == (1, 2)
    for bad in ("axb", "0x3", "3x17", "3x"):
        with pytest.raises(ValueError, match="cells:"):
            parse_cells(bad)
    with pytest.raises(ValueError, match=r"got 'banana'$"):  # the value given, not ('banana', 'banana')
        parse_cells("banana")
    off = C3DBackbone(random_init=True, width=16, cells="none")
    features, cells = off.forward_cells(off.preprocess(coordinate_clip())[None])
    assert off.cell_grid is None and cells is None and features.shape == (1, 256)
    assert off.describe()["cells"] == "none" and off.cell_region(240, 320) is None
    info = C3DBackbone(random_init=True, width=16, cells="2x4").describe()
    assert info["cells"] == "2x4" and info["cell_layer"].startswith("conv5b (post-ReLU)")


def test_region_is_the_crop_in_the_source_frame():
    c3d = C3DBackbone(random_init=True, width=16)
    # resized to 128x171 whatever the aspect, cropped 112 at row 8, column 29 (Caffe floors)
    expected = (29 / 171, 8 / 128, 141 / 171, 120 / 128)
    assert c3d.cell_region(240, 320) == pytest.approx(expected)
    assert c3d.cell_region(480, 360) == pytest.approx(expected)
    assert MotionBackbone().cell_region(240, 320) == (0.0, 0.0, 1.0, 1.0)


def test_the_runner_stores_cells_grid_and_region(tmp_path):
    video = make_video(tmp_path / "in" / "cam.avi", 40, width=80, height=60, fourcc="MJPG")
    options = ExtractOptions(workers=1, progress=False)
    backbone = C3DBackbone(random_init=True, width=16, cells="2x3")
    assert extract_videos(video, tmp_path / "c3d", backbone, options).ok
    store = FeatureStore(tmp_path / "c3d")
    stored = store.load("cam.avi", cells=True)
    assert stored.features.shape == (2, 256) and stored.cells.shape == (2, 6, C5)
    assert stored.cell_grid == (2, 3) and stored.attrs["cell_dim"] == C5
    assert stored.cell_region == pytest.approx((29 / 171, 8 / 128, 141 / 171, 120 / 128), abs=1e-6)
    assert stored.attrs["cells"] == "2x3" and stored.attrs["format_version"] == 2
    # the stored cells are what the backbone computes for the decoded clips
    import av

    with av.open(str(video)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    batch = np.stack([backbone.preprocess(np.stack(frames[i:i + 16])) for i in (0, 16)])
    features, cells = backbone.forward_cells(batch)
    np.testing.assert_allclose(stored.cells, cells, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(stored.features, features, rtol=1e-4, atol=1e-5)

    motion = MotionBackbone(size="64x48", grid=2)
    assert extract_videos(video, tmp_path / "motion", motion, options).ok
    stored = FeatureStore(tmp_path / "motion").load("cam.avi", cells=True)
    assert stored.cell_grid == (2, 2) and stored.cell_region == (0.0, 0.0, 1.0, 1.0)

    off = C3DBackbone(random_init=True, width=16, cells="none")
    assert extract_videos(video, tmp_path / "off", off, options).ok
    stored = FeatureStore(tmp_path / "off").load("cam.avi", cells=True)
    assert stored.cells is None and stored.cell_grid is None and "cell_region" not in stored.attrs
