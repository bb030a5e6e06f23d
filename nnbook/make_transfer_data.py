"""Write chapter 6's model files, new data, precomputed sweeps and manifest.

    python -m nnbook.make_transfer_data [output directory]   (default: chapters/data)

Deterministic (explicit keys and seeds, zip members with a fixed date), so
running it again reproduces the shipped files byte for byte, except
``source_model.keras``: Keras writes the save time into its metadata.json and
zip dates, and Python object ids ("shared_object_id", memory addresses) into
its config.json. ``nbtests/test_transfer.py`` checks all of it (the .keras
file by its weights and its configuration without those volatile fields).

Keras note: the .keras file is saved *before* the .h5 file on purpose. In
Keras 3.15.1 the legacy HDF5 writer pops "optimizer" from the model's
compile configuration in memory, so a .keras file saved afterwards from the
same model would reload with the default optimizer (RMSprop) instead of Adam.
The manifest records each file's size and SHA-256 and the preprocessing the
model expects; every load in the book verifies them.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax
import numpy as np

from nnbook import transfer as tr

SOURCE_KEY, SWEEP_KEY, WORLD_KEY = 0, 1, 2
FILES = ("source_model.npz", "source_model.h5", "source_model.keras", "new_data.npy", "new_labels.npy",
         "transfer_sweeps.npz")


def keras_model(params):
    """The source network as a Keras model with the trained weights: Dense
    layers compute ``x W + b``, the same layout as ``nnbook.transfer``."""
    import keras

    model = keras.Sequential(
        [
            keras.Input(shape=(64,), name="pixels"),
            keras.layers.Dense(tr.HIDDEN, activation="tanh", name="hidden"),
            keras.layers.Dense(10, activation="softmax", name="classifier"),
        ],
        name="digits_source_model",
    )
    model.set_weights([np.asarray(params[k]) for k in ("W1", "b1", "W2", "b2")])
    # The optimizer it was trained with (Adam, learning rate 0.01: see train_source).
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def digits_files(out: pathlib.Path) -> dict:
    images, y = tr.digits_raw()
    source, target = tr.source_target_split(y)
    tasks = tr.digits_tasks()
    params = tr.train_source(jax.random.key(SOURCE_KEY), *tasks["source"])
    tr.save_npz(out / "source_model.npz", {k: np.asarray(v) for k, v in params.items()})

    model = keras_model(params)
    model.save(out / "source_model.keras")
    model.save(out / "source_model.h5")

    # "new data": the target test images as the new scanner delivers them (raw grey levels)
    raw = tr.new_scanner(images[target])
    new = tr.make_task(raw.reshape(len(raw), 64), y[target])
    np.save(out / "new_data.npy", new.X_test.reshape(-1, 8, 8).astype(np.float32), allow_pickle=False)
    np.save(out / "new_labels.npy", new.y_test.astype(np.int64), allow_pickle=False)

    sweeps = {}
    for name in ("new scanner", "permuted pixels"):
        result = tr.adaptation_sweep(jax.random.key(SWEEP_KEY), params, tasks[name])
        for field, array in result.items():
            sweeps[f"{name.replace(' ', '_')}/{field}"] = array
    return sweeps


def world_files() -> dict:
    world = tr.make_world()
    source, source_accuracy = tr.world_source_model(world, jax.random.key(WORLD_KEY))
    result = tr.similarity_sweep(jax.random.key(SWEEP_KEY), world, source)
    arrays = {f"world/{field}": array for field, array in result.items()}
    arrays["world/source_accuracy"] = np.float32(source_accuracy)
    return arrays


def manifest(out: pathlib.Path) -> dict:
    files = sorted(FILES)
    return {
        "about": "Chapter 6's source model (digits 0-9, MLP 64-64-10, tanh hidden layer, softmax output), "
                 "the new scanner's images, and precomputed sweeps; written by python -m nnbook.make_transfer_data.",
        "class_names": list(tr.CLASS_NAMES),
        "preprocessing": {
            "image_shape": [8, 8],
            "input_shape": [64],
            "raw_range": [0.0, tr.PIXEL_MAX],
            "scale": tr.PIXEL_MAX,
            "scaled_range": [0.0, 1.0],
            "steps": "flatten each 8x8 image row by row to 64 values, then divide by scale (grey levels 0..16 -> 0..1)",
        },
        "files": {name: {"bytes": (out / name).stat().st_size, "sha256": tr.sha256(out / name)} for name in files},
    }


def main(out=tr.DATA_DIR) -> None:
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sweeps = digits_files(out)
    sweeps.update(world_files())
    tr.save_npz(out / "transfer_sweeps.npz", sweeps)
    (out / tr.MANIFEST).write_text(json.dumps(manifest(out), indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
