from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fss_emulator import Emulator
from gostsign.testpki import Pki, create_test_pki
from tests.emulator.messages import Mo, Signers


@pytest.fixture(scope="session")
def pki() -> Pki:
    """The product side's test PKI (its own CA, МО, doctor, VK chairman)."""
    return create_test_pki()


@pytest.fixture
def emulator(tmp_path: Path, pki: Pki) -> Iterator[Emulator]:
    """An encrypted emulator on a free loopback port that trusts the test PKI's CA."""
    with Emulator(tmp_path / "fss", trust=[pki.ca.cert]) as emu:
        yield emu


@pytest.fixture
def plain_emulator(tmp_path: Path, pki: Pki) -> Iterator[Emulator]:
    with Emulator(tmp_path / "fss-plain", plain=True, trust=[pki.ca.cert]) as emu:
        yield emu


@pytest.fixture
def signers(pki: Pki) -> Signers:
    return Signers(pki.mo, pki.doctor, pki.chairman)


@pytest.fixture
def mo(emulator: Emulator, signers: Signers) -> Mo:
    return Mo(emulator.url, emulator.fund_cert, signers, trusted=[emulator.ca_cert])


@pytest.fixture
def mo11(emulator: Emulator, signers: Signers) -> Mo:
    return Mo(
        emulator.url_v11, emulator.fund_cert, signers, version="1.1", trusted=[emulator.ca_cert]
    )
