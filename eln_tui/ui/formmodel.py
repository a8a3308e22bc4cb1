"""Field paths of the ELN form: reading and writing model values by path (no Textual here).

A path names one attribute of :class:`~eln_tui.core.domain.model.Eln` the way ФЛК violations do
(``"patient.snils"``, ``"treat_periods[1].dt2"``, ``"hospital_breach.code"``). Form widgets carry
their path; :func:`widget_id` turns it into a DOM id so a violation can move focus to its field.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from eln_tui.core.domain.model import Eln, HospitalBreach, LnResult

_SEGMENT = re.compile(r"^([a-z_0-9]+)(?:\[(\d+)\])?$")
_CREATE = {"hospital_breach": HospitalBreach, "ln_result": LnResult}


def _segments(path: str) -> list[tuple[str, int | None]]:
    out: list[tuple[str, int | None]] = []
    for part in path.split("."):
        match = _SEGMENT.match(part)
        if match is None:
            raise ValueError(f"not a field path: {path!r}")
        out.append((match[1], int(match[2]) if match[2] is not None else None))
    return out


def get_path(obj: Any, path: str) -> Any:
    """The value at ``path``, or None when an intermediate object or index is missing."""
    for name, index in _segments(path):
        if obj is None:
            return None
        obj = getattr(obj, name)
        if index is not None:
            if obj is None or index >= len(obj):
                return None
            obj = obj[index]
    return obj


def set_path(eln: Eln, path: str, value: Any) -> None:
    """Set the value at ``path`` in place, creating the breach / result block when needed."""
    segments = _segments(path)
    obj: Any = eln
    for name, index in segments[:-1]:
        child = getattr(obj, name)
        if child is None and name in _CREATE:
            child = _CREATE[name]()
            setattr(obj, name, child)
        if index is not None:
            child = child[index]
        obj = child
    name, index = segments[-1]
    if index is not None:
        getattr(obj, name)[index] = value
    else:
        setattr(obj, name, value)


def tidy(eln: Eln) -> Eln:
    """Drop an empty, unsigned breach or result block (the form creates them on demand)."""
    breach = eln.hospital_breach
    if breach is not None and breach.signature is None and not breach.code and breach.dt is None:
        eln.hospital_breach = None
    result = eln.ln_result
    if result is not None and result.signature is None and result.is_empty():
        eln.ln_result = None
    return eln


def widget_id(path: str) -> str:
    """DOM id of the field of ``path``: ``treat_periods[0].dt1`` → ``f-treat_periods-0-dt1``."""
    return "f-" + re.sub(r"[^0-9A-Za-z_]+", "-", path).strip("-")


def parents(path: str) -> list[str]:
    """``path`` and its ancestors, most specific first: ``a[1].b`` → ``a[1].b``, ``a[1]``, ``a``."""
    out = [path]
    while True:
        if path.endswith("]"):
            path = path[: path.rindex("[")]
        elif "." in path:
            path = path[: path.rindex(".")]
        else:
            break
        out.append(path)
    return out


# --- dates as the form shows them --------------------------------------------------------------

DATE_FORMAT = "%d.%m.%Y"


def format_date(value: date | None) -> str:
    return value.strftime(DATE_FORMAT) if value is not None else ""


def format_datetime(value: datetime | None) -> str:
    return value.astimezone().strftime("%d.%m.%Y %H:%M") if value is not None else ""


def parse_date(text: str) -> date | None:
    """``ДД.ММ.ГГГГ`` (also ``ДДММГГГГ``, ``ДД.ММ.ГГ`` and ISO ``ГГГГ-ММ-ДД``); '' → None.

    Raises ValueError for text that is not a date.
    """
    text = text.strip()
    if not text:
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return date.fromisoformat(text)
    if re.fullmatch(r"\d{8}", text):
        return datetime.strptime(text, "%d%m%Y").date()
    if re.fullmatch(r"\d{1,2}\.\d{1,2}\.\d{4}", text):
        return datetime.strptime(text, DATE_FORMAT).date()
    if re.fullmatch(r"\d{1,2}\.\d{1,2}\.\d{2}", text):
        return datetime.strptime(text, "%d.%m.%y").date()
    raise ValueError(text)
