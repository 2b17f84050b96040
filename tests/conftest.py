"""Fixtures shared by the test modules."""

import pandas as pd
import pytest

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
