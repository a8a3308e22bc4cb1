"""The ELN row of prParseFilelnlpu and the signed blocks inside it, for v2.0 and v1.1.

Input is the domain's :class:`~eln_tui.core.domain.model.Eln` plus the signed fragments the
journal keeps (:class:`gostsign.xml.fragments.SignedFragment`, keyed by the block suffix of
protocol.md §4.2: ``"1_doc"`` breach, ``"2_doc"`` result, ``"3_doc"``/``"3_vk"`` … period n is
``2+n``).

Signed blocks travel byte-exact: the doctor (or VK chairman) signs the element that
:func:`block_xml` builds, exactly as it will travel (own namespace declarations, ``wsu:Id``
set), the journal stores those bytes, and at send time :func:`assemble_registry` pastes them
into the message with :func:`gostsign.xml.fragments.splice`, which re-checks that each keeps
its canonical form. The МО's row signature is added afterwards by the client.

Namespaces (protocol.md §3, the v2.0 XSD): ``row`` and its direct children are ``mo``; the
children of types defined in Eln.xsd are ``com`` (``hospitalBreachCode/Dt``, ``treatChairman``,
``treatChairmanRole``, ``treatPeriod`` and its children, the ``lnResult`` children, the
``servFullData`` children except the ``mo:diagnosis`` extension); the rowset attributes are
``com``-qualified. v1.1 has a single namespace for everything.

Fill rules (S20 §8.1.2): required nillable elements without a value are written as
``xsi:nil="true"``; optional elements without a value are omitted; dates ``YYYY-MM-DD``;
booleans ``true``/``false`` (v1.1 flags ``1``/``0``). A first send has ``lnState`` 000 and no
``lnHash``.

Which blocks a send carries (domain.md §5, protocol.md §7): by default
:func:`eln_tui.core.domain.lifecycle.next_send_blocks` — one new period at a time, in order.
Blocks the Fund accepted earlier go again as plain data without signatures (as SAMSON does and
the live service accepts), unless ``resend_signed`` asks for their stored signatures too.
Periods not yet due are left out.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from lxml import etree

from eln_tui.core.domain import lifecycle
from eln_tui.core.domain.codes import SignerSlot
from eln_tui.core.domain.model import (
    MAX_PERIODS_V20,
    Block,
    CareRecord,
    Eln,
    TreatPeriod,
    field_title,
)
from eln_tui.core.domain.signatures import effective_reason
from eln_tui.core.domain.validators import is_digits
from eln_tui.core.fss.config import ProtocolVersion
from eln_tui.core.fss.errors import FssRequestError
from gostsign.errors import GostError
from gostsign.signer import Signer
from gostsign.xml import profile, wssec
from gostsign.xml.c14n import exc_c14n
from gostsign.xml.fragments import SignedFragment, sign_fragment, splice
from gostsign.xml.ns import WSU, XSI
from gostsign.xml.parse import parse_element

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
MO = "http://www.fss.ru/integration/types/eln/mo/v01"
COM = "http://www.fss.ru/integration/types/eln/v01"
V11 = "http://ru/ibs/fss/ln/ws/FileOperationsLn.wsdl"

#: At most this many ELNs per prParseFilelnlpu message (S11/S20 §8.1.1, v2.0 XSD).
MAX_ROWS = 30
#: The fixed role of the VK chairman in v2.0 (test XSD ``fixed="ПРЕД ВК"``; S11 §8.1.2).
CHAIRMAN_ROLE = "ПРЕД ВК"

_WSU_ID = f"{{{WSU}}}Id"
_NIL = f"{{{XSI}}}nil"
_SLOT = "eln-fss-slot"


def _q(ns: str, local: str) -> str:
    return f"{{{ns}}}{local}"


NsMap = dict[str | None, str]


def _element(tag: str, nsmap: NsMap) -> etree._Element:
    """``etree.Element`` with a default namespace (the stubs type nsmap without None keys)."""
    return etree.Element(tag, nsmap=cast(Any, nsmap))


def _sub(parent: etree._Element, tag: str, nsmap: NsMap) -> etree._Element:
    return etree.SubElement(parent, tag, nsmap=cast(Any, nsmap))


# ----------------------------------------------------------------------------------------------
# Values
# ----------------------------------------------------------------------------------------------


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _flag(value: bool | None) -> str | None:
    """A v1.1 integer flag."""
    if value is None:
        return None
    return "1" if value else "0"


def _present(value: object) -> bool:
    if value is None:
        return False
    return not (isinstance(value, str) and not value.strip())


class _Writer:
    """Writes elements of one namespace layout; remembers what the XSD requires."""

    def __init__(self, ln_code: str) -> None:
        self.ln_code = ln_code

    def opt(self, parent: etree._Element, tag: str, value: object) -> None:
        """Optional element: omitted when there is no value."""
        if _present(value):
            etree.SubElement(parent, tag).text = _text(value)

    def nil(self, parent: etree._Element, tag: str, value: object) -> None:
        """Required nillable element: ``xsi:nil="true"`` when there is no value."""
        el = etree.SubElement(parent, tag)
        if _present(value):
            el.text = _text(value)
        else:
            el.set(_NIL, "true")

    def req(self, parent: etree._Element, tag: str, value: object, path: str) -> None:
        """Required element: an error naming the field when there is no value."""
        if not _present(value):
            raise FssRequestError(
                f"ЭЛН {self.ln_code}: не заполнено поле «{field_title(path)}», без него ЭЛН "
                "не может быть передан в СФР.",
                detail=path,
                ln_code=self.ln_code,
            )
        etree.SubElement(parent, tag).text = _text(value)


# ----------------------------------------------------------------------------------------------
# Blocks (the signable elements)
# ----------------------------------------------------------------------------------------------


def _block_root(tag: str, nsmap: NsMap, element_id: str | None) -> etree._Element:
    el = _element(tag, {**nsmap, "wsu": WSU} if element_id else nsmap)
    if element_id:
        el.set(_WSU_ID, element_id)
    return el


def _breach_element(
    eln: Eln, version: ProtocolVersion, element_id: str | None, parent: etree._Element | None
) -> etree._Element:
    w = _Writer(checked_number(eln))
    breach = eln.hospital_breach
    assert breach is not None
    if version is ProtocolVersion.V20:
        tag, child_ns, nsmap = _q(MO, "hospitalBreach"), COM, NsMap({None: MO, "ns2": COM})
        names = ("hospitalBreachCode", "hospitalBreachDt")
    else:
        tag, child_ns, nsmap = _q(V11, "HOSPITAL_BREACH"), V11, NsMap({None: V11})
        names = ("HOSPITAL_BREACH_CODE", "HOSPITAL_BREACH_DT")
    el = _place(tag, nsmap, element_id, parent)
    w.req(el, _q(child_ns, names[0]), breach.code, "hospital_breach.code")
    w.req(el, _q(child_ns, names[1]), breach.dt, "hospital_breach.dt")
    return el


def _result_element(
    eln: Eln, version: ProtocolVersion, element_id: str | None, parent: etree._Element | None
) -> etree._Element:
    w = _Writer(checked_number(eln))
    r = eln.ln_result
    assert r is not None
    if version is ProtocolVersion.V20:
        el = _place(_q(MO, "lnResult"), {None: MO, "ns2": COM}, element_id, parent)
        w.opt(el, _q(COM, "returnDateLpu"), r.return_date_lpu)
        w.opt(el, _q(COM, "mseResult"), r.mse_result)
        w.opt(el, _q(COM, "otherStateDt"), r.other_state_dt)
        w.opt(el, _q(COM, "nextLnCode"), r.next_ln_code)
    else:
        el = _place(_q(V11, "LN_RESULT"), {None: V11}, element_id, parent)
        w.nil(el, _q(V11, "RETURN_DATE_LPU"), r.return_date_lpu)
        w.opt(el, _q(V11, "MSE_RESULT"), r.mse_result)
        w.nil(el, _q(V11, "OTHER_STATE_DT"), r.other_state_dt)
        w.opt(el, _q(V11, "NEXT_LN_CODE"), r.next_ln_code)
    return el


def _period_element(
    eln: Eln,
    index: int,
    version: ProtocolVersion,
    element_id: str | None,
    parent: etree._Element | None,
) -> etree._Element:
    """``treatPeriod`` / ``TREAT_PERIOD`` of period ``index`` (0-based): the doctor's block."""
    w = _Writer(checked_number(eln))
    p = eln.treat_periods[index]
    base = f"treat_periods[{index}]"
    if version is ProtocolVersion.V20:
        el = _place(_q(COM, "treatPeriod"), {None: COM}, element_id, parent)
        w.req(el, _q(COM, "treatDt1"), p.dt1, f"{base}.dt1")
        w.req(el, _q(COM, "treatDt2"), p.dt2, f"{base}.dt2")
        w.opt(el, _q(COM, "idDoctor"), p.id_doctor)
        w.req(el, _q(COM, "treatDoctorRole"), p.doctor_role, f"{base}.doctor_role")
        w.req(el, _q(COM, "treatDoctor"), p.doctor, f"{base}.doctor")
    else:
        el = _place(_q(V11, "TREAT_PERIOD"), {None: V11}, element_id, parent)
        w.req(el, _q(V11, "TREAT_DT1"), p.dt1, f"{base}.dt1")
        w.req(el, _q(V11, "TREAT_DT2"), p.dt2, f"{base}.dt2")
        w.req(el, _q(V11, "TREAT_DOCTOR_ROLE"), p.doctor_role, f"{base}.doctor_role")
        w.req(el, _q(V11, "TREAT_DOCTOR"), p.doctor, f"{base}.doctor")
    return el


