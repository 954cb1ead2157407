"""torchvision and pytorchvideo backbones against the libraries' own transforms and forward passes.

Needs the full stack (.venv-full: torchvision, pytorchvideo). Marked `vision`; CI runs these in a
second step (`pytest -m vision` in .venv-full). torchvision is imported inside the tests, so the
lean run can deselect this module without import errors, and a missing torchvision in the full
run fails loudly instead of skipping.
"""
from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch

from extract.backbones.torch_base import MissingWeightsError
from extract.weights import WeightsError

pytestmark = pytest.mark.vision

ARCH_WEIGHTS = {"r3d_18": "R3D_18_Weights", "mc3_18": "MC3_18_Weights",
                "r2plus1d_18": "R2Plus1D_18_Weights", "s3d": "S3D_Weights"}


def random_clip(seed: int = 0, h: int = 240, w: int = 320) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (16, h, w, 3), dtype=np.uint8)


def save_like_torchvision(tmp_path, arch: str) -> tuple[str, torch.nn.Module]:
    """A seeded random model saved under torchvision's naming rule `<arch>-<sha256[:8]>.pth`."""
    import torchvision.models.video as tv_video

    torch.manual_seed(1)
    model = getattr(tv_video, arch)(weights=None).eval()
    with torch.no_grad():  # non-trivial batch-norm statistics, so that loading visibly matters
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm3d):
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 1.5)
    tmp = tmp_path / "tmp.pth"
    torch.save(model.state_dict(), tmp)
    final = tmp_path / f"{arch}-{hashlib.sha256(tmp.read_bytes()).hexdigest()[:8]}.pth"
    tmp.rename(final)
    return str(final), model


@pytest.mark.parametrize("arch", sorted(ARCH_WEIGHTS))
def test_preprocessing_matches_torchvision_transforms(arch):
    import torchvision.models.video as tv_video

    from extract.backbones.torchvision_nets import TorchvisionBackbone

    clip = random_clip()
    ours = TorchvisionBackbone(arch, random_init=True).preprocess(clip)
    weights = getattr(tv_video, ARCH_WEIGHTS[arch]).KINETICS400_V1
    ref = weights.transforms()(torch.from_numpy(clip).permute(0, 3, 1, 2)).numpy()
    assert ours.shape == ref.shape
    # resizing rounds back to uint8: ours may differ by one level in a few pixels
    one_level = 1 / 255 / min(weights.transforms().std) + 1e-6
    diff = np.abs(ours - ref)
    assert diff.max() <= one_level and (diff > 1e-5).mean() < 0.01


def test_the_decode_workers_path_gives_the_same_input_and_holds_a_cut_clips_longest_shot():
    """`preprocess_prepared` (the workers': resized first, the cut check on the small frames)
    gives `preprocess`'s very input (torchvision's as uint8, normalised by `finish` or on the
    device); with `cuts=hold` a clip cut after frame 4 is its last 11."""
    from extract.backbones.ptv_nets import PTVBackbone
    from extract.backbones.torchvision_nets import TorchvisionBackbone

    clip = random_clip()
    for backbone in (TorchvisionBackbone("r3d_18", random_init=True), PTVBackbone("x3d_xs", random_init=True)):
        wired = backbone.preprocess_prepared(clip, range(16))
        assert wired.dtype == (np.uint8 if backbone.wire == "uint8" else np.float32)
        assert backbone.finish(wired).tobytes() == backbone.preprocess(clip).tobytes()
    assert (TorchvisionBackbone("r3d_18", random_init=True).wire, PTVBackbone("x3d_xs", random_init=True).wire) \
        == ("uint8", "float32")  # pytorchvideo resizes floats: its input cannot travel as uint8
    # a smooth first shot, then another: the rule needs textured, self-similar frames to compare
    first = np.repeat(np.linspace(0, 255, 320, dtype=np.uint8)[None, None, :, None], 240, axis=1).repeat(3, axis=3)
    second = 255 - first[:, ::-1] // 2
    edited = np.concatenate([first.repeat(5, axis=0), second.repeat(11, axis=0)])
    hold = TorchvisionBackbone("r3d_18", random_init=True, cuts="hold")
    held = np.concatenate([edited[5:6].repeat(5, axis=0), edited[5:]])
    np.testing.assert_array_equal(hold.finish(hold.preprocess_prepared(edited, range(16))), hold.preprocess(held))
    assert hold.video_summary()["scene_cut_frames"] == [5]


