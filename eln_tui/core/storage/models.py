"""peewee models of the workstation database, all bound to :data:`~.db.database_proxy`.

Tables whose rows are evidence — the audit journal and the signed fragments — are append-only:
the model refuses updates and deletes, and the database refuses them too (triggers created by the
migration on both PostgreSQL and SQLite), so raw SQL cannot bypass the rule.
"""

from __future__ import annotations

from typing import Any

from peewee import (
    AutoField,
    BlobField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    SmallIntegerField,
    TextField,
)

from eln_tui.core.domain.codes import JournalState, NumberMode, NumberState
from eln_tui.core.errors import AppendOnlyViolation
from eln_tui.core.storage.db import database_proxy


class BaseModel(Model):
    class Meta:
        database = database_proxy
        legacy_table_names = False


def _refuse(model: Any, what: str) -> AppendOnlyViolation:
    return AppendOnlyViolation(
        f"Записи таблицы «{model._meta.table_name}» неизменяемы: {what} запрещено."
    )


class AppendOnlyModel(BaseModel):
    """Rows can be inserted, never changed or deleted."""

    def save(self, force_insert: bool = False, only: Any = None) -> Any:
        if self._pk is not None and not force_insert:  # type: ignore[attr-defined]
            raise _refuse(self, "изменение")
        return super().save(force_insert=force_insert, only=only)

    def delete_instance(self, *args: Any, **kwargs: Any) -> Any:
        raise _refuse(self, "удаление")

    @classmethod
    def update(cls, *args: Any, **kwargs: Any) -> Any:
        raise _refuse(cls, "изменение")

    @classmethod
    def delete(cls) -> Any:
        raise _refuse(cls, "удаление")

    @classmethod
    def replace(cls, *args: Any, **kwargs: Any) -> Any:
        raise _refuse(cls, "замещение")

    @classmethod
    def replace_many(cls, *args: Any, **kwargs: Any) -> Any:
        raise _refuse(cls, "замещение")


class SchemaVersion(BaseModel):
    version = IntegerField(primary_key=True)
    name = CharField(max_length=200)
    applied_at = DateTimeField()


# --- settings and people -------------------------------------------------------------------


class Organisation(BaseModel):
    """An institution of «Центральный справочник»; those with ``uses_integration`` issue ELNs."""

    id = AutoField()
    name = CharField(max_length=500)
    address = TextField(null=True)  # «Официальный адрес»
    ogrn = CharField(max_length=15, null=True)
    id_mo = CharField(max_length=100, null=True)
    uses_integration = BooleanField(default=False)


class IntegrationSettings(BaseModel):
    """«Настройки интеграции с ЕИИС Соцстрах»; a single row with id 1."""

    id = IntegerField(primary_key=True)
    enabled = BooleanField(default=False)  # «Статус»
    server_url = CharField(max_length=500, null=True)  # «Адрес сервера»
    registry_phone = CharField(max_length=30, null=True)
    registry_email = CharField(max_length=40, null=True)
    crypto_provider = CharField(max_length=100, null=True)
    number_mode = CharField(max_length=20, default=NumberMode.ANY_CURRENT.value)
    central_server = CharField(max_length=500, null=True)  # URL of the central server database
    server_name = CharField(max_length=100, null=True)  # tag of this server in the number pool
    protocol_version = CharField(max_length=10, default="2.0")
    updated_at = DateTimeField(null=True)


class User(BaseModel):
    id = AutoField()
    login = CharField(max_length=150, unique=True)  # OS account
    full_name = CharField(max_length=90)
    position = CharField(max_length=300, null=True)  # treatDoctorRole text
    id_doctor = CharField(max_length=100, null=True)  # v2.0 «Код врача»
    snils = CharField(max_length=11, null=True)
    cert_serial = CharField(max_length=100, null=True)
    cert_algorithm = CharField(max_length=100, null=True)
    cert_ref = CharField(max_length=500, null=True)  # where the key lives (provider URI)
    active = BooleanField(default=True)
    created_at = DateTimeField()


