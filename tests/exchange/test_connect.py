"""From settings + the [fss] section to a client configuration: contour, address, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from eln_tui.core.exchange.connect import contour_of, fss_config, mo_reference
from eln_tui.core.fss import ENDPOINTS, Contour, ProtocolVersion
from eln_tui.core.fss.errors import FssConfigError
from eln_tui.core.storage import OrganisationData, SettingsData
from gostsign import testpki

OGRN = "1027700132195"
ORGS = [OrganisationData("ГБУЗ «Тест»", "г. Москва", OGRN, uses_integration=True)]


def settings(**kw: object) -> SettingsData:
    values: dict[str, object] = {
        "enabled": True,
        "server_url": "http://127.0.0.1:9/WSLnCryptoV20/FileOperationsLnService",
        "registry_phone": "+7 495 000-00-00",
        "registry_email": "eln@example.test",
    }
    values.update(kw)
    return SettingsData(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def fund_pem(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ca = testpki.make_ca()
    path = tmp_path_factory.mktemp("fund") / "fund.pem"
    path.write_bytes(ca.cert.pem)
    return path


@pytest.mark.parametrize(("key", "address"), sorted(ENDPOINTS.items()))
def test_the_funds_addresses_name_their_contour(
    key: tuple[ProtocolVersion, Contour], address: str
) -> None:
    assert contour_of(address + "?WSDL") == (key[1], address)
    assert contour_of(address.upper()) == (key[1], address)


def test_other_addresses_are_not_a_fund_contour() -> None:
    assert contour_of(" http://127.0.0.1:8080/ws?wsdl ") == (None, "http://127.0.0.1:8080/ws")


def test_database_settings_first_then_the_section(fund_pem: Path) -> None:
    config = fss_config(
        settings(protocol_version="1.1"),
        ORGS,
        {"fund_certificate": str(fund_pem), "phone": "ignored", "read_timeout": 7},
        author="Иванова М. П.",
    )
    assert config.contour is Contour.EMULATOR and config.url is not None
    assert config.ogrn == OGRN and config.version is ProtocolVersion.V11
    assert config.phone == "+7 495 000-00-00" and config.read_timeout == 7
    assert config.author == "Иванова М. П."
    assert config.fund_certificate.serial > 0


def test_a_fund_address_selects_the_contour_and_its_certificate(fund_pem: Path) -> None:
    test_url = ENDPOINTS[(ProtocolVersion.V20, Contour.TEST)]
    config = fss_config(
        settings(server_url=test_url + "?WSDL"),
        ORGS,
        {"fund_certificates": {"test": str(fund_pem)}, "url": "http://stale"},
    )
    assert config.contour is Contour.TEST and config.url is None
    assert config.endpoint == test_url
    assert Contour.TEST in config.fund_certificates


@pytest.mark.parametrize(
    ("changes", "section", "words"),
    [
        ({"enabled": False}, {}, "Интеграция с ЕИИС «Соцстрах» выключена"),
        ({"server_url": ""}, {}, "«Адрес сервера»"),
        ({}, {"fund_certificate": "/nonexistent/fund.pem"}, "не удаётся прочитать"),
        ({}, {"fund_certificates": {"moon": "x"}}, "Неизвестный контур «moon»"),
        ({}, {"fund_certificates": "x"}, "должен быть таблицей"),
        ({}, {"no_such_knob": 1}, "неизвестный параметр"),
    ],
)
def test_refusals_are_russian(
    changes: dict[str, object], section: dict[str, object], words: str
) -> None:
    with pytest.raises(FssConfigError) as info:
        fss_config(settings(**changes), ORGS, section)
    assert words in info.value.message


def test_no_institution_using_the_integration() -> None:
    with pytest.raises(FssConfigError) as info:
        fss_config(settings(), [OrganisationData("ГБУЗ", "адрес", OGRN)], {})
    assert "«МО, использующие интеграцию»" in info.value.message


def test_the_mo_key_must_be_named() -> None:
    assert mo_reference({"mo_certificate": "label:mo"}) == "label:mo"
    with pytest.raises(FssConfigError) as info:
        mo_reference({})
    assert "mo_certificate" in info.value.message
