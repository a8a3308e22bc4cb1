"""Printed forms «Согласие на ЭЛН» and «Информация для пациента», and sending them to ``lp``."""

from __future__ import annotations

import os
import stat
import subprocess
from datetime import date, datetime
from pathlib import Path

import pytest

from eln_tui.core import printing
from eln_tui.core.printing import PrintError, PrintForm
from tests.core import factories

NOW = datetime(2024, 3, 20, 9, 30)


def test_patient_info_has_name_number_and_workplace() -> None:
    eln = factories.valid_eln()
    text = printing.render(PrintForm.PATIENT_INFO, eln, today=factories.TODAY)
    assert "Петров Пётр Петрович" in text
    assert "900000000001" in text
    assert "ООО «Ромашка»" in text
    assert all(len(line) <= printing.WIDTH for line in text.splitlines())


def test_patient_info_needs_a_number() -> None:
    with pytest.raises(PrintError, match="Получить номер"):
        printing.patient_info_document(factories.valid_eln(ln_code=None))


def test_consent_names_patient_and_mo() -> None:
    text = printing.consent_document(factories.valid_eln(), today=date(2024, 3, 20))
    assert "СОГЛАСИЕ" in text and "Петров Пётр Петрович" in text
    assert "112-233-445 95" in text and "20.03.2024" in text
    assert "ГБУЗ «Городская поликлиника № 1»" in text
    assert all(len(line) <= printing.WIDTH for line in text.splitlines())


def test_no_printer_saves_a_file(tmp_path: Path) -> None:
    result = printing.print_document(
        "текст\n", title="Согласие на ЭЛН", name="consent-1", printer=None, output_dir=tmp_path,
        now=NOW,
    )  # fmt: skip
    assert not result.printed and result.path is not None
    assert result.path.read_text(encoding="utf-8") == "текст\n"
    assert "Принтер не настроен" in result.message and str(result.path) in result.message


def _fake_lp(tmp_path: Path, code: int) -> Path:
    """A stand-in ``lp`` that records its arguments and stdin (CUPS is not installed here)."""
    script = tmp_path / "lp"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$@" > "{tmp_path}/args"\n'
        f'cat > "{tmp_path}/stdin"\n'
        f'[ {code} -eq 0 ] || echo "lp: The printer or class does not exist." >&2\n'
        f"exit {code}\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_lp_prints_to_the_configured_printer(tmp_path: Path) -> None:
    lp = _fake_lp(tmp_path, 0)
    result = printing.print_document(
        "Номер ЭЛН\n", title="Информация для пациента", name="info", printer="kab12",
        output_dir=tmp_path / "out", lp=str(lp), now=NOW,
    )  # fmt: skip
    assert result.printed and result.printer == "kab12"
    assert "-d kab12" in (tmp_path / "args").read_text()
    assert (tmp_path / "stdin").read_text(encoding="utf-8") == "Номер ЭЛН\n"
    assert not (tmp_path / "out").exists()


def test_lp_failure_falls_back_to_a_file(tmp_path: Path) -> None:
    lp = _fake_lp(tmp_path, 1)
    result = printing.print_document(
        "x\n", title="Согласие на ЭЛН", name="c", printer="nope", output_dir=tmp_path / "out",
        lp=str(lp), now=NOW,
    )  # fmt: skip
    assert not result.printed and result.path is not None and result.path.exists()
    assert "does not exist" in result.message


def test_lp_missing(tmp_path: Path) -> None:
    result = printing.print_document(
        "x\n", title="Согласие на ЭЛН", name="c", printer="kab12", output_dir=tmp_path, lp=None,
        now=NOW,
    )  # fmt: skip
    assert not result.printed and "lp (CUPS) не найдена" in result.message


def test_lp_timeout(tmp_path: Path) -> None:
    def hang(*args: object, **kw: object) -> None:
        raise subprocess.TimeoutExpired("lp", 30)

    result = printing.print_document(
        "x\n", title="T", name="c", printer="p", output_dir=tmp_path, lp="lp", run=hang, now=NOW
    )
    assert not result.printed and result.path is not None
    assert os.path.exists(result.path)
