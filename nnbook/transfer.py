"""Transfer learning: reuse a trained network for a new problem.

Taught in the chapter "Transfer learning" (chapters/06_transfer_learning.ipynb).

Three parts:

* **A model file and its four steps** (load, load the data, preprocess,
  predict): parameters are plain arrays in an ``.npz`` read with
  ``allow_pickle=False``; a JSON manifest records each shipped file's SHA-256
  and the preprocessing the model expects, and every load checks it.
* **Adapting to a target task, measured** on scikit-learn's digits: training
  from scratch, a linear probe on frozen features, fine-tuning with a new head
  and fine-tuning the whole source model, for a few labels per class, over
  seeds in one ``jax.vmap``.
* **A teacher-student world** in which a "task similarity" knob sets how many
  hidden features the source and target tasks share.

Networks are one-hidden-layer MLPs, ``params = {"W1", "b1", "W2", "b2"}`` with
``h = tanh(x W1 + b1)`` and logits ``h W2 + b2`` (rows are examples, the Keras
convention, so the same arrays load into a Keras ``Dense`` layer). Everything
runs in float32, like Keras. Randomness comes only from explicit keys.
"""

from __future__ import annotations

import hashlib
import json
import pathlib
import zipfile
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

# Taught in chapter 2 (activations); reused here by name.
from nnbook import OPTIMISED  # compiled with LLVM's optimisations: runs long (nnbook/__init__.py)
from nnbook.activations import log_softmax, softmax

# Taught in chapter 4 (gradient descent): one step of Adam.
from nnbook.optim import adam_update

DATA_DIR = pathlib.Path(__file__).resolve().parents[1] / "chapters" / "data"
MANIFEST = "transfer_manifest.json"
CLASS_NAMES = tuple(str(d) for d in range(10))
PIXEL_MAX = 16.0  # scikit-learn's digits: integer grey levels 0..16
HIDDEN = 64
LABELS_PER_CLASS = (1, 2, 5, 10, 20)
WAYS = ("scratch", "linear probe", "fine-tune, new head", "fine-tune, whole model")


# ----------------------------------------------------------------------------
# The network
# ----------------------------------------------------------------------------


def init_mlp(key, n_in: int, n_hidden: int, n_out: int) -> dict:
    """Glorot-style random weights (variance 1/fan_in), zero biases."""
    k1, k2 = jax.random.split(key)
    return {
        "W1": jax.random.normal(k1, (n_in, n_hidden), jnp.float32) / jnp.sqrt(n_in),
        "b1": jnp.zeros(n_hidden, jnp.float32),
        "W2": jax.random.normal(k2, (n_hidden, n_out), jnp.float32) / jnp.sqrt(n_hidden),
        "b2": jnp.zeros(n_out, jnp.float32),
    }


def features(params, X):
    """The hidden layer: what transfer learning reuses."""
    return jnp.tanh(X @ params["W1"] + params["b1"])


def logits(params, X):
    return features(params, X) @ params["W2"] + params["b2"]


def probabilities(params, X):
    return softmax(logits(params, X))


def accuracy(params, X, y):
    return jnp.mean(jnp.argmax(logits(params, X), axis=-1) == y)


def cross_entropy(params, X, y):
    return -jnp.mean(jnp.take_along_axis(log_softmax(logits(params, X)), y[:, None], axis=-1))


def new_head(params, key, n_out: int) -> dict:
    """Keep the hidden layer, replace the classifier by a fresh random one."""
    fresh = init_mlp(key, params["W1"].shape[0], params["W1"].shape[1], n_out)
    return {**params, "W2": fresh["W2"], "b2": fresh["b2"]}


