"""Loss functions, their gradients by hand, and the chapter's experiments.

Taught in chapter 3, "Loss functions" (chapters/03_losses.ipynb). Losses are
written *per example*
(average them over a data set yourself) and take *logits*, the unsquashed
outputs z of a model, rather than probabilities: from logits they can be
computed stably, with ``softplus`` and ``logsumexp`` from
:mod:`nnbook.activations`.
"""

from __future__ import annotations

import math
from functools import partial

import jax
import jax.numpy as jnp

from nnbook import OPTIMISED  # compiled with LLVM's optimisations: runs long (nnbook/__init__.py)
from nnbook.activations import log_softmax, sigmoid, sigmoid_naive, softmax, softplus
from nnbook.data import Digits
from nnbook.neurons import accuracy, dense, gradient_descent  # taught in chapter 1

# ----------------------------------------------------------------------------
# regression
# ----------------------------------------------------------------------------


def squared_error(prediction, target):
    """(prediction - target)^2 / 2; the 1/2 makes its gradient prediction - target
    (the convention of the gradient-descent chapter too)."""
    return 0.5 * (prediction - target) ** 2


def gaussian_nll(prediction, target, sigma):
    """-log N(target; prediction, sigma^2) = log(2 pi sigma^2)/2 + (target - prediction)^2 / (2 sigma^2):
    a constant plus the squared error divided by sigma^2."""
    return 0.5 * jnp.log(2.0 * math.pi * sigma**2) + squared_error(prediction, target) / sigma**2


def absolute_error(prediction, target):
    """|prediction - target|: the loss of the median, not of the mean."""
    return jnp.abs(prediction - target)


def laplace_nll(prediction, target, scale):
    """-log of the Laplace density e^{-|r| / s} / (2 s), r = target - prediction:
    log(2 s) + |r| / s, a constant plus the absolute error divided by s."""
    return jnp.log(2.0 * scale) + absolute_error(prediction, target) / scale


def huber(prediction, target, delta=1.0):
    """Huber's loss: r^2 / 2 for |r| <= delta (a Gaussian core), delta (|r| - delta / 2)
    beyond (a Laplace tail); the two pieces meet with the same value and slope at |r| = delta."""
    r = jnp.abs(prediction - target)
    return jnp.where(r <= delta, 0.5 * r**2, delta * (r - 0.5 * delta))


@jax.jit  # one compiled program when called eagerly (inlined inside another jit)
def huber_gradient(prediction, target, delta=1.0):
    """d huber / d prediction = the residual clipped to [-delta, delta]: an
    outlier pulls no harder than delta, however far away it is."""
    return jnp.clip(prediction - target, -delta, delta)


# Iteratively reweighted least squares. Setting the gradient of sum_i rho(r_i),
# r_i = x_i . w - y_i, to zero gives sum_i rho'(r_i) x_i = 0, which is
# sum_i v_i r_i x_i = 0 with v_i = rho'(r_i) / r_i: the normal equations of a
# least-squares fit in which example i has weight v_i. Solve them, recompute
# the weights from the new residuals, repeat.
IRLS_WEIGHTS = {
    "squared error": lambda r, delta: jnp.ones_like(r),  # rho' = r: every weight 1, one step is exact
    "absolute error": lambda r, delta: 1.0 / jnp.maximum(jnp.abs(r), 1e-9),  # rho' = sign r
    "Huber": lambda r, delta: jnp.minimum(1.0, delta / jnp.maximum(jnp.abs(r), 1e-300)),  # rho' = clip(r)
}
ROBUST_LOSSES = tuple(IRLS_WEIGHTS)


@partial(jax.jit, static_argnames=("outliers",))
def corrupt(y, size, outliers: int = 3):
    """The targets with ``size`` added to the last ``outliers`` of them (the
    rightmost points, when the inputs are sorted)."""
    return jnp.asarray(y).at[-outliers:].add(size)


@jax.jit
def least_squares(X, y, weights=None):
    """The w minimising sum_i v_i (x_i . w - y_i)^2 (all v_i = 1 by default),
    by ``jnp.linalg.lstsq`` on the rows scaled by sqrt(v_i)."""
    s = jnp.ones_like(y) if weights is None else jnp.sqrt(weights)
    w, *_ = jnp.linalg.lstsq(X * s[:, None], y * s)
    return w


@partial(jax.jit, static_argnames=("loss_name", "steps"))
def fit_line(loss_name: str, X, y, delta=1.0, steps: int = 100):
    """The w minimising the mean loss of the residuals X w - y, by
    iteratively reweighted least squares from the least-squares fit."""

    def step(w, _):
        return least_squares(X, y, IRLS_WEIGHTS[loss_name](X @ w - y, delta)), None

    w, _ = jax.lax.scan(step, least_squares(X, y), None, length=steps)
    return w


# ----------------------------------------------------------------------------
# two classes: a logit z, a label y in {0, 1} (or a target probability in [0, 1])
# ----------------------------------------------------------------------------


