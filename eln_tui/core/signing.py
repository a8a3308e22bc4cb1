"""Signing one block of an ELN with the user's own key (seed 000 «Наложение ЭП ФСС»).

A doctor (or VK chairman) signs a block at the moment of the action; the message that carries it
to the Fund is built later (protocol.md §7). So this module

1. builds the block's XML exactly as it will travel in the row (:func:`block_element`):
   ``hospitalBreach`` (block 1), ``lnResult`` (block 2), ``treatPeriod`` (doctor, block 2+n) or
   ``treatFullPeriod`` (VK chairman, wrapping the doctor-signed ``treatPeriod`` verbatim);
2. checks that the key session holds the certificate of the user's own profile
   (:func:`ensure_own_certificate`) and that the user may sign this block
   (:func:`ensure_can_sign`);
3. signs the element with :mod:`gostsign.xml.fragments` (wsu:Id ``ELN_<n>_<k>_doc|vk`` and the
   matching actor) and hands the signed bytes and their ``wsse:Security`` block to
   :meth:`ElnStore.sign <eln_tui.core.storage.repository.ElnStore.sign>`, which keeps them
   verbatim (:func:`sign_block`).

The row builder of the registry later puts each stored element into the row with
:func:`gostsign.xml.fragments.splice` / ``insert_fragment`` (never by lxml tree surgery) and
appends its Security block to the SOAP header. Every element declares the namespaces it uses
itself (``mo`` for row children, ``com`` for the types of Eln.xsd, as in the Fund's example
8.1.3), so its canonical form does not depend on where it is put.

The key session is any :class:`gostsign.signer.Signer` (``certificate`` + ``sign_digest``), in
practice a :class:`providers.base.KeySession`. Nothing here asks for a PIN or touches a UI.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from lxml import etree

from eln_tui.core.domain import flk, lifecycle
from eln_tui.core.domain.codes import (
    CHAIRMAN_ROLE,
    DOC_SIGNER_ROLES,
    V11,
    V20,
    VK_SIGNER_ROLES,
    SignerSlot,
)
from eln_tui.core.domain.flk import CheckContext
from eln_tui.core.domain.model import Block, Eln, HospitalBreach, LnResult, Signature
from eln_tui.core.domain.signatures import block_signature
from eln_tui.core.errors import ConcurrentModification, ElnError, TransitionError
from gostsign.errors import CertificateError, CertificateExpired, GostError
from gostsign.signer import Signer as KeySigner
from gostsign.x509 import Certificate
from gostsign.xml import fragments
from gostsign.xml.parse import parse_element

if TYPE_CHECKING:
    from eln_tui.core.storage.repository import ElnStore, UserInfo
    from providers.base import CertificateInfo

MO_NS = "http://www.fss.ru/integration/types/eln/mo/v01"
COM_NS = "http://www.fss.ru/integration/types/eln/v01"
V11_NS = "http://ru/ibs/fss/ln/ws/FileOperationsLn.wsdl"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"


# --- errors ----------------------------------------------------------------------------------


class SigningError(ElnError):
    """Signing is refused or failed; ``message`` says why in Russian."""


class ProfileCertificateMissing(SigningError):
    """The user's profile names no certificate (serial number or thumbprint)."""


class CertificateNotFound(SigningError):
    """None of the certificates the provider offers is the one of the user's profile."""


class CertificateNotOwn(SigningError):
    """The key session holds a certificate other than the one of the user's profile."""


class SignerNotNamed(SigningError):
    """The block names another doctor (or chairman) than the user."""


# --- the user's own certificate ---------------------------------------------------------------

_HEX = re.compile(r"^[0-9a-f]+$")


def _hex(text: str) -> str:
    t = text.strip().lower()
    if t.startswith("0x"):
        t = t[2:]
    t = re.sub(r"[\s:.\-]", "", t)
    return (t.lstrip("0") or "0") if t and _HEX.match(t) else ""


