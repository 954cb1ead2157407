"""The autoencoder DUAD trains on its normal subset: a plain MLP, framework-free torch.

The paper leaves the architecture open. For KDDCUP99 the default follows DAGMM's compression
network (118-60-30-10-1, tanh), which `research/kdd-prototype.md` found far better than a wider
ReLU bottleneck. Bottleneck and output layers are linear.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "gelu": nn.GELU, "sigmoid": nn.Sigmoid}


def _mlp(sizes: Sequence[int], activation: str) -> nn.Sequential:
    act = ACTIVATIONS[activation]
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


class MLPAutoencoder(nn.Module):
    """Symmetric MLP autoencoder: in -> hidden... -> latent -> ...hidden -> in."""

    def __init__(self, n_features: int, hidden: Sequence[int], latent: int, activation: str = "tanh"):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        sizes = [int(n_features), *map(int, hidden), int(latent)]
        self.encoder = _mlp(sizes, activation)
        self.decoder = _mlp(sizes[::-1], activation)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        code = self.encoder(x)
        return code, self.decoder(code)


def auto_architecture(n_features: int) -> tuple[tuple[int, ...], int]:
    """Hidden sizes and latent size for a given input width when the user names none."""
    if n_features <= 160:  # tabular scale: DAGMM's shape, scaled to the input
        return (max(n_features // 2, 4), max(n_features // 4, 2), max(n_features // 12, 2)), 1
    h1 = min(1024, max(n_features // 4, 64))
    h2 = min(256, max(h1 // 4, 32))
    return (h1, h2), 16


#: a value past which a row's squared norm could overflow float32 (about 1.8e19 squared is its
#: largest number): `reconstruction_angle` divides such a row by its largest value first
ANGLE_RESCALE = 1e15


def reconstruction_angle(x: torch.Tensor, x_hat: torch.Tensor, zero_scale: float | None = None) -> torch.Tensor:
    """arccos of the cosine between each row and its reconstruction, in radians, in [0, pi].

    The cosine is clamped to [-1, 1] before arccos (rounding can leave it just outside).
    A zero row (or zero reconstruction) has no direction; its cosine is taken as 0 (angle pi/2),
    except that with `zero_scale` (a typical row's length) a zero row's angle is
    arctan(|x_hat| / zero_scale): how far from nothing its reconstruction is, in a typical row's
    length, in [0, pi/2). A mode of empty rows (a quarter of sparse count data) that the model
    reproduces then reads as normal, not above 99.8% of the ordinary rows.
    A row (or reconstruction) with a value past `ANGLE_RESCALE` is divided by its largest value
    first: the angle does not change, and its squared norm no longer overflows float32 (a row at
    1e20 read as pi/2, below half of the training rows). Every other row is computed as before.
    """
    largest = x.abs().amax(dim=1)  # each row's largest value: zero for a zero row, past ANGLE_RESCALE for a huge one
    zero = largest == 0 if zero_scale is not None and zero_scale > 0 else None
    if zero is not None and bool(zero.any()):  # measured before any rescaling below
        zero_angle = torch.atan(torch.linalg.vector_norm(x_hat[zero].double(), dim=1) / float(zero_scale))
    else:
        zero = None
    big = (largest > ANGLE_RESCALE) | (x_hat.abs().amax(dim=1) > ANGLE_RESCALE)
    if bool(big.any()):
        x, x_hat = x.clone(), x_hat.clone()
        x[big] = x[big] / x[big].abs().amax(dim=1, keepdim=True)
        x_hat[big] = x_hat[big] / x_hat[big].abs().amax(dim=1, keepdim=True).clamp_min(1e-30)
    cos = nn.functional.cosine_similarity(x, x_hat, dim=1, eps=1e-12)
    angle = torch.arccos(cos.clamp(-1.0, 1.0))
    if zero is not None:
        angle = angle.clone()
        angle[zero] = zero_angle.to(angle.dtype)
    return angle