def _has_chairman(p: TreatPeriod) -> bool:
    return bool(_present(p.chairman) or p.chairman_signature is not None)


def _full_period_start(
    eln: Eln,
    index: int,
    version: ProtocolVersion,
    element_id: str | None,
    parent: etree._Element | None,
    *,
    with_chairman: bool,
) -> etree._Element:
    """``treatFullPeriod`` / ``TREAT_FULL_PERIOD`` without its inner period (added by caller)."""
    w = _Writer(checked_number(eln))
    p = eln.treat_periods[index]
    base = f"treat_periods[{index}]"
    if version is ProtocolVersion.V20:
        el = _place(_q(MO, "treatFullPeriod"), {None: MO, "ns2": COM}, element_id, parent)
        if with_chairman:
            w.req(el, _q(COM, "treatChairman"), p.chairman, f"{base}.chairman")
            etree.SubElement(el, _q(COM, "treatChairmanRole")).text = CHAIRMAN_ROLE
    else:
        el = _place(_q(V11, "TREAT_FULL_PERIOD"), {None: V11}, element_id, parent)
        if with_chairman:
            w.opt(el, _q(V11, "TREAT_CHAIRMAN_ROLE"), p.chairman_role or CHAIRMAN_ROLE)
            w.req(el, _q(V11, "TREAT_CHAIRMAN"), p.chairman, f"{base}.chairman")
    return el


