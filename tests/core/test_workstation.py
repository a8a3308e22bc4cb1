"""The admin's changes to the workstation file: the Fund certificate per contour (as the exchange
will pick it), the provider choice, refusals in Russian, and the audit lines."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from eln_tui.core.exchange.connect import fss_config
from eln_tui.core.fss import Contour
from eln_tui.core.storage import ElnStore, OrganisationData, SettingsData
from eln_tui.core.workstation import (
    WorkstationFileError,
    choose_provider,
    fund_certificate_path,
    load_certificate_file,
    save_fund_certificate,
    with_fund_certificate,
)
from gostsign.curves import get_curve
from gostsign.gost3410 import PrivateKey
from gostsign.x509 import issue_certificate
from tests.core import factories
from tests.core.conftest import People


@pytest.fixture
def system_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "etc" / "eln" / "workstation.toml"
    monkeypatch.setenv("ELN_WORKSTATION_CONFIG", str(path))
    return path


@pytest.fixture
def cert_files(tmp_path: Path) -> tuple[Path, Path]:
    """A GOST certificate «of the Fund» as a PEM and a DER file."""
    key = PrivateKey.generate(get_curve("cryptopro-a"))
    cert = issue_certificate(
        key.public_key(),
        "CN=Тестовый сертификат СФР,O=СФР,C=RU,OGRN=1027739443236",
        None,
        key,
        not_before=datetime.now(UTC) - timedelta(hours=1),
    )
    pem = tmp_path / "fund-test.pem"
    pem.write_bytes(cert.pem)
    der = tmp_path / "fund-prod.cer"
    der.write_bytes(cert.der)
    return pem, der


def test_single_certificate_serves_the_contour_in_use() -> None:
    section = {"fund_certificate": "/a.pem", "fund_certificates": {"test": "/t.pem"}}
    assert fund_certificate_path(section, Contour.EMULATOR, Contour.EMULATOR) == "/a.pem"
    assert fund_certificate_path(section, Contour.TEST, Contour.EMULATOR) == "/t.pem"
    assert fund_certificate_path(section, Contour.PRODUCTION, Contour.EMULATOR) is None
    moved = with_fund_certificate(section, Contour.PRODUCTION, "/p.pem", Contour.EMULATOR)
    assert moved == {
        "fund_certificates": {"test": "/t.pem", "emulator": "/a.pem", "production": "/p.pem"}
    }
    assert section["fund_certificate"] == "/a.pem"  # the original is not changed
    # no contour in use yet: the single file served none and gives way
    assert with_fund_certificate(section, Contour.TEST, "/n.pem", None) == {
        "fund_certificates": {"test": "/n.pem"}
    }
    for contour, path in (
        (Contour.EMULATOR, "/a.pem"),
        (Contour.TEST, "/t.pem"),
        (Contour.PRODUCTION, "/p.pem"),
    ):
        assert fund_certificate_path(moved, contour, Contour.PRODUCTION) == path


def test_save_fund_certificate_writes_the_section_and_audits(
    store: ElnStore, people: People, system_file: Path, cert_files: tuple[Path, Path]
) -> None:
    pem, der = cert_files
    system_file.parent.mkdir(parents=True)
    system_file.write_text('[signing]\nprovider = "software"\n\n[fss]\nread_timeout = 60\n')
    path, summary = save_fund_certificate(
        store, people.operator.signer, Contour.TEST, str(pem), Contour.PRODUCTION
    )
    assert path == system_file and summary.path == str(pem.resolve())
    path, _ = save_fund_certificate(
        store, people.operator.signer, Contour.PRODUCTION, str(der), Contour.PRODUCTION
    )
    data = tomllib.loads(system_file.read_text(encoding="utf-8"))
    assert data["signing"] == {"provider": "software"}  # other sections kept
    assert data["fss"] == {
        "read_timeout": 60,
        "fund_certificates": {"test": str(pem.resolve()), "production": str(der.resolve())},
    }
    audit = store.audit_trail(entity="workstation")
    assert [(a.action, a.login, a.details["contour"]) for a in audit] == [
        ("set_fund_certificate", people.operator.login, "test"),
        ("set_fund_certificate", people.operator.login, "production"),
    ]
    assert audit[0].details["serial"] == summary.serial_hex
    assert audit[0].details["previous"] is None
    assert audit[1].details["previous"] is None
    save_fund_certificate(store, people.operator.signer, Contour.TEST, str(der), None)
    replaced = store.audit_trail(entity="workstation")[-1]
    assert replaced.details["previous"] == str(pem.resolve())  # nothing is lost unnoticed
    save_fund_certificate(store, people.operator.signer, Contour.TEST, str(pem), None)
    # the exchange reads what was written: the test contour gets the PEM's certificate
    settings = SettingsData(
        enabled=True,
        server_url="https://docs-test.fss.ru/WSLnCryptoV20/FileOperationsLnService",
        registry_phone="+7 495 000-00-00",
        registry_email="eln@example.ru",
    )
    org = OrganisationData("МО", "г. Москва", factories.OGRN, uses_integration=True)
    config = fss_config(settings, [org], data["fss"])
    assert config.fund_certificates[Contour.TEST].der == der.read_bytes()


def test_refusals_name_the_file(
    store: ElnStore,
    people: People,
    system_file: Path,
    tmp_path: Path,
    cert_files: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(WorkstationFileError, match=r"не является сертификатом X\.509") as err:
        load_certificate_file(str(junk))
    assert err.value.field == "fund_file" and str(junk) in err.value.message
    with pytest.raises(WorkstationFileError, match="не найден"):
        load_certificate_file(str(tmp_path / "missing.pem"))
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("ELN_WORKSTATION_CONFIG", str(blocker / "workstation.toml"))
    with pytest.raises(WorkstationFileError, match="только администратор системы"):
        save_fund_certificate(store, people.operator.signer, Contour.TEST, str(cert_files[0]), None)
    with pytest.raises(WorkstationFileError, match="только администратор системы"):
        choose_provider(store, people.operator.signer, "software", {})
    assert store.audit_trail(entity="workstation") == []


def test_choose_provider_like_eln_crypto_use(
    store: ElnStore, people: People, system_file: Path, tmp_path: Path
) -> None:
    path = choose_provider(store, people.operator.signer, "software", {"key_dir": tmp_path})
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    assert data == {
        "signing": {"provider": "software"},
        "providers": {"software": {"key_dir": str(tmp_path)}},
    }
    (record,) = store.audit_trail(entity="workstation", action="set_provider")
    assert record.details == {
        "config": str(system_file),
        "provider": "software",
        "settings": {"key_dir": str(tmp_path)},
    }