@pytest.mark.parametrize("arch", sorted(ARCH_WEIGHTS))
def test_weights_file_loads_and_features_equal_the_classifier_input(tmp_path, arch):
    from extract.backbones.torchvision_nets import TorchvisionBackbone

    path, reference = save_like_torchvision(tmp_path, arch)
    backbone = TorchvisionBackbone(arch, weights=path)
    clip = backbone.preprocess(random_clip(2))[None]
    feats = backbone.forward_batch(clip)
    x = torch.from_numpy(clip)
    with torch.inference_mode():
        if arch == "s3d":
            expected = reference.avgpool(reference.features(x)).flatten(1)
        else:
            reference.fc = torch.nn.Identity()
            expected = reference(x)
    assert feats.shape == (1, backbone.dim) == (1, 1024 if arch == "s3d" else 512)
    np.testing.assert_allclose(feats, expected.numpy(), rtol=1e-3, atol=1e-4)
    assert backbone.describe()["weights_sha256"].startswith(path.rsplit("-", 1)[1][:8])


def test_corrupt_download_and_wrong_arch_are_named(tmp_path):
    from extract.backbones.torchvision_nets import TorchvisionBackbone

    path, _ = save_like_torchvision(tmp_path, "mc3_18")
    renamed = tmp_path / "mc3_18-a90a0ba3.pth"  # the published file's name, other bytes
    (tmp_path / path.rsplit("/", 1)[1]).rename(renamed)
    with pytest.raises(WeightsError, match=r"does not match the a90a0ba3 in its name, the name of https://\S+/mc3_18-a90a0ba3"):
        TorchvisionBackbone("mc3_18", weights=renamed)
    plain = tmp_path / "mc3_weights.pth"
    renamed.rename(plain)
    with pytest.raises(WeightsError, match=r"mc3_weights\.pth does not fit VideoResNet: missing keys: stem\.3\.weight, .*more"):
        TorchvisionBackbone("r2plus1d_18", weights=plain)


def test_a_file_saved_before_batch_norm_counted_its_batches_loads(tmp_path):
    """Files saved by torch before 0.4.1 have no `num_batches_tracked`; torch loads them into its own
    modules (the count set to 0, used only in training). The strict check refused them as missing
    keys; a missing running mean is still refused."""
    from extract.backbones.torchvision_nets import TorchvisionBackbone

    path, reference = save_like_torchvision(tmp_path, "r3d_18")
    state = torch.load(path)
    old = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    assert len(old) < len(state)
    torch.save(old, tmp_path / "old_r3d.pth")
    backbone = TorchvisionBackbone("r3d_18", weights=tmp_path / "old_r3d.pth")
    clip = backbone.preprocess(random_clip(2))[None]
    reference.fc = torch.nn.Identity()
    with torch.inference_mode():
        np.testing.assert_allclose(backbone.forward_batch(clip), reference(torch.from_numpy(clip)).numpy(),
                                   rtol=1e-3, atol=1e-4)
    del old["stem.1.running_mean"]
    torch.save(old, tmp_path / "no_mean.pth")
    with pytest.raises(WeightsError, match=r"no_mean\.pth does not fit VideoResNet: missing keys: stem\.1\.running_mean$"):
        TorchvisionBackbone("r3d_18", weights=tmp_path / "no_mean.pth")


