"""Tolerant reading of the Fund's (verified) replies, v2.0 and v1.1 alike.

Elements are matched by local name, case-insensitively and ignoring underscores, so
``requestId``/``REQUEST_ID``, ``lnCode``/``LN_CODE``, ``data``/``Data``/``DATA`` and
``outRowset``/``OUT_ROWSET`` are the same name; namespaces are ignored (the ``mo``/``com``
split is not relied on). Where the XSD and the spec's examples disagree both are accepted
(protocol.md §6): ``info/infoRowset/infoRow`` and ``info/rowset/row``,
``data/outRowset/responseRow`` and ``data/outRowset/row``, the v1.1 wrappers
``FileOperationsLnUser…Out`` / ``fileOperationsLnUser…Out`` / ``WSResult``. Unknown elements
are ignored (e.g. ``treatHistory``, ``mseInvalidLoss``).

The functions take the verified response element (the Body's child); nothing here checks
signatures.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from lxml import etree

from eln_tui.core.domain.codes import STATE_NEW
from eln_tui.core.domain.model import (
    CareRecord,
    Eln,
    Employer,
    Gender,
    HospitalBreach,
    LnResult,
    Lpu,
    Patient,
    Source,
    TreatPeriod,
)
from eln_tui.core.fss.errors import ReplyFormatError
from eln_tui.core.fss.results import (
    LnData,
    LnListEntry,
    RowError,
    RowResult,
    WsResult,
)


def norm(name: str) -> str:
    return name.replace("_", "").lower()


def local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def children(el: etree._Element | None, *names: str) -> list[etree._Element]:
    if el is None:
        return []
    wanted = {norm(n) for n in names}
    return [c for c in el if isinstance(c.tag, str) and norm(local(c)) in wanted]


def child(el: etree._Element | None, *names: str) -> etree._Element | None:
    found = children(el, *names)
    return found[0] if found else None


def is_nil(el: etree._Element) -> bool:
    return el.get("{http://www.w3.org/2001/XMLSchema-instance}nil") in ("true", "1")


def text(el: etree._Element | None, *names: str) -> str | None:
    node = child(el, *names) if names else el
    if node is None or is_nil(node):
        return None
    value = "".join(str(t) for t in node.itertext()).strip()
    return value or None


def _int(value: str | None, what: str) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise ReplyFormatError(
            "Ответ СФР содержит нечисловое значение там, где ожидается число.",
            detail=f"{what}={value!r}",
        ) from None


def _date(value: str | None, what: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise ReplyFormatError(
            "Ответ СФР содержит дату в неверном формате.", detail=f"{what}={value!r}"
        ) from None


def _bool(value: str | None, what: str) -> bool | None:
    if value is None:
        return None
    low = value.strip().lower()
    if low in ("true", "1"):
        return True
    if low in ("false", "0"):
        return False
    raise ReplyFormatError(
        "Ответ СФР содержит логическое значение в неверном формате.", detail=f"{what}={value!r}"
    )


_RESULT_FIELDS = ("requestId", "status", "mess")


def result_node(response: etree._Element) -> etree._Element:
    """The element holding requestId/status/mess: the response itself (v2.0) or its wrapper
    (v1.1 ``…Out`` / ``WSResult``)."""
    if children(response, *_RESULT_FIELDS):
        return response
    for c in response:
        if isinstance(c.tag, str) and children(c, *_RESULT_FIELDS):
            return c
    raise ReplyFormatError(
        "Ответ СФР не содержит результата обработки запроса (requestId, status).",
        detail=f"no WSResult in {local(response)}",
    )


def request_id_of(response: etree._Element) -> str | None:
    try:
        return text(result_node(response), "requestId")
    except ReplyFormatError:
        return None


def _row_results(info: etree._Element | None) -> tuple[RowResult, ...]:
    if info is None:
        return ()
    out = []
    for rowset in children(info, "infoRowset", "rowset"):
        for row in children(rowset, "infoRow", "row"):
            code = text(row, "lnCode")
            if code is None:
                raise ReplyFormatError(
                    "В ответе СФР строка результата не содержит номер ЭЛН.", detail="infoRow"
                )
            errors = tuple(
                RowError(text(e, "errCode") or "", text(e, "errMess") or "")
                for errs in children(row, "errors")
                for e in children(errs, "error")
            )
            out.append(
                RowResult(
                    row_no=_int(text(row, "rowNo"), "rowNo"),
                    ln_code=code,
                    status=_int(text(row, "status"), "status"),
                    ln_hash=text(row, "lnHash"),
                    ln_state=text(row, "lnState"),
                    errors=errors,
                )
            )
    return tuple(out)


def ws_result(response: etree._Element) -> WsResult:
    node = result_node(response)
    request_id = text(node, "requestId")
    if request_id is None:
        raise ReplyFormatError("Ответ СФР не содержит идентификатор запроса (requestId).")
    return WsResult(
        request_id=request_id,
        status=_int(text(node, "status"), "status"),
        mess=text(node, "mess"),
        rows=_row_results(child(node, "info")),
    )


def numbers(response: etree._Element) -> tuple[str, ...]:
    """ELN numbers: ``data`` as text (getNewLNNum) or ``data/lnCode*`` / ``DATA/LNNum*``."""
    node = result_node(response)
    data = child(node, "data")
    if data is None or is_nil(data):
        return ()
    items = children(data, "lnCode", "LNNum")
    if items:
        return tuple(v for v in (text(i) for i in items) if v)
    value = text(data)
    return (value,) if value else ()


def _list_rows(response: etree._Element, rowset: str, row: str) -> list[etree._Element]:
    node = result_node(response)
    out: list[etree._Element] = []
    for data in children(node, "data"):
        for rs in children(data, rowset):
            out.extend(children(rs, row))
    return out


def list_entries(response: etree._Element) -> tuple[LnListEntry, ...]:
    """getLNListBySnils / getLNListByDate rows."""
    rows = _list_rows(response, "outRowsetLNListbySnils", "rowLNbySnils") + _list_rows(
        response, "outRowsetLNListbyDate", "rowLNbyDate"
    )
    out = []
    for r in rows:
        code = text(r, "lnCode")
        if code is None:
            raise ReplyFormatError("В ответе СФР строка списка не содержит номер ЭЛН.")
        out.append(
            LnListEntry(
                ln_code=code,
                ln_state=text(r, "lnState"),
                ln_date=_date(text(r, "lnDate"), "lnDate"),
                lpu_ogrn=text(r, "lpuOgrn"),
                snils=text(r, "snils"),
            )
        )
    return tuple(out)


def ln_data_rows(response: etree._Element) -> list[etree._Element]:
    """getLNData rows: ``data/outRowset/responseRow`` (XSD), ``…/row`` (spec), v1.1 ``ROW``."""
    return _list_rows(response, "outRowset", "responseRow") + _list_rows(
        response, "outRowset", "row"
    )


def ln_data(row: etree._Element) -> LnData:
    """One getLNData row as :class:`LnData` (with a domain :class:`Eln`)."""
    ln_code = text(row, "lnCode")
    if ln_code is None:
        raise ReplyFormatError("Ответ СФР на запрос ЭЛН не содержит номер ЭЛН.")

    def t(*names: str) -> str | None:
        return text(row, *names)

    gender = _int(t("gender"), "gender")
    patient = Patient(
        snils=t("snils"),
        surname=t("surname"),
        name=t("name"),
        patronymic=t("patronymic", "PATRONIMIC"),
        birthday=_date(t("birthday"), "birthday"),
        gender=Gender(gender) if gender in (0, 1) else None,
        employment_service_flag=bool(_int(t("BOZ_FLAG"), "BOZ_FLAG")),
    )
    employer = Employer(
        name=t("LPU_EMPLOYER"),
        main_job=_int(t("LPU_EMPL_FLAG"), "LPU_EMPL_FLAG") != 0,
    )
    care: list[CareRecord] = []
    for serv in children(row, "servData"):
        for full in children(serv, "servFullData"):
            care.append(
                CareRecord(
                    relation_code=text(full, "servRelationCode"),
                    dt1=_date(text(full, "servDt1"), "servDt1"),
                    dt2=_date(text(full, "servDt2"), "servDt2"),
                    treatment_type=text(full, "treatmentType"),
                    surname=text(full, "surname"),
                    name=text(full, "name"),
                    patronymic=text(full, "patronymic"),
                    birthday=_date(text(full, "birthday"), "birthday"),
                    reason1=text(full, "reason1"),
                    snils=text(full, "snils"),
                    diagnosis=text(full, "diagnosis"),
                )
            )
    for n in (1, 2):  # v1.1
        relation, fio = t(f"SERV{n}_RELATION_CODE"), t(f"SERV{n}_FIO")
        if relation or fio:
            parts = (fio or "").split()
            care.append(
                CareRecord(
                    relation_code=relation,
                    surname=parts[0] if parts else None,
                    name=parts[1] if len(parts) > 1 else None,
                    patronymic=" ".join(parts[2:]) or None,
                    age_years=_int(t(f"SERV{n}_AGE"), f"SERV{n}_AGE"),
                    age_months=_int(t(f"SERV{n}_MM"), f"SERV{n}_MM"),
                )
            )
    breach = None
    b = child(row, "hospitalBreach")
    if b is not None:
        breach = HospitalBreach(
            code=text(b, "hospitalBreachCode"),
            dt=_date(text(b, "hospitalBreachDt"), "hospitalBreachDt"),
            sent=True,
        )
    periods = []
    for tp in children(row, "treatPeriods"):
        for full in children(tp, "treatFullPeriod"):
            inner = child(full, "treatPeriod")
            periods.append(
                TreatPeriod(
                    dt1=_date(text(inner, "treatDt1"), "treatDt1"),
                    dt2=_date(text(inner, "treatDt2"), "treatDt2"),
                    doctor=text(inner, "treatDoctor"),
                    doctor_role=text(inner, "treatDoctorRole"),
                    id_doctor=text(inner, "idDoctor"),
                    chairman=text(full, "treatChairman"),
                    chairman_role=text(full, "treatChairmanRole"),
                    sent=True,
                )
            )
    result = None
    r = child(row, "lnResult")
    if r is not None:
        result = LnResult(
            return_date_lpu=_date(text(r, "returnDateLpu"), "returnDateLpu"),
            mse_result=text(r, "mseResult"),
            other_state_dt=_date(text(r, "otherStateDt"), "otherStateDt"),
            next_ln_code=text(r, "nextLnCode"),
            sent=True,
        )
    mse_dt1 = _date(t("mseDt1"), "mseDt1")
    eln = Eln(
        ln_code=ln_code,
        electronic=True,
        written_agreement_flag=bool(_bool(t("writtenAgreementFlag"), "writtenAgreementFlag")),
        unconditional=_bool(t("unconditional"), "unconditional") is not False,
        patient=patient,
        employer=employer,
        lpu=Lpu(name=t("lpuName"), address=t("lpuAddress"), ogrn=t("lpuOgrn"), id_mo=t("idMo")),
        primary_flag=_bool(t("primaryFlag"), "primaryFlag") is not False,
        prev_ln_code=t("prevLnCode"),
        duplicate_flag=bool(_bool(t("duplicateFlag"), "duplicateFlag")),
        previously_issued_code=t("previouslyIssuedCode"),
        ln_date=_date(t("lnDate"), "lnDate"),
        reason1=t("reason1"),
        reason2=t("reason2"),
        reason3=t("reason3"),
        diagnos=t("diagnos"),
        parent_code=t("parentCode"),
        date1=_date(t("date1"), "date1"),
        date2=_date(t("date2"), "date2"),
        voucher_no=t("voucherNo"),
        voucher_ogrn=t("voucherOgrn"),
        serv_data=care,
        pregn12w_flag=_bool(t("pregn12wFlag"), "pregn12wFlag"),
        intermittent_method_flag=_bool(t("intermittentMethodFlag"), "intermittentMethodFlag"),
        hospital_dt1=_date(t("hospitalDt1"), "hospitalDt1"),
        hospital_dt2=_date(t("hospitalDt2"), "hospitalDt2"),
        hospital_breach=breach,
        mse_dt1=mse_dt1,
        mse_dt2=_date(t("mseDt2"), "mseDt2"),
        mse_dt3=_date(t("mseDt3"), "mseDt3"),
        mse_invalid_group=t("mseInvalidGroup"),
        mse_sent=mse_dt1 is not None,
        treat_periods=periods,
        ln_result=result,
        ln_state=t("lnState") or STATE_NEW,
        ln_hash=t("lnHash"),
        source=Source.FSS,
    )
    return LnData(
        ln_code=ln_code,
        snils=patient.snils,
        ln_state=t("lnState"),
        ln_hash=t("lnHash"),
        eln=eln,
    )


def response_name_matches(response: etree._Element, expected_local: str) -> bool:
    return norm(local(response)) == norm(expected_local)


def element_names(elements: Iterable[etree._Element]) -> str:
    return ", ".join(local(e) for e in elements)
