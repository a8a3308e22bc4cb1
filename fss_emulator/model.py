"""An ELN as the emulator keeps it: one neutral record for both dialects.

Field names are the v2.0 ones (Eln.xsd, FileOperationsLnMo.xsd); :data:`SCALARS` maps them to
v1.1 (FileOperationsLnPort.1.xsd, domain.md §6). Values are normalised once when read
(``1``/``true`` → True, dates to ``YYYY-MM-DD``, empty elements and ``xsi:nil`` → None), so a row
sent in one dialect compares equal to the same row sent in the other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from lxml import etree

from fss_emulator.dialects import COM_NS, MO_NS, V11_NS, WSU, XSI, Version

Kind = Literal["str", "date", "bool", "int"]
Value = str | bool | None

#: (v2.0 name, v1.1 name or None, kind) of the row's simple children.
SCALARS: tuple[tuple[str, str | None, Kind], ...] = (
    ("unconditional", None, "bool"),
    ("snils", "SNILS", "str"),
    ("surname", "SURNAME", "str"),
    ("name", "NAME", "str"),
    ("patronymic", "PATRONIMIC", "str"),
    ("lnCode", "LN_CODE", "str"),
    ("prevLnCode", "PREV_LN_CODE", "str"),
    ("primaryFlag", "PRIMARY_FLAG", "bool"),
    ("duplicateFlag", "DUPLICATE_FLAG", "bool"),
    ("lnDate", "LN_DATE", "date"),
    ("idMo", None, "str"),
    ("lpuName", "LPU_NAME", "str"),
    ("lpuAddress", "LPU_ADDRESS", "str"),
    ("lpuOgrn", "LPU_OGRN", "str"),
    ("birthday", "BIRTHDAY", "date"),
    ("gender", "GENDER", "int"),
    ("reason1", "REASON1", "str"),
    ("reason2", "REASON2", "str"),
    ("diagnos", "DIAGNOS", "str"),
    ("date1", "DATE1", "date"),
    ("date2", "DATE2", "date"),
    ("voucherNo", "VOUCHER_NO", "str"),
    ("voucherOgrn", "VOUCHER_OGRN", "str"),
    ("pregn12wFlag", "PREGN12W_FLAG", "bool"),
    ("hospitalDt1", "HOSPITAL_DT1", "date"),
    ("hospitalDt2", "HOSPITAL_DT2", "date"),
    ("mseDt1", "MSE_DT1", "date"),
    ("mseDt2", "MSE_DT2", "date"),
    ("mseDt3", "MSE_DT3", "date"),
    ("mseInvalidGroup", "MSE_INVALID_GROUP", "int"),
    ("previouslyIssuedCode", None, "str"),
    ("writtenAgreementFlag", None, "bool"),
    ("intermittentMethodFlag", None, "bool"),
)
_KIND = {name: kind for name, _, kind in SCALARS}
_V11_TO_NAME = {v11: name for name, v11, _ in SCALARS if v11}

#: v1.1-only row fields, kept verbatim (dropped from v2.0 in S20 §1).
V11_EXTRAS: tuple[tuple[str, Kind], ...] = (
    ("BOZ_FLAG", "int"),
    ("LPU_EMPLOYER", "str"),
    ("LPU_EMPL_FLAG", "int"),
    ("REASON3", "str"),
    ("PARENT_CODE", "str"),
    ("SERV1_AGE", "int"),
    ("SERV1_MM", "int"),
    ("SERV1_RELATION_CODE", "str"),
    ("SERV1_FIO", "str"),
    ("SERV2_AGE", "int"),
    ("SERV2_MM", "int"),
    ("SERV2_RELATION_CODE", "str"),
    ("SERV2_FIO", "str"),
)
_EXTRA_KIND = dict(V11_EXTRAS)

SERV_FIELDS: tuple[tuple[str, Kind], ...] = (
    ("servRelationCode", "str"),
    ("servDt1", "date"),
    ("servDt2", "date"),
    ("treatmentType", "str"),
    ("surname", "str"),
    ("name", "str"),
    ("patronymic", "str"),
    ("birthday", "date"),
    ("reason1", "str"),
    ("snils", "str"),
    ("diagnosis", "str"),  # the MO-namespace extension of com:ServFullData
)
BREACH_FIELDS: tuple[tuple[str, str, Kind], ...] = (
    ("hospitalBreachCode", "HOSPITAL_BREACH_CODE", "str"),
    ("hospitalBreachDt", "HOSPITAL_BREACH_DT", "date"),
)
RESULT_FIELDS: tuple[tuple[str, str, Kind], ...] = (
    ("returnDateLpu", "RETURN_DATE_LPU", "date"),
    ("mseResult", "MSE_RESULT", "str"),
    ("otherStateDt", "OTHER_STATE_DT", "date"),
    ("nextLnCode", "NEXT_LN_CODE", "str"),
)
#: treatFullPeriod's own children and its treatPeriod's, flattened into one period record.
CHAIR_FIELDS: tuple[tuple[str, str, Kind], ...] = (
    ("treatChairman", "TREAT_CHAIRMAN", "str"),
    ("treatChairmanRole", "TREAT_CHAIRMAN_ROLE", "str"),
)
PERIOD_FIELDS: tuple[tuple[str, str | None, Kind], ...] = (
    ("treatDt1", "TREAT_DT1", "date"),
    ("treatDt2", "TREAT_DT2", "date"),
    ("idDoctor", None, "str"),
    ("treatDoctorRole", "TREAT_DOCTOR_ROLE", "str"),
    ("treatDoctor", "TREAT_DOCTOR", "str"),
)

_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")


def local(el: etree._Element) -> str:
    return etree.QName(el.tag).localname if isinstance(el.tag, str) else ""


def elements(parent: etree._Element) -> list[etree._Element]:
    return [c for c in parent if isinstance(c.tag, str)]


def child(parent: etree._Element, *names: str) -> etree._Element | None:
    for c in elements(parent):
        if local(c) in names:
            return c
    return None


def children(parent: etree._Element, *names: str) -> list[etree._Element]:
    return [c for c in elements(parent) if local(c) in names]


def text(el: etree._Element | None) -> str | None:
    """Stripped text; None for a missing, empty or ``xsi:nil`` element."""
    if el is None or el.get(f"{{{XSI}}}nil") in ("true", "1"):
        return None
    value = (el.text or "").strip()
    return value or None


def normalise(raw: str | None, kind: Kind) -> Value:
    if raw is None:
        return None
    if kind == "bool":
        return {"true": True, "1": True, "false": False, "0": False}.get(raw.lower(), None)
    if kind == "date":
        m = _DATE.match(raw)  # v1.1 xs:date / xs:dateTime may carry a time or zone
        return m[1] if m else raw
    if kind == "int":
        try:
            return str(int(raw))
        except ValueError:
            return raw
    return raw


def _read(el: etree._Element | None, kind: Kind) -> Value:
    return normalise(text(el), kind)


Record = dict[str, Value]


@dataclass
class Eln:
    """The data of one ELN (what a row carries and getLNData returns)."""

    fields: Record = field(default_factory=dict)
    serv: list[Record] = field(default_factory=list)
    hospital_breach: Record | None = None
    periods: list[Record] = field(default_factory=list)
    ln_result: Record | None = None
    ln_state: str | None = None
    ln_hash: str | None = None
    extras: Record = field(default_factory=dict)

    @property
    def ln_code(self) -> str:
        return str(self.fields.get("lnCode") or "")

    def get(self, name: str) -> Value:
        return self.fields.get(name)

    def to_json(self) -> dict[str, Any]:
        return {
            "fields": self.fields,
            "serv": self.serv,
            "hospitalBreach": self.hospital_breach,
            "periods": self.periods,
            "lnResult": self.ln_result,
            "lnState": self.ln_state,
            "lnHash": self.ln_hash,
            "extras": self.extras,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Eln:
        return cls(
            fields=dict(data.get("fields") or {}),
            serv=list(data.get("serv") or []),
            hospital_breach=data.get("hospitalBreach"),
            periods=list(data.get("periods") or []),
            ln_result=data.get("lnResult"),
            ln_state=data.get("lnState"),
            ln_hash=data.get("lnHash"),
            extras=dict(data.get("extras") or {}),
        )


@dataclass
class ParsedRow:
    """A row of prParseFilelnlpu with the elements its signatures must cover."""

    index: int  # 1-based position in the rowset (rowNo of the reply)
    element: etree._Element
    eln: Eln
    hospital_breach: etree._Element | None
    ln_result: etree._Element | None
    #: per period: (treatFullPeriod, its treatPeriod)
    periods: list[tuple[etree._Element, etree._Element | None]]


def _has_content(record: Record) -> bool:
    return any(v is not None for v in record.values())


def parse_row(row: etree._Element, index: int, version: Version) -> ParsedRow:
    """Read a v2.0 ``row`` or a v1.1 ``ROW`` (already XSD-valid) into an :class:`Eln`."""
    v11 = version == "1.1"
    eln = Eln()
    by_name: dict[str, etree._Element] = {}
    for c in elements(row):
        by_name.setdefault(local(c), c)
    for name, v11_name, kind in SCALARS:
        key = v11_name if v11 else name
        if key is None:
            continue
        eln.fields[name] = _read(by_name.get(key), kind)
    if v11:
        for name, kind in V11_EXTRAS:
            eln.extras[name] = _read(by_name.get(name), kind)
    else:
        serv = by_name.get("servData")
        for full in children(serv, "servFullData") if serv is not None else []:
            eln.serv.append({n: _read(child(full, n), k) for n, k in SERV_FIELDS})

    breach_el = by_name.get("HOSPITAL_BREACH" if v11 else "hospitalBreach")
    if breach_el is not None:
        eln.hospital_breach = {
            n: _read(child(breach_el, v11n if v11 else n), k) for n, v11n, k in BREACH_FIELDS
        }
    result_el = by_name.get("LN_RESULT" if v11 else "lnResult")
    if result_el is not None:
        record = {n: _read(child(result_el, v11n if v11 else n), k) for n, v11n, k in RESULT_FIELDS}
        if _has_content(record):
            eln.ln_result = record
        else:
            result_el = None  # an empty block is not a closing
    periods_el = by_name.get("TREAT_PERIODS" if v11 else "treatPeriods")
    period_els: list[tuple[etree._Element, etree._Element | None]] = []
    if periods_el is not None:
        for full in children(periods_el, "TREAT_FULL_PERIOD" if v11 else "treatFullPeriod"):
            inner = child(full, "TREAT_PERIOD" if v11 else "treatPeriod")
            record = {n: _read(child(full, v11n if v11 else n), k) for n, v11n, k in CHAIR_FIELDS}
            for n, v11n, k in PERIOD_FIELDS:
                key = v11n if v11 else n
                record[n] = _read(child(inner, key), k) if inner is not None and key else None
            eln.periods.append(record)
            period_els.append((full, inner))
    eln.ln_state = text(by_name.get("LN_STATE" if v11 else "lnState"))
    eln.ln_hash = text(by_name.get("LN_HASH" if v11 else "lnHash"))
    return ParsedRow(index, row, eln, breach_el, result_el, period_els)


# ----------------------------------------------------------------------------------------------
# Writing an ELN back (getLNData)
# ----------------------------------------------------------------------------------------------


def _out(value: Value, version: Version) -> str:
    if isinstance(value, bool):
        if version == "1.1":
            return "1" if value else "0"
        return "true" if value else "false"
    return "" if value is None else str(value)


def _sub(parent: etree._Element, ns: str, name: str, value: Value, version: Version) -> None:
    if value is None:
        return
    etree.SubElement(parent, f"{{{ns}}}{name}").text = _out(value, version)


def _nil(parent: etree._Element, ns: str, name: str, value: Value, version: Version) -> None:
    el = etree.SubElement(parent, f"{{{ns}}}{name}")
    if value is None:
        el.set(f"{{{XSI}}}nil", "true")
    else:
        el.text = _out(value, version)


#: responseRow has neither unconditional nor nillable elements (FileOperationsLnMo.xsd).
_RESPONSE_SKIP = frozenset({"unconditional"})


def response_row_v20(parent: etree._Element, eln: Eln, tag: str = "responseRow") -> None:
    """Append a v2.0 ``responseRow`` (or ``row`` as printed in ex §9.1.4) to ``parent``."""
    v: Version = "2.0"
    row = etree.SubElement(parent, f"{{{MO_NS}}}{tag}")
    order = [name for name, _, _ in SCALARS]
    # xs:all: any order; we keep the XSD's, putting the complex blocks where it has them.
    for name in order:
        if name in _RESPONSE_SKIP:
            continue
        if name == "pregn12wFlag" and eln.serv:
            serv = etree.SubElement(row, f"{{{MO_NS}}}servData")
            for record in eln.serv:
                full = etree.SubElement(serv, f"{{{MO_NS}}}servFullData")
                for n, _ in SERV_FIELDS:
                    _sub(full, MO_NS if n == "diagnosis" else COM_NS, n, record.get(n), v)
        if name == "mseDt1" and eln.hospital_breach is not None:
            breach = etree.SubElement(row, f"{{{MO_NS}}}hospitalBreach")
            for n, _, _ in BREACH_FIELDS:
                _sub(breach, COM_NS, n, eln.hospital_breach.get(n), v)
        if name == "previouslyIssuedCode":
            _periods_v20(row, eln)
            if eln.ln_result is not None:
                result = etree.SubElement(row, f"{{{MO_NS}}}lnResult")
                for n, _, _ in RESULT_FIELDS:
                    _sub(result, COM_NS, n, eln.ln_result.get(n), v)
            _sub(row, MO_NS, "lnState", eln.ln_state, v)
            _sub(row, MO_NS, "lnHash", eln.ln_hash, v)
        value = eln.fields.get(name)
        if name == "writtenAgreementFlag" and value is not True:
            continue  # fixed="true": omit rather than contradict the schema
        _sub(row, MO_NS, name, value, v)


def _periods_v20(row: etree._Element, eln: Eln) -> None:
    periods = etree.SubElement(row, f"{{{MO_NS}}}treatPeriods")
    for record in eln.periods:
        full = etree.SubElement(periods, f"{{{MO_NS}}}treatFullPeriod")
        for n, _, _ in CHAIR_FIELDS:
            _sub(full, COM_NS, n, record.get(n), "2.0")
        inner = etree.SubElement(full, f"{{{COM_NS}}}treatPeriod")
        for n, _, _ in PERIOD_FIELDS:
            _sub(inner, COM_NS, n, record.get(n), "2.0")


#: v1.1 ROW children that are required but nillable (FileOperationsLnPort.1.xsd, type ROW).
_V11_NILLABLE = frozenset(
    {
        "LPU_EMPL_FLAG",
        "DATE1",
        "DATE2",
        "SERV1_AGE",
        "SERV1_MM",
        "SERV2_AGE",
        "SERV2_MM",
        "PREGN12W_FLAG",
        "HOSPITAL_DT1",
        "HOSPITAL_DT2",
        "MSE_DT1",
        "MSE_DT2",
        "MSE_DT3",
        "MSE_INVALID_GROUP",
    }
)
_V11_ORDER = (
    "SNILS SURNAME NAME PATRONIMIC BOZ_FLAG LPU_EMPLOYER LPU_EMPL_FLAG LN_CODE PREV_LN_CODE "
    "PRIMARY_FLAG DUPLICATE_FLAG LN_DATE LPU_NAME LPU_ADDRESS LPU_OGRN BIRTHDAY GENDER REASON1 "
    "REASON2 REASON3 DIAGNOS PARENT_CODE DATE1 DATE2 VOUCHER_NO VOUCHER_OGRN SERV1_AGE SERV1_MM "
    "SERV1_RELATION_CODE SERV1_FIO SERV2_AGE SERV2_MM SERV2_RELATION_CODE SERV2_FIO PREGN12W_FLAG "
    "HOSPITAL_DT1 HOSPITAL_DT2 HOSPITAL_BREACH MSE_DT1 MSE_DT2 MSE_DT3 MSE_INVALID_GROUP "
    "TREAT_PERIODS LN_RESULT LN_STATE LN_HASH"
).split()


def _v11_value(eln: Eln, name: str) -> Value:
    if name in _V11_TO_NAME:
        value = eln.fields.get(_V11_TO_NAME[name])
        if name == "REASON1" and value is None:
            # v1.1 requires REASON1; a v2.0 care ELN keeps it per family member
            value = next((s.get("reason1") for s in eln.serv if s.get("reason1")), "")
        return value
    value = eln.extras.get(name)
    if name == "BOZ_FLAG" and value is None:
        return "0"
    return value


def row_v11(parent: etree._Element, eln: Eln) -> None:
    """Append a v1.1 ``ROW`` (getLNData ``OUT_ROWSET``) to ``parent``."""
    v: Version = "1.1"
    row = etree.SubElement(parent, f"{{{V11_NS}}}ROW")
    for name in _V11_ORDER:
        if name == "HOSPITAL_BREACH":
            if eln.hospital_breach is not None:
                breach = etree.SubElement(row, f"{{{V11_NS}}}HOSPITAL_BREACH")
                for n, v11n, _ in BREACH_FIELDS:
                    _nil(breach, V11_NS, v11n, eln.hospital_breach.get(n), v)
        elif name == "TREAT_PERIODS":
            periods = etree.SubElement(row, f"{{{V11_NS}}}TREAT_PERIODS")
            for record in eln.periods:
                full = etree.SubElement(periods, f"{{{V11_NS}}}TREAT_FULL_PERIOD")
                for n, v11n, _ in CHAIR_FIELDS:
                    _sub(full, V11_NS, v11n, record.get(n), v)
                inner = etree.SubElement(full, f"{{{V11_NS}}}TREAT_PERIOD")
                for n, tag, _ in PERIOD_FIELDS:
                    if tag is not None:  # all four are required in v1.1
                        etree.SubElement(inner, f"{{{V11_NS}}}{tag}").text = _out(record.get(n), v)
        elif name == "LN_RESULT":
            if eln.ln_result is not None:
                result = etree.SubElement(row, f"{{{V11_NS}}}LN_RESULT")
                for n, v11n, _ in RESULT_FIELDS:
                    value = eln.ln_result.get(n)
                    if v11n in ("RETURN_DATE_LPU", "OTHER_STATE_DT"):
                        _nil(result, V11_NS, v11n, value, v)
                    else:
                        _sub(result, V11_NS, v11n, value, v)
        elif name == "LN_STATE":
            _sub(row, V11_NS, name, eln.ln_state or "", v)
        elif name == "LN_HASH":
            _sub(row, V11_NS, name, eln.ln_hash, v)
        elif name in _V11_NILLABLE:
            _nil(row, V11_NS, name, _v11_value(eln, name), v)
        elif name in ("SURNAME", "NAME", "LPU_NAME", "REASON1", "SNILS", "LN_CODE", "LPU_OGRN"):
            _sub(row, V11_NS, name, _v11_value(eln, name) or "", v)
        else:
            _sub(row, V11_NS, name, _v11_value(eln, name), v)


def has_wsu_id(el: etree._Element) -> str | None:
    return el.get(f"{{{WSU}}}Id")
