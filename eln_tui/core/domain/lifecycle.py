"""Lifecycle of an ELN as pure functions (seed 000; domain.md §2).

Every transition takes an :class:`Eln` and returns a new one (the argument is never changed), or
raises an :class:`~eln_tui.core.errors.ElnError` subclass with the Russian message for the user.

Signed blocks are immutable: :func:`ensure_signed_unchanged` compares two versions of an ELN and is
applied by every transition here and by storage on every save, so no path can alter a signed
block or remove a signature.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta

from eln_tui.core.domain import codes
from eln_tui.core.domain.codes import JournalState, Role, SignerSlot
from eln_tui.core.domain.model import (
    MAX_PERIODS_V20,
    Block,
    Eln,
    Employer,
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
from eln_tui.core.domain.signatures import block_signature, required_signatures
from eln_tui.core.domain.validators import is_ln_code
from eln_tui.core.errors import (
    ConsentMissing,
    DeleteForbidden,
    IncompleteBlock,
    NotElectronic,
    NumberAlreadyAssigned,
    SignedBlockImmutable,
    SignerNotAllowed,
    SnilsMissing,
    TooManyPeriods,
    TransitionError,
)

CONSENT_MESSAGE = "Не получено письменное согласие пациента на создание ЭЛН"
SNILS_MISSING_MESSAGE = "У пациента отсутствует СНИЛС, выписка электронного ЛН невозможна!"
NUMBER_LABEL = "Номер ЭЛН получен из сервиса ЕИИС «Соцстрах»"
TERMINATED_BANNER = "ЛН прекращен"


@dataclass(frozen=True)
class Signer:
    """The acting user: id, full name, roles (checked for signature slots) and OS login."""

    user_id: int | None
    full_name: str
    roles: frozenset[Role]
    login: str = ""


# --- creation, consent, number -----------------------------------------------------------


def create(
    *,
    patient: Patient,
    lpu: Lpu,
    ln_date: date,
    employer: Employer | None = None,
    electronic: bool = True,
    doctor_id: int | None = None,
) -> Eln:
    """A new LN document; «Электронный» is set by the caller's choice (the seed defaults it off)."""
    return Eln(
        patient=replace(patient),
        lpu=replace(lpu),
        employer=replace(employer) if employer else Employer(),
        ln_date=ln_date,
        electronic=electronic,
        doctor_id=doctor_id,
    )


def record_consent(eln: Eln, received: bool = True) -> Eln:
    """Tick «Согласие на формирование ЭЛН получено» (after the patient signed the printed form)."""
    new = eln.copy()
    new.written_agreement_flag = received
    return new


def ensure_consent(eln: Eln) -> None:
    """Saving or signing an electronic LN without the consent tick is refused (seed 000)."""
    if eln.electronic and not eln.written_agreement_flag:
        raise ConsentMissing(CONSENT_MESSAGE, field="written_agreement_flag")


def ensure_can_take_number(eln: Eln) -> None:
    """Checks before «Получить номер»; SNILS first, so no number is taken for nothing."""
    if not eln.electronic:
        raise NotElectronic(
            "Номер из пула ЕИИС «Соцстрах» выдаётся только электронному ЛН: "
            "установите отметку «Электронный».",
            field="electronic",
        )
    if eln.number_from_pool or eln.ln_code:
        raise NumberAlreadyAssigned(
            f"{NUMBER_LABEL}: {eln.ln_code}. Повторно получить номер нельзя.", field="ln_code"
        )
    if not (eln.patient.snils or "").strip():
        raise SnilsMissing(SNILS_MISSING_MESSAGE, field="patient.snils")


def assign_number(eln: Eln, ln_code: str) -> Eln:
    """Put the number taken from the pool into «Номер ЛН» and lock the field."""
    ensure_can_take_number(eln)
    if not is_ln_code(ln_code):
        raise TransitionError(
            f"Номер ЭЛН «{ln_code}» из пула некорректен: он должен содержать 12 цифр.",
            field="ln_code",
        )
    new = eln.copy()
    new.ln_code = ln_code
    new.number_from_pool = True
    return new


# --- periods (create / extend) -----------------------------------------------------------


