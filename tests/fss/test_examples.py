"""The spec's own replies (tests/data/fss-examples): the client verifies the Fund's signature on
7.1.3 and 8.1.4 (CryptoPro-made, certificate valid in 2020) and reads every reply shape."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from lxml import etree

from eln_tui.core.fss import (
    Contour,
    FssClient,
    FssConfig,
    NumbersResult,
    Operation,
    RegistryResult,
    ReplayError,
    ReplyDecryptError,
    ReplySignatureError,
)
from eln_tui.core.fss import parse as tolerant
from gostsign.testpki import Pki
from gostsign.x509 import Certificate
from gostsign.xml import wssec
from gostsign.xml.parse import parse

DATA = Path(__file__).resolve().parents[1] / "data" / "fss-examples"
RANGE = "7.1.3_getNewLNNumRange_response.xml"
REGISTRY = "8.1.4_prParseFilelnlpu_response.xml"
AT_RANGE = datetime(2020, 8, 28, 12, 0, tzinfo=UTC)  # the reply's requestId day
AT_REGISTRY = datetime(2020, 8, 24, 12, 0, tzinfo=UTC)
FSS_SERIAL = "1d57844c84211a00000014703e80002"


def load(name: str) -> bytes:
    return (DATA / name).read_bytes()


def signer_cert(name: str) -> Certificate:
    (sig,) = wssec.verify(parse(load(name)), at=AT_RANGE).signatures
    assert sig.certificate is not None
    return sig.certificate.certificate


@pytest.fixture(scope="module")
def fund_cert() -> Certificate:
    cert = signer_cert(RANGE)
    assert cert.subject.ogrn == "1027739443236"
    assert f"{cert.serial:x}" == FSS_SERIAL
    assert cert == signer_cert(REGISTRY)
    return cert


def client_for(ogrn: str, cert: Certificate, **kw: object) -> FssClient:
    config = FssConfig(
        ogrn=ogrn,
        contour=Contour.TEST_PLAIN,
        fund_certificates={Contour.TEST_PLAIN: cert},
        **kw,  # type: ignore[arg-type]
    )
    return FssClient(config)  # no key: replies in clear only


def test_7_1_3_is_verified_and_read(fund_cert: Certificate) -> None:
    client = client_for("1027500716143", fund_cert)
    reply = client.wsse.open_reply(
        load(RANGE), operation=Operation.GET_NEW_LN_NUM_RANGE, at=AT_RANGE
    )
    assert reply.report.valid
    assert reply.signer.actor == "http://eln.fss.ru/actor/fss/ca/1027739443236"
    assert reply.signer.digest_valid and reply.signer.signature_valid
    assert not reply.encrypted
    result = client._result(Operation.GET_NEW_LN_NUM_RANGE, reply)
    assert result == NumbersResult(
        request_id="LNNUMMO_1027500716143_2020_08_28_00003",
        status=1,
        mess="OK",
        numbers=("900000161980",),
    )


def test_8_1_4_is_verified_and_read_in_the_printed_names(fund_cert: Certificate) -> None:
    client = client_for("1021900520410", fund_cert)
    result = client.read_reply(Operation.PR_PARSE_FILELNLPU, load(REGISTRY), at=AT_REGISTRY)
    assert isinstance(result, RegistryResult)
    assert result.ok and result.request_id == "LNDATAMO_1021900520410_2020_08_24_00007"
    (row,) = result.rows  # info/rowset/row as printed, not infoRowset/infoRow of the XSD
    assert row.ok
    assert (row.row_no, row.ln_code, row.ln_hash, row.ln_state) == (
        1,
        "900000161967",
        "155A9139D7274BC94FB31F5644218DB2",
        "020",
    )


def test_the_same_reply_twice_is_a_replay(fund_cert: Certificate) -> None:
    client = client_for("1021900520410", fund_cert)
    client.read_reply(Operation.PR_PARSE_FILELNLPU, load(REGISTRY), at=AT_REGISTRY)
    with pytest.raises(ReplayError, match="повторяет ранее полученный"):
        client.read_reply(Operation.PR_PARSE_FILELNLPU, load(REGISTRY), at=AT_REGISTRY)


def test_an_old_reply_is_refused_by_its_request_id_day(fund_cert: Certificate) -> None:
    client = client_for("1027500716143", fund_cert)
    with pytest.raises(ReplayError, match=r"сформирован 28\.08\.2020"):
        client.read_reply(Operation.GET_NEW_LN_NUM_RANGE, load(RANGE), at=date(2020, 9, 1))


def test_a_reply_for_another_mo_is_refused(fund_cert: Certificate) -> None:
    client = client_for("1021900520410", fund_cert)
    with pytest.raises(ReplayError, match="другой организации"):
        client.read_reply(Operation.GET_NEW_LN_NUM_RANGE, load(RANGE), at=AT_RANGE)


def test_a_reply_of_another_operation_is_refused(fund_cert: Certificate) -> None:
    client = client_for("1027500716143", fund_cert)
    with pytest.raises(ReplayError, match="другой операции"):
        client.read_reply(Operation.GET_LN_DATA, load(RANGE), at=AT_RANGE)


def test_only_the_configured_fund_certificate_is_accepted(pki: Pki) -> None:
    client = client_for("1027500716143", pki.fund.cert)
    with pytest.raises(ReplySignatureError, match="не сертификатом уполномоченного лица") as e:
        client.read_reply(Operation.GET_NEW_LN_NUM_RANGE, load(RANGE), at=AT_RANGE)
    assert any("not-fund-certificate" in p for p in e.value.problems)


def test_the_fund_certificate_must_be_valid_at_the_time(fund_cert: Certificate) -> None:
    client = client_for("1027500716143", fund_cert, reply_max_age=None)
    with pytest.raises(ReplySignatureError, match="недействителен на дату проверки"):
        client.read_reply(Operation.GET_NEW_LN_NUM_RANGE, load(RANGE))  # now: expired


def test_a_changed_byte_breaks_the_fund_signature(fund_cert: Certificate) -> None:
    client = client_for("1021900520410", fund_cert)
    data = load(REGISTRY).replace(b"155A9139D7274BC94FB31F5644218DB2", b"155A9139D7274BC9" * 2)
    with pytest.raises(ReplySignatureError, match="изменён после подписания"):
        client.read_reply(Operation.PR_PARSE_FILELNLPU, data, at=AT_REGISTRY)


def test_trusted_roots_are_enforced_when_given(fund_cert: Certificate, pki: Pki) -> None:
    client = client_for("1021900520410", fund_cert, trusted_roots=(pki.ca.cert,))
    with pytest.raises(ReplySignatureError, match="цепочки доверия"):
        client.read_reply(Operation.PR_PARSE_FILELNLPU, load(REGISTRY), at=AT_REGISTRY)


def test_a_clear_reply_in_an_encrypted_contour_is_refused(fund_cert: Certificate) -> None:
    config = FssConfig(
        ogrn="1021900520410", contour=Contour.TEST, fund_certificates={Contour.TEST: fund_cert}
    )
    with pytest.raises(ReplyDecryptError, match="незашифрованным"):
        FssClient(config).read_reply(Operation.PR_PARSE_FILELNLPU, load(REGISTRY), at=AT_REGISTRY)


def test_gost_2001_signed_replies_are_refused(fund_cert: Certificate) -> None:
    data = load("9.1.4_getLNData_response.xml")
    client = client_for("1025001718059", fund_cert, reply_max_age=None)
    with pytest.raises(ReplySignatureError, match=r"34\.10-2001"):
        client.read_reply(Operation.GET_LN_DATA, data, at=date(2019, 12, 27))


# -- tolerant reading of every printed reply shape (signatures aside) --------------------------


def response(name: str) -> etree._Element:
    body = parse(load(name)).getroot()[-1]
    return next(c for c in body if isinstance(c.tag, str))


def test_shapes_of_the_v20_examples() -> None:
    assert tolerant.numbers(response("6.1.3_getNewLNNum_response.xml")) == ("900000161981",)
    assert tolerant.numbers(response(RANGE)) == ("900000161980",)
    disable = tolerant.ws_result(response("10.1.3_disableLn_response.xml"))
    assert (disable.request_id, disable.status, disable.mess) == (
        "LNDISMO_1027500716143_2020_08_28_00002",
        1,
        "OK",
    )
    rows = tolerant.ln_data_rows(response("9.1.4_getLNData_response.xml"))  # data/outRowset/row
    (data,) = (tolerant.ln_data(r) for r in rows)
    assert (data.ln_code, data.ln_state, data.ln_hash) == (
        "900000161887",
        "010",
        "5DE589559FB1D0F59740B60029EF941B",
    )
    eln = data.eln
    assert eln.patient.snils == "12345618542" and eln.patient.surname == "ТЕСТТЕСТ"
    assert eln.ln_date == date(2019, 12, 27) and eln.lpu.ogrn == "1025001718059"
    assert eln.serv_data[0].relation_code == "38" and eln.serv_data[0].reason1 == "03"
    (period,) = eln.treat_periods
    assert period.sent and period.doctor == "ГАБЕЕВА ИЧ" and period.dt2 == date(2019, 12, 27)
    assert eln.source.value == "fss" and eln.duplicate_flag is False


def test_shapes_of_the_v11_examples() -> None:
    existing = response("11.1.3_getExistingLNNumRange_response.xml")  # DATA xsi:nil
    assert tolerant.numbers(existing) == ()
    assert tolerant.ws_result(existing).request_id == "LNNUMMO_1023000836099_2017_12_15_00007"
    (by_snils,) = tolerant.list_entries(response("12.1.3_getLNListBySnils_response.xml"))
    assert (by_snils.ln_code, by_snils.ln_date, by_snils.ln_state, by_snils.lpu_ogrn) == (
        "900000014027",
        date(2018, 9, 26),
        "010",
        "1023101681745",
    )
    (by_date,) = tolerant.list_entries(response("13.1.3_getLNListByDate_response.xml"))
    assert (by_date.ln_code, by_date.ln_state, by_date.snils) == (
        "900000014912",
        "010",
        "00000060002",
    )
