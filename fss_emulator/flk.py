"""Row-level format-logical control (ФЛК) of the rules the Fund itself enforces.

The rule set is domain.md §10 (official constraints: dictionaries, identifiers with check digits,
lengths, date order) plus those of the seed's 25 rules (domain.md §9) that restate the Fund's own
dictionaries or 1089н; docs/emulator.md lists which rule is which. Each failure is an
``(errCode, errMess)`` pair from :data:`fss_emulator.texts.ROW_ERRORS`.
"""

from __future__ import annotations

import re
from datetime import date

from fss_emulator.dialects import Version
from fss_emulator.model import Eln, Record, Value
from fss_emulator.texts import row_error

Problem = tuple[str, str]

REASONS = frozenset(f"{n:02d}" for n in range(1, 16))  # §14.1
EXTRA_CODES = frozenset({"017", "018", "019", "020", "021"})  # §14.2
RELATIONS = frozenset({"38", "39", "40", "41", "42"})  # §14.3
BREACHES = frozenset({"23", "24", "25", "26", "27", "28"})  # §14.4
MSE_RESULTS = frozenset({"31", "32", "33", "34", "35", "36", "37"})  # §14.5
TREATMENT_TYPES = frozenset({"1", "2", "3"})  # S20 §14.8
CARE_REASONS = frozenset({"09", "12", "13", "14", "15"})
VOUCHER_REASON2 = frozenset({"017", "018", "019"})
CHAIRMAN_ROLE = "ПРЕД ВК"
DOCTOR_ALONE_DAYS = 15  # 1089н; domain.md §9 rule 21

_LN = re.compile(r"\d{12}")


def snils_ok(snils: str) -> bool:
    """СНИЛС control number (domain.md §10): numbers up to 001-001-998 are not checked."""
    if not re.fullmatch(r"\d{11}", snils):
        return False
    number, control = snils[:9], int(snils[9:])
    if int(number) <= 1001998:
        return True
    total = sum(int(d) * (9 - i) for i, d in enumerate(number))
    if total > 101:
        total %= 101
    expected = 0 if total in (100, 101) else total
    return control == expected


def ogrn_ok(ogrn: str) -> bool:
    """ОГРН (13 digits, mod 11) or ОГРНИП (15 digits, mod 13) check digit (domain.md §10)."""
    if re.fullmatch(r"\d{13}", ogrn):
        return int(ogrn[:12]) % 11 % 10 == int(ogrn[12])
    if re.fullmatch(r"\d{15}", ogrn):
        return int(ogrn[:14]) % 13 % 10 == int(ogrn[14])
    return False


def _day(value: Value) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _in(code: Value, allowed: frozenset[str]) -> bool:
    return isinstance(code, str) and code in allowed


def check(eln: Eln, version: Version) -> list[Problem]:
    """Every ФЛК failure of one row (empty when it passes)."""
    out: list[Problem] = []
    f = eln.fields
    ln = eln.ln_code
    if not _LN.fullmatch(ln):
        out.append(row_error("E_1001"))
    for name in ("prevLnCode", "previouslyIssuedCode"):
        value = f.get(name)
        if isinstance(value, str) and not _LN.fullmatch(value):
            out.append(row_error("E_1026", field=name))
    snils = f.get("snils")
    if isinstance(snils, str) and not snils_ok(snils):
        out.append(row_error("E_1002", snils=snils))
    for record in eln.serv:
        s = record.get("snils")
        if isinstance(s, str) and not snils_ok(s):
            out.append(row_error("E_1002", snils=s))
    for name, what in (("lpuOgrn", "МО"), ("voucherOgrn", "санатория")):
        value = f.get(name)
        if isinstance(value, str) and not ogrn_ok(value):
            out.append(row_error("E_1003", what=what, ogrn=value))
    if f.get("primaryFlag") is False and not f.get("prevLnCode"):
        out.append(row_error("E_1004"))
    if version == "2.0" and f.get("duplicateFlag") is True and not f.get("previouslyIssuedCode"):
        out.append(row_error("E_1021"))
    out.extend(_reasons(eln, version))
    out.extend(_codes(eln, version))
    out.extend(_periods(eln))
    out.extend(_closing(eln))
    return out


def _reasons(eln: Eln, version: Version) -> list[Problem]:
    out: list[Problem] = []
    f = eln.fields
    reason1, reason2 = f.get("reason1"), f.get("reason2")
    if eln.serv and version == "2.0":
        # v2.0 care ELNs carry the reason per family member (domain.md §6, rule 5)
        for record in eln.serv:
            code = record.get("reason1")
            if code is None:
                out.append(row_error("E_1005"))
            elif not _in(code, REASONS):
                out.append(row_error("E_1006", field="servFullData/reason1", value=code))
            elif _in(code, CARE_REASONS) and record.get("treatmentType") is None:
                out.append(row_error("E_1007", code=code))
    elif reason1 is None:
        out.append(row_error("E_1005"))
    if reason1 is not None and not _in(reason1, REASONS):
        out.append(row_error("E_1006", field="reason1", value=reason1))
    if reason2 is not None and not _in(reason2, EXTRA_CODES):
        out.append(row_error("E_1006", field="reason2", value=reason2))
    if f.get("gender") == "0":
        for name, code in (("reason1", "05"), ("reason2", "020")):
            if f.get(name) == code:
                out.append(row_error("E_1015", field=name, code=code))
        if f.get("pregn12wFlag") is True:
            out.append(row_error("E_1015", field="pregn12wFlag", code="1"))
    if reason1 == "05" and f.get("date1") is None and reason2 != "020":
        out.append(row_error("E_1016"))
    if reason1 == "08" or _in(reason2, VOUCHER_REASON2):
        needed = ("voucherNo", "voucherOgrn", "date1", "date2")
        if any(f.get(n) is None for n in needed):
            out.append(row_error("E_1017", code=reason2 if reason1 != "08" else reason1))
    if reason2 == "018" and reason1 not in ("02", "04"):
        out.append(row_error("E_1018"))
    return out


