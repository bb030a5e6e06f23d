"""nnbook.activations against closed forms, finite differences and jax.nn,
and every claim chapter 2 (activations) makes, asserted on the same
functions with the same settings; and the chapter's exercise solutions."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from chapter_code import solution_blocks
from nnbook.activations import (
    ACTIVATIONS,
    autodiff_derivative,
    chain_gradients,
    chain_gradients_by_hand,
    chain_outputs,
    collapse_two_linear_layers,
    gelu,
    gelu_tanh,
    leaky_relu,
    log_sigmoid,
    log_sigmoid_naive,
    log_softmax,
    logsumexp,
    relu,
    relu_derivative,
    sigmoid,
    sigmoid_derivative,
    sigmoid_fixed_point,
    sigmoid_naive,
    silu,
    softmax,
    softmax_jacobian_by_hand,
    softmax_naive,
    softplus,
    softplus_naive,
    step,
    tanh,
    tanh_derivative,
)
from nnbook.calculus import central_difference
from nnbook.neurons import dense

# 64-bit floats, and any warning (overflow, NaN) fails the test: see conftest.py
pytestmark = pytest.mark.usefixtures("float64_and_no_warnings")


CHAPTER = "02_activations.ipynb"


@pytest.fixture
def grid(chapter):
    """The chapter's grid of 2000 points on [-6, 6]."""
    grid = chapter["grid"]
    assert grid.shape == (2000,) and not bool(jnp.any(grid == 0.0))  # 0 is not on it
    return grid


# --- why a nonlinearity ------------------------------------------------------------------


def best_affine_misfit(inputs, outputs):
    design = np.column_stack([np.asarray(inputs), np.ones(len(inputs))])
    coefficients, *_ = np.linalg.lstsq(design, np.asarray(outputs), rcond=None)
    residual = design @ coefficients - np.asarray(outputs)
    return float(np.sqrt(np.mean(residual**2)) / np.std(np.asarray(outputs)))


def test_two_linear_layers_are_one_and_a_relu_between_them_is_not(chapter):
    W1, b1, W2, b2, inputs = (chapter[name] for name in ("W1", "b1", "W2", "b2", "inputs"))
    W, b = collapse_two_linear_layers(W1, b1, W2, b2)
    for x in inputs[:5]:
        # the collapsed layer, checked against plain NumPy arithmetic
        np.testing.assert_allclose(
            dense(W, b, x),
            np.asarray(W2) @ (np.asarray(W1) @ np.asarray(x) + np.asarray(b1)) + np.asarray(b2),
            rtol=1e-12,
        )
    linear = jax.vmap(lambda x: dense(W2, b2, dense(W1, b1, x)))(inputs)
    with_relu = jax.vmap(lambda x: dense(W2, b2, relu(dense(W1, b1, x))))(inputs)
    assert best_affine_misfit(inputs, linear) < 1e-12
    # the chapter: "still misses by 0.44 of the outputs' spread"
    assert best_affine_misfit(inputs, with_relu) > 0.3


# --- step and sigmoid ----------------------------------------------------------------------


def test_step_has_zero_gradient_everywhere_but_the_right_values(grid):
    assert bool(jnp.all(autodiff_derivative(step)(grid) == 0.0))
    np.testing.assert_array_equal(step(jnp.array([-1.0, 0.0, 1e-9, 2.0])), [0.0, 0.0, 1.0, 1.0])


def test_sigmoid_of_a_large_scale_approaches_the_step(grid):
    away = jnp.abs(grid) >= 0.1
    gaps = {a: float(jnp.max(jnp.abs(sigmoid(a * grid) - step(grid)) * away)) for a in (1.0, 10.0, 100.0)}
    assert gaps[1.0] > gaps[10.0] > gaps[100.0]
    # the largest gap is at the grid point nearest 0 with |x| >= 0.1: 1 / (1 + e^{a |x|})
    nearest = float(jnp.min(jnp.where(away, jnp.abs(grid), jnp.inf)))
    for a, gap in gaps.items():
        assert gap == pytest.approx(1 / (1 + math.exp(a * nearest)), rel=1e-12)


# --- derivatives ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_hand_derivative_matches_autodiff_and_central_differences(name, grid):
    activation = ACTIVATIONS[name]
    by_hand = activation.derivative(grid)
    np.testing.assert_allclose(autodiff_derivative(activation.function)(grid), by_hand, rtol=0, atol=1e-13)
    finite_diff = jax.vmap(lambda x: central_difference(activation.function, x))(grid)
    np.testing.assert_allclose(finite_diff, by_hand, rtol=0, atol=1e-9)


