"""A multilayer perceptron in pure JAX, and its backward pass written by hand.

Taught in the chapter "Backpropagation: the chain rule, run backwards"
(chapters/05_backpropagation.ipynb). Parameters are a list of layers, each a
dict ``{"W": (fan_out, fan_in), "b": (fan_out,)}``, so that one example goes
through a layer as ``z = W a + b`` and a batch of examples (one per row) as
``Z = A W^T + b``. Randomness comes only from explicit keys.

The activation and loss functions here are the minimal ones this chapter
needs (tanh, softmax cross-entropy); the chapter on activations and losses
treats them, and their alternatives, in full.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

# Taught in chapter 2 (activations and losses); reused here by name.
from nnbook.activations import log_softmax, softmax
from nnbook.losses import one_hot

# ----------------------------------------------------------------------------
# The network: parameters, forward pass, loss
# ----------------------------------------------------------------------------


@partial(jax.jit, static_argnames=("sizes",))
def init_mlp(key, sizes, scale=1.0):
    """Layers for ``sizes = (inputs, hidden..., outputs)`` (a tuple): weights drawn from
    N(0, scale^2 / fan_in), biases zero. ``scale = 1`` keeps the variance of
    ``W a`` equal to that of ``a`` at the start (LeCun's initialisation)."""
    keys = jax.random.split(key, len(sizes) - 1)
    return [
        {"W": scale * jax.random.normal(k, (fan_out, fan_in)) / jnp.sqrt(fan_in), "b": jnp.zeros(fan_out)}
        for k, fan_in, fan_out in zip(keys, sizes[:-1], sizes[1:])
    ]


def forward(params, X, activation=jnp.tanh):
    """Logits for a batch ``X`` of shape (n, inputs): every layer but the last
    is followed by ``activation``; the last one is linear."""
    A = X
    for layer in params[:-1]:
        A = activation(A @ layer["W"].T + layer["b"])
    last = params[-1]
    return A @ last["W"].T + last["b"]


def cross_entropy(logits, labels):
    """Mean over the batch of -log p(correct class)."""
    return -jnp.mean(jnp.take_along_axis(log_softmax(logits), labels[:, None], axis=1))


@jax.jit
def loss(params, X, labels):
    """The training loss: softmax cross-entropy of the network's logits."""
    return cross_entropy(forward(params, X), labels)


grad_loss = jax.jit(jax.grad(loss))  # autodiff's gradient, for networks of any depth


def predict(params, X):
    return jnp.argmax(forward(params, X), axis=-1)


@jax.jit
def accuracy(params, X, labels):
    return jnp.mean((predict(params, X) == labels).astype(jnp.result_type(float)))


# ----------------------------------------------------------------------------
# Backpropagation by hand, for one hidden layer
# ----------------------------------------------------------------------------


@jax.jit
def backward_example(params, x, label):
    """Gradient of -log p(label | x) for ONE example ``x`` (shape
    (inputs,)), for a network with one tanh hidden layer:

        z1 = W1 x + b1,  a1 = tanh(z1),  z2 = W2 a1 + b2,  p = softmax(z2)
        delta2 = p - y              (dL/dz2; y is the one-hot label)
        dW2 = delta2 a1^T,  db2 = delta2
        delta1 = (W2^T delta2) * (1 - a1^2)   (dL/dz1)
        dW1 = delta1 x^T,   db1 = delta1
    """
    (l1, l2) = params
    # forward, keeping what the backward pass needs
    z1 = l1["W"] @ x + l1["b"]
    a1 = jnp.tanh(z1)
    z2 = l2["W"] @ a1 + l2["b"]
    p = softmax(z2)
    # backward, from the loss to the input
    delta2 = p - one_hot(label, z2.shape[0])
    delta1 = (l2["W"].T @ delta2) * (1.0 - a1**2)
    return [
        {"W": jnp.outer(delta1, x), "b": delta1},
        {"W": jnp.outer(delta2, a1), "b": delta2},
    ]


@jax.jit
def backward(params, X, labels):
    """Gradient of :func:`loss` (the batch MEAN) for a network with
    one tanh hidden layer: :func:`backward_example` for all n rows of
    ``X`` at once. Each delta becomes a matrix with one row per
    example, and the sum over examples of the outer products
    ``delta a^T`` becomes ``Delta^T A``."""
    (l1, l2) = params
    n = X.shape[0]
    Z1 = X @ l1["W"].T + l1["b"]  # (n, hidden)
    A1 = jnp.tanh(Z1)  # (n, hidden)
    Z2 = A1 @ l2["W"].T + l2["b"]  # (n, classes)
    P = softmax(Z2)  # (n, classes)
    Delta2 = (P - one_hot(labels, Z2.shape[1])) / n  # dL/dZ2 (mean: 1/n)
    Delta1 = (Delta2 @ l2["W"]) * (1.0 - A1**2)  # dL/dZ1, (n, hidden)
    return [
        {"W": Delta1.T @ X, "b": Delta1.sum(axis=0)},
        {"W": Delta2.T @ A1, "b": Delta2.sum(axis=0)},
    ]


@partial(jax.jit, static_argnames=("activation",))
def layer_deltas(params, X, labels, activation=jnp.tanh):
    """dL/dz for every layer of a network of any depth, one row per example:
    the signals backpropagation sends backwards (:func:`loss` is the mean
    over the batch, so each row carries a factor 1/n).

    The trick: add a zero "tap" to every pre-activation z and differentiate
    with respect to the taps; dL/d(tap) = dL/dz, because z + tap moves with tap
    exactly as z does."""

    def loss_of_taps(taps):
        A = X
        for layer, tap in zip(params[:-1], taps[:-1]):
            A = activation(A @ layer["W"].T + layer["b"] + tap)
        last = params[-1]
        return cross_entropy(A @ last["W"].T + last["b"] + taps[-1], labels)

    taps = [jnp.zeros((X.shape[0], layer["W"].shape[0])) for layer in params]
    return jax.grad(loss_of_taps)(taps)


# ----------------------------------------------------------------------------
# Training: full-batch gradient descent, every step kept
# ----------------------------------------------------------------------------

@partial(jax.jit, static_argnames=("steps", "gradient"))
def train(params, X, labels, learning_rate, steps: int, gradient=backward):
    """``steps`` steps of gradient descent, w <- w - learning_rate *
    gradient, inside one ``lax.scan``. Returns the parameters after
    every step, stacked along a new leading axis of length
    ``steps + 1`` (index 0: the start)."""

    def step(p, _):
        g = gradient(p, X, labels)
        p = jax.tree.map(lambda w, dw: w - learning_rate * dw, p, g)
        return p, p

    _, history = jax.lax.scan(step, params, None, length=steps)
    prepend = lambda w0, ws: jnp.concatenate([w0[None], ws])
    return jax.tree.map(prepend, params, history)


def at_step(history, k):
    """The parameters after step ``k`` of a :func:`train` history."""
    return jax.tree.map(lambda ws: ws[k], history)


@jax.jit
def loss_curve(history, X, labels):
    """:func:`loss` after every step of a :func:`train` history."""
    return jax.vmap(loss, in_axes=(0, None, None))(history, X, labels)


@jax.jit
def accuracy_curve(history, X, labels):
    return jax.vmap(accuracy, in_axes=(0, None, None))(history, X, labels)


# ----------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------


@partial(jax.jit, static_argnames=("n",))
def moons(key, n: int, noise: float = 0.2):
    """Two interleaving half circles in the plane, as in scikit-learn's
    ``make_moons``, drawn with a JAX key: n // 2 points of class 0 on the
    upper arc (cos t, sin t), the rest of class 1 on the lower arc
    (1 - cos t, 1/2 - sin t), t uniform in [0, pi], plus Gaussian noise."""
    k_angle, k_noise = jax.random.split(key)
    labels = (jnp.arange(n) >= n // 2).astype(jnp.int32)
    t = jax.random.uniform(k_angle, (n,), maxval=jnp.pi)
    upper = jnp.stack([jnp.cos(t), jnp.sin(t)], axis=1)
    lower = jnp.stack([1.0 - jnp.cos(t), 0.5 - jnp.sin(t)], axis=1)
    X = jnp.where(labels[:, None] == 0, upper, lower)
    return X + noise * jax.random.normal(k_noise, X.shape), labels


def digits(key, test_fraction: float = 0.25):
    """scikit-learn's handwritten digits (1797 images of 8 x 8 pixels, 10
    classes; installed with scikit-learn, nothing is downloaded), pixels
    scaled to [0, 1], split at random into train and test sets.
    Returns ``(X_train, y_train, X_test, y_test)``."""
    from sklearn.datasets import load_digits

    data = load_digits()
    X = jnp.asarray(data.data / 16.0)
    y = jnp.asarray(data.target.astype(np.int32))
    order = jax.random.permutation(key, X.shape[0])
    n_test = int(round(test_fraction * X.shape[0]))
    test, train_ = order[:n_test], order[n_test:]
    return X[train_], y[train_], X[test], y[test]


# ----------------------------------------------------------------------------
# One run per hidden width, all in one compiled call
# ----------------------------------------------------------------------------

WIDTH_LEARNING_RATE = 1.0
WIDTH_STEPS = 2000
MAX_WIDTH = 16
CURVE_EVERY = 50  # learning curves are kept every 50 steps (and more often at the start,
# where the loss falls fastest)
CURVE_STEPS = np.concatenate([[0, 5, 10, 20, 30, 40], np.arange(CURVE_EVERY, WIDTH_STEPS + 1, CURVE_EVERY)])


def first_units(params, width):
    """The first ``width`` hidden units of a one-hidden-layer network with
    ``MAX_WIDTH`` units, as a network that still has ``MAX_WIDTH`` units: the
    others get zero weights in and out. The outgoing weights are scaled by
    sqrt(MAX_WIDTH / width), so that they are distributed as
    ``init_mlp(key, (2, width, 2))`` draws them, N(0, 1 / width).

    Gradient descent keeps the switched-off units at zero: tanh(0) = 0, so
    their outgoing weights get the gradient delta2 * 0, and their deltas are
    (W2^T delta2) * (1 - 0) with zero columns of W2, so their incoming weights
    and biases get gradient 0. The padded run IS the run of the narrow
    network, and since ``width`` is a traced number, not a shape, every width
    shares one compiled program."""
    keep = (jnp.arange(MAX_WIDTH) < width).astype(params[0]["W"].dtype)
    (l1, l2) = params
    return [
        {"W": l1["W"] * keep[:, None], "b": l1["b"] * keep},
        {"W": l2["W"] * keep[None, :] * jnp.sqrt(MAX_WIDTH / width), "b": l2["b"]},
    ]


def learning_curves(history, X, labels, X_test, labels_test):
    """Training loss, test loss and test accuracy of a stack of parameters."""
    return (loss_curve(history, X, labels), loss_curve(history, X_test, labels_test),
            accuracy_curve(history, X_test, labels_test))


@jax.jit
def train_all_widths(params, X, labels, X_test, labels_test, learning_rate):
    """The run of every width 1..MAX_WIDTH in one compiled, vmapped call, with
    its learning curves at ``CURVE_STEPS`` (evaluating all 2001 steps of 16
    runs on the test set would cost more than the training)."""
    widths = jnp.arange(1, MAX_WIDTH + 1)
    history = jax.vmap(lambda w: train(first_units(params, w), X, labels, learning_rate, WIDTH_STEPS))(widths)
    sampled = jax.tree.map(lambda h: h[:, CURVE_STEPS], history)
    curves = jax.vmap(lambda h: learning_curves(h, X, labels, X_test, labels_test))(sampled)
    return history, curves


class WidthRuns(NamedTuple):
    """The two-layer network trained on one data set at every hidden width
    1..MAX_WIDTH, every step kept. The network with ``width`` units starts
    from the first ``width`` units of ``init_mlp(init_key, (2, MAX_WIDTH,
    2))`` (see :func:`first_units`): the widths are nested. Build it with
    :func:`train_widths`."""

    X: jax.Array
    labels: jax.Array
    X_test: jax.Array
    labels_test: jax.Array
    init: list
    history: list  # the parameters, each leaf (MAX_WIDTH, WIDTH_STEPS + 1, ...)
    curves: tuple  # (train loss, test loss, test accuracy), each (MAX_WIDTH, len(CURVE_STEPS))


def train_widths(X, labels, X_test, labels_test, init_key) -> WidthRuns:
    init = init_mlp(init_key, (2, MAX_WIDTH, 2))
    history, curves = train_all_widths(init, X, labels, X_test, labels_test, WIDTH_LEARNING_RATE)
    return WidthRuns(X, labels, X_test, labels_test, init, history, tuple(np.asarray(c) for c in curves))


def width_params(runs: WidthRuns, width: int, step: int):
    """The network of ``width`` hidden units after ``step`` steps, without
    the switched-off units (``step = 0``: its initialisation)."""
    (l1, l2) = jax.tree.map(lambda h: h[width - 1, step], runs.history)
    return [{"W": l1["W"][:width], "b": l1["b"][:width]}, {"W": l2["W"][:, :width], "b": l2["b"]}]
