"""The survey of providers and the test signature shared by «eln crypto» and the admin's screen."""

from __future__ import annotations

from typing import Any

import pytest

from providers.base import Pin
from providers.errors import WrongPin
from providers.inventory import sign_check, survey
from providers.registry import BUILTIN
from providers.software import DemoKeySet, SoftwareProvider
from tests.providers.conftest import KEY_PASSWORD


def test_survey_says_why_a_provider_does_not_work(software_set: DemoKeySet) -> None:
    def settings(name: str) -> dict[str, Any]:
        if name == "software":
            return {"key_dir": str(software_set.directory)}
        if name == "pkcs11":
            return {"module": "/nonexistent/librtpkcs11ecp.so"}
        return {}

    rows = {r.name: r for r in survey(settings, "software")}
    assert set(BUILTIN) <= set(rows)
    assert rows["software"].available and rows["software"].selected
    assert rows["software"].state == "работает" and rows["software"].title
    pkcs11 = rows["pkcs11"]
    assert not pkcs11.available and not pkcs11.selected
    assert "/nonexistent/librtpkcs11ecp.so" in str(pkcs11.reason)
    assert pkcs11.state == f"нет: {pkcs11.reason}"
    assert pkcs11.as_dict()["available"] is False


def test_sign_check_verifies_with_gostsign(software_set: DemoKeySet) -> None:
    provider = SoftwareProvider({"key_dir": software_set.directory})
    info = software_set["doctor1"]
    result = sign_check(provider, info, Pin(KEY_PASSWORD))
    assert result.verified and result.valid_now
    assert len(result.digest) == info.bits // 8
    info.certificate.public_key.verify_digest(result.digest, result.signature)
    again = sign_check(provider, info, Pin(KEY_PASSWORD))
    assert again.digest != result.digest  # a fresh message each time
    with pytest.raises(WrongPin):
        sign_check(provider, info, Pin("0000"))
