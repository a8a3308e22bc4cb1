"""Helpers of the fault tests: snapshots of the journal's tables, Russian-message checks."""

from __future__ import annotations

import re
from typing import Any

from peewee import Database

from eln_tui.core.storage import models as m

#: What a user can see change: the ELNs, their periods and signed blocks, the number pool and
#: the audit journal (the exchange log and the outbox are the exchange's own bookkeeping).
SNAPSHOT_MODELS: tuple[type[m.BaseModel], ...] = (
    m.Eln,
    m.TreatPeriod,
    m.CareRecord,
    m.Patient,
    m.SignedFragment,
    m.ElnNumber,
    m.AuditEntry,
)

_CYRILLIC = re.compile(r"[А-Яа-яЁё]")
_TECHNICAL = re.compile(r"Traceback|Exception\b|Error\(|errno|<[a-z_.]+ object at", re.I)


def snapshot(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Every row of the tables a fault must leave alone, in primary-key order."""
    out: dict[str, list[dict[str, Any]]] = {}
    for model in SNAPSHOT_MODELS:
        pk = model._meta.primary_key
        rows = model.select().order_by(pk).dicts().bind(db)
        out[model._meta.table_name] = [dict(r) for r in rows]
    return out


def diff(
    before: dict[str, list[dict[str, Any]]], after: dict[str, list[dict[str, Any]]]
) -> dict[str, Any]:
    """Tables whose rows changed: added/removed rows and changed columns per row."""
    out: dict[str, Any] = {}
    for table, rows in after.items():
        old = before[table]
        if rows == old:
            continue
        pk = "id" if rows and "id" in rows[0] else None
        if pk is None:
            out[table] = {"before": old, "after": rows}
            continue
        old_by = {r[pk]: r for r in old}
        new_by = {r[pk]: r for r in rows}
        changes: dict[str, Any] = {}
        for key in old_by.keys() | new_by.keys():
            o, n = old_by.get(key), new_by.get(key)
            if o is None or n is None:
                changes[key] = "added" if o is None else "removed"
            elif o != n:
                changes[key] = sorted(c for c in n if o.get(c) != n.get(c))
        out[table] = changes
    return out


def assert_russian(text: str | None, *, contains: str | None = None) -> None:
    """A message for the user: a Russian sentence, no traceback or repr, the expected words."""
    assert text, "no message"
    assert len(_CYRILLIC.findall(text)) >= 10, f"not a Russian message: {text!r}"
    assert not _TECHNICAL.search(text), f"technical text shown to the user: {text!r}"
    if contains is not None:
        assert contains.lower() in text.lower(), f"{contains!r} not in {text!r}"
