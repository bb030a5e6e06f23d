"""Feedback alignment: backpropagation without weight transport.

Taught in the chapter "Backpropagation: the chain rule, run backwards"
(chapters/05_backpropagation.ipynb), section "What synapses cannot do". The
network, its loss and its hand-written backward pass are those of
:mod:`nnbook.mlp`; feedback alignment changes one line of that backward pass
{Lillicrap et al. 2016, "Random synaptic feedback weights support error
backpropagation for deep learning", Nature Communications 7, 13276}:

    backprop:            delta1 = (W2^T delta2) * (1 - a1^2)
    feedback alignment:  delta1 = (B    delta2) * (1 - a1^2)

where B, of the shape of W2^T, is drawn at random once and never learns.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from nnbook import OPTIMISED  # compiled with LLVM's optimisations: runs long (nnbook/__init__.py)
from nnbook.activations import softmax  # taught in chapter 2
from nnbook.losses import one_hot  # taught in chapter 3
from nnbook.mlp import backward, init_mlp, loss, normal, predict, split  # taught in chapter 5
from nnbook.neurons import accuracy  # taught in chapter 1


@jax.jit
def feedback_alignment_backward(params, B, X, labels):
    """:func:`nnbook.mlp.backward` with the transposed forward weights W2^T of
    the error's way back replaced by a fixed matrix ``B`` (hidden, classes).
    With ``B = W2^T`` it is the gradient of :func:`nnbook.mlp.loss`; with any
    other B it is not the gradient of anything, only an update."""
    (l1, l2) = params
    n = X.shape[0]
    Z1 = X @ l1["W"].T + l1["b"]
    A1 = jnp.tanh(Z1)
    Z2 = A1 @ l2["W"].T + l2["b"]
    # the output error, as in backprop
    Delta2 = (softmax(Z2) - one_hot(labels, Z2.shape[1])) / n
    Delta1 = (Delta2 @ B.T) * (1.0 - A1**2)  # the one change: B instead of W2^T
    return [
        {"W": Delta1.T @ X, "b": Delta1.sum(axis=0)},
        {"W": Delta2.T @ A1, "b": Delta2.sum(axis=0)},
    ]


def angle_degrees(u, v):
    """The angle between two arrays of the same shape, read as flat vectors,
    in degrees: 0 when they point the same way, 90 when orthogonal."""
    u, v = jnp.ravel(u), jnp.ravel(v)
    cosine = jnp.dot(u, v) / (jnp.linalg.norm(u) * jnp.linalg.norm(v))
    return jnp.degrees(jnp.arccos(jnp.clip(cosine, -1.0, 1.0)))


def random_feedback(key, params):
    """A fixed random feedback matrix B for a one-hidden-layer network, of the
    shape of W2^T and drawn as ``init_mlp`` draws W2, N(0, 1 / hidden)."""
    classes, hidden = params[1]["W"].shape
    return normal(key, (hidden, classes)) / jnp.sqrt(hidden)


class Curves(NamedTuple):
    """What one run records after every step (index 0: the start). The angles
    are measured in either run: in a backprop run they say how far feedback
    alignment's update WOULD be from the gradient at backprop's weights."""

    loss: jax.Array  # training loss
    test_accuracy: jax.Array
    update_angle: jax.Array  # angle between the hidden layer's update and -gradient of the loss (dW1)
    weight_angle: jax.Array  # angle between W2^T and B


def curves_of(params, B, X, labels, X_test, labels_test):
    """The four numbers :class:`Curves` records, for the parameters ``params``."""
    fa = feedback_alignment_backward(params, B, X, labels)[0]["W"]
    bp = backward(params, X, labels)[0]["W"]
    return (loss(params, X, labels), accuracy(predict(params, X_test), labels_test),
            angle_degrees(fa, bp), angle_degrees(params[1]["W"].T, B))


def rule_update(params, B, X, labels, use_feedback):
    """One update of either rule, as one formula: backprop IS feedback
    alignment with B = W2^T, so the rule only decides which matrix carries
    the error back (``use_feedback``: B; otherwise: W2^T)."""
    carrier = jnp.where(use_feedback, B, params[1]["W"].T)
    return feedback_alignment_backward(params, carrier, X, labels)


RECORD_EVERY = 10  # the curves are recorded every 10 steps


@partial(jax.jit, static_argnames=("steps",))
def train_rule(params, B, X, labels, X_test, labels_test, learning_rate, steps: int, use_feedback):
    """``steps`` full-batch steps, params <- params - learning_rate * update,
    with :func:`rule_update`, in one ``lax.scan`` (``steps`` a multiple of
    ``RECORD_EVERY``). Returns the final parameters and the :class:`Curves`
    at steps 0, RECORD_EVERY, 2 RECORD_EVERY, ..., steps."""

    def step(p, _):
        return jax.tree.map(lambda w, g: w - learning_rate * g, p, rule_update(p, B, X, labels, use_feedback)), None

    def stretch(p, _):  # measure, then RECORD_EVERY steps
        measured = curves_of(p, B, X, labels, X_test, labels_test)
        return jax.lax.scan(step, p, None, length=RECORD_EVERY)[0], measured

    final, measured = jax.lax.scan(stretch, params, None, length=steps // RECORD_EVERY)
    last = curves_of(final, B, X, labels, X_test, labels_test)
    return final, Curves(*(jnp.concatenate([m, l[None]]) for m, l in zip(measured, last)))


class Comparison(NamedTuple):
    """Backprop and feedback alignment trained from the same initialisations,
    one per seed. Each curve is a NumPy array of shape (seeds, steps / RECORD_EVERY + 1)."""

    steps: np.ndarray  # the step of each recorded point
    backprop: Curves
    feedback: Curves
    final_backprop: list  # the parameters after the last step, each leaf with a leading seed axis
    final_feedback: list


def starts(keys, sizes):
    """The starting point of each seed: a network ``init_mlp(k_init, sizes)``
    (one hidden layer) and a random B, both drawn from the seed's key
    (``k_init, k_feedback = jax.random.split(key)``), stacked along a leading
    seed axis. Drawn outside the training program: random numbers inside a
    vmapped, compiled program made it several times slower to compile."""
    params, feedback = [], []
    for key in keys:
        k_init, k_feedback = split(key)
        params.append(init_mlp(k_init, sizes))
        feedback.append(random_feedback(k_feedback, params[-1]))
    stack = lambda *arrays: jax.device_put(np.stack(arrays))  # jnp.stack: a program per shape
    return jax.tree.map(stack, *params), stack(*feedback)


@partial(jax.jit, static_argnames=("steps",), compiler_options=OPTIMISED)
def train_seeds(params, B, X, labels, X_test, labels_test, learning_rate, steps: int, use_feedback):
    """:func:`train_rule` once per seed, the seeds side by side under
    ``jax.vmap`` (``params`` and ``B`` from :func:`starts`). The weights do not
    depend on the rule, so both rules start from the same networks."""
    def one_seed(p, b):
        return train_rule(p, b, X, labels, X_test, labels_test, learning_rate, steps, use_feedback)

    return jax.vmap(one_seed)(params, B)


def compare_rules(keys, sizes, X, labels, X_test, labels_test, learning_rate, steps: int) -> Comparison:
    """Backprop and feedback alignment from the same initialisations (one per
    key), with the same data, learning rate and number of steps: one compiled
    program (``use_feedback`` is a traced flag), run once per rule."""
    if steps <= 0 or steps % RECORD_EVERY:
        raise ValueError(f"steps must be a positive multiple of {RECORD_EVERY}, got {steps}")
    run = partial(train_seeds, *starts(keys, sizes), X, labels, X_test, labels_test, learning_rate, steps)
    (bp_final, bp), (fa_final, fa) = run(False), run(True)
    # the curves as NumPy arrays: summing them up is bookkeeping, not worth a compiled program per shape
    bp, fa = (Curves(*map(np.asarray, curves)) for curves in (bp, fa))
    return Comparison(np.arange(0, steps + 1, RECORD_EVERY), bp, fa, bp_final, fa_final)


def first_step_reaching(curve, level):
    """The first step at which a 1-D curve reaches ``level`` or more (-1: never)."""
    curve = np.asarray(curve)
    hits = np.flatnonzero(curve >= level)
    return int(hits[0]) if hits.size else -1
