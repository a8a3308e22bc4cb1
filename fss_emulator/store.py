"""The Fund's state in ``DIR/state.sqlite3``: number pool, ELNs, their history, counters.

One connection guarded by a lock; every request that reads and changes state runs inside
:meth:`Store.transaction`, so concurrent requests are serialised at the state step only (the
cryptography runs outside it) and a failed or fault-injected request leaves no partial state.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fss_emulator.model import Eln

SCHEMA = """
CREATE TABLE IF NOT EXISTS numbers (
    ln_code TEXT PRIMARY KEY,
    ogrn TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('issued', 'used', 'returned')),
    issued_at TEXT NOT NULL,
    changed_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS numbers_by_ogrn ON numbers (ogrn, state);
CREATE TABLE IF NOT EXISTS elns (
    ln_code TEXT PRIMARY KEY,
    snils TEXT NOT NULL,
    owner_ogrn TEXT NOT NULL,
    lpu_ogrn TEXT,
    ln_date TEXT,
    state TEXT NOT NULL,
    ln_hash TEXT NOT NULL,
    version INTEGER NOT NULL,
    prev_ln_code TEXT,
    data TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS elns_by_snils ON elns (snils);
CREATE INDEX IF NOT EXISTS elns_by_date ON elns (ln_date);
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ln_code TEXT NOT NULL,
    at TEXT NOT NULL,
    ogrn TEXT NOT NULL,
    action TEXT NOT NULL,
    state TEXT NOT NULL,
    ln_hash TEXT NOT NULL,
    request_id TEXT,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS exchanges (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    operation TEXT,
    ogrn TEXT,
    request_id TEXT,
    outcome TEXT NOT NULL
);
"""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class StoredEln:
    ln_code: str
    snils: str
    owner_ogrn: str
    lpu_ogrn: str | None
    ln_date: str | None
    state: str
    ln_hash: str
    version: int
    prev_ln_code: str | None
    eln: Eln
    created_at: str
    updated_at: str


class Store:
    def __init__(self, path: str | Path, *, first_number: int = 900000300001) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._first_number = first_number
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """Everything inside commits together or not at all (re-entrant)."""
        with self._lock:
            if self._db.in_transaction:
                yield self
                return
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @contextmanager
    def trial(self) -> Iterator[Store]:
        """A transaction that is always rolled back (a request whose reply is lost on purpose)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self
            finally:
                self._db.execute("ROLLBACK")

    def _q(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # -- counters ----------------------------------------------------------------------------------

    def next_counter(self, key: str, start: int = 1) -> int:
        with self.transaction():
            row = self._q("SELECT value FROM counters WHERE key = ?", (key,))
            value = row[0]["value"] + 1 if row else start
            self._q(
                "INSERT INTO counters (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
            return value

    # -- numbers -----------------------------------------------------------------------------------

    def issue_numbers(self, ogrn: str, count: int) -> list[str]:
        out = []
        now = _now()
        with self.transaction():
            for _ in range(count):
                n = self.next_counter("ln_number", self._first_number)
                code = f"{n:012d}"
                self._q(
                    "INSERT INTO numbers (ln_code, ogrn, state, issued_at, changed_at) "
                    "VALUES (?, ?, 'issued', ?, ?)",
                    (code, ogrn, now, now),
                )
                out.append(code)
        return out

    def number(self, ln_code: str) -> sqlite3.Row | None:
        rows = self._q("SELECT * FROM numbers WHERE ln_code = ?", (ln_code,))
        return rows[0] if rows else None

    def unused_numbers(self, ogrn: str) -> list[str]:
        rows = self._q(
            "SELECT ln_code FROM numbers WHERE ogrn = ? AND state = 'issued' ORDER BY ln_code",
            (ogrn,),
        )
        return [r["ln_code"] for r in rows]

    def set_number_state(self, ln_code: str, state: str) -> None:
        self._q(
            "UPDATE numbers SET state = ?, changed_at = ? WHERE ln_code = ?",
            (state, _now(), ln_code),
        )

    def numbers(self, ogrn: str | None = None) -> list[dict[str, Any]]:
        if ogrn is None:
            rows = self._q("SELECT * FROM numbers ORDER BY ln_code")
        else:
            rows = self._q("SELECT * FROM numbers WHERE ogrn = ? ORDER BY ln_code", (ogrn,))
        return [dict(r) for r in rows]

    # -- ELNs --------------------------------------------------------------------------------------

    @staticmethod
    def _stored(row: sqlite3.Row) -> StoredEln:
        return StoredEln(
            ln_code=row["ln_code"],
            snils=row["snils"],
            owner_ogrn=row["owner_ogrn"],
            lpu_ogrn=row["lpu_ogrn"],
            ln_date=row["ln_date"],
            state=row["state"],
            ln_hash=row["ln_hash"],
            version=row["version"],
            prev_ln_code=row["prev_ln_code"],
            eln=Eln.from_json(json.loads(row["data"])),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )

    def eln(self, ln_code: str) -> StoredEln | None:
        rows = self._q("SELECT * FROM elns WHERE ln_code = ?", (ln_code,))
        return self._stored(rows[0]) if rows else None

    def elns_by_snils(self, snils: str) -> list[StoredEln]:
        rows = self._q("SELECT * FROM elns WHERE snils = ? ORDER BY created_at, ln_code", (snils,))
        return [self._stored(r) for r in rows]

    def elns_by_date(self, ogrn: str, day: str) -> list[StoredEln]:
        rows = self._q(
            "SELECT * FROM elns WHERE ln_date = ? AND (lpu_ogrn = ? OR owner_ogrn = ?) "
            "ORDER BY ln_code",
            (day, ogrn, ogrn),
        )
        return [self._stored(r) for r in rows]

    def all_elns(self) -> list[StoredEln]:
        return [self._stored(r) for r in self._q("SELECT * FROM elns ORDER BY ln_code")]

    def save_eln(
        self,
        eln: Eln,
        *,
        ogrn: str,
        action: str,
        request_id: str | None,
        owner_ogrn: str | None = None,
    ) -> None:
        """Insert or update an ELN (its state and hash are in ``eln``) and log the change."""
        assert eln.ln_state is not None and eln.ln_hash is not None
        data = json.dumps(eln.to_json(), ensure_ascii=False, sort_keys=True)
        now = _now()
        with self.transaction():
            current = self.eln(eln.ln_code)
            if current is None:
                self._q(
                    "INSERT INTO elns (ln_code, snils, owner_ogrn, lpu_ogrn, ln_date, state, "
                    "ln_hash, version, prev_ln_code, data, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)",
                    (
                        eln.ln_code,
                        str(eln.get("snils") or ""),
                        owner_ogrn or ogrn,
                        eln.get("lpuOgrn"),
                        eln.get("lnDate"),
                        eln.ln_state,
                        eln.ln_hash,
                        eln.get("prevLnCode"),
                        data,
                        now,
                        now,
                    ),
                )
            else:
                self._q(
                    "UPDATE elns SET snils = ?, lpu_ogrn = ?, ln_date = ?, state = ?, ln_hash = ?, "
                    "version = version + 1, prev_ln_code = ?, data = ?, updated_at = ? "
                    "WHERE ln_code = ?",
                    (
                        str(eln.get("snils") or current.snils),
                        eln.get("lpuOgrn"),
                        eln.get("lnDate"),
                        eln.ln_state,
                        eln.ln_hash,
                        eln.get("prevLnCode"),
                        data,
                        now,
                        eln.ln_code,
                    ),
                )
            self._q(
                "INSERT INTO history (ln_code, at, ogrn, action, state, ln_hash, request_id, data) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (eln.ln_code, now, ogrn, action, eln.ln_state, eln.ln_hash, request_id, data),
            )

    def history(self, ln_code: str) -> list[dict[str, Any]]:
        rows = self._q("SELECT * FROM history WHERE ln_code = ? ORDER BY id", (ln_code,))
        return [dict(r) for r in rows]

    # -- exchanges ---------------------------------------------------------------------------------

    def log_exchange(
        self, operation: str | None, ogrn: str | None, request_id: str | None, outcome: str
    ) -> None:
        self._q(
            "INSERT INTO exchanges (at, operation, ogrn, request_id, outcome) "
            "VALUES (?, ?, ?, ?, ?)",
            (_now(), operation, ogrn, request_id, outcome),
        )

    def exchanges(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self._q("SELECT * FROM exchanges ORDER BY id")]