def _place(
    tag: str,
    nsmap: NsMap,
    element_id: str | None,
    parent: etree._Element | None,
) -> etree._Element:
    if parent is None:
        return _block_root(tag, nsmap, element_id)
    el = etree.SubElement(parent, tag)
    if element_id:
        el.set(_WSU_ID, element_id)
    return el


def checked_number(eln: Eln) -> str:
    """The ELN's number, refused unless it is 12 digits (Ids and actors embed it)."""
    code = eln.ln_code or ""
    if not is_digits(code, 12):
        raise FssRequestError(
            f"Номер ЭЛН «{code}» должен состоять из 12 цифр; сначала получите номер в СФР.",
            detail="ln_code",
            ln_code=code or None,
        )
    return code


def _block_id(eln: Eln, block: Block) -> tuple[str, str]:
    ln = checked_number(eln)
    if block.slot is SignerSlot.VK:
        return profile.vk_id(ln, block.number), profile.vk_actor(ln, block.number)
    return profile.doctor_id(ln, block.number), profile.doctor_actor(ln, block.number)


def block_xml(
    eln: Eln,
    block: Block,
    version: ProtocolVersion | str = ProtocolVersion.V20,
    *,
    doctor_fragment: SignedFragment | None = None,
) -> bytes:
    """The element a doctor or VK chairman signs for ``block``, exactly as it will travel.

    It carries its ``wsu:Id`` (``ELN_<n>_<k>_doc|vk``) and declares every namespace it uses,
    so its canonical form does not depend on where it is put later. A VK block
    (``treatFullPeriod``) contains the doctor's signed ``treatPeriod`` verbatim: pass the
    doctor's stored fragment as ``doctor_fragment``.
    """
    v = ProtocolVersion(str(version))
    element_id, _ = _block_id(eln, block)
    if block.kind == "breach":
        if eln.hospital_breach is None:
            raise FssRequestError("В ЭЛН нет отметки о нарушении режима.", ln_code=eln.ln_code)
        return _serialise(_breach_element(eln, v, element_id, None))
    if block.kind == "result":
        if eln.ln_result is None or eln.ln_result.is_empty():
            raise FssRequestError("В ЭЛН не заполнен результат (закрытие).", ln_code=eln.ln_code)
        return _serialise(_result_element(eln, v, element_id, None))
    index = _period_index(eln, block)
    if block.slot is SignerSlot.DOC:
        return _serialise(_period_element(eln, index, v, element_id, None))
    if doctor_fragment is None:
        raise FssRequestError(
            f"Запись {block.title}: председатель ВК подписывает период вместе с подписью врача; "
            "подписанный врачом период не найден.",
            ln_code=eln.ln_code,
        )
    _check_fragment(eln, Block("period", SignerSlot.DOC, index), doctor_fragment, v)
    full = _full_period_start(eln, index, v, element_id, None, with_chairman=True)
    slot = etree.SubElement(full, _SLOT)
    doc = splice(full.getroottree(), {slot: doctor_fragment.element})
    return _serialise(doc.getroot())


def sign_block(
    eln: Eln,
    block: Block,
    signer: Signer,
    version: ProtocolVersion | str = ProtocolVersion.V20,
    *,
    doctor_fragment: SignedFragment | None = None,
) -> SignedFragment:
    """Build and sign a block; store both byte strings of the result verbatim."""
    data = block_xml(eln, block, version, doctor_fragment=doctor_fragment)
    element_id, actor = _block_id(eln, block)
    try:
        return sign_fragment(data, element_id, actor, signer)
    except GostError as exc:
        raise FssRequestError(
            f"Не удалось подписать запись {block.title}: {exc}", ln_code=eln.ln_code
        ) from exc


def stored_fragment(
    ln_code: str, suffix: str, element: bytes, security: bytes | None
) -> SignedFragment:
    """A :class:`SignedFragment` from what the journal stores (block suffix, bytes)."""
    if security is None:
        raise FssRequestError(
            f"ЭЛН {ln_code}: у подписанной записи {suffix} не сохранён блок подписи.",
            ln_code=ln_code,
        )
    number, _, slot = suffix.partition("_")
    if slot == "vk":
        element_id = profile.vk_id(ln_code, int(number))
        actor = profile.vk_actor(ln_code, int(number))
    else:
        element_id = profile.doctor_id(ln_code, int(number))
        actor = profile.doctor_actor(ln_code, int(number))
    return SignedFragment(element_id, actor, bytes(element), bytes(security))


def _serialise(el: etree._Element) -> bytes:
    return etree.tostring(el, encoding="UTF-8", xml_declaration=False, with_tail=False)