def adam_steps(params, X, y, learning_rate, steps: int, train_body=1.0, X_eval=None, y_eval=None):
    """Full-batch Adam on the cross-entropy: ``steps`` steps in one ``lax.scan``.

    ``train_body = 0`` freezes the hidden layer (its gradient is multiplied by
    0: a linear probe), ``1`` trains everything; both run as the same compiled
    program. Returns the final parameters and the accuracy on
    ``(X_eval, y_eval)`` after each step (the learning curve; empty if no
    evaluation set is given).
    """
    mask = {"W1": train_body, "b1": train_body, "W2": 1.0, "b2": 1.0}

    def step(state, t):
        p, m, v = state
        g = jax.grad(cross_entropy)(p, X, y)
        g = {name: g[name] * mask[name] for name in g}
        updates = {name: adam_update(g[name], m[name], v[name], t, learning_rate) for name in g}
        p = {name: p[name] + updates[name][0] for name in g}
        m = {name: updates[name][1] for name in g}
        v = {name: updates[name][2] for name in g}
        curve = accuracy(p, X_eval, y_eval) if X_eval is not None else jnp.zeros(())
        return (p, m, v), curve

    zeros = jax.tree.map(jnp.zeros_like, params)
    t = jnp.arange(1, steps + 1, dtype=jnp.float32)
    (params, _, _), curve = jax.lax.scan(step, (params, zeros, zeros), t)
    return params, curve


# Called on its own, the training run is one program compiled with LLVM's
# optimisations (it runs long; see nnbook/__init__.py). Inside another compiled
# function (train_runs) adam_steps is traced in place: a jitted function with
# its own compiler options cannot be called there.
train = jax.jit(adam_steps, static_argnames=("steps",), compiler_options=OPTIMISED)


# ----------------------------------------------------------------------------
# Model files: safe formats, checksums, the manifest, clear errors
# ----------------------------------------------------------------------------


class ModelFileError(ValueError):
    """A model or data file is missing, corrupted or not the one the manifest describes."""


