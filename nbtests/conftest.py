import os

# Tests run on the CPU, like the chapters (JAX otherwise probes for accelerators).
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
