"""Exception tree of the ELN core.

Every error a person can meet carries ``message``: one Russian sentence that says what happened
(and, where it helps, what to do). ``str(error)`` is that message, so the UI can show it as is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from eln_tui.core.domain.flk import Violation


class ElnError(Exception):
    """Base of all core errors; ``message`` is the Russian text for the user."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        # Dotted path of the model field concerned (e.g. "patient.snils"), for UI focus.
        self.field = field


# --- domain -------------------------------------------------------------------------------


class ValidationError(ElnError, ValueError):
    """A single value is malformed (SNILS, ОГРН, ИНН, a code)."""


class ConsentMissing(ElnError):
    """Saving or signing without «Согласие на формирование ЭЛН получено»."""


class SnilsMissing(ElnError):
    """«Получить номер» for a patient without SNILS."""


class NotElectronic(ElnError):
    """An operation that only exists for electronic LNs was called on a paper one."""


class NumberAlreadyAssigned(ElnError):
    """The ELN already holds a number taken from the pool; the field is locked."""


class TransitionError(ElnError):
    """A lifecycle step that is not allowed in the ELN's current state."""


class TooManyPeriods(TransitionError):
    """v2.0 allows at most three «Освобождение от работы» rows per ELN."""


class IncompleteBlock(TransitionError):
    """A block cannot be signed before its fields are filled."""


class SignedBlockImmutable(TransitionError):
    """A signed block (or its signature) was changed; signatures cannot be removed."""

    def __init__(self, message: str, *, field: str | None = None, block: str = "") -> None:
        super().__init__(message, field=field)
        self.block = block


class SignerNotAllowed(TransitionError):
    """The user lacks the role needed for this signature slot."""


class DeleteForbidden(TransitionError):
    """An ELN whose number came from FSS cannot be deleted, only terminated."""


class FlkFailed(ElnError):
    """ФЛК found errors; ``violations`` holds all of them."""

    def __init__(self, violations: Sequence[Violation]) -> None:
        self.violations = list(violations)
        first = self.violations[0].message if self.violations else ""
        more = len(self.violations) - 1
        text = first if more <= 0 else f"{first} (и ещё ошибок: {more})"
        super().__init__(text, field=self.violations[0].field if self.violations else None)


# --- storage ------------------------------------------------------------------------------


class StorageError(ElnError):
    """Database-level failure that the user should see."""


class DatabaseUrlError(StorageError):
    """The database URL cannot be used."""


class DatabaseUnavailable(StorageError):
    """The database cannot be reached or written now (server gone, file locked or not
    accessible); the operation's transaction was not committed. ``detail``: the driver's text."""

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail


class NotFound(StorageError):
    """The requested record does not exist."""


class ConcurrentModification(StorageError):
    """Someone else saved the same ELN meanwhile (optimistic lock)."""


class AppendOnlyViolation(StorageError):
    """An attempt to change or delete a row of an append-only table."""


class SettingsIncomplete(StorageError):
    """Integration settings cannot be saved: a required field or МО attribute is missing.

    ``problems`` lists every gap as ``(field, message)``; ``message`` is the first one.
    """

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = list(problems)
        super().__init__(self.problems[0][1], field=self.problems[0][0])


class NoFreeNumbers(StorageError):
    """The number pool has no free number for this server."""


class NumberStateError(StorageError):
    """A pool number is not in the state the operation needs."""


class PoolConfigError(StorageError):
    """The number acquisition mode lacks a setting it needs."""


class CentralServerNotConfigured(PoolConfigError):
    """Mode «Любой свободный с центрального сервера» without a configured central server."""


class ServerNameNotConfigured(PoolConfigError):
    """Mode «Свободный только для текущего сервера» without this server's name."""


class MigrationError(StorageError):
    """The schema cannot be brought to the version this program needs."""
