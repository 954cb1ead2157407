"""Exact k-nearest-neighbour distances to a reference set, in torch, chunked, on any device.

Why not scikit-learn: DUAD's "knn" score queries every row against up to 20,000 reference rows
in [code, residual] space, which is as wide as the input (4,112 columns for C3D features). A
matrix product is the only affordable way to compare that many wide rows, and torch runs it
in float32 on the CPU or the GPU alike, a chunk of queries at a time, so no n x m matrix is
ever held beyond one chunk.

The product form ||q||^2 + ||r||^2 - 2 q.r loses precision for near-duplicates (KDDCUP99 holds
thousands of identical rows), so it only shortlists: the best k + `refine` candidates of each
query are measured again by explicit differences, and those distances are returned. The
result equals a brute-force search unless a true neighbour ranks below k + refine in the
shortlist, which takes a rounding error larger than the gap between neighbours.
"""
from __future__ import annotations

from typing import Callable, Iterator

import numpy as np
import torch

from videoad.detector.torch_base import numpy_view

#: values (floats) one chunk may hold in its distance block and its shortlist differences
CHUNK_VALUES = 1 << 25


class KNNIndex:
    """Reference rows on a device; `query` returns (n, k) ascending Euclidean distances."""

    def __init__(self, reference, device: str | torch.device = "cpu", refine: int = 8):
        ref = torch.as_tensor(np.ascontiguousarray(reference, dtype=np.float32) if isinstance(reference, np.ndarray)
                              else reference, dtype=torch.float32, device=device)
        if ref.ndim != 2 or ref.shape[0] < 1:
            raise ValueError(f"reference must be a non-empty 2-D array, got shape {tuple(ref.shape)}")
        self.device = ref.device
        self.mean = ref.mean(0)
        self.ref = ref - self.mean  # centred: smaller norms, less cancellation in the product form
        self.ref_sq = (self.ref * self.ref).sum(1)
        self.refine = int(refine)

    @property
    def n_reference(self) -> int:
        return int(self.ref.shape[0])

    def chunk_rows(self, k: int) -> int:
        m, d = self.ref.shape
        c = min(k + self.refine, m)
        return max(1, min(8192, CHUNK_VALUES // (m + c * d)))

    @torch.no_grad()
    def query(self, queries, k: int) -> np.ndarray:
        """Distances from every row of `queries` (array or tensor) to its k nearest reference rows."""
        q = queries if isinstance(queries, torch.Tensor) else numpy_view(np.ascontiguousarray(queries, dtype=np.float32))
        step = self.chunk_rows(k)
        return np.concatenate([self._query_chunk(q[s:s + step], k) for s in range(0, q.shape[0], step)]) \
            if q.shape[0] else np.zeros((0, k))

    def query_stream(self, chunks: Iterator[torch.Tensor], k: int) -> np.ndarray:
        """Like `query`, for queries produced chunk by chunk (e.g. by a model, never all in memory)."""
        out = []
        step = self.chunk_rows(k)
        for chunk in chunks:
            for s in range(0, chunk.shape[0], step):
                out.append(self._query_chunk(chunk[s:s + step], k))
        return np.concatenate(out) if out else np.zeros((0, k))

    def _query_chunk(self, q: torch.Tensor, k: int) -> np.ndarray:
        m = self.n_reference
        if k > m:
            raise ValueError(f"k={k} neighbours requested from {m} reference rows")
        q = q.to(self.device, torch.float32) - self.mean
        # the same sums as |q|^2 + |r|^2 - 2 q.r written out, in place: two blocks alive, not four
        # (a chunk's block is CHUNK_VALUES floats; four of them were 0.5 GB at every query)
        d2 = (q * q).sum(1, keepdim=True) + self.ref_sq[None, :]
        d2.sub_((q @ self.ref.T).mul_(2.0))
        c = min(k + self.refine, m)
        cand = torch.topk(d2, c, dim=1, largest=False).indices  # (b, c)
        exact = torch.linalg.vector_norm(q[:, None, :] - self.ref[cand], dim=2)  # (b, c), by differences
        return torch.sort(exact, dim=1).values[:, :k].double().cpu().numpy()


def batched(X_t: torch.Tensor, fn: Callable[[torch.Tensor], torch.Tensor], chunk: int) -> Iterator[torch.Tensor]:
    """fn applied to consecutive row chunks of X_t (a generator: one chunk alive at a time)."""
    for s in range(0, X_t.shape[0], chunk):
        yield fn(X_t[s:s + chunk])
