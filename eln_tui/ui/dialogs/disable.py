"""«Прекращение ЛН» from the operator's journal: disableLn in the Fund, then «Удаленные ЭЛН».

The reason (010 «Отмена оформления», 030 «Выдан ЛН-дубликат») and an optional comment are asked
by the doctor's :class:`TerminateDialog` (same code table, same wording of the reason), then one
confirmation, then the МО key's PIN (:func:`run_exchange`); :meth:`ExchangeService.disable`
terminates the ELN locally only after the Fund has agreed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.screen import Screen
from textual.widgets import Static

from eln_tui.core.domain.codes import TERMINATION_REASONS
from eln_tui.core.domain.model import Eln
from eln_tui.core.exchange import ExchangeService
from eln_tui.core.storage import JournalRow
from eln_tui.ui.dialogs.confirm import ConfirmationModal
from eln_tui.ui.dialogs.mo_pin import run_exchange
from eln_tui.ui.dialogs.terminate import TerminateDialog, TerminationChoice

TITLE = "Прекращение ЛН в ЕИИС «Соцстрах»"


def refusal(row: JournalRow | None) -> str | None:
    """Why the journal row cannot be cancelled in the Fund (None: it can)."""
    if row is None:
        return "Выберите ЭЛН в списке."
    if not row.ln_code:
        return (
            "У ЭЛН нет номера: в ЕИИС «Соцстрах» он не передавался, прекращать нечего "
            "(черновик удаляется в редакторе)."
        )
    if row.terminated:
        return f"ЭЛН № {row.ln_code} уже прекращён."
    if not row.snils:
        return f"У ЭЛН № {row.ln_code} не указан СНИЛС пациента: СФР не примет прекращение."
    return None


class DisableDialog(TerminateDialog):
    """The doctor's dialog, saying that the Fund is asked at once (the МО key signs)."""

    def __init__(self, row: JournalRow) -> None:
        super().__init__(row.ln_code)
        self.row = row

    def on_mount(self) -> None:
        self.query_one(".dialog-text", Static).update(
            f"Пациент: {self.row.patient_fio}, СНИЛС {self.row.snils}. Прекращение сразу "
            "передаётся в ЕИИС «Соцстрах» (подпись ключом МО); прекращённый ЛН изменить нельзя, "
            "он переходит в «Удаленные ЭЛН»."
        )
        super().on_mount()


def start_disable(screen: Screen[Any], row: JournalRow, on_done: Callable[[Eln], None]) -> None:
    """Reason → confirmation → МО PIN → disableLn; ``on_done`` gets the terminated ELN."""
    ln_code = row.ln_code
    assert ln_code is not None

    def chosen(choice: TerminationChoice | None) -> None:
        if choice is None:
            return
        code, reason = choice

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return

            def operation(service: ExchangeService) -> Eln:
                return service.disable(ln_code, code, reason)

            run_exchange(screen, operation, title=TITLE, on_done=on_done)

        screen.app.push_screen(
            ConfirmationModal(
                TITLE,
                f"ЭЛН № {ln_code} ({row.patient_fio}) будет прекращён в ЕИИС «Соцстрах»: "
                f"причина {code} «{TERMINATION_REASONS.title(code)}». Отменить это нельзя. "
                "Продолжить?",
                yes="Прекратить ЛН",
                no="Отмена",
                danger=True,
            ),
            confirmed,
        )

    screen.app.push_screen(DisableDialog(row), chosen)