def profile_references(user: UserInfo) -> list[str]:
    """Normalised serial numbers / thumbprints naming the user's certificate (may be empty).

    ``cert_serial`` is the seed's «Серийный номер сертификата» of the profile; ``cert_ref`` may
    hold a serial or a SHA-1 thumbprint, optionally prefixed ``serial:`` / ``thumbprint:``.
    Key labels and ids (``label:``, ``id:``) name a key, not a certificate, and are ignored.
    """
    refs: list[str] = []
    for raw in (user.cert_serial, user.cert_ref):
        if not raw or not raw.strip():
            continue
        text = raw.strip()
        low = text.lower()
        if low.startswith(("label:", "id:")):
            continue
        for prefix in ("serial:", "thumbprint:"):
            if low.startswith(prefix):
                text = text[len(prefix) :]
        value = _hex(text)
        if value:
            refs.append(value)
    return refs


def certificate_matches_profile(user: UserInfo, certificate: Certificate) -> bool:
    """True if ``certificate`` is the one the user's profile names (serial or thumbprint)."""
    own = {_hex(f"{certificate.serial:x}"), _hex(certificate.thumbprint)}
    return any(ref in own for ref in profile_references(user))


def _describe(certificate: Certificate) -> str:
    name = certificate.subject.common_name or str(certificate.subject)
    return f"«{name}» (серийный номер {certificate.serial_hex})"


def _profile_text(user: UserInfo) -> str:
    return (user.cert_serial or user.cert_ref or "").strip()


def _ensure_profile_has_certificate(user: UserInfo) -> None:
    if not profile_references(user):
        raise ProfileCertificateMissing(
            f"В профиле пользователя «{user.full_name}» не указан сертификат ЭП (серийный номер "
            "или отпечаток): подписание невозможно. Обратитесь к администратору."
        )


def find_profile_certificate(
    user: UserInfo, candidates: Sequence[CertificateInfo]
) -> CertificateInfo:
    """The certificate of the user's profile among those a provider offers.

    Raises :class:`ProfileCertificateMissing` or :class:`CertificateNotFound` (naming what is
    offered instead) — a user signs only with the certificate of his own profile.
    """
    _ensure_profile_has_certificate(user)
    for info in candidates:
        if certificate_matches_profile(user, info.certificate):
            return info
    if not candidates:
        raise CertificateNotFound(
            f"Ключевой носитель с сертификатом вашего профиля ({_profile_text(user)}) не найден: "
            "вставьте свой токен и повторите."
        )
    offered = "; ".join(_describe(c.certificate) for c in candidates[:3])
    raise CertificateNotFound(
        f"Сертификат вашего профиля ({_profile_text(user)}) не найден на ключевом носителе. "
        f"Подписывать можно только своим сертификатом, а доступны: {offered}. "
        "Вставьте свой токен."
    )


def ensure_own_certificate(user: UserInfo, certificate: Certificate) -> None:
    """Refuse a key whose certificate is not the one of the user's profile."""
    _ensure_profile_has_certificate(user)
    if not certificate_matches_profile(user, certificate):
        raise CertificateNotOwn(
            f"Сертификат {_describe(certificate)} не принадлежит профилю пользователя "
            f"«{user.full_name}» (в профиле: {_profile_text(user)}): подписывать можно только "
            "своим сертификатом."
        )


# --- who may sign which block -----------------------------------------------------------------


def _name_key(name: str | None) -> str:
    return " ".join((name or "").replace("ё", "е").replace("Ё", "Е").split()).casefold()


def may_sign_slot(user: UserInfo, slot: SignerSlot) -> bool:
    """Whether the user's roles allow this signature slot at all (for showing key buttons)."""
    allowed = VK_SIGNER_ROLES if slot is SignerSlot.VK else DOC_SIGNER_ROLES
    return bool(user.roles & allowed)