def _ensure_open(eln: Eln) -> None:
    if eln.termination is not None:
        raise TransitionError(f"{TERMINATED_BANNER}: изменение невозможно.")
    if eln.ln_result is not None and not eln.ln_result.is_empty():
        raise TransitionError(
            "ЭЛН закрыт (заполнен блок «Приступить к работе / Иное»): добавить период нельзя; "
            "при продолжении болезни оформите продолжение ЭЛН.",
            field="ln_result",
        )


def add_period(
    eln: Eln,
    dt1: date,
    dt2: date,
    *,
    doctor: str,
    doctor_role: str,
    id_doctor: str | None = None,
    doctor_id: int | None = None,
    chairman: str | None = None,
    chairman_id: int | None = None,
) -> Eln:
    """Add an «Освобождение от работы» row: the first period or a prolongation (≤ 3 in v2.0)."""
    _ensure_open(eln)
    if len(eln.treat_periods) >= MAX_PERIODS_V20:
        raise TooManyPeriods(
            "В ЭЛН не может быть более трёх периодов освобождения от работы: "
            "оформите продолжение ЭЛН (новый ЭЛН с «Номер предыдущего листка»).",
            field="treat_periods",
        )
    if eln.treat_periods:
        last = eln.treat_periods[-1]
        # A period FSS already accepted (e.g. of an ELN received from another МО) was signed
        # there; its signature is not kept here.
        if last.doctor_signature is None and not last.sent:
            raise TransitionError(
                f"Сначала подпишите ЭП врача период № {len(eln.treat_periods)}, "
                "затем добавляйте продление.",
                field=f"treat_periods[{len(eln.treat_periods) - 1}]",
            )
    new = eln.copy()
    new.treat_periods.append(
        TreatPeriod(
            dt1=dt1,
            dt2=dt2,
            doctor=doctor,
            doctor_role=doctor_role,
            id_doctor=id_doctor,
            doctor_id=doctor_id,
            chairman=chairman,
            chairman_role=codes.CHAIRMAN_ROLE if chairman else None,
            chairman_id=chairman_id,
        )
    )
    return new


extend = add_period


def update_period(eln: Eln, index: int, **changes: object) -> Eln:
    """Change fields of period ``index``; refused for fields a signature already covers."""
    new = eln.copy()
    period = new.treat_periods[index]
    for name, value in changes.items():
        if not hasattr(period, name) or name.endswith("signature") or name == "sent":
            raise TypeError(f"unknown or protected period field {name!r}")
        setattr(period, name, value)
    if changes.get("chairman") and not period.chairman_role:
        period.chairman_role = codes.CHAIRMAN_ROLE
    ensure_signed_unchanged(eln, new)
    return new


def update(eln: Eln, **changes: object) -> Eln:
    """Change top-level fields (``patient=...``, ``reason1=...``); signed blocks stay protected."""
    protected = {"id", "ln_code", "number_from_pool", "version", "termination", "ln_state"}
    new = eln.copy()
    for name, value in changes.items():
        if name in protected or name not in {f.name for f in fields(Eln)}:
            raise TypeError(f"unknown or protected ELN field {name!r}")
        setattr(new, name, value)
    ensure_signed_unchanged(eln, new)
    return new


# --- signatures --------------------------------------------------------------------------


def _require_complete(eln: Eln, block: Block) -> None:
    if block.kind == "period":
        assert block.index is not None
        p = eln.treat_periods[block.index]
        names = ["dt1", "dt2", "doctor", "doctor_role"]
        if block.slot is SignerSlot.VK:
            names += ["chairman", "chairman_role"]
        base = f"treat_periods[{block.index}]"
        values = {n: getattr(p, n) for n in names}
    elif block.kind == "breach":
        base, b = "hospital_breach", eln.hospital_breach or HospitalBreach()
        values = {"code": b.code, "dt": b.dt}
    else:
        base, r = "ln_result", eln.ln_result or LnResult()
        if r.return_date_lpu is None and not (r.mse_result and r.other_state_dt):
            raise IncompleteBlock(
                "Для подписи заполните «Приступить к работе, учебе или службе с» или код и дату "
                "«Иное».",
                field="ln_result.return_date_lpu",
            )
        return
    missing = [n for n, v in values.items() if v is None or (isinstance(v, str) and not v.strip())]
    if missing:
        titles = ", ".join(f"«{field_title(base + '.' + n)}»" for n in missing)
        raise IncompleteBlock(
            f"Запись {block.title} нельзя подписать: не заполнены поля {titles}.",
            field=f"{base}.{missing[0]}",
        )


