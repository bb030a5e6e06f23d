"""Chapter 6 (transfer learning): nnbook.transfer, the shipped files, every
claim the chapter's prose makes, and its exercise solutions.

The chapter's code runs via chapter_code.run_chapter (its cells, not copies);
the claims are asserted on the numbers it computes from the shipped sweeps,
and test_make_data_reproduces_the_shipped_files proves that those sweeps are
what nnbook.transfer's functions compute.
"""

import json
import os
import re
import shutil
import zipfile

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.metrics import log_loss  # noqa: E402

from chapter_code import run_solution, solution_blocks  # noqa: E402
from conftest import check_extremes_draw, check_faces_start_at_initial  # noqa: E402
from nnbook import make_transfer_data  # noqa: E402
from nnbook import transfer as tr  # noqa: E402
from nnbook import transfer_figures as figs  # noqa: E402
from nnbook.sliders import live_figure  # noqa: E402

CHAPTER = "06_transfer_learning.ipynb"

# Keras 3.15.1 reads HDF5 datasets through an h5py object whose __array__
# lacks numpy 2's copy keyword; numpy warns (a library detail, not ours: the
# chapter does not show it, since it is not raised from __main__).
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)


@pytest.fixture(scope="module")
def manifest():
    return tr.load_manifest()


@pytest.fixture
def copy_dir(tmp_path, manifest):
    """A copy of the shipped files to break."""
    for name in manifest["files"]:
        shutil.copy(tr.DATA_DIR / name, tmp_path / name)
    return tmp_path


# ----------------------------------------------------------------------------
# The network and its training
# ----------------------------------------------------------------------------


def test_cross_entropy_matches_scikit_learn():
    params = tr.init_mlp(jax.random.key(0), 5, 7, 3)
    X = jax.random.normal(jax.random.key(1), (20, 5))
    y = jnp.arange(20) % 3
    ours = float(tr.cross_entropy(params, X, y))
    p = np.asarray(tr.probabilities(params, X), dtype=np.float64)
    reference = log_loss(np.asarray(y), p / p.sum(axis=1, keepdims=True), labels=[0, 1, 2])  # renormalised in float64
    assert ours == pytest.approx(reference, rel=1e-5)  # float32 arithmetic


def test_first_adam_step_moves_each_weight_by_the_learning_rate_against_its_gradient_sign():
    # At step 1 Adam's bias-corrected m/sqrt(v) is g/|g|: each weight moves by lr * sign(g).
    params = tr.init_mlp(jax.random.key(0), 4, 6, 3)
    X = jax.random.normal(jax.random.key(1), (12, 4))
    y = jnp.arange(12) % 3
    g = jax.grad(tr.cross_entropy)(params, X, y)
    after, _ = tr.train(params, X, y, 0.01, 1)
    for name in params:
        expected = params[name] - 0.01 * g[name] / (jnp.abs(g[name]) + 1e-8)
        assert np.allclose(after[name], expected, atol=1e-6), name


def test_a_linear_probe_never_changes_the_body():
    params = tr.init_mlp(jax.random.key(0), 4, 6, 3)
    X = jax.random.normal(jax.random.key(1), (12, 4))
    y = jnp.arange(12) % 3
    probed, _ = tr.train(params, X, y, 0.05, 30, 0.0)
    assert np.array_equal(probed["W1"], params["W1"]) and np.array_equal(probed["b1"], params["b1"])
    assert not np.allclose(probed["W2"], params["W2"])


def test_start_params_of_each_way():
    source = tr.init_mlp(jax.random.key(0), 4, 6, 3)
    fresh, probe, head, whole = (tr.start_params(w, source, jax.random.key(5), 3) for w in range(4))
    assert not np.allclose(fresh["W1"], source["W1"])
    for p in (probe, head):
        assert np.array_equal(p["W1"], source["W1"]) and not np.allclose(p["W2"], source["W2"])
    assert all(np.array_equal(whole[k], source[k]) for k in source)
    # a target with other classes cannot keep the source head
    other = tr.start_params(3, source, jax.random.key(5), 4)
    assert other["W2"].shape == (6, 4)