def fill_signer(eln: Eln, block: Block, user: UserInfo) -> Eln:
    """Put the user's name into an empty «ФИО врача» / «ФИО председателя ВК» of a period.

    Called before signing so a doctor presses the key button on a row a nurse prepared. Blocks
    whose names are filled (or that carry no name) are returned unchanged.
    """
    if block.kind != "period" or block.index is None or block.index >= len(eln.treat_periods):
        return eln
    period = eln.treat_periods[block.index]
    if block.slot is SignerSlot.DOC and not (period.doctor or "").strip():
        if not may_sign_slot(user, SignerSlot.DOC):
            return eln
        return lifecycle.update_period(
            eln,
            block.index,
            doctor=user.full_name,
            doctor_role=period.doctor_role or user.position,
            doctor_id=user.id,
            id_doctor=period.id_doctor or user.id_doctor,
        )
    if block.slot is SignerSlot.VK and not (period.chairman or "").strip():
        if not may_sign_slot(user, SignerSlot.VK):
            return eln
        return lifecycle.update_period(
            eln,
            block.index,
            chairman=user.full_name,
            chairman_role=CHAIRMAN_ROLE,
            chairman_id=user.id,
        )
    return eln


def ensure_signer_named(eln: Eln, block: Block, user: UserInfo) -> None:
    """A period is signed by the doctor (chairman) it names, not by a colleague."""
    if block.kind != "period" or block.index is None or block.index >= len(eln.treat_periods):
        return
    period = eln.treat_periods[block.index]
    if block.slot is SignerSlot.DOC:
        named, named_id, title = period.doctor, period.doctor_id, "ФИО врача"
    else:
        named, named_id, title = period.chairman, period.chairman_id, "ФИО председателя ВК"
    if not (named or "").strip():
        return  # completeness is checked by lifecycle.sign
    if named_id == user.id or _name_key(named) == _name_key(user.full_name):
        return
    raise SignerNotNamed(
        f"В записи {block.title} в поле «{title}» указан(а) «{named}»: подписать запись может "
        f"только он(а). Пользователь «{user.full_name}» может исправить поле «{title}» до "
        "подписания.",
        field=f"{block.path}.{'doctor' if block.slot is SignerSlot.DOC else 'chairman'}",
    )


def ensure_can_sign(eln: Eln, block: Block, user: UserInfo, context: CheckContext) -> None:
    """Every check short of the key: role, name, state, completeness and ФЛК.

    Run it before asking for the PIN, so nobody types a PIN for a signature that would be
    refused anyway. :meth:`ElnStore.sign` repeats the lifecycle and ФЛК checks in its
    transaction.
    """
    if eln.id is None:
        raise TransitionError("Сначала сохраните ЭЛН, затем подписывайте.")
    ensure_signer_named(eln, block, user)
    probe = Signature(user.id, user.full_name, datetime.now(UTC))
    flk.ensure_valid(lifecycle.sign(eln, block, user.signer, probe), context)


# --- the block's XML ----------------------------------------------------------------------