def test_activations_agree_with_jax_nn():
    x = jnp.linspace(-30.0, 30.0, 6001)
    np.testing.assert_allclose(sigmoid(x), jax.nn.sigmoid(x), rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(relu(x), jax.nn.relu(x), rtol=0)
    np.testing.assert_allclose(leaky_relu(x), jax.nn.leaky_relu(x, 0.01), rtol=1e-15)
    np.testing.assert_allclose(softplus(x), jax.nn.softplus(x), rtol=1e-14)
    np.testing.assert_allclose(gelu(x), jax.nn.gelu(x, approximate=False), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(gelu_tanh(x), jax.nn.gelu(x), rtol=1e-13, atol=1e-300)  # jax's default
    np.testing.assert_allclose(silu(x), jax.nn.silu(x), rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(tanh(x), 2 * sigmoid(2 * x) - 1, rtol=0, atol=1e-15)


def test_gelu_tanh_approximation_is_off_by_about_five_ten_thousandths_near_2_7():
    wide = jnp.linspace(-10.0, 10.0, 200_001)
    gap = jnp.abs(gelu(wide) - gelu_tanh(wide))
    assert 4e-4 < float(jnp.max(gap)) < 5e-4  # the chapter prints 4.73e-04
    assert 2.6 < abs(float(wide[jnp.argmax(gap)])) < 2.8


def test_relu_kink_three_programs_three_subgradients():
    writings = {
        "maximum": lambda x: jnp.maximum(x, 0.0),
        "where": relu,
        "jax.nn": jax.nn.relu,
        "abs": lambda x: (x + jnp.abs(x)) / 2,
    }
    at_zero = {name: float(jax.grad(f)(0.0)) for name, f in writings.items()}
    assert at_zero == {"maximum": 0.5, "where": 0.0, "jax.nn": 0.0, "abs": 1.0}
    for f in writings.values():  # same function everywhere else
        assert float(jax.grad(f)(-1.0)) == 0.0 and float(jax.grad(f)(1.0)) == 1.0
        assert float(f(0.0)) == 0.0
    assert float(relu_derivative(0.0)) == at_zero["where"]  # nnbook's hand derivative picks the same


# --- saturation and deep chains --------------------------------------------------------------


def test_sigmoid_slope_is_at_most_one_quarter_reached_at_zero():
    fine = jnp.arange(-200_000, 200_001) / 10_000
    slopes = sigmoid_derivative(fine)
    assert float(jnp.max(slopes)) == 0.25 and float(fine[jnp.argmax(slopes)]) == 0.0
    assert float(sigmoid_derivative(5.0)) == pytest.approx(math.exp(-5) / (1 + math.exp(-5)) ** 2, rel=1e-12)


@pytest.mark.parametrize(
    "activation,derivative", [(sigmoid, sigmoid_derivative), (tanh, tanh_derivative), (relu, relu_derivative)]
)
def test_chain_gradients_match_the_chain_rule_by_hand_and_jax_grad(activation, derivative):
    grads = chain_gradients(activation, 1.0, 40)
    np.testing.assert_allclose(grads, chain_gradients_by_hand(activation, derivative, 1.0, 40), rtol=1e-10)
    for depth in (1, 7, 40):
        deepest = jax.grad(lambda x: chain_outputs(activation, x, depth)[-1])(1.0)
        assert float(grads[depth - 1]) == pytest.approx(float(deepest), rel=1e-12)


def test_sigmoid_chain_shrinks_below_four_to_the_minus_n_by_the_fixed_point_slope():
    grads = chain_gradients(sigmoid, 1.0, 40)
    n = jnp.arange(1, 41)
    assert bool(jnp.all(grads <= 0.25**n))
    a_star = sigmoid_fixed_point()
    assert float(sigmoid(a_star)) == pytest.approx(a_star, abs=1e-15)
    late = float(grads[-1] / grads[-2])
    assert late == pytest.approx(a_star * (1 - a_star), rel=1e-6)  # the chapter: "exactly the measured"
    assert late < 0.25


def test_relu_chain_passes_positive_inputs_and_kills_negative_ones_and_tanh_decays_slowly():
    np.testing.assert_array_equal(chain_gradients(relu, 1.0, 40), np.ones(40))
    np.testing.assert_array_equal(chain_gradients(relu, -1.0, 40), np.zeros(40))
    tanh_40 = float(chain_gradients(tanh, 1.0, 40)[-1])
    sigmoid_40 = float(chain_gradients(sigmoid, 1.0, 40)[-1])
    assert tanh_40 > 1e20 * sigmoid_40  # "far more slowly"
    assert tanh_40 > 0.25**40 * 1e20


# --- numerical stability ---------------------------------------------------------------------


def test_gelu_and_silu_slopes_on_positive_inputs_run_from_one_half_past_one(chapter):
    # the chapter's summary once said GELU and SiLU "keep slope 1 for positive inputs"; they do not
    slopes = chapter["smooth_relu_slopes"]  # name -> (slope at 1e-4, largest, where, settled within 1%)
    # GELU'' = Phi'(x) (2 - x^2): the largest slope is at x = sqrt 2, Phi(sqrt 2) + sqrt 2 Phi'(sqrt 2)
    root2 = math.sqrt(2)
    gelu_peak = 0.5 * (1 + math.erf(1)) + root2 * math.exp(-1) / math.sqrt(2 * math.pi)
    # SiLU'' = sigma'(x) (2 + x (1 - 2 sigma(x))) = 0 where x tanh(x / 2) = 2: bisection on that
    lo, hi = 1.0, 4.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if mid * math.tanh(mid / 2) < 2 else (lo, mid)
    silu_at = lo
    sig = 1 / (1 + math.exp(-silu_at))
    silu_peak = sig + silu_at * sig * (1 - sig)
    # the chapter's grid has step 1e-4 and the peaks are flat (second derivative 0): rel 1e-7
    assert slopes["GELU"][1] == pytest.approx(gelu_peak, rel=1e-7) and gelu_peak == pytest.approx(1.1289, abs=1e-4)
    assert slopes["SiLU"][1] == pytest.approx(silu_peak, rel=1e-7) and silu_peak == pytest.approx(1.0998, abs=1e-4)
    assert slopes["GELU"][2] == pytest.approx(root2, abs=1e-3) and slopes["SiLU"][2] == pytest.approx(silu_at, abs=1e-3)
    for name in ("GELU", "SiLU"):
        start, peak, _, settled = slopes[name]
        assert start == pytest.approx(0.5, abs=1e-4)  # slope 1/2 at 0+
        assert peak > 1.05 and start < 0.51  # not slope 1 on x > 0
        derivative = ACTIVATIONS[name].derivative
        assert abs(float(derivative(settled)) - 1) >= 0.01 > abs(float(derivative(settled + 1e-4)) - 1)
        beyond = jnp.linspace(settled + 1e-4, 20.0, 10_001)
        assert float(jnp.max(jnp.abs(derivative(beyond) - 1))) < 0.01  # "within 1% of 1 only beyond"
    assert 2.5 < slopes["GELU"][3] < slopes["SiLU"][3] < 8


def test_polynomial_activation_gives_a_polynomial_network():
    # the chapter: universal approximation needs a non-polynomial activation (Leshno et al. 1993),
    # because a two-layer network with a degree-d polynomial activation is a polynomial of degree d
    k1, k2, k3, k4, k5 = jax.random.split(jax.random.key(11), 5)
    W1, b1 = jax.random.normal(k1, (64, 3)), jax.random.normal(k2, (64,))
    W2, b2 = jax.random.normal(k3, (1, 64)), jax.random.normal(k4, (1,))
    x = jax.random.normal(k5, (400, 3))
    square = jax.vmap(lambda v: dense(W2, b2, dense(W1, b1, v) ** 2))(x)[:, 0]
    relu_net = jax.vmap(lambda v: dense(W2, b2, relu(dense(W1, b1, v))))(x)[:, 0]
    # all monomials of degree <= 2 in 3 inputs: 1, x_i, x_i x_j (10 columns)
    pairs = [x[:, i] * x[:, j] for i in range(3) for j in range(i, 3)]
    design = jnp.column_stack([jnp.ones(len(x)), x, *pairs])

    def misfit(y):
        coefficients, *_ = jnp.linalg.lstsq(design, y)
        return float(jnp.linalg.norm(design @ coefficients - y) / jnp.linalg.norm(y - y.mean()))

    assert misfit(square) < 1e-10  # 64 hidden units, still exactly a quadratic (rounding only)
    assert misfit(relu_net) > 1e-2  # a ReLU network is not


def test_float64_exp_overflows_just_above_709():
    limit = math.log(np.finfo(np.float64).max)
    assert limit == pytest.approx(709.78, abs=0.01)
    assert bool(jnp.isfinite(jnp.exp(709.0))) and bool(jnp.isinf(jnp.exp(710.0)))


def test_naive_forms_fail_where_the_chapter_says_and_stable_forms_do_not():
    # JAX gives inf / NaN without a warning (the fixture turns warnings into errors)
    assert bool(jnp.isinf(softplus_naive(1000.0))) and float(softplus(1000.0)) == 1000.0
    assert float(softplus_naive(-40.0)) == 0.0
    assert float(softplus(-40.0)) == pytest.approx(math.log1p(math.exp(-40.0)), rel=1e-14)
    assert float(log_sigmoid_naive(-1000.0)) == -math.inf and float(log_sigmoid(-1000.0)) == -1000.0
    assert float(sigmoid_naive(-1000.0)) == 0.0  # the value is right...
    assert math.isnan(float(jax.grad(sigmoid_naive)(-1000.0)))  # ...its autodiff gradient is not
    for x in (-1000.0, -40.0, 0.0, 40.0, 1000.0):
        assert math.isfinite(float(jax.grad(sigmoid)(x)))
        assert float(log_sigmoid(x)) == pytest.approx(float(jax.nn.log_sigmoid(x)), rel=1e-15, abs=1e-300)


def test_stable_softmax_where_the_naive_one_is_nan():
    z = jnp.array([1000.0, 1001.0, 1002.0])
    assert bool(jnp.all(jnp.isnan(softmax_naive(z))))
    np.testing.assert_allclose(softmax(z), softmax_naive(jnp.array([0.0, 1.0, 2.0])), rtol=1e-15)
    e = np.exp([0.0, 1.0, 2.0])
    np.testing.assert_allclose(softmax(z), e / e.sum(), rtol=1e-15)


def test_softmax_jacobian_by_hand_matches_forward_and_reverse_mode():
    for seed in range(5):
        z = 3.0 * jax.random.normal(jax.random.key(seed), (5,))
        J = softmax_jacobian_by_hand(z)
        np.testing.assert_allclose(jax.jacfwd(softmax)(z), J, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(jax.jacrev(softmax)(z), J, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(J.sum(axis=1), 0.0, atol=1e-15)
        np.testing.assert_allclose(J, J.T, atol=1e-15)


def test_two_class_softmax_is_the_sigmoid_of_the_difference():
    for z0, z1 in [(0.3, 1.7), (-5.0, 2.0), (40.0, -40.0)]:
        assert float(softmax(jnp.array([z0, z1]))[1]) == pytest.approx(float(sigmoid(z1 - z0)), rel=1e-14, abs=1e-300)


def test_logsumexp_and_log_softmax_are_stable_and_exact():
    big = 300.0 * jax.random.normal(jax.random.key(6), (100, 10))
    np.testing.assert_allclose(logsumexp(big), jax.scipy.special.logsumexp(big, axis=-1), rtol=1e-14)
    assert float(logsumexp(jnp.array([1000.0, 1000.0]))) == pytest.approx(1000 + math.log(2), rel=1e-15)
    assert float(logsumexp(jnp.array([-1000.0, -1000.0]))) == pytest.approx(-1000 + math.log(2), rel=1e-15)
    np.testing.assert_allclose(jnp.exp(log_softmax(big)).sum(axis=-1), 1.0, rtol=1e-13)
    # the max shift is a constant to autodiff, but the gradient of logsumexp is still softmax
    np.testing.assert_allclose(jax.grad(logsumexp)(big[0]), softmax(big[0]), rtol=1e-12, atol=1e-300)


def test_relu_kink_aside_glues_the_three_subgradients(chapter):
    assert chapter["kink_slopes"] == {
        "jnp.maximum(x, 0)": 0.5, "jnp.where(x > 0, x, 0)": 0.0, "jax.nn.relu": 0.0, "(x + |x|) / 2": 1.0,
    }


# --- the exercise solutions ------------------------------------------------------------------


def test_every_exercise_has_a_tested_solution():
    assert set(solution_blocks(CHAPTER)) == {
        "ex-act-tanh-slope",
        "ex-act-logsumexp",
        "ex-act-tanh-chain",
        "ex-act-silu-beta",
    }


def test_tanh_slope_is_four_sigmoid_slopes_at_twice_the_input(solve):
    chapter, _ = solve("ex-act-tanh-slope")
    assert chapter["tanh_slope_gap"] < 1e-15
    assert chapter["slope_ratio_at_0"] == 4.0


def test_logsumexp_solution_finds_the_exact_answers(solve):
    chapter, printed = solve("ex-act-logsumexp")
    assert chapter["logsumexp_gap"] < 1e-14
    assert chapter["stable_pair"] == pytest.approx([1000 + math.log(2), -1000 + math.log(2)], rel=1e-15)
    assert "naive inf" in printed and "naive -inf" in printed


def test_tanh_chain_decays_like_n_to_the_minus_three_halves(solve):
    chapter, _ = solve("ex-act-tanh-chain")
    assert chapter["tanh_exponent"] == pytest.approx(-1.5, abs=0.01)


def test_swish_derivative_and_its_relu_limit(solve):
    chapter, _ = solve("ex-act-silu-beta")
    assert max(chapter["swish_errors"].values()) < 1e-14
    # the largest gap is max_u u / (1 + e^u) / beta = 0.2785 / beta, at u = 1.2785
    assert chapter["swish_relu_gap"] < 0.003
    assert chapter["swish_relu_gap"] == pytest.approx(0.2785 / 100, rel=0.02)