class UserRole(BaseModel):
    user = ForeignKeyField(User, backref="role_rows", on_delete="CASCADE")
    role = CharField(max_length=20)

    class Meta:
        indexes = ((("user", "role"), True),)


class Patient(BaseModel):
    id = AutoField()
    snils = CharField(max_length=11, null=True, index=True)
    surname = CharField(max_length=60)
    name = CharField(max_length=60)
    patronymic = CharField(max_length=60, null=True)
    birthday = DateField(null=True)
    gender = SmallIntegerField(null=True)
    workplace = CharField(max_length=255, null=True)
    employment_service_flag = BooleanField(default=False)
    created_at = DateTimeField()
    updated_at = DateTimeField()


# --- ELN -----------------------------------------------------------------------------------


class Eln(BaseModel):
    """One ELN with the row fields; periods and care records are child tables.

    ``journal_state``, ``first_dt1``, ``last_dt2`` and ``surname_key`` are derived on save so the
    journal views page from indexes.
    """

    id = AutoField()
    ln_code = CharField(max_length=12, null=True, unique=True)
    electronic = BooleanField(default=True)
    written_agreement_flag = BooleanField(default=False)
    unconditional = BooleanField(default=True)
    patient = ForeignKeyField(Patient, null=True, on_delete="SET NULL")
    # insured person as written into this ELN
    snils = CharField(max_length=11, null=True, index=True)
    surname = CharField(max_length=60, null=True)
    name = CharField(max_length=60, null=True)
    patronymic = CharField(max_length=60, null=True)
    surname_key = CharField(max_length=60, null=True)  # upper case, for prefix search
    birthday = DateField(null=True)
    gender = SmallIntegerField(null=True)
    employment_service_flag = BooleanField(default=False)
    employer_name = CharField(max_length=255, null=True)
    employer_main_job = BooleanField(default=True)
    lpu_name = CharField(max_length=90, null=True)
    lpu_address = TextField(null=True)
    lpu_ogrn = CharField(max_length=15, null=True)
    id_mo = CharField(max_length=100, null=True)
    primary_flag = BooleanField(default=True)
    prev_ln_code = CharField(max_length=12, null=True)
    prev_ln_issuer = CharField(max_length=500, null=True)
    duplicate_flag = BooleanField(default=False)
    previously_issued_code = CharField(max_length=12, null=True)
    ln_date = DateField(null=True)
    reason1 = CharField(max_length=3, null=True)
    reason2 = CharField(max_length=3, null=True)
    reason3 = CharField(max_length=3, null=True)
    diagnos = CharField(max_length=10, null=True)
    parent_code = CharField(max_length=12, null=True)
    date1 = DateField(null=True)
    date2 = DateField(null=True)
    voucher_no = CharField(max_length=10, null=True)
    voucher_ogrn = CharField(max_length=15, null=True)
    pregn12w_flag = BooleanField(null=True)
    intermittent_method_flag = BooleanField(null=True)
    hospital_dt1 = DateField(null=True)
    hospital_dt2 = DateField(null=True)
    # block 1: hospitalBreach
    breach_code = CharField(max_length=3, null=True)
    breach_dt = DateField(null=True)
    breach_signer_id = IntegerField(null=True)
    breach_signer_name = CharField(max_length=90, null=True)
    breach_signed_at = DateTimeField(null=True)
    breach_fragment_id = IntegerField(null=True)
    breach_sent = BooleanField(default=False)
    mse_dt1 = DateField(null=True)
    mse_dt2 = DateField(null=True)
    mse_dt3 = DateField(null=True)
    mse_invalid_group = CharField(max_length=3, null=True)
    mse_sent = BooleanField(default=False)
    # block 2: lnResult
    has_result = BooleanField(default=False)
    return_date_lpu = DateField(null=True)
    mse_result = CharField(max_length=3, null=True)
    other_state_dt = DateField(null=True)
    next_ln_code = CharField(max_length=12, null=True)
    result_signer_id = IntegerField(null=True)
    result_signer_name = CharField(max_length=90, null=True)
    result_signed_at = DateTimeField(null=True)
    result_fragment_id = IntegerField(null=True)
    result_sent = BooleanField(default=False)
    # FSS state
    ln_state = CharField(max_length=3, default="000")
    ln_hash = CharField(max_length=32, null=True)
    # bookkeeping
    source = CharField(max_length=10, default="local")
    number_from_pool = BooleanField(default=False)
    doctor = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="treated_elns")
    transfer_error = TextField(null=True)
    last_sent_at = DateTimeField(null=True)
    term_reason_code = CharField(max_length=3, null=True)
    term_reason = TextField(null=True)
    term_by_id = IntegerField(null=True)
    term_by_name = CharField(max_length=90, null=True)
    term_at = DateTimeField(null=True)
    term_sent = BooleanField(default=False)
    journal_state = CharField(max_length=12, default=JournalState.DRAFT.value)
    first_dt1 = DateField(null=True)
    last_dt2 = DateField(null=True)
    version = IntegerField(default=1)
    created_at = DateTimeField()
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    updated_at = DateTimeField()
    updated_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")

    class Meta:
        indexes = (
            (("journal_state", "id"), False),
            (("electronic", "id"), False),
            (("doctor", "id"), False),
            (("surname_key",), False),
            (("last_dt2",), False),
        )


