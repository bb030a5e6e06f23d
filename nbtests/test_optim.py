"""nnbook.optim against closed forms, and every claim the gradient-descent
chapter makes, asserted on the same functions with the same settings."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nnbook.calculus import central_difference
from nnbook.neurons import gradient_descent
from nnbook.optim import (
    QUADRATIC_CURVATURES,
    QUADRATIC_START,
    ROSENBROCK_MINIMUM,
    ROSENBROCK_START,
    condition_number,
    divergence,
    divergence_threshold,
    mean_squared_error,
    measured_rate,
    minibatch_sgd,
    momentum_descent,
    quadratic,
    quadratic_1d_iterates,
    quadratic_loss,
    regime_1d,
    rosenbrock,
    rosenbrock_gradient_by_hand,
    sgd_problem,
    steps_to_reach,
    tuned_momentum,
    tuned_plain,
)


@pytest.fixture(autouse=True)
def float64():
    # The chapter runs in 64-bit floats (it measures errors down to 1e-20).
    with jax.enable_x64(True):
        yield


CHAPTER = "04_gradient_descent.ipynb"
A_MIN, A_MAX = QUADRATIC_CURVATURES
START = QUADRATIC_START


# --- gradients ------------------------------------------------------------------------------


def test_grad_of_quadratic_is_A_w():
    A = jnp.array([[3.0, 1.0], [1.0, 2.0]])
    w = jnp.array([0.3, -1.7])
    np.testing.assert_allclose(jax.grad(quadratic(A))(w), A @ w, rtol=1e-14)


def test_rosenbrock_gradient_by_hand_matches_autodiff_and_finite_differences():
    for point in ([-1.2, 1.0], [0.5, 0.5], [1.0, 1.0], [1.7, -0.3]):
        w = jnp.array(point)
        by_hand = rosenbrock_gradient_by_hand(w)
        np.testing.assert_allclose(jax.grad(rosenbrock)(w), by_hand, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(central_difference(rosenbrock, w), by_hand, rtol=1e-8, atol=1e-6)


# --- plain gradient descent on quadratics -------------------------------------------------


def test_one_dimensional_iterates_follow_the_closed_form():
    for a, eta in [(2.0, 0.05), (2.0, 0.4), (2.0, 0.8), (2.0, 1.05), (0.5, 3.0)]:
        run = gradient_descent(quadratic(jnp.array([[a]])), jnp.array([1.0]), eta, 30)[:, 0]
        np.testing.assert_allclose(run, (1 - eta * a) ** np.arange(31), rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(quadratic_1d_iterates(a, eta, 1.0, 30), (1 - eta * a) ** np.arange(31), rtol=1e-12)


def test_each_coordinate_of_a_diagonal_quadratic_is_its_own_1d_problem():
    run = gradient_descent(quadratic_loss, jnp.array(START), 0.15, 40)
    k = np.arange(41)
    np.testing.assert_allclose(run[:, 0], START[0] * (1 - 0.15 * A_MIN) ** k, rtol=1e-12)
    np.testing.assert_allclose(run[:, 1], START[1] * (1 - 0.15 * A_MAX) ** k, rtol=1e-12, atol=1e-300)


def test_regimes_are_named_by_what_the_iterates_do():
    a = 2.0
    loss = quadratic(jnp.array([[a]]))
    for eta, regime in [(0.05, "slow"), (0.4, "smooth"), (0.8, "oscillating"), (1.05, "diverging")]:
        assert regime_1d(a, eta) == regime
        w = np.asarray(gradient_descent(loss, jnp.array([1.0]), eta, 20)[:, 0])
        if regime in ("slow", "smooth"):
            assert np.all(np.diff(w) < 0) and np.all(w > 0)
        if regime == "slow":
            assert w[-1] > 0.1  # more than a tenth of the way still to go after 20 steps
        if regime == "oscillating":
            assert np.all(np.sign(w[1:]) != np.sign(w[:-1])) and abs(w[-1]) < abs(w[0])
        if regime == "diverging":
            assert np.all(np.abs(w[1:]) > np.abs(w[:-1]))
    assert regime_1d(a, 0.5) == "smooth"  # r = 0: the minimum in one step
    assert regime_1d(a, 1.0) == "diverging"  # r = -1: bounces forever


@pytest.mark.parametrize("a", [0.5, 2.0, 9.0])
def test_bisection_on_runs_finds_the_threshold_two_over_a(a):
    # the chapter's claim: found == predicted to twelve digits
    found = divergence_threshold(quadratic(jnp.array([[a]])), jnp.array([1.0]), lo=0.01, hi=5.0 / a)
    assert found == pytest.approx(2.0 / a, rel=1e-12)


def test_divergence_threshold_rejects_a_bad_bracket():
    with pytest.raises(ValueError, match="converging lo"):
        divergence_threshold(quadratic(jnp.array([[2.0]])), jnp.array([1.0]), lo=1.5, hi=3.0)


def test_divergence_is_reported_without_warnings_for_inf_and_nan():
    trajectory = jnp.array([[1.0, 0.0], [2.0, 0.0], [jnp.inf, 0.0], [jnp.nan, jnp.nan]])
    assert divergence(trajectory, jnp.zeros(2)) == (True, 2)
    assert divergence(trajectory[:2], jnp.zeros(2)) == (False, 2)
    assert divergence(jnp.array([[1.0], [11.0]]), jnp.zeros(1)) == (True, 1)  # 11 > 10 x start distance


# --- condition number, tuned rates, momentum ----------------------------------------------


def test_condition_number_and_tuned_settings_of_the_chapter_quadratic():
    assert condition_number(jnp.diag(jnp.array([A_MIN, A_MAX]))) == pytest.approx(9.0)
    eta, rate = tuned_plain(A_MIN, A_MAX)
    assert (eta, rate) == pytest.approx((0.2, 0.8))
    eta_m, beta_m, rate_m = tuned_momentum(A_MIN, A_MAX)
    assert (eta_m, beta_m, rate_m) == pytest.approx((0.25, 0.25, 0.5))


def heavy_ball_closed_form(a, eta, beta, w0, steps):
    """Heavy ball on a w^2/2 as powers of its 2x2 step matrix acting on (w_k, w_{k-1})."""
    M = np.array([[1 + beta - eta * a, -beta], [1.0, 0.0]])
    state = np.array([w0, w0])
    out = [w0]
    for _ in range(steps):
        state = M @ state
        out.append(state[0])
    return np.array(out)


def test_momentum_descent_matches_the_step_matrix():
    for a in (A_MIN, A_MAX):
        run = momentum_descent(quadratic(jnp.array([[a]])), jnp.array([1.5]), 0.25, 0.25, 50)[:, 0]
        np.testing.assert_allclose(run, heavy_ball_closed_form(a, 0.25, 0.25, 1.5, 50), rtol=1e-9, atol=1e-300)


def runs_at_tuned_settings():
    eta_p, _ = tuned_plain(A_MIN, A_MAX)
    eta_m, beta_m, _ = tuned_momentum(A_MIN, A_MAX)
    start = jnp.array(START)
    return (
        momentum_descent(quadratic_loss, start, eta_p, 0.0, 200),
        momentum_descent(quadratic_loss, start, eta_m, beta_m, 200),
    )


def test_measured_rates_match_theory():
    plain, heavy = runs_at_tuned_settings()
    # plain GD: both coordinates contract by exactly (kappa-1)/(kappa+1)
    assert measured_rate(plain, jnp.zeros(2), 50, 150) == pytest.approx(0.8, rel=1e-9)
    # heavy ball: critically damped, error ~ k r^k, so the window 50..150 reads
    # r (150/50)^(1/100): the chapter's explanation of the 1% excess
    measured = measured_rate(heavy, jnp.zeros(2), 50, 150)
    assert measured == pytest.approx(0.5 * 3 ** (1 / 100), rel=2e-3)
    assert measured == pytest.approx(0.5, rel=0.02)


def test_momentum_reaches_the_minimum_in_fewer_steps():
    plain, heavy = runs_at_tuned_settings()
    steps_plain = steps_to_reach(plain, jnp.zeros(2), 1e-6)
    steps_mom = steps_to_reach(heavy, jnp.zeros(2), 1e-6)
    # theory: ln(1e-6)/ln(0.8) = 62 steps for plain; momentum well under half
    assert steps_plain == int(np.ceil(np.log(1e-6) / np.log(0.8)))
    assert 0 < steps_mom < steps_plain / 2


def test_rosenbrock_momentum_claims():
    start, minimum = jnp.array(ROSENBROCK_START), jnp.array(ROSENBROCK_MINIMUM)
    plain = momentum_descent(rosenbrock, start, 0.002, 0.0, 250)
    heavy = momentum_descent(rosenbrock, start, 0.002, 0.9, 250)
    assert not divergence(plain, minimum).diverged and not divergence(heavy, minimum).diverged
    assert float(rosenbrock(heavy[-1])) < float(rosenbrock(plain[-1])) / 100  # "far lower"
    too_fast = momentum_descent(rosenbrock, start, 0.004, 0.9, 250)
    assert divergence(too_fast, minimum).diverged


# --- the sweep -----------------------------------------------------------------------------


def chapter_sweep(chapter):
    """The chapter's sweep: loss after 30 heavy-ball steps on a 40 x 20 grid of (eta, beta)."""
    assert chapter["sweep_steps"] == 30 and chapter["loss"] is quadratic_loss
    return chapter["etas"], chapter["betas"], chapter["start"], chapter["final"]


