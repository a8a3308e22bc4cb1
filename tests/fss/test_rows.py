"""The row builder: fill rules, which blocks a send carries, and the signed fragments' checks."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from lxml import etree

from eln_tui.core.domain.codes import SignerSlot
from eln_tui.core.domain.model import Block, CareRecord, Eln, TreatPeriod
from eln_tui.core.fss import FssRequestError, RowInput, block_xml, sign_block, stored_fragment
from eln_tui.core.fss.rows import RowsetAttributes, assemble_registry, canonical
from gostsign.signer import SoftwareSigner
from gostsign.testpki import Pki
from gostsign.xml import schema, wssec
from gostsign.xml.c14n import exc_c14n
from tests.fss import elns

MO = "http://www.fss.ru/integration/types/eln/mo/v01"
COM = "http://www.fss.ru/integration/types/eln/v01"
V11 = "http://ru/ibs/fss/ln/ws/FileOperationsLn.wsdl"
WSU_ID = "{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd}Id"
OGRN = "1027700000019"
LN = "900000000201"
ATTRS = RowsetAttributes("eln-workstation", "0.1.0", "Иванова", "+7 000", "a@b.test")


def assemble(items: list[RowInput | Eln], version: str = "2.0", **kw: bool) -> etree._Element:
    registry = assemble_registry(items, OGRN, ATTRS, version, **kw)
    schema.validate(registry.payload, version)  # type: ignore[arg-type]
    return registry.payload


def two_periods(pki: Pki) -> tuple[Eln, dict[str, object]]:
    """An ELN whose first period the Fund accepted (010, hash) and whose second is new."""
    eln = elns.new_eln(LN, OGRN)
    first = eln.treat_periods[0]
    assert first.dt2 is not None
    eln.treat_periods.append(
        TreatPeriod(
            dt1=first.dt2 + timedelta(days=1),
            dt2=first.dt2 + timedelta(days=5),
            doctor=first.doctor,
            doctor_role=first.doctor_role,
        )
    )
    fragments = elns.sign_all(eln, pki)
    eln.treat_periods[0].sent = True
    eln.ln_state = "010"
    eln.ln_hash = "1CED9AAFC2096E5766F12B35C9648E66"
    return eln, dict(fragments)


@pytest.mark.parametrize(
    ("path", "title"),
    [
        ("patient.snils", "СНИЛС"),
        ("patient.surname", "Фамилия"),
        ("patient.birthday", "Дата рождения"),
        ("lpu.name", "Наименование МО"),
        ("lpu.ogrn", "ОГРН МО"),
        ("ln_date", "Дата выдачи"),
    ],
)
@pytest.mark.parametrize("version", ["2.0", "1.1"])
def test_missing_required_field_is_named(path: str, title: str, version: str) -> None:
    eln = elns.new_eln(LN, OGRN)
    target: object = eln
    *parents, name = path.split(".")
    for p in parents:
        target = getattr(target, p)
    setattr(target, name, None)
    with pytest.raises(FssRequestError) as info:
        assemble([RowInput(eln, {}, [])], version)
    assert f"«{title}»" in info.value.message
    assert info.value.ln_code == LN


def test_consent_and_number_are_required() -> None:
    eln = elns.new_eln(LN, OGRN, written_agreement_flag=False)
    with pytest.raises(FssRequestError, match="Не получено письменное согласие"):
        assemble([RowInput(eln, {}, [])])
    with pytest.raises(FssRequestError, match="12 цифр"):
        assemble([RowInput(elns.new_eln("12345", OGRN), {}, [])])


def test_a_carried_block_needs_its_signature(pki: Pki) -> None:
    eln = elns.new_eln(LN, OGRN)
    with pytest.raises(FssRequestError, match="не подписана"):
        assemble([eln])  # default: the first period is due, and it is not signed
    full = elns.full_eln(LN, OGRN)
    fragments = elns.sign_all(full, pki)
    del fragments["3_vk"]
    with pytest.raises(FssRequestError, match="председателем ВК, но не подписана"):
        assemble([RowInput(full, fragments, ["treat_periods[0]"])])


def test_data_changed_after_signing_is_refused(pki: Pki) -> None:
    eln = elns.new_eln(LN, OGRN)
    fragments = elns.sign_all(eln, pki)
    eln.treat_periods[0].dt2 = date(2024, 3, 20)
    with pytest.raises(FssRequestError, match="не совпадает с текущими данными"):
        assemble([RowInput(eln, fragments)])


def test_fragment_of_another_eln_or_block_or_version_is_refused(pki: Pki) -> None:
    eln = elns.new_eln(LN, OGRN)
    other = elns.new_eln("900000000999", OGRN)
    with pytest.raises(FssRequestError, match="относится к другому блоку"):
        assemble([RowInput(eln, elns.sign_all(other, pki))])
    with pytest.raises(FssRequestError, match="другой версии протокола"):
        assemble([RowInput(eln, elns.sign_all(eln, pki, "1.1"))])


def test_only_the_due_period_goes_with_signatures_accepted_ones_plain(pki: Pki) -> None:
    eln, fragments = two_periods(pki)
    payload = assemble([RowInput(eln, fragments)])  # type: ignore[arg-type]
    row = payload.find(f".//{{{MO}}}row")
    assert row is not None
    periods = row.findall(f"{{{MO}}}treatPeriods/{{{MO}}}treatFullPeriod")
    assert len(periods) == 2
    first, second = (p.find(f"{{{COM}}}treatPeriod") for p in periods)
    assert first is not None and second is not None
    assert first.get(WSU_ID) is None  # accepted earlier: plain data (SAMSON, protocol.md §7)
    assert second.get(WSU_ID) == f"ELN_{LN}_4_doc"
    assert row.findtext(f"{{{MO}}}lnState") == "010"
    assert row.findtext(f"{{{MO}}}lnHash") == "1CED9AAFC2096E5766F12B35C9648E66"
    header = payload.getroottree().getroot()[0]
    actors = [s.get("{http://schemas.xmlsoap.org/soap/envelope/}actor") for s in header]
    assert actors == [f"http://eln.fss.ru/actor/doc/{LN}_4_doc"]
    # resend_signed: the accepted period goes again with its stored signature
    payload = assemble([RowInput(eln, fragments)], resend_signed=True)  # type: ignore[arg-type]
    header = payload.getroottree().getroot()[0]
    assert len(header) == 2
    report = wssec.verify(payload.getroottree())
    assert report.valid, report.all_problems()


def test_a_new_eln_sends_its_first_period_only(pki: Pki) -> None:
    eln, fragments = two_periods(pki)
    eln.treat_periods[0].sent = False
    eln.ln_state, eln.ln_hash = "000", None
    payload = assemble([RowInput(eln, fragments)])  # type: ignore[arg-type]
    assert len(payload.findall(f".//{{{MO}}}treatFullPeriod")) == 1
    with pytest.raises(FssRequestError, match="по порядку"):
        assemble([RowInput(eln, fragments, ["treat_periods[1]"])])  # type: ignore[arg-type]


def test_four_periods_are_refused_in_v20(pki: Pki) -> None:
    eln = elns.new_eln(LN, OGRN)
    p = eln.treat_periods[0]
    for _ in range(3):
        eln.treat_periods.append(TreatPeriod(dt1=p.dt1, dt2=p.dt2, doctor="Д", doctor_role="В"))
    for q in eln.treat_periods[:3]:
        q.sent = True
    with pytest.raises(FssRequestError, match="не более 3 периодов"):
        assemble([RowInput(eln, {}, ["treat_periods[3]"])])


def test_accepted_breach_and_result_are_resent_plain(pki: Pki) -> None:
    eln = elns.full_eln(LN, OGRN)
    eln.treat_periods[0].sent = True
    assert eln.hospital_breach is not None and eln.ln_result is not None
    eln.hospital_breach.sent = True
    eln.ln_result.sent = True
    eln.ln_state, eln.ln_hash = "030", "A" * 32
    payload = assemble([RowInput(eln, {}, [])])
    row = payload.find(f".//{{{MO}}}row")
    assert row is not None
    for name in ("hospitalBreach", "lnResult", "treatPeriods"):
        el = row.find(f"{{{MO}}}{name}")
        assert el is not None and not any(x.get(WSU_ID) for x in el.iter()), name
    assert row.findtext(f".//{{{COM}}}treatChairman") == "Петров Сергей Николаевич"
    assert len(payload.getroottree().getroot()[0]) == 0  # no Security blocks yet


def test_mse_referral_date_only_when_carried(pki: Pki) -> None:
    eln = elns.new_eln(LN, OGRN, mse_dt1=date(2024, 3, 14))
    eln.treat_periods[0].sent = True
    nil = "{http://www.w3.org/2001/XMLSchema-instance}nil"
    row = assemble([RowInput(eln, {}, [])]).find(f".//{{{MO}}}row")
    assert row is not None and row.find(f"{{{MO}}}mseDt1").get(nil) == "true"  # type: ignore[union-attr]
    row = assemble([RowInput(eln, {}, ["mse_dt1"])]).find(f".//{{{MO}}}row")
    assert row is not None and row.findtext(f"{{{MO}}}mseDt1") == "2024-03-14"


def test_v11_row_and_its_rules(pki: Pki) -> None:
    eln = elns.care_eln(LN, OGRN)
    eln.serv_data[0].age_years = None
    payload = assemble([elns.row_input(eln, pki, "1.1")], "1.1")
    row = payload.find(f".//{{{V11}}}ROW")
    assert row is not None and row.get(WSU_ID) == f"ELN_{LN}"
    assert row.findtext(f"{{{V11}}}REASON1") == "09"  # the care reason on the row (v1.1)
    assert row.findtext(f"{{{V11}}}SERV1_AGE") == "3"  # born 2020-08-24, care from 2024-03-11
    assert row.findtext(f"{{{V11}}}SERV1_MM") == "6"
    assert row.findtext(f"{{{V11}}}SERV1_FIO") == "Петров Иван"
    assert row.findtext(f"{{{V11}}}BOZ_FLAG") == "0"
    assert row.findtext(f"{{{V11}}}PRIMARY_FLAG") == "1"
    rowset = payload.find(f".//{{{V11}}}ROWSET")
    assert rowset is not None and rowset.get(f"{{{V11}}}version") == "1.1"
    no_period = elns.new_eln(LN, OGRN, treat_periods=[])
    with pytest.raises(FssRequestError, match="хотя бы один период"):
        assemble([RowInput(no_period, {}, [])], "1.1")
    many = elns.care_eln(LN, OGRN)
    many.serv_data = [CareRecord(relation_code="38", reason1="09")] * 3
    with pytest.raises(FssRequestError, match="не более двух"):
        assemble([RowInput(many, {}, [])], "1.1")


def test_duplicates_and_empty_registry_are_refused(pki: Pki) -> None:
    item = elns.row_input(elns.new_eln(LN, OGRN), pki)
    with pytest.raises(FssRequestError, match="дважды"):
        assemble([item, item])
    with pytest.raises(FssRequestError, match="пуст"):
        assemble([])


def test_blocks_are_built_as_they_travel_and_signed(pki: Pki) -> None:
    eln = elns.full_eln(LN, OGRN)
    doctor = SoftwareSigner(pki.doctor.key, pki.doctor.cert)
    data = block_xml(eln, Block("period", SignerSlot.DOC, 0))
    el = etree.fromstring(data)
    assert el.tag == f"{{{COM}}}treatPeriod" and el.get(WSU_ID) == f"ELN_{LN}_3_doc"
    with pytest.raises(FssRequestError, match="подписанный врачом период не найден"):
        block_xml(eln, Block("period", SignerSlot.VK, 0))
    doc_fragment = sign_block(eln, Block("period", SignerSlot.DOC, 0), doctor)
    assert canonical(doc_fragment.element) == exc_c14n(el)
    vk = etree.fromstring(
        block_xml(eln, Block("period", SignerSlot.VK, 0), doctor_fragment=doc_fragment)
    )
    assert vk.tag == f"{{{MO}}}treatFullPeriod" and vk.get(WSU_ID) == f"ELN_{LN}_3_vk"
    inner = vk.find(f"{{{COM}}}treatPeriod")
    assert inner is not None and exc_c14n(inner) == canonical(doc_fragment.element)
    breach = etree.fromstring(block_xml(eln, Block("breach"), "1.1"))
    assert breach.tag == f"{{{V11}}}HOSPITAL_BREACH" and breach.get(WSU_ID) == f"ELN_{LN}_1_doc"


def test_stored_fragment_round_trip(pki: Pki) -> None:
    eln = elns.new_eln(LN, OGRN)
    fragment = elns.sign_all(eln, pki)["3_doc"]
    back = stored_fragment(LN, "3_doc", fragment.element, fragment.security)
    assert back == fragment
    vk = stored_fragment(LN, "4_vk", b"<x/>", b"<y/>")
    assert vk.element_id == f"ELN_{LN}_4_vk"
    assert vk.actor == f"http://eln.fss.ru/actor/doc/{LN}_4_vk"
    with pytest.raises(FssRequestError, match="не сохранён блок подписи"):
        stored_fragment(LN, "3_doc", fragment.element, None)