def sha256(path) -> str:
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def save_npz(path, arrays: dict) -> None:
    """Like ``np.savez`` but byte-reproducible: numpy stamps each member of
    the zip archive with the current time; we write a fixed date instead."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            with archive.open(info, "w") as member:
                np.lib.format.write_array(member, np.ascontiguousarray(arrays[name]), allow_pickle=False)


def load_manifest(data_dir=DATA_DIR) -> dict:
    path = pathlib.Path(data_dir) / MANIFEST
    if not path.exists():
        raise ModelFileError(f"{path} is missing: run `make data` to create the model files and their manifest.")
    return json.loads(path.read_text())


def verified_path(name: str, manifest: dict, data_dir=DATA_DIR) -> pathlib.Path:
    """The path of a shipped file, after checking that it is the file the
    manifest describes (same size and SHA-256)."""
    path = pathlib.Path(data_dir) / name
    if name not in manifest["files"]:
        raise ModelFileError(f"{name} is not listed in the manifest; known files: {sorted(manifest['files'])}.")
    if not path.exists():
        raise ModelFileError(f"{path} is missing: run `make data` to recreate it.")
    expected = manifest["files"][name]
    size = path.stat().st_size
    if size != expected["bytes"]:
        raise ModelFileError(
            f"{path} has {size} bytes but the manifest says {expected['bytes']}: the file is truncated or "
            "was replaced. Do not use it; run `make data` (or download it again) to restore it."
        )
    digest = sha256(path)
    if digest != expected["sha256"]:
        raise ModelFileError(
            f"{path}: SHA-256 {digest[:12]}... differs from the manifest's {expected['sha256'][:12]}...: the file "
            "is corrupted or is not the one the manifest describes. Do not use it; run `make data` to restore it."
        )
    return path


def load_arrays(path) -> dict:
    """Every array of an ``.npz`` file, refusing pickled objects, with a clear
    error if the file is not a readable archive."""
    try:
        with open(path, "rb") as file, np.load(file, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
        raise ModelFileError(
            f"{path} is not a readable .npz archive of arrays ({type(error).__name__}: {error}). "
            "It may be truncated or corrupted; run `make data` to recreate it."
        ) from error


def load_params(name: str = "source_model.npz", data_dir=DATA_DIR, manifest: dict | None = None) -> dict:
    """Step 1 in plain JAX: the checksum first, then the arrays."""
    manifest = load_manifest(data_dir) if manifest is None else manifest
    arrays = load_arrays(verified_path(name, manifest, data_dir))
    expected = {"W1", "b1", "W2", "b2"}
    if set(arrays) != expected:
        raise ModelFileError(f"{name} holds arrays {sorted(arrays)}, expected {sorted(expected)}.")
    return {k: jnp.asarray(v) for k, v in arrays.items()}


def load_new_data(name: str = "new_data.npy", data_dir=DATA_DIR, manifest: dict | None = None) -> np.ndarray:
    """Step 2: a plain array file, never a pickle."""
    manifest = load_manifest(data_dir) if manifest is None else manifest
    return np.load(verified_path(name, manifest, data_dir), allow_pickle=False)


def preprocess(raw, manifest: dict) -> np.ndarray:
    """Step 3: exactly what the model saw in training, as its manifest says:
    flatten each image to ``input_shape`` and divide by ``scale``. Checks the
    batch first and says what is wrong."""
    spec = manifest["preprocessing"]
    raw = np.asarray(raw)
    shape = tuple(spec["image_shape"])
    if raw.ndim < 2 or raw.shape[1:] not in (shape, (int(np.prod(shape)),)):
        raise ValueError(
            f"expected a batch of images of shape (n, {shape[0]}, {shape[1]}) "
            f"or (n, {int(np.prod(shape))}), got {raw.shape}. "
            "For a single image use image[None]."
        )
    if raw.shape[0] == 0:
        raise ValueError("the batch is empty: give at least one image.")
    if not (np.issubdtype(raw.dtype, np.integer)
            or np.issubdtype(raw.dtype, np.floating)):
        raise ValueError("expected numbers (integer or float pixels), "
                         f"got dtype {raw.dtype}.")
    raw = raw.reshape(raw.shape[0], -1).astype(np.float32)
    bad = ~np.isfinite(raw)
    if bad.any():
        rows = np.unique(np.nonzero(bad)[0])
        raise ValueError(
            f"{bad.sum()} pixel(s) are NaN or infinite "
            f"(in images {rows[:5].tolist()}{'...' if rows.size > 5 else ''}): "
            "fix or drop those images before predicting."
        )
    lo, hi = spec["raw_range"]
    if raw.min() < lo or raw.max() > hi:
        raise ValueError(
            f"pixel values span [{raw.min():.3g}, {raw.max():.3g}] but this model "
            f"expects raw grey levels in [{lo}, {hi}] (its training data). "
            "Is this the right kind of image, or was it rescaled already?"
        )
    return raw / np.float32(spec["scale"])


def check_preprocessed(X, manifest: dict) -> np.ndarray:
    """Refuse a batch that cannot be what ``preprocess`` returns: the model
    would silently output confident nonsense."""
    X = np.asarray(X)
    n_in = int(np.prod(manifest["preprocessing"]["image_shape"]))
    if X.ndim != 2 or X.shape[1] != n_in:
        raise ValueError(f"the model takes a batch of shape (n, {n_in}), got {X.shape}: call preprocess(raw) first.")
    if not np.issubdtype(X.dtype, np.floating):
        raise ValueError(f"the model takes float pixels, got dtype {X.dtype}: call preprocess(raw) first.")
    if not np.all(np.isfinite(X)):
        raise ValueError("the batch contains NaN or infinite values: fix or drop those images before predicting.")
    top = manifest["preprocessing"]["scaled_range"][1]
    if X.min() < -0.01 * top or X.max() > 1.01 * top:
        raise ValueError(
            f"inputs span [{X.min():.3g}, {X.max():.3g}], far outside the range [0, {top}] the model was trained "
            "on: the batch was not preprocessed (call preprocess(raw) first)."
        )
    return X


def predict(params, X, manifest: dict) -> np.ndarray:
    """Step 4: class probabilities for a checked, preprocessed batch."""
    return np.asarray(probabilities(params, jnp.asarray(check_preprocessed(X, manifest))))


# ----------------------------------------------------------------------------
# Data: scikit-learn's digits, split into a source and a target half
# ----------------------------------------------------------------------------

POOL, VAL = 40, 10  # per class, from the target half; the rest is the test set


class Task(NamedTuple):
    """A classification task laid out for sampling k labels per class."""

    pool: np.ndarray  # (classes, POOL, d): the labelled examples we may draw from
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def digits_raw():
    """scikit-learn's 1797 digit images (grey levels 0..16, shipped with the
    package) and labels, in the package's order."""
    from sklearn.datasets import load_digits

    data = load_digits()
    return data.images.astype(np.float32), data.target.astype(np.int32)