def binary_cross_entropy(logit, label):
    """-[y log sigma(z) + (1 - y) log(1 - sigma(z))] with log sigma(z) = -softplus(-z)
    and log(1 - sigma(z)) = -softplus(z): y softplus(-z) + (1 - y) softplus(z).
    Stable for every z (no log of 0), and no cancellation: both terms are >= 0.
    (It equals softplus(z) - y z, a common but less accurate way to write it:
    for z = 40, y = 1 that difference rounds to 0 instead of 4.2e-18.)"""
    return label * softplus(-logit) + (1.0 - label) * softplus(logit)


def binary_cross_entropy_naive(logit, label):
    """The same loss through the probability p = sigma(z): once p rounds to 0
    or 1 (|z| > 37 in float64), a log(0) makes it inf or NaN."""
    p = sigmoid_naive(logit)
    return -(label * jnp.log(p) + (1.0 - label) * jnp.log(1.0 - p))


@jax.jit  # one compiled program when called eagerly (inlined inside another jit)
def binary_cross_entropy_gradient(logit, label):
    """d/dz [y softplus(-z) + (1 - y) softplus(z)] = -y sigma(-z) + (1 - y) sigma(z) = sigma(z) - y = p - y."""
    return sigmoid(logit) - label


def sigmoid_squared_error(logit, label):
    """Squared error on the probability, (sigma(z) - y)^2 / 2."""
    return squared_error(sigmoid(logit), label)


@jax.jit  # one compiled program when called eagerly (inlined inside another jit)
def sigmoid_squared_error_gradient(logit, label):
    """Chain rule: (p - y) * sigma'(z) = (p - y) p (1 - p). The factor
    p (1 - p) <= 1/4 vanishes when the model is confident, right or wrong."""
    p = sigmoid(logit)
    return (p - label) * p * (1.0 - p)


def hinge(logit, label):
    """max(0, 1 - t z) with t = 2y - 1 in {-1, +1}: zero once the example is
    on the right side with margin 1 (support vector machines)."""
    t = 2.0 * label - 1.0
    return jnp.maximum(0.0, 1.0 - t * logit)


def hinge_gradient(logit, label):
    """-t where t z < 1, else 0 (at the kink t z = 1 we pick 0)."""
    t = 2.0 * label - 1.0
    return jnp.where(t * logit < 1.0, -t, 0.0)


# ----------------------------------------------------------------------------
# K classes: a vector of logits z, a one-hot (or probability) target y
# ----------------------------------------------------------------------------


def one_hot(labels, classes: int):
    return jax.nn.one_hot(labels, classes, dtype=jnp.result_type(float))


def cross_entropy(logits, target):
    """-sum_k y_k log softmax(z)_k, computed with log_softmax
    (= z - logsumexp(z)): for a one-hot y, logsumexp(z) - z_label."""
    return -jnp.sum(target * log_softmax(logits), axis=-1)


def mean_cross_entropy(logits, labels):
    """The training loss of a classifier: :func:`cross_entropy` averaged over a
    batch (one row of logits per example) whose labels are integers 0..K-1.
    Taught in chapter 3; chapter 5 trains its networks on it."""
    return jnp.mean(cross_entropy(logits, one_hot(labels, logits.shape[-1])))


@jax.jit  # one compiled program when called eagerly (inlined inside another jit)
def cross_entropy_gradient(logits, target):
    """d/dz cross_entropy = softmax(z) - y = p - y (for targets that sum to 1)."""
    return softmax(logits) - target


def softmax_squared_error(logits, target):
    """sum_k (p_k - y_k)^2 / 2 with p = softmax(z): squared error on the probabilities."""
    return jnp.sum(squared_error(softmax(logits), target), axis=-1)


# ----------------------------------------------------------------------------
# Experiment 1: why squared error learns slowly when a sigmoid is confidently wrong
# ----------------------------------------------------------------------------

# Six points on a line, labelled by their sign; the model p = sigma(w x + b)
# starts confidently wrong (w = -3: p is 0.998 for x = -2, whose label is 0).
TINY_X = (-2.0, -1.0, -0.5, 0.5, 1.0, 2.0)
TINY_Y = (0.0, 0.0, 0.0, 1.0, 1.0, 1.0)
TINY_START = (-3.0, 0.0)  # (w, b)
TINY_ERROR_TARGET = 0.2  # "learned": mean |p - y| below this
TINY_LOSSES = ("cross-entropy", "squared error")


@jax.jit  # one compiled program when called eagerly (inlined inside another jit)
def tiny_probabilities(params):
    x = jnp.asarray(TINY_X)
    return sigmoid(params[0] * x + params[1])


def tiny_cross_entropy(params):
    x, y = jnp.asarray(TINY_X), jnp.asarray(TINY_Y)
    return jnp.mean(binary_cross_entropy(params[0] * x + params[1], y))


def tiny_squared_error(params):
    x, y = jnp.asarray(TINY_X), jnp.asarray(TINY_Y)
    return jnp.mean(sigmoid_squared_error(params[0] * x + params[1], y))


TINY_LOSS_FUNCTIONS = {"cross-entropy": tiny_cross_entropy, "squared error": tiny_squared_error}