def _period_index(eln: Eln, block: Block) -> int:
    index = block.index
    if index is None or not 0 <= index < len(eln.treat_periods):
        raise FssRequestError(f"В ЭЛН нет записи {block.title}.", ln_code=eln.ln_code)
    return index


# ----------------------------------------------------------------------------------------------
# Fragments: checks
# ----------------------------------------------------------------------------------------------

_EXPECTED_ROOT = {
    ProtocolVersion.V20: {
        "breach": _q(MO, "hospitalBreach"),
        "result": _q(MO, "lnResult"),
        "doc": _q(COM, "treatPeriod"),
        "vk": _q(MO, "treatFullPeriod"),
    },
    ProtocolVersion.V11: {
        "breach": _q(V11, "HOSPITAL_BREACH"),
        "result": _q(V11, "LN_RESULT"),
        "doc": _q(V11, "TREAT_PERIOD"),
        "vk": _q(V11, "TREAT_FULL_PERIOD"),
    },
}


def _leaves(root: etree._Element) -> list[tuple[str, str]]:
    """(path of qualified names below ``root``, text) of every leaf: what a block says,
    independent of prefixes and of the ``wsu:Id`` attributes."""
    out = []
    for node in root.iter(etree.Element):
        if len(node):
            continue
        names = []
        n: etree._Element | None = node
        while n is not None and n is not root:
            names.append(str(n.tag))
            n = n.getparent()
        text = "" if node.get(_NIL) == "true" else (node.text or "").strip()
        out.append(("/".join(reversed(names)), text))
    return out


def _check_fragment(
    eln: Eln, block: Block, fragment: SignedFragment, version: ProtocolVersion
) -> etree._Element:
    """The fragment belongs to this block of this ELN and says what the ELN says."""
    ln = checked_number(eln)
    element_id, actor = _block_id(eln, block)
    title = block.title
    if fragment.element_id != element_id or fragment.actor != actor:
        raise FssRequestError(
            f"ЭЛН {ln}: сохранённая подпись записи {title} относится к другому блоку "
            f"({fragment.element_id}).",
            detail=f"expected {element_id} / {actor}",
            ln_code=ln,
        )
    try:
        root = parse_element(fragment.element, what="the stored signed block")
        sec = parse_element(fragment.security, what="the stored Security block")
    except GostError as exc:
        raise FssRequestError(
            f"ЭЛН {ln}: сохранённая подпись записи {title} повреждена.", detail=str(exc), ln_code=ln
        ) from None
    kind = (
        "vk" if block.slot is SignerSlot.VK else ("doc" if block.kind == "period" else block.kind)
    )
    if root.tag != _EXPECTED_ROOT[version][kind] or root.get(_WSU_ID) != element_id:
        raise FssRequestError(
            f"ЭЛН {ln}: сохранённая подпись записи {title} сделана для другой версии протокола "
            "или другого элемента.",
            detail=f"root {root.tag} Id {root.get(_WSU_ID)}",
            ln_code=ln,
        )
    references = [r.get("URI") for r in sec.iter(wssec.REFERENCE)]
    if sec.tag != wssec.SECURITY or references != [f"#{element_id}"]:
        raise FssRequestError(
            f"ЭЛН {ln}: сохранённый блок подписи записи {title} повреждён (это не подпись "
            "этой записи).",
            detail=f"root {sec.tag}, references {references}",
            ln_code=ln,
        )
    if sec.get(f"{{{SOAP11}}}actor") != actor:
        raise FssRequestError(
            f"ЭЛН {ln}: блок подписи записи {title} выписан на другого подписанта.",
            detail=f"Security actor {sec.get(f'{{{SOAP11}}}actor')}",
            ln_code=ln,
        )
    # What was signed must be what the ELN says now (a signed block is immutable).
    if block.kind == "breach":
        expected = _breach_element(eln, version, element_id, None)
    elif block.kind == "result":
        expected = _result_element(eln, version, element_id, None)
    else:
        index = _period_index(eln, block)
        if block.slot is SignerSlot.DOC:
            expected = _period_element(eln, index, version, element_id, None)
        else:
            expected = _full_period_start(eln, index, version, element_id, None, with_chairman=True)
            _period_element(eln, index, version, None, expected)
    if _leaves(root) != _leaves(expected):
        raise FssRequestError(
            f"ЭЛН {ln}: подписанная запись {title} не совпадает с текущими данными ЭЛН; "
            "подписанные данные менять нельзя.",
            detail=f"signed {_leaves(root)} != now {_leaves(expected)}",
            ln_code=ln,
        )
    return root


# ----------------------------------------------------------------------------------------------
# Rows
# ----------------------------------------------------------------------------------------------


@dataclass
class BuiltRow:
    """A row ready to be placed into the rowset.

    ``element`` holds placeholder elements where stored signed blocks go (``slots``: each
    placeholder → the fragment's bytes); ``securities`` are the Security header blocks of
    those fragments, in order. ``blocks`` lists the block paths this send carries (for
    :func:`eln_tui.core.domain.lifecycle.mark_sent`).
    """

    ln_code: str
    element: etree._Element
    slots: dict[etree._Element, bytes] = field(default_factory=dict)
    securities: list[bytes] = field(default_factory=list)
    blocks: tuple[str, ...] = ()


