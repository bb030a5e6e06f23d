"""Derivative checks (nnbook.calculus) against closed forms."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nnbook.calculus import central_difference, relative_error, tangent_line


def test_central_difference_of_a_cubic_in_float64():
    with jax.enable_x64(True):
        f = lambda x: x**3 - 2.0 * x
        for x in (-1.5, 0.0, 0.7, 3.0):
            assert float(central_difference(f, jnp.float64(x))) == pytest.approx(3 * x**2 - 2, abs=1e-8)


def test_central_difference_of_a_vector_function():
    with jax.enable_x64(True):
        f = lambda w: w[0] ** 2 * w[1] + jnp.sin(w[1])
        w = jnp.array([0.3, -1.2])
        expected = np.array([2 * 0.3 * -1.2, 0.3**2 + np.cos(-1.2)])
        np.testing.assert_allclose(central_difference(f, w), expected, atol=1e-9)


def test_relative_error():
    assert relative_error(jnp.array([1.0, 0.0]), jnp.array([1.0, 0.0])) == 0.0
    assert relative_error(jnp.array([1.0]), jnp.array([1.1])) == pytest.approx(0.1 / 1.1)
    assert relative_error(jnp.zeros(3), jnp.zeros(3)) == 0.0


def test_tangent_line_touches_and_has_the_right_slope():
    with jax.enable_x64(True):
        f = lambda x: x * jnp.sin(x)
        x0 = 1.3
        ys = tangent_line(f, x0, jnp.array([x0, x0 + 1.0]))
        assert float(ys[0]) == pytest.approx(float(f(x0)))
        assert float(ys[1] - ys[0]) == pytest.approx(np.sin(x0) + x0 * np.cos(x0))