class TreatPeriod(BaseModel):
    eln = ForeignKeyField(Eln, backref="period_rows", on_delete="CASCADE")
    idx = SmallIntegerField()  # 0-based
    dt1 = DateField(null=True)
    dt2 = DateField(null=True)
    doctor = CharField(max_length=90, null=True)
    doctor_role = CharField(max_length=300, null=True)
    id_doctor = CharField(max_length=100, null=True)
    chairman = CharField(max_length=90, null=True)
    chairman_role = CharField(max_length=300, null=True)
    doctor_user_id = IntegerField(null=True)
    chairman_user_id = IntegerField(null=True)
    doc_signer_id = IntegerField(null=True)
    doc_signer_name = CharField(max_length=90, null=True)
    doc_signed_at = DateTimeField(null=True)
    doc_fragment_id = IntegerField(null=True)
    vk_signer_id = IntegerField(null=True)
    vk_signer_name = CharField(max_length=90, null=True)
    vk_signed_at = DateTimeField(null=True)
    vk_fragment_id = IntegerField(null=True)
    sent = BooleanField(default=False)

    class Meta:
        indexes = ((("eln", "idx"), True),)


class CareRecord(BaseModel):
    eln = ForeignKeyField(Eln, backref="care_rows", on_delete="CASCADE")
    idx = SmallIntegerField()
    relation_code = CharField(max_length=3, null=True)
    dt1 = DateField(null=True)
    dt2 = DateField(null=True)
    treatment_type = CharField(max_length=3, null=True)
    surname = CharField(max_length=60, null=True)
    name = CharField(max_length=60, null=True)
    patronymic = CharField(max_length=60, null=True)
    birthday = DateField(null=True)
    reason1 = CharField(max_length=3, null=True)
    snils = CharField(max_length=11, null=True)
    diagnosis = CharField(max_length=10, null=True)
    age_years = SmallIntegerField(null=True)
    age_months = SmallIntegerField(null=True)

    class Meta:
        indexes = ((("eln", "idx"), True),)


class SignedFragment(AppendOnlyModel):
    """The exact bytes of a signed block (and of its wsse:Security block), kept verbatim."""

    id = AutoField()
    eln = ForeignKeyField(Eln, backref="fragments", on_delete="RESTRICT")
    ln_code = CharField(max_length=12)
    block = CharField(max_length=10)  # e.g. "3_doc", "3_vk", "2_doc"
    signer_id = IntegerField(null=True)
    signer_name = CharField(max_length=90)
    signed_at = DateTimeField()
    data = BlobField()
    security = BlobField(null=True)
    sha256 = CharField(max_length=64)


# --- number pool -------------------------------------------------------------------------------


