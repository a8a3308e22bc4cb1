"""Poor terminals: NO_COLOR and 16-colour (ANSI) themes still give a complete, usable desk."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from eln_tui.ui.config import UiConfig
from eln_tui.ui.screens.eln_editor import ElnEditorScreen
from eln_tui.ui.screens.my_elns import MyElnsScreen
from tests.ui.world import World, keys, run, screen_text


@pytest.mark.parametrize(
    ("no_color", "theme"), [(True, None), (False, "ansi-dark"), (False, "ansi-light")]
)
def test_desk_in_poor_terminals(
    world: World, monkeypatch: pytest.MonkeyPatch, no_color: bool, theme: str | None
) -> None:
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    eln = world.eln()
    app = world.app(world.doctor, config=UiConfig(print_dir=world.tmp / "print", theme=theme))

    async def scenario(pilot: Pilot[Any]) -> None:
        assert pilot.app.no_color is no_color
        if theme:
            assert pilot.app.theme == theme
        assert isinstance(pilot.app.screen, MyElnsScreen)
        assert str(eln.ln_code) in screen_text(pilot.app)
        await keys(pilot, "enter")
        assert isinstance(pilot.app.screen, ElnEditorScreen)
        text = screen_text(pilot.app)
        assert f"ЭЛН № {eln.ln_code}" in text and "ФЛК: ошибок нет" in text

    run(app, (80, 24), scenario)
