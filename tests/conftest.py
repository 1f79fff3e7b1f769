"""What the whole suite shares: records of up-to-date projects (`tenantspec.plan.record`) go to a
folder of the run's own, never to the user's cache."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

_RECORDS: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    folder = tempfile.mkdtemp(prefix="tenantspec-records-")
    _RECORDS.append(folder)
    os.environ["TENANTSPEC_CACHE_DIR"] = folder


def pytest_unconfigure(config: pytest.Config) -> None:
    for folder in _RECORDS:
        shutil.rmtree(folder, ignore_errors=True)
