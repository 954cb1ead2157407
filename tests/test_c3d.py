"""C3D in the Sports-1M layout: weights names/shapes, safe loading, preprocessing arithmetic,
pool5 variants, post-ReLU features, the refusal without weights, and the torch execution base.

Weights are fabricated here (nothing can be downloaded); all but two tests use a network with
channels divided by 16, because the full C3D costs ~0.5 s per clip on these CPUs.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from extract.backbones.c3d import C3D, C3DBackbone, SPORTS1M_MEAN_BGR, load_mean_cube
from extract.backbones.torch_base import (ExecPlan, MissingWeightsError, TorchBackbone, bucket_size, exec_plan,
                                          resolve_device)
from extract.tencrop import crop_boxes
from extract.weights import WeightsError, load_state_dict

# The table of method-notes 6.2, written out independently of the model code.
SPORTS1M_SHAPES = {
    "conv1": (64, 3), "conv2": (128, 64), "conv3a": (256, 128), "conv3b": (256, 256),
    "conv4a": (512, 256), "conv4b": (512, 512), "conv5a": (512, 512), "conv5b": (512, 512),
}
FC_SHAPES = {"fc6": (4096, 8192), "fc7": (4096, 4096), "fc8": (487, 4096)}


def documented_state_dict(div: int = 1, fill=torch.zeros) -> dict[str, torch.Tensor]:
    """A state dict with the documented names and shapes (channels / `div` for small variants)."""
    state = {}
    for name, (out, inp) in SPORTS1M_SHAPES.items():
        inp = inp if name == "conv1" else inp // div
        state[f"{name}.weight"] = fill(out // div, inp, 3, 3, 3)
        state[f"{name}.bias"] = fill(out // div)
    for name, (out, inp) in FC_SHAPES.items():
        out = out if name == "fc8" else out // div
        state[f"{name}.weight"] = fill(out, inp // div)
        state[f"{name}.bias"] = fill(out)
    return state


def small_weights(tmp_path, **changes) -> str:
    torch.manual_seed(0)
    state = documented_state_dict(16, fill=lambda *s: torch.randn(*s) * 0.05)
    state.update(changes)
    for key in [k for k, v in changes.items() if v is None]:
        del state[key]
    path = tmp_path / "c3d_small.pickle"
    torch.save(state, path)
    return str(path)


def coordinate_clip(h: int = 128, w: int = 171) -> np.ndarray:
    """RGB clip whose R = row, G = column, B = 10 * frame index: every pixel says where it came from."""
    t, y, x = np.meshgrid(np.arange(16), np.arange(h), np.arange(w), indexing="ij")
    return np.stack([y, x, 10 * t], axis=-1).astype(np.uint8)


# -- weights -------------------------------------------------------------------------------------
def test_full_size_documented_state_dict_loads_strictly(tmp_path):
    path = tmp_path / "c3d.pickle"
    state = documented_state_dict()
    keys = set(state)
    torch.save(state, path)
    del state
    backbone = C3DBackbone(weights=path)
    info = backbone.describe()
    assert info["weights_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert info["random_init"] is False and backbone.dim == 4096
    assert set(backbone._model.state_dict()) == keys and len(keys) == 22


def test_wrong_shape_names_the_key(tmp_path):
    path = small_weights(tmp_path, **{"fc8.weight": torch.zeros(400, 256), "fc8.bias": torch.zeros(400)})
    with pytest.raises(WeightsError, match=r"fc8\.weight: expected \(487, 256\), got \(400, 256\)"):
        C3DBackbone(weights=path, width=16)


def test_missing_classifier_needs_explicit_option(tmp_path):
    path = small_weights(tmp_path, **{"fc8.weight": None, "fc8.bias": None})
    with pytest.raises(WeightsError, match="missing keys: fc8.weight, fc8.bias"):
        C3DBackbone(weights=path, width=16)
    backbone = C3DBackbone(weights=path, width=16, allow_missing_fc=True)
    assert backbone.forward_batch(backbone.preprocess(coordinate_clip())[None]).shape == (1, 256)


def test_unexpected_key_is_named(tmp_path):
    path = small_weights(tmp_path, **{"fc9.weight": torch.zeros(3)})
    with pytest.raises(WeightsError, match="unexpected keys: fc9.weight"):
        C3DBackbone(weights=path, width=16)


def test_a_file_for_another_network_is_named_briefly(tmp_path):
    """A file of another network listed every key of the file and of the network (s3d's file given
    to r3d_18: 20,000 characters); now ten of each kind, how many in all, and what a mismatch of
    every key says: another network, or a prefix a training wrapper left on every key."""
    other = tmp_path / "other_net.pth"
    torch.save({f"features.{i}.{j}.weight": torch.zeros(2) for i in range(40) for j in range(5)}, other)
    with pytest.raises(WeightsError) as info:
        C3DBackbone(weights=other, width=16)
    text = str(info.value)
    assert "other_net.pth does not fit C3D (none of the file's 200 keys is one of the network's" in text
    assert "missing keys: conv1.weight, conv1.bias, " in text and "and 12 more (22 in all)" in text
    assert "and 190 more (200 in all)" in text and "features.39.4.weight" not in text and len(text) < 1000

    wrapped = tmp_path / "lightning.ckpt"
    state = {f"model.{k}": v for k, v in torch.load(small_weights(tmp_path), weights_only=True).items()}
    torch.save({"state_dict": state, "epoch": 3}, wrapped)
    with pytest.raises(WeightsError, match=r"lightning\.ckpt does not fit C3D \(every key of the file starts with "
                                           r"'model\.', which the network's do not"):
        C3DBackbone(weights=wrapped, width=16)


def test_loader_is_safe_by_default_and_unwraps_checkpoints(tmp_path):
    path = tmp_path / "ckpt.pth"
    state = {"module.conv1.weight": torch.ones(2)}
    torch.save({"state_dict": state, "args": argparse.Namespace(lr=0.1)}, path)
    with pytest.raises(WeightsError, match=r"ckpt\.pth: refused by the safe loader.*argparse\.Namespace"
                                           r".*allow_pickle"):
        load_state_dict(path)
    loaded = load_state_dict(path, allow_pickle=True)
    assert list(loaded) == ["conv1.weight"] and torch.equal(loaded["conv1.weight"], torch.ones(2))
    # torch.compile's wrapper (`_orig_mod.`), alone or inside DataParallel's, is taken off as `module.` is
    compiled = tmp_path / "compiled.pth"
    torch.save({"_orig_mod.conv1.weight": torch.ones(2), "module._orig_mod.conv1.bias": torch.zeros(2)}, compiled)
    assert sorted(load_state_dict(compiled)) == ["conv1.bias", "conv1.weight"]


def test_loader_rejects_missing_and_garbage_files(tmp_path):
    with pytest.raises(WeightsError, match="not found"):
        load_state_dict(tmp_path / "nope.pickle")
    bad = tmp_path / "bad.pickle"
    bad.write_bytes(b"not a torch file")
    with pytest.raises(WeightsError, match="bad.pickle"):
        load_state_dict(bad)


# -- refusal and random init ---------------------------------------------------------------------
def test_refuses_without_weights_and_says_where_to_get_them():
    with pytest.raises(MissingWeightsError) as info:
        C3DBackbone()
    message = str(info.value)
    assert "c3d.pickle" in message and "DavideA/c3d-pytorch" in message
    assert "--weights" in message and "--random-init" in message


def test_random_init_is_recorded_and_seeded():
    a = C3DBackbone(random_init=True, width=16)
    b = C3DBackbone(random_init="true", width=16)  # strings arrive from --backbone-opt
    c = C3DBackbone(random_init=True, width=16, seed=1)
    info = a.describe()
    assert info["random_init"] is True and info["weights_sha256"] == "none"
    assert info["random_init_seed"] == 0
    batch = a.preprocess(coordinate_clip())[None]
    np.testing.assert_array_equal(a.forward_batch(batch), b.forward_batch(batch))
    assert not np.allclose(a.forward_batch(batch), c.forward_batch(batch))


def test_random_init_leaves_the_callers_cuda_generators_alone(monkeypatch):
    """The seeded weights draw from torch's CPU generator alone: `torch.manual_seed` also seeded
    every CUDA device (queued until CUDA starts, or at once), a state `fork_rng(devices=[])` does
    not give back, so building a backbone reset the caller's CUDA stream to the backbone's seed."""
    cuda_seeds = []
    monkeypatch.setattr(torch.cuda, "manual_seed_all", lambda seed: cuda_seeds.append(seed))
    torch.random.default_generator.manual_seed(123)
    before = torch.random.get_rng_state()
    backbone = C3DBackbone(random_init=True, width=16, seed=5)
    assert cuda_seeds == []
    assert torch.equal(torch.random.get_rng_state(), before)  # the caller's CPU stream, as it was
    with torch.random.fork_rng(devices=[]):  # the weights are those the CPU generator at seed 5 gives
        torch.random.default_generator.manual_seed(5)
        expected = C3D(tuple(max(1, w // 16) for w in (64, 128, 256, 512, 512)), 4096 // 16).state_dict()
    got = backbone._model.state_dict()
    assert all(torch.equal(got[k], expected[k]) for k in expected)


def test_weights_and_random_init_together_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="not both"):
        C3DBackbone(weights=small_weights(tmp_path), random_init=True, width=16)


# -- preprocessing -------------------------------------------------------------------------------
def test_preprocessing_channel_order_mean_and_crop_offsets():
    backbone = C3DBackbone(random_init=True, width=16)
    out = backbone.preprocess(coordinate_clip())
    assert out.shape == (3, 16, 112, 112) and out.dtype == np.float32
    b_mean, g_mean, r_mean = SPORTS1M_MEAN_BGR
    rows, cols = np.meshgrid(np.arange(112), np.arange(112), indexing="ij")
    for t in (0, 7, 15):
        np.testing.assert_allclose(out[0, t], 10 * t - b_mean, atol=1e-4)   # channel 0 is blue
        np.testing.assert_allclose(out[1, t], 29 + cols - g_mean, atol=1e-4)  # crop starts at col 29
        np.testing.assert_allclose(out[2, t], 8 + rows - r_mean, atol=1e-4)   # and at row 8


def test_preprocessing_resizes_to_128x171_first():
    backbone = C3DBackbone(random_init=True, width=16, mean="none")
    clip = np.zeros((16, 240, 320, 3), np.uint8)
    clip[:, :, :, 0] = np.linspace(0, 255, 320).astype(np.uint8)  # red ramp along x
    out = backbone.preprocess(clip)
    import cv2
    expected = cv2.resize(clip[0], (171, 128), interpolation=cv2.INTER_LINEAR)[8:120, 29:141, 0]
    np.testing.assert_array_equal(out[2, 0], expected.astype(np.float32))
    assert np.all(out[:2] == 0)


def test_mean_cube_is_bgr_and_per_position(tmp_path):
    cube = np.zeros((1, 3, 16, 128, 171), np.float32)
    cube[0, 0], cube[0, 1], cube[0, 2] = 1.0, 2.0, 3.0  # B, G, R
    cube[0, :, 5] += 100.0  # frame 5 only
    path = tmp_path / "c3d_mean.npy"
    np.save(path, cube)
    backbone = C3DBackbone(random_init=True, width=16, mean=str(path))
    clip = np.full((16, 128, 171, 3), 50, np.uint8)
    out = backbone.preprocess(clip)
    np.testing.assert_allclose(out[:, 0, 0, 0], [49, 48, 47])
    np.testing.assert_allclose(out[:, 5, 0, 0], [-51, -52, -53])
    np.save(tmp_path / "bad.npy", np.zeros((3, 16, 112, 112), np.float32))
    with pytest.raises(ValueError, match=r"bad\.npy: mean cube must have shape \(3, 16, 128, 171\)"):
        load_mean_cube(tmp_path / "bad.npy")
    # a per-channel mean written out (mean=90,98,102) is no file: the error says what mean= takes
    with pytest.raises(ValueError, match=r"90,98,102: not a file .*takes sports1m, none or a mean cube \.npy"):
        C3DBackbone(random_init=True, width=16, mean="90,98,102")


def test_ten_crop_boxes_and_flips():
    assert crop_boxes(128, 171, 112, "tencrop") == [
        (0, 0, False), (0, 59, False), (16, 0, False), (16, 59, False), (8, 29, False),
        (0, 0, True), (0, 59, True), (16, 0, True), (16, 59, True), (8, 29, True)]
    backbone = C3DBackbone(random_init=True, width=16, mean="none", crops="tencrop")
    out = backbone.preprocess(coordinate_clip())
    assert out.shape == (10, 3, 16, 112, 112)
    assert (out[1, 1, 0, 0, 0], out[3, 2, 0, 0, 0]) == (59, 16)  # top-right col, bottom row
    assert out[5, 1, 0, 0, 0] == 170 and out[9, 1, 0, 0, 0] == 170 - 29  # flipped: from the right edge
    np.testing.assert_array_equal(out[4], backbone.__class__(random_init=True, width=16, mean="none")
                                  .preprocess(coordinate_clip()))


def test_ten_crop_features_mean_and_keep():
    clip = coordinate_clip()
    keep = C3DBackbone(random_init=True, width=16, crops="tencrop", crop_reduce="keep")
    mean = C3DBackbone(random_init=True, width=16, crops="tencrop", crop_reduce="mean")
    kept = keep.forward_batch(np.stack([keep.preprocess(clip)] * 2))
    averaged = mean.forward_batch(np.stack([mean.preprocess(clip)] * 2))
    assert kept.shape == (2, 10 * 256) and averaged.shape == (2, 256) and keep.dim == 2560
    np.testing.assert_allclose(kept.reshape(2, 10, 256).mean(1), averaged, rtol=1e-5, atol=1e-6)


# -- network -------------------------------------------------------------------------------------
def tiny_c3d(pool5: str) -> C3D:
    return C3D(widths=(1, 1, 1, 1, 1), fc_dim=1, pool5=pool5)


def test_both_pool5_variants_give_512x1x4x4():
    model = C3D(pool5="caffe").eval()
    seen = {}
    model.pool5.register_forward_hook(lambda mod, inp, out: seen.update(inp=inp[0], out=out))
    with torch.inference_mode():
        model.pool5_output(torch.randn(1, 3, 16, 112, 112))
        padded = tiny_c3d("padded").pool5(seen["inp"])
    assert seen["inp"].shape == (1, 512, 2, 7, 7)
    assert seen["out"].shape == (1, 512, 1, 4, 4) and padded.shape == (1, 512, 1, 4, 4)
    assert model.fc6.in_features == 512 * 1 * 4 * 4


def test_pool5_window_positions():
    grid = torch.arange(49.0).reshape(1, 1, 1, 7, 7).repeat(1, 1, 2, 1, 1)
    caffe, padded = tiny_c3d("caffe").pool5(grid), tiny_c3d("padded").pool5(grid)
    # caffe: windows start at 0, 2, 4, 6 (the last one a single row/col); padded: at -1, 1, 3, 5
    assert caffe[0, 0, 0].tolist() == [[8, 10, 12, 13], [22, 24, 26, 27], [36, 38, 40, 41],
                                       [43, 45, 47, 48]]
    assert padded[0, 0, 0].tolist() == [[0, 2, 4, 6], [14, 16, 18, 20], [28, 30, 32, 34],
                                        [42, 44, 46, 48]]
    with pytest.raises(ValueError, match="pool5 must be one of"):
        tiny_c3d("same")


@pytest.mark.parametrize("layer", ["fc6", "fc7"])
def test_features_are_post_relu(tmp_path, layer):
    # negative biases make many pre-activations negative: the ReLU must zero them
    path = small_weights(tmp_path, **{"fc6.bias": torch.full((256,), -0.05),
                                      "fc7.bias": torch.full((256,), -0.02)})
    backbone = C3DBackbone(weights=path, width=16, layer=layer)
    rng = np.random.default_rng(0)
    clips = np.stack([backbone.preprocess(rng.integers(0, 256, (16, 128, 171, 3), dtype=np.uint8))
                      for _ in range(2)])
    feats = backbone.forward_batch(clips)
    model = backbone._model
    with torch.inference_mode():
        pre = model.fc6(torch.flatten(model.pool5_output(torch.from_numpy(clips)), 1))
        if layer == "fc7":
            pre = model.fc7(torch.relu(pre))
    assert feats.shape == (2, 256) and feats.min() >= 0.0
    assert (pre < 0).any() and (feats == 0).any()
    np.testing.assert_allclose(feats, torch.relu(pre).numpy(), rtol=1e-4, atol=1e-5)


# -- execution base ------------------------------------------------------------------------------
def test_exec_plan_per_device():
    cuda = exec_plan(torch.device("cuda", 1))
    assert (cuda.amp, cuda.pin_memory, cuda.non_blocking, cuda.channels_last) == (True, True, True, False)
    assert cuda.bucket and not exec_plan(torch.device("cpu")).bucket
    assert cuda.precision == "fp16-autocast"
    assert exec_plan(torch.device("cuda", 0), amp=False).precision == "fp32"
    cpu = exec_plan(torch.device("cpu"))
    assert (cpu.amp, cpu.pin_memory, cpu.non_blocking, cpu.channels_last) == (False, False, False, True)
    with pytest.raises(ValueError, match="CUDA-only"):
        exec_plan(torch.device("cpu"), amp=True)


def test_resolve_device_messages():
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="only 'cpu' and 'cuda"):
        resolve_device("meta")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda:0")
        with pytest.raises(ValueError, match="CUDA is not available"):
            C3DBackbone(random_init=True, width=16, device="cuda:1")


def test_batch_splitting_gives_the_same_features():
    rng = np.random.default_rng(1)
    whole = C3DBackbone(random_init=True, width=16, batch_size=5)
    clips = np.stack([whole.preprocess(rng.integers(0, 256, (16, 128, 171, 3), dtype=np.uint8))
                      for _ in range(5)])
    split = C3DBackbone(random_init=True, width=16, batch_size=2)
    calls = []
    original = split._features
    split._features = lambda model, x: calls.append(len(x)) or original(model, x)
    np.testing.assert_allclose(split.forward_batch(clips), whole.forward_batch(clips), rtol=1e-5, atol=1e-6)
    assert calls == [2, 2, 1]
    assert split.stats["clips"] == 5 and split.stats["batches"] == 1


def test_bucket_size():
    assert [bucket_size(n, 64) for n in (1, 2, 3, 5, 17, 33, 63, 64)] == [1, 2, 4, 8, 32, 64, 64, 64]
    assert [bucket_size(n, 48) for n in (20, 33, 48)] == [32, 48, 48]  # never above the sub-batch
    shapes = {bucket_size(n, 64) for n in range(1, 65)}
    assert len(shapes) == 7  # what cudnn autotunes for, instead of 64 batch sizes


@pytest.mark.parametrize("crops", ["centre", "tencrop"])
def test_bucketed_sub_batches_give_the_same_features(crops):
    """The CUDA plan pads each sub-batch to a power of two; checked on the CPU by setting the
    plan's flag: the padded rows reach the model, their outputs do not reach the caller, and
    the features (and cells) are those of the unpadded run, ten-crop included."""
    rng = np.random.default_rng(2)
    k = 10 if crops == "tencrop" else 1
    plain = C3DBackbone(random_init=True, width=16, batch_size=8 * k, channels_last=False, crops=crops)
    clips = np.stack([plain.preprocess(rng.integers(0, 256, (16, 128, 171, 3), dtype=np.uint8))
                      for _ in range(11)])
    bucketed = C3DBackbone(random_init=True, width=16, batch_size=8 * k, channels_last=False, crops=crops)
    bucketed.plan = dataclasses.replace(bucketed.plan, bucket=True)
    calls = []
    original = bucketed._features_and_cells
    bucketed._features_and_cells = lambda model, x: calls.append(len(x)) or original(model, x)
    got, got_cells = bucketed.forward_cells(clips)
    want, want_cells = plain.forward_cells(clips)
    # centre: 8 clips, then 3 padded to 4; ten-crop (`preprocess` gives the 110 crops as rows):
    # 80 crops, then 30 padded to 32
    assert calls == ([8, 4] if k == 1 else [80, 32])
    assert got.shape == want.shape and got_cells.shape == want_cells.shape
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got_cells, want_cells, rtol=1e-4, atol=1e-5)
    assert bucketed.stats["padded"] == (1 if k == 1 else 2) and plain.stats["padded"] == 0


def test_channels_last_matches_contiguous():
    clip = C3DBackbone(random_init=True, width=16).preprocess(coordinate_clip())[None]
    a = C3DBackbone(random_init=True, width=16, channels_last=True).forward_batch(clip)
    b = C3DBackbone(random_init=True, width=16, channels_last="false").forward_batch(clip)
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_autocast_follows_the_plan():
    """The fp16 path is chosen by the plan, not by the device: checked here on the CPU."""
    seen = []

    class Probe(TorchBackbone):
        name = "probe"
        input_ndim = 1
        dim = 2

        def preprocess(self, clip):
            return clip

        def _features(self, model, x):
            seen.append(torch.is_autocast_enabled("cpu"))
            return model(x)

    for amp in (False, True):
        probe = Probe()
        probe._set_model(torch.nn.Linear(4, 2))
        probe.plan = ExecPlan(torch.device("cpu"), amp=amp, pin_memory=False, non_blocking=False,
                              channels_last=False)
        out = probe.forward_batch(np.ones((3, 4), np.float32))
        assert out.dtype == np.float32 and out.shape == (3, 2)
    assert seen == [False, True]


def test_pickled_copy_carries_preprocessing_only():
    backbone = C3DBackbone(random_init=True, width=16)
    copy = pickle.loads(pickle.dumps(backbone))
    assert len(pickle.dumps(backbone)) < 100_000  # the model stays behind
    np.testing.assert_array_equal(copy.preprocess(coordinate_clip()), backbone.preprocess(coordinate_clip()))
    with pytest.raises(RuntimeError, match="no model"):
        copy.forward_batch(copy.preprocess(coordinate_clip())[None])
    assert backbone.forward_batch(backbone.preprocess(coordinate_clip())[None]).shape == (1, 256)


@pytest.mark.parametrize("crops", ["centre", "tencrop"])
def test_a_worker_copy_prepares_clips_without_importing_torch(tmp_path, crops):
    """A decode worker unpickles the backbone and prepares clips: in a fresh interpreter that
    must not import torch (2.5 s per spawned worker here), and must give the same clip. The
    copy still describes itself (its device and plan rebuilt on demand, torch imported then)."""
    import subprocess
    import sys

    backbone = C3DBackbone(random_init=True, width=16, crops=crops)
    (tmp_path / "backbone.pkl").write_bytes(pickle.dumps(backbone))
    np.save(tmp_path / "clip.npy", coordinate_clip())
    code = (
        "import pickle, sys; import numpy as np; from extract.lazy import is_loaded\n"
        "b = pickle.loads(open(sys.argv[1] + '/backbone.pkl', 'rb').read())\n"
        "clip = np.load(sys.argv[1] + '/clip.npy')\n"
        "b.start_video()\n"
        "out = b.preprocess_prepared(clip if b.prepare_frame is None else np.stack([b.prepare_frame(f) for f in clip]))\n"
        "b.video_summary()\n"
        "np.save(sys.argv[1] + '/out.npy', out)\n"
        "print(is_loaded('torch'), 'torch._C' in sys.modules)\n"
        "print(b.describe()['precision'], is_loaded('torch'))\n")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["False False", "fp32 True"]
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), backbone.preprocess_prepared(coordinate_clip()))


@pytest.mark.parametrize("crops", ["centre", "tencrop"])
@pytest.mark.parametrize("mean", ["sports1m", "none"])
def test_uint8_wire_gives_the_same_features_bit_for_bit(crops, mean):
    """The workers send resized, cropped uint8 clips; the mean is subtracted after the copy
    (extract.backbones.torch_base, "the wire"): a quarter of the bytes, the same features."""
    rng = np.random.default_rng(3)
    backbone = C3DBackbone(random_init=True, width=16, crops=crops, mean=mean)
    raw = [rng.integers(0, 256, (16, 120, 160, 3), dtype=np.uint8) for _ in range(3)]
    wired = np.stack([backbone.preprocess_prepared(c, range(16)) for c in raw])
    floats = np.stack([backbone.preprocess(c) for c in raw])
    assert backbone.wire == "uint8" and wired.dtype == np.uint8
    if crops == "centre":  # the centre crop, a quarter of the bytes
        assert wired.shape == floats.shape and wired.nbytes * 4 == floats.nbytes
    else:  # the whole resized clip, cut into ten crops on the device: 1/23 of the float32 bytes
        assert wired.shape == (3, 3, 16, 128, 171) and floats.shape == (3, 10, 3, 16, 112, 112)
        assert wired.nbytes * 22 < floats.nbytes
    assert backbone.finish(wired).tobytes() == floats.tobytes()
    assert backbone.finish(wired[0]).tobytes() == floats[0].tobytes()  # one clip, as the workers send it
    (fw, cw), (ff, cf) = backbone.forward_cells(wired), backbone.forward_cells(floats)
    assert fw.tobytes() == ff.tobytes() and cw.tobytes() == cf.tobytes()


def test_a_mean_cube_travels_as_float32(tmp_path):
    """A mean cube is subtracted before the crop (its values differ per position), so those
    clips keep the float32 wire; a uint8 batch is then refused by name rather than misread."""
    cube = np.random.default_rng(0).uniform(80, 120, (3, 16, 128, 171)).astype(np.float32)
    np.save(tmp_path / "mean.npy", cube)
    backbone = C3DBackbone(random_init=True, width=16, mean=str(tmp_path / "mean.npy"))
    clip = coordinate_clip()
    out = backbone.preprocess_prepared(clip, range(16))
    assert backbone.wire == "float32" and out.dtype == np.float32
    assert out.tobytes() == backbone.preprocess(clip).tobytes()
    with pytest.raises(NotImplementedError, match="no uint8 wire"):
        backbone.forward_batch(np.zeros((1, 3, 16, 112, 112), np.uint8))


@pytest.mark.parametrize("crops", ["centre", "tencrop"])
def test_the_pipeline_writes_the_same_features_over_either_wire(tmp_path, crops):
    """`videoad extract` through decode workers: uint8 over the pipe (the default) and the
    float32 wire store the same clip vectors and cells, byte for byte."""
    from extract.run import ExtractOptions, extract_videos
    from extract.store import FeatureStore

    video = tiny_video(tmp_path / "v.avi", n_frames=48)
    stored = {}
    for wire in ("uint8", "float32"):
        backbone = C3DBackbone(random_init=True, width=16, crops=crops)
        backbone.wire = wire
        # one clip per forward call: how the runner groups clips depends on timing, and a
        # convolution's rounding on the batch size, whichever wire
        summary = extract_videos(video, tmp_path / wire, backbone,
                                 ExtractOptions(workers=1, batch_size=1, progress=False))
        assert summary.ok and summary.clips == 3
        store = FeatureStore(tmp_path / wire)
        stored[wire] = store.load(store.keys()[0], cells=True)
    assert stored["uint8"].features.tobytes() == stored["float32"].features.tobytes()
    assert stored["uint8"].cells.shape == (3, 9, 32)
    assert stored["uint8"].cells.tobytes() == stored["float32"].cells.tobytes()


def test_bad_batch_shape_is_reported():
    backbone = C3DBackbone(random_init=True, width=16)
    with pytest.raises(ValueError, match=r"expected a batch of preprocessed clips.*\(3, 16, 112\)"):
        backbone.forward_batch(np.zeros((3, 16, 112), np.float32))
    with pytest.raises(ValueError, match=r"\(16, H, W, 3\) uint8 RGB clip"):
        backbone.preprocess(np.zeros((8, 128, 171, 3), np.uint8))


# -- through `videoad extract` -------------------------------------------------------------------
def tiny_video(path, n_frames: int = 40):
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (64, 48))
    assert writer.isOpened()
    for i in range(n_frames):
        writer.write(np.full((48, 64, 3), 6 * i % 256, np.uint8))
    writer.release()
    return path


def test_cli_refuses_c3d_without_weights(tmp_path):
    from click.testing import CliRunner

    from videoad.cli import cli

    video = tiny_video(tmp_path / "v.avi")
    result = CliRunner().invoke(cli, ["extract", str(video), "-o", str(tmp_path / "f"), "--backbone", "c3d"])
    assert result.exit_code == 2
    assert "c3d.pickle" in result.output and "--weights" in result.output
    assert not (tmp_path / "f").exists() or not list((tmp_path / "f").rglob("*.h5"))
    if not torch.cuda.is_available():
        result = CliRunner().invoke(cli, ["extract", str(video), "-o", str(tmp_path / "f"), "--backbone",
                                          "c3d", "--random-init", "--device", "cuda:1"])
        assert result.exit_code == 2 and "CUDA is not available" in result.output


def test_cli_random_init_runs_and_is_recorded(tmp_path):
    from click.testing import CliRunner

    from extract.store import FeatureStore
    from videoad.cli import cli

    video = tiny_video(tmp_path / "v.avi")
    result = CliRunner().invoke(cli, [
        "extract", str(video), "-o", str(tmp_path / "f"), "--backbone", "c3d", "--random-init",
        "--workers", "1", "-q", "--backbone-opt", "width=16", "--backbone-opt", "pool5=padded"])
    assert result.exit_code == 0, result.output
    store = FeatureStore(tmp_path / "f")
    video_features = store.load(store.keys()[0])
    attrs = video_features.attrs
    assert video_features.features.shape == (2, 256) and video_features.features.min() >= 0
    assert attrs["random_init"] is True
    assert attrs["weights_sha256"] == "none" and attrs["pool5"] == "padded"
    assert attrs["precision"] == "fp32" and attrs["layer"] == "fc6 (post-ReLU)"


def test_bad_options_are_named():
    with pytest.raises(ValueError, match="crops must be one of"):
        C3DBackbone(random_init=True, width=16, crops="fivecrop")
    with pytest.raises(ValueError, match="crop_reduce must be 'mean' or 'keep'"):
        C3DBackbone(random_init=True, width=16, crops="tencrop", crop_reduce="max")
    with pytest.raises(ValueError, match="layer must be one of"):
        C3DBackbone(random_init=True, width=16, layer="fc8")
    with pytest.raises(ValueError, match="batch_size: expected an integer"):
        C3DBackbone(random_init=True, width=16, batch_size="many")


def test_a_gpu_that_would_wait_for_its_decode_workers_gets_a_hint():
    """`videoad extract --device cuda` with the CPU defaults (2 workers, batches of 8) says what
    to raise; on the CPU, or with enough workers and a large batch, it says nothing."""
    from types import SimpleNamespace

    from videoad.cli.extract_cmd import gpu_feeding_hint

    gpu = SimpleNamespace(device=torch.device("cuda", 0))
    hint = gpu_feeding_hint(gpu, workers=2, batch_size=8, cores=16)
    assert "--workers 15" in hint and "--batch-size 64" in hint and "16-core" in hint
    assert gpu_feeding_hint(gpu, workers=15, batch_size=8, cores=16).count("--") == 1
    assert gpu_feeding_hint(gpu, workers=15, batch_size=64, cores=16) is None
    assert gpu_feeding_hint(C3DBackbone(random_init=True, width=16), workers=2, batch_size=8, cores=16) is None


class _Marker:
    """Unpickled, it leaves a file: proof that a load ran code from the weights file."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


