"""Session fixtures shared by the test suite."""

from __future__ import annotations

from typing import Callable, Dict

import pytest
from emlearn_gen.testing.datasets import DATASETS, Data


@pytest.fixture(scope="session")
def load_data() -> Callable[[str], Data]:
    cache: Dict[str, Data] = {}

    def load(name: str) -> Data:
        if name not in cache:
            cache[name] = DATASETS[name]()
        return cache[name]

    return load
