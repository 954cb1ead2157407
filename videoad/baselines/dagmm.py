"""DAGMM (Zong et al., ICLR 2018), our own torch implementation, behind the detector contract.

Compression network (the same MLP autoencoder DUAD uses) -> z = [code, relative Euclidean
error, cosine similarity] -> estimation network (softmax memberships) -> a GMM whose
parameters come from the memberships. Score = sample energy. Loss = MSE + lambda1 * energy +
lambda2 * sum(1 / diag(cov)); `eps` is the small value added to each covariance diagonal that
the paper mentions, without which the covariances turn singular.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from extract.device import check_device_text
from videoad.detector.autoencoder import MLPAutoencoder
from videoad.detector.torch_base import Diverged, TorchDetector, check_threads
from videoad.detector.validation import (MAX_COUNT, MAX_LR, MAX_REPEATS, MAX_WIDTH, MIN_LR, check_count, check_number,
                                        whole_valued)


class _Estimation(nn.Module):
    def __init__(self, z_dim: int, hidden: int, n_gmm: int, dropout: float):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(z_dim, hidden), nn.Tanh(), nn.Dropout(dropout),
                                 nn.Linear(hidden, n_gmm), nn.Softmax(dim=1))

    def forward(self, z):
        return self.net(z)


class DAGMMNet(nn.Module):
    def __init__(self, n_features: int, hidden, latent: int, n_gmm: int, est_hidden: int, dropout: float):
        super().__init__()
        self.ae = MLPAutoencoder(n_features, hidden, latent, "tanh")
        self.est = _Estimation(latent + 2, est_hidden, n_gmm, dropout)
        # GMM parameters estimated on the training data after fitting (buffers: saved with the model)
        self.register_buffer("phi", torch.zeros(n_gmm, dtype=torch.float64))
        self.register_buffer("mu", torch.zeros(n_gmm, latent + 2, dtype=torch.float64))
        self.register_buffer("cov", torch.zeros(n_gmm, latent + 2, latent + 2, dtype=torch.float64))

    def forward(self, x):
        code, x_hat = self.ae(x)
        rel = torch.linalg.vector_norm(x - x_hat, dim=1) / torch.linalg.vector_norm(x, dim=1).clamp_min(1e-12)
        cos = nn.functional.cosine_similarity(x, x_hat, dim=1, eps=1e-12)
        z = torch.cat([code, rel[:, None], cos[:, None]], dim=1)
        return z, x_hat, self.est(z)


def gmm_params(z, gamma, eps):
    """Mixture weights, means and covariances (+ eps on the diagonal) from soft memberships."""
    n_k = gamma.sum(0) + 1e-12
    phi = n_k / z.shape[0]
    mu = (gamma.T @ z) / n_k[:, None]
    diff = z[None, :, :] - mu[:, None, :]  # (K, N, D)
    cov = torch.einsum("kn,knd,kne->kde", gamma.T, diff, diff) / n_k[:, None, None]
    cov = cov + eps * torch.eye(z.shape[1], device=z.device)
    return phi, mu, cov


def safe_cholesky(cov, eps: float = 1e-6, tries: int = 6):
    """Cholesky factors of a batch of covariances, adding jitter to the diagonal (eps, then
    10x more each try) to the matrices that rounding has left not quite positive definite."""
    eye = torch.eye(cov.shape[-1], dtype=cov.dtype, device=cov.device)
    jitter = torch.zeros(cov.shape[0], 1, 1, dtype=cov.dtype, device=cov.device)
    for _ in range(tries):
        chol, info = torch.linalg.cholesky_ex(cov + jitter * eye)
        if not bool((info > 0).any()):
            return chol
        bad = (info > 0)[:, None, None]
        jitter = torch.where(bad, torch.where(jitter > 0, jitter * 10, torch.full_like(jitter, eps)), jitter)
    try:
        return torch.linalg.cholesky(cov + jitter * eye)
    except torch.linalg.LinAlgError as exc:  # torch's own error type and message, from deep in a fit
        if not bool(torch.isfinite(cov).all()):  # weights gone to NaN or inf: a diverged training, not X
            raise Diverged("DAGMM's mixture covariances are not finite numbers") from None
        raise ValueError("DAGMM's mixture covariances are not positive definite even with jitter: rows this large "
                         "or this alike overflow or collapse its float32 mixture; rescale X (standardise its "
                         f"columns) ({str(exc).splitlines()[0]})") from None


def energy(z, phi, mu, cov):
    """-log sum_k phi_k N(z | mu_k, cov_k), computed through Cholesky factors (stable)."""
    chol = safe_cholesky(cov)  # (K, D, D)
    diff = (z[None, :, :] - mu[:, None, :]).transpose(1, 2)  # (K, D, N)
    sol = torch.linalg.solve_triangular(chol, diff, upper=False)  # (K, D, N)
    maha = (sol ** 2).sum(1)  # (K, N)
    logdet = 2 * torch.log(torch.diagonal(chol, dim1=1, dim2=2)).sum(1)  # (K,)
    d = z.shape[1]
    log_prob = -0.5 * (maha + logdet[:, None] + d * math.log(2 * math.pi))
    return -torch.logsumexp(torch.log(phi.clamp_min(1e-12))[:, None] + log_prob, dim=0)


class DAGMM(TorchDetector):
    """Deep Autoencoding Gaussian Mixture Model; defaults are the paper's KDDCUP99 settings.
    Seeding, thread limits (`n_threads`), the batch loop, chunked inference and save/load come
    from `videoad.detector.torch_base.TorchDetector`; here: the network, the loss, the mixture."""

    _json_attrs = ("n_features_in_", "feature_names_in_", "seed_", "device_", "architecture_", "threshold_",
                   "fit_seconds_")
    _array_attrs = ("decision_scores_", "labels_")
    #: a training loss that is not finite names these (`TorchDetector._diverged`)
    DIVERGE_SETTINGS = ("lr", "lambda_energy", "lambda_cov")
    #: a gradient that overflows while the loss stays finite also names eps, to raise: 1/variance
    #: reaches 1/eps (lambda_cov 1e6, eps 1e-20, rows at 1e6: every step's norm inf, no weight moved)
    GRADIENT_RAISE = ("eps",)
    #: rows per forward chunk when estimating the mixture and scoring
    CHUNK_ROWS = 65536
    #: the largest `eps` (added to each covariance's diagonal): the energy is then the squared distance
    #: over eps beside a term of log(eps), and float64 loses the rows' differences. Measured (1,500
    #: rows of 20 columns, z of 3 columns): every row apart up to 1e6, 9 ties at 1e8, 30 distinct
    #: scores at 1e12, one score for every row from 1e14 on; from 100 on the ranking no longer
    #: depends on eps (the covariances are eps alone), so nothing a user could mean is refused
    MAX_EPS = 1e6
    #: the largest `lambda_energy` and `lambda_cov`. Adam's steps do not depend on the loss's scale, so
    #: what a weight sets is its term's share of the gradient: at 1e6 the reconstruction's is already
    #: below a millionth, and from about 1e8 below float32's resolution (6e-8): a larger weight means
    #: the same "this term alone". Measured (DAGMM, 20 epochs, lr 1e-3; 2,226 training rows of a
    #: 5,000-row slice of kdd_cup.npz at 10%, and 1,575 rows of a 3-cluster mixture of 20 columns):
    #: lambda_cov 1e6 to 1e13 gave the same scores (Spearman 1.0, AUROC 0.9826); lambda_energy 1e6 to
    #: 1e15 trained on the energy alone (AUROC 0.57 to 0.84, as unsteady from 10 on); from 1e14
    #: (lambda_cov) and 1e18 (lambda_energy) the gradient's norm overflowed float32, the clipping
    #: scaled every step to 0 and no weight moved, in silence (AUROC 0.9005 for both: the untrained
    #: network's scores; lambda_energy 1e30 "fitted" so); from 1e35 the loss was NaN. Where the
    #: overflow starts depends on the data and `eps` (1/variance can reach 1/eps): 1e6 leaves 1e8 of room
    #: at the default eps; lambda_cov 1e6 with eps 1e-20 on rows near 1e6 still overflowed, and that is
    #: named at the epoch's end (`TorchDetector._gradient_overflow`)
    MAX_LAMBDA = 1e6

    def __init__(self, hidden_dims=(60, 30, 10), latent_dim: int = 1, n_gmm: int = 4, est_hidden: int = 10,
                 dropout: float = 0.5, lambda_energy: float = 0.1, lambda_cov: float = 0.005, eps: float = 1e-6,
                 epochs: int = 200, batch_size: int = 1024, lr: float = 1e-4, grad_clip: float = 5.0,
                 contamination: float | None = None, device: str = "auto", random_state=None,
                 n_threads: int | None = None):
        self.hidden_dims = hidden_dims
        self.latent_dim = latent_dim
        self.n_gmm = n_gmm
        self.est_hidden = est_hidden
        self.dropout = dropout
        self.lambda_energy = lambda_energy
        self.lambda_cov = lambda_cov
        self.eps = eps
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.grad_clip = grad_clip
        self.contamination = contamination
        self.device = device
        self.random_state = random_state
        self.n_threads = n_threads

    def _prepare_fit(self, X) -> np.ndarray:
        self._check_params()
        X = super()._prepare_fit(X)
        self._check_row_norms(X)
        return X

    #: a row whose largest |value| is below this has a float32 squared norm below float32's range
    TINY_ROW = float(np.sqrt(np.finfo(np.float32).tiny))

    def _check_row_norms(self, X: np.ndarray) -> None:
        """Rows that are not zero but whose squares underflow float32 (every value below about 1e-19)
        lose the relative distance and cosine DAGMM feeds its mixture: at 1e-25 every row got one
        score, in silence. Named, with the first such row (a zero row is fine: its norm is clamped)."""
        top = np.maximum(X.max(axis=1), -X.min(axis=1))  # largest |value| of each row, without a copy of X
        tiny = np.flatnonzero((top > 0) & (top < self.TINY_ROW))
        if tiny.size:
            i = int(tiny[0])
            raise ValueError(f"DAGMM: {tiny.size} row(s) of X hold only values below {self.TINY_ROW:.3g} (first: row {i}, "
                             f"largest |value| {float(top[i]):.3g}), whose squares underflow the float32 norms of its "
                             "reconstruction features; rescale X (standardise its columns)")

    def _check_params(self) -> None:
        """The network's sizes checked before a fit (and when a config file is read:
        registry.check_arguments): `n_gmm=0` failed as an overflow asking to rescale X,
        `latent_dim=0` and `est_hidden=0` fitted a degenerate network in silence."""
        if not (isinstance(self.hidden_dims, (list, tuple)) and self.hidden_dims
                and all(whole_valued(h) and 1 <= h <= MAX_WIDTH for h in self.hidden_dims)):
            raise ValueError(f"hidden_dims must be a list of layer widths from 1 to {MAX_WIDTH:,} (e.g. [60, 30, 10]), "
                             f"got {self.hidden_dims!r}")
        # 2**63 units failed inside torch as "Overflow when unpacking long long", 10**30 epochs ran for ever
        for name, most in (("latent_dim", MAX_WIDTH), ("n_gmm", MAX_WIDTH), ("est_hidden", MAX_WIDTH),
                           ("epochs", MAX_REPEATS), ("batch_size", MAX_COUNT)):
            check_count(getattr(self, name), name, at_least=1, at_most=most)
        # each real setting by name: None or a word failed inside torch as a TypeError, and inf, NaN
        # or a negative weight made a NaN loss that was reported as rows too large ("rescale X")
        check_number(self.dropout, "dropout", at_least=0.0, below=1.0)
        check_number(self.lr, "lr", at_least=MIN_LR, at_most=MAX_LR)  # 1e-300 trained nothing, in silence
        check_number(self.eps, "eps", above=0.0, at_most=self.MAX_EPS)  # 1e30: every row one score, in silence
        check_number(self.grad_clip, "grad_clip", above=0.0)
        for name in ("lambda_energy", "lambda_cov"):  # 1e30 trained nothing, in silence; 1e38: NaN
            check_number(getattr(self, name), name, at_least=0.0, at_most=self.MAX_LAMBDA)
        check_device_text(self.device)  # its form (`device: abc` passed the read); the GPU's presence is the fit's
        check_threads(self.n_threads)  # `n_threads: true` passed the read and failed at the fit

    def _build_model(self) -> DAGMMNet:
        a = self.architecture_
        return DAGMMNet(a["n_features"], a["hidden"], a["latent"], a["n_gmm"], a["est_hidden"], a["dropout"])

    def _fit_model(self, X: np.ndarray) -> None:
        self.architecture_ = {"n_features": X.shape[1], "hidden": [int(h) for h in self.hidden_dims],
                              "latent": int(self.latent_dim), "n_gmm": int(self.n_gmm),
                              "est_hidden": int(self.est_hidden), "dropout": float(self.dropout)}
        self._new_model()
        opt = torch.optim.Adam(self.model_.parameters(), lr=self.lr)
        gen = torch.Generator().manual_seed(self.seed_)
        X_t = self._tensor(X)
        self._first_terms = None  # the loss's terms at its first batch that was not finite (`_note_terms`)
        self._run_epochs(X_t, int(self.epochs), opt, gen, min_batch=2, grad_clip=self.grad_clip)
        self._first_terms = None
        self._estimate_gmm(X_t)
        self.decision_scores_ = self._energy(X_t)

    def _batch_loss(self, x: torch.Tensor) -> torch.Tensor:
        z, x_hat, gamma = self.model_(x)
        phi, mu, cov = gmm_params(z, gamma, self.eps)
        e = energy(z, phi, mu, cov).mean()
        cov_pen = (1.0 / torch.diagonal(cov, dim1=1, dim2=2)).sum()
        mse = torch.mean((x - x_hat) ** 2)
        loss = mse + self.lambda_energy * e + self.lambda_cov * cov_pen
        self._note_terms(torch.stack([mse, self.lambda_energy * e, self.lambda_cov * cov_pen]).detach())
        return loss

    #: the loss's terms (as `_note_terms` holds them): words, and the setting that weighs each
    TERMS = (("the reconstruction error", None),
             ("the energy term (lambda_energy x the mean sample energy)", "lambda_energy"),
             ("the covariance penalty (lambda_cov x the sum of 1/variance)", "lambda_cov"))

    def _note_terms(self, terms: torch.Tensor) -> None:
        """Keep the weighted terms of the first batch whose terms were not all finite, on the device
        (a few tiny operations a batch, no sync): the check at the epoch's end then says which went."""
        first = getattr(self, "_first_terms", None)
        self._first_terms = terms if first is None else torch.where(torch.isfinite(first).all(), terms, first)

    def _diverged_term(self) -> tuple[str, str | None] | None:
        first = getattr(self, "_first_terms", None)
        if first is None:
            return None
        values = first.tolist()
        bad = [i for i, v in enumerate(values) if not math.isfinite(v)]
        if not bad:  # the Cholesky of non-finite covariances (Diverged) before any loss was
            return ("every term of the loss was finite until a step made the weights non-finite (its gradient, "
                    "or lr, too large)", None)
        if len(bad) == len(values):
            return "every term of the loss at once (the weights had become non-finite)", None
        words = " and ".join(f"{self.TERMS[i][0]}, {values[i]}" for i in bad)
        return f"first not finite: {words}", self.TERMS[bad[-1]][1]

    def _chunk_rows(self) -> int:
        return self.CHUNK_ROWS

    @torch.no_grad()
    def _estimate_gmm(self, X_t):
        """GMM parameters over the whole training set, accumulated chunk by chunk."""
        zs, gs = [], []
        for x in self._chunks(X_t):
            z, _, g = self.model_(x)
            zs.append(z)
            gs.append(g)
        # float64: summed over hundreds of thousands of rows, float32 covariances lose definiteness
        phi, mu, cov = gmm_params(torch.cat(zs).double(), torch.cat(gs).double(), self.eps)
        self.model_.phi.copy_(phi)
        self.model_.mu.copy_(mu)
        self.model_.cov.copy_(cov)

    @torch.no_grad()
    def _energy(self, X_t) -> np.ndarray:
        out = []
        m = self.model_
        for x in self._chunks(X_t):
            z, _, _ = m(x)
            out.append(energy(z.double(), m.phi, m.mu, m.cov).cpu())
        return torch.cat(out).double().numpy()

    def _score(self, X: np.ndarray) -> np.ndarray:
        return self._energy(self._tensor(X))
