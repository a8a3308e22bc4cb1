"""Signed fragments that are stored and later put, verbatim, into a new message.

A doctor (or VK chairman) signs a block at the moment of the action; the message that carries
it to the Fund is built later (protocol.md §7). The block and its ``wsse:Security`` header
block are therefore kept as bytes (:class:`SignedFragment`) and spliced into the new message.

Exclusive c14n makes a fragment's digest independent of its surroundings as long as each
prefix it uses keeps its namespace. lxml's tree surgery does not guarantee that: appending an
element from another document may drop its namespace declarations in favour of an ancestor's
*other* prefix for the same URI (which changes the canonical form and breaks the signature).
So :func:`splice` never moves foreign elements: it serialises the target message with a
unique placeholder, pastes the fragment's bytes in its place, re-parses the result, and checks
that every pasted fragment has kept its exact canonical form.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from lxml import etree

from gostsign.errors import InvalidInput
from gostsign.signer import Signer
from gostsign.xml import profile, wssec
from gostsign.xml.c14n import exc_c14n
from gostsign.xml.parse import parse as parse_xml
from gostsign.xml.parse import parse_element
from gostsign.xml.wssec import ACTOR, SECURITY, WSU_ID, envelope_of, header_of, set_wsu_id


@dataclass(frozen=True)
class SignedFragment:
    """A signed element and its Security header block, both as standalone UTF-8 XML."""

    element_id: str
    actor: str
    element: bytes
    security: bytes

    def to_dict(self) -> dict[str, str]:
        return {
            "element_id": self.element_id,
            "actor": self.actor,
            "element": self.element.decode("utf-8"),
            "security": self.security.decode("utf-8"),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, str]) -> SignedFragment:
        try:
            return cls(
                element_id=data["element_id"],
                actor=data["actor"],
                element=data["element"].encode("utf-8"),
                security=data["security"].encode("utf-8"),
            )
        except KeyError as exc:
            raise InvalidInput(f"a stored fragment lacks {exc.args[0]!r}") from None


def _standalone(element: etree._Element) -> bytes:
    return etree.tostring(element, encoding="UTF-8", xml_declaration=False, with_tail=False)


def _strip_declaration(data: bytes) -> bytes:
    data = data.strip()
    if data.startswith(b"<?xml"):
        end = data.find(b"?>")
        if end < 0:
            raise InvalidInput("a fragment has an unterminated XML declaration")
        data = data[end + 2 :].lstrip()
    return data


def sign_fragment(
    element: etree._Element | bytes,
    element_id: str,
    actor: str,
    signer: Signer,
    *,
    with_comments: bool = False,
    mchd_uuid: str | None = None,
    check_validity: bool = True,
) -> SignedFragment:
    """Sign an element built exactly as it will travel; return it and its Security as bytes.

    ``element`` may be bytes (parsed safely) or an element (its subtree is used; the
    namespace declarations it needs are written on the fragment's root).
    """
    if isinstance(element, bytes):
        el = parse_element(element, what="the fragment")
    else:
        el = parse_element(_standalone(element), what="the fragment")
    set_wsu_id(el, element_id)
    security = wssec.sign_detached(
        el,
        element_id,
        actor,
        signer,
        with_comments=with_comments,
        mchd_uuid=mchd_uuid,
        check_validity=check_validity,
    )
    return SignedFragment(element_id, actor, _standalone(el), _standalone(security))


def sign_doctor_fragment(
    element: etree._Element | bytes, ln_code: str, block: int, signer: Signer
) -> SignedFragment:
    """A doctor's block (1 hospitalBreach, 2 lnResult, 3..5 treatPeriod) signed for storage."""
    return sign_fragment(
        element, profile.doctor_id(ln_code, block), profile.doctor_actor(ln_code, block), signer
    )


def sign_vk_fragment(
    element: etree._Element | bytes, ln_code: str, block: int, signer: Signer
) -> SignedFragment:
    """A VK chairman's treatFullPeriod (block 3..5) signed for storage."""
    return sign_fragment(
        element, profile.vk_id(ln_code, block), profile.vk_actor(ln_code, block), signer
    )


def _path(node: etree._Element) -> list[int]:
    path: list[int] = []
    while True:
        parent = node.getparent()
        if parent is None:
            return path[::-1]
        path.append(parent.index(node))
        node = parent


def _at(root: etree._Element, path: list[int]) -> etree._Element:
    node = root
    for i in path:
        node = node[i]
    return node


def splice(
    doc: etree._ElementTree | etree._Element,
    replacements: Mapping[etree._Element, bytes],
) -> etree._ElementTree:
    """A new document: ``doc`` with each key element replaced by the element in its bytes.

    The key elements are placeholders in ``doc`` (any element; its tail is kept). ``doc`` is
    left unchanged. Raises InvalidInput if a fragment is not a single element or would not
    keep its canonical form where it is put (e.g. an unprefixed no-namespace fragment under a
    default namespace).
    """
    root = doc.getroot() if isinstance(doc, etree._ElementTree) else doc.getroottree().getroot()
    token = secrets.token_hex(12)
    plan: list[tuple[list[int], etree._Element, etree._Element, bytes, bytes]] = []
    originals: list[tuple[etree._Element, etree._Element]] = []
    pi: etree._Element
    try:
        for i, (placeholder, data) in enumerate(replacements.items()):
            if placeholder.getroottree().getroot() is not root or placeholder is root:
                raise InvalidInput("a placeholder is not an element inside the document")
            fragment = _strip_declaration(data)
            parsed = parse_element(fragment, what="the fragment")
            if parsed.getprevious() is not None or parsed.getnext() is not None:
                raise InvalidInput(
                    "a fragment must be exactly one element (no comment or processing "
                    "instruction around it)"
                )
            canonical = exc_c14n(parsed, with_comments=True)
            pi = etree.ProcessingInstruction("gostsign-splice", f"{token}-{i}")
            pi.tail = placeholder.tail
            parent = placeholder.getparent()
            assert parent is not None
            parent.replace(placeholder, pi)
            originals.append((pi, placeholder))
            plan.append((_path(pi), pi, parsed, fragment, canonical))
        serialized = etree.tostring(root.getroottree(), encoding="UTF-8", xml_declaration=True)
    finally:
        for pi, placeholder in reversed(originals):
            parent = pi.getparent()
            assert parent is not None
            tail = pi.tail
            parent.replace(pi, placeholder)
            placeholder.tail = tail
    for _, pi, _, fragment, _ in plan:
        marker = etree.tostring(pi, with_tail=False)
        if serialized.count(marker) != 1:  # pragma: no cover - the token is random
            raise InvalidInput("could not place a fragment")
        serialized = serialized.replace(marker, fragment)
    new = parse_xml(serialized, what="the assembled message")
    new_root = new.getroot()
    for path, _, parsed, _, canonical in plan:
        placed = _at(new_root, path)
        if exc_c14n(placed, with_comments=True) != canonical:
            raise InvalidInput(
                f"the fragment {wssec._name(parsed)} would change its canonical form here "
                "(its namespaces depend on the surrounding element); build it with explicit "
                "namespace declarations"
            )
    return new


def insert_fragment(
    doc: etree._ElementTree | etree._Element,
    fragment: SignedFragment,
    parent: etree._Element,
    index: int | None = None,
) -> etree._ElementTree:
    """A new document: ``doc`` with the fragment's element put under ``parent`` (at ``index``,
    default last) and its Security block appended to the SOAP Header.

    Refuses a fragment whose Id or actor is already present in the message.
    """
    envelope = envelope_of(doc)
    if wssec.find_by_id(envelope, fragment.element_id):
        raise InvalidInput(f"the message already has an element with Id {fragment.element_id}")
    for existing in envelope.iter(SECURITY):
        if existing.get(ACTOR) == fragment.actor:
            raise InvalidInput(f"the message already has a Security header for {fragment.actor}")
    header = header_of(envelope, create=True)
    assert header is not None
    slot = etree.Element("gostsign-slot")
    if index is None:
        parent.append(slot)
    else:
        parent.insert(index, slot)
    sec_slot = etree.SubElement(header, "gostsign-slot")
    try:
        return splice(envelope, {slot: fragment.element, sec_slot: fragment.security})
    finally:
        parent.remove(slot)
        header.remove(sec_slot)


def replace_with_fragment(
    doc: etree._ElementTree | etree._Element,
    element: etree._Element,
    fragment: SignedFragment,
) -> etree._ElementTree:
    """A new document: ``element`` replaced by the fragment's element (e.g. an unsigned
    treatPeriod by its signed copy), its Security block appended to the Header."""
    envelope = envelope_of(doc)
    others = [e for e in wssec.find_by_id(envelope, fragment.element_id) if e is not element]
    if others:
        raise InvalidInput(f"the message already has an element with Id {fragment.element_id}")
    header = header_of(envelope, create=True)
    assert header is not None
    sec_slot = etree.SubElement(header, "gostsign-slot")
    try:
        return splice(envelope, {element: fragment.element, sec_slot: fragment.security})
    finally:
        header.remove(sec_slot)


def fragment_of(
    doc: etree._ElementTree | etree._Element, element_id: str, actor: str | None = None
) -> SignedFragment:
    """Extract a signed element and its Security block from a message (to store them)."""
    envelope = envelope_of(doc)
    found = wssec.find_by_id(envelope, element_id)
    if len(found) != 1:
        raise InvalidInput(f"{len(found)} elements carry Id {element_id}")
    element = found[0]
    headers = [
        s
        for s in wssec.security_headers(envelope)
        if (actor is None or s.get(ACTOR) == actor)
        and any(r.get("URI") == "#" + element_id for r in s.iter(wssec.REFERENCE))
    ]
    if len(headers) != 1:
        raise InvalidInput(f"{len(headers)} Security headers sign #{element_id}")
    security = headers[0]
    if element.get(WSU_ID) is None:  # pragma: no cover - find_by_id also matches plain Id
        set_wsu_id(element, element_id)
    return SignedFragment(
        element_id, security.get(ACTOR) or "", _standalone(element), _standalone(security)
    )
