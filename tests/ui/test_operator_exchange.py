"""The operator's exchange desks against the emulator (demo workspace): the МО key PIN,
«Номера ЭЛН» (request, import, return) and «Передать в ЕИИС Соцстрах» (preview, send, faults)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from eln_tui.core.domain.codes import NumberState
from eln_tui.ui.app import ElnApp
from eln_tui.ui.config import UiConfig
from eln_tui.ui.demo import DemoWorkspace
from eln_tui.ui.dialogs.message import MessageDialog
from eln_tui.ui.dialogs.mo_pin import MoPinDialog, run_exchange
from tests.ui.world import keys, run, screen_text, settle

SMALL = (80, 24)


def app_for(demo: DemoWorkspace, tmp: Path, login: str | None = None) -> ElnApp:
    user = demo.users[login] if login else demo.user
    return ElnApp(
        demo.store,
        demo.provider,
        user,
        config=UiConfig(print_dir=tmp / "print"),
        login=user.login,
        fss=demo.fss,
    )


def test_mo_pin_wrong_then_right(demo: DemoWorkspace, tmp_path: Path) -> None:
    results: list[Any] = []

    async def scenario(pilot: Pilot[Any]) -> None:
        run_exchange(
            pilot.app.screen,
            lambda service: service.request_numbers(3),
            title="Получение номеров ЭЛН",
            on_done=results.append,
        )
        await settle(pilot)
        assert isinstance(pilot.app.screen, MoPinDialog)
        text = screen_text(pilot.app)
        assert demo.keyset["mo"].serial_hex in text and "Сертификат МО" in text
        await keys(pilot, *"0000", "enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, MoPinDialog)  # asked again, with the reason
        assert "Неверный пароль ключа." in screen_text(pilot.app)
        assert not results
        await keys(pilot, *demo.pin, "enter")
        await settle(pilot)
        assert not isinstance(pilot.app.screen, MoPinDialog)
        assert len(results) == 1 and len(results[0]) == 3
        with demo.store.db.connection_context():
            assert demo.store.pool().get(results[0][0]).state is NumberState.FREE

    run(app_for(demo, tmp_path), SMALL, scenario)


def test_mo_pin_cancel_and_fault(demo: DemoWorkspace, tmp_path: Path) -> None:
    events: list[str] = []
    demo.emulator.inject("http500", operation="getNewLNNumRange", times=1)

    async def scenario(pilot: Pilot[Any]) -> None:
        def start() -> None:
            run_exchange(
                pilot.app.screen,
                lambda service: service.request_numbers(2),
                title="Получение номеров ЭЛН",
                on_done=lambda _: events.append("done"),
                on_failed=lambda _: events.append("failed"),
                on_cancel=lambda: events.append("cancel"),
            )

        start()
        await settle(pilot)
        await keys(pilot, "escape")
        assert events == ["cancel"]
        start()
        await settle(pilot)
        await keys(pilot, *demo.pin, "enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, MessageDialog)
        assert "HTTP 500" in screen_text(pilot.app)
        await keys(pilot, "enter")
        assert events == ["cancel", "failed"]

    run(app_for(demo, tmp_path), SMALL, scenario)
