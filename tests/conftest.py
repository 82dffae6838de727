"""Shared fixtures. Warnings are errors in the test run (pyproject.toml lists the exceptions)."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261124)
