"""``eln`` headless commands end to end: SQLite journal, software keys, the Fund emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from eln_tui.cli.main import main
from eln_tui.core.domain.codes import Role
from eln_tui.core.storage import ElnStore, open_database
from eln_tui.core.storage.db import database_proxy

emulator = pytest.importorskip("fss_emulator", reason="the FSS emulator package is not present")

PASSWORD = "пароль-теста"
SNILS = "11223344595"


@dataclass
class Env:
    tmp: Path
    config: Path
    pin: Path
    ogrn: str
    emu: Any


@pytest.fixture(scope="module")
def keyset(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from providers.software import create_test_set

    return create_test_set(tmp_path_factory.mktemp("keys") / "k", PASSWORD, iterations=1000)


@pytest.fixture(scope="module")
def emu(keyset: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with emulator.Emulator(tmp_path_factory.mktemp("fss"), trust=[keyset.ca_certificate]) as e:
        yield e


@pytest.fixture
def env(tmp_path: Path, keyset: Any, emu: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    fund = tmp_path / "fss.pem"
    fund.write_bytes(emu.fund_cert.pem)
    pin = tmp_path / "pin"
    pin.write_text(PASSWORD + "\n", encoding="utf-8")
    ogrn = keyset["mo"].certificate.subject.ogrn
    config = tmp_path / "workstation.toml"
    config.write_text(
        f"""
[signing]
provider = "software"

[providers.software]
key_dir = "{keyset.directory}"

[database]
url = "sqlite:///{tmp_path}/eln.sqlite3"