def test_sweep_equals_one_run_per_setting(chapter):
    etas, betas, start, final = chapter_sweep(chapter)
    np.testing.assert_array_equal(start, jnp.array(START))
    for i, j in [(0, 0), (7, 3), (20, 10), (39, 19)]:
        # one run, written out as the heavy-ball recursion in NumPy
        w, v = np.asarray(start), np.zeros(2)
        curvatures = np.array([A_MIN, A_MAX])
        with np.errstate(over="ignore", invalid="ignore"):  # diverging cells overflow, as in the chapter
            for _ in range(30):
                v = float(betas[j]) * v - float(etas[i]) * curvatures * w
                w = w + v
            single = 0.5 * np.sum(curvatures * w**2)
        if np.isfinite(single) and single < 1e300:
            # rtol=1e-10: 30 steps of rounding in two different orders (XLA vs NumPy), amplified where the run grows
            np.testing.assert_allclose(final[i, j], single, rtol=1e-10)
        else:
            assert not bool(jnp.isfinite(final[i, j])) or float(final[i, j]) > 1e300


def test_sweep_limit_is_at_most_two_grid_steps_below_two_times_one_plus_beta_over_L(chapter):
    etas, betas, start, final = chapter_sweep(chapter)
    converged = np.asarray(jnp.isfinite(final) & (final < quadratic_loss(start)))
    step = float(etas[1] - etas[0])
    for j, beta in enumerate(np.asarray(betas)):
        if not converged[:, j].any():
            continue
        largest = float(etas[np.where(converged[:, j])[0].max()])
        limit = 2 * (1 + beta) / A_MAX
        if limit < float(etas[-1]):
            # cells just below the limit converge, but with a rate near 1: after
            # 30 steps some are not yet below the starting loss (the chapter says so)
            assert limit - 2 * step <= largest <= limit, (beta, largest, limit)


