"""Every operation, encrypted both ways, in both dialects.

Each reply is read as an МО must (protocol.md §5.6): no Fault, decrypted with the МО key,
verified with gostsign as signed by the emulator's Fund certificate under the Fund's actor,
and validated against the Fund's XSD (all inside :meth:`Mo.read`).
"""

from __future__ import annotations

import re

import pytest
from lxml import etree

from fss_emulator import Emulator, texts
from gostsign.testpki import Pki, make_mo
from gostsign.xml import profile
from gostsign.xml.parse import parse as parse_xml
from tests.emulator.messages import Mo, Period, Row, Signers, numbers_request

P1 = Period("2020-08-20", "2020-08-24")


def new_numbers(mo: Mo, count: int) -> list[str]:
    reply = mo.body_call("getNewLNNumRange", cntLnNumbers=str(count))
    codes = [e.text or "" for e in reply.all("lnCode" if mo.version == "2.0" else "LNNum")]
    assert len(codes) == count
    return codes


def open_eln(mo: Mo, ln: str, **row: object) -> str:
    reply = mo.send_rows([Row(ln, mo.ogrn, [P1], **row)])  # type: ignore[arg-type]
    assert reply.text("status") == "1", reply.all("errMess")
    return reply.text("lnHash") or ""


# -- numbers ------------------------------------------------------------------------------------


def test_get_new_ln_num(mo: Mo, emulator: Emulator) -> None:
    reply = mo.body_call("getNewLNNum")
    assert reply.report is not None
    (sig,) = reply.report.signatures
    assert sig.actor == emulator.fund_actor == "http://eln.fss.ru/actor/fss/ca/1027739443236"
    assert sig.certificate is not None and sig.certificate.certificate == emulator.fund_cert
    assert reply.text("status") == "1" and reply.text("mess") == "OK"
    number = reply.text("data") or ""
    assert re.fullmatch(r"\d{12}", number)
    assert re.fullmatch(
        rf"LNNUMMO_{mo.ogrn}_\d{{4}}_\d\d_\d\d_00001", reply.text("requestId") or ""
    )
    (issued,) = emulator.store.numbers(mo.ogrn)
    assert issued["ln_code"] == number and issued["state"] == "issued"


def test_get_new_ln_num_range_issues_distinct_numbers(mo: Mo) -> None:
    first, second = new_numbers(mo, 3), new_numbers(mo, 2)
    assert len(set(first + second)) == 5
    assert all(re.fullmatch(r"\d{12}", n) for n in first + second)


@pytest.mark.parametrize("count", ["0", "1001", "-5"])
def test_get_new_ln_num_range_refuses_bad_counts(mo: Mo, emulator: Emulator, count: str) -> None:
    reply = mo.body_call("getNewLNNumRange", cntLnNumbers=count)
    assert reply.text("status") == "0"
    assert reply.text("mess") == texts.BAD_COUNT.format(limit=1000)
    assert reply.find("data") is None
    assert emulator.store.numbers() == []


def test_get_existing_ln_num_range(mo: Mo) -> None:
    empty = mo.body_call("getExistingLNNumRange")
    assert empty.text("status") == "1"
    data = empty.find("data")
    assert data is not None and data.get("{http://www.w3.org/2001/XMLSchema-instance}nil") == "true"
    a, b, c = new_numbers(mo, 3)
    open_eln(mo, a)
    mo.send(mo.seal(_signed(mo, numbers_request(mo.ogrn, [b]))), "prParseFileNumberslpu")
    reply = mo.body_call("getExistingLNNumRange")
    assert [e.text for e in reply.all("lnCode")] == [c]


def _signed(mo: Mo, data: bytes) -> etree._ElementTree:
    doc = parse_xml(data)
    profile.sign_body(doc, mo.ogrn, Signers.of(mo.signers.mo))
    return doc


def test_pr_parse_file_numbers_lpu_returns_unused_numbers(mo: Mo, emulator: Emulator) -> None:
    a, b, c = new_numbers(mo, 3)
    open_eln(mo, a)
    doc = _signed(mo, numbers_request(mo.ogrn, [b, a, "900099999999", b]))
    reply = mo.send(mo.seal(doc), "prParseFileNumberslpu")
    assert reply.text("status") == "0"
    assert reply.text("mess") == texts.NUMBERS_ERRORS.format(failed=3, total=4)
    rows = {int(r[0].text or 0): r for r in reply.all("infoRow")}
    statuses = [next(e.text for e in rows[i] if e.tag.endswith("}status")) for i in sorted(rows)]
    assert statuses == ["1", "0", "0", "0"]
    codes = [e.text for e in reply.all("errCode")]
    assert codes == ["E_3016", "E_3001", "E_3017"]
    states = {n["ln_code"]: n["state"] for n in emulator.store.numbers(mo.ogrn)}
    assert states == {a: "used", b: "returned", c: "issued"}