def test_a_model_folder_never_gives_leave_to_unpickle_its_weights(tmp_path):
    """`videoad watch` rebuilt the backbone with the options models.json records: an
    `allow_pickle: true` there (hand-edited, or recorded at extraction) made it unpickle the
    weights file in full, running a replaced file's code before the recorded sha256 refused it.
    The leave is no longer recorded, never taken from the folder, and the recorded sha256 is
    checked before the file is read; `allow_pickle=True` (watch --allow-pickle) is the user's own."""
    from extract.backbones import get_backbone
    from videoad.live import build_backbone
    from videoad.live.model import WatchError

    good = Path(small_weights(tmp_path))
    made = get_backbone("c3d", weights=str(good), width=16, allow_pickle="true")
    assert "allow_pickle" not in made.options() and made.options()["weights"] == str(good)
    record = {"backbone": "c3d", "options": {**made.options(), "allow_pickle": "true"},  # as an older store kept it
              "description": made.describe(), "weights_sha256": made.weights_sha256}
    assert build_backbone(record).weights_sha256 == made.weights_sha256  # the file it was made with: fine
    marker = tmp_path / "ran"
    evil = {**torch.load(good), "extra": _Marker(marker)}
    torch.save(evil, good)  # the recorded file replaced by one that runs code when unpickled
    with pytest.raises(WatchError, match="differs from the pinned weights_sha256"):
        build_backbone(record)
    with pytest.raises(WatchError, match="differs from the pinned weights_sha256"):
        build_backbone(record, allow_pickle=True)  # the user's leave, and still the pin first
    forged = {**record, "weights_sha256": hashlib.sha256(good.read_bytes()).hexdigest()}
    forged["description"] = {**record["description"], "weights_sha256": forged["weights_sha256"]}
    with pytest.raises(WatchError, match="refused by the safe loader"):
        build_backbone(forged)  # a forged hash as well: the folder's leave is not taken
    assert not marker.exists()
    # a genuine file that needs unpickling (an argparse.Namespace beside its tensors): watch names its own leave
    needs = tmp_path / "ckpt.pth"
    (tmp_path / "w2").mkdir()
    torch.save({"state_dict": torch.load(small_weights(tmp_path / "w2")), "args": argparse.Namespace(lr=0.1)}, needs)
    made = get_backbone("c3d", weights=str(needs), width=16, allow_pickle="true")
    record = {"backbone": "c3d", "options": made.options(), "description": made.describe(),
              "weights_sha256": made.weights_sha256}
    with pytest.raises(WatchError, match="refused by the safe loader.*videoad watch takes that leave as --allow-pickle"):
        build_backbone(record)
    assert build_backbone(record, allow_pickle=True).weights_sha256 == made.weights_sha256


