"""An ELN as JSON (docs/eln-json.md): the integration path for other MIS.

Export writes every field of :class:`~eln_tui.core.domain.model.Eln` (dates ISO 8601, enums by
value). Import accepts the *editable* fields only: what the Fund or the workstation keeps
(signatures, sent marks, state, hash, storage ids, termination) is refused, so JSON can never
forge a signature or a transfer.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from datetime import date, datetime
from typing import Any

from eln_tui.core.domain.model import Eln
from eln_tui.core.errors import ElnError

#: Keys set by the workstation or the Fund, never by an import.
PROTECTED = frozenset(
    {
        "id",
        "ln_state",
        "ln_hash",
        "source",
        "transfer_error",
        "last_sent_at",
        "termination",
        "version",
        "mse_sent",
        "doctor_signature",
        "chairman_signature",
        "signature",
        "sent",
        "number_from_pool",
    }
)


class ElnJsonError(ElnError):
    """The JSON does not describe an ELN; ``message`` names the field (Russian)."""


def to_json(eln: Eln) -> dict[str, Any]:
    return typing.cast(dict[str, Any], _dump(eln))


def _dump(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _dump(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return [_dump(v) for v in value]
    return value


def from_json(data: Any, base: Eln | None = None) -> Eln:
    """Build an ELN from ``data`` (over ``base``: keys absent keep ``base``'s values)."""
    if not isinstance(data, dict):
        raise ElnJsonError("Файл ЭЛН должен содержать объект JSON.")
    eln = base.copy() if base is not None else Eln()
    _load_into(eln, data, "")
    return eln


def _load_into(obj: Any, data: dict[str, Any], prefix: str) -> None:
    hints = typing.get_type_hints(type(obj))
    names = {f.name for f in dataclasses.fields(obj)}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if key not in names:
            raise ElnJsonError(f"Поле «{path}» не известно формату ЭЛН.")
        if key in PROTECTED:
            raise ElnJsonError(
                f"Поле «{path}» заполняет рабочее место или СФР; его нельзя задать в файле."
            )
        setattr(obj, key, _convert(hints[key], value, path, getattr(obj, key)))


def _convert(hint: Any, value: Any, path: str, current: Any = None) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            return None
        return _convert(args[0], value, path, current)
    if origin is list:
        if not isinstance(value, list):
            raise ElnJsonError(f"Поле «{path}» должно быть списком.")
        (item,) = typing.get_args(hint)
        return [_convert(item, v, f"{path}[{i}]") for i, v in enumerate(value)]
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise ElnJsonError(f"Поле «{path}» должно быть объектом.")
        target = dataclasses.replace(current) if current is not None else typing.cast(Any, hint)()
        _load_into(target, value, f"{path}.")
        return target
    if value is None:  # optional fields returned above: this one needs a value
        raise ElnJsonError(f"Поле «{path}» не может быть пустым (null).")
    try:
        if hint is bool:
            if not isinstance(value, bool):
                raise ValueError
            return value
        if hint is int:
            # ids and ages: the databases' INTEGER is 32-bit on PostgreSQL
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**31:
                raise ValueError
            return value
        if hint is str:
            if not isinstance(value, str):
                raise ValueError
            return value
        if hint is date:
            return date.fromisoformat(value)
        if hint is datetime:
            return datetime.fromisoformat(value)
        if isinstance(hint, type) and issubclass(hint, enum.Enum):
            return hint(value)
    except (ValueError, TypeError):
        raise ElnJsonError(f"Поле «{path}»: недопустимое значение {value!r}.") from None
    return value
