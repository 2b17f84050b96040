"""Fixtures shared by the test modules."""

import os
import shutil

import numpy as np
import pandas as pd
import pytest
import scipy.sparse.linalg as sla

from recutils.datasets import load_movielens
from recutils.splits import Split, canonical_split


@pytest.fixture(scope="session")
def ratings() -> pd.DataFrame:
    """The real MovieLens 100K ratings (from the cache, GroupLens or the PyPI copy)."""
    return load_movielens("100k", verbose=False).ratings


@pytest.fixture(scope="session")
def split(ratings) -> Split:
    """The canonical split of the real MovieLens 100K ratings (tests must not modify it)."""
    return canonical_split(ratings)


@pytest.fixture(scope="session")
def svd_vectors(split) -> tuple[np.ndarray, np.ndarray]:
    """Real MovieLens 100K user and item vectors, ``(user_vectors, item_vectors)`` in the split's
    user and item order: a rank-32 truncated SVD of the training interactions, whose inner
    products rank items as a trained two-tower model would (popular items first, then taste)."""
    u, s, vt = sla.svds(split.matrix("train").astype(np.float64), k=32, random_state=0)
    return (u * np.sqrt(s)).astype(np.float32), (vt.T * np.sqrt(s)).astype(np.float32)


CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium, driven through its chromedriver (skipped without them, but
    under CI, where their absence fails)."""
    if not (CHROMIUM and CHROMEDRIVER):
        message = "Debian's chromium and chromium-driver are needed (`make test` installs them as root)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    yield driver
    driver.quit()
