from __future__ import annotations

import pytest

from tests import oracles


@pytest.fixture(scope="session")
def openssl() -> oracles.Tool:
    return oracles.openssl()


@pytest.fixture(scope="session")
def xmlsec1() -> oracles.Tool:
    return oracles.xmlsec1()


@pytest.fixture(scope="session")
def certtool() -> oracles.Tool:
    return oracles.certtool()