def source_target_split(y) -> tuple[np.ndarray, np.ndarray]:
    """Per class, the first half of the images (in the file's order) is the
    source set, the second half the target set. Returns index arrays."""
    source, target = [], []
    for c in range(10):
        idx = np.flatnonzero(y == c)
        half = len(idx) // 2
        source.append(idx[:half])
        target.append(idx[half:])
    return np.concatenate(source), np.concatenate(target)


SCANNER_NOISE = 1.5  # the new scanner's pixel noise (standard deviation, grey levels)


def blurred_and_faded(images):
    """The new scanner's view of ``images`` before its noise: blurred (a 3x3
    binomial kernel), with less contrast on a grey background."""
    kernel = np.array([1.0, 2.0, 1.0]) / 4.0
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)), mode="edge")
    blurred = sum(kernel[i] * padded[:, i:i + 8, :] for i in range(3))
    blurred = sum(kernel[j] * blurred[:, :, j:j + 8] for j in range(3))
    return 5.0 + 0.45 * blurred


def new_scanner(images, seed: int = 0):
    """A domain shift with the same classes: the images blurred, with less
    contrast on a grey background (:func:`blurred_and_faded`), plus pixel
    noise; clipped back to the grey levels 0..16 of the original scanner."""
    noise = np.random.default_rng(seed).normal(0.0, SCANNER_NOISE, images.shape)
    return np.clip(blurred_and_faded(images) + noise, 0.0, PIXEL_MAX).astype(np.float32)


def new_data_before_the_scanner():
    """The digits of ``new_data.npy`` as the *old* scanner saw them (grey levels
    0..16) and their labels, in the file's order: the same selection (the test
    set of the target half, :func:`make_task`), before :func:`new_scanner`."""
    images, y = digits_raw()
    _, target = source_target_split(y)
    task = make_task(images[target].reshape(len(target), 64), y[target])
    return task.X_test.reshape(-1, 8, 8), task.y_test


def permuted_pixels(images, seed: int = 0):
    """A target task with the same classes whose pixels are shuffled by one
    fixed permutation: the same information, in places the source model
    never looked."""
    order = np.random.default_rng(seed).permutation(64)
    flat = images.reshape(len(images), 64)[:, order]
    return flat.reshape(images.shape)


def make_task(X, y) -> Task:
    """Per class: POOL examples to draw labels from, VAL for choosing the
    learning rate, the rest for the test set. ``X`` is preprocessed, (n, d)."""
    pool, val, test = [], [], []
    for c in range(int(y.max()) + 1):
        idx = np.flatnonzero(y == c)
        pool.append(X[idx[:POOL]])
        val.append(idx[POOL:POOL + VAL])
        test.append(idx[POOL + VAL:])
    val, test = np.concatenate(val), np.concatenate(test)
    return Task(np.stack(pool), X[val], y[val], X[test], y[test])


def digits_tasks():
    """The source set (clean digits, preprocessed) and the target tasks."""
    images, y = digits_raw()
    source, target = source_target_split(y)
    flat = lambda im: (im.reshape(len(im), 64) / PIXEL_MAX).astype(np.float32)
    return {
        "source": (flat(images[source]), y[source]),
        "same domain": make_task(flat(images[target]), y[target]),
        "new scanner": make_task(flat(new_scanner(images[target])), y[target]),
        "permuted pixels": make_task(flat(permuted_pixels(images[target])), y[target]),
    }