@dataclass(frozen=True)
class RowInput:
    """One ELN for prParseFilelnlpu with its stored signed fragments (by block suffix)."""

    eln: Eln
    fragments: Mapping[str, SignedFragment] = field(default_factory=dict)
    #: Block paths this send carries; None = lifecycle.next_send_blocks(eln).
    blocks: Sequence[str] | None = None


class _RowBuilder:
    def __init__(
        self,
        item: RowInput,
        version: ProtocolVersion,
        parent: etree._Element,
        *,
        resend_signed: bool,
    ) -> None:
        self.eln = item.eln
        self.ln = checked_number(item.eln)
        self.fragments = dict(item.fragments)
        self.version = version
        self.resend_signed = resend_signed
        carried = lifecycle.next_send_blocks(item.eln) if item.blocks is None else item.blocks
        self.carried = set(carried)
        unknown = self.carried - _known_blocks(item.eln)
        if unknown:
            raise FssRequestError(
                f"ЭЛН {self.ln}: нечего передавать в записях {', '.join(sorted(unknown))}.",
                ln_code=self.ln,
            )
        self.w = _Writer(self.ln)
        self.row = BuiltRow(self.ln, parent, blocks=tuple(carried))

    # -- signed blocks -------------------------------------------------------------------------

    def _signed(self, block: Block, path: str, *, sent: bool) -> SignedFragment | None:
        """The fragment to insert for ``block``, or None to write the block as plain data."""
        fragment = self.fragments.get(block.suffix)
        if path in self.carried:
            if fragment is None:
                raise FssRequestError(
                    f"ЭЛН {self.ln}: запись {block.title} не подписана ({block.slot.label}); "
                    "без подписи её нельзя передать.",
                    detail=f"no fragment {block.suffix}",
                    ln_code=self.ln,
                )
            return fragment
        if sent and self.resend_signed and fragment is not None:
            return fragment
        return None

    def _insert(self, parent: etree._Element, fragment: SignedFragment, block: Block) -> None:
        _check_fragment(self.eln, block, fragment, self.version)
        slot = etree.SubElement(parent, _SLOT)
        self.row.slots[slot] = fragment.element
        self.row.securities.append(fragment.security)

    def breach(self, parent: etree._Element) -> None:
        b = self.eln.hospital_breach
        if b is None or not (_present(b.code) or b.dt is not None):
            return
        if not b.sent and "hospital_breach" not in self.carried:
            return
        block = Block("breach")
        fragment = self._signed(block, "hospital_breach", sent=b.sent)
        if fragment is None:
            _breach_element(self.eln, self.version, None, parent)
        else:
            self._insert(parent, fragment, block)

    def result(self, parent: etree._Element) -> None:
        r = self.eln.ln_result
        if r is None or r.is_empty():
            return
        if not r.sent and "ln_result" not in self.carried:
            return
        block = Block("result")
        fragment = self._signed(block, "ln_result", sent=r.sent)
        if fragment is None:
            _result_element(self.eln, self.version, None, parent)
        else:
            self._insert(parent, fragment, block)

    def periods(self, parent_tag: str) -> etree._Element | None:
        """The periods element (or None when no period goes in this send)."""
        due = []
        skipped = False
        for i, p in enumerate(self.eln.treat_periods):
            path = f"treat_periods[{i}]"
            if p.sent or path in self.carried:
                if skipped:
                    raise FssRequestError(
                        f"ЭЛН {self.ln}: периоды освобождения от работы передаются по порядку; "
                        f"период № {i} ещё не принят СФР.",
                        ln_code=self.ln,
                    )
                due.append(i)
            else:
                skipped = True
        if self.version is ProtocolVersion.V20 and len(due) > MAX_PERIODS_V20:
            raise FssRequestError(
                f"ЭЛН {self.ln}: не более {MAX_PERIODS_V20} периодов освобождения от работы; "
                "продолжение оформляется новым ЭЛН.",
                ln_code=self.ln,
            )
        if not due:
            return None
        periods = etree.Element(parent_tag)
        for i in due:
            self._period(periods, i)
        return periods

    def _period(self, parent: etree._Element, i: int) -> None:
        p = self.eln.treat_periods[i]
        path = f"treat_periods[{i}]"
        doc_block = Block("period", SignerSlot.DOC, i)
        vk_block = Block("period", SignerSlot.VK, i)
        chairman = _has_chairman(p)
        doc_fragment = self._signed(doc_block, path, sent=p.sent)
        vk_fragment: SignedFragment | None = None
        if chairman and doc_fragment is not None:
            vk_fragment = self.fragments.get(vk_block.suffix)
            if vk_fragment is None:
                if path in self.carried:
                    raise FssRequestError(
                        f"ЭЛН {self.ln}: запись {vk_block.title} заполнена председателем ВК, но "
                        "не подписана им; без подписи её нельзя передать.",
                        detail=f"no fragment {vk_block.suffix}",
                        ln_code=self.ln,
                    )
                doc_fragment = None  # an accepted period re-sent: plain data, no signatures
        if vk_fragment is not None:
            assert doc_fragment is not None
            # The VK fragment contains the doctor's signed treatPeriod; both signatures travel.
            _check_fragment(self.eln, doc_block, doc_fragment, self.version)
            vk_root = _check_fragment(self.eln, vk_block, vk_fragment, self.version)
            inner = [c for c in vk_root if isinstance(c.tag, str) and c.get(_WSU_ID)]
            if len(inner) != 1 or exc_c14n(inner[0]) != canonical(doc_fragment.element):
                raise FssRequestError(
                    f"ЭЛН {self.ln}: председатель ВК подписал запись {vk_block.title} с другой "
                    "подписью врача, чем сохранена в журнале.",
                    ln_code=self.ln,
                )
            slot = etree.SubElement(parent, _SLOT)
            self.row.slots[slot] = vk_fragment.element
            self.row.securities.extend([doc_fragment.security, vk_fragment.security])
            return
        full = _full_period_start(
            self.eln, i, self.version, None, parent, with_chairman=chairman and doc_fragment is None
        )
        if doc_fragment is None:
            _period_element(self.eln, i, self.version, None, full)
        else:
            self._insert(full, doc_fragment, doc_block)