def _codes(eln: Eln, version: Version) -> list[Problem]:
    out: list[Problem] = []
    gender = eln.fields.get("gender")
    if gender is not None and gender not in ("0", "1"):
        out.append(row_error("E_1006", field="gender", value=gender))
    group = eln.fields.get("mseInvalidGroup")
    groups = {"1", "2", "3", "9"} if version == "2.0" else {"1", "2", "3"}
    if group is not None and group not in groups:
        out.append(row_error("E_1006", field="mseInvalidGroup", value=group))
    for record in eln.serv:
        rel, kind = record.get("servRelationCode"), record.get("treatmentType")
        if rel is not None and not _in(rel, RELATIONS):
            out.append(row_error("E_1006", field="servRelationCode", value=rel))
        if kind is not None and not _in(kind, TREATMENT_TYPES):
            out.append(row_error("E_1006", field="treatmentType", value=kind))
    for name in ("SERV1_RELATION_CODE", "SERV2_RELATION_CODE"):
        rel = eln.extras.get(name)
        if rel is not None and not _in(rel, RELATIONS):
            out.append(row_error("E_1006", field=name, value=rel))
    breach = eln.hospital_breach
    if breach is not None:
        code = breach.get("hospitalBreachCode")
        if not _in(code, BREACHES):
            out.append(row_error("E_1006", field="hospitalBreachCode", value=code))
    if eln.ln_result is not None:
        code = eln.ln_result.get("mseResult")
        if code is not None and not _in(code, MSE_RESULTS):
            out.append(row_error("E_1006", field="mseResult", value=code))
    return out


def _periods(eln: Eln) -> list[Problem]:
    out: list[Problem] = []
    periods = eln.periods
    if not periods:
        return [row_error("E_1022")]
    first = _day(periods[0].get("treatDt1"))
    previous_end: date | None = None
    maternity = eln.fields.get("reason1") == "05"
    for k, record in enumerate(periods, start=1):
        start, end = _day(record.get("treatDt1")), _day(record.get("treatDt2"))
        if end is None:
            out.append(row_error("E_1010", period=k))
        elif start is not None and start > end:
            out.append(row_error("E_1008", period=k))
        if previous_end is not None and start is not None and (start - previous_end).days != 1:
            out.append(row_error("E_1009", period=k))
        previous_end = end
        if not record.get("treatDoctorRole") or not record.get("treatDoctor"):
            out.append(row_error("E_1011", period=k))
        chairman, role = record.get("treatChairman"), record.get("treatChairmanRole")
        if role is not None and role != CHAIRMAN_ROLE:
            out.append(row_error("E_1014"))
        long_case = (
            first is not None and end is not None and (end - first).days + 1 > DOCTOR_ALONE_DAYS
        )
        if long_case and not maternity and (chairman is None or role is None):
            out.append(row_error("E_1013", period=k))
    return out


def _last_end(periods: list[Record]) -> date | None:
    ends = [d for d in (_day(p.get("treatDt2")) for p in periods) if d is not None]
    return max(ends) if ends else None


def _closing(eln: Eln) -> list[Problem]:
    out: list[Problem] = []
    last = _last_end(eln.periods)
    h1, h2 = _day(eln.fields.get("hospitalDt1")), _day(eln.fields.get("hospitalDt2"))
    if h1 is not None and h2 is not None and h2 < h1:
        out.append(row_error("E_1024"))
    breach = eln.hospital_breach
    if breach is not None:
        when = _day(breach.get("hospitalBreachDt"))
        if when is not None and last is not None and when > last:
            out.append(row_error("E_1023"))
    result = eln.ln_result
    if result is None:
        return out
    returned = _day(result.get("returnDateLpu"))
    code = result.get("mseResult")
    if returned is None and (code is None or result.get("otherStateDt") is None):
        out.append(row_error("E_1025"))
    if returned is not None and last is not None and returned <= last:
        out.append(row_error("E_1012"))
    next_ln = result.get("nextLnCode")
    if isinstance(next_ln, str) and not _LN.fullmatch(next_ln):
        out.append(row_error("E_1026", field="nextLnCode"))
    if code in ("32", "33"):
        needed = ("mseDt1", "mseDt2", "mseDt3", "mseInvalidGroup")
        if any(eln.fields.get(n) is None for n in needed):
            out.append(row_error("E_1019", code=code))
    return out
