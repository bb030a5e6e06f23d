"""Gradient descent, momentum, Adam and stochastic gradient descent.

Taught in the chapter "Gradient descent you can steer"
(chapters/04_gradient_descent.ipynb). Every function is pure: a loss, a start
point and hyper-parameters in, a whole trajectory out. Steps run inside
``jax.lax.scan`` under ``jax.jit``, so a 100-step run is one compiled call,
and ``jax.vmap`` turns one run into a sweep over a grid of settings.
"""

from __future__ import annotations

from functools import partial
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from nnbook import OPTIMISED, optimised  # compiled with LLVM's optimisations: runs long (nnbook/__init__.py)
from nnbook.calculus import bisect
from nnbook.neurons import gradient_descent  # taught in chapter 1; the plain method here

# ----------------------------------------------------------------------------
# Losses the chapter uses
# ----------------------------------------------------------------------------


def quadratic(A, w_star=None):
    """L(w) = 1/2 (w - w*)^T A (w - w*) for a symmetric positive definite A
    (minimum at ``w_star``, the origin unless given)."""
    A = jnp.asarray(A)
    w_star = jnp.zeros(A.shape[0]) if w_star is None else jnp.asarray(w_star)

    def loss(w):
        e = w - w_star
        return 0.5 * e @ A @ e

    return loss


@jax.jit  # one compiled program, not one per eager op
def rotation(angle):
    """The 2 x 2 rotation by ``angle`` radians: an orthogonal Q, Q^T Q = I."""
    c, s = jnp.cos(angle), jnp.sin(angle)
    return jnp.array([[c, -s], [s, c]])


@jax.jit  # one compiled program when called eagerly (inside another jit it is inlined)
def rosenbrock(w, a=1.0, b=100.0):
    """The Rosenbrock (1960) valley: (a - x)^2 + b (y - x^2)^2, minimum at (a, a^2)."""
    x, y = w[0], w[1]
    return (a - x) ** 2 + b * (y - x**2) ** 2


def rosenbrock_gradient_by_hand(w, a=1.0, b=100.0):
    """The closed-form gradient of :func:`rosenbrock`, for checking ``jax.grad``."""
    x, y = w[0], w[1]
    return jnp.array([-2 * (a - x) - 4 * b * x * (y - x**2), 2 * b * (y - x**2)])


# ----------------------------------------------------------------------------
# Full-batch methods
# ----------------------------------------------------------------------------


@partial(jax.jit, static_argnames=("loss", "steps"))
def momentum_descent(loss: Callable, w0, learning_rate, momentum, steps: int):
    """Heavy-ball gradient descent (Polyak 1964), returning all ``steps + 1`` iterates:

        v_{k+1} = momentum * v_k - learning_rate * grad L(w_k)
        w_{k+1} = w_k + v_{k+1},          v_0 = 0.

    With ``momentum = 0`` this is plain gradient descent,
    w_{k+1} = w_k - eta grad L(w_k) (:func:`nnbook.neurons.gradient_descent`,
    taught in chapter 1, gives the same iterates).
    """
    grad = jax.grad(loss)
    w0 = jnp.asarray(w0, dtype=jnp.result_type(float))

    def step(state, _):
        w, v = state
        v = momentum * v - learning_rate * grad(w)
        w = w + v
        return (w, v), w

    _, ws = jax.lax.scan(step, (w0, jnp.zeros_like(w0)), None, length=steps)
    return jnp.concatenate([w0[None], ws])


# ----------------------------------------------------------------------------
# Adam (Kingma & Ba 2015) with a learning-rate schedule
# ----------------------------------------------------------------------------


@jax.jit
def adam_update(gradient, m, v, k, learning_rate, beta1=0.9, beta2=0.999, eps=1e-8):
    """One step of Adam, as in Algorithm 1 of Kingma & Ba (2015), at step k = 1, 2, ...

    Returns the change of the parameters and the new moment estimates (m, v).
    Every operation is per coordinate.
    """
    m = beta1 * m + (1 - beta1) * gradient  # running mean of the gradient
    v = beta2 * v + (1 - beta2) * gradient**2  # running mean of its square
    m_hat = m / (1 - beta1**k)  # bias correction: m and v start at 0
    v_hat = v / (1 - beta2**k)
    return -learning_rate * m_hat / (jnp.sqrt(v_hat) + eps), m, v


