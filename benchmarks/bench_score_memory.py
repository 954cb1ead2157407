"""Peak memory of scoring many cell rows with a fitted DUAD (`score: knn`, the video default), as
`videoad detect --model` does for a long recording: the forward pass chunked by every layer's
width and the neighbour distances written in place (since 2026-12-06), against the way before
(chunks counted by the input's 15 values alone, so a million rows at once, and four distance
blocks alive per query). Each side scores in a fresh process of its own; the scores are compared.
One run:

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_score_memory.py --rows 24000,288000

288,000 cell rows are two hours of one camera at the defaults (10 fps, a clip every 4 frames,
16 cells).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def fit(path: Path) -> None:
    """A DUAD fitted on cell-like rows (15 non-negative values), saved to `path`."""
    from videoad.detector import DUAD

    rng = np.random.default_rng(0)
    X = np.abs(rng.normal(0.0, 1.0, (20000, 15))).astype(np.float32)
    DUAD(p0=25, p=20, r=3, max_reselections=2, hidden_dims=[64], latent_dim=4, score="knn", restarts=0,
         random_state=0).fit(X).save(path)


def score(path: str, rows: int, way: str) -> dict:
    """Scores of `rows` new rows, and this process's peak resident memory over the scoring."""
    import resource

    import torch

    from videoad.detector import load_detector
    from videoad.detector import knn, torch_base

    if way == "before":
        def old_chunk_rows(self):
            return max(1024, torch_base.CHUNK_VALUES // max(1, int(self.n_features_in_)))

        def old_query_chunk(self, q, k):
            q = q.to(self.device, torch.float32) - self.mean
            d2 = (q * q).sum(1, keepdim=True) + self.ref_sq[None, :] - 2.0 * (q @ self.ref.T)
            c = min(k + self.refine, self.n_reference)
            cand = torch.topk(d2, c, dim=1, largest=False).indices
            exact = torch.linalg.vector_norm(q[:, None, :] - self.ref[cand], dim=2)
            return torch.sort(exact, dim=1).values[:, :k].double().cpu().numpy()

        torch_base.TorchDetector._chunk_rows = old_chunk_rows
        knn.KNNIndex._query_chunk = old_query_chunk
    det = load_detector(path)
    X = np.abs(np.random.default_rng(1).normal(0.0, 1.0, (rows, 15))).astype(np.float32)
    det.decision_function(X[:64])  # the index built, the libraries warm (a small block: not the peak measured)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    scores = det.decision_function(X)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"peak_mb": peak / 1024, "added_mb": (peak - before) / 1024, "scores": scores.tolist()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", default="24000,288000", help="comma-separated row counts")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        json.dump(score(args.child[0], int(args.child[1]), args.child[2]), sys.stdout)
        return
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "duad.pt"
        fit(model)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        for rows in (int(r) for r in args.rows.split(",")):
            got = {way: json.loads(subprocess.run([sys.executable, __file__, "--child", str(model), str(rows), way],
                                                  check=True, capture_output=True, text=True, env=env).stdout)
                   for way in ("now", "before")}
            diff = float(np.max(np.abs(np.subtract(got["now"]["scores"], got["before"]["scores"]))))
            print(f"{rows} rows: memory added by scoring, over the peak of loading: {got['now']['added_mb']:.0f} MB "
                  f"now, {got['before']['added_mb']:.0f} MB before (peaks {got['now']['peak_mb']:.0f} and "
                  f"{got['before']['peak_mb']:.0f} MB); largest score difference {diff:.2e}")


if __name__ == "__main__":
    main()
