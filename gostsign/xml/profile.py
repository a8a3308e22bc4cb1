"""The Fund's signature profile (protocol.md §4.2, §4.6, §8): who signs what, under which actor.

| signed element | wsu:Id | actor |
|---|---|---|
| soapenv:Body (all operations but prParseFilelnlpu) | ``OGRN_<ОГРН>`` | ``…/actor/mo/<ОГРН>`` |
| ROW / row | ``ELN_<n>`` | ``…/actor/mo/<ОГРН>/ELN_<n>`` |
| HOSPITAL_BREACH / hospitalBreach | ``ELN_<n>_1_doc`` | ``…/actor/doc/<n>_1_doc`` |
| LN_RESULT / lnResult | ``ELN_<n>_2_doc`` | ``…/actor/doc/<n>_2_doc`` |
| TREAT_PERIOD / treatPeriod, period k=1..3 | ``ELN_<n>_<2+k>_doc`` | ``…/doc/<n>_<2+k>_doc`` |
| TREAT_FULL_PERIOD / treatFullPeriod, period k | ``ELN_<n>_<2+k>_vk`` | ``…/doc/<n>_<2+k>_vk`` |
| the Fund's reply Body | ``OGRN_<ОГРН ФСС>`` | ``…/actor/fss/ca/<ОГРН ФСС>`` |

Signing helpers find (or mark) the element and sign it; :func:`verify` adds the profile's
checks to :func:`gostsign.xml.wssec.verify`; :func:`verify_request` and :func:`verify_reply`
also demand that what the reader will use is covered.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from lxml import etree

from gostsign.errors import InvalidInput
from gostsign.signer import Signer
from gostsign.x509 import Certificate, CertificateRevocationList
from gostsign.xml import wssec
from gostsign.xml.errors import SignatureNotCovering
from gostsign.xml.soap import raise_for_fault
from gostsign.xml.wssec import (
    Reason,
    SignatureResult,
    VerificationReport,
    body_of,
    envelope_of,
    find_by_id,
    local_name,
    set_wsu_id,
)

ACTOR_BASE = "http://eln.fss.ru/actor/"
#: ОГРН of the Fund's central office (ЦА ФСС), the signer of every reply.
FSS_OGRN = "1027739443236"

_OGRN_RE = r"(\d{13}|\d{15})"
_LN_RE = r"(\d{1,16})"

RowNames = frozenset({"ROW", "row"})
LN_CODE_NAMES = frozenset({"LN_CODE", "lnCode"})
_BLOCK_NAMES = {
    1: frozenset({"HOSPITAL_BREACH", "hospitalBreach"}),
    2: frozenset({"LN_RESULT", "lnResult"}),
}
TREAT_PERIOD_NAMES = frozenset({"TREAT_PERIOD", "treatPeriod"})
TREAT_FULL_PERIOD_NAMES = frozenset({"TREAT_FULL_PERIOD", "treatFullPeriod"})
TREAT_PERIODS_NAMES = frozenset({"TREAT_PERIODS", "treatPeriods"})


# ----------------------------------------------------------------------------------------------
# Ids and actors
# ----------------------------------------------------------------------------------------------


def _ogrn(ogrn: str) -> str:
    ogrn = str(ogrn).strip()
    if not re.fullmatch(_OGRN_RE, ogrn):
        raise InvalidInput(f"ОГРН must have 13 (or 15, ОГРНИП) digits, got {ogrn!r}")
    return ogrn


def _ln(ln_code: str) -> str:
    ln_code = str(ln_code).strip()
    if not re.fullmatch(_LN_RE, ln_code):
        raise InvalidInput(f"an ELN number is digits only, got {ln_code!r}")
    return ln_code


def _doc_block(block: int) -> int:
    if block not in (1, 2, 3, 4, 5):
        raise InvalidInput(f"a doctor's block is 1..5, got {block}")
    return block


def _vk_block(block: int) -> int:
    if block not in (3, 4, 5):
        raise InvalidInput(f"a VK block is 3..5 (period 1..3), got {block}")
    return block


def body_id(ogrn: str) -> str:
    return f"OGRN_{_ogrn(ogrn)}"


def mo_actor(ogrn: str) -> str:
    return f"{ACTOR_BASE}mo/{_ogrn(ogrn)}"


def row_id(ln_code: str) -> str:
    return f"ELN_{_ln(ln_code)}"


def row_actor(ogrn: str, ln_code: str) -> str:
    return f"{ACTOR_BASE}mo/{_ogrn(ogrn)}/ELN_{_ln(ln_code)}"


def doctor_id(ln_code: str, block: int) -> str:
    return f"ELN_{_ln(ln_code)}_{_doc_block(block)}_doc"


def doctor_actor(ln_code: str, block: int) -> str:
    return f"{ACTOR_BASE}doc/{_ln(ln_code)}_{_doc_block(block)}_doc"


def vk_id(ln_code: str, block: int) -> str:
    return f"ELN_{_ln(ln_code)}_{_vk_block(block)}_vk"


def vk_actor(ln_code: str, block: int) -> str:
    return f"{ACTOR_BASE}doc/{_ln(ln_code)}_{_vk_block(block)}_vk"


def fund_actor(ogrn: str = FSS_OGRN) -> str:
    return f"{ACTOR_BASE}fss/ca/{_ogrn(ogrn)}"


def period_block(period: int) -> int:
    """Block number of treatment period 1..3 (3..5)."""
    if period not in (1, 2, 3):
        raise InvalidInput(f"a treatment period is 1..3, got {period}")
    return period + 2


IdKind = Literal["body", "row", "doc", "vk"]
ActorKind = Literal["mo", "mo-row", "doc", "vk", "fund"]


@dataclass(frozen=True)
class IdInfo:
    kind: IdKind
    ogrn: str | None = None
    ln_code: str | None = None
    block: int | None = None


@dataclass(frozen=True)
class ActorInfo:
    kind: ActorKind
    ogrn: str | None = None
    ln_code: str | None = None
    block: int | None = None


def parse_id(element_id: str) -> IdInfo | None:
    if m := re.fullmatch(rf"OGRN_{_OGRN_RE}", element_id):
        return IdInfo("body", ogrn=m[1])
    if m := re.fullmatch(rf"ELN_{_LN_RE}", element_id):
        return IdInfo("row", ln_code=m[1])
    if m := re.fullmatch(rf"ELN_{_LN_RE}_([1-5])_doc", element_id):
        return IdInfo("doc", ln_code=m[1], block=int(m[2]))
    if m := re.fullmatch(rf"ELN_{_LN_RE}_([3-5])_vk", element_id):
        return IdInfo("vk", ln_code=m[1], block=int(m[2]))
    return None


def parse_actor(actor: str) -> ActorInfo | None:
    base = re.escape(ACTOR_BASE)
    if m := re.fullmatch(rf"{base}mo/{_OGRN_RE}", actor):
        return ActorInfo("mo", ogrn=m[1])
    if m := re.fullmatch(rf"{base}mo/{_OGRN_RE}/ELN_{_LN_RE}", actor):
        return ActorInfo("mo-row", ogrn=m[1], ln_code=m[2])
    if m := re.fullmatch(rf"{base}doc/{_LN_RE}_([1-5])_doc", actor):
        return ActorInfo("doc", ln_code=m[1], block=int(m[2]))
    if m := re.fullmatch(rf"{base}doc/{_LN_RE}_([3-5])_vk", actor):
        return ActorInfo("vk", ln_code=m[1], block=int(m[2]))
    if m := re.fullmatch(rf"{base}fss/ca/{_OGRN_RE}", actor):
        return ActorInfo("fund", ogrn=m[1])
    return None


def expected_actor(element_id: str) -> str | None:
    """The actor the table gives for an Id (None when it depends on the МО's ОГРН)."""
    info = parse_id(element_id)
    if info is None or info.kind == "row":
        return None
    if info.kind == "body":
        return None
    assert info.ln_code is not None and info.block is not None
    if info.kind == "doc":
        return doctor_actor(info.ln_code, info.block)
    return vk_actor(info.ln_code, info.block)


def actor_matches_id(actor: str, element_id: str) -> str | None:
    """None if ``actor`` may sign ``element_id`` per the table, else the sentence why not."""
    idi = parse_id(element_id)
    if idi is None:
        return f"Id {element_id!r} is none of the Fund's (OGRN_…, ELN_…, ELN_…_n_doc, ELN_…_n_vk)"
    act = parse_actor(actor)
    if idi.kind == "body":
        assert idi.ogrn is not None
        ok = act is not None and act.kind in ("mo", "fund") and act.ogrn == idi.ogrn
        if not ok:
            return (
                f"actor {actor} does not match Id {element_id}: expected {mo_actor(idi.ogrn)} "
                f"(МО) or {fund_actor(idi.ogrn)} (Fund)"
            )
        return None
    assert idi.ln_code is not None
    if idi.kind == "row":
        if act is None or act.kind != "mo-row" or act.ln_code != idi.ln_code:
            return (
                f"actor {actor} does not match Id {element_id}: expected "
                f"{ACTOR_BASE}mo/<ОГРН>/ELN_{idi.ln_code}"
            )
        return None
    assert idi.block is not None
    want = (
        doctor_actor(idi.ln_code, idi.block)
        if idi.kind == "doc"
        else vk_actor(idi.ln_code, idi.block)
    )
    if actor != want:
        return f"actor {actor} does not match Id {element_id}: expected {want}"
    return None


# ----------------------------------------------------------------------------------------------
# Finding the elements
# ----------------------------------------------------------------------------------------------


def _local_children(parent: etree._Element, names: frozenset[str]) -> list[etree._Element]:
    return [c for c in parent if isinstance(c.tag, str) and local_name(c) in names]


def _ln_code_of(row: etree._Element) -> str | None:
    codes = _local_children(row, LN_CODE_NAMES)
    if len(codes) != 1:
        return None
    return (codes[0].text or "").strip() or None


def rows(doc: etree._ElementTree | etree._Element) -> list[etree._Element]:
    """Every ROW/row inside the Body (prParseFilelnlpu)."""
    body = body_of(envelope_of(doc))
    return [el for el in body.iter(etree.Element) if local_name(el) in RowNames]


def find_row(doc: etree._ElementTree | etree._Element, ln_code: str) -> etree._Element:
    """The row for ``ln_code``: by its Id ``ELN_<n>``, else by its lnCode child."""
    ln_code = _ln(ln_code)
    by_id = [
        el for el in find_by_id(envelope_of(doc), row_id(ln_code)) if local_name(el) in RowNames
    ]
    if len(by_id) == 1:
        return by_id[0]
    if len(by_id) > 1:
        raise InvalidInput(f"{len(by_id)} rows carry the Id {row_id(ln_code)}")
    by_code = [r for r in rows(doc) if _ln_code_of(r) == ln_code]
    if len(by_code) != 1:
        raise InvalidInput(
            f"{'no' if not by_code else len(by_code)} row(s) of ELN {ln_code} in the message"
        )
    return by_code[0]


def _period(row: etree._Element, period: int) -> etree._Element:
    periods_parent = _local_children(row, TREAT_PERIODS_NAMES)
    if len(periods_parent) != 1:
        raise InvalidInput("the row has no treatPeriods")
    full = _local_children(periods_parent[0], TREAT_FULL_PERIOD_NAMES)
    if not 1 <= period <= len(full):
        raise InvalidInput(f"the row has {len(full)} treatment period(s), not period {period}")
    return full[period - 1]


def find_block(
    doc: etree._ElementTree | etree._Element, ln_code: str, block: int, *, vk: bool = False
) -> etree._Element:
    """The doctor's (or with ``vk`` the VK chairman's) block ``block`` of ELN ``ln_code``."""
    row = find_row(doc, ln_code)
    if vk:
        return _period(row, _vk_block(block) - 2)
    block = _doc_block(block)
    if block in _BLOCK_NAMES:
        found = _local_children(row, _BLOCK_NAMES[block])
        if len(found) != 1:
            names = "/".join(sorted(_BLOCK_NAMES[block]))
            raise InvalidInput(f"the row of ELN {ln_code} has no (single) {names}")
        return found[0]
    full = _period(row, block - 2)
    inner = _local_children(full, TREAT_PERIOD_NAMES)
    if len(inner) != 1:
        raise InvalidInput(f"treatment period {block - 2} has no (single) treatPeriod")
    return inner[0]


def locate(doc: etree._ElementTree | etree._Element, element_id: str) -> etree._Element:
    """The element ``element_id`` names: the one carrying it, else the one the table puts it on
    (``OGRN_…`` the Body, ``ELN_<n>`` the row of ELN n, ``ELN_<n>_<k>_doc|vk`` its block), which
    then gets the ``wsu:Id``. InvalidInput if there is none or more than one."""
    envelope = envelope_of(doc)
    found = find_by_id(envelope, element_id)
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise InvalidInput(f"{len(found)} elements carry the Id {element_id!r}; it must be unique")
    info = parse_id(element_id)
    if info is None:
        raise InvalidInput(f"no element has wsu:Id={element_id!r}")
    if info.kind == "body":
        element = body_of(envelope)
    elif info.kind == "row":
        assert info.ln_code is not None
        element = find_row(envelope, info.ln_code)
    else:
        assert info.ln_code is not None and info.block is not None
        element = find_block(envelope, info.ln_code, info.block, vk=info.kind == "vk")
    set_wsu_id(element, element_id)
    return element


# ----------------------------------------------------------------------------------------------
# Signing helpers
# ----------------------------------------------------------------------------------------------


def sign_body(
    doc: etree._ElementTree | etree._Element,
    ogrn: str,
    signer: Signer,
    *,
    with_comments: bool = True,
    mchd_uuid: str | None = None,
    check_validity: bool = True,
) -> etree._Element:
    """The МО's signature of the Body (every operation except prParseFilelnlpu).

    Sets ``wsu:Id="OGRN_<ogrn>"`` on the Body if missing. ``#WithComments`` by default, as
    the Fund's examples and replies (the same bytes when there are no comments).
    """
    body = body_of(envelope_of(doc))
    set_wsu_id(body, body_id(ogrn))
    return wssec.sign(
        doc,
        body_id(ogrn),
        mo_actor(ogrn),
        signer,
        with_comments=with_comments,
        mchd_uuid=mchd_uuid,
        check_validity=check_validity,
    )


def sign_request(
    doc: etree._ElementTree | etree._Element,
    ogrn: str,
    signer: Signer,
    *,
    mchd_uuid: str | None = None,
    check_validity: bool = True,
) -> list[etree._Element]:
    """The МО's signatures a request needs: every row of prParseFilelnlpu (by its lnCode),
    or the Body of any other operation. Returns the new Security header blocks."""
    if is_row_operation(doc):
        found = rows(doc)
        if not found:
            raise InvalidInput("the prParseFilelnlpu request has no rows")
        out = []
        for row in found:
            code = _ln_code_of(row)
            if code is None:
                raise InvalidInput("a row has no (single) lnCode/LN_CODE")
            out.append(
                sign_row(
                    doc, ogrn, code, signer, mchd_uuid=mchd_uuid, check_validity=check_validity
                )
            )
        return out
    return [sign_body(doc, ogrn, signer, mchd_uuid=mchd_uuid, check_validity=check_validity)]


def sign_fund_reply(
    doc: etree._ElementTree | etree._Element,
    signer: Signer,
    *,
    ogrn: str = FSS_OGRN,
    check_validity: bool = True,
) -> etree._Element:
    """The Fund's signature of a reply Body (for the FSS emulator)."""
    body = body_of(envelope_of(doc))
    set_wsu_id(body, body_id(ogrn))
    return wssec.sign(
        doc,
        body_id(ogrn),
        fund_actor(ogrn),
        signer,
        with_comments=True,
        check_validity=check_validity,
    )


def sign_row(
    doc: etree._ElementTree | etree._Element,
    ogrn: str,
    ln_code: str,
    signer: Signer,
    *,
    with_comments: bool = False,
    mchd_uuid: str | None = None,
    check_validity: bool = True,
) -> etree._Element:
    """The МО's signature of the row of ELN ``ln_code`` (sets ``wsu:Id="ELN_<n>"``)."""
    row = find_row(doc, ln_code)
    set_wsu_id(row, row_id(ln_code))
    return wssec.sign(
        doc,
        row_id(ln_code),
        row_actor(ogrn, ln_code),
        signer,
        with_comments=with_comments,
        mchd_uuid=mchd_uuid,
        check_validity=check_validity,
    )


def sign_doctor_block(
    doc: etree._ElementTree | etree._Element,
    ln_code: str,
    block: int,
    signer: Signer,
    *,
    with_comments: bool = False,
    check_validity: bool = True,
) -> etree._Element:
    """A doctor's signature of block 1 (hospitalBreach), 2 (lnResult) or 3..5 (treatPeriod)."""
    element = find_block(doc, ln_code, block)
    set_wsu_id(element, doctor_id(ln_code, block))
    return wssec.sign(
        doc,
        doctor_id(ln_code, block),
        doctor_actor(ln_code, block),
        signer,
        with_comments=with_comments,
        check_validity=check_validity,
    )


def sign_vk_block(
    doc: etree._ElementTree | etree._Element,
    ln_code: str,
    block: int,
    signer: Signer,
    *,
    with_comments: bool = False,
    check_validity: bool = True,
) -> etree._Element:
    """The VK chairman's signature of treatFullPeriod (block 3..5 = period 1..3)."""
    element = find_block(doc, ln_code, block, vk=True)
    set_wsu_id(element, vk_id(ln_code, block))
    return wssec.sign(
        doc,
        vk_id(ln_code, block),
        vk_actor(ln_code, block),
        signer,
        with_comments=with_comments,
        check_validity=check_validity,
    )


# ----------------------------------------------------------------------------------------------
# Verification
# ----------------------------------------------------------------------------------------------


def request_ogrn(doc: etree._ElementTree | etree._Element) -> str | None:
    """The ``ogrn`` parameter of a request (``Body/<op>/ogrn`` or ``Body/<op>/request/ogrn``)."""
    body = body_of(envelope_of(doc))
    for op in body:
        if not isinstance(op.tag, str):
            continue
        for level in (op, *[c for c in op if isinstance(c.tag, str)]):
            found = _local_children(level, frozenset({"ogrn"}))
            if len(found) == 1 and found[0].text and found[0].text.strip():
                return found[0].text.strip()
    return None


def is_row_operation(doc: etree._ElementTree | etree._Element) -> bool:
    body = body_of(envelope_of(doc))
    ops = [c for c in body if isinstance(c.tag, str)]
    return len(ops) == 1 and local_name(ops[0]).startswith("prParseFilelnlpu")


def _ancestor(el: etree._Element, names: frozenset[str]) -> etree._Element | None:
    for a in el.iterancestors():
        if local_name(a) in names:
            return a
    return None


def _placement_problem(res: SignatureResult, info: IdInfo, envelope: etree._Element) -> str | None:
    el = res.element
    assert el is not None and res.reference_id is not None
    name = local_name(el)
    if info.kind == "body":
        if el.tag != wssec.BODY or el.getparent() is not envelope:
            return f"Id {res.reference_id} must be on the envelope's soapenv:Body, not on {name}"
        return None
    body = body_of(envelope)
    if not any(a is body for a in el.iterancestors()):
        return f"Id {res.reference_id} is on {name} outside the SOAP Body"
    if info.kind == "row":
        if name not in RowNames:
            return f"Id {res.reference_id} must be on a row, not on {name}"
        code = _ln_code_of(el)
        if code is not None and code != info.ln_code:
            return f"Id {res.reference_id} is on the row of ELN {code}"
        return None
    row = _ancestor(el, RowNames)
    if row is None:
        return f"Id {res.reference_id} is on {name} outside any row"
    code = _ln_code_of(row)
    if code is not None and code != info.ln_code:
        return f"Id {res.reference_id} is inside the row of ELN {code}"
    assert info.block is not None
    if info.kind == "vk" or info.block >= 3:
        full = el if info.kind == "vk" else el.getparent()
        wanted = TREAT_FULL_PERIOD_NAMES if info.kind == "vk" else TREAT_PERIOD_NAMES
        if name not in wanted or full is None or local_name(full) not in TREAT_FULL_PERIOD_NAMES:
            return f"Id {res.reference_id} must be on {'/'.join(sorted(wanted))}, not on {name}"
        parent = full.getparent()
        siblings = _local_children(parent, TREAT_FULL_PERIOD_NAMES) if parent is not None else []
        position = next((i for i, s in enumerate(siblings) if s is full), -1) + 1
        if position != info.block - 2:
            return (
                f"Id {res.reference_id} belongs to treatment period {info.block - 2}, but it is "
                f"on period {position}"
            )
        return None
    if name not in _BLOCK_NAMES[info.block]:
        return (
            f"Id {res.reference_id} must be on {'/'.join(sorted(_BLOCK_NAMES[info.block]))}, "
            f"not on {name}"
        )
    return None


def _org_ogrn(res: SignatureResult) -> str | None:
    cert = res.certificate
    if cert is None:
        return None
    return cert.ogrn or cert.ogrnip


def check_profile(
    report: VerificationReport,
    envelope: etree._Element,
    *,
    ogrn: str | None = None,
    fund_certificate: Certificate | None = None,
    fund_ogrn: str | None = None,
) -> None:
    """Add the Fund's profile problems to every signature of ``report`` (in place)."""
    for res in report.signatures:
        actor = res.actor or ""
        if res.token_id is not None and res.token_id != actor and res.token_id != res.reference_id:
            res.add(
                Reason.TOKEN_ID_MISMATCH,
                f"the BinarySecurityToken's Id {res.token_id!r} differs from the actor {actor}",
            )
        if res.reference_id is None:
            continue
        why = actor_matches_id(actor, res.reference_id)
        if why is not None:
            reason = (
                Reason.UNKNOWN_ID if parse_id(res.reference_id) is None else Reason.ACTOR_MISMATCH
            )
            res.add(reason, why)
        info = parse_id(res.reference_id)
        if info is not None and res.element is not None:
            placement = _placement_problem(res, info, envelope)
            if placement is not None:
                res.add(Reason.ID_MISPLACED, placement)
        act = parse_actor(actor)
        if act is None:
            continue
        if act.kind in ("mo", "mo-row"):
            if ogrn is not None and act.ogrn != ogrn:
                res.add(
                    Reason.OGRN_MISMATCH,
                    f"actor {actor} names ОГРН {act.ogrn}, the request is for ОГРН {ogrn}",
                )
            cert_ogrn = _org_ogrn(res)
            wanted = ogrn or act.ogrn
            if res.certificate is None:
                pass
            elif cert_ogrn is None:
                if res.mchd_uuid is None:
                    res.add(
                        Reason.OGRN_MISSING,
                        "the МО's certificate has no ОГРН (ОГРНИП) and the signature carries no "
                        "МЧД (power of attorney)",
                    )
            elif cert_ogrn != wanted:
                res.add(
                    Reason.OGRN_MISMATCH,
                    f"the МО's certificate has ОГРН {cert_ogrn}, the request's is {wanted}",
                )
        elif act.kind == "fund" and fund_certificate is not None:
            if res.certificate is None or res.certificate.certificate != fund_certificate:
                signed_with = (
                    wssec.who(res.certificate.certificate)
                    if res.certificate
                    else "an unreadable certificate"
                )
                res.add(
                    Reason.NOT_FUND_CERTIFICATE,
                    f"the reply is signed with {signed_with}, not with the configured Fund "
                    f"certificate {wssec.who(fund_certificate)}",
                )
            elif fund_ogrn is not None and act.ogrn != fund_ogrn:
                res.add(
                    Reason.ACTOR_MISMATCH,
                    f"actor {actor} is not the Fund's ({fund_actor(fund_ogrn)})",
                )


def verify(
    doc: etree._ElementTree | etree._Element,
    *,
    at: datetime | date | None = None,
    trusted: Iterable[Certificate] | None = None,
    intermediates: Iterable[Certificate] = (),
    crls: Iterable[CertificateRevocationList] = (),
    ogrn: str | None = None,
    fund_certificate: Certificate | None = None,
    profile: bool = True,
) -> VerificationReport:
    """Verify every signature and (with ``profile``) apply the Fund's rules.

    ``ogrn``: the request's ОГРН (default: the ``ogrn`` parameter of the payload, if any).
    ``fund_certificate``: signatures under a ``…/fss/ca/…`` actor must use exactly it.
    """
    envelope = envelope_of(doc)
    report = wssec.verify(envelope, at=at, trusted=trusted, intermediates=intermediates, crls=crls)
    if profile:
        if ogrn is None:
            ogrn = request_ogrn(envelope)
        fund_ogrn = fund_certificate.subject.ogrn if fund_certificate is not None else None
        check_profile(
            report,
            envelope,
            ogrn=ogrn,
            fund_certificate=fund_certificate,
            fund_ogrn=fund_ogrn,
        )
    return report


def verify_request(
    doc: etree._ElementTree | etree._Element,
    *,
    ogrn: str | None = None,
    at: datetime | date | None = None,
    trusted: Iterable[Certificate] | None = None,
    intermediates: Iterable[Certificate] = (),
    crls: Iterable[CertificateRevocationList] = (),
) -> VerificationReport:
    """Verify an МО request as the Fund does (S20 §4.2).

    Beyond :func:`verify`: for prParseFilelnlpu every row must be covered by a valid
    signature of ``…/mo/<ОГРН>/ELN_<n>``; for any other operation the Body by
    ``…/mo/<ОГРН>``. Missing coverage is reported as message-level problems.
    """
    envelope = envelope_of(doc)
    if ogrn is None:
        ogrn = request_ogrn(envelope)
    if ogrn is None:
        raise InvalidInput("the request carries no ogrn parameter; give the МО's ОГРН")
    ogrn = _ogrn(ogrn)
    report = verify(
        envelope, at=at, trusted=trusted, intermediates=intermediates, crls=crls, ogrn=ogrn
    )
    if is_row_operation(envelope):
        found = rows(envelope)
        if not found:
            report.problems.append(wssec.Problem(Reason.NO_SIGNATURE, "the request has no rows"))
        for row in found:
            code = _ln_code_of(row) or (row.get(wssec.WSU_ID) or "")[len("ELN_") :]
            try:
                report.require(row, actor=row_actor(ogrn, code))
            except (SignatureNotCovering, InvalidInput) as exc:
                report.problems.append(wssec.Problem(Reason.NO_SIGNATURE, str(exc)))
    else:
        try:
            report.require(body_of(envelope), actor=mo_actor(ogrn))
        except SignatureNotCovering as exc:
            report.problems.append(wssec.Problem(Reason.NO_SIGNATURE, str(exc)))
    return report


def verify_reply(
    doc: etree._ElementTree | etree._Element,
    fund_certificate: Certificate,
    *,
    at: datetime | date | None = None,
    trusted: Iterable[Certificate] | None = None,
    intermediates: Iterable[Certificate] = (),
    crls: Iterable[CertificateRevocationList] = (),
) -> VerificationReport:
    """Verify a (decrypted) reply of the Fund; return the report if its Body is covered.

    A SOAP Fault raises :class:`~gostsign.xml.errors.FundFault`. The Body must be covered by
    a valid signature of ``…/fss/ca/<ОГРН of the Fund certificate>`` made with exactly
    ``fund_certificate``; otherwise :class:`SignatureNotCovering` (an InvalidSignature) is
    raised with the reason.
    """
    envelope = envelope_of(doc)
    raise_for_fault(envelope)
    report = verify(
        envelope,
        at=at,
        trusted=trusted,
        intermediates=intermediates,
        crls=crls,
        fund_certificate=fund_certificate,
    )
    report.require(body_of(envelope), accept=_is_fund_signature)
    return report


def _is_fund_signature(res: SignatureResult) -> bool:
    act = parse_actor(res.actor or "")
    return act is not None and act.kind == "fund"