# -- ELN data ------------------------------------------------------------------------------------


def test_get_ln_data_returns_the_eln_with_its_token(mo: Mo) -> None:
    (ln,) = new_numbers(mo, 1)
    ln_hash = open_eln(mo, ln, breach=("24", "2020-08-22"))
    reply = mo.body_call("getLNData", lnCode=ln, snils="12345394243")
    assert reply.text("status") == "1"
    assert reply.text("responseRow", "lnCode") == ln
    assert reply.text("responseRow", "lnHash") == ln_hash
    assert reply.text("responseRow", "lnState") == "010"
    assert reply.text("responseRow", "hospitalBreach", "hospitalBreachCode") == "24"
    assert reply.text("responseRow", "treatDt2") == "2020-08-24"


def test_get_ln_data_needs_the_right_snils(mo: Mo) -> None:
    (ln,) = new_numbers(mo, 1)
    open_eln(mo, ln)
    reply = mo.body_call("getLNData", lnCode=ln, snils="00000060002")
    assert reply.text("status") == "0"
    assert reply.text("mess") == texts.LN_NOT_FOUND.format(ln=ln, snils="00000060002")
    assert reply.find("data") is None


def test_get_ln_list_by_snils_follows_the_open_case(mo: Mo) -> None:
    first, second, other = new_numbers(mo, 3)
    h1 = open_eln(mo, first)
    # the first ELN closes with «продолжает болеть» and points at its continuation
    closing = Row(
        first,
        mo.ogrn,
        [P1],
        state="010",
        ln_hash=h1,
        result={"mseResult": "31", "otherStateDt": "2020-08-25", "nextLnCode": second},
    )
    assert mo.send_rows([closing]).text("lnState") == "030"
    open_eln(mo, second, prev=first, ln_date="2020-08-25")
    open_eln(mo, other, snils="11223344595")
    reply = mo.body_call("getLNListBySnils", snils="12345394243")
    assert [e.text for e in reply.all("lnCode")] == [first, second]
    assert [e.text for e in reply.all("lnState")] == ["030", "010"]
    assert {e.text for e in reply.all("lpuOgrn")} == {mo.ogrn}


def test_get_ln_list_by_snils_is_empty_once_the_case_is_closed(mo: Mo) -> None:
    (ln,) = new_numbers(mo, 1)
    h = open_eln(mo, ln)
    done = Row(ln, mo.ogrn, [P1], state="010", ln_hash=h, result={"returnDateLpu": "2020-08-25"})
    assert mo.send_rows([done]).text("lnState") == "030"
    reply = mo.body_call("getLNListBySnils", snils="12345394243")
    assert reply.text("status") == "1"
    assert reply.all("rowLNbySnils") == []


def test_get_ln_list_by_date(mo: Mo) -> None:
    a, b, c = new_numbers(mo, 3)
    open_eln(mo, a)
    open_eln(mo, b, snils="11223344595")
    open_eln(mo, c, ln_date="2020-08-21")
    reply = mo.body_call("getLNListByDate", date="2020-08-20")
    assert sorted(e.text or "" for e in reply.all("lnCode")) == sorted([a, b])
    assert {e.text for e in reply.all("snils")} == {"12345394243", "11223344595"}
    assert mo.body_call("getLNListByDate", date="2021-01-01").all("rowLNbyDate") == []


def test_disable_ln(mo: Mo, emulator: Emulator) -> None:
    (ln,) = new_numbers(mo, 1)
    h = open_eln(mo, ln)
    bad = mo.body_call("disableLn", lnCode=ln, snils="12345394243", reasonCode="020", reason="x")
    assert bad.text("status") == "0"
    assert bad.text("mess") == texts.DISABLE_BAD_REASON.format(code="020")
    ok = mo.body_call(
        "disableLn", lnCode=ln, snils="12345394243", reasonCode="010", reason="Ошибка"
    )
    assert ok.text("status") == "1" and ok.text("mess") == "OK"
    assert re.fullmatch(rf"LNDISMO_{mo.ogrn}_.*", ok.text("requestId") or "")
    stored = emulator.eln(ln)
    assert stored is not None and stored.state == "090" and stored.ln_hash != h
    again = mo.body_call(
        "disableLn", lnCode=ln, snils="12345394243", reasonCode="010", reason="Ошибка"
    )
    assert again.text("mess") == texts.DISABLE_ALREADY.format(ln=ln)
    resend = mo.send_rows([Row(ln, mo.ogrn, [P1], state="090", ln_hash=stored.ln_hash)])
    assert [e.text for e in resend.all("errCode")] == ["E_3008"]
    data = mo.body_call("getLNData", lnCode=ln, snils="12345394243")
    assert data.text("responseRow", "lnState") == "090"


