"""The C3D network (an `nn.Module`), apart from `c3d.C3DBackbone` so that importing the backbone
needs no torch: decode workers unpickle the backbone to prepare clips and never run the network.
Layer names and shapes are those of `c3d.pickle` (see `extract.backbones.c3d`).
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["C3D", "CONV_NAMES", "POOL5_MODES"]

CONV_NAMES = ("conv1", "conv2", "conv3a", "conv3b", "conv4a", "conv4b", "conv5a", "conv5b")
POOL5_MODES = ("caffe", "padded")
_BLOCKS = ((("conv1",), "pool1"), (("conv2",), "pool2"), (("conv3a", "conv3b"), "pool3"),
           (("conv4a", "conv4b"), "pool4"), (("conv5a", "conv5b"), "pool5"))


class C3D(nn.Module):
    """The C3D network; `widths`/`fc_dim` below the defaults give a small variant for tests."""

    def __init__(self, widths: tuple[int, ...] = (64, 128, 256, 512, 512), fc_dim: int = 4096,
                 n_classes: int = 487, pool5: str = "caffe") -> None:
        super().__init__()
        if pool5 not in POOL5_MODES:
            raise ValueError(f"pool5 must be one of {POOL5_MODES}, got {pool5!r}")
        w1, w2, w3, w4, w5 = widths
        channels = [(3, w1), (w1, w2), (w2, w3), (w3, w3), (w3, w4), (w4, w4), (w4, w5), (w5, w5)]
        for name, (cin, cout) in zip(CONV_NAMES, channels):
            setattr(self, name, nn.Conv3d(cin, cout, kernel_size=3, padding=1))
        self.pool1 = nn.MaxPool3d(kernel_size=(1, 2, 2), stride=(1, 2, 2))
        self.pool2 = nn.MaxPool3d(kernel_size=2, stride=2)
        self.pool3 = nn.MaxPool3d(kernel_size=2, stride=2)
        self.pool4 = nn.MaxPool3d(kernel_size=2, stride=2)
        if pool5 == "caffe":
            self.pool5 = nn.MaxPool3d(kernel_size=2, stride=2, ceil_mode=True)
        else:
            self.pool5 = nn.MaxPool3d(kernel_size=2, stride=2, padding=(0, 1, 1))
        self.fc6 = nn.Linear(w5 * 16, fc_dim)  # 512 x 1 x 4 x 4 after pool5
        self.fc7 = nn.Linear(fc_dim, fc_dim)
        self.fc8 = nn.Linear(fc_dim, n_classes)
        self.relu = nn.ReLU()
        self.dropout = nn.Dropout(0.5)

    def conv5b_and_pool5(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(N, 3, 16, 112, 112) -> conv5b after its ReLU (N, C5, 2, 7, 7) and pool5 (N, C5, 1, 4, 4)."""
        for convs, pool in _BLOCKS:
            for name in convs:
                x = self.relu(getattr(self, name)(x))
            if pool == "pool5":
                return x, self.pool5(x)
            x = getattr(self, pool)(x)
        raise AssertionError("unreachable: the last block ends with pool5")

    def pool5_output(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, 16, 112, 112) -> (N, C5, 1, 4, 4)."""
        return self.conv5b_and_pool5(x)[1]

    def forward(self, x: torch.Tensor, layer: str = "fc8") -> torch.Tensor:
        """Post-ReLU fc6 or fc7 features, or the fc8 logits (classification)."""
        return self.head(self.pool5_output(x), layer)

    def head(self, pool5: torch.Tensor, layer: str = "fc8") -> torch.Tensor:
        """pool5 -> post-ReLU fc6 or fc7, or the fc8 logits."""
        x = torch.flatten(pool5, 1)  # (C, T, H, W) order, as the weights expect
        x = self.dropout(self.relu(self.fc6(x)))
        if layer == "fc6":
            return x
        x = self.dropout(self.relu(self.fc7(x)))
        if layer == "fc7":
            return x
        return self.fc8(x)
