"""``eln numbers release-stale``: numbers «Занят» with no saved ELN go back to free (SQLite)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from eln_tui.cli.main import main
from eln_tui.core.domain.codes import NumberMode, NumberState, Role
from eln_tui.core.storage import ElnStore, open_database, upgrade
from eln_tui.core.storage import models as m
from eln_tui.core.storage.db import database_proxy, to_db_time, utcnow


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    config = tmp_path / "workstation.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path}/eln.sqlite3"\n', encoding="utf-8")
    monkeypatch.setenv("ELN_USER_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("ELN_WORKSTATION_CONFIG", str(config))
    yield f"sqlite:///{tmp_path}/eln.sqlite3"
    database_proxy.initialize(None)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, json.loads(out) if "--json" in argv and out else out, err


def states(url: str) -> dict[str, NumberState]:
    db = open_database(url)
    try:
        return {p.number: p.state for p in ElnStore(db).pool().page()}
    finally:
        db.close()


def test_release_stale(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    db = open_database(url)
    upgrade(db)
    store = ElnStore(db)
    doctor = store.add_user("ivanov", "Иванов Иван Иванович", [Role.DOCTOR])
    store.add_user("op", "Оператор Олег Олегович", [Role.ELN_OPERATOR])
    pool = store.pool()
    pool.add([f"90000000000{i}" for i in range(1, 4)])
    stale, fresh = (pool.take(None, NumberMode.ANY_CURRENT, reserved_by=doctor.id) for _ in "12")
    m.ElnNumber.update(reserved_at=to_db_time(utcnow() - timedelta(minutes=90))).where(
        m.ElnNumber.number == stale
    ).bind(db).execute()
    db.close()

    dry = ("numbers", "release-stale", "--dry-run", "--older-than", "60", "--json")
    code, data, err = run(capsys, *dry)
    assert code == 0, err
    assert [d["number"] for d in data["stale"]] == [stale]
    assert data["stale"][0]["reserved_by"] == "ivanov" and data["older_than_minutes"] == 60
    assert data["stale"][0]["reserved_at"] is not None
    # --older-than 120 (the default): 90 minutes is not stale yet
    code, data, err = run(capsys, "numbers", "release-stale", "--user", "op", "--json")
    assert code == 0 and data["released"] == [] and data["older_than_minutes"] == 120, err
    assert states(url)[stale] is NumberState.RESERVED

    code, out, err = run(
        capsys, "numbers", "release-stale", "--older-than", "60", "--user", "op"
    )  # fmt: skip
    assert code == 0, err
    assert out.startswith("Освобождено зависших номеров: 1\n") and f"{stale}  " in out
    assert "ivanov" in out
    now = states(url)
    assert now[stale] is NumberState.FREE and now[fresh] is NumberState.RESERVED

    code, out, _ = run(capsys, "numbers", "release-stale", "--older-than", "60", "--user", "op")
    assert code == 0 and out.strip() == (
        "Зависших номеров нет (занятых более 60 мин. назад без ЭЛН)."
    )
    code, data, _ = run(capsys, "audit", "--json")
    released = [r for r in data if r["action"] == "number_released_stale"]
    assert [(r["ln_code"], r["login"]) for r in released] == [(stale, "op")]


def test_bad_arguments(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    upgrade(open_database(url))
    for bad in ("0", "-5", "час"):
        with pytest.raises(SystemExit) as exc:
            main(["numbers", "release-stale", "--older-than", bad, "--user", "op"])
        assert exc.value.code != 0
        assert "укажите целое число минут, не меньше 1" in capsys.readouterr().err
    code, _, err = run(capsys, "numbers", "release-stale", "--user", "nobody")
    assert code != 0 and "Пользователь «nobody» не зарегистрирован" in err
