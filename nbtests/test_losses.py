"""nnbook.losses against likelihoods, closed-form gradients and finite
differences; every claim the losses half of chapter 2 makes, asserted on the
same functions with the same settings; and the chapter's exercise solutions."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from chapter_code import solution_blocks
from nnbook import losses
from nnbook.activations import sigmoid, softmax
from nnbook.calculus import central_difference
from nnbook.data import diabetes
from nnbook.losses import (
    binary_cross_entropy,
    binary_cross_entropy_gradient,
    binary_cross_entropy_naive,
    cross_entropy,
    cross_entropy_gradient,
    gaussian_nll,
    hinge,
    hinge_gradient,
    one_hot,
    sigmoid_squared_error,
    sigmoid_squared_error_gradient,
    softmax_squared_error,
    squared_error,
)
from nnbook.neurons import accuracy, gradient_descent
from nnbook.optim import least_squares_solution

CHAPTER = "02_activations_and_losses.ipynb"


# 64-bit floats, and any warning (overflow, NaN) fails the test: see conftest.py
pytestmark = pytest.mark.usefixtures("float64_and_no_warnings")


# --- squared error and the Gaussian likelihood ------------------------------------------------


def test_gaussian_nll_is_the_normal_log_density_and_its_sigma_is_the_rms_residual():
    data = diabetes(("bmi", "s5"))
    w = least_squares_solution(data.X, data.y)
    predictions = data.X @ w
    for sigma in (0.3, 0.7, 2.0):
        np.testing.assert_allclose(gaussian_nll(predictions, data.y, sigma),
                                   -jax.scipy.stats.norm.logpdf(data.y, predictions, sigma), rtol=1e-13)
        # the same minimiser as the squared error: the gradient vanishes at the least-squares w
        g = jax.grad(lambda w: jnp.mean(gaussian_nll(data.X @ w, data.y, sigma)))(w)
        assert float(jnp.max(jnp.abs(g))) < 1e-13
    residual_rms = float(jnp.sqrt(jnp.mean((data.y - predictions) ** 2)))
    nll_of_sigma = lambda s: jnp.mean(gaussian_nll(predictions, data.y, s))
    assert abs(float(jax.grad(nll_of_sigma)(residual_rms))) < 1e-13
    assert float(nll_of_sigma(residual_rms)) < min(float(nll_of_sigma(residual_rms * f)) for f in (0.9, 1.1))
    # the chapter: sigma_hat^2 is the unexplained fraction of the (unit) variance, about a half
    assert 0.45 < residual_rms**2 < 0.65
    assert float(squared_error(3.0, 1.0)) == 2.0


# --- binary cross-entropy ---------------------------------------------------------------------


def test_binary_cross_entropy_is_the_bernoulli_likelihood_where_the_naive_form_is_finite():
    # on |z| <= 10 the naive form is still accurate (1 - p >= 4.5e-5 keeps ~11 digits)
    z = jnp.linspace(-10.0, 10.0, 401)
    for y in (0.0, 1.0, 0.3):
        naive = binary_cross_entropy_naive(z, y)
        np.testing.assert_allclose(binary_cross_entropy(z, y), naive, rtol=1e-9, atol=1e-12)
        independent = -y * jax.nn.log_sigmoid(z) - (1 - y) * jax.nn.log_sigmoid(-z)
        np.testing.assert_allclose(binary_cross_entropy(z, y), independent, rtol=1e-13, atol=1e-300)


def test_naive_binary_cross_entropy_breaks_exactly_as_the_chapter_table_shows():
    z = jnp.array([-1000.0, -40.0, 0.0, 40.0, 1000.0])
    naive1, naive0 = binary_cross_entropy_naive(z, 1.0), binary_cross_entropy_naive(z, 0.0)
    assert bool(jnp.isinf(naive1[0])) and bool(jnp.isnan(naive1[3])) and bool(jnp.isnan(naive1[4]))
    assert bool(jnp.isnan(naive0[0])) and bool(jnp.isinf(naive0[3])) and bool(jnp.isinf(naive0[4]))
    np.testing.assert_allclose(
        binary_cross_entropy(z, 1.0), [1000.0, 40.0, math.log(2), math.exp(-40), 0.0], rtol=1e-12, atol=1e-300
    )
    np.testing.assert_allclose(
        binary_cross_entropy(z, 0.0), [0.0, math.exp(-40), math.log(2), 40.0, 1000.0], rtol=1e-12, atol=1e-300
    )


def test_binary_cross_entropy_gradient_is_p_minus_y():
    z = jax.random.uniform(jax.random.key(11), (50,), minval=-8.0, maxval=8.0)
    y = jax.random.uniform(jax.random.key(12), (50,))
    by_hand = binary_cross_entropy_gradient(z, y)
    np.testing.assert_allclose(jax.vmap(jax.grad(binary_cross_entropy))(z, y), by_hand, rtol=1e-13, atol=1e-15)
    finite_diff = jax.vmap(lambda z, y: central_difference(lambda t: binary_cross_entropy(t, y), z))(z, y)
    np.testing.assert_allclose(finite_diff, by_hand, rtol=0, atol=1e-9)


def test_squared_error_on_a_sigmoid_carries_the_factor_p_times_one_minus_p():
    z = jnp.linspace(-8.0, 8.0, 161)
    for y in (0.0, 1.0):
        by_hand = sigmoid_squared_error_gradient(z, y)
        np.testing.assert_allclose(
            jax.vmap(jax.grad(sigmoid_squared_error), in_axes=(0, None))(z, y), by_hand, rtol=1e-12, atol=1e-16
        )
        finite_diff = jax.vmap(lambda t: central_difference(lambda u: sigmoid_squared_error(u, y), t))(z)
        np.testing.assert_allclose(finite_diff, by_hand, rtol=0, atol=1e-10)
        p = sigmoid(z)
        np.testing.assert_allclose(by_hand, binary_cross_entropy_gradient(z, y) * p * (1 - p), rtol=1e-13, atol=1e-300)


def test_the_loss_figure_claims_at_y_one_and_z_minus_three():
    p = float(sigmoid(-3.0))
    ce, sq = float(binary_cross_entropy_gradient(-3.0, 1.0)), float(sigmoid_squared_error_gradient(-3.0, 1.0))
    assert ce == pytest.approx(p - 1.0, rel=1e-14)
    assert ce / sq == pytest.approx(1 / (p * (1 - p)), rel=1e-12)
    assert 20 < ce / sq < 25  # "22 times smaller"
    # "it gets smaller the more wrong the prediction is"
    assert abs(float(sigmoid_squared_error_gradient(-5.0, 1.0))) < abs(sq)
    assert abs(float(binary_cross_entropy_gradient(-5.0, 1.0))) > abs(ce)
    # "at y = 1/2 cross-entropy is smallest at z = 0 and never reaches 0"
    z = jnp.linspace(-5.0, 5.0, 1001)
    half = binary_cross_entropy(z, 0.5)
    assert float(z[jnp.argmin(half)]) == pytest.approx(0.0, abs=1e-12)
    assert float(jnp.min(half)) == pytest.approx(math.log(2), rel=1e-14)


def test_hinge_loss_and_its_subgradient():
    z = jnp.linspace(-4.0, 4.0, 800)  # no grid point on the kinks at +-1
    for y in (0.0, 1.0):
        t = 2 * y - 1
        np.testing.assert_allclose(hinge(z, y), np.maximum(0, 1 - t * np.asarray(z)), rtol=0, atol=1e-15)
        np.testing.assert_allclose(
            jax.vmap(jax.grad(hinge), in_axes=(0, None))(z, y), hinge_gradient(z, y), rtol=0, atol=0
        )
    assert float(hinge(2.0, 1.0)) == 0.0 and float(hinge_gradient(2.0, 1.0)) == 0.0  # beyond the margin


# --- categorical cross-entropy --------------------------------------------------------------


def chapter_batch(chapter):
    """The chapter's batch of 6 examples x 10 classes (logits, one-hot targets)."""
    return chapter["batch_logits"], chapter["batch_targets"]


