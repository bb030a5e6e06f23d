"""nnbook.losses against likelihoods, closed-form gradients and finite
differences; every claim chapter 3 (losses) makes, asserted on the same
functions with the same settings; and the chapter's exercise solutions."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from chapter_code import solution_blocks
from nnbook import losses
from nnbook.activations import sigmoid, softmax
from nnbook.calculus import central_difference
from nnbook.losses import (
    absolute_error,
    binary_cross_entropy,
    binary_cross_entropy_gradient,
    binary_cross_entropy_naive,
    cross_entropy,
    cross_entropy_gradient,
    fit_line,
    gaussian_nll,
    hinge,
    hinge_gradient,
    huber,
    huber_gradient,
    laplace_nll,
    least_squares,
    one_hot,
    sigmoid_squared_error,
    sigmoid_squared_error_gradient,
    softmax_squared_error,
    squared_error,
)
from nnbook.neurons import accuracy, gradient_descent

CHAPTER = "03_losses.ipynb"


# 64-bit floats, and any warning (overflow, NaN) fails the test: see conftest.py
pytestmark = pytest.mark.usefixtures("float64_and_no_warnings")


# --- squared error and the Gaussian likelihood ------------------------------------------------


def test_least_squares_is_the_normal_equations_solution_also_with_weights():
    X = np.column_stack([np.ones(20), np.linspace(-1, 1, 20)])
    y = 1.0 + np.sin(3 * X[:, 1])
    v = np.linspace(0.5, 2.0, 20)
    np.testing.assert_allclose(least_squares(X, y), np.linalg.solve(X.T @ X, X.T @ y), rtol=1e-12)
    np.testing.assert_allclose(least_squares(X, y, v), np.linalg.solve(X.T @ (v[:, None] * X), X.T @ (v * y)),
                               rtol=1e-12)


def test_gaussian_nll_is_the_normal_log_density_and_its_sigma_is_the_rms_residual(chapter):
    X, y = chapter["X"], chapter["y"]
    w = least_squares(X, y)
    predictions = X @ w
    for sigma in (0.3, 0.7, 2.0):
        np.testing.assert_allclose(gaussian_nll(predictions, y, sigma),
                                   -jax.scipy.stats.norm.logpdf(y, predictions, sigma), rtol=1e-13)
        # the same minimiser as the squared error: the gradient vanishes at the least-squares w
        g = jax.grad(lambda w: jnp.mean(gaussian_nll(X @ w, y, sigma)))(w)
        assert float(jnp.max(jnp.abs(g))) < 1e-13
    residual_rms = float(jnp.sqrt(jnp.mean((y - predictions) ** 2)))
    assert chapter["sigma_hat"] == pytest.approx(residual_rms, rel=1e-14)
    nll_of_sigma = lambda s: jnp.mean(gaussian_nll(predictions, y, s))
    assert abs(float(jax.grad(nll_of_sigma)(residual_rms))) < 1e-13
    assert float(nll_of_sigma(residual_rms)) < min(float(nll_of_sigma(residual_rms * f)) for f in (0.9, 1.1))
    # the chapter: "close to the 0.3 we drew the noise with"; 30 points, 2 fitted: within 25%
    assert chapter["noise_sd"] == 0.3 and 0.225 < residual_rms < 0.375
    # the data: 30 sorted points in [-1, 1] on y = 1 + 2 x plus noise
    x = np.asarray(X[:, 1])
    assert len(x) == 30 and np.all(np.diff(x) > 0) and -1 <= x.min() and x.max() <= 1
    np.testing.assert_array_equal(np.asarray(X[:, 0]), 1.0)
    assert float(squared_error(3.0, 1.0)) == 2.0


# --- absolute error, Huber and outliers ---------------------------------------------------------


def test_laplace_nll_is_the_laplace_log_density_and_its_best_scale_the_mean_absolute_residual():
    r = jnp.linspace(-4.0, 4.0, 81)
    for s in (0.2, 1.0, 3.0):
        np.testing.assert_allclose(laplace_nll(0.0, r, s), -jax.scipy.stats.laplace.logpdf(r, 0.0, s), rtol=1e-13)
    np.testing.assert_allclose(absolute_error(r, 0.5), np.abs(np.asarray(r) - 0.5), rtol=0)
    # the minimiser over a constant prediction is the median
    values = jnp.array([0.1, 0.4, 2.0, 7.0, 30.0])
    c = jnp.linspace(-1.0, 31.0, 32001)
    mean_abs = jax.vmap(lambda t: jnp.mean(absolute_error(t, values)))(c)
    assert float(c[jnp.argmin(mean_abs)]) == pytest.approx(2.0, abs=1e-3)


def test_huber_is_a_gaussian_core_with_laplace_tails_and_its_gradient_is_the_clipped_residual():
    r = jnp.linspace(-5.0, 5.0, 1000)  # no grid point on the kinks at +-delta
    for delta in (0.3, 1.0, 2.5):
        inside = np.abs(np.asarray(r)) <= delta
        expected = np.where(inside, 0.5 * np.asarray(r) ** 2, delta * (np.abs(np.asarray(r)) - delta / 2))
        np.testing.assert_allclose(huber(r, 0.0, delta), expected, rtol=1e-14)
        by_hand = huber_gradient(r, 0.0, delta)
        np.testing.assert_allclose(by_hand, np.clip(np.asarray(r), -delta, delta), rtol=0)
        np.testing.assert_allclose(jax.vmap(jax.grad(huber), in_axes=(0, None, None))(r, 0.0, delta), by_hand,
                                   rtol=1e-14)
        fd = jax.vmap(lambda t: central_difference(lambda u: huber(u, 0.0, delta), t))(r)
        np.testing.assert_allclose(fd, by_hand, atol=1e-8)
        # the pieces meet with the same value and slope at |r| = delta
        assert float(huber(delta, 0.0, delta)) == pytest.approx(0.5 * delta**2, rel=1e-15)
    # a large delta is squared error, a small one is delta times absolute error (minus delta^2 / 2)
    np.testing.assert_allclose(huber(r, 0.0, 100.0), 0.5 * r**2, rtol=1e-15)
    np.testing.assert_allclose(huber(r[np.abs(r) > 0.01], 0.0, 0.01) / 0.01,
                               np.abs(r[np.abs(r) > 0.01]) - 0.005, rtol=1e-12)


def best_absolute_line(X, y):
    """The exact least-absolute-deviations line: a minimiser passes through two
    of the data points (a vertex of the linear program), so try every pair."""
    x, y = np.asarray(X[:, 1]), np.asarray(y)
    best = (np.inf, None)
    for i in range(len(x)):
        for j in range(i + 1, len(x)):
            slope = (y[j] - y[i]) / (x[j] - x[i])
            w = np.array([y[i] - slope * x[i], slope])
            best = min(best, (np.mean(np.abs(X @ w - y)), tuple(w)))
    return best


@pytest.mark.parametrize("size", [0.0, 8.0])
def test_fit_line_minimises_each_loss(chapter, size):
    X, y = np.asarray(chapter["X"]), np.asarray(losses.corrupt(chapter["y"], size))
    fits = {name: np.asarray(fit_line(name, X, y, 0.5)) for name in losses.ROBUST_LOSSES}
    np.testing.assert_allclose(fits["squared error"], np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-12)
    best_value, _ = best_absolute_line(X, y)
    assert float(np.mean(np.abs(X @ fits["absolute error"] - y))) == pytest.approx(best_value, rel=1e-7)
    # Huber: the gradient of the mean loss vanishes, and nearby lines are worse
    mean_huber = lambda w: jnp.mean(huber(X @ w, y, 0.5))
    assert float(jnp.max(jnp.abs(jax.grad(mean_huber)(fits["Huber"])))) < 1e-10
    for dw in ([1e-3, 0], [0, 1e-3], [-1e-3, 0], [0, -1e-3]):
        assert float(mean_huber(fits["Huber"] + np.array(dw))) > float(mean_huber(fits["Huber"]))


def test_outliers_move_the_squared_error_slope_far_and_the_others_barely(chapter):
    shift = chapter["slope_shift"]
    assert shift["squared error"] > 1.0  # the chapter prints the three shifts
    # "barely": an order of magnitude less (the chapter glues the measured ratio)
    assert max(abs(shift["absolute error"]), abs(shift["Huber"])) < 0.15 * shift["squared error"]
    assert chapter["outlier_size"] == 8.0 and chapter["delta"] == 0.5
    # "the squared-error slope moves in proportion to the size": least squares is linear in y
    X, y = chapter["X"], chapter["y"]
    slopes = [float(fit_line("squared error", X, losses.corrupt(y, s))[1]) for s in (0.0, 4.0, 8.0)]
    assert slopes[2] - slopes[0] == pytest.approx(2 * (slopes[1] - slopes[0]), rel=1e-10)
    # "the other two stop moving once the outliers are clearly outside": the same fit at 6 and 10
    for name in ("absolute error", "Huber"):
        at6, at10 = (float(fit_line(name, X, losses.corrupt(y, s), 0.5)[1]) for s in (6.0, 10.0))
        assert at10 == pytest.approx(at6, abs=1e-6), name
    # "a large delta turns Huber into squared error, a small one into absolute error"
    corrupted = losses.corrupt(y, 8.0)
    np.testing.assert_allclose(fit_line("Huber", X, corrupted, 20.0), fit_line("squared error", X, corrupted),
                               rtol=1e-10)
    small = fit_line("Huber", X, corrupted, 1e-3)
    _, exact_abs = best_absolute_line(np.asarray(X), np.asarray(corrupted))
    np.testing.assert_allclose(small, exact_abs, atol=2e-3)


def test_cross_entropy_is_entropy_plus_kl_divergence(chapter):
    p, z = chapter["soft_targets"], chapter["model_logits"]
    q = np.asarray(softmax(z))
    p_np = np.asarray(p)
    entropy = -np.sum(p_np * np.log(p_np), axis=-1)
    kl = np.sum(p_np * np.log(p_np / q), axis=-1)
    np.testing.assert_allclose(cross_entropy(z, p), entropy + kl, rtol=1e-12)
    assert np.all(kl > 0)
    assert chapter["decomposition_gap"] < 1e-13
    np.testing.assert_allclose(chapter["grad_ce"], chapter["grad_kl"], rtol=1e-10, atol=1e-14)
    # the smallest cross-entropy over q is H(p), at q = p
    np.testing.assert_allclose(cross_entropy(jnp.log(p), p), entropy, rtol=1e-12)
    assert float(jnp.max(jnp.abs(chapter["kl_at_target"]))) < 1e-14


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
    # three steps of W <- W - eta (P - Y)^T X / n, b <- b - eta mean(P - Y), z = W x + b, written out
    X, Y = np.asarray(classifier.data.X_train), np.asarray(one_hot(classifier.data.y_train, 10))
    W, b = np.zeros((10, 64)), np.zeros(10)
    for _ in range(3):
        Z = X @ W.T + b
        P = np.exp(Z - Z.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        residual = (P - Y) / len(X)
        W, b = W - 1.0 * residual.T @ X, b - 1.0 * residual.sum(axis=0)
    W_run, b_run = losses.iterate(runs["cross-entropy"], at_1, 3)
    np.testing.assert_allclose(W_run, W, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(b_run, b, rtol=1e-12, atol=1e-15)


def test_at_w_zero_the_squared_error_gradient_is_a_tenth_of_the_cross_entropy_gradient(digit_sweep):
    classifier = digit_sweep[1]
    ce = jax.grad(classifier.losses["cross-entropy"])(classifier.params0)
    sq = jax.grad(classifier.losses["squared error"])(classifier.params0)
    for g_sq, g_ce in zip(sq, ce):
        np.testing.assert_allclose(g_sq, 0.1 * g_ce, rtol=1e-12, atol=1e-16)
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


def test_from_a_confidently_wrong_start_only_cross_entropy_recovers(chapter, digit_sweep):
    digits, classifier, runs, test_accuracy, rates = digit_sweep
    final = {name: acc[:, -1] for name, acc in test_accuracy.items()}
    best_params = losses.iterate(runs["cross-entropy"], int(np.argmax(final["cross-entropy"])), -1)
    W_wrong, b_wrong = (-2.0 * a for a in best_params)
    assert float(accuracy(classifier.predict((W_wrong, b_wrong), digits.X_test), digits.y_test)) == 0.0
    p_wrong = softmax(losses.linear_logits((W_wrong, b_wrong), digits.X_test))
    assert float(jnp.median(jnp.max(p_wrong, axis=-1))) > 0.9  # "sure of its wrong answers"
    recovered = {}
    for name in losses.TINY_LOSSES:
        eta = float(rates[np.argmax(final[name])])
        run = gradient_descent(classifier.losses[name], (W_wrong, b_wrong), eta, 300)
        W, b = run[0][-1], run[1][-1]
        recovered[name] = float(accuracy(jnp.argmax(digits.X_test @ W.T + b, axis=-1), digits.y_test))
    assert recovered["cross-entropy"] > 0.9
    assert recovered["squared error"] < 0.1
    # the chapter's numbers: its sweep from the wrong start, read at the same learning rates
    assert chapter["recovered"] == pytest.approx(recovered, abs=1e-12)


# --- the exercise solutions ------------------------------------------------------------------


def test_every_exercise_has_a_tested_solution():
    assert set(solution_blocks(CHAPTER)) == {"ex-loss-laplace-scale", "ex-loss-kl-asymmetry", "ex-loss-two-class"}


def test_two_class_cross_entropy_is_binary_cross_entropy(solve):
    chapter, _ = solve("ex-loss-two-class")
    assert chapter["two_class_gap"] < 1e-12
    assert chapter["two_class_grad_gap"] < 1e-12


def test_laplace_scale_is_the_mean_absolute_residual(solve):
    chapter, _ = solve("ex-loss-laplace-scale")
    residuals = np.asarray(chapter["y"] - chapter["X"] @ chapter["clean_fits"]["absolute error"])
    assert chapter["s_hat"] == pytest.approx(np.mean(np.abs(residuals)), rel=1e-14)
    assert abs(chapter["laplace_scale_slope"]) < 1e-12
    assert 0.1 < chapter["s_hat"] < 0.3  # "about 0.2"; for Gaussian noise of sd 0.3, E|r| = 0.3 sqrt(2/pi) = 0.24


def test_kl_divergence_is_asymmetric(solve):
    chapter, _ = solve("ex-loss-kl-asymmetry")
    assert chapter["kl_pq"] == pytest.approx(0.5 * math.log(25 / 9), rel=1e-12)  # 0.511
    assert chapter["kl_qp"] == pytest.approx(0.9 * math.log(1.8) + 0.1 * math.log(0.2), rel=1e-12)  # 0.368