def sign(eln: Eln, block: Block, signer: Signer, signature: Signature) -> Eln:
    """Attach ``signature`` to ``block``. Needs consent, the number and a complete block."""
    if not eln.electronic:
        raise NotElectronic("Подписать ЭП можно только электронный ЛН.", field="electronic")
    if eln.termination is not None:
        raise TransitionError(f"{TERMINATED_BANNER}: подписание невозможно.")
    ensure_consent(eln)
    if not is_ln_code(eln.ln_code):
        raise TransitionError(
            "Сначала получите номер ЭЛН («Получить номер»), затем подписывайте.", field="ln_code"
        )
    allowed = codes.VK_SIGNER_ROLES if block.slot is SignerSlot.VK else codes.DOC_SIGNER_ROLES
    if not signer.roles & allowed:
        need = ", ".join(sorted(r.label for r in allowed))
        raise SignerNotAllowed(
            f"Пользователь «{signer.full_name}» не может поставить {block.slot.label}: "
            f"нужна роль {need}.",
            field=block.path,
        )
    if block.kind == "period":
        if block.index is None or not 0 <= block.index < len(eln.treat_periods):
            raise TransitionError("Такого периода освобождения от работы нет.")
        if block.slot is SignerSlot.VK and eln.treat_periods[block.index].doctor_signature is None:
            # The VK signature covers treatFullPeriod, the doctor-signed treatPeriod included.
            raise TransitionError(
                f"Запись {block.title} сначала подписывает врач, затем председатель ВК.",
                field=block.path,
            )
    if block_signature(eln, block) is not None:
        raise SignedBlockImmutable(
            f"Запись {block.title} уже подписана ({block.slot.label}).",
            field=block.path,
            block=block.suffix,
        )
    _require_complete(eln, block)
    new = eln.copy()
    if block.kind == "breach":
        assert new.hospital_breach is not None
        new.hospital_breach.signature = signature
    elif block.kind == "result":
        assert new.ln_result is not None
        new.ln_result.signature = signature
    elif block.slot is SignerSlot.DOC:
        new.treat_periods[block.index].doctor_signature = signature  # type: ignore[index]
    else:
        new.treat_periods[block.index].chairman_signature = signature  # type: ignore[index]
    return new


def _block_values(eln: Eln, block: Block) -> dict[str, object]:
    if block.kind == "breach":
        b = eln.hospital_breach or HospitalBreach()
        return {"code": b.code, "dt": b.dt}
    if block.kind == "result":
        r = eln.ln_result or LnResult()
        return {
            "return_date_lpu": r.return_date_lpu,
            "mse_result": r.mse_result,
            "other_state_dt": r.other_state_dt,
            "next_ln_code": r.next_ln_code,
        }
    assert block.index is not None
    if block.index >= len(eln.treat_periods):
        return {}
    p = eln.treat_periods[block.index]
    values: dict[str, object] = {
        "dt1": p.dt1,
        "dt2": p.dt2,
        "id_doctor": p.id_doctor,
        "doctor_role": p.doctor_role,
        "doctor": p.doctor,
    }
    if block.slot is SignerSlot.VK:
        values |= {"chairman": p.chairman, "chairman_role": p.chairman_role}
    return values


def _signed_blocks(eln: Eln) -> list[Block]:
    blocks = [Block("breach"), Block("result")]
    for i in range(len(eln.treat_periods)):
        blocks += [Block("period", SignerSlot.DOC, i), Block("period", SignerSlot.VK, i)]
    return [b for b in blocks if block_signature(eln, b) is not None]


