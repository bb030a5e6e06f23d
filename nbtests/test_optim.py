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
    adam_descent,
    adam_update,
    condition_number,
    divergence,
    divergence_threshold,
    mean_squared_error,
    measured_rate,
    minibatch_sgd,
    momentum_descent,
    momentum_matrix,
    momentum_rate,
    quadratic,
    quadratic_1d_iterates,
    quadratic_loss,
    regime_1d,
    rosenbrock,
    rosenbrock_gradient_by_hand,
    rotation,
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


# --- every quadratic is diagonal in its eigenbasis --------------------------------------------


def test_shifted_quadratic_gradient_is_A_times_the_error():
    A = jnp.array([[3.0, 1.0], [1.0, 2.0]])
    w, w_star = jnp.array([0.3, -1.7]), jnp.array([1.0, 2.0])
    np.testing.assert_allclose(jax.grad(quadratic(A, w_star))(w), A @ (w - w_star), rtol=1e-14)
    assert float(quadratic(A, w_star)(w_star)) == 0.0


def test_rotation_is_orthogonal():
    Q = rotation(0.7)
    np.testing.assert_allclose(Q.T @ Q, np.eye(2), atol=1e-15)
    assert float(jnp.linalg.det(Q)) == pytest.approx(1.0)


def test_tilted_run_rotated_back_is_the_diagonal_run(chapter):
    # the chapter's claim: trajectories agree after rotation, to rounding
    assert chapter["eigenbasis_gap"] < 1e-13
    # and independently, with NumPy: gradient descent on the tilted bowl, rotated back, is
    # u_k = (1 - eta lambda_i)^k u_0 per coordinate
    Q, w_star, eta = np.asarray(chapter["Q"]), np.asarray(chapter["w_star_tilted"]), chapter["eta_plain"]
    A = Q @ np.diag(QUADRATIC_CURVATURES) @ Q.T
    np.testing.assert_allclose(np.linalg.eigvalsh(A), QUADRATIC_CURVATURES, rtol=1e-14)
    w = w_star + Q @ np.array(START)
    for k in range(1, 61):
        w = w - eta * A @ (w - w_star)
        expected = np.array(START) * (1 - eta * np.array(QUADRATIC_CURVATURES)) ** k
        np.testing.assert_allclose(Q.T @ (w - w_star), expected, rtol=1e-9, atol=1e-14)


def test_tilted_divergence_threshold_is_two_over_the_largest_eigenvalue(chapter):
    assert chapter["tilted_threshold"] == pytest.approx(2 / A_MAX, rel=1e-12)


# --- the momentum matrix -------------------------------------------------------------------------


def test_momentum_matrix_steps_the_heavy_ball():
    # (w, v) -> R (w, v) reproduces momentum_descent, with R written out from the update rule
    for eta, beta, lam in [(0.25, 0.25, 9.0), (0.1, 0.8, 1.0), (0.3, 0.5, 4.0)]:
        R = np.asarray(momentum_matrix(eta, beta, lam))
        np.testing.assert_allclose(R, [[1 - eta * lam, beta], [-eta * lam, beta]])
        run = momentum_descent(quadratic(jnp.array([[lam]])), jnp.array([1.5]), eta, beta, 40)[:, 0]
        state = np.array([1.5, 0.0])
        for k in range(1, 41):
            state = R @ state
            assert run[k] == pytest.approx(state[0], rel=1e-9, abs=1e-300)


def test_momentum_rate_is_the_largest_root_of_the_characteristic_polynomial():
    # mu^2 - (1 + beta - eta lambda) mu + beta = 0, solved by the quadratic formula
    for eta, beta in [(0.05, 0.3), (0.1, 0.8), (0.2, 0.5), (0.25, 0.25), (0.3, 0.0)]:
        moduli = []
        for lam in QUADRATIC_CURVATURES:
            t = 1 + beta - eta * lam
            root = np.sqrt(complex(t * t - 4 * beta))
            moduli += [abs((t + root) / 2), abs((t - root) / 2)]
        # 1e-7: a repeated eigenvalue (Polyak's setting) is found by eigvals to about sqrt(eps)
        assert float(momentum_rate(eta, beta, QUADRATIC_CURVATURES)) == pytest.approx(max(moduli), rel=1e-7)