# ----------------------------------------------------------------------------
# Adapting: four ways, k labels per class, seeds in one vmap
# ----------------------------------------------------------------------------


def start_params(way, source, key, n_classes: int):
    """Where each way starts. ``way`` indexes WAYS and may be a traced value,
    so all four ways share one compiled program."""
    fresh = init_mlp(key, source["W1"].shape[0], source["W1"].shape[1], n_classes)
    headed = new_head(source, key, n_classes)
    if source["W2"].shape[1] != n_classes:  # the whole model only fits when the classes are the same
        whole = headed
    else:
        whole = source
    choose = lambda a, b, c: jnp.where(way == 0, a, jnp.where(way == 3, c, b))
    return jax.tree.map(choose, fresh, headed, whole)


def class_orders(key, n_classes: int, n_pool: int):
    """Each class's pool in a random order, one key per class: (classes, n_pool) indices."""
    keys = jax.random.split(key, n_classes)
    return jax.vmap(lambda kk: jax.random.permutation(kk, n_pool))(keys)


def first_k(pool, orders, k: int):
    """The first k examples of each class in the given orders: (classes * k, d) and labels."""
    n_classes = pool.shape[0]
    X = jnp.take_along_axis(pool, orders[:, :k, None], axis=1).reshape(n_classes * k, -1)
    y = jnp.repeat(jnp.arange(n_classes, dtype=jnp.int32), k)
    return X, y


def sample_labels(key, pool, k: int):
    """k random examples of each class from the pool: (classes * k, d) and labels."""
    return first_k(pool, class_orders(key, *pool.shape[:2]), k)


@jax.jit
def run_draws(keys, way, source, pool):
    """The random part of every seed's run: each class's pool in a random
    order (its first k are :func:`sample_labels`' k labels) and the starting
    parameters. Nothing here depends on k, so one compiled program serves every
    k. (Inside the training program the random numbers made each k's compile
    take 5 s instead of 1.)"""
    def one(key, source_params):
        k_sample, k_init = jax.random.split(key)
        return class_orders(k_sample, *pool.shape[:2]), start_params(way, source_params, k_init, pool.shape[0])

    return jax.vmap(one)(keys, source)


@partial(jax.jit, static_argnames=("k", "steps"), compiler_options=OPTIMISED)
def train_runs(orders, starts, way, task: Task, k: int, learning_rates, steps: int):
    """Every seed's run (from :func:`run_draws`) at every learning rate: one
    ``vmap`` over seeds inside one over learning rates."""
    def one_run(order, params, learning_rate):
        X, y = first_k(task.pool, order, k)
        # way 1, the linear probe, freezes the hidden layer
        train_body = jnp.where(way == 1, 0.0, 1.0)
        params, curve = adam_steps(params, X, y, learning_rate, steps, train_body,
                                   task.X_val, task.y_val)
        return curve[-1], accuracy(params, task.X_test, task.y_test), curve

    over_seeds = jax.vmap(one_run, in_axes=(0, 0, None))
    return jax.vmap(over_seeds, in_axes=(None, None, 0))(orders, starts, learning_rates)


def adapt(keys, way, source, task: Task, k: int, learning_rates, steps: int):
    """Adapt ``source`` to ``task`` the given way with k labels per class, for
    every learning rate and every seed. ``source`` has a leading seed axis (one
    source model per seed, or the same one repeated). Returns validation and
    test accuracy, shape (rates, seeds), and the validation learning curves
    (rates, seeds, steps)."""
    orders, starts = run_draws(keys, way, source, task.pool)
    return train_runs(orders, starts, way, task, k, learning_rates, steps)


def repeat_seeds(params, n: int):
    return jax.tree.map(lambda a: jnp.broadcast_to(a, (n, *a.shape)), params)