def ensure_signed_unchanged(before: Eln, after: Eln) -> None:
    """Raise :class:`SignedBlockImmutable` if ``after`` changes a block signed in ``before``.

    Also locks the number once it came from the pool, and a terminated LN as a whole (only the
    transfer bookkeeping may still change).
    """
    if before.termination is not None:
        transfer = ("ln_state", "ln_hash", "transfer_error", "last_sent_at", "version")
        keep = {name: getattr(after, name) for name in transfer}
        if replace(before, termination=None, **keep) != replace(after, termination=None) or (
            after.termination is None
            or replace(after.termination, sent=False) != replace(before.termination, sent=False)
        ):
            raise TransitionError(f"{TERMINATED_BANNER}: изменение невозможно.")
    if before.number_from_pool and after.ln_code != before.ln_code:
        raise SignedBlockImmutable(
            f"{NUMBER_LABEL}: поле «Номер ЛН» изменить нельзя.", field="ln_code", block="ln_code"
        )
    for block in _signed_blocks(before):
        if block.kind == "period" and block.index >= len(after.treat_periods):  # type: ignore[operator]
            raise SignedBlockImmutable(
                f"Запись {block.title} подписана ({block.slot.label}): удалить её нельзя.",
                field=block.path,
                block=block.suffix,
            )
        if block_signature(after, block) != block_signature(before, block):
            raise SignedBlockImmutable(
                f"Запись {block.title} подписана ({block.slot.label}): снять подпись нельзя.",
                field=block.path,
                block=block.suffix,
            )
        old, new = _block_values(before, block), _block_values(after, block)
        for name, value in old.items():
            if new.get(name) != value:
                path = f"{block.path}.{name}"
                raise SignedBlockImmutable(
                    f"Запись {block.title} подписана ({block.slot.label}): "
                    f"поле «{field_title(path)}» изменить нельзя.",
                    field=path,
                    block=block.suffix,
                )


# --- breach, МСЭ, closing ----------------------------------------------------------------


def set_breach(eln: Eln, code: str, dt: date) -> Eln:
    _ensure_not_terminated(eln)
    new = eln.copy()
    sig = eln.hospital_breach.signature if eln.hospital_breach else None
    new.hospital_breach = HospitalBreach(code=code, dt=dt, signature=sig)
    ensure_signed_unchanged(eln, new)
    return new


def refer_to_mse(eln: Eln, mse_dt1: date) -> Eln:
    """«Дата направления в бюро МСЭ»; after the send FSS sets state 040."""
    _ensure_not_terminated(eln)
    new = eln.copy()
    new.mse_dt1 = mse_dt1
    new.mse_sent = False
    return new


def _ensure_not_terminated(eln: Eln) -> None:
    if eln.termination is not None:
        raise TransitionError(f"{TERMINATED_BANNER}: изменение невозможно.")


def _ensure_closable(eln: Eln) -> None:
    _ensure_not_terminated(eln)
    if not eln.treat_periods:
        raise TransitionError(
            "Нельзя закрыть ЭЛН без периода «Освобождение от работы».", field="treat_periods"
        )
    for i, p in enumerate(eln.treat_periods):
        if p.doctor_signature is None and not p.sent:  # accepted by FSS: signed elsewhere
            raise TransitionError(
                f"Перед закрытием подпишите ЭП врача период № {i + 1}.",
                field=f"treat_periods[{i}]",
            )
    if eln.ln_result is not None and eln.ln_result.signature is not None:
        raise SignedBlockImmutable(
            "ЭЛН уже закрыт: блок «Приступить к работе / Иное» подписан.",
            field="ln_result",
            block=Block("result").suffix,
        )


def close(eln: Eln, return_date: date) -> Eln:
    """«Приступить к работе, учебе или службе с» (then the doctor signs block 2)."""
    _ensure_closable(eln)
    ends = [p.dt2 for p in eln.treat_periods if p.dt2 is not None]
    if ends and return_date <= max(ends):
        raise TransitionError(
            "Дата выхода на работу не может быть равна или ранее даты окончания периода "
            "нетрудоспособности.",
            field="ln_result.return_date_lpu",
        )
    new = eln.copy()
    new.ln_result = LnResult(return_date_lpu=return_date)
    return new


def close_other(
    eln: Eln, mse_result: str, other_state_dt: date, next_ln_code: str | None = None
) -> Eln:
    """Close with an «Иное» code (31 продолжает болеть … 37); 31 may name the continuation."""
    _ensure_closable(eln)
    if mse_result not in codes.OTHER_STATES:
        raise TransitionError(
            f"Код «{mse_result}» отсутствует в справочнике «Иное».", field="ln_result.mse_result"
        )
    if next_ln_code is not None and not is_ln_code(next_ln_code):
        raise TransitionError(
            "Поле «Выдан ЛН (продолжение) №» должно содержать 12 цифр.",
            field="ln_result.next_ln_code",
        )
    new = eln.copy()
    new.ln_result = LnResult(
        mse_result=mse_result, other_state_dt=other_state_dt, next_ln_code=next_ln_code
    )
    return new


