"""A multilayer perceptron in pure JAX, and its backward pass written by hand.

Taught in the chapter "Backpropagation: the chain rule, run backwards"
(chapters/05_backpropagation.ipynb). Parameters are a list of layers, each a
dict ``{"W": (fan_out, fan_in), "b": (fan_out,)}``, so that one example goes
through a layer as ``z = W a + b`` and a batch of examples (one per row) as
``Z = A W^T + b``. Randomness comes only from explicit keys.

The layer, the loss, the accuracy and the gradient-descent routine are the
ones taught earlier (``dense``, ``accuracy`` and ``gradient_descent`` in
chapter 1, ``mean_cross_entropy`` in chapter 2), reused here by name.
"""

from __future__ import annotations

import math
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from nnbook import OPTIMISED  # compiled with LLVM's optimisations: runs long (nnbook/__init__.py)
from nnbook.activations import softmax  # taught in chapter 2
from nnbook.losses import mean_cross_entropy, one_hot  # taught in chapter 3
from nnbook.neurons import accuracy, dense, gradient_descent  # taught in chapter 1

# ----------------------------------------------------------------------------
# Random numbers: jax.random's, from one compiled program for every shape
# ----------------------------------------------------------------------------

DRAW_SIZES = (2**12, 2**21)  # the lengths of the flat draws (one program each)
SPLIT_KEYS = 16  # the most keys split() gives


@partial(jax.jit, static_argnames=("size",))
def _flat_normal(key_data, size):
    return jax.random.normal(jax.random.wrap_key_data(key_data), (size,))


@jax.jit
def _split_all(key):
    return jax.random.split(key, SPLIT_KEYS)


def normal(key, shape) -> jax.Array:
    """``jax.random.normal(key, shape)``: the same numbers, but from one
    compiled program for every shape (with up to 2^21 numbers).

    Why it can: JAX's generator is counter-based, element i of a draw is a
    function of the key and i alone, so the numbers of any shape are the
    first ones of a longer flat draw from the same key. Why it is worth it:
    ``jax.random.normal`` compiles a program for each new shape, and each
    took about 0.4 s on two cores (the generator is a long chain of integer
    operations): drawn shape by shape, this chapter's random numbers cost
    more compile time than its training runs."""
    size = math.prod(shape)
    if not jax.config.jax_threefry_partitionable:  # the counters differ: no shortcut
        return jax.random.normal(key, shape)
    if size > DRAW_SIZES[-1]:
        raise ValueError(f"normal() draws at most {DRAW_SIZES[-1]} numbers at once, asked for {shape}")
    length = next(n for n in DRAW_SIZES if size <= n)
    # cut in NumPy and moved back with device_put: jnp would compile a program per shape
    return jax.device_put(np.asarray(_flat_normal(jax.random.key_data(key), length))[:size].reshape(shape))


def split(key, num: int = 2) -> list:
    """``list(jax.random.split(key, num))`` for ``num`` up to 16, from one
    compiled program: the first ``num`` keys of ``jax.random.split(key, 16)``
    (counter-based, as in :func:`normal`)."""
    if not jax.config.jax_threefry_partitionable or num > SPLIT_KEYS:
        return list(jax.random.split(key, num))
    return [jax.random.wrap_key_data(k) for k in np.asarray(jax.random.key_data(_split_all(key)))[:num]]


# ----------------------------------------------------------------------------
# The network: parameters, forward pass, loss
# ----------------------------------------------------------------------------


def init_mlp(key, sizes, scale=1.0):
    """Layers for ``sizes = (inputs, hidden..., outputs)`` (a tuple): weights drawn from
    N(0, scale^2 / fan_in), biases zero. ``scale = 1`` keeps the variance of
    ``W a`` equal to that of ``a`` at the start (LeCun's initialisation).
    (The arithmetic is NumPy's: jnp would compile a program for each shape.)"""
    layers = []
    for k, fan_in, fan_out in zip(split(key, len(sizes) - 1), sizes[:-1], sizes[1:]):
        W = scale * np.asarray(normal(k, (fan_out, fan_in))) / math.sqrt(fan_in)
        layers.append({"W": jax.device_put(W), "b": jax.device_put(np.zeros(fan_out, W.dtype))})
    return layers


def forward(params, X, activation=jnp.tanh):
    """Logits for a batch ``X`` of shape (n, inputs): every layer but the last
    is followed by ``activation``; the last one is linear."""
    A = X
    for layer in params[:-1]:
        A = dense(layer["W"], layer["b"], A, activation)
    last = params[-1]
    return dense(last["W"], last["b"], A)


@jax.jit
def loss(params, X, labels):
    """The training loss: softmax cross-entropy of the network's logits, the
    mean over the batch of -log p(correct class)."""
    return mean_cross_entropy(forward(params, X), labels)


grad_loss = jax.jit(jax.grad(loss))  # autodiff's gradient, for networks of any depth


@jax.jit
def predict(params, X):
    """The class with the largest logit, for each row of X."""
    return jnp.argmax(forward(params, X), axis=-1)


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
        return mean_cross_entropy(A @ last["W"].T + last["b"] + taps[-1], labels)

    taps = [jnp.zeros((X.shape[0], layer["W"].shape[0])) for layer in params]
    return jax.grad(loss_of_taps)(taps)


# ----------------------------------------------------------------------------
# Training: full-batch gradient descent, every step kept
# ----------------------------------------------------------------------------

@partial(jax.jit, static_argnames=("steps", "gradient"))
def train(params, X, labels, learning_rate, steps: int, gradient=backward):
    """``steps`` steps of gradient descent (:func:`nnbook.neurons.gradient_descent`),
    w <- w - learning_rate * gradient, with the gradient written by hand
    (:func:`backward`) unless another is given. Returns the parameters after
    every step, stacked along a new leading axis of length ``steps + 1``
    (index 0: the start)."""
    return gradient_descent(lambda p: loss(p, X, labels), params, learning_rate, steps,
                            gradient=lambda p: gradient(p, X, labels))


@jax.jit
def at_step(history, k):
    """The parameters after step ``k`` of a :func:`train` history."""
    return jax.tree.map(lambda ws: ws[k], history)


@jax.jit
def loss_curve(history, X, labels):
    """:func:`loss` after every step of a :func:`train` history."""
    return jax.vmap(loss, in_axes=(0, None, None))(history, X, labels)


@jax.jit
def accuracy_curve(history, X, labels):
    """Test accuracy after every step of a :func:`train` history."""
    return jax.vmap(lambda params: accuracy(predict(params, X), labels))(history)


# ----------------------------------------------------------------------------
# A loss of n weights, to measure what a gradient costs
# ----------------------------------------------------------------------------


def tanh_unit_loss(n: int, key):
    """A loss of n weights to measure gradients on: the squared error of one
    tanh unit on n random examples x_i (the rows of X) with targets t_i,
    L(w) = 1/(2n) sum_i (tanh(x_i . w) - t_i)^2. One evaluation costs about
    2 n^2 floating-point operations (the product X w); see
    :mod:`nnbook.xla_cost` for counting them."""
    k_x, k_t = split(key)
    X = normal(k_x, (n, n)) / jnp.sqrt(n)
    t = normal(k_t, (n,))
    return lambda w: 0.5 * jnp.mean((jnp.tanh(X @ w) - t) ** 2)


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


@partial(jax.jit, compiler_options=OPTIMISED)
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