def adaptation_sweep(key, source, task: Task, ways=WAYS, labels_per_class=LABELS_PER_CLASS + (POOL,),
                     learning_rates=(1e-3, 3e-3, 1e-2, 3e-2), seeds: int = 5, steps: int = 200):
    """Every way at every k: the learning rate with the best mean validation
    accuracy, and the test accuracy of each seed at that rate.
    Returns ``{"test": (ways, ks, seeds), "val": ..., "rate": (ways, ks),
    "curve": (ways, ks, seeds, steps)}`` as numpy arrays."""
    keys = jax.random.split(key, seeds)
    if jax.tree.leaves(source)[0].ndim == 2:  # one model: the same for every seed
        source = repeat_seeds(source, seeds)
    rates = jnp.asarray(learning_rates, jnp.float32)
    out = {"test": [], "val": [], "rate": [], "curve": []}
    for w, _ in enumerate(ways):
        way = WAYS.index(ways[w]) if isinstance(ways[w], str) else ways[w]
        rows = {name: [] for name in out}
        for k in labels_per_class:
            val, test, curve = adapt(keys, way, source, task, k, rates, steps)
            best = int(jnp.argmax(val.mean(axis=1)))
            rows["val"].append(np.asarray(val[best]))
            rows["test"].append(np.asarray(test[best]))
            rows["rate"].append(float(rates[best]))
            rows["curve"].append(np.asarray(curve[best]))
        for name in out:
            out[name].append(rows[name])
    return {name: np.asarray(v) for name, v in out.items()}


SOURCE_STEPS = 400  # full-batch Adam steps that trained the shipped source model (make data)


def train_source(key, X, y, n_classes: int = 10, hidden: int = HIDDEN, learning_rate: float = 1e-2,
                 steps: int = SOURCE_STEPS):
    """The source model: trained from random weights on the whole source set."""
    params = init_mlp(key, X.shape[1], hidden, n_classes)
    params, _ = train(params, jnp.asarray(X), jnp.asarray(y), learning_rate, steps)
    return params


def steps_to_reach(curves, target: float) -> np.ndarray:
    """First step (1-based) at which each learning curve reaches ``target``
    accuracy; -1 if it never does."""
    curves = np.asarray(curves)
    reached = curves >= target
    first = np.argmax(reached, axis=-1) + 1
    return np.where(reached.any(axis=-1), first, -1)


# ----------------------------------------------------------------------------
# A teacher-student world with a task-similarity knob
# ----------------------------------------------------------------------------

TS_INPUTS, TS_FEATURES, TS_SOURCE_CLASSES, TS_TARGET_CLASSES, TS_HIDDEN = 16, 8, 8, 4, 32
TS_SIMILARITIES = tuple(s / TS_FEATURES for s in range(TS_FEATURES + 1))
TS_WAYS = ("scratch", "linear probe", "fine-tune, new head")


class World(NamedTuple):
    """Hidden teacher features ``tanh(3 x . u_j)`` of Gaussian inputs. The source
    task's labels are the argmax of a random readout of 8 features; the
    target task's of another readout of 8 features, of which the first
    ``shared`` are the source's and the others use directions orthogonal to
    all of the source's."""

    directions: np.ndarray  # (2 * TS_FEATURES, TS_INPUTS), orthonormal rows
    source_readout: np.ndarray  # (TS_SOURCE_CLASSES, TS_FEATURES)
    target_readout: np.ndarray  # (TS_TARGET_CLASSES, TS_FEATURES)


def make_world(seed: int = 0) -> World:
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(TS_INPUTS, TS_INPUTS)))
    return World(q.T[: 2 * TS_FEATURES], rng.normal(size=(TS_SOURCE_CLASSES, TS_FEATURES)),
                 rng.normal(size=(TS_TARGET_CLASSES, TS_FEATURES)))


def teacher_labels(world: World, X, task: str, similarity: float = 1.0):
    """The labels the teacher gives: argmax of a readout of hidden features."""
    source_features = np.tanh(3 * X @ world.directions[:TS_FEATURES].T)
    if task == "source":
        return np.argmax(source_features @ world.source_readout.T, axis=1).astype(np.int32)
    shared = int(round(similarity * TS_FEATURES))
    own = np.tanh(3 * X @ world.directions[TS_FEATURES:].T)
    target_features = np.concatenate([source_features[:, :shared], own[:, shared:]], axis=1)
    return np.argmax(target_features @ world.target_readout.T, axis=1).astype(np.int32)