@pytest.mark.parametrize("damage, said", [
    (lambda t: t.fill_(float("nan")), r"conv1.weight holds \d+ value\(s\) that are not finite numbers"),
    (lambda t: t.fill_(float("inf")), "not finite numbers"),
    (lambda t: t.to(torch.int64), "conv1.weight holds torch.int64 where the network takes torch.float32"),
    (lambda t: t.to(torch.complex64), "holds torch.complex64"),
    (lambda t: t.to_sparse(), "conv1.weight is a sparse tensor"),
    (lambda t: torch.empty(t.shape, device="meta"), "conv1.weight is a meta tensor"),
])
def test_weights_that_are_not_finite_dense_numbers_are_refused_naming_the_tensor(tmp_path, damage, said):
    """NaN weights made a store of NaN features ("1 done, 0 failed"), integer weights all-zero ones,
    complex weights dropped their imaginary part with a warning, sparse and meta tensors failed in
    load_state_dict with a traceback."""
    path = Path(small_weights(tmp_path))
    state = torch.load(path)
    state["conv1.weight"] = damage(state["conv1.weight"].clone())
    torch.save(state, path)
    with pytest.raises(WeightsError, match=said):
        C3DBackbone(weights=path, width=16)


def test_a_weights_pin_with_random_init_is_refused_not_ignored(tmp_path):
    """`--random-init --backbone-opt weights_sha256=...` ran on random weights and recorded no pin:
    the pin, a check the user asked for, was dropped in silence."""
    pin = "a" * 64
    with pytest.raises(ValueError, match="weights_sha256 pins a weights file, and random_init loads none"):
        C3DBackbone(random_init=True, width=16, weights_sha256=pin)
    with pytest.raises(ValueError, match="give either weights or random_init, not both"):
        C3DBackbone(weights=small_weights(tmp_path), random_init=True, width=16)
    assert C3DBackbone(random_init=True, width=16).weights_sha256 == "none"  # no pin: as before