def _known_blocks(eln: Eln) -> set[str]:
    known = {f"treat_periods[{i}]" for i in range(len(eln.treat_periods))}
    if eln.hospital_breach is not None:
        known.add("hospital_breach")
    if eln.ln_result is not None:
        known.add("ln_result")
    known.add("mse_dt1")
    return known


def _care_age(care: CareRecord, at: date | None) -> tuple[int | None, int | None]:
    """v1.1 SERVn_AGE / SERVn_MM: as given, else from the birthday at ``at``."""
    if care.age_years is not None or care.age_months is not None:
        return care.age_years, care.age_months
    if care.birthday is None or at is None:
        return None, None
    months = (at.year - care.birthday.year) * 12 + at.month - care.birthday.month
    if at.day < care.birthday.day:
        months -= 1
    months = max(months, 0)
    return months // 12, months % 12


def build_row(
    item: RowInput | Eln,
    version: ProtocolVersion | str = ProtocolVersion.V20,
    *,
    resend_signed: bool = False,
) -> BuiltRow:
    """The row of one ELN (with placeholders for its stored signed blocks)."""
    if isinstance(item, Eln):
        item = RowInput(item)
    v = ProtocolVersion(str(version))
    if v is ProtocolVersion.V20:
        return _row_v20(item, resend_signed)
    return _row_v11(item, resend_signed)


def _row_v20(item: RowInput, resend_signed: bool) -> BuiltRow:
    eln = item.eln
    row = _element(_q(MO, "row"), {None: MO, "ns2": COM})
    b = _RowBuilder(item, ProtocolVersion.V20, row, resend_signed=resend_signed)
    w, ln = b.w, b.ln
    if not eln.written_agreement_flag:
        raise FssRequestError(
            f"ЭЛН {ln}: Не получено письменное согласие пациента на создание ЭЛН.",
            detail="written_agreement_flag",
            ln_code=ln,
        )
    m = functools.partial(_q, MO)
    c = functools.partial(_q, COM)
    pt = eln.patient
    w.req(row, m("unconditional"), eln.unconditional, "unconditional")
    w.req(row, m("snils"), pt.snils, "patient.snils")
    w.req(row, m("surname"), pt.surname, "patient.surname")
    w.req(row, m("name"), pt.name, "patient.name")
    w.opt(row, m("patronymic"), pt.patronymic)
    w.req(row, m("lnCode"), ln, "ln_code")
    w.opt(row, m("prevLnCode"), eln.prev_ln_code)
    w.req(row, m("primaryFlag"), eln.primary_flag, "primary_flag")
    w.req(row, m("duplicateFlag"), eln.duplicate_flag, "duplicate_flag")
    w.req(row, m("lnDate"), eln.ln_date, "ln_date")
    w.opt(row, m("idMo"), eln.lpu.id_mo)
    w.req(row, m("lpuName"), eln.lpu.name, "lpu.name")
    w.req(row, m("lpuAddress"), eln.lpu.address, "lpu.address")
    w.req(row, m("lpuOgrn"), eln.lpu.ogrn, "lpu.ogrn")
    w.req(row, m("birthday"), pt.birthday, "patient.birthday")
    w.req(row, m("gender"), None if pt.gender is None else int(pt.gender), "patient.gender")
    w.opt(row, m("reason1"), eln.reason1)
    w.opt(row, m("reason2"), eln.reason2)
    w.opt(row, m("diagnos"), eln.diagnos)
    w.nil(row, m("date1"), eln.date1)
    w.nil(row, m("date2"), eln.date2)
    w.opt(row, m("voucherNo"), eln.voucher_no)
    w.opt(row, m("voucherOgrn"), eln.voucher_ogrn)
    if eln.serv_data:
        serv = etree.SubElement(row, m("servData"))
        for i, care in enumerate(eln.serv_data):
            full = etree.SubElement(serv, m("servFullData"))
            base = f"serv_data[{i}]"
            w.req(full, c("servRelationCode"), care.relation_code, f"{base}.relation_code")
            w.req(full, c("servDt1"), care.dt1, f"{base}.dt1")
            w.req(full, c("servDt2"), care.dt2, f"{base}.dt2")
            w.opt(full, c("treatmentType"), care.treatment_type)
            w.opt(full, c("surname"), care.surname)
            w.opt(full, c("name"), care.name)
            w.opt(full, c("patronymic"), care.patronymic)
            w.opt(full, c("birthday"), care.birthday)
            w.opt(full, c("reason1"), care.reason1)
            w.opt(full, c("snils"), care.snils)
            w.opt(full, m("diagnosis"), care.diagnosis)
    w.opt(row, m("pregn12wFlag"), eln.pregn12w_flag)
    w.opt(row, m("hospitalDt1"), eln.hospital_dt1)
    w.opt(row, m("hospitalDt2"), eln.hospital_dt2)
    b.breach(row)
    mse1 = eln.mse_dt1 if (eln.mse_sent or "mse_dt1" in b.carried) else None
    w.nil(row, m("mseDt1"), mse1)
    w.nil(row, m("mseDt2"), eln.mse_dt2)
    w.nil(row, m("mseDt3"), eln.mse_dt3)
    w.nil(row, m("mseInvalidGroup"), _int(eln.mse_invalid_group, ln, "mse_invalid_group"))
    periods = b.periods(m("treatPeriods"))
    if periods is not None:
        row.append(periods)
    b.result(row)
    w.req(row, m("lnState"), eln.ln_state, "ln_state")
    w.opt(row, m("lnHash"), eln.ln_hash)
    w.opt(row, m("previouslyIssuedCode"), eln.previously_issued_code)
    etree.SubElement(row, m("writtenAgreementFlag")).text = "true"
    w.opt(row, m("intermittentMethodFlag"), eln.intermittent_method_flag)
    return b.row


