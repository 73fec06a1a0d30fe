"""Run the course notebooks as tests (``pytest --nbval-lax notebooks/``): in smoke mode, offline, with a private
toy-data cache, in this Python environment.

Each notebook's third cell reads ``CYCLEGAN_LITE_SMOKE`` and, when it is "1", swaps in a few training steps on
small embedded data. Kernels inherit this process's environment, so setting it here reaches them.
"""

from __future__ import annotations

import os
import shutil
import tempfile

os.environ["CYCLEGAN_LITE_SMOKE"] = "1"

# The lessons write their runs (and a user may save executed copies) under notebooks/outputs/: not lessons.
collect_ignore = ["outputs"]

# A smoke-mode cell finishes in seconds; a cell still running after this long is stuck, not slow.
CELL_TIMEOUT_S = 300.0
NBVAL_DEFAULT_CELL_TIMEOUT_S = 2000.0  # nbval's own default, which means "not set on the command line"


def pytest_configure(config):
    """Give the kernels a private toy-data cache (unless the caller chose one) and sensible nbval options."""
    if not os.environ.get("CYCLEGAN_LITE_CACHE"):
        config._notebook_cache = tempfile.mkdtemp(prefix="cyclegan-lite-notebook-cache-")
        os.environ["CYCLEGAN_LITE_CACHE"] = config._notebook_cache
    option = config.option
    if getattr(option, "nbval_cell_timeout", None) == NBVAL_DEFAULT_CELL_TIMEOUT_S:
        option.nbval_cell_timeout = CELL_TIMEOUT_S
    if hasattr(option, "nbval_current_env") and not getattr(option, "nbval_kernel_name", None):
        # the kernel runs in the interpreter running pytest, not whatever "python3" kernel a user has installed
        option.nbval_current_env = True


def pytest_unconfigure(config):
    cache = getattr(config, "_notebook_cache", None)
    if cache:
        shutil.rmtree(cache, ignore_errors=True)
        if os.environ.get("CYCLEGAN_LITE_CACHE") == cache:
            del os.environ["CYCLEGAN_LITE_CACHE"]
