"""The life of an ELN at the Fund: states, the lnHash version token, periods, signatures per
block, the row-level ФЛК (domain.md §2, §10; protocol.md §4.6, §7)."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from fss_emulator import Emulator, texts
from gostsign.testpki import Pki, make_ca, make_person, snils_with_check
from gostsign.xml import profile, xmlenc
from gostsign.xml.parse import parse as parse_xml
from tests.emulator.messages import (
    MO,
    Mo,
    Period,
    Reply,
    Row,
    Signers,
    action,
    post,
    rows_request,
    sign_rows,
)

P1 = Period("2020-08-20", "2020-08-24")
P2 = Period("2020-08-25", "2020-08-27")
P3 = Period("2020-08-28", "2020-08-30")
P4 = Period("2020-08-31", "2020-09-02")


def number(mo: Mo) -> str:
    return mo.body_call("getNewLNNum").text("data") or ""


def row_result(reply: Reply) -> tuple[str | None, str | None, str | None, list[str]]:
    """(status, lnState, lnHash, errCodes) of the single row of a reply."""
    return (
        reply.text("infoRow", "status"),
        reply.text("infoRow", "lnState"),
        reply.text("infoRow", "lnHash"),
        [e.text or "" for e in reply.all("errCode")],
    )


def test_open_prolong_close(mo: Mo, emulator: Emulator) -> None:
    ln = number(mo)
    status, state, h1, errors = row_result(mo.send_rows([Row(ln, mo.ogrn, [P1])]))
    assert (status, state, errors) == ("1", "010", [])
    assert h1 is not None and len(h1) == 32 and h1 == h1.upper()
    # only the new period is signed; the accepted one is re-sent as it was (protocol.md §7)
    status, state, h2, errors = row_result(
        mo.send_rows([Row(ln, mo.ogrn, [P1, P2], state="010", ln_hash=h1)])
    )
    assert (status, state, errors) == ("1", "020", [])
    assert h2 not in (None, h1)
    status, state, h3, _ = row_result(
        mo.send_rows([Row(ln, mo.ogrn, [P1, P2, P3], state="020", ln_hash=h2)])
    )
    assert (status, state) == ("1", "020")
    closing = Row(
        ln, mo.ogrn, [P1, P2, P3], state="020", ln_hash=h3, result={"returnDateLpu": "2020-08-31"}
    )
    status, state, h4, errors = row_result(mo.send_rows([closing]))
    assert (status, state, errors) == ("1", "030", [])
    assert len({h1, h2, h3, h4}) == 4
    stored = emulator.eln(ln)
    assert stored is not None and (stored.state, stored.ln_hash) == ("030", h4)
    assert [h["state"] for h in emulator.store.history(ln)] == ["010", "020", "020", "030"]
    assert emulator.store.number(ln)["state"] == "used"  # type: ignore[index]
    # a closed ELN takes no more changes
    again = mo.send_rows(
        [Row(ln, mo.ogrn, [P1, P2, P3], state="030", ln_hash=h4, breach=("24", "2020-08-29"))]
    )
    assert row_result(again)[3] == ["E_3007"]


def test_mse_referral_gives_040(mo: Mo) -> None:
    ln = number(mo)
    h = row_result(mo.send_rows([Row(ln, mo.ogrn, [P1])]))[2]
    sent = Row(ln, mo.ogrn, [P1, P2], state="010", ln_hash=h, mse_dt1="2020-08-26")
    assert row_result(mo.send_rows([sent]))[:2] == ("1", "040")


def test_stale_hash_is_rejected(mo: Mo, emulator: Emulator) -> None:
    ln = number(mo)
    h1 = row_result(mo.send_rows([Row(ln, mo.ogrn, [P1])]))[2]
    h2 = row_result(mo.send_rows([Row(ln, mo.ogrn, [P1, P2], state="010", ln_hash=h1)]))[2]
    stale = mo.send_rows([Row(ln, mo.ogrn, [P1, P2, P3], state="020", ln_hash=h1)])
    status, state, ln_hash, errors = row_result(stale)
    assert (status, errors) == ("0", ["E_3005"])
    assert state == "020" and ln_hash is None  # the Fund's state, no token on a refusal
    assert stale.text("infoRow", "errMess") == texts.ROW_ERRORS["E_3005"].format(ln=ln)
    assert stale.text("status") == "0"
    assert stale.text("mess") == texts.REGISTRY_ERRORS.format(failed=1, total=1)
    stored = emulator.eln(ln)
    assert stored is not None and stored.ln_hash == h2 and len(stored.eln.periods) == 2


def test_hash_and_state_must_be_given(mo: Mo) -> None:
    ln = number(mo)
    h = row_result(mo.send_rows([Row(ln, mo.ogrn, [P1])]))[2]
    assert row_result(mo.send_rows([Row(ln, mo.ogrn, [P1, P2], state="010")]))[3] == ["E_3005"]
    wrong_state = mo.send_rows([Row(ln, mo.ogrn, [P1, P2], state="020", ln_hash=h)])
    assert row_result(wrong_state)[3] == ["E_3006"]
    fresh = mo.send_rows([Row(ln, mo.ogrn, [P1])])  # 000 again
    assert row_result(fresh)[3] == ["E_3004"]


def test_fourth_period_is_refused_by_the_v20_schema(mo: Mo) -> None:
    ln = number(mo)
    row = Row(ln, mo.ogrn, [P1, P2, P3, P4])
    doc = parse_xml(rows_request(mo.ogrn, [row]))
    sign_rows(doc, mo.ogrn, [row], mo.signers, new_periods={ln: [1]})
    reply = mo.send(mo.seal(doc), "prParseFilelnlpu")
    assert reply.status == 500 and reply.fault is not None
    assert reply.fault.message.startswith(texts.BAD_FORMAT_XSD)
    assert "treatFullPeriod" in reply.fault.message


def test_fourth_period_is_refused_in_v11(mo11: Mo, emulator: Emulator) -> None:
    ln = mo11.body_call("getNewLNNum").text("DATA") or ""
    h = mo11.send_rows([Row(ln, mo11.ogrn, [P1])]).text("LN_HASH")
    h = mo11.send_rows([Row(ln, mo11.ogrn, [P1, P2], state="010", ln_hash=h)]).text("LN_HASH")
    h = mo11.send_rows([Row(ln, mo11.ogrn, [P1, P2, P3], state="020", ln_hash=h)]).text("LN_HASH")
    # gostsign knows doctor blocks 1..5 only (3 periods), so the 4th goes without a signature;
    # the Fund refuses it for the count alone
    fourth = mo11.send_rows(
        [Row(ln, mo11.ogrn, [P1, P2, P3, P4], state="020", ln_hash=h)], new_periods={ln: []}
    )
    assert fourth.text("ROW", "STATUS") == "0"
    assert [e.text for e in fourth.all("ERR_CODE")] == ["E_3012"]
    assert fourth.text("ERR_MESS") == texts.ROW_ERRORS["E_3012"]
    stored = emulator.eln(ln)
    assert stored is not None and len(stored.eln.periods) == 3 and stored.ln_hash == h


def test_one_new_period_per_send(mo: Mo) -> None:
    ln = number(mo)
    reply = mo.send_rows([Row(ln, mo.ogrn, [P1, P2])], new_periods={ln: [1, 2]})
    assert row_result(reply)[3] == ["E_3011"]


def test_periods_follow_each_other(mo: Mo) -> None:
    ln = number(mo)
    h = row_result(mo.send_rows([Row(ln, mo.ogrn, [P1])]))[2]
    gap = Row(ln, mo.ogrn, [P1, Period("2020-08-27", "2020-08-28")], state="010", ln_hash=h)
    assert row_result(mo.send_rows([gap]))[3] == ["E_1009"]


def test_an_accepted_period_cannot_change(mo: Mo) -> None:
    ln = number(mo)
    h = row_result(mo.send_rows([Row(ln, mo.ogrn, [P1])]))[2]
    changed = Row(
        ln,
        mo.ogrn,
        [Period("2020-08-20", "2020-08-24", doctor="ДРУГОЙ"), P2],
        state="010",
        ln_hash=h,
    )
    assert row_result(mo.send_rows([changed]))[3] == ["E_3009"]


def test_tampered_row_is_rejected_and_nothing_changes(mo: Mo, emulator: Emulator) -> None:
    ln = number(mo)
    row = Row(ln, mo.ogrn, [P1])
    doc = parse_xml(rows_request(mo.ogrn, [row]))
    sign_rows(doc, mo.ogrn, [row], mo.signers)
    surname = next(e for e in doc.iter() if e.tag == f"{{{MO}}}surname")
    surname.text = "ПОДМЕНОВА"  # after the МО signed
    reply = mo.send(mo.seal(doc), "prParseFilelnlpu")
    status, state, ln_hash, errors = row_result(reply)
    assert (status, state, ln_hash, errors) == ("0", None, None, ["E_2002"])
    assert reply.text("errMess") == texts.ROW_ERRORS["E_2002"].format(
        reason=texts.SIGNATURE_WRONG_LIVE
    )
    assert emulator.eln(ln) is None
    assert emulator.store.number(ln)["state"] == "issued"  # type: ignore[index]


def test_tampered_doctor_block_names_the_period(mo: Mo) -> None:
    ln = number(mo)
    row = Row(ln, mo.ogrn, [P1])
    doc = parse_xml(rows_request(mo.ogrn, [row]))
    sign_rows(doc, mo.ogrn, [row], mo.signers, new_periods={ln: [1]})
    reply_ok = mo.send(mo.seal(doc), "prParseFilelnlpu")
    assert row_result(reply_ok)[0] == "1"
    ln2 = number(mo)
    row2 = Row(ln2, mo.ogrn, [P1])
    doc2 = parse_xml(rows_request(mo.ogrn, [row2]))
    profile.sign_doctor_block(doc2, ln2, 3, Signers.of(mo.signers.doctor))
    period = profile.find_block(doc2, ln2, 3)
    period[1].text = "2020-08-23"  # treatDt2 changed after the doctor signed
    profile.sign_row(doc2, mo.ogrn, ln2, Signers.of(mo.signers.mo))
    reply = mo.send(mo.seal(doc2), "prParseFilelnlpu")
    assert row_result(reply)[3] == ["E_2004"]
    assert reply.text("errMess") == texts.doctor_signature_error(1, texts.SIGNATURE_WRONG_LIVE)


def test_missing_signatures_per_block(mo: Mo) -> None:
    ln = number(mo)
    row = Row(ln, mo.ogrn, [P1], breach=("24", "2020-08-22"))
    reply = mo.send_rows([row], new_periods={ln: []}, blocks={ln: []})
    assert row_result(reply)[3] == ["E_2007", "E_2003"]


def test_a_doctor_certificate_from_an_untrusted_ca(mo: Mo, emulator: Emulator, pki: Pki) -> None:
    rogue_ca = make_ca("CN=Чужой УЦ,O=Чужой,C=RU")
    rogue = make_person(rogue_ca, "Чужой", "Врач", snils_with_check("334455667"), "Врач")
    other = Mo(
        mo.url,
        mo.fund_cert,
        Signers(mo.signers.mo, rogue, mo.signers.chairman),
        trusted=mo.trusted,
    )
    ln = number(mo)
    reply = other.send_rows([Row(ln, mo.ogrn, [P1])])
    assert row_result(reply)[3] == ["E_2004"]
    assert reply.text("errMess") == texts.doctor_signature_error(1, texts.CHAIN_ERROR)


def test_vk_chairman_beyond_15_days(mo: Mo) -> None:
    long = Period("2020-08-20", "2020-09-10")
    ln = number(mo)
    assert row_result(mo.send_rows([Row(ln, mo.ogrn, [long])]))[3] == ["E_1013"]
    chaired = Period("2020-08-20", "2020-09-10", chairman=True)
    ok = mo.send_rows([Row(ln, mo.ogrn, [chaired])])
    assert row_result(ok)[:2] == ("1", "010"), ok.all("errMess")
    ln2 = number(mo)
    doc = parse_xml(rows_request(mo.ogrn, [Row(ln2, mo.ogrn, [chaired])]))
    profile.sign_doctor_block(doc, ln2, 3, Signers.of(mo.signers.doctor))
    profile.sign_row(doc, mo.ogrn, ln2, Signers.of(mo.signers.mo))  # no VK signature
    reply = mo.send(mo.seal(doc), "prParseFilelnlpu")
    assert row_result(reply)[3] == ["E_2005"]


def test_an_unissued_number_is_refused(mo: Mo) -> None:
    reply = mo.send_rows([Row("900000999999", mo.ogrn, [P1])])
    assert row_result(reply)[3] == ["E_3001"]


def test_flk_reports_every_rule_broken(mo: Mo) -> None:
    ln = number(mo)
    bad = Row(ln, mo.ogrn, [P1], snils="12345394244", gender="0", reason1="05")
    errors = row_result(mo.send_rows([bad]))[3]
    assert errors == ["E_1002", "E_1015", "E_1016"]


def test_rows_are_judged_one_by_one(mo: Mo, emulator: Emulator) -> None:
    a, b, c = number(mo), number(mo), number(mo)
    rows = [Row(a, mo.ogrn, [P1]), Row(b, mo.ogrn, [P1], reason1="99"), Row(c, mo.ogrn, [P1])]
    reply = mo.send_rows(rows)
    info = reply.all("infoRow")
    assert [r[0].text for r in info] == ["1", "2", "3"]  # rowNo
    statuses = [next(e.text for e in r if e.tag.endswith("}status")) for r in info]
    assert statuses == ["1", "0", "1"]
    assert [e.text for e in reply.all("errCode")] == ["E_1006"]
    assert reply.text("mess") == texts.REGISTRY_ERRORS.format(failed=1, total=3)
    assert emulator.eln(a) is not None and emulator.eln(b) is None and emulator.eln(c) is not None


def test_at_most_30_rows(mo: Mo) -> None:
    codes = mo.body_call("getNewLNNumRange", cntLnNumbers="31").all("lnCode")
    rows = [Row(c.text or "", mo.ogrn, [P1]) for c in codes]
    doc = parse_xml(rows_request(mo.ogrn, rows))
    sign_rows(doc, mo.ogrn, rows, mo.signers)
    reply = mo.send(mo.seal(doc), "prParseFilelnlpu")
    assert reply.fault is not None and reply.fault.message.startswith(texts.BAD_FORMAT_XSD)
    ok = mo.send_rows(rows[:30])
    assert ok.text("status") == "1" and len(ok.all("infoRow")) == 30


def test_printed_reply_names_for_tolerance_tests(
    tmp_path: Path, pki: Pki, signers: Signers
) -> None:
    with Emulator(tmp_path / "fss", trust=[pki.ca.cert], reply_names="printed") as emu:
        client = Mo(emu.url, emu.fund_cert, signers, trusted=[emu.ca_cert])
        ln = client.body_call("getNewLNNum").text("data") or ""
        row = Row(ln, client.ogrn, [P1])
        doc = parse_xml(rows_request(client.ogrn, [row]))
        sign_rows(doc, client.ogrn, [row], signers)
        status, raw, _ = post(emu.url, client.seal(doc), action("prParseFilelnlpu", "2.0"))
        assert status == 200
        plain = xmlenc.decrypt(raw, signers.mo.key).document
        profile.verify_reply(plain, emu.fund_cert)
        names = {etree.QName(e).localname for e in plain.iter(etree.Element)}
        assert {"rowset", "row"} <= names and "infoRow" not in names  # as ex §8.1.4 prints it