def test_sample_labels_draws_k_distinct_examples_of_each_class():
    pool = jnp.arange(3 * 10 * 2, dtype=jnp.float32).reshape(3, 10, 2)
    X, y = tr.sample_labels(jax.random.key(0), pool, 4)
    assert X.shape == (12, 2) and np.array_equal(y, np.repeat(np.arange(3), 4))
    for c in range(3):
        rows = {tuple(r) for r in np.asarray(X[y == c])}
        assert len(rows) == 4 and rows <= {tuple(r) for r in np.asarray(pool[c])}


def test_each_run_draws_what_sample_labels_and_start_params_draw_from_its_seed():
    # adapt draws outside its training program (run_draws), then trains on the first k of each
    # class's order: the labels and starting weights of each seed must be those drawn from its key
    # directly (k_sample, k_init = split(key)), written here without first_k or class_orders.
    pool = jnp.arange(3 * 6 * 2, dtype=jnp.float32).reshape(3, 6, 2)
    source = tr.init_mlp(jax.random.key(1), 2, 5, 3)
    keys = jax.random.split(jax.random.key(2), 2)
    for way in range(4):
        orders, starts = tr.run_draws(keys, way, tr.repeat_seeds(source, 2), pool)
        for seed, key in enumerate(keys):
            k_sample, k_init = jax.random.split(key)
            picks = [jax.random.permutation(kk, 6)[:2] for kk in jax.random.split(k_sample, 3)]
            X, y = tr.first_k(pool, orders[seed], 2)
            labelled = [np.asarray(pool[c])[np.asarray(p)] for c, p in enumerate(picks)]
            np.testing.assert_array_equal(X, np.concatenate(labelled))
            np.testing.assert_array_equal(y, [0, 0, 1, 1, 2, 2])
            # compiled, as the draws always were: XLA rounds the scaled normal draws of
            # init_mlp in the last bit differently from eager, op-by-op dispatch
            expected = jax.jit(tr.start_params, static_argnums=3)(way, source, k_init, 3)
            for name in expected:
                np.testing.assert_array_equal(starts[name][seed], expected[name], err_msg=f"way {way}, {name}")


def test_steps_to_reach_and_zero_crossing():
    curves = np.array([[0.1, 0.5, 0.7, 0.9], [0.1, 0.2, 0.3, 0.4]])
    assert tr.steps_to_reach(curves, 0.7).tolist() == [3, -1]
    assert tr.zero_crossing([0, 1, 2], [-1.0, -0.5, 0.5]) == pytest.approx(1.5)
    with pytest.raises(ValueError, match="does not cross zero"):
        tr.zero_crossing([0, 1], [0.5, 1.0])


def test_nearest_class_mean_and_pca_against_closed_forms():
    X = np.array([[0.0, 0.0], [0.2, 0.0], [5.0, 5.0], [5.2, 5.0]])
    y = np.array([0, 0, 1, 1])
    assert tr.nearest_class_mean_accuracy(X, y, np.array([[1.0, 1.0], [4.0, 4.0]]), np.array([0, 1])) == 1.0
    # points on a line: all variance on the first component
    line = np.outer(np.arange(5.0), [3.0, 4.0])
    coordinates = tr.pca_2d(line)
    assert np.allclose(np.abs(coordinates[:, 0]), np.abs(np.arange(5.0) - 2) * 5)
    assert np.allclose(coordinates[:, 1], 0, atol=1e-9)


# ----------------------------------------------------------------------------
# Files: safe formats, checksums, clear errors
# ----------------------------------------------------------------------------


