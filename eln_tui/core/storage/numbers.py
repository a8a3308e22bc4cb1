"""Pool of ELN numbers received from FSS (view «Номера ЭЛН»; domain.md §3).

Taking a number is one transaction that selects the first free number and marks it
``reserved`` («Занят»), so no number is ever handed out twice, across processes and servers:

- PostgreSQL: ``SELECT … ORDER BY number LIMIT 1 FOR UPDATE SKIP LOCKED`` — concurrent takers
  skip each other's locked row instead of waiting for it;
- SQLite: the transaction starts with ``BEGIN IMMEDIATE``, which serialises writers.

Modes («Способ получения номера для ЭЛН»), our reading of seed 000 for a shared pool:

- ``ANY_CURRENT`` «Любой свободный с текущего сервера»: the first free number in this server's
  database that is not reserved for another server (untagged or tagged with this server);
- ``ANY_CENTRAL`` «Любой свободный с центрального сервера»: the same rule applied to the central
  server's pool (``central``); the number is then recorded in the local pool as reserved;
- ``ONLY_CURRENT`` «Свободный только для текущего сервера»: the first free number tagged with this
  server's name (the operator names the server when requesting the batch).

States: free → reserved (taken) → used (ELN saved); reserved → free only when the ELN document is
closed without ever being saved (:meth:`NumberPool.release`); free → returned (given back to FSS).
A used number never returns.

A reservation whose document was never saved nor closed (the program or the SSH session died
in between) stays «Занят» for ever: :meth:`NumberPool.stale` lists such reservations older than
a threshold and :meth:`NumberPool.release_stale` frees them, under the same row lock / write
lock as a save, so a number being saved at that moment is never freed. A number this pool
handed to another server (mode ANY_CENTRAL, ``reserved_server``) is never stale here: its ELN
lives in that server's database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from peewee import JOIN, Database, Expression, fn

from eln_tui.core.domain.codes import NumberMode, NumberState
from eln_tui.core.domain.validators import is_ln_code
from eln_tui.core.errors import (
    CentralServerNotConfigured,
    NoFreeNumbers,
    NotFound,
    NumberStateError,
    ServerNameNotConfigured,
    ValidationError,
)
from eln_tui.core.storage import models as m
from eln_tui.core.storage.db import (
    current_database,
    execute_insert,
    from_db_time,
    is_postgres,
    to_db_time,
    utcnow,
)

NO_FREE_NUMBERS = "Отсутствуют свободные номера для ЭЛН! обратитесь к системному администратору!"

#: A reservation older than this with no saved ELN is offered for release («зависший» number).
STALE_AFTER = timedelta(minutes=120)


@dataclass(frozen=True)
class PoolNumber:
    number: str
    state: NumberState
    server_tag: str | None
    ogrn: str | None
    eln_id: int | None
    received_at: datetime | None
    reserved_at: datetime | None
    used_at: datetime | None
    reserved_by: int | None = None


@dataclass(frozen=True)
class StaleReservation:
    """A number «Занят» with no saved ELN behind it, reserved before the threshold."""

    number: str
    reserved_at: datetime | None
    reserved_by: int | None
    reserved_by_login: str | None
    reserved_by_name: str | None
    central: bool = False  # on the central server, handed to this one (see ElnStore)


class NumberPool:
    """The number pool of one database; ``central`` is the pool of the central server, if any."""

    def __init__(self, db: Database | None = None, central: NumberPool | None = None) -> None:
        self.db = db if db is not None else current_database()
        self.central = central

    # --- receiving and listing --------------------------------------------------------------

    def add(
        self,
        numbers: Iterable[str],
        *,
        ogrn: str | None = None,
        server_tag: str | None = None,
        request_id: str | None = None,
    ) -> int:
        """Store numbers received from FSS as free; numbers already known are left alone.

        Returns how many were new.
        """
        numbers = list(dict.fromkeys(numbers))
        for number in numbers:
            if not is_ln_code(number):
                raise ValidationError(
                    f"Номер ЭЛН «{number}», полученный из ЕИИС «Соцстрах», должен содержать "
                    "12 цифр."
                )
        now = to_db_time(utcnow())
        added = 0
        with self.db.atomic():
            for start in range(0, len(numbers), 500):
                chunk = numbers[start : start + 500]
                known = {
                    r.number
                    for r in m.ElnNumber.select(m.ElnNumber.number)
                    .where(m.ElnNumber.number.in_(chunk))
                    .bind(self.db)
                }
                rows = [
                    {
                        "number": n,
                        "state": NumberState.FREE.value,
                        "server_tag": server_tag,
                        "ogrn": ogrn,
                        "request_id": request_id,
                        "received_at": now,
                    }
                    for n in chunk
                    if n not in known
                ]
                if rows:
                    execute_insert(m.ElnNumber.insert_many(rows), self.db)
                    added += len(rows)
        return added

    def get(self, number: str) -> PoolNumber:
        row = m.ElnNumber.select().where(m.ElnNumber.number == number).bind(self.db).first()
        if row is None:
            raise NotFound(f"Номер ЭЛН {number} отсутствует в журнале «Номера ЭЛН».")
        return _pool_number(row)

    def counts(self, server_tag: str | None = None) -> dict[NumberState, int]:
        query = m.ElnNumber.select(m.ElnNumber.state, fn.COUNT(m.ElnNumber.id).alias("n"))
        if server_tag is not None:
            query = query.where(m.ElnNumber.server_tag == server_tag)
        result = dict.fromkeys(NumberState, 0)
        for row in query.group_by(m.ElnNumber.state).bind(self.db):
            result[NumberState(row.state)] = row.n  # type: ignore[attr-defined]
        return result

    def page(
        self, *, after: str | None = None, limit: int = 100, state: NumberState | None = None
    ) -> list[PoolNumber]:
        """The view «Номера ЭЛН»: ascending by number, keyset-paged (``after`` = last number)."""
        query = m.ElnNumber.select()
        if after is not None:
            query = query.where(m.ElnNumber.number > after)
        if state is not None:
            query = query.where(m.ElnNumber.state == state.value)
        query = query.order_by(m.ElnNumber.number).limit(limit).bind(self.db)
        return [_pool_number(r) for r in query]

    # --- taking and giving back -------------------------------------------------------------

    def take(
        self, server_tag: str | None, mode: NumberMode, *, reserved_by: int | None = None
    ) -> str:
        """Atomically hand out the next free number and mark it reserved («Занят»)."""
        mode = NumberMode(mode)
        if mode is NumberMode.ANY_CENTRAL:
            if self.central is None:
                raise CentralServerNotConfigured(
                    "Не указан центральный сервер для способа «Любой свободный с центрального "
                    "сервера»: заполните настройку «Способ получения номера для ЭЛН»."
                )
            remote = self.central.db is not self.db
            number = self.central._take(
                server_tag,
                exclusive=False,
                reserved_by=reserved_by,
                reserved_server=(server_tag or "") if remote else None,
            )
            if remote:
                self._record_from_central(number, server_tag, reserved_by)
            return number
        return self._take(
            server_tag, exclusive=mode is NumberMode.ONLY_CURRENT, reserved_by=reserved_by
        )

    def _condition(self, server_tag: str | None, exclusive: bool) -> Expression:
        free = m.ElnNumber.state == NumberState.FREE.value
        if exclusive:
            if not server_tag:
                raise ServerNameNotConfigured(
                    "Не указано имя текущего сервера для способа «Свободный только для текущего "
                    "сервера»."
                )
            return free & (m.ElnNumber.server_tag == server_tag)
        if server_tag:
            return free & (
                m.ElnNumber.server_tag.is_null() | (m.ElnNumber.server_tag == server_tag)
            )
        return free & m.ElnNumber.server_tag.is_null()

    def _take(
        self,
        server_tag: str | None,
        *,
        exclusive: bool,
        reserved_by: int | None,
        reserved_server: str | None = None,
    ) -> str:
        condition = self._condition(server_tag, exclusive)
        with self.db.atomic():  # BEGIN IMMEDIATE on SQLite
            query = (
                m.ElnNumber.select(m.ElnNumber.id, m.ElnNumber.number)
                .where(condition)
                .order_by(m.ElnNumber.number)
                .limit(1)
            )
            if is_postgres(self.db):
                query = query.for_update(skip_locked=True)
            row = query.bind(self.db).first()
            if row is None:
                raise NoFreeNumbers(NO_FREE_NUMBERS, field="ln_code")
            updated = (
                m.ElnNumber.update(
                    state=NumberState.RESERVED.value,
                    reserved_at=to_db_time(utcnow()),
                    reserved_by=reserved_by,
                    reserved_server=reserved_server,
                )
                .where((m.ElnNumber.id == row.id) & (m.ElnNumber.state == NumberState.FREE.value))
                .bind(self.db)
                .execute()
            )
            if updated != 1:  # cannot happen under the lock; never hand out a doubtful number
                raise NumberStateError(f"Номер ЭЛН {row.number} занят другим пользователем.")
            return str(row.number)

    def _record_from_central(self, number: str, server_tag: str | None, by: int | None) -> None:
        now = to_db_time(utcnow())
        with self.db.atomic():
            exists = m.ElnNumber.select().where(m.ElnNumber.number == number).bind(self.db).first()
            values = {"state": NumberState.RESERVED.value, "reserved_at": now, "reserved_by": by}
            if exists:
                m.ElnNumber.update(**values).where(m.ElnNumber.id == exists.id).bind(
                    self.db
                ).execute()
            else:
                execute_insert(
                    m.ElnNumber.insert(
                        number=number, server_tag=server_tag, received_at=now, **values
                    ),
                    self.db,
                )

    def mark_used(self, number: str, eln_id: int) -> None:
        """The ELN holding the number was saved: the number never returns to the pool."""
        row = self._row(number)
        if row.state == NumberState.USED.value and row.eln_id == eln_id:  # type: ignore[attr-defined]
            return  # saved again
        self._transition(
            number,
            {NumberState.RESERVED},
            NumberState.USED,
            used_at=to_db_time(utcnow()),
            eln=eln_id,
        )

    def release(self, number: str) -> None:
        """The ELN document was closed without ever being saved: «Занят» → «Свободен»."""
        row = self._row(number)
        if row.state == NumberState.FREE.value:
            return
        if row.state != NumberState.RESERVED.value or row.eln_id is not None:  # type: ignore[attr-defined]
            raise NumberStateError(
                f"Номер ЭЛН {number} использован в сохранённом ЭЛН и не может быть освобождён."
            )
        self._transition(
            number,
            {NumberState.RESERVED},
            NumberState.FREE,
            reserved_at=None,
            reserved_by=None,
            reserved_server=None,
            eln_id_must_be_null=True,
        )

    # --- stale reservations -----------------------------------------------------------------

    def stale(
        self,
        older_than: timedelta = STALE_AFTER,
        *,
        now: datetime | None = None,
        after: str | None = None,
        limit: int = 100,
        handed_to: str | None = None,
    ) -> list[StaleReservation]:
        """Reservations older than ``older_than`` that no saved ELN holds; by number, keyset-paged.

        Reserved here and not handed to another server; no ELN row carries the number (the pool
        row is marked used in the same transaction that saves the ELN, the ``ln_code`` check
        covers an ELN saved without the pool knowing). With ``handed_to``: the reservations
        this (central) pool handed to that server instead — whether that server ever recorded
        them only its own database knows (``reserved_by`` is its user; no names here).
        """
        cutoff = to_db_time((now or utcnow()) - older_than)
        server = (
            m.ElnNumber.reserved_server.is_null()
            if handed_to is None
            else m.ElnNumber.reserved_server == handed_to
        )
        # a handed number's reserved_by is a user of the other server: never join it here
        user_on = (m.User.id == m.ElnNumber.reserved_by) if handed_to is None else (m.User.id < 0)
        query = (
            m.ElnNumber.select(
                m.ElnNumber.number,
                m.ElnNumber.reserved_at,
                m.ElnNumber.reserved_by,
                m.User.login,
                m.User.full_name,
            )
            .join(m.Eln, JOIN.LEFT_OUTER, on=(m.Eln.ln_code == m.ElnNumber.number))
            .switch(m.ElnNumber)
            .join(m.User, JOIN.LEFT_OUTER, on=user_on)
            .where(
                (m.ElnNumber.state == NumberState.RESERVED.value)
                & m.ElnNumber.eln.is_null()
                & server
                & (m.ElnNumber.reserved_at.is_null() | (m.ElnNumber.reserved_at < cutoff))
                & m.Eln.id.is_null()
            )
        )
        if after is not None:
            query = query.where(m.ElnNumber.number > after)
        rows = query.order_by(m.ElnNumber.number).limit(limit).dicts().bind(self.db)
        return [
            StaleReservation(
                number=r["number"],
                reserved_at=from_db_time(r["reserved_at"]),
                reserved_by=r["reserved_by"],
                reserved_by_login=r["login"],
                reserved_by_name=r["full_name"],
            )
            for r in cast(Iterable[dict[str, Any]], rows)
        ]

    def release_stale(
        self,
        numbers: Iterable[str],
        older_than: timedelta = STALE_AFTER,
        *,
        now: datetime | None = None,
        handed_to: str | None = None,
    ) -> list[PoolNumber]:
        """Free stale reservations «Занят» → «Свободен», all or none; returns them as they were.

        ``handed_to``: numbers this (central) pool handed to that server, which has found them
        missing from its own database; otherwise only numbers reserved here.

        Each row is locked first (``FOR UPDATE`` on PostgreSQL; SQLite holds the write lock
        from ``BEGIN IMMEDIATE``) and the update is conditional on «Занят» with no ELN, so a
        save marking the number used at the same moment either wins (the release is refused)
        or waits and then fails on its own conditional update (the save is refused).
        """
        cutoff = from_db_time(to_db_time((now or utcnow()) - older_than))
        assert cutoff is not None
        minutes = int(older_than.total_seconds() // 60)
        released: list[PoolNumber] = []
        with self.db.atomic():
            for number in dict.fromkeys(numbers):
                query = m.ElnNumber.select().where(m.ElnNumber.number == number)
                if is_postgres(self.db):
                    query = query.for_update()
                row = query.bind(self.db).first()
                if row is None:
                    raise NotFound(f"Номер ЭЛН {number} отсутствует в журнале «Номера ЭЛН».")
                before = _pool_number(row)
                saved = m.Eln.select(m.Eln.id).where(m.Eln.ln_code == number).bind(self.db).exists()
                if before.state is NumberState.USED or before.eln_id is not None or saved:
                    raise NumberStateError(
                        f"Номер ЭЛН {number} использован в сохранённом ЭЛН и не может быть "
                        "освобождён."
                    )
                if before.state is not NumberState.RESERVED:
                    raise NumberStateError(
                        f"Номер ЭЛН {number} не занят (состояние «{before.state.label}»): "
                        "освобождать нечего."
                    )
                if row.reserved_server != handed_to:
                    if row.reserved_server is None:
                        raise NumberStateError(
                            f"Номер ЭЛН {number} занят на центральном сервере, а не выдан "
                            f"серверу «{handed_to}»: освободить его отсюда нельзя."
                        )
                    server = f"«{row.reserved_server}»" if row.reserved_server else "без имени"
                    raise NumberStateError(
                        f"Номер ЭЛН {number} выдан другому серверу ({server}): его ЭЛН хранится "
                        "там, освободить номер здесь нельзя."
                    )
                if before.reserved_at is not None and before.reserved_at >= cutoff:
                    raise NumberStateError(
                        f"Номер ЭЛН {number} занят недавно: зависшим считается номер, занятый "
                        f"более {minutes} мин. назад и не сохранённый в ЭЛН."
                    )
                updated = (
                    m.ElnNumber.update(
                        state=NumberState.FREE.value,
                        reserved_at=None,
                        reserved_by=None,
                        reserved_server=None,
                    )
                    .where(
                        (m.ElnNumber.id == row.id)
                        & (m.ElnNumber.state == NumberState.RESERVED.value)
                        & m.ElnNumber.eln.is_null()
                        & (
                            m.ElnNumber.reserved_server.is_null()
                            if handed_to is None
                            else m.ElnNumber.reserved_server == handed_to
                        )
                    )
                    .bind(self.db)
                    .execute()
                )
                if updated != 1:  # cannot happen under the lock; never free a doubtful number
                    raise NumberStateError(
                        f"Номер ЭЛН {number} изменён другим пользователем во время "
                        "освобождения: обновите список и повторите."
                    )
                released.append(before)
        return released

    def mark_returned(self, numbers: Iterable[str]) -> int:
        """Numbers given back to FSS (PrParseFileNumberslpu); only free numbers can go back."""
        count = 0
        with self.db.atomic():
            for number in numbers:
                self._transition(
                    number,
                    {NumberState.FREE},
                    NumberState.RETURNED,
                    returned_at=to_db_time(utcnow()),
                )
                count += 1
        return count

    def _row(self, number: str) -> m.ElnNumber:
        row = m.ElnNumber.select().where(m.ElnNumber.number == number).bind(self.db).first()
        if row is None:
            raise NotFound(f"Номер ЭЛН {number} отсутствует в журнале «Номера ЭЛН».")
        return cast(m.ElnNumber, row)

    def _transition(
        self,
        number: str,
        allowed: set[NumberState],
        target: NumberState,
        *,
        eln_id_must_be_null: bool = False,
        **values: object,
    ) -> None:
        with self.db.atomic():
            row = self._row(number)
            condition = (m.ElnNumber.id == row.id) & m.ElnNumber.state.in_(
                [s.value for s in allowed]
            )
            if eln_id_must_be_null:
                condition &= m.ElnNumber.eln.is_null()
            updated = (
                m.ElnNumber.update(state=target.value, **values)
                .where(condition)
                .bind(self.db)
                .execute()
            )
            if updated != 1:
                state = NumberState(row.state).label
                raise NumberStateError(
                    f"Номер ЭЛН {number} в состоянии «{state}»: перевод в «{target.label}» "
                    "невозможен."
                )


def take_number(
    server_tag: str | None,
    mode: NumberMode,
    *,
    db: Database | None = None,
    central: Database | None = None,
    reserved_by: int | None = None,
) -> str:
    """Module-level shortcut: take the next free number from the pool of ``db`` (or the proxy)."""
    central_pool = NumberPool(central) if central is not None else None
    return NumberPool(db, central=central_pool).take(server_tag, mode, reserved_by=reserved_by)


def _pool_number(row: m.ElnNumber) -> PoolNumber:
    return PoolNumber(
        number=row.number,
        state=NumberState(row.state),
        server_tag=row.server_tag,
        ogrn=row.ogrn,
        eln_id=row.eln_id,  # type: ignore[attr-defined]
        received_at=from_db_time(row.received_at),
        reserved_at=from_db_time(row.reserved_at),
        used_at=from_db_time(row.used_at),
        reserved_by=row.reserved_by,
    )
