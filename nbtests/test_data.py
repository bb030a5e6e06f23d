"""nnbook.data: every data set of the book, checked against scikit-learn's own
copy of it (digits, iris, diabetes) or its defining geometry (the moons)."""

import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn import datasets

from nnbook.data import DIGITS_TEST, MOONS_DRAW, diabetes, digits, iris_petals, moons


@pytest.fixture(autouse=True)
def float64():
    with jax.enable_x64(True):
        yield


def test_digits_split_is_a_partition_of_scikit_learns_images_with_their_labels():
    split = digits(jax.random.key(0))
    assert split.X_test.shape == (DIGITS_TEST, 64) == (500, 64) and split.X_train.shape == (1297, 64)
    reference = datasets.load_digits()
    # every (image, label) pair of scikit-learn appears exactly once across the two sets
    ours = sorted(tuple(row) + (int(label),) for X, y in ((split.X_train, split.y_train), (split.X_test, split.y_test))
                  for row, label in zip(np.asarray(X) * 16.0, np.asarray(y)))
    theirs = sorted(tuple(row) + (int(label),) for row, label in zip(reference.data, reference.target))
    assert ours == theirs
    assert set(np.asarray(split.y_test).tolist()) == set(range(10))  # every class is tested


def test_digits_split_depends_only_on_the_key():
    a, b, c = digits(jax.random.key(3)), digits(jax.random.key(3)), digits(jax.random.key(4))
    np.testing.assert_array_equal(a.X_test, b.X_test)
    assert not np.array_equal(np.asarray(a.y_test), np.asarray(c.y_test))


def test_moons_are_balanced_deterministic_and_shaped_like_make_moons():
    X, y = moons(jax.random.key(0), 101, noise=0.0)
    assert X.shape == (101, 2) and int(y.sum()) == 51
    X0, X1 = np.asarray(X[y == 0]), np.asarray(X[y == 1])
    np.testing.assert_allclose(np.hypot(*X0.T), 1.0, rtol=1e-12)  # upper unit half circle
    assert np.all(X0[:, 1] >= 0)
    np.testing.assert_allclose(np.hypot(X1[:, 0] - 1, X1[:, 1] - 0.5), 1.0, rtol=1e-12)
    assert np.all(X1[:, 1] <= 0.5)
    again, _ = moons(jax.random.key(0), 101, noise=0.0)
    np.testing.assert_array_equal(X, again)


def moons_drawn_for_n(key, n, noise):
    """moons as first written: every random number drawn for exactly n points."""
    k_angle, k_noise = jax.random.split(key)
    labels = (jnp.arange(n) >= n // 2).astype(jnp.int32)
    t = jax.random.uniform(k_angle, (n,), maxval=jnp.pi)
    upper = jnp.stack([jnp.cos(t), jnp.sin(t)], axis=1)
    lower = jnp.stack([1.0 - jnp.cos(t), 0.5 - jnp.sin(t)], axis=1)
    X = jnp.where(labels[:, None] == 0, upper, lower)
    return X + noise * jax.random.normal(k_noise, X.shape), labels


@pytest.mark.parametrize("x64", [False, True])
def test_moons_cut_from_one_long_draw_are_the_numbers_drawn_for_n(x64):
    # The claim of moons' docstring, bit for bit, for the sizes the book uses
    # (200 and 1000 in chapter 5), odd ones, and past MOONS_DRAW (drawn for n).
    with jax.enable_x64(x64):
        for n in (1, 101, 200, 1000, MOONS_DRAW, MOONS_DRAW + 1):
            key = jax.random.key(n)
            X, labels = moons(key, n, noise=0.2)
            X_n, labels_n = jax.jit(moons_drawn_for_n, static_argnums=1)(key, n, 0.2)
            assert X.dtype == X_n.dtype and X.shape == (n, 2)
            np.testing.assert_array_equal(X, X_n)
            np.testing.assert_array_equal(labels, labels_n)


def test_iris_petals_are_the_two_hard_species_standardised():
    petals = iris_petals()
    reference = datasets.load_iris()
    keep = reference.target >= 1
    raw = reference.data[keep][:, [2, 3]]
    np.testing.assert_allclose(np.asarray(petals.X) * raw.std(axis=0) + raw.mean(axis=0), raw, rtol=1e-12)
    np.testing.assert_array_equal(petals.y, reference.target[keep] == 2)


def test_diabetes_is_standardised_and_rejects_unknown_features():
    data = diabetes(("bmi", "s5"))
    assert data.X.shape == (442, 2)
    np.testing.assert_allclose(np.asarray(data.X).std(axis=0), 1.0, rtol=1e-12)
    with pytest.raises(ValueError, match="unknown diabetes features"):
        diabetes(("height",))


def test_scikit_learn_is_imported_only_when_a_data_set_is_asked_for():
    import subprocess

    code = "import sys, nnbook.data; print('sklearn' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
