"""The operations of FileOperationsLnService and whether each may be repeated automatically."""

from __future__ import annotations

import enum


class Operation(enum.StrEnum):
    """An operation, named as in the specification and the SOAPAction of v2.0."""

    GET_NEW_LN_NUM = "getNewLNNum"
    GET_NEW_LN_NUM_RANGE = "getNewLNNumRange"
    GET_EXISTING_LN_NUM_RANGE = "getExistingLNNumRange"
    PR_PARSE_FILELNLPU = "prParseFilelnlpu"
    PR_PARSE_FILE_NUMBERSLPU = "prParseFileNumberslpu"
    GET_LN_DATA = "getLNData"
    GET_LN_LIST_BY_SNILS = "getLNListBySnils"
    GET_LN_LIST_BY_DATE = "getLNListByDate"
    DISABLE_LN = "disableLn"

    @property
    def safe_to_retry(self) -> bool:
        """True for operations that only read the Fund's state.

        Only these are repeated after a network failure or a timeout. The others change state
        at the Fund, and a lost reply does not mean the Fund did nothing: repeating
        getNewLNNum/getNewLNNumRange would allot a second batch of numbers (the first one is
        recovered with getExistingLNNumRange), repeating prParseFilelnlpu would send rows with a
        now stale ``lnHash`` or a period twice, repeating disableLn or prParseFileNumberslpu
        would be refused (already terminated / already returned) and hide the first outcome.
        """
        return self in _READ_ONLY

    @property
    def signs_rows(self) -> bool:
        """prParseFilelnlpu is signed per row (``ELN_<n>``); every other operation on the Body."""
        return self is Operation.PR_PARSE_FILELNLPU

    @property
    def label(self) -> str:
        """Russian name of the operation for messages and the exchange journal."""
        return _TITLES[self]


_READ_ONLY = frozenset(
    {
        Operation.GET_EXISTING_LN_NUM_RANGE,
        Operation.GET_LN_DATA,
        Operation.GET_LN_LIST_BY_SNILS,
        Operation.GET_LN_LIST_BY_DATE,
    }
)

_TITLES = {
    Operation.GET_NEW_LN_NUM: "запрос номера ЭЛН",
    Operation.GET_NEW_LN_NUM_RANGE: "запрос диапазона номеров ЭЛН",
    Operation.GET_EXISTING_LN_NUM_RANGE: "запрос ранее выданных номеров ЭЛН",
    Operation.PR_PARSE_FILELNLPU: "передача реестра ЭЛН",
    Operation.PR_PARSE_FILE_NUMBERSLPU: "возврат неиспользованных номеров ЭЛН",
    Operation.GET_LN_DATA: "запрос данных ЭЛН",
    Operation.GET_LN_LIST_BY_SNILS: "запрос ЭЛН по СНИЛС",
    Operation.GET_LN_LIST_BY_DATE: "запрос ЭЛН по дате",
    Operation.DISABLE_LN: "прекращение действия ЭЛН",
}
