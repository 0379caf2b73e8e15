"""Gateway unit-test fixtures: a real test PKI on disk."""

from __future__ import annotations

import pytest

from tests.gateway.pki import TestPki


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    """A CSO root, the CSMS server certificate and a way to issue station certificates."""
    return TestPki(tmp_path_factory.mktemp("pki"))
