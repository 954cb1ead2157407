"""The range of seeds, apart from the estimator base so that the command line and the settings
check them without importing scikit-learn."""
from __future__ import annotations

#: the largest seed numpy's legacy generators and scikit-learn take (2^32 - 1)
SEED_MAX = 2**32 - 1


def offset_seed(seed: int, offset: int) -> int:
    """A seed derived from `seed` (a step's, an attempt's), wrapped into 0..SEED_MAX: every seed
    `resolve_seed` accepts derives seeds numpy takes (near the top, `seed + step` overflowed inside
    scikit-learn's mixture); below the top, the plain sum, so no fit's seeds changed."""
    return (int(seed) + int(offset)) % (SEED_MAX + 1)