def test_a_file_of_ones_own_with_hex_digits_in_its_name_is_not_taken_for_a_download(tmp_path):
    """A fine-tuned r3d_18 saved as `r3d_18_ucf-20240315.pth` or `ckpt-00012000.pth`: the digits sit
    where torch hub puts a hash, and the file was refused as a corrupt download ("delete it and
    fetch it again"). Only a file with a published file's name is held to the hash in it."""
    from extract.backbones.torchvision_nets import TorchvisionBackbone

    path, model = save_like_torchvision(tmp_path, "r3d_18")
    for name in ("r3d_18_ucf-20240315.pth", "ckpt-00012000.pth"):
        mine = tmp_path / name
        mine.write_bytes(open(path, "rb").read())
        backbone = TorchvisionBackbone("r3d_18", weights=mine)
        assert backbone.weights_sha256 == hashlib.sha256(mine.read_bytes()).hexdigest()
        assert torch.equal(backbone._model.state_dict()["fc.weight"], model.state_dict()["fc.weight"])


def test_refusal_names_the_kinetics_file():
    from extract.backbones.torchvision_nets import TorchvisionBackbone

    with pytest.raises(MissingWeightsError, match=r"r2plus1d_18-91a641e6\.pth.*--weights"):
        TorchvisionBackbone("r2plus1d_18")
    with pytest.raises(ValueError, match="unknown torchvision video arch 'r3d_50'"):
        TorchvisionBackbone("r3d_50", random_init=True)


def test_ten_crop_matches_torchvision_order():
    import torchvision.transforms.functional as F

    from extract.backbones.torchvision_nets import KINETICS_MEAN, KINETICS_STD, TorchvisionBackbone

    clip = random_clip(3, 128, 171)  # already at the resize size: only the crops differ
    backbone = TorchvisionBackbone("r3d_18", random_init=True, crops="tencrop")
    ours = backbone.preprocess(clip)
    crops = F.ten_crop(torch.from_numpy(clip).permute(0, 3, 1, 2), [112, 112])
    mean, std = torch.tensor(KINETICS_MEAN)[:, None, None], torch.tensor(KINETICS_STD)[:, None, None]
    for k, crop in enumerate(crops):
        ref = ((crop.float() / 255 - mean) / std).permute(1, 0, 2, 3).numpy()
        np.testing.assert_allclose(ours[k], ref, atol=1e-5, err_msg=f"crop {k}")
    assert backbone.dim == 512 and backbone.n_crops == 10


# -- pytorchvideo --------------------------------------------------------------------------------
def test_ptv_preprocessing_matches_pytorchvideo_transforms():
    from extract.backbones.ptv_nets import PTVBackbone, import_pytorchvideo

    import_pytorchvideo()  # installs the functional_tensor alias that pytorchvideo.transforms needs
    from pytorchvideo.transforms import ShortSideScale, UniformTemporalSubsample
    from torchvision.transforms._transforms_video import CenterCropVideo, NormalizeVideo

    clip = random_clip(4)
    for arch in ("x3d_xs", "x3d_m"):
        backbone = PTVBackbone(arch, random_init=True)
        x = torch.from_numpy(clip).permute(3, 0, 1, 2).float()
        x = UniformTemporalSubsample(backbone.n_frames)(x) / 255.0
        x = NormalizeVideo([0.45] * 3, [0.225] * 3)(x)
        x = CenterCropVideo(backbone.crop)(ShortSideScale(backbone.side)(x))
        np.testing.assert_allclose(backbone.preprocess(clip), x.numpy(), atol=1e-3)


