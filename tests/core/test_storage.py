"""Repository/service API on SQLite and PostgreSQL: save/load, atomicity, signing, audit."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import peewee
import pytest

from eln_tui.core.domain import lifecycle as lc
from eln_tui.core.domain.codes import JournalState, JournalView, NumberState, SignerSlot
from eln_tui.core.domain.model import (
    Block,
    CareRecord,
    Eln,
    Gender,
    HospitalBreach,
    Source,
)
from eln_tui.core.errors import (
    AppendOnlyViolation,
    ConcurrentModification,
    ConsentMissing,
    DeleteForbidden,
    FlkFailed,
    NotFound,
    SettingsIncomplete,
    SignedBlockImmutable,
    SignerNotAllowed,
    SnilsMissing,
    ValidationError,
)
from eln_tui.core.storage import ElnStore, OrganisationData, SettingsData, repository
from eln_tui.core.storage import models as m
from tests.core import factories
from tests.core.conftest import CTX, Backend, People, make_saved_eln

DOC0 = Block("period", SignerSlot.DOC, 0)
VK0 = Block("period", SignerSlot.VK, 0)
FRAGMENT = (
    b'<ns2:treatPeriod xmlns:ns2="http://www.fss.ru/integration/types/eln/v01" '
    b'wsu:Id="ELN_900000000001_3_doc">\n  <ns2:treatDt1>2024-03-11</ns2:treatDt1>\r\n'
    b"</ns2:treatPeriod>\x00\xff"
)


def eln_count(backend: Backend) -> int:
    return m.Eln.select().bind(backend.db).count()


def full_eln(people: People) -> Eln:
    """Every field filled (care ELN for a child, hospital stay, breach, МСЭ referral)."""
    start = date(2024, 3, 11)
    eln = factories.valid_eln(
        ln_code=None,
        number_from_pool=False,
        patient=factories.patient(gender=Gender.FEMALE, name="Анна", surname="Петрова"),
        reason1=None,
        diagnos=None,
        serv_data=[
            CareRecord(
                relation_code="38",
                dt1=start,
                dt2=start + timedelta(4),
                treatment_type="2",
                surname="Петров",
                name="Илья",
                patronymic="Сергеевич",
                birthday=date(2019, 1, 2),
                reason1="09",
                snils="12345394243",
                diagnosis="J06.9",
            ),
            CareRecord(
                relation_code="38",
                dt1=start,
                dt2=start + timedelta(2),
                treatment_type="1",
                surname="Петрова",
                name="Оля",
                birthday=date(2021, 5, 6),
                reason1="12",
            ),
        ],
        hospital_dt1=start,
        hospital_dt2=start + timedelta(3),
        hospital_breach=HospitalBreach(code="24", dt=start + timedelta(1)),
        mse_dt1=start + timedelta(2),
        pregn12w_flag=False,
        intermittent_method_flag=True,
        prev_ln_issuer=None,
    )
    eln.lpu.id_mo = "1.2.643.5.1.13.13.12.2.77.1234"
    eln.treat_periods[0].id_doctor = "42"
    eln.treat_periods[0].doctor_id = people.doctor.id
    eln.doctor_id = people.doctor.id
    return eln


def test_save_and_load_round_trip(store: ElnStore, people: People, backend: Backend) -> None:
    store.pool().add(["900000000001"])
    draft = store.take_number(full_eln(people), people.nurse.signer)
    saved = store.save(draft, people.nurse.signer, context=CTX)
    assert saved.id is not None and saved.version == 1
    assert store.load(saved.id) == saved
    expected = replace(draft, id=saved.id, version=1)
    assert saved == expected
    assert store.load_by_number(saved.ln_code) == saved  # type: ignore[arg-type]
    again = store.save(replace(saved, diagnos=None), people.doctor.signer, context=CTX)
    assert again.version == 2
    with pytest.raises(NotFound):
        store.load(10_000)


def test_save_refuses_without_consent(store: ElnStore, people: People, backend: Backend) -> None:
    draft = (
        store.take_number(
            factories.valid_eln(ln_code=None, number_from_pool=False, written_agreement_flag=False),
            people.nurse.signer,
        )
        if store.pool().add(["900000000111"])
        else None
    )
    assert draft is not None
    with pytest.raises(ConsentMissing) as err:
        store.save(draft, people.nurse.signer, context=CTX)
    assert err.value.message == "Не получено письменное согласие пациента на создание ЭЛН"
    assert eln_count(backend) == 0


def test_save_refuses_flk_errors(store: ElnStore, people: People, backend: Backend) -> None:
    eln = make_saved_eln(store, people)
    bad = replace(eln, pregn12w_flag=True)
    with pytest.raises(FlkFailed) as err:
        store.save(bad, people.doctor.signer, context=CTX)
    assert [v.rule_id for v in err.value.violations] == ["FLK-17"]
    assert store.load(eln.id) == eln  # type: ignore[arg-type]


def test_never_a_half_written_eln(
    store: ElnStore, people: People, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.pool().add(["900000000001"])
    draft = store.take_number(full_eln(people), people.nurse.signer)

    def broken(*args: object) -> dict[str, object]:
        raise RuntimeError("disk full while writing the care records")

    monkeypatch.setattr(repository, "_care_columns", broken)
    with pytest.raises(RuntimeError):
        store.save(draft, people.nurse.signer, context=CTX)
    assert eln_count(backend) == 0
    assert m.TreatPeriod.select().bind(backend.db).count() == 0
    assert store.pool().get("900000000001").state is NumberState.RESERVED  # not yet used
    assert [a.action for a in store.audit_trail(entity="eln")] == []
    monkeypatch.undo()
    store.save(draft, people.nurse.signer, context=CTX)
    assert store.pool().get("900000000001").state is NumberState.USED


def test_take_number_checks_snils_first(store: ElnStore, people: People) -> None:
    store.pool().add(["900000000001"])
    draft = factories.valid_eln(
        ln_code=None, number_from_pool=False, patient=factories.patient(snils=None)
    )
    with pytest.raises(SnilsMissing) as err:
        store.take_number(draft, people.nurse.signer)
    assert err.value.message == "У пациента отсутствует СНИЛС, выписка электронного ЛН невозможна!"
    assert store.pool().counts()[NumberState.FREE] == 1


def test_discard_unsaved_returns_the_number(store: ElnStore, people: People) -> None:
    store.pool().add(["900000000001", "900000000002"])
    draft = store.take_number(
        factories.valid_eln(ln_code=None, number_from_pool=False), people.nurse.signer
    )
    assert draft.ln_code == "900000000001"
    store.discard_unsaved(draft, people.nurse.signer)
    assert store.pool().get("900000000001").state is NumberState.FREE
    actions = [(a.action, a.entity_id) for a in store.audit_trail(entity="eln_number")]
    assert actions == [("number_reserved", "900000000001"), ("number_released", "900000000001")]


def test_concurrent_modification(store: ElnStore, people: People) -> None:
    eln = make_saved_eln(store, people)
    first, second = store.load(eln.id), store.load(eln.id)  # type: ignore[arg-type]
    store.save(replace(first, diagnos="J20.9"), people.doctor.signer, context=CTX)
    with pytest.raises(ConcurrentModification, match="изменён другим пользователем"):
        store.save(replace(second, diagnos="J06.0"), people.doctor.signer, context=CTX)
    assert store.load(eln.id).diagnos == "J20.9"  # type: ignore[arg-type]


def test_sign_stores_exact_bytes_and_locks_the_block(
    store: ElnStore, people: People, backend: Backend
) -> None:
    eln = make_saved_eln(store, people, ln_result=None)
    signed = store.sign(
        eln.id,
        DOC0,
        people.doctor.signer,
        FRAGMENT,
        security=b"<wsse/>",  # type: ignore[arg-type]
        context=CTX,
    )
    sig = signed.treat_periods[0].doctor_signature
    assert sig is not None and sig.signer_id == people.doctor.id
    fragment = store.fragment(sig.fragment_id)  # type: ignore[arg-type]
    assert fragment.data == FRAGMENT and fragment.security == b"<wsse/>"
    assert fragment.block == "3_doc" and fragment.ln_code == eln.ln_code
    assert lc.journal_state(signed) is JournalState.PENDING
    changed = signed.copy()
    changed.treat_periods[0].dt2 = date(2024, 3, 16)
    with pytest.raises(SignedBlockImmutable) as err:
        store.save(changed, people.doctor.signer, context=CTX)
    assert err.value.field == "treat_periods[0].dt2"
    stripped = signed.copy()
    stripped.treat_periods[0].doctor_signature = None
    with pytest.raises(SignedBlockImmutable, match="снять подпись нельзя"):
        store.save(stripped, people.doctor.signer, context=CTX)


def test_sign_refusals_write_nothing(store: ElnStore, people: People, backend: Backend) -> None:
    eln = make_saved_eln(store, people, ln_result=None)
    with pytest.raises(SignerNotAllowed):
        store.sign(eln.id, DOC0, people.operator.signer, FRAGMENT, context=CTX)  # type: ignore[arg-type]
    with pytest.raises(Exception, match="сначала подписывает врач"):
        store.sign(eln.id, VK0, people.chairman.signer, FRAGMENT, context=CTX)  # type: ignore[arg-type]
    assert m.SignedFragment.select().bind(backend.db).count() == 0


def test_signed_fragments_are_append_only(
    store: ElnStore, people: People, backend: Backend
) -> None:
    eln = make_saved_eln(store, people, ln_result=None)
    signed = store.sign(eln.id, DOC0, people.doctor.signer, FRAGMENT, context=CTX)  # type: ignore[arg-type]
    fragment_id = signed.treat_periods[0].doctor_signature.fragment_id  # type: ignore[union-attr]
    row = m.SignedFragment.select().where(m.SignedFragment.id == fragment_id).bind(backend.db).get()
    row.data = b"tampered"
    with pytest.raises(AppendOnlyViolation):
        row.save()
    with pytest.raises(AppendOnlyViolation):
        row.delete_instance()
    with pytest.raises(peewee.DatabaseError):
        with backend.db.atomic():
            backend.db.execute_sql("UPDATE signed_fragment SET data = NULL")
    with pytest.raises(peewee.DatabaseError):
        with backend.db.atomic():
            backend.db.execute_sql("DELETE FROM signed_fragment")
    assert store.fragment(fragment_id).data == FRAGMENT  # type: ignore[arg-type]


def test_audit_records_who_what_when(store: ElnStore, people: People) -> None:
    eln = make_saved_eln(store, people, ln_result=None)
    store.save(replace(eln, diagnos="J20.9"), people.doctor.signer, context=CTX)
    trail = store.audit_trail(entity="eln", entity_id=eln.id)
    assert [(a.action, a.login) for a in trail] == [("create", "kuznetsova"), ("update", "ivanov")]
    assert trail[1].details["changes"] == {"diagnos": ["J06.9", "J20.9"]}
    assert trail[0].details["changes"]["patient.snils"] == [None, factories.SNILS]
    assert trail[1].at >= trail[0].at and trail[1].at.tzinfo is not None
    assert all(a.ln_code == eln.ln_code for a in trail)


def test_audit_is_append_only(store: ElnStore, people: People, backend: Backend) -> None:
    make_saved_eln(store, people)
    entry = m.AuditEntry.select().bind(backend.db).first()
    entry.action = "nothing happened"
    with pytest.raises(AppendOnlyViolation) as err:
        entry.save()
    assert "неизменяемы" in err.value.message
    with pytest.raises(AppendOnlyViolation):
        entry.delete_instance()
    with pytest.raises(AppendOnlyViolation):
        m.AuditEntry.update(action="x")
    with pytest.raises(AppendOnlyViolation):
        m.AuditEntry.delete()
    for sql in ("UPDATE audit_entry SET action = 'x'", "DELETE FROM audit_entry"):
        with pytest.raises(peewee.DatabaseError, match="неизменяемы"):
            with backend.db.atomic():
                backend.db.execute_sql(sql)
    if backend.name == "postgresql":
        with pytest.raises(peewee.DatabaseError, match="неизменяемы"):
            with backend.db.atomic():
                backend.db.execute_sql("TRUNCATE audit_entry")
    assert m.AuditEntry.select().bind(backend.db).count() == len(store.audit_trail())


def test_terminate_and_delete(store: ElnStore, people: People) -> None:
    eln = make_saved_eln(store, people)
    with pytest.raises(DeleteForbidden, match="удаление документа запрещено"):
        store.delete(eln.id, people.operator.signer)  # type: ignore[arg-type]
    done = store.terminate(eln.id, people.operator.signer, "010")  # type: ignore[arg-type]
    assert done.termination is not None and done.termination.by_name == people.operator.full_name
    page = store.journal(JournalView.DELETED)
    assert [r.ln_code for r in page.rows] == [eln.ln_code]
    assert page.rows[0].terminated
    # a paper LN with a typed number can be deleted
    paper = store.save(
        factories.valid_eln(ln_code="123456789012", number_from_pool=False, electronic=False),
        people.doctor.signer,
        context=CTX,
    )
    store.delete(paper.id, people.doctor.signer)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        store.load(paper.id)  # type: ignore[arg-type]
    assert store.audit_trail(entity="eln", entity_id=paper.id)[-1].action == "delete"


def test_continue_and_duplicate(store: ElnStore, people: People) -> None:
    eln = make_saved_eln(store, people, ln_result=None)
    store.sign(eln.id, DOC0, people.doctor.signer, FRAGMENT, context=CTX)  # type: ignore[arg-type]
    old, new = store.continue_eln(
        eln.id,
        people.doctor.signer,
        ln_date=date(2024, 3, 16),  # type: ignore[arg-type]
        context=CTX,
    )
    assert old.ln_result is not None and old.ln_result.next_ln_code == new.ln_code
    assert new.prev_ln_code == eln.ln_code and not new.primary_flag and new.id is None
    assert store.pool().get(new.ln_code).state is NumberState.RESERVED  # type: ignore[arg-type]
    start = date(2024, 3, 16)
    new = lc.add_period(
        new,
        start,
        start + timedelta(2),
        doctor=people.doctor.full_name,
        doctor_role="Врач-терапевт",
    )
    saved = store.save(new, people.doctor.signer, context=CTX)
    assert store.pool().get(saved.ln_code).state is NumberState.USED  # type: ignore[arg-type]
    terminated, dup = store.duplicate_eln(
        saved.id,
        people.chairman.signer,  # type: ignore[arg-type]
        ln_date=date(2024, 3, 19),
    )
    assert terminated.termination is not None and terminated.termination.reason_code == "030"
    assert dup.duplicate_flag and dup.previously_issued_code == saved.ln_code


def test_transfer_results_and_received(store: ElnStore, people: People) -> None:
    eln = make_saved_eln(store, people, ln_result=None)
    eln = store.sign(eln.id, DOC0, people.doctor.signer, FRAGMENT, context=CTX)  # type: ignore[arg-type]
    assert [r.id for r in store.journal(JournalView.NOT_SENT).rows] == [eln.id]
    failed = store.record_transfer(eln.id, people.operator.signer, ok=False, error="ЭЦП неверна")  # type: ignore[arg-type]
    rows = store.journal(JournalView.ERRORS).rows
    assert [(r.id, r.transfer_error) for r in rows] == [(eln.id, "ЭЦП неверна")]
    assert failed.transfer_error == "ЭЦП неверна"
    sent = store.record_transfer(
        eln.id,
        people.operator.signer,
        ok=True,
        blocks=["treat_periods[0]"],  # type: ignore[arg-type]
        ln_state="010",
        ln_hash="3BE6" * 8,
    )
    assert sent.ln_state == "010" and sent.treat_periods[0].sent
    rows = store.journal(JournalView.SENT).rows
    assert [(r.id, r.state_title) for r in rows] == [(eln.id, "ЭЛН открыт")]
    foreign = factories.valid_eln(
        ln_code="900000000999",
        ln_state="020",
        ln_hash="A" * 32,
        lpu=factories.lpu(ogrn="1027500716143"),
    )
    received = store.store_received(foreign, people.operator.signer)
    assert received.source is Source.FSS and received.treat_periods[0].sent
    assert [r.ln_code for r in store.journal(JournalView.RECEIVED).rows] == ["900000000999"]
    refreshed = store.store_received(replace(foreign, ln_state="030"), people.operator.signer)
    assert refreshed.id == received.id and refreshed.ln_state == "030"


def test_list_for_doctor(store: ElnStore, people: People) -> None:
    mine = make_saved_eln(store, people)
    other = make_saved_eln(store, people)
    moved = store.save(
        replace(other, doctor_id=people.chairman.id), people.chairman.signer, context=CTX
    )
    assert [r.id for r in store.list_for_doctor(people.doctor.id).rows] == [mine.id]
    assert [r.id for r in store.list_for_doctor(people.chairman.id).rows] == [moved.id]


def test_users_and_roles(store: ElnStore, people: People) -> None:
    user = store.user_by_login("sidorova")
    assert user.signer.roles == people.chairman.roles and user.signer.login == "sidorova"
    with pytest.raises(ValidationError, match="уже существует"):
        store.add_user("sidorova", "Кто-то", [])
    with pytest.raises(ValidationError, match="СНИЛС пользователя"):
        store.add_user("x", "Икс", [], snils="11223344596")
    updated = store.set_roles(
        people.nurse.id, ["nurse", "eln_operator"], actor=people.operator.signer
    )
    assert {r.value for r in updated.roles} == {"nurse", "eln_operator"}
    with pytest.raises(NotFound, match="не зарегистрирован"):
        store.user_by_login("nobody")


def test_settings_refused_until_complete(store: ElnStore, people: People) -> None:
    settings = SettingsData(
        server_url="https://docs.fss.ru/WSLnCryptoV20/FileOperationsLnService",
        registry_phone="+7 495 000-00-00",
        registry_email="eln@example.ru",
    )
    org = OrganisationData(name="ГБУЗ «ГП № 1»", address=None, ogrn=None, uses_integration=True)
    with pytest.raises(SettingsIncomplete) as err:
        store.save_settings(settings, [org], people.operator.signer)
    assert [p[1] for p in err.value.problems] == [
        "У учреждения «ГБУЗ «ГП № 1»» не заполнено поле «Официальный адрес»: заполните его или "
        "снимите отметку в поле «МО, использующие интеграцию».",
        "У учреждения «ГБУЗ «ГП № 1»» не заполнено поле «ОГРН»: заполните его или снимите "
        "отметку в поле «МО, использующие интеграцию».",
    ]
    with pytest.raises(SettingsIncomplete, match="«Адрес сервера»"):
        store.save_settings(replace(settings, server_url=""), [org], people.operator.signer)
    org.address, org.ogrn = "г. Москва, ул. Ленина, д. 1", "1027739443237"
    with pytest.raises(SettingsIncomplete, match="неверное контрольное число"):
        store.save_settings(settings, [org], people.operator.signer)
    org.ogrn = factories.OGRN
    store.save_settings(settings, [org, OrganisationData(name="Без ОГРН")], people.operator.signer)
    loaded, orgs = store.load_settings()
    assert loaded == settings
    assert [(o.name, o.ogrn, o.uses_integration) for o in orgs] == [
        ("ГБУЗ «ГП № 1»", factories.OGRN, True),
        ("Без ОГРН", None, False),
    ]


def test_patient_names_of_elns(store: ElnStore, people: People) -> None:
    eln = make_saved_eln(store, people)
    assert eln.id is not None
    names = store.patient_names([eln.id, eln.id, 999_999])
    assert names == {eln.id: (eln.patient.surname, eln.patient.name, eln.patient.patronymic)}
    assert store.patient_names([]) == {}