def continue_as_new(
    old: Eln, new_ln_code: str, *, ln_date: date, other_state_dt: date | None = None
) -> tuple[Eln, Eln]:
    """Close ``old`` with «Иное» 31 and open the continuation ELN (domain.md §2 item 10).

    Returns ``(old_closed, new)``. The new ELN carries ``primaryFlag = false``, ``prevLnCode`` and
    who issued the previous one; it is already marked as holding a pool number.
    """
    if not is_ln_code(old.ln_code):
        raise TransitionError("У продолжаемого ЭЛН нет номера.", field="ln_code")
    day_after = (old.last_dt2 + timedelta(days=1)) if old.last_dt2 else ln_date
    closed = close_other(old, codes.OTHER_CONTINUES, other_state_dt or day_after, new_ln_code)
    new = Eln(
        ln_code=new_ln_code,
        number_from_pool=True,
        electronic=True,
        written_agreement_flag=old.written_agreement_flag,
        unconditional=old.unconditional,
        patient=replace(old.patient),
        employer=replace(old.employer),
        lpu=replace(old.lpu),
        primary_flag=False,
        prev_ln_code=old.ln_code,
        prev_ln_issuer=old.lpu.name,
        ln_date=ln_date,
        reason1=old.reason1,
        reason2=old.reason2,
        diagnos=old.diagnos,
        date1=old.date1,
        date2=old.date2,
        voucher_no=old.voucher_no,
        voucher_ogrn=old.voucher_ogrn,
        serv_data=[replace(c) for c in old.serv_data],
        pregn12w_flag=old.pregn12w_flag,
        doctor_id=old.doctor_id,
    )
    return closed, new


def duplicate(
    old: Eln, new_ln_code: str, *, ln_date: date, terminated_by: Signer, at: datetime
) -> tuple[Eln, Eln]:
    """Issue a duplicate (v2.0, by VK decision [1089н п. 67]) and terminate the original with 030.

    Returns ``(old_terminated, new)``. The duplicate copies the data but no signature: each of its
    blocks is signed anew. Terminating the original with 030 is our reading (domain.md §2 item 13).
    """
    if Role.VK_CHAIRMAN not in terminated_by.roles:
        raise SignerNotAllowed(
            "Дубликат ЭЛН оформляется по решению врачебной комиссии: нужна роль «Председатель ВК»."
        )
    if not is_ln_code(old.ln_code):
        raise TransitionError("У заменяемого ЭЛН нет номера.", field="ln_code")
    new = old.copy()
    new.id = None
    new.version = 0
    new.ln_code = new_ln_code
    new.number_from_pool = True
    new.duplicate_flag = True
    new.previously_issued_code = old.ln_code
    new.ln_date = ln_date
    new.ln_state = codes.STATE_NEW
    new.ln_hash = None
    new.source = Source.LOCAL
    new.transfer_error = None
    new.termination = None
    new.mse_sent = False
    new.last_sent_at = None
    for p in new.treat_periods:
        p.doctor_signature = p.chairman_signature = None
        p.sent = False
    if new.hospital_breach:
        new.hospital_breach.signature, new.hospital_breach.sent = None, False
    if new.ln_result:
        new.ln_result.signature, new.ln_result.sent = None, False
    reason = codes.TERMINATION_REASONS.title(codes.TERMINATION_DUPLICATE)
    terminated = terminate(old, codes.TERMINATION_DUPLICATE, reason, terminated_by, at)
    return terminated, new


# --- termination and deletion ------------------------------------------------------------


def terminate(eln: Eln, reason_code: str, reason: str, by: Signer, at: datetime) -> Eln:
    """«Прекращение ЛН» (disableLn): no field checks; the LN moves to «Удаленные ЭЛН»."""
    if eln.termination is not None:
        raise TransitionError(f"{TERMINATED_BANNER} ранее.")
    if reason_code not in codes.TERMINATION_REASONS:
        raise TransitionError(
            f"Код «{reason_code}» отсутствует в справочнике «Причина прекращения действия ЛН».",
            field="termination",
        )
    if not is_ln_code(eln.ln_code):
        raise TransitionError(
            "Прекратить можно только ЭЛН с номером из ЕИИС «Соцстрах»; документ без номера "
            "можно удалить.",
            field="ln_code",
        )
    new = eln.copy()
    new.termination = Termination(
        reason_code=reason_code,
        reason=reason or codes.TERMINATION_REASONS.title(reason_code),
        by_id=by.user_id,
        by_name=by.full_name,
        at=at,
    )
    return new


