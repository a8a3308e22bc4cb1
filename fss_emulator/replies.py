"""Reply envelopes, shaped like the Fund's (examples 6.1.3–10.1.3) and valid against its XSD.

v2.0: ``soap:Envelope`` declaring ``ds``/``wsse``/``wsu`` as the Fund does, the result element in
the ``mo`` namespace as default with ``ns2`` = ``com``; WSResult's children in ``com``,
operation-specific children in ``mo`` (protocol.md §2.2). Names follow the XSD
(``info/infoRowset/infoRow``, ``data/outRowset/responseRow``); ``names="printed"`` gives the
spec examples' ``rowset/row`` and ``row`` instead (ex §8.1.4, §9.1.4), which the XSD does not
allow, for testing a client's tolerance. v1.1 follows FileOperationsLnPort.1.xsd.

SOAP Faults are sent in clear (§5.6) with prefix ``S`` as the live service does (§9).
"""

from __future__ import annotations

import uuid
from typing import Literal

from lxml import etree

from fss_emulator.dialects import (
    COM_NS,
    DS,
    FAULT_NS,
    MO_NS,
    SOAP11,
    V11_NS,
    WSSE,
    WSU,
    XSI,
    Version,
    operations,
)
from fss_emulator.model import response_row_v20, row_v11
from fss_emulator.operations import InfoRow, Result

Names = Literal["xsd", "printed"]


def _el(parent: etree._Element, ns: str, name: str, value: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, f"{{{ns}}}{name}")
    if value is not None:
        el.text = value
    return el


def _nil(parent: etree._Element, ns: str, name: str) -> etree._Element:
    el = _el(parent, ns, name)
    el.set(f"{{{XSI}}}nil", "true")
    return el


def envelope(version: Version) -> tuple[etree._Element, etree._Element]:
    """An empty reply envelope (root, Body) in the Fund's style."""
    nsmap = {"soap": SOAP11, "ds": DS, "wsse": WSSE, "wsu": WSU}
    root = etree.Element(f"{{{SOAP11}}}Envelope", nsmap=nsmap)
    etree.SubElement(root, f"{{{SOAP11}}}Header")
    body = etree.SubElement(root, f"{{{SOAP11}}}Body")
    return root, body


def build(result: Result, request_id: str, version: Version, names: Names = "xsd") -> bytes:
    root, body = envelope(version)
    if version == "2.0":
        _v20(body, result, request_id, names)
    else:
        _v11(body, result, request_id)
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True)


# -- v2.0 ---------------------------------------------------------------------------------------


def _info_v20(parent: etree._Element, rows: list[InfoRow], names: Names) -> None:
    info = _el(parent, COM_NS, "info")
    rowset = _el(info, COM_NS, "infoRowset" if names == "xsd" else "rowset")
    for r in rows:
        row = _el(rowset, COM_NS, "infoRow" if names == "xsd" else "row")
        if r.row_no is None:
            _nil(row, COM_NS, "rowNo")
        else:
            _el(row, COM_NS, "rowNo", str(r.row_no))
        _el(row, COM_NS, "lnCode", r.ln_code)
        if r.ln_hash is not None:
            _el(row, COM_NS, "lnHash", r.ln_hash)
        if r.ln_state is not None:
            _el(row, COM_NS, "lnState", r.ln_state)
        _el(row, COM_NS, "status", str(r.status))
        if r.errors:
            errors = _el(row, COM_NS, "errors")
            for code, mess in r.errors:
                error = _el(errors, COM_NS, "error")
                _el(error, COM_NS, "errCode", code)
                _el(error, COM_NS, "errMess", mess)


def _v20(body: etree._Element, result: Result, request_id: str, names: Names) -> None:
    op = operations("2.0")[result.operation]
    nsmap = {None: MO_NS, "ns2": COM_NS}
    out = etree.SubElement(body, f"{{{MO_NS}}}{op.response}", nsmap=nsmap)  # type: ignore[arg-type]
    _el(out, COM_NS, "requestId", request_id)
    _el(out, COM_NS, "status", str(result.status))
    if result.mess is not None:
        _el(out, COM_NS, "mess", result.mess)
    if result.info:
        _info_v20(out, result.info, names)
    name = result.operation
    if name == "getNewLNNum":
        if result.number is None:
            _nil(out, MO_NS, "data")
        else:
            _el(out, MO_NS, "data", result.number)
    elif name in ("getNewLNNumRange", "getExistingLNNumRange"):
        if result.numbers:
            data = _el(out, MO_NS, "data")
            for code in result.numbers:
                _el(data, COM_NS, "lnCode", code)
        elif name == "getExistingLNNumRange":
            _nil(out, MO_NS, "data")  # required but nillable
    elif name == "getLNData" and result.eln is not None:
        rowset = _el(_el(out, MO_NS, "data"), MO_NS, "outRowset")
        response_row_v20(rowset, result.eln, "responseRow" if names == "xsd" else "row")
    elif name == "getLNListBySnils" and result.status == 1:
        rows = _el(_el(out, MO_NS, "Data"), MO_NS, "outRowsetLNListbySnils")
        for item in result.by_snils:
            row = _el(rows, MO_NS, "rowLNbySnils")
            for key in ("lnCode", "lnDate", "lnState", "lpuOgrn"):
                _el(row, MO_NS, key, item[key])
    elif name == "getLNListByDate" and result.status == 1:
        rows = _el(_el(out, MO_NS, "data"), MO_NS, "outRowsetLNListbyDate")
        for item in result.by_date:
            row = _el(rows, MO_NS, "rowLNbyDate")
            for key in ("lnCode", "lnState", "snils"):
                _el(row, MO_NS, key, item[key])