def test_save_npz_is_byte_reproducible_and_loads_without_pickle(tmp_path):
    arrays = {"a": np.arange(6.0).reshape(2, 3), "b": np.array([1, 2], dtype=np.int32)}
    tr.save_npz(tmp_path / "one.npz", arrays)
    tr.save_npz(tmp_path / "two.npz", arrays)
    assert (tmp_path / "one.npz").read_bytes() == (tmp_path / "two.npz").read_bytes()
    loaded = tr.load_arrays(tmp_path / "one.npz")
    assert all(np.array_equal(loaded[k], arrays[k]) for k in arrays)


def test_a_pickled_array_is_refused(tmp_path):
    np.savez(tmp_path / "evil.npz", payload=np.array([{"run": "code"}], dtype=object))
    with pytest.raises(tr.ModelFileError, match="not a readable .npz"):
        tr.load_arrays(tmp_path / "evil.npz")


def test_every_shipped_file_matches_the_manifest(manifest):
    for name in manifest["files"]:
        assert tr.verified_path(name, manifest).exists()


def test_truncated_model_file(copy_dir, manifest):
    path = copy_dir / "source_model.h5"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(tr.ModelFileError, match="truncated"):
        tr.verified_path("source_model.h5", manifest, copy_dir)
    npz = copy_dir / "source_model.npz"
    npz.write_bytes(npz.read_bytes()[:5000])
    with pytest.raises(tr.ModelFileError, match="truncated"):
        tr.load_params(data_dir=copy_dir, manifest=manifest)
    with pytest.raises(tr.ModelFileError, match="not a readable .npz"):
        tr.load_arrays(npz)


def test_corrupted_file_fails_the_checksum(copy_dir, manifest):
    path = copy_dir / "source_model.keras"
    data = bytearray(path.read_bytes())
    data[100] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(tr.ModelFileError, match="SHA-256 .* differs from the manifest"):
        tr.verified_path("source_model.keras", manifest, copy_dir)


def test_missing_file_and_missing_manifest(copy_dir, manifest, tmp_path_factory):
    (copy_dir / "new_data.npy").unlink()
    with pytest.raises(tr.ModelFileError, match="missing: run `make data`"):
        tr.load_new_data(data_dir=copy_dir, manifest=manifest)
    with pytest.raises(tr.ModelFileError, match="missing: run `make data`"):
        tr.load_manifest(tmp_path_factory.mktemp("empty"))


@pytest.mark.parametrize(
    "batch, message",
    [
        (np.zeros((8, 8)), "use image\\[None\\]"),
        (np.zeros((3, 7, 7)), "expected a batch of images"),
        (np.zeros((0, 8, 8)), "empty"),
        (np.full((2, 8, 8), "1"), "expected numbers"),
        (np.where(np.eye(8)[None] > 0, np.nan, 1.0), "NaN or infinite"),
        (np.full((2, 8, 8), 200.0), "expects raw grey levels in \\[0.0, 16.0\\]"),
        (np.full((2, 8, 8), -1.0), "expects raw grey levels"),
    ],
)
def test_preprocess_refuses_bad_batches(batch, message, manifest):
    with pytest.raises(ValueError, match=message):
        tr.preprocess(batch, manifest)


def test_predict_refuses_an_unpreprocessed_batch(manifest):
    params = tr.load_params(manifest=manifest)
    raw = tr.load_new_data(manifest=manifest)
    with pytest.raises(ValueError, match="was not preprocessed"):
        tr.predict(params, raw.reshape(len(raw), 64), manifest)
    with pytest.raises(ValueError, match="NaN"):
        tr.predict(params, np.full((1, 64), np.nan, np.float32), manifest)
    with pytest.raises(ValueError, match="shape \\(n, 64\\)"):
        tr.predict(params, np.zeros((1, 8, 8), np.float32), manifest)
    # and the preprocessed one is fine: probabilities that sum to 1
    p = tr.predict(params, tr.preprocess(raw, manifest), manifest)
    assert np.allclose(p.sum(1), 1, atol=1e-5)