def test_sweep_best_cell_is_one_grid_cell_from_polyak(chapter):
    etas, betas, start, final = chapter_sweep(chapter)
    converged = jnp.isfinite(final) & (final < quadratic_loss(start))
    masked = np.where(np.asarray(converged), np.asarray(final), np.inf)
    i, j = np.unravel_index(np.argmin(masked), masked.shape)
    eta_m, beta_m, _ = tuned_momentum(A_MIN, A_MAX)
    assert abs(float(etas[i]) - eta_m) <= float(etas[1] - etas[0]) + 1e-12
    assert abs(float(betas[j]) - beta_m) <= float(betas[1] - betas[0]) + 1e-12
    assert (float(etas[i]), float(betas[j])) != pytest.approx((eta_m, beta_m))  # "not exactly on it"


# --- stochastic gradient descent ------------------------------------------------------------


def test_least_squares_solution_zeroes_the_gradient():
    problem = sgd_problem(jax.random.key(0))
    X, y = problem.X, problem.y
    g = jax.grad(mean_squared_error)(problem.w_star, X, y)
    assert float(jnp.max(jnp.abs(g))) < 1e-12
    assert condition_number(X.T @ X / len(X)) == pytest.approx(1.45 / 0.55, rel=0.01)


def test_sgd_with_identical_examples_is_gradient_descent():
    # every batch is the same example, so SGD must reproduce full-batch GD exactly
    X = jnp.tile(jnp.array([[1.0, 2.0]]), (5, 1))
    y = jnp.full(5, 3.0)
    sgd = minibatch_sgd(jax.random.key(1), X, y, jnp.zeros(2), 0.05, 3, 20, 4)
    gd = gradient_descent(lambda w: mean_squared_error(w, X, y), jnp.zeros(2), 0.05, 20)
    np.testing.assert_allclose(sgd, gd, rtol=1e-12)


