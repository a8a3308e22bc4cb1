"""The UI's plain parts: field paths, dates, next actions, settings, the desk registry."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from eln_tui.core.domain.codes import JournalState, Role
from eln_tui.core.domain.model import Eln, HospitalBreach, LnResult, TreatPeriod
from eln_tui.core.errors import FlkFailed
from eln_tui.core.storage import JournalRow, UserInfo
from eln_tui.ui import presenters
from eln_tui.ui.app import error_text
from eln_tui.ui.config import UiConfig, in_ssh_session
from eln_tui.ui.formmodel import get_path, parents, parse_date, set_path, tidy, widget_id
from eln_tui.ui.registry import ScreenRegistry, ScreenSpec, default_registry
from providers.errors import BadConfiguration, WrongPin

TODAY = date(2024, 3, 20)


def test_paths() -> None:
    eln = Eln(treat_periods=[TreatPeriod(dt1=TODAY)])
    assert get_path(eln, "treat_periods[0].dt1") == TODAY
    assert get_path(eln, "treat_periods[3].dt1") is None
    assert get_path(eln, "hospital_breach.code") is None
    set_path(eln, "hospital_breach.code", "24")
    assert isinstance(eln.hospital_breach, HospitalBreach) and eln.hospital_breach.code == "24"
    set_path(eln, "ln_result.return_date_lpu", None)
    assert isinstance(eln.ln_result, LnResult)
    set_path(eln, "hospital_breach.code", None)
    tidy(eln)
    assert eln.hospital_breach is None and eln.ln_result is None
    assert widget_id("treat_periods[0].dt1") == "f-treat_periods-0-dt1"
    assert parents("treat_periods[1].chairman") == [
        "treat_periods[1].chairman",
        "treat_periods[1]",
        "treat_periods",
    ]
    with pytest.raises(ValueError):
        get_path(eln, "bad path")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20.03.2024", TODAY),
        ("1.3.2024", date(2024, 3, 1)),
        ("20032024", TODAY),
        ("20.03.24", TODAY),
        ("2024-03-20", TODAY),
        ("", None),
    ],
)
def test_dates(text: str, expected: date | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["31.02.2024", "2024", "20.03", "ab"])
def test_not_dates(text: str) -> None:
    with pytest.raises(ValueError):
        parse_date(text)


def row(state: JournalState, *, end: date | None = TODAY, ln_state: str = "000") -> JournalRow:
    return JournalRow(
        id=1,
        ln_code="900000000001",
        patient_fio="Петров Пётр Петрович",
        snils=None,
        first_dt1=date(2024, 3, 16) if end else None,
        last_dt2=end,
        ln_state=ln_state,
        state_title="",
        journal_state=state,
        transfer_error=None,
        terminated=state is JournalState.TERMINATED,
    )


def test_next_action() -> None:
    na = presenters.next_action
    assert na(row(JournalState.DRAFT), TODAY) == presenters.NEEDS_SIGNATURE
    assert na(row(JournalState.DRAFT, end=None), TODAY) == presenters.FILLING
    assert na(row(JournalState.SENT, ln_state="010"), TODAY) == presenters.ENDS_TODAY
    assert (
        na(row(JournalState.SENT, ln_state="010", end=date(2024, 3, 25)), TODAY) == presenters.SENT
    )
    assert (
        na(row(JournalState.SENT, ln_state="010", end=date(2024, 3, 1)), TODAY)
        == presenters.EXPIRED
    )
    assert (
        na(row(JournalState.SENT, ln_state="030", end=date(2024, 3, 1)), TODAY) == presenters.CLOSED
    )
    assert na(row(JournalState.PENDING, end=date(2024, 3, 1)), TODAY) == presenters.WAITING
    assert na(row(JournalState.ERROR), TODAY) == presenters.ERROR
    assert na(row(JournalState.TERMINATED), TODAY) == "ЛН прекращен"
    assert na(row(JournalState.RECEIVED, end=date(2024, 3, 25)), TODAY) == presenters.RECEIVED


def test_ui_config() -> None:
    config = UiConfig.from_mapping(
        {
            "ui": {
                "printer": "kab12",
                "print_dir": "~/p",
                "theme": "ansi-dark",
                "mouse": False,
                "electronic": False,
                "keys": {"editor.save": "f12"},
            },
            "signing": {"provider": "software"},
        }
    )
    assert config.printer == "kab12" and config.print_dir.name == "p"
    assert config.keymap == {"editor.save": "f12"} and config.mouse is False
    assert not config.electronic_by_default
    with pytest.raises(BadConfiguration, match=r"\[ui.keys\]"):
        UiConfig.from_mapping({"ui": {"keys": {"editor.save": 12}}})
    with pytest.raises(BadConfiguration, match="true или false"):
        UiConfig.from_mapping({"ui": {"mouse": "yes"}})
    assert in_ssh_session({"SSH_CONNECTION": "10.0.0.1 5 10.0.0.2 22"})
    assert not in_ssh_session({})


def user(*roles: Role) -> UserInfo:
    return UserInfo(1, "u", "Пользователь", frozenset(roles))


def test_registry_chooses_the_home_desk_by_role() -> None:
    registry = default_registry()
    assert registry.home_for(user(Role.DOCTOR)).name == "my_elns"  # type: ignore[union-attr]
    assert registry.home_for(user(Role.NURSE)).name == "my_elns"  # type: ignore[union-attr]
    operator = registry.home_for(user(Role.ELN_OPERATOR))
    assert operator is not None and operator.name == "journal"
    assert registry.home_for(user(Role.ADMIN)) is not None
    # a doctor who is also the operator starts at his own ELNs and reaches the journal
    both = [s.name for s in registry.available(user(Role.DOCTOR, Role.ELN_OPERATOR))]
    assert both[0] == "my_elns" and "journal" in both
    assert "my_elns" not in [s.name for s in registry.available(user(Role.ELN_OPERATOR))]
    # another desk plugs in the same way; names are unique
    extra: Any = object  # stands in for a screen class
    registry.register(
        ScreenSpec("extra", "Ещё стол", extra, frozenset({Role.ELN_OPERATOR}), home_rank=5)
    )
    assert registry.home_for(user(Role.ELN_OPERATOR)).name == "extra"  # type: ignore[union-attr]
    with pytest.raises(ValueError):
        registry.register(ScreenSpec("journal", "x", extra))
    assert isinstance(ScreenRegistry(), ScreenRegistry)


def test_error_text_is_russian() -> None:
    from eln_tui.core.domain.flk import Violation

    assert error_text(WrongPin(tries_left=2)) == "Неверный PIN-код. Осталось попыток: 2."
    assert error_text(FlkFailed([Violation("FLK-05", "reason1", "Поле обязательно.")])) == (
        "Поле обязательно."
    )
    assert error_text(RuntimeError("boom")).startswith("Внутренняя ошибка (RuntimeError: boom)")


def test_default_theme_for_sixteen_colours() -> None:
    from eln_tui.ui.config import default_theme

    assert default_theme({"TERM": "linux"}) == "ansi-dark"
    assert default_theme({"TERM": "xterm"}) == "ansi-dark"
    assert default_theme({"TERM": "xterm-256color"}) is None
    assert default_theme({"TERM": "xterm", "COLORTERM": "truecolor"}) is None