def _date(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _nsmap(default: str, **prefixed: str) -> Any:
    """An lxml namespace map with a default namespace (the stubs do not allow a None key)."""
    return {None: default, **prefixed}


def _child(parent: etree._Element, ns: str, name: str, value: str | None) -> None:
    el = etree.SubElement(parent, f"{{{ns}}}{name}", nsmap=_nsmap(ns))
    el.text = value


def _child_v11(parent: etree._Element, name: str, value: str | None, *, nil: bool = False) -> None:
    el = etree.SubElement(parent, f"{{{V11_NS}}}{name}")
    if value is None and nil:
        el.set(f"{{{XSI_NS}}}nil", "true")
    else:
        el.text = value


def _bytes(element: etree._Element) -> bytes:
    return etree.tostring(element, encoding="UTF-8", xml_declaration=False, with_tail=False)


def _v20_element(eln: Eln, block: Block, doctor_fragment: bytes | None) -> bytes:
    if block.kind == "breach":
        b = eln.hospital_breach or HospitalBreach()
        el = etree.Element(f"{{{MO_NS}}}hospitalBreach", nsmap=_nsmap(MO_NS))
        _child(el, COM_NS, "hospitalBreachCode", _text(b.code))
        _child(el, COM_NS, "hospitalBreachDt", _date(b.dt))
        return _bytes(el)
    if block.kind == "result":
        r = eln.ln_result or LnResult()
        el = etree.Element(f"{{{MO_NS}}}lnResult", nsmap=_nsmap(MO_NS))
        for name, value in (
            ("returnDateLpu", _date(r.return_date_lpu)),
            ("mseResult", _text(r.mse_result)),
            ("otherStateDt", _date(r.other_state_dt)),
            ("nextLnCode", _text(r.next_ln_code)),
        ):
            if value is not None:
                _child(el, COM_NS, name, value)
        return _bytes(el)
    assert block.index is not None
    p = eln.treat_periods[block.index]
    if block.slot is SignerSlot.DOC:
        el = etree.Element(f"{{{COM_NS}}}treatPeriod", nsmap=_nsmap(COM_NS))
        for name, value in (
            ("treatDt1", _date(p.dt1)),
            ("treatDt2", _date(p.dt2)),
            ("idDoctor", _text(p.id_doctor)),
            ("treatDoctorRole", _text(p.doctor_role)),
            ("treatDoctor", _text(p.doctor)),
        ):
            if value is not None:
                etree.SubElement(el, f"{{{COM_NS}}}{name}").text = value
        return _bytes(el)
    full = etree.Element(f"{{{MO_NS}}}treatFullPeriod", nsmap=_nsmap(MO_NS))
    _child(full, COM_NS, "treatChairman", _text(p.chairman))
    _child(full, COM_NS, "treatChairmanRole", _text(p.chairman_role))
    return _with_doctor_fragment(full, doctor_fragment)


def _v11_element(eln: Eln, block: Block, doctor_fragment: bytes | None) -> bytes:
    if block.kind == "breach":
        b = eln.hospital_breach or HospitalBreach()
        el = etree.Element(f"{{{V11_NS}}}HOSPITAL_BREACH", nsmap=_nsmap(V11_NS))
        _child_v11(el, "HOSPITAL_BREACH_CODE", _text(b.code))
        _child_v11(el, "HOSPITAL_BREACH_DT", _date(b.dt))
        return _bytes(el)
    if block.kind == "result":
        r = eln.ln_result or LnResult()
        el = etree.Element(f"{{{V11_NS}}}LN_RESULT", nsmap=_nsmap(V11_NS, xsi=XSI_NS))
        _child_v11(el, "RETURN_DATE_LPU", _date(r.return_date_lpu), nil=True)
        if _text(r.mse_result) is not None:
            _child_v11(el, "MSE_RESULT", _text(r.mse_result))
        _child_v11(el, "OTHER_STATE_DT", _date(r.other_state_dt), nil=True)
        if _text(r.next_ln_code) is not None:
            _child_v11(el, "NEXT_LN_CODE", _text(r.next_ln_code))
        return _bytes(el)
    assert block.index is not None
    p = eln.treat_periods[block.index]
    if block.slot is SignerSlot.DOC:
        el = etree.Element(f"{{{V11_NS}}}TREAT_PERIOD", nsmap=_nsmap(V11_NS))
        _child_v11(el, "TREAT_DT1", _date(p.dt1))
        _child_v11(el, "TREAT_DT2", _date(p.dt2))
        _child_v11(el, "TREAT_DOCTOR_ROLE", _text(p.doctor_role))
        _child_v11(el, "TREAT_DOCTOR", _text(p.doctor))
        return _bytes(el)
    full = etree.Element(f"{{{V11_NS}}}TREAT_FULL_PERIOD", nsmap=_nsmap(V11_NS))
    _child_v11(full, "TREAT_CHAIRMAN_ROLE", _text(p.chairman_role))
    _child_v11(full, "TREAT_CHAIRMAN", _text(p.chairman))
    return _with_doctor_fragment(full, doctor_fragment)


def _with_doctor_fragment(full: etree._Element, doctor_fragment: bytes | None) -> bytes:
    """``treatFullPeriod`` with the stored doctor-signed ``treatPeriod`` pasted in verbatim."""
    if doctor_fragment is None:
        raise TransitionError(
            "Подпись председателя ВК охватывает подписанный врачом период: сначала подписывает "
            "врач."
        )
    slot = etree.SubElement(full, "gostsign-slot")
    doc = fragments.splice(etree.ElementTree(full), {slot: doctor_fragment})
    return _bytes(doc.getroot())


def block_element(
    eln: Eln, block: Block, *, version: str = V20, doctor_fragment: bytes | None = None
) -> bytes:
    """The block's element as standalone UTF-8 XML, as it will travel in a row of ``version``.

    For the VK slot, ``doctor_fragment`` is the stored doctor-signed ``treatPeriod`` of that
    period; it is put inside ``treatFullPeriod`` byte for byte.
    """
    if block.kind == "period":
        if block.index is None or not 0 <= block.index < len(eln.treat_periods):
            raise TransitionError("Такого периода освобождения от работы нет.")
    if version == V11:
        return _v11_element(eln, block, doctor_fragment)
    return _v20_element(eln, block, doctor_fragment)


# --- signing ----------------------------------------------------------------------------------


def _doctor_fragment(store: ElnStore, eln: Eln, block: Block) -> bytes | None:
    if block.slot is not SignerSlot.VK or block.index is None:
        return None
    signature = eln.treat_periods[block.index].doctor_signature
    if signature is None or signature.fragment_id is None:
        return None
    return store.fragment(signature.fragment_id).data


def sign_block(
    store: ElnStore,
    eln_id: int,
    block: Block,
    user: UserInfo,
    session: KeySigner,
    *,
    expected_version: int | None = None,
    context: CheckContext | None = None,
) -> Eln:
    """Sign ``block`` of the stored ELN ``eln_id`` with the user's key session; return the ELN.

    ``expected_version`` is the version the user looked at when he pressed the key button:
    if the ELN was saved since, nothing is signed (:class:`ConcurrentModification`).
    Raises :class:`CertificateNotOwn` for a key that is not the one of the user's profile,
    any check of :func:`ensure_can_sign`, :class:`SigningError` if the signature cannot be
    made, or the provider's own errors (token removed, …).
    """
    certificate = session.certificate
    if not isinstance(certificate, Certificate):
        certificate = Certificate.load(certificate)
    ensure_own_certificate(user, certificate)
    eln = store.load(eln_id)
    if expected_version is not None and eln.version != expected_version:
        raise ConcurrentModification(
            f"ЭЛН № {eln.ln_code or eln_id} изменён другим пользователем: откройте его заново и "
            "подпишите ещё раз."
        )
    settings, _ = store.load_settings()
    version = settings.protocol_version or V20
    ctx = context or CheckContext(today=store.today(), version=version)
    ensure_can_sign(eln, block, user, ctx)
    element = block_element(
        eln, block, version=version, doctor_fragment=_doctor_fragment(store, eln, block)
    )
    assert eln.ln_code is not None  # lifecycle.sign requires the number
    try:
        if block.slot is SignerSlot.VK:
            signed = fragments.sign_vk_fragment(element, eln.ln_code, block.number, session)
        else:
            signed = fragments.sign_doctor_fragment(element, eln.ln_code, block.number, session)
    except CertificateExpired:
        raise SigningError(
            f"Срок действия сертификата {_describe(certificate)} истёк "
            f"({certificate.not_after:%d.%m.%Y}) или ещё не начался: подписать нельзя. "
            "Обратитесь в удостоверяющий центр за новым сертификатом."
        ) from None
    except CertificateError as exc:
        raise SigningError(
            f"Сертификат {_describe(certificate)} непригоден для подписи: {exc}."
        ) from exc
    except GostError as exc:
        raise SigningError(f"Не удалось подписать запись {block.title}: {exc}.") from exc
    return store.sign(
        eln_id,
        block,
        user.signer,
        signed.element,
        security=signed.security,
        context=ctx,
        expected_version=eln.version,
    )


def signed_element(store: ElnStore, eln: Eln, block: Block) -> etree._Element | None:
    """The stored signed element of a block (parsed), or None if the block is not signed."""
    signature = block_signature(eln, block)
    if signature is None or signature.fragment_id is None:
        return None
    return parse_element(store.fragment(signature.fragment_id).data, what="the fragment")


__all__ = [
    "COM_NS",
    "MO_NS",
    "V11_NS",
    "CertificateNotFound",
    "CertificateNotOwn",
    "ProfileCertificateMissing",
    "SignerNotNamed",
    "SigningError",
    "block_element",
    "certificate_matches_profile",
    "ensure_can_sign",
    "ensure_own_certificate",
    "ensure_signer_named",
    "fill_signer",
    "find_profile_certificate",
    "may_sign_slot",
    "profile_references",
    "sign_block",
    "signed_element",
]
