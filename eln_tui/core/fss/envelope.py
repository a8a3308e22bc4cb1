"""The SOAP envelope the client writes around a request payload.

``soapenv`` prefix for the envelope namespace (the live service needs it, protocol.md §9),
``wsu`` declared on the envelope (the Body and the rows get ``wsu:Id``), no WS-Addressing
headers; the payload's own namespace as the default namespace, as in the Fund's examples.
"""

from __future__ import annotations

from typing import Any, cast

from lxml import etree

from gostsign.xml.ns import WSU, XSI

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
MO = "http://www.fss.ru/integration/types/eln/mo/v01"
COM = "http://www.fss.ru/integration/types/eln/v01"


def _rebuild(
    src: etree._Element, parent: etree._Element | None, nsmap: dict[str | None, str]
) -> etree._Element:
    if parent is None:
        el = etree.Element(src.tag, nsmap=cast(Any, nsmap))
    else:
        el = etree.SubElement(parent, src.tag)
    for name, value in src.attrib.items():
        el.set(name, value)
    el.text = src.text
    for c in src:
        if isinstance(c.tag, str):
            _rebuild(c, el, nsmap).tail = c.tail
    return el


def with_default_namespace(payload: etree._Element) -> etree._Element:
    """A copy of ``payload`` whose own namespace is the default one (``ns2`` for the v2.0
    shared types, as the Fund writes them)."""
    ns = etree.QName(payload).namespace
    nsmap: dict[str | None, str] = {None: ns} if ns else {}
    if ns == MO:
        nsmap["ns2"] = COM
    return _rebuild(payload, None, nsmap)


def envelope_for(payload: etree._Element) -> etree._ElementTree:
    """A new unsigned envelope with ``payload`` (copied) as the Body's only child."""
    envelope = etree.Element(
        f"{{{SOAP11}}}Envelope", nsmap={"soapenv": SOAP11, "wsu": WSU, "xsi": XSI}
    )
    etree.SubElement(envelope, f"{{{SOAP11}}}Header")
    body = etree.SubElement(envelope, f"{{{SOAP11}}}Body")
    body.append(with_default_namespace(payload))
    # Parse once more so that the document is exactly what its serialisation says.
    return etree.fromstring(etree.tostring(envelope)).getroottree()