def test_ptv_short_side_scale_sizes_the_frame_as_pytorchvideo_does():
    """pytorchvideo scales by the ratio first, floor((w / h) * side): at frame sizes where that falls a
    hair short of an integer (130x150 and 182x187 at 182; 150x130 upright) the long side was a pixel
    longer than pytorchvideo's and every pixel of the crop off by up to 4 (normalised units)."""
    from extract.backbones.ptv_nets import PTVBackbone, import_pytorchvideo

    import_pytorchvideo()
    from pytorchvideo.transforms import ShortSideScale

    backbone = PTVBackbone("x3d_xs", random_init=True)
    for h, w in ((130, 150), (182, 187), (150, 130), (240, 320)):
        ref = ShortSideScale(backbone.side)(torch.zeros(3, 1, h, w)).shape[-2:]
        assert backbone._resized_hw(h, w) == tuple(ref), (h, w)
        clip = random_clip(5, h, w)
        x = torch.from_numpy(clip).permute(3, 0, 1, 2).float()
        x = x[:, torch.from_numpy(np.linspace(0, 15, backbone.n_frames).astype(np.int64))] / 255.0
        x = (ShortSideScale(backbone.side)(x) - 0.45) / 0.225
        top, left = (round((n - backbone.crop) / 2) for n in x.shape[-2:])
        x = x[..., top:top + backbone.crop, left:left + backbone.crop]
        np.testing.assert_allclose(backbone.preprocess(clip), x.numpy(), atol=1e-3, err_msg=f"{h}x{w}")


def test_ptv_checkpoint_loads_and_features_equal_the_head_input(tmp_path):
    from pytorchvideo.models import hub

    from extract.backbones.ptv_nets import PTVBackbone

    torch.manual_seed(2)
    reference = hub.x3d_xs(pretrained=False).eval()
    path = tmp_path / "X3D_XS.pyth"
    torch.save({"model_state": reference.state_dict(), "epoch": 300}, path)
    backbone = PTVBackbone("x3d_xs", weights=path)
    clip = backbone.preprocess(random_clip(5))[None]
    head = reference.blocks[-1]
    head.proj, head.activation = torch.nn.Identity(), None
    with torch.inference_mode():
        expected = reference(torch.from_numpy(clip))
    feats = backbone.forward_batch(clip)
    assert feats.shape == (1, 2048)
    np.testing.assert_allclose(feats, expected.numpy(), rtol=1e-3, atol=1e-4)
    with pytest.raises(MissingWeightsError, match=r"X3D_S\.pyth"):
        PTVBackbone("x3d_s")


