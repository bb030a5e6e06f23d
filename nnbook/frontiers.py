"""Frontiers and challenges of transfer learning, measured on chapter 6's models.

Taught in the chapter "Frontiers and challenges" (chapters/07_frontiers.ipynb).
Everything builds on ``nnbook.transfer`` (chapter 6): its digits, its network
(``h = tanh(x W1 + b1)``, logits ``h W2 + b2``), ``adapt`` and the shipped
source model. Four experiments, each one jitted call vmapped over seeds:

* **Drift**: chapter 6's new scanner at a strength between 0 (the old
  scanner) and 1 (the new one); the gain of fine-tuning over scratch.
* **Re-normalising** the target inputs to the source's pixel statistics.
* **Forgetting**: fine-tuning with an L2 pull toward the source weights.
* **A low-rank update** (LoRA): train ``W1 + A B`` instead of all weights.

Everything runs in float32, like chapter 6.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

# Taught in chapter 6 (transfer learning); reused here by name.
from nnbook import OPTIMISED  # compiled with LLVM's optimisations: runs long (nnbook/__init__.py)
from nnbook import transfer as tr

# Taught in chapter 2 (activations).
from nnbook.activations import log_softmax

# Taught in chapter 4 (gradient descent): one step of Adam.
from nnbook.optim import adam_update

DRIFTS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
DRIFT_KS = (1, 2, 5, 10)
LEARNING_RATE, STEPS = 1e-2, 200  # one rate for every run (see the chapter)
PULLS = (0.0, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
RANKS = (1, 2, 4, 8, 16)
WAY_SCRATCH, WAY_WHOLE = tr.WAYS.index("scratch"), tr.WAYS.index("fine-tune, whole model")


# ----------------------------------------------------------------------------
# Drift: the new scanner at a strength between 0 and 1
# ----------------------------------------------------------------------------


def scanner_drift(images, strength: float, seed: int = 0):
    """Chapter 6's ``new_scanner`` at ``strength`` in [0, 1]: the blur mixed in
    with weight ``strength``, the contrast fading from 1 to 0.45 on a grey
    background rising from 0 to 5, and pixel noise of standard deviation
    ``1.5 * strength``. 0 is the old scanner, 1 exactly ``tr.new_scanner``."""
    s = float(strength)
    if not 0.0 <= s <= 1.0:
        raise ValueError(f"the drift strength must be between 0 (old scanner) and 1 (new scanner), got {strength}.")
    kernel = np.array([1.0, 2.0, 1.0]) / 4.0
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)), mode="edge")
    blurred = sum(kernel[i] * padded[:, i:i + 8, :] for i in range(3))
    blurred = sum(kernel[j] * blurred[:, :, j:j + 8] for j in range(3))
    mixed = (1 - s) * images + s * blurred
    contrast = (1 - s) * 1.0 + s * 0.45  # written so that s = 1 gives 0.45 exactly, as in new_scanner
    faded = 5.0 * s + contrast * mixed
    noise = np.random.default_rng(seed).normal(0.0, 1.5 * s, images.shape)
    return np.clip(faded + noise, 0.0, tr.PIXEL_MAX).astype(np.float32)


def stack_tasks(tasks) -> tr.Task:
    """Tasks of equal shapes as one Task with a leading axis (for ``jax.vmap``)."""
    return tr.Task(*(np.stack(field) for field in zip(*tasks)))


def permuted_fraction(images, fraction: float, seed: int = 0):
    """A drift of another kind: a fraction of the 64 pixel places (chosen at
    random, the same for every image) trade their contents in a cycle, so
    every chosen pixel moves. 0 is the old scanner, 1 every pixel permuted
    (as chapter 6's ``permuted_pixels``, with another permutation)."""
    f = float(fraction)
    if not 0.0 <= f <= 1.0:
        raise ValueError(f"the fraction of permuted pixels must be between 0 and 1, got {fraction}.")
    chosen = np.random.default_rng(seed).permutation(64)[: int(round(f * 64))]
    flat = images.reshape(len(images), 64).copy()
    flat[:, chosen] = flat[:, np.roll(chosen, 1)]
    return flat.reshape(images.shape)


DRIFT_KINDS = {"scanner": scanner_drift, "permuted": permuted_fraction}


def drift_tasks(kind: str = "scanner", drifts=DRIFTS) -> tr.Task:
    """The target half of the digits drifted by each amount, laid out as
    chapter 6's tasks, stacked: every field has a leading drift axis."""
    if kind not in DRIFT_KINDS:
        raise ValueError(f"unknown kind of drift {kind!r}; choose one of {sorted(DRIFT_KINDS)}.")
    images, y = tr.digits_raw()
    _, target = tr.source_target_split(y)
    flat = lambda im: (im.reshape(len(im), 64) / tr.PIXEL_MAX).astype(np.float32)
    return stack_tasks([tr.make_task(flat(DRIFT_KINDS[kind](images[target], s)), y[target]) for s in drifts])


def weighted_cross_entropy(params, X, y, weights):
    """Cross-entropy averaged over the examples with weight 1 (weights are 0
    or 1): the same loss as ``tr.cross_entropy`` on those examples alone."""
    nll = -jnp.take_along_axis(log_softmax(tr.logits(params, X)), y[:, None], axis=-1)[:, 0]
    return jnp.sum(weights * nll) / jnp.sum(weights)


def first_k_per_class(y, k, max_k: int):
    """Weights that keep the first k of the max_k examples of each class that
    ``tr.sample_labels`` returns (class by class, in random order)."""
    return (jnp.arange(y.shape[0]) % max_k < k).astype(jnp.float32)


@partial(jax.jit, static_argnames=("max_k", "steps"), compiler_options=OPTIMISED)
def drift_runs(keys, source, tasks: tr.Task, ks, max_k: int, learning_rate=LEARNING_RATE, steps: int = STEPS):
    """Scratch and fine-tuning of the whole source model (chapter 6's
    ``start_params``, its Adam) with k labels per class of every drifted
    task, for every k in ``ks`` and every seed: one compiled call. The k
    labels are the first k of max_k drawn per class, so a seed's labels at a
    smaller k are part of its labels at a larger one. Returns the test
    accuracy, shape (drifts, ks, 2 ways, seeds)."""
    n_classes = tasks.pool.shape[1]

    def one(task, k, way, key):
        k_sample, k_init = jax.random.split(key)
        X, y = tr.sample_labels(k_sample, task.pool, max_k)
        weights = first_k_per_class(y, k, max_k)
        start = tr.start_params(way, source, k_init, n_classes)
        params = adam(lambda p: weighted_cross_entropy(p, X, y, weights), start, learning_rate, steps)
        return tr.accuracy(params, task.X_test, task.y_test)

    ways = jnp.array([WAY_SCRATCH, WAY_WHOLE])
    run = jax.vmap(one, in_axes=(None, None, None, 0))  # seeds
    run = jax.vmap(run, in_axes=(None, None, 0, None))  # ways
    run = jax.vmap(run, in_axes=(None, 0, None, None))  # labels per class
    return jax.vmap(run, in_axes=(0, None, None, None))(tasks, jnp.asarray(ks), ways, keys)  # drifts


def drift_sweep(key, source, tasks: tr.Task, ks=DRIFT_KS, seeds: int = 5) -> np.ndarray:
    """Test accuracy of scratch and whole-model fine-tuning, shape
    (drifts, ks, 2 ways, seeds); the same seeds at every drift."""
    keys = jax.random.split(key, seeds)
    return np.asarray(drift_runs(keys, source, tasks, ks, max(ks)))


# ----------------------------------------------------------------------------
# Re-normalising the inputs
# ----------------------------------------------------------------------------


def pixel_statistics(X):
    """Mean and standard deviation of each pixel over a batch (n, 64)."""
    X = np.asarray(X, np.float32)
    return X.mean(axis=0), X.std(axis=0)


def renormalise(X, target_stats, source_stats, floor: float = 1e-3):
    """Give each pixel of the target batch the source's mean and spread:
    ``(x - mean_t) / std_t * std_s + mean_s``. ``target_stats`` come from
    unlabelled target images; a pixel that (almost) never varies in the
    target (std below ``floor``) is set to the source's mean."""
    (mean_t, std_t), (mean_s, std_s) = target_stats, source_stats
    X = np.asarray(X, np.float32)
    if X.ndim != 2 or X.shape[1] != mean_t.shape[0]:
        raise ValueError(f"expected a batch of shape (n, {mean_t.shape[0]}), got {X.shape}.")
    scale = np.where(std_t > floor, std_s / np.maximum(std_t, floor), 0.0)
    return ((X - mean_t) * scale + mean_s).astype(np.float32)


# ----------------------------------------------------------------------------
# Adam on any loss; forgetting and the L2 pull toward the source
# ----------------------------------------------------------------------------


def adam(loss, params, learning_rate, steps: int):
    """Full-batch Adam on ``loss(params)``, ``steps`` steps in one ``lax.scan``:
    the update of chapter 4 (``nnbook.optim.adam_update``) on every weight and
    bias, as in ``nnbook.transfer.train``, for any loss (call it inside ``jax.jit``)."""

    def step(state, t):
        p, m, v = state
        g = jax.grad(loss)(p)
        updates = {name: adam_update(g[name], m[name], v[name], t, learning_rate) for name in g}
        p = {name: p[name] + updates[name][0] for name in g}
        m = {name: updates[name][1] for name in g}
        v = {name: updates[name][2] for name in g}
        return (p, m, v), None

    zeros = jax.tree.map(jnp.zeros_like, params)
    t = jnp.arange(1, steps + 1, dtype=jnp.float32)
    (params, _, _), _ = jax.lax.scan(step, (params, zeros, zeros), t)
    return params


def squared_distance(params, anchor):
    """``||theta - theta_source||^2`` over every weight and bias."""
    return sum(jnp.sum((params[name] - anchor[name]) ** 2) for name in params)


def pulled_loss(params, anchor, X, y, pull):
    """Cross-entropy on the target plus an L2 pull toward the source weights:
    ``L(theta) + pull / 2 * ||theta - theta_source||^2``."""
    return tr.cross_entropy(params, X, y) + 0.5 * pull * squared_distance(params, anchor)


@partial(jax.jit, static_argnames=("k", "steps"), compiler_options=OPTIMISED)
def forgetting_runs(keys, source, task: tr.Task, X_old, y_old, k: int, pulls, learning_rate=LEARNING_RATE,
                    steps: int = STEPS):
    """Fine-tune the whole source model on k labels per class of ``task``
    with each pull strength, for every seed. Returns the test accuracy on
    the target and on the old (source) task, shape (pulls, seeds) each."""

    def one(key, pull):
        X, y = tr.sample_labels(key, task.pool, k)
        tuned = adam(lambda p: pulled_loss(p, source, X, y, pull), source, learning_rate, steps)
        return tr.accuracy(tuned, task.X_test, task.y_test), tr.accuracy(tuned, X_old, y_old)

    return jax.vmap(lambda pull: jax.vmap(lambda key: one(key, pull))(keys))(pulls)


# ----------------------------------------------------------------------------
# A low-rank update (LoRA)
# ----------------------------------------------------------------------------


def with_low_rank_update(params, A, B):
    """The network with ``W1 + A B`` in place of ``W1``; A is (64, r), B (r, 64)."""
    return {**params, "W1": params["W1"] + A @ B}


def lora_loss(adapter, frozen, X, y, rank_mask):
    """Cross-entropy with a low-rank update of W1. ``rank_mask`` (R,) of 0/1
    switches columns of A and rows of B off, so one compiled program trains
    every rank r <= R (a masked entry gets a zero gradient and never moves)."""
    A = adapter["A"] * rank_mask
    B = adapter["B"] * rank_mask[:, None]
    return tr.cross_entropy(with_low_rank_update(frozen, A, B), X, y)


def init_adapter(key, n_in: int, n_out: int, max_rank: int):
    """LoRA's start: A random, B zero, so the update A B starts at exactly 0."""
    return {"A": jax.random.normal(key, (n_in, max_rank), jnp.float32) / jnp.sqrt(n_in),
            "B": jnp.zeros((max_rank, n_out), jnp.float32)}


def lora_parameters(rank: int, n_in: int = 64, n_out: int = tr.HIDDEN) -> int:
    """Trained numbers of a rank-r update of an (n_in, n_out) matrix."""
    return rank * (n_in + n_out)


def full_parameters(params) -> int:
    return int(sum(np.size(a) for a in params.values()))


@partial(jax.jit, static_argnames=("k", "steps"), compiler_options=OPTIMISED)
def lora_runs(keys, source, task: tr.Task, k: int, masks, learning_rate=LEARNING_RATE, steps: int = STEPS):
    """Train only a low-rank update of the source's W1 (A and B; everything
    else frozen) on k labels per class, for every rank mask and seed. Returns
    the target test accuracy, shape (ranks, seeds)."""
    max_rank = masks.shape[1]

    def one(key, mask):
        X, y = tr.sample_labels(key, task.pool, k)  # the same labels as forgetting_runs with this key
        adapter = init_adapter(jax.random.fold_in(key, 1), source["W1"].shape[0], source["W1"].shape[1], max_rank)
        adapter = adam(lambda a: lora_loss(a, source, X, y, mask), adapter, learning_rate, steps)
        tuned = with_low_rank_update(source, adapter["A"] * mask, adapter["B"] * mask[:, None])
        return tr.accuracy(tuned, task.X_test, task.y_test)

    return jax.vmap(lambda mask: jax.vmap(lambda key: one(key, mask))(keys))(masks)


def rank_masks(ranks=RANKS) -> jnp.ndarray:
    """One 0/1 row per rank: the first r of max(ranks) directions switched on."""
    return (jnp.arange(max(ranks))[None, :] < jnp.asarray(ranks)[:, None]).astype(jnp.float32)
