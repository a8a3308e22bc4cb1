"""What the operations return: plain frozen dataclasses, no XML, no zeep objects.

Every result carries the Fund's ``request_id`` (keep it with the exchange record), ``status``
(1 success, 0 error; the v2.0 XSD makes it optional, hence ``None``), ``mess`` and, where the
Fund sends them, per-ELN ``rows``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from eln_tui.core.domain.model import Eln


@dataclass(frozen=True)
class RowError:
    """One error of one ELN as the Fund states it (stored verbatim; no public code list)."""

    code: str
    message: str


@dataclass(frozen=True)
class RowResult:
    """The Fund's verdict on one ELN of a message (``info`` rows)."""

    row_no: int | None
    ln_code: str
    status: int | None
    ln_hash: str | None = None
    ln_state: str | None = None
    errors: tuple[RowError, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == 1 and not self.errors

    @property
    def error_text(self) -> str:
        """The errors in one line, to store in the ELN («Ошибки передачи»)."""
        return "; ".join(f"{e.code}: {e.message}" if e.code else e.message for e in self.errors)


@dataclass(frozen=True)
class WsResult:
    """WSResult: the outcome of a request."""

    request_id: str
    status: int | None
    mess: str | None = None
    rows: tuple[RowResult, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == 1

    def row(self, ln_code: str) -> RowResult | None:
        for r in self.rows:
            if r.ln_code == ln_code:
                return r
        return None


@dataclass(frozen=True)
class NumbersResult(WsResult):
    """getNewLNNum, getNewLNNumRange, getExistingLNNumRange: ELN numbers."""

    numbers: tuple[str, ...] = ()

    @property
    def number(self) -> str | None:
        """The single number of getNewLNNum."""
        return self.numbers[0] if self.numbers else None


@dataclass(frozen=True)
class LnData:
    """An ELN as the Fund keeps it (getLNData), also as a domain :class:`Eln`.

    In ``eln`` every block the Fund has is marked as accepted (``sent``), ``source`` is FSS,
    ``ln_state`` and ``ln_hash`` are the Fund's; signatures are not returned by the Fund.
    """

    ln_code: str
    snils: str | None
    ln_state: str | None
    ln_hash: str | None
    eln: Eln = field(compare=False)


@dataclass(frozen=True)
class LnDataResult(WsResult):
    data: LnData | None = None


@dataclass(frozen=True)
class LnListEntry:
    """One ELN of getLNListBySnils (with date and МО) or getLNListByDate (with СНИЛС)."""

    ln_code: str
    ln_state: str | None
    ln_date: date | None = None
    lpu_ogrn: str | None = None
    snils: str | None = None


@dataclass(frozen=True)
class LnListResult(WsResult):
    entries: tuple[LnListEntry, ...] = ()


@dataclass(frozen=True)
class SentRow:
    """What one row of our prParseFilelnlpu carried (for lifecycle.mark_sent)."""

    ln_code: str
    blocks: tuple[str, ...]
    ln_state_sent: str


@dataclass(frozen=True)
class RegistryResult(WsResult):
    """prParseFilelnlpu: the Fund's verdict per ELN, and what each row carried."""

    sent: tuple[SentRow, ...] = ()

    def sent_row(self, ln_code: str) -> SentRow | None:
        for s in self.sent:
            if s.ln_code == ln_code:
                return s
        return None

    @property
    def accepted(self) -> tuple[RowResult, ...]:
        return tuple(r for r in self.rows if r.ok)

    @property
    def rejected(self) -> tuple[RowResult, ...]:
        return tuple(r for r in self.rows if not r.ok)

    @property
    def unanswered(self) -> tuple[str, ...]:
        """ELNs we sent that the Fund's reply does not mention (treat as not accepted)."""
        answered = {r.ln_code for r in self.rows}
        return tuple(s.ln_code for s in self.sent if s.ln_code not in answered)
