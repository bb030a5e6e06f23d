"""Small real data sets that ship offline (inside scikit-learn's wheel).

Nothing here downloads: ``load_diabetes`` and ``load_digits`` read files that
are installed with scikit-learn.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
import numpy as np
from sklearn.datasets import load_diabetes


class Regression(NamedTuple):
    X: jnp.ndarray  # (n, d), each column standardised to mean 0 and variance 1
    y: jnp.ndarray  # (n,), standardised
    feature_names: tuple[str, ...]


def standardise(a: np.ndarray) -> np.ndarray:
    """Shift and scale each column to mean 0 and standard deviation 1."""
    a = np.asarray(a, dtype=float)
    return (a - a.mean(axis=0)) / a.std(axis=0)


def diabetes(features: tuple[str, ...] = ("bmi", "s5")) -> Regression:
    """Efron et al.'s (2004) diabetes data: 442 patients, disease progression
    after one year (y) from baseline measurements. ``bmi`` is body-mass index,
    ``s5`` a blood serum measurement (log of triglycerides); the two are
    correlated (about 0.45), which stretches the least-squares loss into an
    ellipse."""
    data = load_diabetes()
    names = list(data.feature_names)
    unknown = [f for f in features if f not in names]
    if unknown:
        raise ValueError(f"unknown diabetes features {unknown}; choose from {names}.")
    columns = [names.index(f) for f in features]
    X = standardise(data.data[:, columns])
    y = standardise(data.target)
    return Regression(jnp.asarray(X), jnp.asarray(y), tuple(features))
