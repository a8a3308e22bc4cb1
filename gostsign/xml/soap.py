"""Recognising a SOAP Fault the Fund sends in clear (protocol.md §5.6, §10)."""

from __future__ import annotations

from lxml import etree

from gostsign.xml import ns
from gostsign.xml.errors import FundFault

_SOAP_NAMESPACES = (ns.SOAP11, ns.SOAP12)


def _text(el: etree._Element | None) -> str | None:
    if el is None:
        return None
    text = "".join(str(t) for t in el.itertext()).strip()
    return text or None


def _child(parent: etree._Element, local: str) -> etree._Element | None:
    for c in parent:
        if isinstance(c.tag, str) and etree.QName(c.tag).localname == local:
            return c
    return None


def _descendant(parent: etree._Element, local: str) -> etree._Element | None:
    for c in parent.iter(etree.Element):
        if etree.QName(c.tag).localname == local and c is not parent:
            return c
    return None


def find_fault(envelope: etree._Element) -> FundFault | None:
    """The Fault in the Body of ``envelope`` as a :class:`FundFault`, or None.

    Any prefix is accepted (the Fund uses ``S:`` and ``soap:``); SOAP 1.1 ``faultcode`` /
    ``faultstring`` and the v2.0 ``internalFault{uuid, code, message}`` detail are read, texts
    verbatim.
    """
    for body in envelope:
        if not isinstance(body.tag, str):
            continue
        q = etree.QName(body.tag)
        if q.localname != "Body" or q.namespace not in _SOAP_NAMESPACES:
            continue
        for fault in body:
            if not isinstance(fault.tag, str):
                continue
            fq = etree.QName(fault.tag)
            if fq.localname != "Fault" or fq.namespace not in _SOAP_NAMESPACES:
                continue
            code = _text(_child(fault, "faultcode"))
            string = _text(_child(fault, "faultstring"))
            if fq.namespace == ns.SOAP12:  # Code/Value and Reason/Text
                code_el = _child(fault, "Code")
                code = code or _text(_child(code_el, "Value") if code_el is not None else None)
                reason = _child(fault, "Reason")
                string = string or _text(reason)
            detail = _child(fault, "detail")
            if detail is None:
                detail = _child(fault, "Detail")
            d_code = d_msg = d_uuid = None
            if detail is not None:
                d_code = _text(_descendant(detail, "code"))
                d_msg = _text(_descendant(detail, "message"))
                d_uuid = _text(_descendant(detail, "uuid"))
            return FundFault(
                code or "?",
                string or d_msg or "(the Fault carries no text)",
                detail_code=d_code,
                detail_message=d_msg,
                detail_uuid=d_uuid,
            )
    return None


def raise_for_fault(envelope: etree._Element) -> None:
    """Raise :class:`FundFault` if the Body holds a SOAP Fault."""
    fault = find_fault(envelope)
    if fault is not None:
        raise fault