def test_disable_ln_of_another_mo_is_refused(
    mo: Mo, emulator: Emulator, pki: Pki, signers: Signers
) -> None:
    (ln,) = new_numbers(mo, 1)
    open_eln(mo, ln)
    other = make_mo(pki.ca, name="ГБУЗ Другая", ogrn="1027700132195")
    stranger = Mo(
        emulator.url,
        emulator.fund_cert,
        Signers(other, signers.doctor, signers.chairman),
        trusted=[emulator.ca_cert],
    )
    reply = stranger.body_call(
        "disableLn", lnCode=ln, snils="12345394243", reasonCode="010", reason="x"
    )
    assert reply.text("mess") == texts.DISABLE_FOREIGN.format(ln=ln, owner=mo.ogrn)
    # reading a foreign ELN by number and SNILS is allowed (domain.md §2 step 11)
    assert stranger.body_call("getLNData", lnCode=ln, snils="12345394243").text("status") == "1"


def test_a_512_bit_mo_key_round_trips(emulator: Emulator, pki: Pki, signers: Signers) -> None:
    mo512 = make_mo(pki.ca, curve="tc26-512-a")
    client = Mo(
        emulator.url,
        emulator.fund_cert,
        Signers(mo512, signers.doctor, signers.chairman),
        trusted=[emulator.ca_cert],
    )
    reply = client.body_call("getNewLNNum")
    assert reply.text("status") == "1"
    (ln,) = new_numbers(client, 1)
    assert open_eln(client, ln)


# -- v1.1 ---------------------------------------------------------------------------------------


def test_v11_every_operation(mo11: Mo, emulator: Emulator) -> None:
    one = mo11.body_call("getNewLNNum")
    assert one.find("fileOperationsLnUserGetNewLNNumOut") is not None
    assert one.text("STATUS") == "1" and re.fullmatch(r"\d{12}", one.text("DATA") or "")
    a, b, c = new_numbers(mo11, 3)
    first = mo11.send_rows([Row(a, mo11.ogrn, [P1])])
    assert first.text("WSResult", "STATUS") == "1"
    assert first.text("ROW", "LN_STATE") == "010"
    h = first.text("ROW", "LN_HASH") or ""
    second = mo11.send_rows(
        [Row(a, mo11.ogrn, [P1, Period("2020-08-25", "2020-08-27")], state="010", ln_hash=h)]
    )
    assert second.text("ROW", "LN_STATE") == "020", second.all("ERR_MESS")
    data = mo11.body_call("getLNData", lnCode=a, snils="12345394243")
    assert data.text("OUT_ROWSET", "ROW", "LN_STATE") == "020"
    assert len(data.all("TREAT_FULL_PERIOD")) == 2
    existing = mo11.body_call("getExistingLNNumRange")
    assert sorted(e.text or "" for e in existing.all("LNNum")) == sorted(
        [one.text("DATA") or "", b, c]
    )
    doc = _signed(mo11, numbers_request(mo11.ogrn, [c], "1.1"))
    returned = mo11.send(mo11.seal(doc), "prParseFileNumberslpu")
    assert returned.text("WSResult", "STATUS") == "1"
    by_snils = mo11.body_call("getLNListBySnils", snils="12345394243")
    assert [e.text for e in by_snils.all("LN_CODE")] == [a]
    by_date = mo11.body_call("getLNListByDate", date="2020-08-20T00:00:00")
    assert [e.text for e in by_date.all("LN_CODE")] == [a]
    gone = mo11.body_call(
        "disableLn", lnCode=a, snils="12345394243", reasonCode="030", reason="Дубликат"
    )
    assert gone.find("FileOperationsLnUserDisableLnOut") is not None
    assert gone.text("STATUS") == "1"
    assert emulator.eln(a) is not None and emulator.eln(a).state == "090"  # type: ignore[union-attr]


def test_an_eln_sent_in_v20_reads_in_v11(mo: Mo, mo11: Mo) -> None:
    (ln,) = new_numbers(mo, 1)
    h = open_eln(mo, ln, breach=("23", "2020-08-21"))
    row = mo11.body_call("getLNData", lnCode=ln, snils="12345394243")
    assert row.text("ROW", "LN_HASH") == h
    assert row.text("ROW", "PRIMARY_FLAG") == "1"
    assert row.text("ROW", "HOSPITAL_BREACH", "HOSPITAL_BREACH_CODE") == "23"