def test_the_new_data_before_the_scanner_is_the_same_digits(manifest):
    """The chapter draws each new image beside the old scanner's image of the
    same digit: the pairing must be right."""
    raw = np.load(tr.verified_path("new_data.npy", manifest), allow_pickle=False)
    labels = np.load(tr.verified_path("new_labels.npy", manifest), allow_pickle=False)
    before, y = tr.new_data_before_the_scanner()
    assert before.shape == raw.shape and (y == labels).all()
    # With its own digit, a shipped image differs from the scanner's noiseless view
    # by the noise alone (sd SCANNER_NOISE; the faded grey levels, 5 to 12.2, sit
    # over 3 sd from the clipping at 0 and 16): 25,664 pixels pin the rms within 1 %.
    # A wrong pairing adds the two digits' difference to the noise.
    rms = lambda a, b: float(np.sqrt(np.mean((a - b) ** 2)))
    view = tr.blurred_and_faded(before)
    assert rms(raw, view) == pytest.approx(tr.SCANNER_NOISE, rel=0.03)
    # and the check has power: paired with other digits (half the set away: other
    # classes) the rms is far outside that 3 %
    assert rms(raw, np.roll(view, len(view) // 2, axis=0)) > 1.2 * tr.SCANNER_NOISE


def test_predictions_grid_draws_each_image_beside_its_original():
    rng = np.random.default_rng(0)
    old, new = rng.uniform(0, 16, (2, 5, 8, 8))
    probabilities = np.eye(10)[[0, 1, 2, 3, 5]]  # the last guess wrong
    fig = figs.predictions_grid(new, np.arange(5), probabilities, [str(d) for d in range(10)], before=old, columns=3)
    drawn = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    assert len(drawn) == 5
    for tile, o, n in zip(drawn, old, new):
        assert tile.shape == (8, 17)
        np.testing.assert_array_equal(tile[:, :8], o)
        assert np.ma.getmaskarray(tile)[:, 8].all() or np.isnan(np.asarray(tile)[:, 8]).all()  # the white gap
        np.testing.assert_array_equal(tile[:, 9:], n)
    titles = [ax.get_title() for ax in fig.axes if ax.images]
    assert titles[0] == "0 (100%)" and titles[4] == "5 (100%)\ntrue 4"
    plt.close(fig)


def test_keras_files_hold_the_npz_weights(manifest):
    import keras

    params = tr.load_params(manifest=manifest)
    for name in ("source_model.h5", "source_model.keras"):
        model = keras.models.load_model(tr.verified_path(name, manifest), compile=False)
        for ours, theirs in zip((params[k] for k in ("W1", "b1", "W2", "b2")), model.get_weights()):
            assert np.array_equal(np.asarray(ours), theirs), name


def _keras_archive(path):
    """What a .keras file holds that does not change between identical saves:
    Keras writes the save time into metadata.json, the zip members' dates,
    and Python object ids (memory addresses) as "shared_object_id" in
    config.json."""
    with zipfile.ZipFile(path) as archive:
        metadata = json.loads(archive.read("metadata.json"))
        metadata.pop("date_saved")
        config = re.sub(rb'"shared_object_id": \d+', b'"shared_object_id": ID', archive.read("config.json"))
        return metadata, config, archive.read("model.weights.h5")


def test_make_data_reproduces_the_shipped_files(tmp_path, manifest):
    # The slow test (minutes on a cold JAX cache): it reruns every sweep.
    make_transfer_data.main(tmp_path)
    fresh = json.loads((tmp_path / tr.MANIFEST).read_text())
    assert sorted(fresh["files"]) == sorted(manifest["files"])
    for name in manifest["files"]:
        if name == "source_model.keras":  # not byte-reproducible, see _keras_archive
            assert _keras_archive(tmp_path / name) == _keras_archive(tr.DATA_DIR / name)
        else:
            assert (tmp_path / name).read_bytes() == (tr.DATA_DIR / name).read_bytes(), name
    fresh["files"].pop("source_model.keras")
    shipped = json.loads((tr.DATA_DIR / tr.MANIFEST).read_text())
    shipped["files"].pop("source_model.keras")
    assert fresh == shipped


# ----------------------------------------------------------------------------
# The claims of the chapter
# ----------------------------------------------------------------------------


def test_four_steps_keras_and_jax_agree(chapter):
    assert chapter["difference_formats"] == 0.0  # "Both formats give the same predictions"
    assert chapter["difference_jax_keras"] < 1e-6 and chapter["same_answers"]


def test_the_optimizer_story(chapter):
    assert type(chapter["model"].optimizer).__name__ == "Adam"
    assert float(chapter["model"].optimizer.learning_rate) == pytest.approx(0.01)
    assert chapter["optimizer_after_h5"] == "RMSprop"
    assert float(chapter["resaved"].optimizer.learning_rate) == pytest.approx(0.001)


def test_source_model_fails_on_the_new_scanner_and_is_confidently_wrong(chapter):
    assert chapter["accuracy_old_scanner"] > 0.85
    assert chapter["accuracy_h5"] < 0.3
    assert chapter["confidence_wrong"] > 0.7  # "still fairly sure of itself"


def _stats(chapter, setting, way, k):
    test = chapter["sweeps"][setting]["test"][tr.WAYS.index(way), figs.KS.index(k)]
    return test.mean(), test.std()


def test_new_scanner_whole_model_beats_scratch_by_more_than_twice_the_spread(chapter):
    for k in figs.KS[:-1]:
        (whole, s_whole), (scratch, s_scratch) = (_stats(chapter, "new scanner", w, k)
                                                  for w in ("fine-tune, whole model", "scratch"))
        assert whole - scratch > 2 * max(s_whole, s_scratch), k
    gain = {k: chapter["gain"]("new scanner", "fine-tune, whole model", k) for k in figs.KS}
    assert gain[40] < gain[1] / 4  # "small with the whole pool"
    # "A linear probe or fine-tuning with a new head gains much less at one label per class"
    for way in ("linear probe", "fine-tune, new head"):
        assert chapter["gain"]("new scanner", way, 1) < gain[1] / 2


def test_permuted_pixels_negative_transfer(chapter):
    for way in ("linear probe", "fine-tune, new head", "fine-tune, whole model"):
        assert chapter["gain"]("permuted pixels", way, 1) < 0, way
    for way in ("linear probe", "fine-tune, whole model"):
        (reuse, s_reuse), (scratch, s_scratch) = (_stats(chapter, "permuted pixels", w, 1) for w in (way, "scratch"))
        assert scratch - reuse > 2 * max(s_reuse, s_scratch), way
    # fine-tuning catches up, the probe stays behind at every k
    gap = lambda k: chapter["gain"]("permuted pixels", "fine-tune, whole model", k)
    assert abs(gap(40)) < abs(gap(1)) / 2
    assert all(chapter["gain"]("permuted pixels", "linear probe", k) < 0 for k in figs.KS)


def test_similarity_gain_goes_from_negative_to_positive(chapter):
    assert chapter["gain_probe"][0] < 0 < chapter["gain_probe"][-1]
    assert chapter["gain_finetune"][0] < 0 < chapter["gain_finetune"][-1]
    assert 0 < chapter["crossing_probe"] < 1
    assert chapter["gain_probe"][-1] > 0.1 and chapter["gain_probe"][0] < -0.1
    # no shared feature: negative transfer at every number of labels, for both ways
    mean = chapter["world_mean"]
    assert np.all(mean[0, 1] < mean[0, 0]) and np.all(mean[0, 2] < mean[0, 0])


def test_similarity_figure_frames(chapter):
    spec = figs.similarity_spec(chapter["world_mean"])
    low = spec.frame(similarity=0.0, labels_per_class=5)
    high = spec.frame(similarity=1.0, labels_per_class=5)
    assert not np.allclose(low.lines["linear probe"][1], high.lines["linear probe"][1])
    assert np.allclose(low.lines["gain linear probe"][1], chapter["gain_probe"])
    # live sliders give values between grid points: the nearest grid point is shown
    assert spec.frame(similarity=0.99, labels_per_class=6).note == "s = 1, k = 5"
    assert set(high.lines) <= set(spec.styles)


def test_similarity_figure_faces_start_at_the_initial_values_and_survive_the_extremes(chapter):
    spec = figs.similarity_spec(chapter["world_mean"])
    check_faces_start_at_initial(spec)
    check_extremes_draw(live_figure(spec))


def test_source_features_do_not_separate_the_classes_better_by_class_means(chapter):
    ncm = chapter["ncm"]
    for setting in ("new scanner", "permuted pixels"):
        assert ncm[setting, "features"] < ncm[setting, "pixels"], setting


def test_cost_claims(chapter):
    cost, source_steps = chapter["cost"], chapter["source_steps"]
    assert cost["scratch", 1] == -1 and cost["fine-tune, whole model", 1] > 0
    assert 0 < cost["fine-tune, whole model", 40] <= cost["scratch", 40]
    assert cost["fine-tune, whole model", 40] + source_steps > cost["scratch", 40]


# ----------------------------------------------------------------------------
# Exercise solutions
# ----------------------------------------------------------------------------


def test_every_exercise_has_a_tested_solution():
    assert set(solution_blocks(CHAPTER)) == {"ex-tl-probe-bound", "ex-tl-forgetting", "ex-tl-skip-preprocess",
                                            "ex-tl-checksum"}


def solve(chapter, label):
    return run_solution(chapter, solution_blocks(CHAPTER)[label])


def test_probe_cannot_beat_logistic_regression(chapter):
    solve(chapter, "ex-tl-probe-bound")
    # convex problem: the probe approaches the minimum from above (1/C = 1e-6 regularisation)
    assert chapter["probe_loss"] >= chapter["sklearn_loss"] - 1e-3
    assert chapter["probe_loss"] < chapter["sklearn_loss"] + 0.1


def test_fine_tuning_forgets_the_old_scanner(chapter):
    solve(chapter, "ex-tl-forgetting")
    assert chapter["old_after"] < chapter["old_before"] - 0.05
    assert chapter["new_after"] > chapter["accuracy_h5"] + 0.2


def test_skipping_preprocessing_gives_confident_nonsense(chapter):
    solve(chapter, "ex-tl-skip-preprocess")
    assert chapter["unscaled_accuracy"] < 0.3 and chapter["unscaled_confidence"] > 0.7


def test_chunked_checksums_agree(chapter):
    solve(chapter, "ex-tl-checksum")
    assert all(chapter["checksums_agree"].values()) and len(chapter["checksums_agree"]) == 6


def test_scratch_is_blind_to_a_pixel_permutation():
    # "permuting the inputs only permutes the rows of W1": training on permuted
    # pixels from row-permuted initial weights gives the same network.
    X = jax.random.uniform(jax.random.key(0), (30, 6))
    y = jnp.arange(30) % 3
    order = np.random.default_rng(0).permutation(6)
    start = tr.init_mlp(jax.random.key(1), 6, 5, 3)
    plain, _ = tr.train(start, X, y, 0.01, 50)
    permuted, _ = tr.train({**start, "W1": start["W1"][order]}, X[:, order], y, 0.01, 50)
    # float32 sums in another order
    assert np.allclose(tr.logits(plain, X), tr.logits(permuted, X[:, order]), atol=1e-5)
    assert np.allclose(permuted["W1"], plain["W1"][order], atol=1e-5)


def test_weights_of_pixels_blank_in_every_source_image_never_move(chapter):
    # zero input -> zero gradient -> Adam's update is exactly 0
    assert chapter["blank_change"] == 0.0
    columns = np.flatnonzero(chapter["blank"]) % 8
    assert chapter["blank"].sum() >= 1 and set(columns) <= {0, 7}  # "in the left and right edge columns"
    assert chapter["relative_change"] > 1  # the prose: the change is larger than the initial weights
