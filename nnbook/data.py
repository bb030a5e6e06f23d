"""Every data set of the book, each a small NamedTuple of JAX arrays.

Used from chapter 1 on; nothing here is taught, it only loads. Nothing
downloads: the diabetes, iris and digits data are files installed with
scikit-learn (imported only when a data set is asked for), and the two moons
are drawn with a JAX key.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np


def standardise(a: np.ndarray) -> np.ndarray:
    """Shift and scale each column to mean 0 and standard deviation 1."""
    a = np.asarray(a, dtype=float)
    return (a - a.mean(axis=0)) / a.std(axis=0)


# ----------------------------------------------------------------------------
# Regression: diabetes (chapters 2 and 4)
# ----------------------------------------------------------------------------


class Regression(NamedTuple):
    X: jnp.ndarray  # (n, d), each column standardised to mean 0 and variance 1
    y: jnp.ndarray  # (n,), standardised
    feature_names: tuple[str, ...]


def diabetes(features: tuple[str, ...] = ("bmi", "s5")) -> Regression:
    """Efron et al.'s (2004) diabetes data: 442 patients, disease progression
    after one year (y) from baseline measurements. ``bmi`` is body-mass index,
    ``s5`` a blood serum measurement (log of triglycerides); the two are
    correlated (about 0.45), which stretches the least-squares loss into an
    ellipse."""
    from sklearn.datasets import load_diabetes

    data = load_diabetes()
    names = list(data.feature_names)
    unknown = [f for f in features if f not in names]
    if unknown:
        raise ValueError(f"unknown diabetes features {unknown}; choose from {names}.")
    columns = [names.index(f) for f in features]
    X = standardise(data.data[:, columns])
    y = standardise(data.target)
    return Regression(jnp.asarray(X), jnp.asarray(y), tuple(features))


# ----------------------------------------------------------------------------
# Two classes: iris petals (chapter 1) and two moons (chapter 5)
# ----------------------------------------------------------------------------


class TwoClasses(NamedTuple):
    X: jnp.ndarray  # (n, 2), standardised features
    y: jnp.ndarray  # (n,), 0.0 or 1.0
    feature_names: tuple[str, str]
    class_names: tuple[str, str]


def iris_petals() -> TwoClasses:
    """Fisher's (1936) iris flowers, the two species that are hard to tell
    apart: versicolor (y = 0) and virginica (y = 1), 50 each, described by
    petal length and petal width (cm), each standardised to mean 0 and
    variance 1."""
    from sklearn.datasets import load_iris

    data = load_iris()
    keep = data.target >= 1
    X = standardise(data.data[keep][:, [2, 3]])
    y = (data.target[keep] == 2).astype(float)
    return TwoClasses(jnp.asarray(X), jnp.asarray(y), ("petal length", "petal width"), ("versicolor", "virginica"))


class Labelled(NamedTuple):
    X: jnp.ndarray  # (n, inputs)
    labels: jnp.ndarray  # (n,) integer classes


MOONS_DRAW = 4096  # moons() of up to this many points all come from one compiled program


@partial(jax.jit, static_argnames=("size",))
def _moons(key, size: int, half, noise):
    k_angle, k_noise = jax.random.split(key)
    labels = (jnp.arange(size) >= half).astype(jnp.int32)
    t = jax.random.uniform(k_angle, (size,), maxval=jnp.pi)
    upper = jnp.stack([jnp.cos(t), jnp.sin(t)], axis=1)
    lower = jnp.stack([1.0 - jnp.cos(t), 0.5 - jnp.sin(t)], axis=1)
    X = jnp.where(labels[:, None] == 0, upper, lower)
    return X + noise * jax.random.normal(k_noise, X.shape), labels


def moons(key, n: int, noise: float = 0.2) -> Labelled:
    """Two interleaving half circles in the plane, as in scikit-learn's
    ``make_moons``, drawn with a JAX key: n // 2 points of class 0 on the
    upper arc (cos t, sin t), the rest of class 1 on the lower arc
    (1 - cos t, 1/2 - sin t), t uniform in [0, pi], plus Gaussian noise.

    Up to ``MOONS_DRAW`` points, they are the first n of ``MOONS_DRAW``
    drawn by one compiled program: the same numbers as a draw of n (JAX's
    generator is counter-based, point i depends on the key and i alone, as
    in ``nnbook.mlp.normal``), without compiling a program for each n."""
    size = MOONS_DRAW if n <= MOONS_DRAW and jax.config.jax_threefry_partitionable else n
    X, labels = _moons(key, size, n // 2, noise)
    if size == n:
        return Labelled(X, labels)
    # cut in NumPy and moved back with device_put: jnp would compile a program per n
    return Labelled(jax.device_put(np.asarray(X)[:n]), jax.device_put(np.asarray(labels)[:n]))


# ----------------------------------------------------------------------------
# Ten classes: handwritten digits (chapters 2 and 5)
# ----------------------------------------------------------------------------

DIGITS_TEST = 500  # held-out images: the one split every chapter uses


class Digits(NamedTuple):
    X_train: jnp.ndarray  # (1297, 64): 8 x 8 pixels, scaled to [0, 1]
    y_train: jnp.ndarray  # (1297,) labels 0..9
    X_test: jnp.ndarray  # (500, 64)
    y_test: jnp.ndarray  # (500,)


def digits(key) -> Digits:
    """scikit-learn's 1797 handwritten digits (8 x 8 pixels, 10 classes),
    pixels scaled from 0..16 to [0, 1], shuffled with ``key``: the first
    ``DIGITS_TEST`` = 500 images of the shuffle are the test set, the other
    1297 the training set."""
    from sklearn.datasets import load_digits

    data = load_digits()
    X = np.asarray(data.data, dtype=float) / 16.0
    y = np.asarray(data.target, dtype=np.int32)
    order = np.asarray(jax.random.permutation(key, len(X)))
    test, train = order[:DIGITS_TEST], order[DIGITS_TEST:]
    return Digits(jnp.asarray(X[train]), jnp.asarray(y[train]), jnp.asarray(X[test]), jnp.asarray(y[test]))
