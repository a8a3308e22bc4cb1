"""The storage service the TUI and the ``eln`` CLI call.

Every change runs in one transaction — an ELN with its periods and care records is written
completely or not at all — and leaves an :class:`~.models.AuditEntry` (who, what, when, and the
changed field paths with old and new values). Saving runs the consent check and ФЛК first, then,
under the row lock, the optimistic version check and the signed-block immutability check against
the stored version.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from peewee import Database

from eln_tui.core.domain import flk, lifecycle
from eln_tui.core.domain.codes import V20, JournalView, NumberMode, Role
from eln_tui.core.domain.flk import CheckContext
from eln_tui.core.domain.lifecycle import Signer
from eln_tui.core.domain.model import (
    Block,
    CareRecord,
    Eln,
    Employer,
    Gender,
    HospitalBreach,
    LnResult,
    Lpu,
    Patient,
    Signature,
    Source,
    Termination,
    TreatPeriod,
    field_title,
)
from eln_tui.core.domain.validators import validate_ogrn, validate_snils
from eln_tui.core.errors import (
    CentralServerNotConfigured,
    ConcurrentModification,
    NotFound,
    NumberStateError,
    SettingsIncomplete,
    ValidationError,
)
from eln_tui.core.storage import models as m
from eln_tui.core.storage.db import (
    connect,
    current_database,
    execute_insert,
    from_db_time,
    is_postgres,
    to_db_time,
    utcnow,
)
from eln_tui.core.storage.journal import Page, journal_page
from eln_tui.core.storage.numbers import STALE_AFTER, NumberPool, StaleReservation

SYSTEM = Signer(None, "Система", frozenset(), "system")


# --- plain data the service hands out --------------------------------------------------------


@dataclass(frozen=True)
class UserInfo:
    id: int
    login: str
    full_name: str
    roles: frozenset[Role]
    position: str | None = None
    id_doctor: str | None = None
    snils: str | None = None
    cert_serial: str | None = None
    cert_algorithm: str | None = None
    cert_ref: str | None = None
    active: bool = True

    @property
    def signer(self) -> Signer:
        return Signer(self.id, self.full_name, self.roles, self.login)


@dataclass
class OrganisationData:
    name: str
    address: str | None = None  # «Официальный адрес»
    ogrn: str | None = None
    id_mo: str | None = None
    uses_integration: bool = False  # ticked in «МО, использующие интеграцию»
    id: int | None = None


@dataclass
class SettingsData:
    enabled: bool = False
    server_url: str | None = None
    registry_phone: str | None = None
    registry_email: str | None = None
    crypto_provider: str | None = None
    number_mode: NumberMode = NumberMode.ANY_CURRENT
    central_server: str | None = None
    server_name: str | None = None
    protocol_version: str = V20


@dataclass(frozen=True)
class AuditRecord:
    id: int
    at: datetime
    user_id: int | None
    login: str | None
    action: str
    entity: str
    entity_id: str | None
    ln_code: str | None
    details: dict[str, Any]


@dataclass(frozen=True)
class FragmentData:
    id: int
    eln_id: int
    ln_code: str
    block: str
    signer_id: int | None
    signer_name: str
    signed_at: datetime
    data: bytes
    security: bytes | None


# --- conversion ------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Gender):
        return int(value)
    return value


def _flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    """Field path → JSON-able value, for audit diffs."""
    out: dict[str, Any] = {}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            out |= _flatten(getattr(obj, f.name), f"{prefix}{f.name}.")
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            out |= _flatten(item, f"{prefix[:-1]}[{i}].")
        if not obj:
            out[prefix[:-1]] = []
    else:
        out[prefix[:-1]] = _jsonable(obj)
    return out


def diff(before: Eln | None, after: Eln) -> dict[str, list[Any]]:
    """Changed field paths with ``[old, new]``; everything is new for a created ELN."""
    old = _flatten(before) if before is not None else {}
    new = _flatten(after)
    skip = ("id", "version")
    return {
        k: [old.get(k), new.get(k)]
        for k in sorted(set(old) | set(new))
        if k not in skip and old.get(k) != new.get(k)
    }


def _sig(signer_id: Any, name: Any, at: Any, fragment_id: Any) -> Signature | None:
    if at is None:
        return None
    return Signature(signer_id, name or "", from_db_time(at), fragment_id)  # type: ignore[arg-type]


def _sig_cols(prefix: str, sig: Signature | None) -> dict[str, Any]:
    return {
        f"{prefix}_signer_id": sig.signer_id if sig else None,
        f"{prefix}_signer_name": sig.signer_name if sig else None,
        f"{prefix}_signed_at": to_db_time(sig.signed_at) if sig else None,
        f"{prefix}_fragment_id": sig.fragment_id if sig else None,
    }


def _eln_columns(eln: Eln) -> dict[str, Any]:
    p, b, r, t = eln.patient, eln.hospital_breach, eln.ln_result, eln.termination
    cols: dict[str, Any] = {
        "ln_code": eln.ln_code,
        "electronic": eln.electronic,
        "written_agreement_flag": eln.written_agreement_flag,
        "unconditional": eln.unconditional,
        "patient": eln.patient_id,
        "snils": p.snils,
        "surname": p.surname,
        "name": p.name,
        "patronymic": p.patronymic,
        "surname_key": p.surname.upper() if p.surname else None,
        "birthday": p.birthday,
        "gender": int(p.gender) if p.gender is not None else None,
        "employment_service_flag": p.employment_service_flag,
        "employer_name": eln.employer.name,
        "employer_main_job": eln.employer.main_job,
        "lpu_name": eln.lpu.name,
        "lpu_address": eln.lpu.address,
        "lpu_ogrn": eln.lpu.ogrn,
        "id_mo": eln.lpu.id_mo,
        "primary_flag": eln.primary_flag,
        "prev_ln_code": eln.prev_ln_code,
        "prev_ln_issuer": eln.prev_ln_issuer,
        "duplicate_flag": eln.duplicate_flag,
        "previously_issued_code": eln.previously_issued_code,
        "ln_date": eln.ln_date,
        "reason1": eln.reason1,
        "reason2": eln.reason2,
        "reason3": eln.reason3,
        "diagnos": eln.diagnos,
        "parent_code": eln.parent_code,
        "date1": eln.date1,
        "date2": eln.date2,
        "voucher_no": eln.voucher_no,
        "voucher_ogrn": eln.voucher_ogrn,
        "pregn12w_flag": eln.pregn12w_flag,
        "intermittent_method_flag": eln.intermittent_method_flag,
        "hospital_dt1": eln.hospital_dt1,
        "hospital_dt2": eln.hospital_dt2,
        "breach_code": b.code if b else None,
        "breach_dt": b.dt if b else None,
        "breach_sent": b.sent if b else False,
        "mse_dt1": eln.mse_dt1,
        "mse_dt2": eln.mse_dt2,
        "mse_dt3": eln.mse_dt3,
        "mse_invalid_group": eln.mse_invalid_group,
        "mse_sent": eln.mse_sent,
        "has_result": r is not None,
        "return_date_lpu": r.return_date_lpu if r else None,
        "mse_result": r.mse_result if r else None,
        "other_state_dt": r.other_state_dt if r else None,
        "next_ln_code": r.next_ln_code if r else None,
        "result_sent": r.sent if r else False,
        "ln_state": eln.ln_state,
        "ln_hash": eln.ln_hash,
        "source": eln.source.value,
        "number_from_pool": eln.number_from_pool,
        "doctor": eln.doctor_id,
        "transfer_error": eln.transfer_error,
        "last_sent_at": to_db_time(eln.last_sent_at),
        "term_reason_code": t.reason_code if t else None,
        "term_reason": t.reason if t else None,
        "term_by_id": t.by_id if t else None,
        "term_by_name": t.by_name if t else None,
        "term_at": to_db_time(t.at) if t else None,
        "term_sent": t.sent if t else False,
        "journal_state": lifecycle.journal_state(eln).value,
        "first_dt1": eln.first_dt1,
        "last_dt2": eln.last_dt2,
    }
    cols |= _sig_cols("breach", b.signature if b else None)
    cols |= _sig_cols("result", r.signature if r else None)
    return cols


# Columns whose ELN attribute path differs from the column name (for the error's field title).
_COLUMN_PATHS = {
    "snils": "patient.snils",
    "surname": "patient.surname",
    "surname_key": "patient.surname",
    "name": "patient.name",
    "patronymic": "patient.patronymic",
    "employer_name": "employer.name",
    "lpu_name": "lpu.name",
    "lpu_address": "lpu.address",
    "lpu_ogrn": "lpu.ogrn",
    "id_mo": "lpu.id_mo",
    "breach_code": "hospital_breach.code",
    "mse_result": "ln_result.mse_result",
    "next_ln_code": "ln_result.next_ln_code",
    "term_reason_code": "termination.reason_code",
}


def _ensure_fits(model: Any, row: Mapping[str, Any], prefix: str = "") -> None:
    """Every text fits its column. ФЛК limits what a user types; this also covers data received
    from the Fund (no ФЛК) and fields without a ФЛК limit — PostgreSQL would refuse the row
    with a DataError, SQLite would keep a value the format does not allow."""
    for name, value in row.items():
        limit = getattr(model._meta.fields.get(name), "max_length", None)
        if isinstance(value, str) and limit is not None and len(value) > limit:
            path = f"{prefix}{name}" if prefix else _COLUMN_PATHS.get(name, name)
            raise ValidationError(
                f"Поле «{field_title(path)}» длиннее {limit} символов; ЭЛН не сохранён.",
                field=path,
            )


def _period_columns(eln_id: int, idx: int, p: TreatPeriod) -> dict[str, Any]:
    return {
        "eln": eln_id,
        "idx": idx,
        "dt1": p.dt1,
        "dt2": p.dt2,
        "doctor": p.doctor,
        "doctor_role": p.doctor_role,
        "id_doctor": p.id_doctor,
        "chairman": p.chairman,
        "chairman_role": p.chairman_role,
        "doctor_user_id": p.doctor_id,
        "chairman_user_id": p.chairman_id,
        "sent": p.sent,
        **_sig_cols("doc", p.doctor_signature),
        **_sig_cols("vk", p.chairman_signature),
    }


def _care_columns(eln_id: int, idx: int, c: CareRecord) -> dict[str, Any]:
    cols = {f.name: getattr(c, f.name) for f in dataclasses.fields(CareRecord)}
    return {"eln": eln_id, "idx": idx, **cols}


def _eln_from_rows(
    row: m.Eln, periods: Iterable[m.TreatPeriod], cares: Iterable[m.CareRecord]
) -> Eln:
    breach = None
    if row.breach_code is not None or row.breach_dt is not None or row.breach_signed_at:
        breach = HospitalBreach(
            code=row.breach_code,
            dt=row.breach_dt,
            signature=_sig(
                row.breach_signer_id,
                row.breach_signer_name,
                row.breach_signed_at,
                row.breach_fragment_id,
            ),
            sent=row.breach_sent,
        )
    result = None
    if row.has_result:
        result = LnResult(
            return_date_lpu=row.return_date_lpu,
            mse_result=row.mse_result,
            other_state_dt=row.other_state_dt,
            next_ln_code=row.next_ln_code,
            signature=_sig(
                row.result_signer_id,
                row.result_signer_name,
                row.result_signed_at,
                row.result_fragment_id,
            ),
            sent=row.result_sent,
        )
    termination = None
    if row.term_reason_code is not None:
        termination = Termination(
            reason_code=row.term_reason_code,
            reason=row.term_reason or "",
            by_id=row.term_by_id,
            by_name=row.term_by_name or "",
            at=from_db_time(row.term_at),  # type: ignore[arg-type]
            sent=row.term_sent,
        )
    return Eln(
        id=row.id,
        ln_code=row.ln_code,
        electronic=row.electronic,
        written_agreement_flag=row.written_agreement_flag,
        unconditional=row.unconditional,
        patient=Patient(
            snils=row.snils,
            surname=row.surname,
            name=row.name,
            patronymic=row.patronymic,
            birthday=row.birthday,
            gender=Gender(row.gender) if row.gender is not None else None,
            employment_service_flag=row.employment_service_flag,
        ),
        employer=Employer(name=row.employer_name, main_job=row.employer_main_job),
        lpu=Lpu(name=row.lpu_name, address=row.lpu_address, ogrn=row.lpu_ogrn, id_mo=row.id_mo),
        primary_flag=row.primary_flag,
        prev_ln_code=row.prev_ln_code,
        prev_ln_issuer=row.prev_ln_issuer,
        duplicate_flag=row.duplicate_flag,
        previously_issued_code=row.previously_issued_code,
        ln_date=row.ln_date,
        reason1=row.reason1,
        reason2=row.reason2,
        reason3=row.reason3,
        diagnos=row.diagnos,
        parent_code=row.parent_code,
        date1=row.date1,
        date2=row.date2,
        voucher_no=row.voucher_no,
        voucher_ogrn=row.voucher_ogrn,
        serv_data=[
            CareRecord(**{f.name: getattr(c, f.name) for f in dataclasses.fields(CareRecord)})
            for c in cares
        ],
        pregn12w_flag=row.pregn12w_flag,
        intermittent_method_flag=row.intermittent_method_flag,
        hospital_dt1=row.hospital_dt1,
        hospital_dt2=row.hospital_dt2,
        hospital_breach=breach,
        mse_dt1=row.mse_dt1,
        mse_dt2=row.mse_dt2,
        mse_dt3=row.mse_dt3,
        mse_invalid_group=row.mse_invalid_group,
        mse_sent=row.mse_sent,
        treat_periods=[
            TreatPeriod(
                dt1=p.dt1,
                dt2=p.dt2,
                doctor=p.doctor,
                doctor_role=p.doctor_role,
                id_doctor=p.id_doctor,
                chairman=p.chairman,
                chairman_role=p.chairman_role,
                doctor_signature=_sig(
                    p.doc_signer_id, p.doc_signer_name, p.doc_signed_at, p.doc_fragment_id
                ),
                chairman_signature=_sig(
                    p.vk_signer_id, p.vk_signer_name, p.vk_signed_at, p.vk_fragment_id
                ),
                doctor_id=p.doctor_user_id,
                chairman_id=p.chairman_user_id,
                sent=p.sent,
            )
            for p in periods
        ],
        ln_result=result,
        ln_state=row.ln_state,
        ln_hash=row.ln_hash,
        source=Source(row.source),
        number_from_pool=row.number_from_pool,
        doctor_id=row.doctor_id,  # type: ignore[attr-defined]
        patient_id=row.patient_id,  # type: ignore[attr-defined]
        transfer_error=row.transfer_error,
        last_sent_at=from_db_time(row.last_sent_at),
        termination=termination,
        version=row.version,
    )


# --- the service -----------------------------------------------------------------------------


class ElnStore:
    """Repository and service API over one database (default: the one behind the proxy)."""

    def __init__(
        self,
        db: Database | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
        central: Database | None = None,
    ) -> None:
        self.db = db if db is not None else current_database()
        self.clock = clock
        self.central = central

    # helpers

    def _now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        """Today in the workstation's local time zone (dates on an ELN are local dates)."""
        return self._now().astimezone().date()

    def _context(self, context: CheckContext | None) -> CheckContext:
        return context or CheckContext(today=self.today(), version=self._protocol_version())

    def _protocol_version(self) -> str:
        row = (
            m.IntegrationSettings.select()
            .where(m.IntegrationSettings.id == 1)
            .bind(self.db)
            .first()
        )
        return row.protocol_version if row else V20

    def pool(self) -> NumberPool:
        return NumberPool(self.db, central=NumberPool(self.central) if self.central else None)

    def _audit(
        self,
        actor: Signer,
        action: str,
        entity: str,
        entity_id: object = None,
        *,
        ln_code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        execute_insert(
            m.AuditEntry.insert(
                at=to_db_time(self._now()),
                user_id=actor.user_id,
                login=actor.login or None,
                action=action,
                entity=entity,
                entity_id=str(entity_id) if entity_id is not None else None,
                ln_code=ln_code,
                details=json.dumps(details, ensure_ascii=False, default=str) if details else None,
            ),
            self.db,
        )

    # --- ELN: load and list --------------------------------------------------------------------

    def _load(self, eln_id: int, *, for_update: bool = False) -> Eln:
        query = m.Eln.select().where(m.Eln.id == eln_id)
        if for_update and is_postgres(self.db):
            query = query.for_update()
        row = query.bind(self.db).first()
        if row is None:
            raise NotFound(f"ЭЛН (запись {eln_id}) не найден.")
        periods = (
            m.TreatPeriod.select()
            .where(m.TreatPeriod.eln == eln_id)
            .order_by(m.TreatPeriod.idx)
            .bind(self.db)
        )
        cares = (
            m.CareRecord.select()
            .where(m.CareRecord.eln == eln_id)
            .order_by(m.CareRecord.idx)
            .bind(self.db)
        )
        return _eln_from_rows(row, periods, cares)

    def load(self, eln_id: int) -> Eln:
        return self._load(eln_id)

    def load_by_number(self, ln_code: str) -> Eln:
        row = m.Eln.select(m.Eln.id).where(m.Eln.ln_code == ln_code).bind(self.db).first()
        if row is None:
            raise NotFound(f"ЭЛН № {ln_code} не найден.")
        return self._load(row.id)

    def patient_names(
        self, eln_ids: Iterable[int]
    ) -> dict[int, tuple[str | None, str | None, str | None]]:
        """(surname, name, patronymic) of the patient of each ELN, for lists that show whose
        ELN a row is about (the pool, the registry preview); 500 ids a query."""
        ids = list(dict.fromkeys(eln_ids))
        names: dict[int, tuple[str | None, str | None, str | None]] = {}
        for start in range(0, len(ids), 500):
            query: Any = (
                m.Eln.select(m.Eln.id, m.Eln.surname, m.Eln.name, m.Eln.patronymic)
                .where(m.Eln.id.in_(ids[start : start + 500]))
                .bind(self.db)
            )
            names.update({r.id: (r.surname, r.name, r.patronymic) for r in query})
        return names

    def journal(self, view: JournalView = JournalView.ALL, **kwargs: Any) -> Page:
        """A page of a journal view; see :func:`~.journal.journal_page` for the arguments."""
        return journal_page(view, db=self.db, **kwargs)

    def list_for_doctor(self, doctor_id: int, **kwargs: Any) -> Page:
        return journal_page(JournalView.ALL, doctor_id=doctor_id, db=self.db, **kwargs)

    # --- ELN: write ------------------------------------------------------------------------------

    def _write(
        self, eln: Eln, actor: Signer, action: str, extra: dict[str, Any] | None = None
    ) -> Eln:
        """Insert or update the ELN and its children; call inside a transaction."""
        now = to_db_time(self._now())
        cols = _eln_columns(eln)
        _ensure_fits(m.Eln, cols)
        periods = [_period_columns(0, i, p) for i, p in enumerate(eln.treat_periods)]
        cares = [_care_columns(0, i, c) for i, c in enumerate(eln.serv_data)]
        for i, row in enumerate(periods):
            _ensure_fits(m.TreatPeriod, row, f"treat_periods[{i}].")
        for i, row in enumerate(cares):
            _ensure_fits(m.CareRecord, row, f"serv_data[{i}].")
        cols |= {"updated_at": now, "updated_by": actor.user_id}
        before: Eln | None = None
        if eln.id is None:
            cols |= {"created_at": now, "created_by": actor.user_id, "version": 1}
            eln_id = execute_insert(m.Eln.insert(**cols), self.db)
        else:
            eln_id = eln.id
            before = self._load(eln_id, for_update=True)
            if before.version != eln.version:
                raise ConcurrentModification(
                    f"ЭЛН № {eln.ln_code or eln_id} уже изменён другим пользователем; "
                    "откройте его заново и повторите изменения."
                )
            lifecycle.ensure_signed_unchanged(before, eln)
            cols["version"] = before.version + 1
            updated = (
                m.Eln.update(**cols)
                .where((m.Eln.id == eln_id) & (m.Eln.version == eln.version))
                .bind(self.db)
                .execute()
            )
            if updated != 1:
                raise ConcurrentModification(
                    f"ЭЛН № {eln.ln_code or eln_id} уже изменён другим пользователем; "
                    "откройте его заново и повторите изменения."
                )
            m.TreatPeriod.delete().where(m.TreatPeriod.eln == eln_id).bind(self.db).execute()
            m.CareRecord.delete().where(m.CareRecord.eln == eln_id).bind(self.db).execute()
        if eln.treat_periods:
            execute_insert(
                m.TreatPeriod.insert_many(
                    [_period_columns(eln_id, i, p) for i, p in enumerate(eln.treat_periods)]
                ),
                self.db,
            )
        if eln.serv_data:
            execute_insert(
                m.CareRecord.insert_many(
                    [_care_columns(eln_id, i, c) for i, c in enumerate(eln.serv_data)]
                ),
                self.db,
            )
        if eln.number_from_pool and eln.ln_code and eln.source is Source.LOCAL:
            pool = NumberPool(self.db)
            try:
                pool.get(eln.ln_code)
            except NotFound:
                pass  # taken from the central server's pool, or restored from FSS
            else:
                pool.mark_used(eln.ln_code, eln_id)
        saved = self._load(eln_id)
        details = {"changes": diff(before, saved)} | (extra or {})
        self._audit(actor, action, "eln", eln_id, ln_code=saved.ln_code, details=details)
        return saved

    def save(self, eln: Eln, actor: Signer, *, context: CheckContext | None = None) -> Eln:
        """Save (create or update) an ELN after the consent check and ФЛК; returns it reloaded.

        Raises :class:`~eln_tui.core.errors.ConsentMissing`, :class:`FlkFailed`,
        :class:`ConcurrentModification` or :class:`SignedBlockImmutable`.
        """
        lifecycle.ensure_consent(eln)
        flk.ensure_valid(eln, self._context(context))
        with self.db.atomic():
            self._ensure_references(eln)
            return self._write(eln, actor, "create" if eln.id is None else "update")

    def _ensure_references(self, eln: Eln) -> None:
        """The user and patient an ELN points to exist (an imported JSON may name any id)."""
        for path, model, value, what in (
            ("doctor_id", m.User, eln.doctor_id, "пользователь"),
            ("patient_id", m.Patient, eln.patient_id, "пациент"),
        ):
            if (
                value is not None
                and not model.select().where(model.id == value).bind(self.db).exists()
            ):
                raise ValidationError(
                    f"Поле «{path}»: {what} с кодом {value} не найден в журнале.", field=path
                )

    def take_number(
        self,
        eln: Eln,
        actor: Signer,
        *,
        mode: NumberMode = NumberMode.ANY_CURRENT,
        server_tag: str | None = None,
    ) -> Eln:
        """«Получить номер»: SNILS check first, then the next free number, marked «Занят»."""
        lifecycle.ensure_can_take_number(eln)
        if NumberMode(mode) is NumberMode.ANY_CENTRAL and self.central is None:
            self.central = self._central_from_settings()
        with self.db.atomic():
            number = self.pool().take(server_tag, mode, reserved_by=actor.user_id)
            self._audit(
                actor,
                "number_reserved",
                "eln_number",
                number,
                ln_code=number,
                details={"mode": NumberMode(mode).value, "server_tag": server_tag},
            )
        return lifecycle.assign_number(eln, number)

    def _central_from_settings(self) -> Database | None:
        """The central server's database named in the settings (mode «Любой свободный с
        центрального сервера»), or None (then the pool says what to configure)."""
        settings, _ = self.load_settings()
        url = (settings.central_server or "").strip()
        if not url:
            return None
        if "://" not in url:
            raise CentralServerNotConfigured(
                f"Центральный сервер «{url}» в настройке «Способ получения номера для ЭЛН» "
                "должен быть адресом его базы данных: postgresql://пользователь@сервер/база."
            )
        return connect(url)

    def discard_unsaved(self, eln: Eln, actor: Signer) -> None:
        """The document is closed without ever being saved: its number returns to «Свободен»."""
        if eln.id is not None or not (eln.number_from_pool and eln.ln_code):
            return
        with self.db.atomic():
            self.pool().release(eln.ln_code)
            self._audit(actor, "number_released", "eln_number", eln.ln_code, ln_code=eln.ln_code)

    def stale_numbers(
        self,
        older_than: timedelta = STALE_AFTER,
        *,
        after: str | None = None,
        limit: int = 100,
        server_tag: str | None = None,
    ) -> list[StaleReservation]:
        """Numbers «Занят» for longer than ``older_than`` with no saved ELN (see NumberPool).

        With a central server and this server's name (``server_tag``), also the central
        numbers handed to this server that never reached its database (``central=True``: the
        second transaction of an ANY_CENTRAL take failed).
        """
        rows = NumberPool(self.db).stale(older_than, now=self._now(), after=after, limit=limit)
        if self.central is not None and self.central is not self.db and server_tag:
            orphans = self._central_orphans(server_tag, older_than, after, limit)
            rows = sorted(rows + orphans, key=lambda s: s.number)[:limit]
        return rows

    def _central_orphans(
        self, server_tag: str, older_than: timedelta, after: str | None, limit: int
    ) -> list[StaleReservation]:
        """Central reservations handed to ``server_tag`` that this database does not know.

        The central pool never learns that a handed number was saved here, so this walks all
        of them a page at a time (an occasional operator's action).
        """
        assert self.central is not None
        central = NumberPool(self.central)
        found: list[StaleReservation] = []
        while len(found) < limit:
            page = central.stale(
                older_than, now=self._now(), after=after, limit=500, handed_to=server_tag
            )
            if not page:
                break
            after = page[-1].number
            numbers = [s.number for s in page]
            known = {
                r.number
                for r in m.ElnNumber.select(m.ElnNumber.number)
                .where(m.ElnNumber.number.in_(numbers))
                .bind(self.db)
            } | {
                r.ln_code
                for r in m.Eln.select(m.Eln.ln_code).where(m.Eln.ln_code.in_(numbers)).bind(self.db)
            }
            users = {
                r.id: r
                for r in m.User.select(m.User.id, m.User.login, m.User.full_name)
                .where(m.User.id.in_([s.reserved_by for s in page if s.reserved_by is not None]))
                .bind(self.db)
            }
            for s in page:
                if s.number in known:
                    continue
                user = users.get(s.reserved_by) if s.reserved_by is not None else None
                found.append(
                    dataclasses.replace(
                        s,
                        central=True,
                        reserved_by_login=user.login if user else None,
                        reserved_by_name=user.full_name if user else None,
                    )
                )
        return found[:limit]

    def release_stale_numbers(
        self,
        numbers: Iterable[str],
        actor: Signer,
        older_than: timedelta = STALE_AFTER,
        *,
        server_tag: str | None = None,
    ) -> list[str]:
        """Free stale reservations in one transaction, an audit line each; all or none.

        Refused (:class:`NumberStateError`, naming the number) for a number used by a saved
        ELN, not reserved, handed to another server or reserved less than ``older_than`` ago.
        With a central server and ``server_tag``, a number this database does not know is
        freed on the central server if it was handed to this server (see :meth:`stale_numbers`);
        that update commits last, just before ours.
        """
        numbers = list(dict.fromkeys(numbers))
        minutes = int(older_than.total_seconds() // 60)
        with self.db.atomic():
            remote: list[str] = []
            if self.central is not None and self.central is not self.db and server_tag:
                local = {
                    r.number
                    for r in m.ElnNumber.select(m.ElnNumber.number)
                    .where(m.ElnNumber.number.in_(numbers))
                    .bind(self.db)
                }
                remote = [n for n in numbers if n not in local]
            released = NumberPool(self.db).release_stale(
                [n for n in numbers if n not in remote], older_than, now=self._now()
            )
            for number in remote:
                if m.Eln.select().where(m.Eln.ln_code == number).bind(self.db).exists():
                    raise NumberStateError(
                        f"Номер ЭЛН {number} использован в сохранённом ЭЛН и не может быть "
                        "освобождён."
                    )
            if remote:
                released += NumberPool(self.central).release_stale(
                    remote, older_than, now=self._now(), handed_to=server_tag
                )
            for n in released:
                self._audit(
                    actor,
                    "number_released_stale",
                    "eln_number",
                    n.number,
                    ln_code=n.number,
                    details={
                        "reserved_at": n.reserved_at.isoformat() if n.reserved_at else None,
                        "reserved_by": n.reserved_by,
                        "older_than_minutes": minutes,
                    }
                    | ({"central_server": True} if n.number in remote else {}),
                )
        return [n.number for n in released]

    def sign(
        self,
        eln_id: int,
        block: Block,
        actor: Signer,
        fragment: bytes,
        *,
        security: bytes | None = None,
        context: CheckContext | None = None,
        expected_version: int | None = None,
    ) -> Eln:
        """Sign ``block``: store the signed bytes verbatim and attach the signature, atomically.

        ``expected_version`` is the version the fragment was built from: if the ELN was saved
        meanwhile, :class:`ConcurrentModification` is raised and nothing is stored (the signed
        bytes might no longer match the block).
        """
        ctx = self._context(context)
        with self.db.atomic():
            eln = self._load(eln_id, for_update=True)
            if expected_version is not None and eln.version != expected_version:
                raise ConcurrentModification(
                    f"ЭЛН № {eln.ln_code or eln_id} изменён другим пользователем, пока "
                    "готовилась подпись; откройте его заново и подпишите ещё раз."
                )
            now = self._now()
            probe = Signature(actor.user_id, actor.full_name, now)
            flk.ensure_valid(lifecycle.sign(eln, block, actor, probe), ctx)
            fragment_id = execute_insert(
                m.SignedFragment.insert(
                    eln=eln_id,
                    ln_code=eln.ln_code,
                    block=block.suffix,
                    signer_id=actor.user_id,
                    signer_name=actor.full_name,
                    signed_at=to_db_time(now),
                    data=fragment,
                    security=security,
                    sha256=hashlib.sha256(fragment).hexdigest(),
                ),
                self.db,
            )
            signature = dataclasses.replace(probe, fragment_id=fragment_id)
            signed = lifecycle.sign(eln, block, actor, signature)
            return self._write(
                signed, actor, "sign", {"block": block.suffix, "fragment_id": fragment_id}
            )

    def fragment(self, fragment_id: int) -> FragmentData:
        row = (
            m.SignedFragment.select()
            .where(m.SignedFragment.id == fragment_id)
            .bind(self.db)
            .first()
        )
        if row is None:
            raise NotFound(f"Подписанный фрагмент {fragment_id} не найден.")
        return FragmentData(
            id=row.id,
            eln_id=row.eln_id,
            ln_code=row.ln_code,
            block=row.block,
            signer_id=row.signer_id,
            signer_name=row.signer_name,
            signed_at=from_db_time(row.signed_at),  # type: ignore[arg-type]
            data=bytes(row.data),
            security=bytes(row.security) if row.security is not None else None,
        )

    def terminate(
        self, eln_id: int, actor: Signer, reason_code: str, reason: str | None = None
    ) -> Eln:
        """«Прекращение ЛН»: no field checks; the ELN moves to «Удаленные ЭЛН»."""
        with self.db.atomic():
            eln = self._load(eln_id, for_update=True)
            new = lifecycle.terminate(eln, reason_code, reason or "", actor, self._now())
            return self._write(new, actor, "terminate", {"reason_code": reason_code})

    def delete(self, eln_id: int, actor: Signer) -> None:
        """Delete a document whose number did not come from FSS (others: :meth:`terminate`)."""
        with self.db.atomic():
            eln = self._load(eln_id, for_update=True)
            lifecycle.ensure_deletable(eln)
            m.Eln.delete().where(m.Eln.id == eln_id).bind(self.db).execute()
            self._audit(
                actor,
                "delete",
                "eln",
                eln_id,
                ln_code=eln.ln_code,
                details={"changes": diff(None, eln)},
            )

    def continue_eln(
        self,
        old_id: int,
        actor: Signer,
        *,
        ln_date: date,
        mode: NumberMode = NumberMode.ANY_CURRENT,
        server_tag: str | None = None,
        context: CheckContext | None = None,
    ) -> tuple[Eln, Eln]:
        """Close ELN ``old_id`` with «Иное» 31 and prepare its continuation with a new number.

        Returns ``(old_closed_and_saved, new_unsaved)``; the new ELN is filled and saved by the
        caller (or given up with :meth:`discard_unsaved`).
        """
        ctx = self._context(context)
        with self.db.atomic():
            old = self._load(old_id, for_update=True)
            lifecycle.ensure_can_take_number(
                dataclasses.replace(old, ln_code=None, number_from_pool=False)
            )
            number = self.pool().take(server_tag, mode, reserved_by=actor.user_id)
            closed, new = lifecycle.continue_as_new(old, number, ln_date=ln_date)
            flk.ensure_valid(closed, ctx)
            self._audit(actor, "number_reserved", "eln_number", number, ln_code=number)
            saved = self._write(closed, actor, "close_continue", {"next_ln_code": number})
        return saved, new

    def duplicate_eln(
        self,
        old_id: int,
        actor: Signer,
        *,
        ln_date: date,
        mode: NumberMode = NumberMode.ANY_CURRENT,
        server_tag: str | None = None,
    ) -> tuple[Eln, Eln]:
        """Terminate ``old_id`` with 030 and prepare its duplicate with a new number (unsaved)."""
        with self.db.atomic():
            old = self._load(old_id, for_update=True)
            number = self.pool().take(server_tag, mode, reserved_by=actor.user_id)
            terminated, new = lifecycle.duplicate(
                old, number, ln_date=ln_date, terminated_by=actor, at=self._now()
            )
            self._audit(actor, "number_reserved", "eln_number", number, ln_code=number)
            saved = self._write(terminated, actor, "terminate_duplicate", {"duplicate": number})
        return saved, new

    def record_transfer(
        self,
        eln_id: int,
        actor: Signer,
        *,
        ok: bool,
        blocks: list[str] | None = None,
        ln_state: str | None = None,
        ln_hash: str | None = None,
        error: str | None = None,
    ) -> Eln:
        """Store the outcome of a send for one ELN (marks, state, hash, or the error text)."""
        with self.db.atomic():
            eln = self._load(eln_id, for_update=True)
            if ok:
                new = lifecycle.mark_sent(
                    eln,
                    ln_state=ln_state or eln.ln_state,
                    ln_hash=ln_hash,
                    blocks=blocks or [],
                    at=self._now(),
                )
            else:
                new = lifecycle.mark_transfer_error(eln, error or "Ошибка передачи")
            return self._write(
                new,
                actor,
                "transfer_ok" if ok else "transfer_error",
                {"blocks": blocks, "error": error},
            )

    def store_received(self, eln: Eln, actor: Signer) -> Eln:
        """Keep an ELN obtained with getLNData («Получены из ЕИИС Соцстрах»); no ФЛК: FSS data.

        Blocks FSS already has are marked sent. An ELN already stored under that number only
        gets the new ``lnState``/``lnHash``.
        """
        with self.db.atomic():
            row = m.Eln.select(m.Eln.id).where(m.Eln.ln_code == eln.ln_code).bind(self.db).first()
            if row is not None:
                existing = self._load(row.id, for_update=True)
                updated = dataclasses.replace(existing, ln_state=eln.ln_state, ln_hash=eln.ln_hash)
                return self._write(updated, actor, "fss_refresh")
            received = eln.copy()
            received.id, received.version, received.source = None, 0, Source.FSS
            for p in received.treat_periods:
                p.sent = True
            if received.hospital_breach:
                received.hospital_breach.sent = True
            if received.ln_result:
                received.ln_result.sent = True
            received.mse_sent = received.mse_dt1 is not None
            return self._write(received, actor, "fss_received")

    # --- audit ------------------------------------------------------------------------------------

    def audit_trail(
        self,
        *,
        entity: str | None = None,
        entity_id: object = None,
        ln_code: str | None = None,
        limit: int = 200,
        login: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        before: int | None = None,
        newest_first: bool = False,
    ) -> list[AuditRecord]:
        """Audit entries, oldest first unless ``newest_first``.

        ``since``/``until`` bound ``at`` (inclusive/exclusive). Keyset paging for the audit
        screen: ``newest_first=True`` and ``before`` = the id of the last record of a page.
        """
        query = m.AuditEntry.select()
        if entity is not None:
            query = query.where(m.AuditEntry.entity == entity)
        if entity_id is not None:
            query = query.where(m.AuditEntry.entity_id == str(entity_id))
        if ln_code is not None:
            query = query.where(m.AuditEntry.ln_code == ln_code)
        if login is not None:
            query = query.where(m.AuditEntry.login == login)
        if action is not None:
            query = query.where(m.AuditEntry.action == action)
        if since is not None:
            query = query.where(m.AuditEntry.at >= to_db_time(since))
        if until is not None:
            query = query.where(m.AuditEntry.at < to_db_time(until))
        if before is not None:
            query = query.where(m.AuditEntry.id < before)
        order = m.AuditEntry.id.desc() if newest_first else m.AuditEntry.id
        query = query.order_by(order).limit(limit).bind(self.db)
        return [
            AuditRecord(
                id=r.id,
                at=from_db_time(r.at),  # type: ignore[arg-type]
                user_id=r.user_id,
                login=r.login,
                action=r.action,
                entity=r.entity,
                entity_id=r.entity_id,
                ln_code=r.ln_code,
                details=json.loads(r.details) if r.details else {},
            )
            for r in query
        ]

    # --- users -----------------------------------------------------------------------------------

    def add_user(
        self,
        login: str,
        full_name: str,
        roles: Iterable[Role],
        *,
        actor: Signer = SYSTEM,
        position: str | None = None,
        id_doctor: str | None = None,
        snils: str | None = None,
        cert_serial: str | None = None,
        cert_algorithm: str | None = None,
        cert_ref: str | None = None,
    ) -> UserInfo:
        if not login.strip():
            raise ValidationError("Поле «Учётная запись ОС» обязательно для заполнения.")
        if not full_name.strip():
            raise ValidationError("Поле «ФИО» обязательно для заполнения.")
        if len(full_name) > 90:
            raise ValidationError("Поле «ФИО» не может быть длиннее 90 символов.")
        snils = validate_snils(snils, "СНИЛС пользователя") if snils else None
        roles = frozenset(Role(r) for r in roles)
        with self.db.atomic():
            if m.User.select().where(m.User.login == login).bind(self.db).exists():
                raise ValidationError(f"Пользователь с учётной записью «{login}» уже существует.")
            user_id = execute_insert(
                m.User.insert(
                    login=login,
                    full_name=full_name,
                    position=position,
                    id_doctor=id_doctor,
                    snils=snils,
                    cert_serial=cert_serial,
                    cert_algorithm=cert_algorithm,
                    cert_ref=cert_ref,
                    created_at=to_db_time(self._now()),
                ),
                self.db,
            )
            self._set_roles(user_id, roles)
            self._audit(
                actor,
                "create",
                "user",
                user_id,
                details={"login": login, "full_name": full_name, "roles": sorted(roles)},
            )
        return self.user(user_id)

    def _set_roles(self, user_id: int, roles: frozenset[Role]) -> None:
        m.UserRole.delete().where(m.UserRole.user == user_id).bind(self.db).execute()
        if roles:
            execute_insert(
                m.UserRole.insert_many([{"user": user_id, "role": r.value} for r in sorted(roles)]),
                self.db,
            )

    def set_roles(self, user_id: int, roles: Iterable[Role], *, actor: Signer) -> UserInfo:
        roles = frozenset(Role(r) for r in roles)
        with self.db.atomic():
            before = self.user(user_id)
            self._set_roles(user_id, roles)
            self._audit(
                actor,
                "set_roles",
                "user",
                user_id,
                details={"roles": [sorted(before.roles), sorted(roles)]},
            )
        return self.user(user_id)

    def record_action(
        self,
        actor: Signer,
        action: str,
        entity: str,
        entity_id: object = None,
        *,
        details: dict[str, Any] | None = None,
    ) -> None:
        """An audit line for what the admin changes outside the database (the workstation
        file: provider, Fund certificate) or checks (a test signature)."""
        with self.db.atomic():
            self._audit(actor, action, entity, entity_id, details=details)

    def update_user(
        self,
        user_id: int,
        *,
        actor: Signer,
        full_name: str,
        position: str | None,
        cert_serial: str | None,
        active: bool,
    ) -> UserInfo:
        """Change a profile's name, position, certificate and «active» (the admin's form);
        the audit line lists what changed as ``[before, after]``."""
        if not full_name.strip():
            raise ValidationError("Поле «ФИО» обязательно для заполнения.", field="full_name")
        if len(full_name) > 90:
            raise ValidationError(
                "Поле «ФИО» не может быть длиннее 90 символов.", field="full_name"
            )
        after = {
            "full_name": full_name,
            "position": position or None,
            "cert_serial": cert_serial or None,
            "active": bool(active),
        }
        with self.db.atomic():
            before = dataclasses.asdict(self.user(user_id))
            changed = {k: [before[k], v] for k, v in after.items() if before[k] != v}
            if changed:
                m.User.update(**after).where(m.User.id == user_id).bind(self.db).execute()
                self._audit(actor, "update", "user", user_id, details=changed)
        return self.user(user_id)

    def list_users(self, *, after: int | None = None, limit: int = 100) -> list[UserInfo]:
        """A page of profiles by id (keyset: pass the last id seen as ``after``)."""
        query = m.User.select().order_by(m.User.id).limit(limit)
        if after is not None:
            query = query.where(m.User.id > after)
        rows = list(query.bind(self.db))
        roles: dict[int, set[Role]] = {r.id: set() for r in rows}
        if rows:
            for link in (
                m.UserRole.select().where(m.UserRole.user.in_([r.id for r in rows])).bind(self.db)
            ):
                roles[link.user_id].add(Role(link.role))  # type: ignore[attr-defined]
        return [self._user_info(r, roles=frozenset(roles[r.id])) for r in rows]

    def user(self, user_id: int) -> UserInfo:
        row = m.User.select().where(m.User.id == user_id).bind(self.db).first()
        if row is None:
            raise NotFound(f"Пользователь (запись {user_id}) не найден.")
        return self._user_info(row)

    def user_by_login(self, login: str) -> UserInfo:
        row = m.User.select().where(m.User.login == login).bind(self.db).first()
        if row is None:
            raise NotFound(f"Пользователь с учётной записью «{login}» не зарегистрирован.")
        return self._user_info(row)

    def _user_info(self, row: m.User, *, roles: frozenset[Role] | None = None) -> UserInfo:
        if roles is None:
            roles = frozenset(
                Role(r.role)
                for r in m.UserRole.select().where(m.UserRole.user == row.id).bind(self.db)
            )
        return UserInfo(
            id=row.id,
            login=row.login,
            full_name=row.full_name,
            roles=roles,
            position=row.position,
            id_doctor=row.id_doctor,
            snils=row.snils,
            cert_serial=row.cert_serial,
            cert_algorithm=row.cert_algorithm,
            cert_ref=row.cert_ref,
            active=row.active,
        )

    # --- patients --------------------------------------------------------------------------------

    def save_patient(
        self,
        patient: Patient,
        actor: Signer,
        *,
        workplace: str | None = None,
        patient_id: int | None = None,
    ) -> int:
        if not (patient.surname and patient.name):
            raise ValidationError("Поля «Фамилия» и «Имя» пациента обязательны для заполнения.")
        snils = validate_snils(patient.snils) if patient.snils else None
        now = to_db_time(self._now())
        cols = {
            "snils": snils,
            "surname": patient.surname,
            "name": patient.name,
            "patronymic": patient.patronymic,
            "birthday": patient.birthday,
            "gender": int(patient.gender) if patient.gender is not None else None,
            "workplace": workplace,
            "employment_service_flag": patient.employment_service_flag,
            "updated_at": now,
        }
        with self.db.atomic():
            if patient_id is None:
                patient_id = execute_insert(m.Patient.insert(created_at=now, **cols), self.db)
                action = "create"
            else:
                if (
                    not m.Patient.update(**cols)
                    .where(m.Patient.id == patient_id)
                    .bind(self.db)
                    .execute()
                ):
                    raise NotFound(f"Пациент (запись {patient_id}) не найден.")
                action = "update"
            self._audit(actor, action, "patient", patient_id, details={"snils": snils})
        return int(patient_id)

    def find_patients(self, search: str, limit: int = 20) -> list[tuple[int, Patient, str | None]]:
        digits = "".join(c for c in search if c.isdigit())
        if len(digits) == 11:
            query = m.Patient.select().where(m.Patient.snils == digits)
        else:
            query = m.Patient.select().where(m.Patient.surname ** f"{search.strip()}%")
        query = query.order_by(m.Patient.surname, m.Patient.name).limit(limit).bind(self.db)
        return [
            (
                r.id,
                Patient(
                    snils=r.snils,
                    surname=r.surname,
                    name=r.name,
                    patronymic=r.patronymic,
                    birthday=r.birthday,
                    gender=Gender(r.gender) if r.gender is not None else None,
                    employment_service_flag=r.employment_service_flag,
                ),
                r.workplace,
            )
            for r in query
        ]

    # --- settings --------------------------------------------------------------------------------

    def save_settings(
        self, settings: SettingsData, organisations: list[OrganisationData], actor: Signer
    ) -> None:
        """Save «Настройки интеграции с ЕИИС Соцстрах» and the institutions (seed 000).

        Refused with :class:`SettingsIncomplete` (``problems`` lists every gap) while a required
        field is empty or an institution ticked in «МО, использующие интеграцию» lacks
        «Официальный адрес» or «ОГРН».
        """
        problems = settings_problems(settings, organisations)
        if problems:
            raise SettingsIncomplete(problems)
        now = to_db_time(self._now())
        values = dataclasses.asdict(settings)
        values["number_mode"] = NumberMode(settings.number_mode).value
        with self.db.atomic():
            exists = (
                m.IntegrationSettings.select()
                .where(m.IntegrationSettings.id == 1)
                .bind(self.db)
                .exists()
            )
            if exists:
                m.IntegrationSettings.update(updated_at=now, **values).where(
                    m.IntegrationSettings.id == 1
                ).bind(self.db).execute()
            else:
                execute_insert(
                    m.IntegrationSettings.insert(id=1, updated_at=now, **values), self.db
                )
            for org in organisations:
                cols = dataclasses.asdict(org)
                org_id = cols.pop("id")
                if org_id is None:
                    org.id = execute_insert(m.Organisation.insert(**cols), self.db)
                else:
                    m.Organisation.update(**cols).where(m.Organisation.id == org_id).bind(
                        self.db
                    ).execute()
            self._audit(
                actor,
                "update",
                "settings",
                1,
                details={"settings": values, "organisations": [o.name for o in organisations]},
            )

    def load_settings(self) -> tuple[SettingsData, list[OrganisationData]]:
        row = (
            m.IntegrationSettings.select()
            .where(m.IntegrationSettings.id == 1)
            .bind(self.db)
            .first()
        )
        settings = SettingsData()
        if row is not None:
            settings = SettingsData(
                enabled=row.enabled,
                server_url=row.server_url,
                registry_phone=row.registry_phone,
                registry_email=row.registry_email,
                crypto_provider=row.crypto_provider,
                number_mode=NumberMode(row.number_mode),
                central_server=row.central_server,
                server_name=row.server_name,
                protocol_version=row.protocol_version,
            )
        orgs = [
            OrganisationData(
                name=o.name,
                address=o.address,
                ogrn=o.ogrn,
                id_mo=o.id_mo,
                uses_integration=o.uses_integration,
                id=o.id,
            )
            for o in m.Organisation.select().order_by(m.Organisation.id).bind(self.db)
        ]
        return settings, orgs


def settings_problems(
    settings: SettingsData, organisations: list[OrganisationData]
) -> list[tuple[str, str]]:
    """Every reason the settings cannot be saved, as ``(field, Russian message)``."""
    problems: list[tuple[str, str]] = []
    using = [o for o in organisations if o.uses_integration]
    if not using:
        problems.append(
            ("organisations", "Не заполнено обязательное поле «МО, использующие интеграцию».")
        )
    for field, title in (
        ("server_url", "Адрес сервера"),
        ("registry_phone", "Телефон лица, составляющего реестр"),
        ("registry_email", "E-mail лица, составляющего реестр"),
    ):
        if not (getattr(settings, field) or "").strip():
            problems.append((field, f"Не заполнено обязательное поле «{title}»."))
    for org in using:
        hint = "заполните его или снимите отметку в поле «МО, использующие интеграцию»."
        if not (org.address or "").strip():
            problems.append(
                (
                    "organisations.address",
                    f"У учреждения «{org.name}» не заполнено поле «Официальный адрес»: {hint}",
                )
            )
        if not (org.ogrn or "").strip():
            problems.append(
                (
                    "organisations.ogrn",
                    f"У учреждения «{org.name}» не заполнено поле «ОГРН»: {hint}",
                )
            )
        else:
            try:
                validate_ogrn(org.ogrn, f"ОГРН учреждения «{org.name}»")
            except ValidationError as exc:
                problems.append(("organisations.ogrn", exc.message))
    mode = NumberMode(settings.number_mode)
    if mode is NumberMode.ANY_CENTRAL and not (settings.central_server or "").strip():
        problems.append(
            (
                "central_server",
                "Для способа «Любой свободный с центрального сервера» укажите имя центрального "
                "сервера.",
            )
        )
    if mode is NumberMode.ONLY_CURRENT and not (settings.server_name or "").strip():
        problems.append(
            (
                "server_name",
                "Для способа «Свободный только для текущего сервера» укажите имя текущего сервера.",
            )
        )
    return problems