def tiny_error(trajectory):
    """Mean |p - y| of every iterate: one yardstick for both losses."""
    return jnp.mean(jnp.abs(jax.vmap(tiny_probabilities)(trajectory) - jnp.asarray(TINY_Y)), axis=-1)


def first_step_below(values, threshold):
    """First index with values <= threshold, or -1 if none (JAX, usable under vmap)."""
    below = values <= threshold
    return jnp.where(below.any(), jnp.argmax(below), -1)


def tiny_run(loss_name: str, learning_rate, steps: int):
    """Gradient descent from TINY_START on one of the two losses: all iterates."""
    return gradient_descent(TINY_LOSS_FUNCTIONS[loss_name], jnp.array(TINY_START), learning_rate, steps)


@partial(jax.jit, static_argnames=("loss_name", "steps"))
def tiny_run_diagnostics(loss_name: str, learning_rate, steps: int):
    """A :func:`tiny_run`, its :func:`tiny_error` per step and the size of the
    gradient at every iterate, in one compiled call."""
    run = tiny_run(loss_name, learning_rate, steps)
    gradients = jax.vmap(jax.grad(TINY_LOSS_FUNCTIONS[loss_name]))(run)
    return run, tiny_error(run), jnp.linalg.norm(gradients, axis=1)


@partial(jax.jit, static_argnames=("loss_name", "steps"))
def tiny_steps_to_learn(loss_name: str, learning_rates, steps: int):
    """Steps until mean |p - y| <= TINY_ERROR_TARGET, for each learning rate
    (-1: not within ``steps``): ``jax.vmap`` over the learning rate."""

    def one(eta):
        return first_step_below(tiny_error(tiny_run(loss_name, eta, steps)), TINY_ERROR_TARGET)

    return jax.vmap(one)(jnp.asarray(learning_rates))


# ----------------------------------------------------------------------------
# Experiment 2: a softmax classifier for handwritten digits
# ----------------------------------------------------------------------------


def linear_logits(params, X):
    """A softmax classifier's logits z = W x + b for each row x of X:
    one dense layer (:func:`nnbook.neurons.dense`) with params = (W, b),
    W of shape (classes, inputs)."""
    W, b = params
    return dense(W, b, X)


class DigitsClassifier:
    """A softmax classifier for the digits (:func:`nnbook.data.digits`),
    trainable on either loss. The loss closures are made once, so that ``jit``
    (which keys its cache on the function object) compiles each of them only
    once."""

    CLASSES = 10

    def __init__(self, data: Digits):
        self.data = data
        Y = one_hot(data.y_train, self.CLASSES)
        X = data.X_train
        self.losses = {
            "cross-entropy": lambda params: jnp.mean(cross_entropy(linear_logits(params, X), Y)),
            "squared error": lambda params: jnp.mean(softmax_squared_error(linear_logits(params, X), Y)),
        }
        zeros = jnp.zeros((self.CLASSES, X.shape[1]), dtype=X.dtype)
        self.params0 = (zeros, jnp.zeros(self.CLASSES, dtype=X.dtype))  # (W, b) = 0

    def sweep(self, loss_name: str, learning_rates, steps: int, params0=None):
        """Full-batch gradient descent (:func:`nnbook.neurons.gradient_descent`,
        a ``lax.scan``) at each learning rate, one ``jax.vmap`` lane per rate,
        from ``params0`` (default W = 0, b = 0). Returns every iterate of every
        run: W of shape (rates, steps + 1, 10, 64), b of shape (rates, steps + 1, 10).
        One compiled program per loss and shape, whatever the start."""
        start = self.params0 if params0 is None else params0
        return _sweep(self.losses[loss_name], start, jnp.asarray(learning_rates), steps)

    def predict(self, params, X):
        """The class with the largest logit, for each row of X."""
        return jnp.argmax(linear_logits(params, X), axis=-1)

    def curves(self, runs):
        """Training cross-entropy and test accuracy of every iterate of every run
        of a :meth:`sweep`: two NumPy arrays of shape (rates, steps + 1) (NumPy, so
        that picking numbers out of them compiles nothing)."""
        return jax.device_get(
            _digits_curves(runs, self.data.X_train, self.data.y_train, self.data.X_test, self.data.y_test))


@partial(jax.jit, static_argnames=("loss", "steps"), compiler_options=OPTIMISED)
def _sweep(loss, params0, learning_rates, steps: int):
    return jax.vmap(lambda eta: gradient_descent(loss, params0, eta, steps))(learning_rates)


@jax.jit
def iterate(trajectory, *index):
    """One iterate of a stacked run of (W, b), e.g. ``iterate(runs, 2, -1)``:
    the last step of the third run."""
    return jax.tree.map(lambda a: a[index], trajectory)


@partial(jax.jit, compiler_options=OPTIMISED)
def _digits_curves(runs, X_train, y_train, X_test, y_test):
    def one(params):
        predicted = jnp.argmax(linear_logits(params, X_test), axis=-1)
        return mean_cross_entropy(linear_logits(params, X_train), y_train), accuracy(predicted, y_test)

    return jax.vmap(jax.vmap(one))(runs)  # over the runs, then over the steps of each