def _row_v11(item: RowInput, resend_signed: bool) -> BuiltRow:
    eln = item.eln
    row = _element(_q(V11, "ROW"), {None: V11})
    b = _RowBuilder(item, ProtocolVersion.V11, row, resend_signed=resend_signed)
    w, ln = b.w, b.ln
    t = functools.partial(_q, V11)
    pt = eln.patient
    w.req(row, t("SNILS"), pt.snils, "patient.snils")
    w.req(row, t("SURNAME"), pt.surname, "patient.surname")
    w.req(row, t("NAME"), pt.name, "patient.name")
    w.opt(row, t("PATRONIMIC"), pt.patronymic)
    w.req(row, t("BOZ_FLAG"), _flag(pt.employment_service_flag), "patient.employment_service_flag")
    w.opt(row, t("LPU_EMPLOYER"), eln.employer.name)
    w.nil(row, t("LPU_EMPL_FLAG"), _flag(eln.employer.main_job) if eln.employer.name else None)
    w.req(row, t("LN_CODE"), ln, "ln_code")
    w.opt(row, t("PREV_LN_CODE"), eln.prev_ln_code)
    w.req(row, t("PRIMARY_FLAG"), _flag(eln.primary_flag), "primary_flag")
    w.req(row, t("DUPLICATE_FLAG"), _flag(eln.duplicate_flag), "duplicate_flag")
    w.req(row, t("LN_DATE"), eln.ln_date, "ln_date")
    w.req(row, t("LPU_NAME"), eln.lpu.name, "lpu.name")
    w.opt(row, t("LPU_ADDRESS"), eln.lpu.address)
    w.req(row, t("LPU_OGRN"), eln.lpu.ogrn, "lpu.ogrn")
    w.req(row, t("BIRTHDAY"), pt.birthday, "patient.birthday")
    w.req(row, t("GENDER"), None if pt.gender is None else int(pt.gender), "patient.gender")
    w.req(row, t("REASON1"), effective_reason(eln), "reason1")
    w.opt(row, t("REASON2"), eln.reason2)
    w.opt(row, t("REASON3"), eln.reason3)
    w.opt(row, t("DIAGNOS"), eln.diagnos)
    w.opt(row, t("PARENT_CODE"), eln.parent_code)
    w.nil(row, t("DATE1"), eln.date1)
    w.nil(row, t("DATE2"), eln.date2)
    w.opt(row, t("VOUCHER_NO"), eln.voucher_no)
    w.opt(row, t("VOUCHER_OGRN"), eln.voucher_ogrn)
    if len(eln.serv_data) > 2:
        raise FssRequestError(
            f"ЭЛН {ln}: в версии 1.1 можно указать не более двух членов семьи по уходу.",
            ln_code=ln,
        )
    for n in (1, 2):
        care = eln.serv_data[n - 1] if len(eln.serv_data) >= n else None
        years, months = _care_age(care, care.dt1 or eln.ln_date) if care else (None, None)
        w.nil(row, t(f"SERV{n}_AGE"), years)
        w.nil(row, t(f"SERV{n}_MM"), months)
        w.opt(row, t(f"SERV{n}_RELATION_CODE"), care.relation_code if care else None)
        w.opt(row, t(f"SERV{n}_FIO"), (care.fio or None) if care else None)
    w.nil(row, t("PREGN12W_FLAG"), _flag(eln.pregn12w_flag))
    w.nil(row, t("HOSPITAL_DT1"), eln.hospital_dt1)
    w.nil(row, t("HOSPITAL_DT2"), eln.hospital_dt2)
    b.breach(row)
    mse1 = eln.mse_dt1 if (eln.mse_sent or "mse_dt1" in b.carried) else None
    w.nil(row, t("MSE_DT1"), mse1)
    w.nil(row, t("MSE_DT2"), eln.mse_dt2)
    w.nil(row, t("MSE_DT3"), eln.mse_dt3)
    w.nil(row, t("MSE_INVALID_GROUP"), _int(eln.mse_invalid_group, ln, "mse_invalid_group"))
    periods = b.periods(t("TREAT_PERIODS"))
    if periods is None:
        raise FssRequestError(
            f"ЭЛН {ln}: в версии 1.1 строка реестра должна содержать хотя бы один период "
            "освобождения от работы.",
            ln_code=ln,
        )
    row.append(periods)
    b.result(row)
    w.req(row, t("LN_STATE"), eln.ln_state, "ln_state")
    w.opt(row, t("LN_HASH"), eln.ln_hash)
    return b.row