def test_eigenvalues_predict_the_measured_momentum_rates(chapter):
    table = chapter["rate_table"]
    eta_m, beta_m, rate_m = tuned_momentum(A_MIN, A_MAX)
    assert set(table) == {(0.05, 0.3), (0.1, 0.8), (0.2, 0.5), (eta_m, beta_m)}
    for (eta, beta), (predicted, measured) in table.items():
        if (eta, beta) == (eta_m, beta_m):
            # repeated eigenvalue: error ~ k r^k, so the window 50..200 reads r (200/50)^(1/150)
            assert predicted == pytest.approx(rate_m, rel=1e-7)
            assert measured == pytest.approx(rate_m * 4 ** (1 / 150), rel=2e-3)
        else:
            # "to within one per cent": complex pairs make the error's norm oscillate around rho^k
            assert measured == pytest.approx(predicted, rel=1e-2), (eta, beta)


def test_smallest_spectral_radius_on_the_grid_is_next_to_polyak(chapter):
    eta_m, beta_m, rate_m = tuned_momentum(A_MIN, A_MAX)
    eta_step = float(chapter["eta_grid"][1] - chapter["eta_grid"][0])
    beta_step = float(chapter["beta_grid"][1] - chapter["beta_grid"][0])
    assert abs(chapter["best_rate_eta"] - eta_m) <= eta_step + 1e-12
    assert abs(chapter["best_rate_beta"] - beta_m) <= beta_step + 1e-12
    assert rate_m - 1e-7 <= chapter["best_rate"] < rate_m + 0.02
    # Polyak's formulas, written out: eta = (2 / (sqrt(l_max) + sqrt(l_min)))^2, beta = ((sqrt k - 1)/(sqrt k + 1))^2
    kappa = A_MAX / A_MIN
    assert eta_m == pytest.approx((2 / (A_MAX**0.5 + A_MIN**0.5)) ** 2)
    assert beta_m == pytest.approx(((kappa**0.5 - 1) / (kappa**0.5 + 1)) ** 2)


# --- Adam ---------------------------------------------------------------------------------------


def adam_by_the_paper(gradient, w0, alpha, steps, decay=0.0, beta1=0.9, beta2=0.999, epsilon=1e-8):
    """Algorithm 1 of Kingma & Ba (2015), written out in NumPy, with the step size
    alpha_t = alpha / (1 + decay (t - 1)) at t = 1, 2, ..."""
    theta = np.array(w0, dtype=float)
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    path = [theta.copy()]
    for t in range(1, steps + 1):
        g = gradient(theta)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        theta = theta - alpha / (1 + decay * (t - 1)) * m_hat / (np.sqrt(v_hat) + epsilon)
        path.append(theta.copy())
    return np.array(path)


def rosenbrock_gradient_numpy(w):
    x, y = w
    return np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


@pytest.mark.parametrize("learning_rate, decay", [(0.1, 0.0), (0.5, 0.003), (1.0, 0.03)])
def test_adam_descent_follows_the_papers_algorithm(learning_rate, decay):
    start = jnp.array(ROSENBROCK_START)
    run = adam_descent(rosenbrock, start, learning_rate, 200, decay)
    reference = adam_by_the_paper(rosenbrock_gradient_numpy, ROSENBROCK_START, learning_rate, 200, decay)
    # rtol=1e-9: 200 steps of rounding in two orders (XLA vs NumPy) on a loss with curvature up to ~1e3
    np.testing.assert_allclose(run, reference, rtol=1e-9, atol=1e-12)


