"""The Fund's own signed examples (spec v2.0, bundled under tests/data/fss-examples/).

The verifier must say "valid" exactly where the examples' README table does, and name the
precise failure everywhere else. The certificates expired long ago, so the checks run at a
date inside their validity (``at=``).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from gostsign.x509 import Certificate
from gostsign.xml import profile, wssec
from gostsign.xml.errors import SignatureNotCovering
from gostsign.xml.ns import GOST_2001_REFUSED
from gostsign.xml.parse import parse
from gostsign.xml.wssec import Kind, Reason

DATA = Path(__file__).resolve().parents[1] / "data" / "fss-examples"
AT = date(2020, 9, 1)  # inside every 2012 certificate's validity
FSS = "1027739443236"

# file -> [(referenced Id, digest valid, SignatureValue valid)], as README.md's table says.
VALID_2012 = {
    "6.1.2_getNewLNNum_request.xml": [("OGRN_1027500716143", True, True)],
    "7.1.3_getNewLNNumRange_response.xml": [(f"OGRN_{FSS}", True, True)],
    "8.1.4_prParseFilelnlpu_response.xml": [(f"OGRN_{FSS}", True, True)],
    "9.1.3_getLNData_request.xml": [("OGRN_1027500716143", True, True)],
    "10.1.2_disableLn_request.xml": [("OGRN_1027500716143", True, True)],
}
INVALID_2012 = {
    # reformatted in the document: neither the digest nor the signature value holds
    "6.1.3_getNewLNNum_response.xml": [(f"OGRN_{FSS}", False, False)],
    # doctor block valid; the МО row was edited after signing; both SignatureValues valid
    "8.1.3_prParseFilelnlpu_request.xml": [
        ("ELN_900000161967_1_doc", True, True),
        ("ELN_900000161967", False, True),
    ],
}
GOST_2001 = [
    "7.1.2_getNewLNNumRange_request.xml",
    "9.1.4_getLNData_response.xml",
    "11.1.2_getExistingLNNumRange_request.xml",
    "11.1.3_getExistingLNNumRange_response.xml",
    "12.1.2_getLNListBySnils_request.xml",
    "12.1.3_getLNListBySnils_response.xml",
    "13.1.2_getLNListByDate_request.xml",
    "13.1.3_getLNListByDate_response.xml",
]
# The precise failing digests: (Id, DigestValue in the file, digest of the element as printed).
FAILING_DIGESTS = {
    "8.1.3_prParseFilelnlpu_request.xml": (
        "ELN_900000161967",
        "4LUVyX15JLYPp7OBrS4WryiH96UcnbufEFjnI4ZokxM=",
        "JQGSovq4+93q+UUNoco01ZVb+3ELlL6QCamiBJ9Xh/w=",
    ),
}


def load(name: str) -> wssec.etree._ElementTree:
    return parse((DATA / name).read_bytes(), what=name)


def test_every_example_is_bundled() -> None:
    names = {p.name for p in DATA.glob("*.xml")}
    assert (
        set(VALID_2012) | set(INVALID_2012) | set(GOST_2001) | {"10.1.3_disableLn_response.xml"}
        == names
    )


@pytest.mark.parametrize("name", sorted({**VALID_2012, **INVALID_2012}))
def test_examples_match_the_readme_table(name: str) -> None:
    expected = {**VALID_2012, **INVALID_2012}[name]
    report = wssec.verify(load(name), at=AT)
    got = [(s.reference_id, s.digest_valid, s.signature_valid) for s in report.signatures]
    assert got == expected
    for s in report.signatures:
        assert s.certificate_valid_at is True
        assert s.certificate_trusted is None  # no roots given: not checked
        if s.digest_valid is False:
            assert Reason.DIGEST_MISMATCH in s.reasons
            assert s.problems_of(Kind.CRYPTO)
        if s.signature_valid is False:
            assert Reason.SIGNATURE_INVALID in s.reasons
        assert s.valid == (s.digest_valid and s.signature_valid)
    assert report.valid == (name in VALID_2012)


def test_disable_ln_response_digest_is_reported_invalid() -> None:
    # README: "invalid" digest, signature not checked there; ours reports the digest failure.
    report = wssec.verify(load("10.1.3_disableLn_response.xml"), at=AT)
    (s,) = report.signatures
    assert s.reference_id == f"OGRN_{FSS}"
    assert s.digest_valid is False
    assert s.reasons[0] is Reason.DIGEST_MISMATCH


@pytest.mark.parametrize("name", sorted(FAILING_DIGESTS))
def test_the_failing_digest_is_named_precisely(name: str) -> None:
    element_id, in_file, computed = FAILING_DIGESTS[name]
    report = wssec.verify(load(name), at=AT)
    (s,) = report.by_id(element_id)
    (problem,) = [p for p in s.problems if p.reason is Reason.DIGEST_MISMATCH]
    assert f"#{element_id}" in problem.message
    assert in_file[:16] in problem.message
    assert computed[:16] in problem.message
    # the other signature of the message is untouched by this failure
    others = [x for x in report.signatures if x is not s]
    assert all(x.valid for x in others)


@pytest.mark.parametrize("name", GOST_2001)
def test_gost_2001_examples_are_refused_with_the_sentence(name: str) -> None:
    report = wssec.verify(load(name), at=AT)
    assert report.signatures and not report.valid
    for s in report.signatures:
        assert s.reasons == [Reason.ALGORITHM_REFUSED]  # one reason, stated once
        assert s.digest_valid is None and s.signature_valid is None
        assert GOST_2001_REFUSED in s.problems[0].message
        assert "GOST R 34.10-2001 is no longer accepted" in s.problems[0].message


def test_report_names_the_signer() -> None:
    (s,) = wssec.verify(load("8.1.4_prParseFilelnlpu_response.xml"), at=AT).signatures
    assert s.actor == f"http://eln.fss.ru/actor/fss/ca/{FSS}"
    assert s.element_name == "soap:Body"
    assert s.certificate is not None
    assert s.certificate.ogrn == FSS
    assert s.certificate.curve == "cryptopro-xcha"
    assert s.certificate.serial_hex == "1d57844c84211a00000014703e80002"
    assert "Фонд социального страхования" in (s.certificate.common_name or "")


def test_expired_certificates_are_a_certificate_problem_not_a_crypto_one() -> None:
    (s,) = wssec.verify(load("6.1.2_getNewLNNum_request.xml")).signatures  # now
    assert s.crypto_valid
    assert s.certificate_valid_at is False
    assert s.reasons == [Reason.CERT_NOT_VALID_AT]
    assert s.problems[0].kind is Kind.CERTIFICATE
    assert "expired on 2021-01-01" in s.problems[0].message


def test_doctor_and_mo_signatures_in_8_1_3_follow_the_profile() -> None:
    report = profile.verify(load("8.1.3_prParseFilelnlpu_request.xml"), at=AT)
    doc, row = report.signatures
    assert doc.actor == "http://eln.fss.ru/actor/doc/900000161967_1_doc"
    assert doc.element_name == "hospitalBreach"
    assert doc.valid
    assert row.actor == "http://eln.fss.ru/actor/mo/1021900520410/ELN_900000161967"
    assert row.certificate is not None and row.certificate.ogrn == "1021900520410"
    assert row.reasons == [Reason.DIGEST_MISMATCH]  # no profile complaint: actor, Id, ОГРН fit


def test_the_slip_in_6_1_2_is_reported_by_the_profile() -> None:
    # protocol.md §4.1: the example's actor names ОГРН …3236 while the Body is OGRN_…6143,
    # and the signing certificate is the Fund's own. Crypto is fine; the profile is not.
    report = profile.verify(load("6.1.2_getNewLNNum_request.xml"), at=AT)
    (s,) = report.signatures
    assert s.crypto_valid
    assert Reason.ACTOR_MISMATCH in s.reasons
    assert Reason.TOKEN_ID_MISMATCH in s.reasons
    assert Reason.OGRN_MISMATCH in s.reasons
    assert {p.kind for p in s.problems} == {Kind.PROFILE}


def test_fund_reply_verifies_with_the_configured_fund_certificate() -> None:
    doc = load("7.1.3_getNewLNNumRange_response.xml")
    fund = wssec.verify(doc, at=AT).signatures[0].certificate
    assert fund is not None
    report = profile.verify_reply(doc, fund.certificate, at=AT)
    assert report.valid


def test_fund_reply_with_another_configured_certificate_is_refused() -> None:
    doc = load("8.1.4_prParseFilelnlpu_response.xml")
    other = wssec.verify(load("8.1.3_prParseFilelnlpu_request.xml"), at=AT).signatures[0]
    assert other.certificate is not None
    configured: Certificate = other.certificate.certificate
    with pytest.raises(SignatureNotCovering, match="not-fund-certificate"):
        profile.verify_reply(doc, configured, at=AT)