def _int(value: str | None, ln: str, path: str) -> int | None:
    if value is None or not str(value).strip():
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        raise FssRequestError(
            f"ЭЛН {ln}: поле «{field_title(path)}» должно быть числом.", detail=path, ln_code=ln
        ) from None


# ----------------------------------------------------------------------------------------------
# The registry message
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowsetAttributes:
    """The rowset's attributes: version, software, its version, author, phone, e-mail."""

    software: str
    software_version: str
    author: str = ""
    phone: str = ""
    email: str = ""


@dataclass
class AssembledRegistry:
    """The unsigned prParseFilelnlpu envelope and what each row carries."""

    document: etree._ElementTree
    rows: list[BuiltRow]

    @property
    def payload(self) -> etree._Element:
        body = self.document.getroot().find(f"{{{SOAP11}}}Body")
        assert body is not None
        return body[0]


def assemble_registry(
    items: Sequence[RowInput | Eln],
    ogrn: str,
    attributes: RowsetAttributes,
    version: ProtocolVersion | str = ProtocolVersion.V20,
    *,
    resend_signed: bool = False,
) -> AssembledRegistry:
    """The prParseFilelnlpu envelope (not yet signed by the МО) for 1..30 ELNs.

    The stored signed blocks are pasted in verbatim and their Security blocks are put into the
    Header; every pasted block is checked to keep its canonical form.
    """
    v = ProtocolVersion(str(version))
    if not items:
        raise FssRequestError("Реестр ЭЛН пуст: нечего передавать.")
    if len(items) > MAX_ROWS:
        raise FssRequestError(
            f"В одном сообщении можно передать не более {MAX_ROWS} ЭЛН, а выбрано {len(items)}; "
            "разбейте реестр на части.",
            detail=f"{len(items)} rows",
        )
    built = [build_row(it, v, resend_signed=resend_signed) for it in items]
    codes = [r.ln_code for r in built]
    dupes = sorted({c for c in codes if codes.count(c) > 1})
    if dupes:
        raise FssRequestError(
            f"ЭЛН {', '.join(dupes)} включён в сообщение дважды.", ln_code=dupes[0]
        )
    envelope = etree.Element(
        _q(SOAP11, "Envelope"), nsmap={"soapenv": SOAP11, "wsu": WSU, "xsi": XSI}
    )
    header = etree.SubElement(envelope, _q(SOAP11, "Header"))
    body = etree.SubElement(envelope, _q(SOAP11, "Body"))
    if v is ProtocolVersion.V20:
        request = _sub(body, _q(MO, "prParseFilelnlpuRequest"), {None: MO, "ns2": COM})
        etree.SubElement(request, _q(MO, "ogrn")).text = ogrn
        rowset = etree.SubElement(etree.SubElement(request, _q(MO, "pXmlFile")), _q(MO, "rowset"))
        attr_ns, version_text = COM, "2.0"
    else:
        outer = _sub(body, _q(V11, "prParseFilelnlpu"), {None: V11, "fss": V11})
        request = etree.SubElement(outer, _q(V11, "request"))
        etree.SubElement(request, _q(V11, "ogrn")).text = ogrn
        rowset = etree.SubElement(etree.SubElement(request, _q(V11, "pXmlFile")), _q(V11, "ROWSET"))
        attr_ns, version_text = V11, "1.1"
    for name, value in (
        ("version", version_text),
        ("software", attributes.software),
        ("version_software", attributes.software_version),
        ("author", attributes.author),
        ("phone", attributes.phone),
        ("email", attributes.email),
    ):
        rowset.set(_q(attr_ns, name), value)
    slots: dict[etree._Element, bytes] = {}
    for r in built:
        rowset.append(r.element)
        r.element.set(_WSU_ID, profile.row_id(r.ln_code))
        slots.update(r.slots)
        for security in r.securities:
            slot = etree.SubElement(header, _SLOT)
            slots[slot] = security
    if slots:
        try:
            document = splice(envelope.getroottree(), slots)
        except GostError as exc:
            raise FssRequestError(
                "Сохранённый подписанный блок нельзя вставить в сообщение без изменения его "
                "канонической формы.",
                detail=str(exc),
            ) from None
    else:
        document = etree.fromstring(etree.tostring(envelope)).getroottree()
    for r in built:  # the placeholders belong to the old tree; point at the new rows
        r.element = profile.find_row(document, r.ln_code)
        r.slots = {}
    return AssembledRegistry(document, built)


def canonical(element_bytes: bytes) -> bytes:
    """Exclusive canonical form of a stored fragment (tests and diagnostics)."""
    return exc_c14n(parse_element(element_bytes, what="the fragment"))
