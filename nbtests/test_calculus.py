"""Derivative checks and bisection (nnbook.calculus) against closed forms."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nnbook import calculus
from nnbook.calculus import bisect, central_difference, relative_error, tangent_line


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


def test_bisect_finds_where_a_predicate_switches_on():
    # x^2 >= 2 switches on at sqrt(2): 60 halvings of [0, 2] leave a bracket of 2^-59
    found = bisect(lambda x: x * x >= 2.0, 0.0, 2.0)
    assert found == pytest.approx(math.sqrt(2.0), rel=1e-15)
    assert found * found >= 2.0  # the returned end is where the predicate holds
    assert bisect(lambda x: x >= 0.3, 0.0, 1.0, iterations=10) - 0.3 < 2.0**-10


def test_bisect_rejects_a_bracket_without_a_switch():
    with pytest.raises(ValueError, match="false at lo"):
        bisect(lambda x: x >= 0.0, 1.0, 2.0)
    with pytest.raises(ValueError, match="true at hi"):
        bisect(lambda x: x >= 5.0, 1.0, 2.0)


@jax.enable_x64(True)
def test_gradient_check_reports_small_errors_for_a_correct_closed_form():
    w = jnp.array([0.5, -1.5, 2.0])
    f = lambda v: jnp.sum(jnp.sin(v) * v)
    check = calculus.gradient_check(f, w, closed_form=lambda v: jnp.sin(v) + v * jnp.cos(v))
    assert check.vs_finite_differences < 1e-8 and check.vs_closed_form < 1e-12
    assert "vs closed form" in str(check)


@jax.enable_x64(True)
def test_gradient_check_catches_a_wrong_closed_form():
    w = jnp.array([0.5, -1.5, 2.0])
    check = calculus.gradient_check(lambda v: jnp.sum(v**3), w, closed_form=2 * w)  # the derivative is 3 w^2
    assert check.vs_closed_form > 0.1
    assert check.vs_finite_differences < 1e-8
    assert calculus.gradient_check(lambda v: jnp.sum(v**3), w).vs_closed_form is None
