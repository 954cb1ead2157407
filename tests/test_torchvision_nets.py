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
    renamed = tmp_path / "mc3_18-00000000.pth"
    (tmp_path / path.rsplit("/", 1)[1]).rename(renamed)
    with pytest.raises(WeightsError, match="does not match the 00000000 in its name"):
        TorchvisionBackbone("mc3_18", weights=renamed)
    plain = tmp_path / "mc3_weights.pth"
    renamed.rename(plain)
    with pytest.raises(WeightsError, match=r"mc3_weights\.pth does not fit VideoResNet.*layer2\.0\.conv1"):
        TorchvisionBackbone("r2plus1d_18", weights=plain)


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