def test_adam_update_matches_the_paper_step_by_step():
    rng = np.random.default_rng(0)
    m, v = jnp.zeros(3), jnp.zeros(3)
    m_np, v_np = np.zeros(3), np.zeros(3)
    for k in range(1, 6):
        g = rng.normal(size=3) * 10.0 ** rng.integers(-3, 3, size=3)
        step, m, v = adam_update(jnp.array(g), m, v, k, 0.01)
        m_np = 0.9 * m_np + 0.1 * g
        v_np = 0.999 * v_np + 0.001 * g * g
        expected = -0.01 * (m_np / (1 - 0.9**k)) / (np.sqrt(v_np / (1 - 0.999**k)) + 1e-8)
        np.testing.assert_allclose(step, expected, rtol=1e-12)


def test_first_adam_step_is_eta_per_coordinate_whatever_the_gradient():
    # m_hat_1 = g and v_hat_1 = g^2, so the step is -eta g / (|g| + eps): eta sign(g) up to eps/|g|
    g = jnp.array([-215.6, 88.0, 1e-3, -2e-5])
    step, _, _ = adam_update(g, jnp.zeros(4), jnp.zeros(4), 1, 0.1)
    np.testing.assert_allclose(step, -0.1 * g / (jnp.abs(g) + 1e-8), rtol=1e-14)
    np.testing.assert_allclose(step, -0.1 * jnp.sign(g), rtol=1e-3)  # eps / |g| <= 5e-4 here


def test_chapter_first_step_is_point_one_per_coordinate(chapter):
    g, step = np.asarray(chapter["g"]), np.asarray(chapter["first_step"])
    np.testing.assert_allclose(g, rosenbrock_gradient_numpy(np.array(ROSENBROCK_START)), rtol=1e-12)
    np.testing.assert_allclose(step, -0.1 * np.sign(g), rtol=1e-9)


def test_adam_is_much_slower_than_tuned_momentum_on_the_quadratic(chapter):
    steps, best = chapter["adam_steps"], chapter["adam_best_steps"]
    assert best == int(steps[steps > 0].min())
    assert best > 5 * chapter["steps_mom"] and best > chapter["steps_plain"]  # "slower than even plain GD"
    # robustness: every eta from 0.2 to 1 and every decay reaches 1e-6 within 500 steps, in a narrow band
    etas = np.array(chapter["figs"].ADAM_LEARNING_RATES)
    band = steps[etas >= 0.2]
    assert np.all(band > 0) and band.max() < 1.3 * band.min()
    # each count is right: recompute one with the paper's algorithm in NumPy
    grad = lambda w: np.array(QUADRATIC_CURVATURES) * w  # noqa: E731
    path = adam_by_the_paper(grad, START, 0.2, 500)
    error = np.linalg.norm(path, axis=1)
    i = list(etas).index(0.2)
    assert steps[i, 0] == int(np.argmax(error <= 1e-6 * error[0]))


def test_adam_beats_the_chapters_heavy_ball_in_the_valley_and_decay_costs_at_first(chapter):
    losses = np.asarray(chapter["adam_valley_loss"])
    heavy = chapter["heavy_valley_loss"]
    assert chapter["adam_best_valley_loss"] == losses.min() < heavy
    # the heavy ball's loss, independently: the chapter's momentum setting in the valley, 500 steps
    w, v = np.array(ROSENBROCK_START), np.zeros(2)
    for _ in range(500):
        v = 0.9 * v - 0.002 * rosenbrock_gradient_numpy(w)
        w = w + v
    assert heavy == pytest.approx((1 - w[0]) ** 2 + 100 * (w[1] - w[0] ** 2) ** 2, rel=1e-6)
    assert np.all(np.diff(losses, axis=1) > 0)  # "every decay d > 0 ends higher ... the rows rise"
    # "no verdict on momentum": the heavy ball with beta = 0.95 ends below Adam's best
    assert chapter["heavy_valley_095"] < chapter["adam_best_valley_loss"] / 100


def test_a_schedule_lets_adam_settle_late(chapter):
    late = chapter["late"]
    assert late[0.0] > 1e-2 and late[0.003] < 1e-5
    reference = adam_by_the_paper(rosenbrock_gradient_numpy, ROSENBROCK_START, 1.0, 1000, 0.003)[-1]
    x, y = reference
    assert late[0.003] == pytest.approx((1 - x) ** 2 + 100 * (y - x * x) ** 2, rel=1e-3)


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