# -- v1.1 ---------------------------------------------------------------------------------------


def _v11(body: etree._Element, result: Result, request_id: str) -> None:
    op = operations("1.1")[result.operation]
    response = etree.SubElement(body, f"{{{V11_NS}}}{op.response}", nsmap={"ns1": V11_NS})
    assert op.out_wrapper is not None
    out = _el(response, V11_NS, op.out_wrapper)
    _el(out, V11_NS, "REQUEST_ID", request_id)
    _el(out, V11_NS, "STATUS", str(result.status))
    if result.mess is not None:
        _el(out, V11_NS, "MESS", result.mess)
    if result.info:
        rowset = _el(_el(out, V11_NS, "INFO"), V11_NS, "ROWSET")
        for r in result.info:
            row = _el(rowset, V11_NS, "ROW")
            if r.row_no is None:
                _nil(row, V11_NS, "ROW_NO")
            else:
                _el(row, V11_NS, "ROW_NO", str(r.row_no))
            _el(row, V11_NS, "LN_CODE", r.ln_code)
            if r.ln_hash is not None:
                _el(row, V11_NS, "LN_HASH", r.ln_hash)
            if r.ln_state is not None:
                _el(row, V11_NS, "LN_STATE", r.ln_state)
            _el(row, V11_NS, "STATUS", str(r.status))
            if r.errors:
                errors = _el(row, V11_NS, "ERRORS")
                for code, mess in r.errors:
                    error = _el(errors, V11_NS, "ERROR")
                    _el(error, V11_NS, "ERR_CODE", code)
                    _el(error, V11_NS, "ERR_MESS", mess)
    name = result.operation
    if name == "getNewLNNum":
        if result.number is None:
            _nil(out, V11_NS, "DATA")
        else:
            _el(out, V11_NS, "DATA", result.number)
    elif name in ("getNewLNNumRange", "getExistingLNNumRange"):
        if result.numbers:
            data = _el(out, V11_NS, "DATA")
            for code in result.numbers:
                _el(data, V11_NS, "LNNum", code)
        else:
            _nil(out, V11_NS, "DATA")
    elif name == "getLNData" and result.eln is not None:
        rowset = _el(_el(out, V11_NS, "DATA"), V11_NS, "OUT_ROWSET")
        row_v11(rowset, result.eln)
    elif name == "getLNListBySnils" and result.status == 1:
        rows = _el(_el(out, V11_NS, "Data"), V11_NS, "OutRowsetLNListbySnils")
        for item in result.by_snils:
            row = _el(rows, V11_NS, "RowLNbySnils")
            for key, tag in (
                ("lnCode", "LN_CODE"),
                ("lnDate", "LN_DATE"),
                ("lnState", "LN_STATE"),
                ("lpuOgrn", "LPU_OGRN"),
            ):
                _el(row, V11_NS, tag, item[key])
    elif name == "getLNListByDate" and result.status == 1:
        rows = _el(_el(out, V11_NS, "Data"), V11_NS, "OutRowsetLNListbyDate")
        for item in result.by_date:
            row = _el(rows, V11_NS, "RowLNbyDate")
            for key, tag in (("lnCode", "LN_CODE"), ("lnState", "LN_STATE"), ("snils", "SNILS")):
                _el(row, V11_NS, tag, item[key])


# -- faults -------------------------------------------------------------------------------------


def fault(message: str, code: str, version: Version) -> bytes:
    """A clear-text SOAP Fault: v2.0 with ``internalFault{uuid, code, message}`` (Fault.xsd),
    v1.1 with ``SOAPException{message}`` (FileOperationsLnPort.1.xsd)."""
    root = etree.Element(f"{{{SOAP11}}}Envelope", nsmap={"S": SOAP11})
    body = etree.SubElement(root, f"{{{SOAP11}}}Body")
    f = etree.SubElement(body, f"{{{SOAP11}}}Fault")
    etree.SubElement(f, "faultcode").text = "S:Server"
    etree.SubElement(f, "faultstring").text = message
    detail = etree.SubElement(f, "detail")
    if version == "2.0":
        internal = etree.SubElement(detail, f"{{{FAULT_NS}}}internalFault", nsmap={"ns2": FAULT_NS})
        _el(internal, FAULT_NS, "uuid", str(uuid.uuid4()))
        _el(internal, FAULT_NS, "code", code)
        _el(internal, FAULT_NS, "message", message)
    else:
        exc = etree.SubElement(detail, f"{{{V11_NS}}}SOAPException", nsmap={"ns2": V11_NS})
        etree.SubElement(exc, "message").text = message
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True)