[fss]
ogrn = "{ogrn}"
version = "2.0"
contour = "emulator"
url = "{emu.url}"
fund_certificate = "{fund}"
mo_certificate = "label:mo"
author = "Иванова М. П."
phone = "+7 495 000-00-00"
email = "eln@example.test"
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("ELN_USER_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("ELN_WORKSTATION_CONFIG", str(config))
    yield Env(tmp_path, config, pin, ogrn, emu)
    database_proxy.initialize(None)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    try:
        data = json.loads(out) if "--json" in argv else out
    except json.JSONDecodeError:
        data = out
    return code, data, err


def eln_json(ogrn: str, doctor_id: int, start: date) -> dict[str, Any]:
    return {
        "written_agreement_flag": True,
        "patient": {
            "snils": SNILS,
            "surname": "Петров",
            "name": "Пётр",
            "patronymic": "Петрович",
            "birthday": "1980-05-05",
            "gender": 1,
        },
        "employer": {"name": "ООО «Ромашка»"},
        "lpu": {"name": "ГБУЗ «Тестовая поликлиника № 1»", "address": "г. Москва", "ogrn": ogrn},
        "ln_date": start.isoformat(),
        "reason1": "01",
        "diagnos": "J06.9",
        "doctor_id": doctor_id,
        "treat_periods": [
            {
                "dt1": start.isoformat(),
                "dt2": (start + timedelta(days=4)).isoformat(),
                "doctor": "Иванов Иван Иванович",
                "doctor_role": "Врач-терапевт участковый",
                "doctor_id": doctor_id,
            }
        ],
    }


def test_headless_workflow(env: Env, keyset: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys, "init", "--ogrn", env.ogrn, "--name", "ГБУЗ «Тестовая поликлиника № 1»",
        "--address", "г. Москва", "--phone", "+7 495 000-00-00", "--email", "eln@example.test",
        "--user", "admin", "--full-name", "Админ Админович",
    )  # fmt: skip
    assert code == 0, err
    assert run(capsys, "db", "upgrade", "--json")[0] == 0

    db = open_database(f"sqlite:///{env.tmp}/eln.sqlite3")
    store = ElnStore(db)
    doctor = store.add_user(
        "ivanov", "Иванов Иван Иванович", [Role.DOCTOR], cert_serial=keyset["doctor1"].serial_hex
    )
    store.add_user("nurse", "Кузнецова Мария Ивановна", [Role.NURSE])
    store.add_user("op", "Оператор Олег Олегович", [Role.ELN_OPERATOR])
    db.close()

    pin = ("--pin-file", str(env.pin))
    code, data, err = run(capsys, "numbers", "request", "3", "--user", "op", "--json", *pin)
    assert code == 0, err
    assert len(data["numbers"]) == 3

    start = date.today() - timedelta(days=4)
    path = env.tmp / "eln.json"
    path.write_text(json.dumps(eln_json(env.ogrn, doctor.id, start)), encoding="utf-8")
    code, data, err = run(capsys, "ln", "validate", str(path), "--json")
    assert code == 0 and data["ok"], err
    code, data, err = run(capsys, "ln", "import", str(path), "--user", "nurse", "--json")
    assert code == 0, err
    number = data["ln_code"]
    assert data["action"] == "создан"

    code, data, err = run(
        capsys, "ln", "sign", number, "--block", "period:1", "--as", "doctor",
        "--user", "ivanov", "--cert", "label:doctor2", *pin,
    )  # fmt: skip
    assert code != 0 and "Смирнов" in err  # another doctor's key: refused, nothing signed
    code, data, err = run(
        capsys, "ln", "sign", number, "--block", "period:1", "--as", "doctor",
        "--user", "ivanov", *pin,
    )  # fmt: skip
    assert code == 0, err

    day = (start + timedelta(days=4)).isoformat()
    code, data, err = run(capsys, "registry", "send", "--date", day, "--dry-run", "--json")
    assert code == 0 and [r["ln_code"] for r in data["ready"]] == [number], err
    code, out, err = run(capsys, "registry", "send", "--date", day, "--user", "op", *pin)
    assert code == 0, err
    assert "сообщение 1/1" in err and "Принято: 1" in out

    code, data, _ = run(capsys, "ln", "show", number, "--json")
    assert data["ln_state"] == "010" and data["treat_periods"][0]["sent"] is True
    code, data, _ = run(capsys, "journal", "--view", "sent", "--json")
    assert [r["ln_code"] for r in data] == [number]

    code, data, err = run(capsys, "ln", "fetch", number, SNILS, "--user", "op", "--json", *pin)
    assert code == 0 and data["ln_state"] == "010", err

    code, _, err = run(capsys, "ln", "disable", number, "--reason", "010", "--user", "op", *pin)
    assert code == 0, err
    code, data, _ = run(capsys, "journal", "--view", "deleted", "--json")
    assert [r["ln_code"] for r in data] == [number]

    code, data, err = run(capsys, "numbers", "return", "--user", "op", "--json", *pin)
    assert code == 0 and len(data["returned"]) == 2, err
    code, data, _ = run(capsys, "numbers", "list", "--json")
    assert data["counts"]["free"] == 0

    code, data, _ = run(capsys, "audit", "--json")
    actions = {r["action"] for r in data}
    assert {"numbers_received", "sign", "transfer_ok", "terminate"} <= actions
    code, data, _ = run(capsys, "audit", "--exchange", "--json")
    assert {"getNewLNNumRange", "prParseFilelnlpu", "disableLn"} <= {r["operation"] for r in data}
    raw = (env.tmp / "eln.sqlite3").read_bytes()
    assert PASSWORD.encode() not in raw


def test_bad_input_is_one_sentence(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "db", "upgrade")
    code, _, err = run(capsys, "ln", "show", "123456789012")
    assert code != 0 and err.startswith("eln: ") and err.count("\n") == 1
    bad = env.tmp / "bad.json"
    bad.write_text("{", encoding="utf-8")
    code, _, err = run(capsys, "ln", "validate", str(bad))
    assert code != 0 and "не является корректным JSON" in err
    bad.write_text(json.dumps({"ln_state": "030"}), encoding="utf-8")
    code, _, err = run(capsys, "ln", "validate", str(bad))
    assert code != 0 and "ln_state" in err
    invalid = env.tmp / "invalid.json"
    invalid.write_text(json.dumps({"patient": {"snils": "11223344500"}}), encoding="utf-8")
    code, data, _ = run(capsys, "ln", "validate", str(invalid), "--json")
    assert code == 1 and not data["ok"] and data["violations"]