def test_cross_entropy_is_logsumexp_minus_the_true_logit(chapter):
    logits, targets = chapter_batch(chapter)
    labels = jnp.argmax(targets, axis=-1)
    expected = [
        math.log(sum(math.exp(v) for v in row)) - row[c]
        for row, c in zip(np.asarray(logits).tolist(), np.asarray(labels))
    ]
    np.testing.assert_allclose(cross_entropy(logits, targets), expected, rtol=1e-13)
    huge = jnp.array([[1000.0, -1000.0, 0.0]])
    assert float(cross_entropy(huge, one_hot(jnp.array([1]), 3))[0]) == pytest.approx(2000.0, rel=1e-15)


def test_cross_entropy_gradient_is_p_minus_y_for_hard_and_soft_targets(chapter):
    logits, targets = chapter_batch(chapter)
    soft = softmax(jax.random.normal(jax.random.key(3), (6, 10)))
    for y in (targets, soft):
        total = lambda z: jnp.sum(cross_entropy(z, y))
        by_hand = cross_entropy_gradient(logits, y)
        np.testing.assert_allclose(jax.grad(total)(logits), by_hand, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(central_difference(total, logits), by_hand, rtol=0, atol=1e-8)


def test_softmax_squared_error_is_half_the_squared_distance_of_the_probabilities(chapter):
    logits, targets = chapter_batch(chapter)
    expected = 0.5 * np.sum((np.asarray(softmax(logits)) - np.asarray(targets)) ** 2, axis=-1)
    np.testing.assert_allclose(softmax_squared_error(logits, targets), expected, rtol=1e-13)


# --- experiment 1: the tiny logistic problem --------------------------------------------------


@pytest.fixture
def tiny_table(chapter):
    """The chapter's table: steps to learn at learning rates 0.1, 0.3, 1, 3, 10."""
    np.testing.assert_array_equal(chapter["learning_rates"], [0.1, 0.3, 1.0, 3.0, 10.0])
    return chapter["tiny_steps"]


def test_tiny_problem_starts_confidently_wrong():
    start = jnp.array(losses.TINY_START)
    wrong = jnp.abs(losses.tiny_probabilities(start) - jnp.array(losses.TINY_Y))
    assert bool(jnp.all(wrong > 0.5))  # every point on the wrong side
    assert float(jnp.max(wrong)) > 0.99


def test_steps_to_learn_is_the_first_step_below_the_target(tiny_table):
    run = losses.tiny_run("cross-entropy", 1.0, 5000)
    error = np.asarray(losses.tiny_error(run))
    k = int(tiny_table["cross-entropy"][2])
    assert error[k] <= losses.TINY_ERROR_TARGET < error[k - 1]
    # tiny_error is mean |p - y|, recomputed here by hand for one iterate
    w, b = np.asarray(run[k])
    p = 1 / (1 + np.exp(-(w * np.array(losses.TINY_X) + b)))
    assert error[k] == pytest.approx(np.mean(np.abs(p - np.array(losses.TINY_Y))), rel=1e-12)


def test_cross_entropy_needs_fewer_steps_at_every_learning_rate_of_the_table(tiny_table):
    ce, sq = tiny_table["cross-entropy"], tiny_table["squared error"]
    assert np.all(ce > 0) and np.all(sq > 0)  # both get there within 5000 steps
    assert np.all(sq >= 7 * ce), (ce, sq)  # the printed ratios are 7 to 10.5
    # the caveat: ten times the learning rate lets squared error match cross-entropy at 1
    assert abs(int(sq[4]) - int(ce[2])) <= 2


def test_squared_error_gradient_starts_tens_of_times_smaller_then_peaks_after_a_plateau():
    start = jnp.array(losses.TINY_START)
    norms = {name: float(jnp.linalg.norm(jax.grad(f)(start))) for name, f in losses.TINY_LOSS_FUNCTIONS.items()}
    assert 20 < norms["cross-entropy"] / norms["squared error"] < 50  # the chapter prints 31
    run = losses.tiny_run("squared error", 1.0, 150)
    grad_norm = jnp.linalg.norm(jax.vmap(jax.grad(losses.tiny_squared_error))(run), axis=1)
    assert float(jnp.max(grad_norm)) > 3 * norms["squared error"]
    assert float(losses.tiny_error(run)[20]) > 0.8  # still on the plateau after 20 steps
    assert float(losses.tiny_error(losses.tiny_run("cross-entropy", 1.0, 20))[-1]) < 0.2


# --- experiment 2: digits --------------------------------------------------------------------


@pytest.fixture
def digit_sweep(chapter):
    """The chapter's digits experiment: the split, the classifier, the runs of
    300 steps at each learning rate of the sweep, and their test accuracies."""
    accuracy = {name: np.asarray(curves[1]) for name, curves in chapter["digit_curves"].items()}
    return chapter["digits"], chapter["classifier"], chapter["digit_runs"], accuracy, np.asarray(chapter["sweep_rates"])


def test_mean_cross_entropy_is_the_mean_over_integer_labels():
    logits = jnp.array([[2.0, -1.0, 0.5], [0.0, 0.0, 0.0]])
    expected = [math.log(sum(math.exp(v) for v in (2.0, -1.0, 0.5))) - 0.5, math.log(3.0)]
    assert float(losses.mean_cross_entropy(logits, jnp.array([2, 1]))) == pytest.approx(np.mean(expected), rel=1e-14)


def test_training_is_gradient_descent_with_the_closed_form_gradient(digit_sweep):
    _, classifier, runs, _, rates = digit_sweep
    at_1 = int(np.argmax(rates == 1.0))
    # three steps of W <- W - eta X^T (P - Y) / n (bias row: the column sums), written out
    X, Y = np.asarray(classifier.data.X_train), np.asarray(one_hot(classifier.data.y_train, 10))
    W = np.zeros((65, 10))
    for _ in range(3):
        Z = X @ W[:-1] + W[-1]
        P = np.exp(Z - Z.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        residual = (P - Y) / len(X)
        W = W - 1.0 * np.vstack([X.T @ residual, residual.sum(axis=0)])
    np.testing.assert_allclose(runs["cross-entropy"][at_1, 3], W, rtol=1e-12, atol=1e-15)


def test_at_w_zero_the_squared_error_gradient_is_a_tenth_of_the_cross_entropy_gradient(digit_sweep):
    classifier = digit_sweep[1]
    ce = jax.grad(classifier.losses["cross-entropy"])(classifier.W0)
    sq = jax.grad(classifier.losses["squared error"])(classifier.W0)
    np.testing.assert_allclose(sq, 0.1 * ce, rtol=1e-12, atol=1e-16)
    # the reason: the softmax Jacobian at uniform p is 0.1 I - 0.01 1 1^T
    np.testing.assert_allclose(jax.jacfwd(softmax)(jnp.zeros(10)), 0.1 * np.eye(10) - 0.01, rtol=1e-14)


def test_at_learning_rate_one_cross_entropy_is_ahead_from_the_second_step_on(digit_sweep):
    accuracy, rates = digit_sweep[3], digit_sweep[4]
    at_1 = int(np.argmax(rates == 1.0))
    ce, sq = accuracy["cross-entropy"][at_1], accuracy["squared error"][at_1]
    assert ce[1] == sq[1]  # the same first step, up to its length (argmax ignores the length)
    assert np.all(ce[2:] > sq[2:])
    assert ce[50] - sq[50] > 0.1  # 93% against 74%
    assert 0.9 < ce[-1]


def test_sweep_tuned_squared_error_matches_cross_entropy_but_breaks_at_thirty(digit_sweep):
    accuracy, rates = digit_sweep[3], digit_sweep[4]
    assert rates[-1] == 30.0
    final = {name: acc[:, -1] for name, acc in accuracy.items()}
    best_ce, best_sq = np.max(final["cross-entropy"]), np.max(final["squared error"])
    assert abs(best_ce - best_sq) <= 0.005  # "as good as"
    eta_ce = float(rates[np.argmax(final["cross-entropy"])])
    eta_sq = float(rates[np.argmax(final["squared error"])])
    assert eta_sq > eta_ce  # "squared error needs a larger learning rate"
    assert final["squared error"][-1] < 0.5 and final["cross-entropy"][-1] > 0.9


def test_from_a_confidently_wrong_start_only_cross_entropy_recovers(digit_sweep):
    digits, classifier, runs, test_accuracy, rates = digit_sweep
    final = {name: acc[:, -1] for name, acc in test_accuracy.items()}
    W_wrong = -2.0 * runs["cross-entropy"][int(np.argmax(final["cross-entropy"])), -1]
    assert float(accuracy(classifier.predict(W_wrong, digits.X_test), digits.y_test)) == 0.0
    p_wrong = softmax(losses.linear_logits(W_wrong, digits.X_test))
    assert float(jnp.median(jnp.max(p_wrong, axis=-1))) > 0.9  # "sure of its wrong answers"
    recovered = {}
    for name in losses.TINY_LOSSES:
        eta = float(rates[np.argmax(final[name])])
        run = gradient_descent(classifier.losses[name], W_wrong, eta, 300)
        recovered[name] = float(classifier.curves(run)[1][-1])
    assert recovered["cross-entropy"] > 0.9
    assert recovered["squared error"] < 0.1


# --- the exercise solutions ------------------------------------------------------------------


def test_every_exercise_has_a_tested_solution():
    assert set(solution_blocks(CHAPTER)) == {
        "ex-act-two-class",
        "ex-act-logsumexp",
        "ex-act-tanh-chain",
        "ex-act-silu-beta",
    }


def test_two_class_cross_entropy_is_binary_cross_entropy(solve):
    chapter, _ = solve("ex-act-two-class")
    assert chapter["two_class_gap"] < 1e-12
    assert chapter["two_class_grad_gap"] < 1e-12


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