# -- grid cells ----------------------------------------------------------------------------------
def last_map_by_hook(module: torch.nn.Module, model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The output of `module` when `model` runs on x, read with a forward hook."""
    seen = {}
    handle = module.register_forward_hook(lambda mod, inp, out: seen.update(out=out))
    with torch.inference_mode():
        model(x)
    handle.remove()
    return seen["out"]


@pytest.mark.parametrize("arch", sorted(ARCH_WEIGHTS))
def test_torchvision_cells_are_the_last_stage_and_average_to_the_feature(arch):
    from extract.backbones.torchvision_nets import TorchvisionBackbone

    full = TorchvisionBackbone(arch, random_init=True, cells="7x7")  # the map is 7x7 for both crops
    batch = full.preprocess(random_clip(6))[None]
    features, cells = full.forward_cells(batch)
    width = 1024 if arch == "s3d" else 512
    assert cells.shape == (1, 49, width) and features.shape == (1, width)
    # the mean over the cells is the globally pooled clip feature (the same map, the same pass)
    np.testing.assert_allclose(cells.mean(axis=1), features, rtol=1e-4, atol=1e-5)
    model = full._ready_model()
    layer = model.features if arch == "s3d" else model.layer4
    fmap = last_map_by_hook(layer, model, torch.from_numpy(batch)).mean(dim=2)  # (1, C, 7, 7)
    np.testing.assert_allclose(cells[0, 1 * 7 + 5], fmap[0, :, 1, 5].numpy(), rtol=1e-4, atol=1e-5)
    coarse = TorchvisionBackbone(arch, random_init=True)
    _, default = coarse.forward_cells(batch)
    assert coarse.cell_grid == (3, 3) and default.shape == (1, 9, width)
    np.testing.assert_allclose(default[0, 8], fmap[0, :, 4:7, 4:7].mean((1, 2)).numpy(), rtol=1e-4, atol=1e-5)
    assert coarse.describe()["cell_layer"].startswith("features (last block)" if arch == "s3d" else "layer4")


def test_torchvision_regions():
    from extract.backbones.torchvision_nets import TorchvisionBackbone

    # resized to a fixed size, centre crop with torchvision's rounding (column 30 of 171)
    r3d = TorchvisionBackbone("r3d_18", random_init=True)
    assert r3d.cell_region(240, 320) == pytest.approx((30 / 171, 8 / 128, 142 / 171, 120 / 128))
    s3d = TorchvisionBackbone("s3d", random_init=True)
    assert s3d.cell_region(1080, 1920) == pytest.approx((16 / 256, 16 / 256, 240 / 256, 240 / 256))


def test_ptv_cells_are_the_map_the_head_pools():
    from extract.backbones.ptv_nets import PTVBackbone

    backbone = PTVBackbone("x3d_xs", random_init=True, cells="1x1")
    model = backbone._ready_model()
    # at X3D-XS's training size (4 frames, 160 px) the head's pool covers the whole 5x5 map
    x = torch.from_numpy(np.random.default_rng(7).normal(size=(2, 3, 4, 160, 160)).astype(np.float32))
    with torch.inference_mode():
        features, cells = backbone._features_and_cells(model, x)
    head = model.blocks[-1].pool
    pooled_input = last_map_by_hook(head.pre_act, model, x)  # what the head's AvgPool3d averages
    assert pooled_input.shape[1:] == (432, 4, 5, 5) and cells.shape == (2, 1, 432)
    np.testing.assert_allclose(cells[:, 0], pooled_input.mean(dim=(2, 3, 4)), rtol=1e-4, atol=1e-5)
    # the clip feature is the head's 1x1 post-projection of exactly that average
    with torch.inference_mode():
        projected = head.post_act(head.post_conv(cells[:, 0][:, :, None, None, None])).flatten(1)
    np.testing.assert_allclose(features, projected, rtol=1e-4, atol=1e-5)
    # the usual path: a 182-pixel crop, 3x3 cells of the 6x6 map
    default = PTVBackbone("x3d_xs", random_init=True)
    feats, grid = default.forward_cells(default.preprocess(random_clip(8))[None])
    assert default.cell_grid == (3, 3) and grid.shape == (1, 9, 432) and feats.shape == (1, 2048)
    assert "pre-projection" in default.describe()["cell_layer"]


def test_ptv_slow_r50_cells_average_to_the_feature():
    from extract.backbones.ptv_nets import PTVBackbone

    backbone = PTVBackbone("slow_r50", random_init=True, cells="7x7")
    model = backbone._ready_model()
    # at 224 px the head's (8, 7, 7) pool covers the whole res5 map: the feature is its mean
    x = torch.from_numpy(np.random.default_rng(9).normal(size=(1, 3, 8, 224, 224)).astype(np.float32))
    with torch.inference_mode():
        features, cells = backbone._features_and_cells(model, x)
    assert cells.shape == (1, 49, 2048)
    np.testing.assert_allclose(cells.mean(dim=1), features, rtol=1e-4, atol=1e-5)


def test_ptv_region_follows_the_aspect():
    from extract.backbones.ptv_nets import PTVBackbone

    x3d = PTVBackbone("x3d_xs", random_init=True)  # short side 182, crop 182
    assert x3d.cell_region(240, 320) == pytest.approx((30 / 242, 0.0, 212 / 242, 1.0))
    assert x3d.cell_region(320, 240) == pytest.approx((0.0, 30 / 242, 1.0, 212 / 242))


# -- published weights by name -------------------------------------------------------------------
@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    """TORCH_HOME in tmp, and a download function that fails the test if it is called."""
    from extract import weights as W

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    monkeypatch.setattr(W, "download_file",
                        lambda url, dst, hash_prefix="": pytest.fail(f"tried to download {url}"))
    folder = tmp_path / "torch-home" / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    return folder


def test_published_tables_match_the_libraries():
    import torchvision.models.video as tv_video

    from extract.backbones.ptv_nets import PUBLISHED as PTV, import_pytorchvideo
    from extract.backbones.torchvision_nets import PUBLISHED as TV

    for arch, enum in ARCH_WEIGHTS.items():
        weights = getattr(tv_video, enum)
        assert weights.DEFAULT is weights.KINETICS400_V1
        assert TV[arch][0].url == weights.KINETICS400_V1.url and TV[arch][0].name == "KINETICS400_V1"
    import_pytorchvideo()
    from pytorchvideo.models.hub import resnet, x3d

    zoo = {**x3d.checkpoint_paths, **resnet.checkpoint_paths}
    assert {arch: entries[0].url for arch, entries in PTV.items()} == {arch: zoo[arch] for arch in PTV}


def test_torchvision_weights_by_name_from_the_cache(tmp_path, hub_cache, monkeypatch):
    from extract.backbones import torchvision_nets
    from extract.backbones.torchvision_nets import PUBLISHED, TorchvisionBackbone
    from extract.weights import PublishedWeights

    path, reference = save_like_torchvision(tmp_path, "r3d_18")
    name = path.rsplit("/", 1)[1]
    (hub_cache / name).write_bytes(open(path, "rb").read())
    entry = PUBLISHED["r3d_18"][0]
    monkeypatch.setitem(torchvision_nets.PUBLISHED, "r3d_18", (PublishedWeights(
        entry.name, f"https://download.pytorch.org/models/{name}", aliases=entry.aliases),))
    clip = TorchvisionBackbone("r3d_18", random_init=True).preprocess(random_clip(3))[None]
    reference.fc = torch.nn.Identity()
    with torch.inference_mode():
        expected = reference(torch.from_numpy(clip)).numpy()
    import torchvision.models.video as tv_video

    # torchvision's own enum, as a torchvision user passes it, is its name (it raised a bare TypeError)
    for spelled in ("kinetics400", "KINETICS400_V1", "DEFAULT", "R3D_18_Weights.KINETICS400_V1",
                    tv_video.R3D_18_Weights.DEFAULT):
        backbone = TorchvisionBackbone("r3d_18", weights=spelled)
        assert backbone.weights_path == hub_cache / name
        np.testing.assert_allclose(backbone.forward_batch(clip), expected, rtol=1e-3, atol=1e-4)
    assert backbone.describe()["weights_sha256"] == hashlib.sha256((hub_cache / name).read_bytes()).hexdigest()
    with pytest.raises(WeightsError, match=r"'MC3_18_Weights\.KINETICS400_V1' is neither an existing file nor a "
                                           r"published name; give a published name \(KINETICS400_V1, kinetics400"):
        TorchvisionBackbone("r3d_18", weights=tv_video.MC3_18_Weights.DEFAULT)  # another network's
    with pytest.raises(WeightsError, match=r"r3d_18: weights must be a file path or a published name, got OrderedDict \(a state dict in memory"):
        TorchvisionBackbone("r3d_18", weights=reference.state_dict())


def test_torchvision_cached_file_with_wrong_hash_or_missing_offline(tmp_path, hub_cache, monkeypatch):
    import urllib.error

    from extract import weights as W
    from extract.backbones.torchvision_nets import TorchvisionBackbone

    path, _ = save_like_torchvision(tmp_path, "mc3_18")
    (hub_cache / "mc3_18-a90a0ba3.pth").write_bytes(open(path, "rb").read())  # not the published file
    with pytest.raises(WeightsError, match=r"mc3_18-a90a0ba3\.pth: sha256 .* does not match the a90a0ba3"):
        TorchvisionBackbone("mc3_18", weights="kinetics400")

    def offline(url, dst, hash_prefix=""):
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(W, "download_file", offline)
    with pytest.raises(WeightsError) as err:
        TorchvisionBackbone("s3d", weights="kinetics400")
    assert "https://download.pytorch.org/models/s3d-d76dad2f.pth" in str(err.value)
    assert f"named s3d-d76dad2f.pth, into {hub_cache}/" in str(err.value)
    with pytest.raises(WeightsError, match=r"'kinetics600'.*\(KINETICS400_V1, kinetics400, DEFAULT"):
        TorchvisionBackbone("s3d", weights="kinetics600")


def test_ptv_weights_by_name_are_trusted_on_first_use(hub_cache):
    from pytorchvideo.models import hub

    from extract.backbones.ptv_nets import PTVBackbone

    torch.manual_seed(3)
    torch.save({"model_state": hub.x3d_xs(pretrained=False).state_dict()}, hub_cache / "X3D_XS.pyth")
    digest = hashlib.sha256((hub_cache / "X3D_XS.pyth").read_bytes()).hexdigest()
    backbone = PTVBackbone("x3d_xs", weights="kinetics400")
    assert backbone.describe()["weights_sha256"] == digest
    assert (hub_cache / "X3D_XS.pyth.sha256").read_text().split()[0] == digest
    with pytest.raises(WeightsError, match="is not the expected 0{64}"):
        PTVBackbone("x3d_xs", weights="kinetics400", weights_sha256="0" * 64)


def test_cli_weights_name_runs_end_to_end_with_cells(tmp_path, hub_cache, monkeypatch):
    from click.testing import CliRunner

    from _extract_media import make_video
    from extract.backbones import torchvision_nets
    from extract.store import FeatureStore
    from extract.weights import PublishedWeights
    from videoad.cli import cli

    path, _ = save_like_torchvision(tmp_path, "r3d_18")
    name = path.rsplit("/", 1)[1]
    (hub_cache / name).write_bytes(open(path, "rb").read())
    monkeypatch.setitem(torchvision_nets.PUBLISHED, "r3d_18", (PublishedWeights(
        "KINETICS400_V1", f"https://download.pytorch.org/models/{name}", aliases=("kinetics400",)),))
    video = make_video(tmp_path / "cam.avi", 32, width=96, height=64, fourcc="MJPG")
    result = CliRunner().invoke(cli, ["extract", str(video), "-o", str(tmp_path / "f"), "-q",
                                      "--workers", "1", "--backbone", "r3d_18", "--weights", "kinetics400"])
    assert result.exit_code == 0, result.output
    stored = FeatureStore(tmp_path / "f").load("cam.avi", cells=True)
    assert stored.features.shape == (2, 512) and stored.cells.shape == (2, 9, 512)
    assert stored.cell_grid == (3, 3) and stored.attrs["cell_dim"] == 512
    assert stored.cell_region == pytest.approx((30 / 171, 8 / 128, 142 / 171, 120 / 128), abs=1e-6)
    assert stored.attrs["weights_sha256"].startswith(name.split("-")[1][:8])


def test_the_uint8_wire_gives_the_same_features_and_cells_bit_for_bit():
    """r3d_18's workers send resized, cropped uint8 clips; the Kinetics normalisation runs after
    the copy (extract.backbones.torch_base, "the wire"): the same features and cells as float32."""
    from extract.backbones.torchvision_nets import TorchvisionBackbone

    clips = [random_clip(seed) for seed in (1, 2)]
    for crops, wired_shape in (("centre", (2, 3, 16, 112, 112)), ("tencrop", (2, 3, 16, 128, 171))):
        backbone = TorchvisionBackbone("r3d_18", random_init=True, crops=crops)
        wired = np.stack([backbone.preprocess_prepared(c, range(16)) for c in clips])
        floats = np.stack([backbone.preprocess(c) for c in clips])
        assert wired.dtype == np.uint8 and wired.shape == wired_shape  # ten-crop: cropped on the device
        assert backbone.finish(wired).tobytes() == floats.tobytes()
        (fw, cw), (ff, cf) = backbone.forward_cells(wired), backbone.forward_cells(floats)
        assert fw.tobytes() == ff.tobytes() and cw.tobytes() == cf.tobytes()