cancel = terminate


def ensure_deletable(eln: Eln) -> None:
    """Deleting an LN whose number came from FSS is forbidden (seed 000): terminate it instead.

    An LN with a signed block is kept too: signatures are evidence and cannot be removed.
    """
    if eln.number_from_pool or eln.source is Source.FSS:
        raise DeleteForbidden(
            "Номер ЛН получен из сервиса ЕИИС «Соцстрах», удаление документа запрещено. "
            "Используйте «Дополнительно» → «Прекращение ЛН».",
            field="ln_code",
        )
    if _signed_blocks(eln):
        raise DeleteForbidden(
            "ЛН содержит подписанные записи, удаление документа запрещено. "
            "Используйте «Дополнительно» → «Прекращение ЛН».",
            field="ln_code",
        )


# --- transfer bookkeeping ----------------------------------------------------------------


def _unsent_blocks(eln: Eln) -> list[str]:
    pending = [f"treat_periods[{i}]" for i, p in enumerate(eln.treat_periods) if not p.sent]
    if eln.hospital_breach and eln.hospital_breach.code and not eln.hospital_breach.sent:
        pending.append("hospital_breach")
    if eln.ln_result and not eln.ln_result.is_empty() and not eln.ln_result.sent:
        pending.append("ln_result")
    if eln.mse_dt1 and not eln.mse_sent:
        pending.append("mse_dt1")
    return pending


def journal_state(eln: Eln) -> JournalState:
    """The ELN's place in «Работа с ЕИИС Соцстрах» (domain.md §4).

    A block waiting to be sent puts the ELN in «Не переданы» once every signature it needs is
    present (late sending is judged at send time, not here); with the text of a failed transfer
    it is in «Ошибки передачи» instead. Nothing waiting: «Переданы» after our accepted transfer,
    «Получены из ЕИИС Соцстрах» for an ELN taken over from FSS and not yet sent by us.
    """
    if eln.termination is not None:
        return JournalState.TERMINATED
    unsent = _unsent_blocks(eln)
    if not unsent:
        if eln.last_sent_at is not None:
            return JournalState.SENT
        return JournalState.RECEIVED if eln.source is Source.FSS else JournalState.DRAFT
    unsigned = {r.block.path for r in required_signatures(eln) if not r.satisfied}
    if unsigned & set(unsent):
        return JournalState.DRAFT
    return JournalState.ERROR if eln.transfer_error else JournalState.PENDING


def mark_sent(
    eln: Eln, *, ln_state: str, ln_hash: str | None, blocks: list[str], at: datetime
) -> Eln:
    """FSS accepted the send: mark the given block paths sent, store state and hash."""
    new = eln.copy()
    for path in blocks:
        if path.startswith("treat_periods["):
            new.treat_periods[int(path[len("treat_periods[") : -1])].sent = True
        elif path == "hospital_breach" and new.hospital_breach:
            new.hospital_breach.sent = True
        elif path == "ln_result" and new.ln_result:
            new.ln_result.sent = True
        elif path == "mse_dt1":
            new.mse_sent = True
        elif path == "termination" and new.termination:
            new.termination.sent = True
    new.ln_state = ln_state
    new.ln_hash = ln_hash
    new.transfer_error = None
    new.last_sent_at = at
    return new


def mark_transfer_error(eln: Eln, error: str) -> Eln:
    new = eln.copy()
    new.transfer_error = error
    return new


def next_send_blocks(eln: Eln) -> list[str]:
    """Blocks the next registry send carries: one period at a time, in order (domain.md §5)."""
    unsent = _unsent_blocks(eln)
    periods = [b for b in unsent if b.startswith("treat_periods[")]
    others = [b for b in unsent if not b.startswith("treat_periods[")]
    if periods:
        # A later period or the result goes only after the earlier periods were accepted.
        first = periods[0]
        return [first] + (["hospital_breach"] if "hospital_breach" in others else [])
    return others
