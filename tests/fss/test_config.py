"""FssConfig: addresses per version and contour, the Fund certificate per contour, checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from eln_tui.core.errors import ElnError
from eln_tui.core.fss import (
    ENDPOINTS,
    Contour,
    FssConfig,
    FssConfigError,
    Operation,
    ProtocolVersion,
)
from gostsign.testpki import Pki

OGRN = "1027500716143"


@pytest.mark.parametrize(
    ("version", "contour", "url", "encrypts"),
    [
        ("2.0", "production", "https://docs.fss.ru/WSLnCryptoV20/FileOperationsLnService", True),
        ("2.0", "test", "https://docs-test.fss.ru/WSLnCryptoV20/FileOperationsLnService", True),
        ("2.0", "test-plain", "https://docs-test.fss.ru/WSLnV20_2/FileOperationsLnService", False),
        ("1.1", "production", "https://docs.fss.ru/WSLnCryptoV11/FileOperationsLnPort", True),
        ("1.1", "test", "https://docs-test.fss.ru/WSLnCryptoV11/FileOperationsLnPort", True),
        ("1.1", "test-plain", "https://docs-test.fss.ru/WSLnV11/FileOperationsLnPort", False),
    ],
)
def test_endpoints_of_protocol_md(version: str, contour: str, url: str, encrypts: bool) -> None:
    config = FssConfig(ogrn=OGRN, version=version, contour=contour)  # type: ignore[arg-type]
    assert config.endpoint == url
    assert config.encrypts is encrypts
    assert ENDPOINTS[(ProtocolVersion(version), Contour(contour))] == url


def test_the_emulator_needs_its_address() -> None:
    config = FssConfig(ogrn=OGRN, contour=Contour.EMULATOR)
    assert config.encrypts
    with pytest.raises(FssConfigError, match="адрес сервера"):
        _ = config.endpoint
    url = "http://127.0.0.1:8080/WSLnCryptoV20/FileOperationsLnService"
    assert FssConfig(ogrn=OGRN, contour=Contour.EMULATOR, url=url).endpoint == url
    plain = FssConfig(ogrn=OGRN, contour=Contour.EMULATOR, url=url, encryption=False)
    assert not plain.encrypts


def test_fund_certificate_per_contour(pki: Pki) -> None:
    config = FssConfig(
        ogrn=OGRN,
        contour=Contour.TEST,
        fund_certificates={  # PEM, DER or Certificate are accepted
            Contour.TEST: pki.fund.cert.pem,  # type: ignore[dict-item]
            "production": pki.ca.cert.der,  # type: ignore[dict-item]
        },
    )
    assert config.fund_certificate == pki.fund.cert
    assert config.fund_certificates[Contour.PRODUCTION] == pki.ca.cert
    other = FssConfig(ogrn=OGRN, contour=Contour.TEST_PLAIN, fund_certificates={})
    with pytest.raises(FssConfigError, match="сертификат уполномоченного лица СФР"):
        _ = other.fund_certificate


@pytest.mark.parametrize(
    ("kw", "text"),
    [
        ({"ogrn": "1027500716144"}, "контрольное число"),
        ({"ogrn": "12345"}, "13 или 15 цифр"),
        ({"version": "3.0"}, "Версия протокола"),
        ({"contour": "stage"}, "Неизвестный контур"),
        ({"url": "ftp://x/y"}, "http:// или https://"),
        ({"contour": "production", "encryption": False}, "только зашифрованные"),
        ({"phone": "1" * 31}, "Телефон"),
        ({"email": "a" * 41}, "E-mail"),
        ({"author": "А" * 121}, "ФИО"),
        ({"mchd_uuid": "not-a-guid"}, "GUID"),
        ({"read_timeout": 0}, "больше нуля"),
        ({"retries": -1}, "отрицательным"),
        ({"fund_certificates": {"test": b"garbage"}}, "не является сертификатом"),
    ],
)
def test_invalid_settings_are_refused_in_russian(kw: dict[str, Any], text: str) -> None:
    values: dict[str, Any] = {"ogrn": OGRN, **kw}
    with pytest.raises(FssConfigError, match=text) as info:
        FssConfig(**values)
    assert isinstance(info.value, ElnError)  # the UI shows .message as is
    assert info.value.message == str(info.value)


def test_registry_contacts_are_required(make_config: Callable[..., FssConfig]) -> None:
    with pytest.raises(FssConfigError, match=r"Телефон лица.*E-mail лица"):
        make_config(phone="", email=" ").check_registry_contacts()
    make_config().check_registry_contacts()


def test_only_read_only_operations_are_safe_to_repeat() -> None:
    assert {op for op in Operation if op.safe_to_retry} == {
        Operation.GET_EXISTING_LN_NUM_RANGE,
        Operation.GET_LN_DATA,
        Operation.GET_LN_LIST_BY_SNILS,
        Operation.GET_LN_LIST_BY_DATE,
    }
    assert Operation.PR_PARSE_FILELNLPU.signs_rows
    assert not any(op.signs_rows for op in Operation if op is not Operation.PR_PARSE_FILELNLPU)
