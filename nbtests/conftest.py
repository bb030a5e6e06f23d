import os

# Tests run on the CPU, like the chapters (JAX otherwise probes for accelerators).
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import matplotlib  # noqa: E402

matplotlib.use("Agg")


import warnings  # noqa: E402

import jax  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def float64_and_no_warnings():
    """The chapters run in 64-bit floats, and a reader must never see an
    overflow or NaN warning: inside this fixture any warning fails the test.
    Test modules opt in with ``pytestmark = pytest.mark.usefixtures(...)``."""
    with jax.enable_x64(True), warnings.catch_warnings():
        warnings.simplefilter("error")
        yield
