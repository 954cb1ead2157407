"""A Gaussian mixture fitted by EM in torch, so that DUAD's reselection runs where the model runs.

Why: on a GPU, DUAD's autoencoder and its forward passes are fast, and the reselection mixture
(scikit-learn's, on the CPU) would be the step left waiting for the host. This is the same
model as scikit-learn's GaussianMixture (k-means++ seeding, a few Lloyd steps, then EM with
`reg_covar` on the diagonal; "full" or "diag" covariances), written with batched Cholesky
factors and run in float64 on any device. It is fitted on a seeded subsample of at most
`max_fit_rows` rows and then labels every row, as `clustering.GMMClusterer` does.
On the CPU scikit-learn's stays the default (`DUAD(gmm_backend="auto")`); this one is
selectable there too, which is how it is tested without a GPU.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from videoad.detector.clustering import ClusterResult, result_from_labels

COVARIANCE_TYPES = ("full", "diag")


class TorchGMM:
    """EM for a Gaussian mixture; `fit(z)` then `predict(z)` (tensors on one device)."""

    def __init__(self, n_components: int = 20, covariance_type: str = "full", max_iter: int = 100,
                 tol: float = 1e-3, reg_covar: float = 1e-6, random_state: int = 0):
        if covariance_type not in COVARIANCE_TYPES:
            raise ValueError(f"covariance_type must be one of {COVARIANCE_TYPES}, got {covariance_type!r}")
        self.n_components = int(n_components)
        self.covariance_type = covariance_type
        self.max_iter = int(max_iter)
        self.tol = float(tol)
        self.reg_covar = float(reg_covar)
        self.random_state = int(random_state)

    # ------------------------------------------------------------------ seeding
    def _kmeans_init(self, z: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        """Hard labels from k-means++ seeding and 10 Lloyd steps (scikit-learn's default init)."""
        n, k = z.shape[0], self.n_components
        first = int(torch.randint(n, (1,), generator=g))
        centres = [z[first]]
        d2 = ((z - z[first]) ** 2).sum(1)
        for _ in range(1, k):
            total = float(d2.sum())
            if total <= 0:  # fewer distinct points than components: repeat one
                idx = int(torch.randint(n, (1,), generator=g))
            else:
                idx = int(torch.multinomial((d2 / total).float().cpu(), 1, generator=g))
            centres.append(z[idx])
            d2 = torch.minimum(d2, ((z - z[idx]) ** 2).sum(1))
        C = torch.stack(centres)
        for _ in range(10):
            labels = torch.cdist(z, C).argmin(1)
            counts = torch.bincount(labels, minlength=k).to(z.dtype)
            sums = torch.zeros_like(C).index_add_(0, labels, z)
            C = torch.where(counts[:, None] > 0, sums / counts.clamp_min(1)[:, None], C)
        return torch.cdist(z, C).argmin(1)

    # ------------------------------------------------------------------ EM
    def _m_step(self, z: torch.Tensor, resp: torch.Tensor) -> None:
        nk = resp.sum(0) + 10 * torch.finfo(resp.dtype).eps
        self.weights_ = nk / z.shape[0]
        self.means_ = (resp.T @ z) / nk[:, None]
        if self.covariance_type == "diag":
            avg_sq = (resp.T @ (z * z)) / nk[:, None]
            self.covariances_ = (avg_sq - self.means_ ** 2).clamp_min(0) + self.reg_covar
        else:
            diff = z[None, :, :] - self.means_[:, None, :]  # (k, n, d)
            cov = torch.einsum("nk,knd,kne->kde", resp, diff, diff) / nk[:, None, None]
            eye = torch.eye(z.shape[1], dtype=z.dtype, device=z.device)
            self.covariances_ = cov + self.reg_covar * eye

    def _log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """log N(z | mean_k, cov_k) + log weight_k, (n, k)."""
        d = z.shape[1]
        if self.covariance_type == "diag":
            var = self.covariances_  # (k, d)
            maha = (((z[:, None, :] - self.means_[None]) ** 2) / var[None]).sum(2)
            logdet = torch.log(var).sum(1)
        else:
            chol = torch.linalg.cholesky(self.covariances_)  # raises on a singular covariance
            diff = (z[None, :, :] - self.means_[:, None, :]).transpose(1, 2)  # (k, d, n)
            sol = torch.linalg.solve_triangular(chol, diff, upper=False)
            maha = (sol ** 2).sum(1).T  # (n, k)
            logdet = 2 * torch.log(torch.diagonal(chol, dim1=1, dim2=2)).sum(1)
        return -0.5 * (maha + logdet[None] + d * math.log(2 * math.pi)) + torch.log(self.weights_)[None]

    def fit(self, z: torch.Tensor) -> "TorchGMM":
        z = z.to(torch.float64)
        if z.shape[0] < self.n_components:
            raise ValueError(f"{z.shape[0]} rows cannot fit {self.n_components} components")
        g = torch.Generator().manual_seed(self.random_state)
        labels = self._kmeans_init(z, g)
        resp = torch.nn.functional.one_hot(labels, self.n_components).to(z.dtype)
        self._m_step(z, resp)
        prev = -math.inf
        self.converged_ = False
        self.n_iter_ = 0
        for it in range(1, self.max_iter + 1):
            log_p = self._log_prob(z)
            norm = torch.logsumexp(log_p, dim=1)
            lower_bound = float(norm.mean())
            resp = torch.exp(log_p - norm[:, None])
            self._m_step(z, resp)
            self.n_iter_ = it
            if abs(lower_bound - prev) < self.tol:
                self.converged_ = True
                break
            prev = lower_bound
        self.lower_bound_ = lower_bound
        return self

    @torch.no_grad()
    def predict(self, z: torch.Tensor, chunk: int = 1 << 16) -> torch.Tensor:
        z = z.to(device=self.means_.device, dtype=torch.float64)
        return torch.cat([self._log_prob(z[s:s + chunk]).argmax(1) for s in range(0, z.shape[0], chunk)])


class TorchGMMClusterer:
    """`clustering.GMMClusterer`'s interface over TorchGMM, on `device`."""

    def __init__(self, n_components: int = 20, covariance_type: str = "full", max_fit_rows: int = 50_000,
                 max_iter: int = 100, reg_covar: float = 1e-6, device: str = "cpu"):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.max_fit_rows = max_fit_rows
        self.max_iter = max_iter
        self.reg_covar = reg_covar
        self.device = device

    def check(self) -> None:
        """As `clustering.GMMClusterer.check`, with this one's covariance types and device."""
        from extract.device import check_device_text
        from videoad.detector.clustering import check_choice, check_counts
        from videoad.detector.validation import MAX_REPEATS, check_number

        check_counts(self, n_components=1, max_fit_rows=None, max_iter=(1, MAX_REPEATS))
        check_choice(self.covariance_type, "covariance_type", COVARIANCE_TYPES)
        check_number(self.reg_covar, "reg_covar", at_least=0)
        check_device_text(self.device)

    def __call__(self, X: np.ndarray, random_state: int) -> ClusterResult:
        rng = np.random.default_rng(random_state)
        z = torch.as_tensor(np.ascontiguousarray(X, dtype=np.float64), device=self.device)
        fit = z
        if self.max_fit_rows and X.shape[0] > self.max_fit_rows:
            fit = z[torch.as_tensor(np.sort(rng.choice(X.shape[0], self.max_fit_rows, replace=False)),
                                    device=z.device)]
        k = min(int(self.n_components), fit.shape[0])
        reg = float(self.reg_covar)
        for attempt in range(4):
            try:
                gmm = TorchGMM(k, self.covariance_type, self.max_iter, reg_covar=reg,
                               random_state=random_state).fit(fit)
                labels = gmm.predict(z).cpu().numpy()
                break
            except torch.linalg.LinAlgError:
                # collapsed components: regularise harder, as GMMClusterer does
                if attempt == 3:
                    raise
                reg = reg * 100.0 if reg > 0 else 1e-6
        return result_from_labels(X, labels, centres=None, clusterer="gmm_torch", n_components=k, reg_covar=reg,
                                  fit_rows=int(fit.shape[0]), converged=bool(gmm.converged_),
                                  device=str(z.device))