def test_sgd_batch_gradient_uses_exactly_b_examples():
    # two examples pulling in opposite directions: with b=1 each step follows one of them
    X = jnp.array([[1.0], [1.0]])
    y = jnp.array([1.0, -1.0])
    run = minibatch_sgd(jax.random.key(3), X, y, jnp.zeros(1), 1.0, 1, 10, 8)
    assert set(np.round(np.asarray(run[1:, 0]), 12)) <= {1.0, -1.0}


def test_sgd_noise_falls_with_batch_size_and_medium_batches_progress_most_per_example(chapter):
    # the chapter's table: 16 seeds, batch sizes 1..256, eta = 0.1, 512 steps
    spread, after_512 = chapter["spread"], chapter["after_512"]
    sizes = sorted(spread)
    assert sizes == [1, 4, 16, 64, 256] and chapter["runs"].shape == (5, 16, 513, 2)
    assert all(spread[a] > spread[b] for a, b in zip(sizes, sizes[1:])), spread
    assert after_512[4] < after_512[256] / 10, after_512
    # "not the smallest": b = 1 ends above b = 4 and b = 16 after the same 512 examples
    # (the old claim, "small batches make more progress per example", would order them the other way)
    assert after_512[1] > max(after_512[4], after_512[16]), after_512
    assert min(after_512, key=after_512.get) in (4, 16), after_512
    # "it has reached its noise floor": b = 1's mean excess over its last 256 steps is no lower
    # than after 256 steps, within the seeds' noise (factor 1.5: 16 seeds, excess ~ chi-square)
    excess_1 = np.asarray(chapter["excess"][0])  # b = 1, seeds x steps
    assert np.mean(excess_1[:, 256:]) > np.mean(excess_1[:, 256]) / 1.5
    assert np.mean(excess_1[:, 256:]) > after_512[4]
    # each entry is the mean over the seeds of the excess loss after 512 / b steps, recomputed here
    problem, runs = chapter["problem"], chapter["runs"]
    X, y = np.asarray(chapter["X"]), np.asarray(chapter["y"])
    for i, b in enumerate(sizes):
        w = np.asarray(runs[i, :, 512 // b])
        excess = 0.5 * np.mean((w @ X.T - y) ** 2, axis=1) - float(problem.best_loss)
        assert after_512[b] == pytest.approx(float(np.mean(excess)), rel=1e-9)