def world_task(world: World, similarity: float, seed: int = 1, test_per_class: int = 250) -> Task:
    """Target task data of the world at one similarity (the inputs do not
    depend on the similarity, only the labels do)."""
    X = np.random.default_rng(seed).normal(size=(20000, TS_INPUTS)).astype(np.float32)
    y = teacher_labels(world, X, "target", similarity)
    per_class = POOL + VAL + test_per_class
    counts = np.bincount(y, minlength=TS_TARGET_CLASSES)
    if counts.min() < per_class:
        raise ValueError(f"the world's classes are too unbalanced ({counts.tolist()}): try another seed.")
    keep = np.concatenate([np.flatnonzero(y == c)[:per_class] for c in range(TS_TARGET_CLASSES)])
    keep.sort()
    return make_task(X[keep], y[keep])


def world_source_model(world: World, key, n: int = 4000, seed: int = 2):
    """The student pretrained on plenty of source-task data."""
    X = np.random.default_rng(seed).normal(size=(n, TS_INPUTS)).astype(np.float32)
    y = teacher_labels(world, X, "source")
    params = train_source(key, X, y, TS_SOURCE_CLASSES, TS_HIDDEN, learning_rate=1e-2, steps=600)
    return params, float(accuracy(params, jnp.asarray(X), jnp.asarray(y)))


def similarity_sweep(key, world: World, source, similarities=TS_SIMILARITIES,
                     labels_per_class=LABELS_PER_CLASS + (POOL,), seeds: int = 5, steps: int = 200):
    """``adaptation_sweep`` of the three ways that fit a new set of classes, at
    every similarity. Returns ``{"test": (similarities, ways, ks, seeds), ...}``."""
    runs = [adaptation_sweep(key, source, world_task(world, s), TS_WAYS, labels_per_class, seeds=seeds, steps=steps)
            for s in similarities]
    return {name: np.stack([r[name] for r in runs]) for name in ("test", "val", "rate")}


def zero_crossing(x, gain) -> float:
    """Where a piecewise-linear curve first goes from negative to non-negative."""
    x, gain = np.asarray(x, float), np.asarray(gain, float)
    for i in range(len(x) - 1):
        if gain[i] < 0 <= gain[i + 1]:
            return float(x[i] + (x[i + 1] - x[i]) * (-gain[i]) / (gain[i + 1] - gain[i]))
    raise ValueError("the gain does not cross zero from below on this grid.")


def load_sweeps(name: str = "transfer_sweeps.npz", data_dir=DATA_DIR, manifest: dict | None = None) -> dict:
    """The precomputed sweeps (checksum verified), as ``{setting: {field: array}}``
    with settings "new scanner", "permuted pixels" and "world"."""
    manifest = load_manifest(data_dir) if manifest is None else manifest
    flat = load_arrays(verified_path(name, manifest, data_dir))
    nested: dict = {}
    for key, array in flat.items():
        setting, field = key.split("/")
        nested.setdefault(setting.replace("_", " "), {})[field] = array
    return nested


def nearest_class_mean_accuracy(train_X, train_y, test_X, test_y) -> float:
    """Classify each test point by the closest class mean of the training
    points: a measure of how well a representation separates the classes."""
    means = np.stack([train_X[train_y == c].mean(axis=0) for c in np.unique(train_y)])
    distances = ((test_X[:, None, :] - means[None]) ** 2).sum(-1)
    return float(np.mean(np.argmin(distances, axis=1) == test_y))


def pca_2d(X) -> np.ndarray:
    """Coordinates along the two directions of largest variance (signs fixed
    so that the result is deterministic)."""
    X = np.asarray(X, dtype=np.float64)
    centred = X - X.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    vt = vt[:2] * np.sign(vt[:2, :1] + 1e-300)  # first coordinate of each direction positive
    return centred @ vt.T