def inverse_time_decay(learning_rate, decay, k):
    """The schedule eta_k = eta / (1 + decay * k), k = 0, 1, ...; decay = 0 keeps eta fixed."""
    return learning_rate / (1 + decay * k)


@partial(jax.jit, static_argnames=("loss", "steps"))
def adam_descent(loss: Callable, w0, learning_rate, steps: int, decay=0.0, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adam with the learning rate of :func:`inverse_time_decay`, returning all
    ``steps + 1`` iterates (like :func:`momentum_descent`)."""
    grad = jax.grad(loss)
    w0 = jnp.asarray(w0, dtype=jnp.result_type(float))

    def step(state, k):
        w, m, v = state
        dw, m, v = adam_update(grad(w), m, v, k, inverse_time_decay(learning_rate, decay, k - 1), beta1, beta2, eps)
        return (w + dw, m, v), w + dw

    zeros = jnp.zeros_like(w0)
    ks = jnp.arange(1, steps + 1, dtype=w0.dtype)
    _, ws = jax.lax.scan(step, (w0, zeros, zeros), ks)
    return jnp.concatenate([w0[None], ws])


class Divergence(NamedTuple):
    diverged: bool
    step: int  # first step that left the bound (len(trajectory) if none did)


@jax.jit
def divergence_step(trajectory, w_star, factor: float = 10.0):
    """First step whose iterate is ``factor`` times farther from ``w_star``
    than the start, or not finite; ``len(trajectory)`` if there is none.

    Pure JAX (usable under ``jit``), where comparisons of inf and NaN raise no
    floating-point warnings, so a diverging run prints nothing.
    """
    error = jnp.linalg.norm(trajectory - w_star, axis=-1)
    outside = ~jnp.isfinite(error) | (error > factor * error[0])
    return jnp.where(outside.any(), jnp.argmax(outside), len(trajectory))


def divergence(trajectory, w_star, factor: float = 10.0) -> Divergence:
    """:func:`divergence_step` as a (diverged, step) pair of Python values."""
    step = int(divergence_step(jnp.asarray(trajectory), jnp.asarray(w_star), factor))
    return Divergence(step < len(trajectory), step)


# ----------------------------------------------------------------------------
# Theory for quadratics
# ----------------------------------------------------------------------------


@partial(jax.jit, static_argnames=("steps",))
def quadratic_1d_iterates(curvature, learning_rate, w0, steps: int):
    """Closed form of gradient descent on L(w) = lambda w^2 / 2: w_k = (1 - eta lambda)^k w_0."""
    k = jnp.arange(steps + 1)
    return (1.0 - learning_rate * curvature) ** k * w0


def regime_1d(curvature, learning_rate) -> str:
    """Name the behaviour of gradient descent on lambda w^2 / 2 from r = 1 - eta lambda."""
    r = 1.0 - learning_rate * curvature
    if r >= 1.0:
        return "stuck"  # eta <= 0: no progress
    if r >= 0.5:
        return "slow"  # monotone, loses less than half the distance per step
    if r >= 0.0:
        return "smooth"  # monotone and fast (r = 0: exact in one step)
    if r > -1.0:
        return "oscillating"  # overshoots, sign flips, still converges
    return "diverging"  # |r| >= 1: never converges (r = -1 bounces forever)


def divergence_threshold(loss: Callable, w0, lo: float, hi: float, steps: int = 200, iterations: int = 60) -> float:
    """The smallest learning rate at which gradient descent *grows* |w| over
    ``steps`` steps, found by bisection (:func:`nnbook.calculus.bisect`) on
    runs of gradient descent (no formula involved). ``lo`` must converge and ``hi`` must not."""
    w0 = jnp.asarray(w0, dtype=jnp.result_type(float))
    start = float(jnp.linalg.norm(w0))

    def grows(eta):
        end = gradient_descent(loss, w0, eta, steps)[-1]
        return not bool(jnp.linalg.norm(end) <= start)  # NaN counts as growing

    if grows(lo) or not grows(hi):
        raise ValueError(f"bisection needs a converging lo ({lo}) and a diverging hi ({hi}).")
    return bisect(grows, lo, hi, iterations)


def condition_number(A) -> float:
    """kappa = largest / smallest eigenvalue of a symmetric positive definite matrix."""
    return float(_eigenvalue_ratio(jnp.asarray(A)))


@jax.jit
def _eigenvalue_ratio(A):
    eig = jnp.linalg.eigvalsh(A)
    return eig[-1] / eig[0]


def tuned_plain(lambda_min: float, lambda_max: float) -> tuple[float, float]:
    """Best fixed learning rate for plain GD on a quadratic with curvatures in
    [lambda_min, lambda_max], and its rate per step: eta = 2/(lambda_min+lambda_max), rate
    (kappa-1)/(kappa+1) with kappa = lambda_max/lambda_min."""
    kappa = lambda_max / lambda_min
    return 2.0 / (lambda_min + lambda_max), (kappa - 1.0) / (kappa + 1.0)


def tuned_momentum(lambda_min: float, lambda_max: float) -> tuple[float, float, float]:
    """Polyak's tuned heavy ball for curvatures in [lambda_min, lambda_max]: learning rate
    4/(sqrt(lambda_max)+sqrt(lambda_min))^2, momentum ((sqrt(kappa)-1)/(sqrt(kappa)+1))^2,
    and its rate per step (sqrt(kappa)-1)/(sqrt(kappa)+1)."""
    s = (lambda_max**0.5 - lambda_min**0.5) / (lambda_max**0.5 + lambda_min**0.5)
    return 4.0 / (lambda_max**0.5 + lambda_min**0.5) ** 2, s**2, s


@jax.jit
def momentum_matrix(learning_rate, momentum, curvature):
    """The 2 x 2 matrix R of heavy-ball momentum on L(w) = curvature * w^2 / 2:
    (w_{k+1}, v_{k+1}) = R (w_k, v_k), since v_{k+1} = beta v_k - eta lambda w_k
    and w_{k+1} = w_k + v_{k+1}. Broadcasts: arrays in, a stack of matrices out."""
    eta_lambda, beta = jnp.broadcast_arrays(jnp.asarray(learning_rate * curvature, dtype=jnp.result_type(float)),
                                            jnp.asarray(momentum, dtype=jnp.result_type(float)))
    return jnp.stack([jnp.stack([1 - eta_lambda, beta], -1), jnp.stack([-eta_lambda, beta], -1)], -2)


@jax.jit
def momentum_rate(learning_rate, momentum, curvatures):
    """The predicted contraction per step of the heavy ball on a quadratic with
    these curvatures: the largest modulus of an eigenvalue of R (its spectral
    radius), over the curvatures; 1 or more means no convergence. Learning rate
    and momentum may be arrays of one shape (a grid): one rate per setting."""
    eta, beta = jnp.asarray(learning_rate)[..., None], jnp.asarray(momentum)[..., None]
    eigenvalues = jnp.linalg.eigvals(momentum_matrix(eta, beta, jnp.asarray(curvatures)))
    return jnp.max(jnp.abs(eigenvalues), axis=(-2, -1))


def measured_rate(trajectory, w_star, start: int, stop: int) -> float:
    """Contraction per step measured on a trajectory,
    (|w_stop - w*| / |w_start - w*|)^(1 / (stop - start))."""
    return float(_measured_rate(jnp.asarray(trajectory), jnp.asarray(w_star), start, stop))


@jax.jit
def _measured_rate(trajectory, w_star, start, stop):
    error = jnp.linalg.norm(trajectory - w_star, axis=-1)
    return (error[stop] / error[start]) ** (1.0 / (stop - start))


def steps_to_reach(trajectory, w_star, tolerance: float) -> int:
    """First step k with |w_k - w*| <= tolerance * |w_0 - w*| (-1 if never)."""
    return int(_steps_to_reach(jnp.asarray(trajectory), jnp.asarray(w_star), tolerance))


@jax.jit
def _steps_to_reach(trajectory, w_star, tolerance):
    error = jnp.linalg.norm(trajectory - w_star, axis=-1)
    reached = error <= tolerance * error[0]
    return jnp.where(reached.any(), jnp.argmax(reached), -1)


# ----------------------------------------------------------------------------
# A sweep: one compiled, vectorised call over a grid of settings
# ----------------------------------------------------------------------------


@partial(jax.jit, static_argnames=("loss", "steps"),
         compiler_options=OPTIMISED)  # timed in chapter 4
def final_loss_grid(loss: Callable, w0, learning_rates, momenta, steps: int):
    """Loss after ``steps`` heavy-ball steps for every (learning rate, momentum)
    pair: an array of shape (len(learning_rates), len(momenta)).
    ``jax.vmap`` twice over one run; ``lax.scan`` inside the run."""

    def final(eta, beta):
        return loss(momentum_descent(loss, w0, eta, beta, steps)[-1])

    def row(eta):  # one learning rate, every momentum
        return jax.vmap(lambda beta: final(eta, beta))(momenta)

    return jax.vmap(row)(learning_rates)


# ----------------------------------------------------------------------------
# Stochastic (mini-batch) gradient descent for least squares
# ----------------------------------------------------------------------------


def mean_squared_error(w, X, y):
    """L(w) = 1/(2n) sum_i (x_i . w - y_i)^2."""
    residual = X @ w - y
    return 0.5 * jnp.mean(residual**2)


def least_squares_solution(X, y):
    """The exact minimiser of :func:`mean_squared_error` (normal equations)."""
    return jnp.linalg.solve(X.T @ X, X.T @ y)


@partial(jax.jit, static_argnames=("steps", "max_batch"))
def minibatch_sgd(key, X, y, w0, learning_rate, batch_size, steps: int, max_batch: int):
    """Mini-batch SGD on :func:`mean_squared_error`, returning all iterates.

    Each step draws ``max_batch`` example indices (with replacement) from its own
    key and averages the gradient over the first ``batch_size`` of them, so the
    batch size is a traced value: one compiled program serves every batch size a
    slider can choose, and batch size b uses exactly b examples per step.
    """
    n = X.shape[0]
    mask = (jnp.arange(max_batch) < batch_size).astype(X.dtype)

    def batch_loss(w, idx):
        residual = X[idx] @ w - y[idx]
        return 0.5 * jnp.sum(mask * residual**2) / jnp.sum(mask)

    grad = jax.grad(batch_loss)

    def step(w, step_key):
        idx = jax.random.randint(step_key, (max_batch,), 0, n)
        w = w - learning_rate * grad(w, idx)
        return w, w

    w0 = jnp.asarray(w0, dtype=X.dtype)
    _, ws = jax.lax.scan(step, w0, jax.random.split(key, steps))
    return jnp.concatenate([w0[None], ws])


# ----------------------------------------------------------------------------
# The chapter's three problems (drawn by nnbook.descent_figures)
# ----------------------------------------------------------------------------

# Losses are created once: jit caches compiled code per function object.
QUADRATIC_CURVATURES = (1.0, 9.0)  # lambda_min and lambda_max: condition number 9
quadratic_loss = quadratic(jnp.diag(jnp.array(QUADRATIC_CURVATURES)))
QUADRATIC_START = (-4.0, 1.5)
QUADRATIC_MINIMUM = (0.0, 0.0)
ROSENBROCK_START = (-1.2, 1.0)
ROSENBROCK_MINIMUM = (1.0, 1.0)

SGD_FEATURES = ("bmi", "s5")
SGD_START = (-0.5, 1.2)
SGD_MAX_BATCH = 256  # the largest batch a run can use: one compiled program for every batch size


class SGDProblem(NamedTuple):
    """Least squares on two standardised diabetes features, with its exact
    answer; ``key`` draws the mini-batches. Build it with :func:`sgd_problem`."""

    key: jax.Array
    X: jax.Array
    y: jax.Array
    feature_names: tuple[str, ...]
    w_star: jax.Array
    best_loss: jax.Array
    loss: Callable  # w -> mean_squared_error(w, X, y): one function object, compiled once


def sgd_problem(key) -> SGDProblem:
    from nnbook.data import diabetes  # scikit-learn's data: imported only when needed

    data = diabetes(SGD_FEATURES)
    X, y = data.X, data.y
    w_star = least_squares_solution(X, y)
    return SGDProblem(key, X, y, data.feature_names, w_star, mean_squared_error(w_star, X, y),
                      lambda w: mean_squared_error(w, X, y))


# the SGD figure runs minibatch_sgd on every slider move: its own optimised program
_minibatch_sgd_optimised = optimised(minibatch_sgd, static_argnames=("steps", "max_batch"))


def sgd_trajectory(problem: SGDProblem, batch_size, learning_rate, steps: int):
    """The SGD run of ``problem`` from ``SGD_START``: ``steps + 1`` iterates."""
    return _minibatch_sgd_optimised(problem.key, problem.X, problem.y, jnp.array(SGD_START), learning_rate, batch_size,
                         steps, SGD_MAX_BATCH)