class ElnNumber(BaseModel):
    """A number received from FSS (view «Номера ЭЛН»)."""

    id = AutoField()
    number = CharField(max_length=12, unique=True)
    state = CharField(max_length=10, default=NumberState.FREE.value)
    server_tag = CharField(max_length=100, null=True)  # mode «Свободный только для текущего…»
    ogrn = CharField(max_length=15, null=True)
    request_id = CharField(max_length=100, null=True)
    received_at = DateTimeField()
    reserved_at = DateTimeField(null=True)
    reserved_by = IntegerField(null=True)
    # On the central server: the server («Имя текущего сервера», "" if unnamed) that took the
    # number for its own database (mode ANY_CENTRAL); its ELN lives there, never here (v2).
    reserved_server = CharField(max_length=100, null=True)
    used_at = DateTimeField(null=True)
    returned_at = DateTimeField(null=True)
    eln = ForeignKeyField(Eln, null=True, on_delete="SET NULL", backref="+")

    class Meta:
        indexes = ((("state", "server_tag", "number"), False),)


# --- exchange ---------------------------------------------------------------------------------


class OutgoingMessage(BaseModel):
    """One request prepared for FSS (outbox); rows hold the ELNs of a prParseFilelnlpu."""

    id = AutoField()
    operation = CharField(max_length=40)
    status = CharField(max_length=12, default="new")  # new, sending, sent, error
    ogrn = CharField(max_length=15, null=True)
    registry_date = DateField(null=True)
    request_id = CharField(max_length=100, null=True)
    created_at = DateTimeField()
    created_by = IntegerField(null=True)
    sent_at = DateTimeField(null=True)
    response_status = IntegerField(null=True)
    response_mess = TextField(null=True)
    error = TextField(null=True)


class OutgoingRow(BaseModel):
    message = ForeignKeyField(OutgoingMessage, backref="rows", on_delete="CASCADE")
    eln = ForeignKeyField(Eln, null=True, on_delete="SET NULL", backref="+")
    ln_code = CharField(max_length=12)
    blocks = CharField(max_length=200)  # comma-separated block paths carried by this send
    ln_state_sent = CharField(max_length=3, null=True)
    status = CharField(max_length=10, default="new")  # new, ok, error
    ln_state_received = CharField(max_length=3, null=True)
    ln_hash_received = CharField(max_length=32, null=True)
    error = TextField(null=True)


class ExchangeLog(BaseModel):
    """«Журнал системы» for exchanges with FSS."""

    id = AutoField()
    at = DateTimeField(index=True)
    operation = CharField(max_length=40)
    endpoint = CharField(max_length=500, null=True)
    request_id = CharField(max_length=100, null=True)
    message = ForeignKeyField(OutgoingMessage, null=True, on_delete="SET NULL", backref="+")
    user_id = IntegerField(null=True)
    ok = BooleanField()
    duration_ms = IntegerField(null=True)
    error = TextField(null=True)
    request = BlobField(null=True)
    response = BlobField(null=True)


class AuditEntry(AppendOnlyModel):
    """Who changed what and when; append-only."""

    id = AutoField()
    at = DateTimeField(index=True)
    user_id = IntegerField(null=True)
    login = CharField(max_length=150, null=True)
    action = CharField(max_length=40)
    entity = CharField(max_length=40)
    entity_id = CharField(max_length=40, null=True)
    ln_code = CharField(max_length=12, null=True, index=True)
    details = TextField(null=True)  # JSON

    class Meta:
        # «Журнал системы» filters by user and by action, newest first (migration 3)
        indexes = (
            (("login", "id"), False),
            (("action", "id"), False),
        )


ALL_MODELS: list[type[BaseModel]] = [
    SchemaVersion,
    Organisation,
    IntegrationSettings,
    User,
    UserRole,
    Patient,
    Eln,
    TreatPeriod,
    CareRecord,
    SignedFragment,
    ElnNumber,
    OutgoingMessage,
    OutgoingRow,
    ExchangeLog,
    AuditEntry,
]
APPEND_ONLY_TABLES = ("audit_entry", "signed_fragment")
