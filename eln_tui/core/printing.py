"""The two printed forms of the doctor's desk (seed 000, «Печать»), as plain text.

- «Согласие на ЭЛН»: the patient's consent to an electronic LN and to the processing of personal
  data; printed before the consent mark is set (seed 000 figure 50; the seed shows the form only
  as a picture, so the wording is ours);
- «Информация для пациента»: the patient's name, the ELN number and the workplace, for the
  employer's accounts department.

Documents are UTF-8 text lines of at most :data:`WIDTH` characters, so any printer (and ``lp``'s
text filter) prints them. :func:`print_document` sends one to a CUPS printer with ``lp`` when a
printer is configured and ``lp`` exists, and otherwise (or when ``lp`` fails) saves it to a file
whose path it reports. It blocks: the UI calls it from a worker thread.
"""

from __future__ import annotations

import enum
import re
import shutil
import subprocess
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from eln_tui.core.domain.model import Eln
from eln_tui.core.errors import ElnError

WIDTH = 78
LP_TIMEOUT_S = 30


class PrintError(ElnError):
    """A document cannot be printed or saved."""


class PrintForm(enum.StrEnum):
    CONSENT = "consent"
    PATIENT_INFO = "patient_info"

    @property
    def label(self) -> str:
        return {
            PrintForm.CONSENT: "Согласие на ЭЛН",
            PrintForm.PATIENT_INFO: "Информация для пациента",
        }[self]


def _d(value: date | None) -> str:
    return value.strftime("%d.%m.%Y") if value else "____________"


def _snils(value: str | None) -> str:
    if value and len(value) == 11 and value.isdigit():
        return f"{value[:3]}-{value[3:6]}-{value[6:9]} {value[9:]}"
    return value or "______________"


def _center(text: str) -> str:
    return text.center(WIDTH).rstrip()


def _para(text: str) -> list[str]:
    return textwrap.wrap(text, WIDTH) or [""]


def _blank(value: str | None, width: int = 30) -> str:
    return value if value and value.strip() else "_" * width


def consent_document(eln: Eln, *, today: date) -> str:
    """«Согласие на формирование листка нетрудоспособности в форме электронного документа»."""
    lpu = eln.lpu
    ogrn = f" (ОГРН {lpu.ogrn})" if lpu.ogrn else ""
    address = f", адрес: {lpu.address}" if lpu.address else ""
    lines = [
        _center("СОГЛАСИЕ"),
        _center("на формирование листка нетрудоспособности в форме электронного документа"),
        _center("и на обработку персональных данных"),
        "",
        *_para(
            f"Я, {_blank(eln.patient_fio, 40)}, дата рождения {_d(eln.patient.birthday)}, "
            f"СНИЛС {_snils(eln.patient.snils)}, даю согласие медицинской организации "
            f"{_blank(lpu.name)}{ogrn}{address} на формирование листка нетрудоспособности в "
            "форме электронного документа и на обработку моих персональных данных, "
            "необходимых для его формирования и передачи в информационную систему "
            "ЕИИС «Соцстрах», в том числе сведений о состоянии здоровья."
        ),
        "",
        *_para(
            "Я уведомлен(а), что номер электронного листка нетрудоспособности и мой СНИЛС "
            "необходимо сообщить работодателю (страхователю), и что согласие может быть "
            "отозвано мной письменно; отзыв не влияет на уже сформированный листок."
        ),
        "",
        f"Дата: {_d(today)}",
        "",
        "Подпись пациента: ______________________ / " + _blank(eln.patient_fio, 25) + " /",
        "",
        "Согласие принял(а): ____________________ / ______________________________ /",
    ]
    return "\n".join(lines) + "\n"


def patient_info_document(eln: Eln) -> str:
    """«Информация для пациента»: FIO, ELN number and workplace (seed 000)."""
    if not eln.ln_code:
        raise PrintError(
            "Номер ЭЛН ещё не получен: сначала нажмите «Получить номер», затем печатайте "
            "«Информацию для пациента».",
            field="ln_code",
        )
    lines = [
        _center("ИНФОРМАЦИЯ ДЛЯ ПАЦИЕНТА"),
        _center("об электронном листке нетрудоспособности"),
        "",
        f"Пациент:          {_blank(eln.patient_fio, 40)}",
        f"Номер ЭЛН:        {eln.ln_code}",
        f"Место работы:     {_blank(eln.employer.name, 40)}",
        f"Дата выдачи:      {_d(eln.ln_date)}",
        *_para(f"Медицинская организация: {_blank(eln.lpu.name)}"),
        "",
        *_para(
            "Листок нетрудоспособности сформирован в форме электронного документа. Сообщите "
            "его номер и свой СНИЛС работодателю (в бухгалтерию) для назначения пособия; "
            "бумажный бланк не выдаётся."
        ),
    ]
    return "\n".join(lines) + "\n"


def render(form: PrintForm, eln: Eln, *, today: date) -> str:
    if form is PrintForm.CONSENT:
        return consent_document(eln, today=today)
    return patient_info_document(eln)


@dataclass(frozen=True)
class PrintResult:
    """What happened to a document: sent to ``printer`` or saved at ``path``."""

    printed: bool
    message: str  # Russian sentence for the user
    printer: str | None = None
    path: Path | None = None


Runner = Callable[..., Any]
_SAFE = re.compile(r"[^0-9A-Za-z_.-]+")


def _save(text: str, directory: Path, name: str, now: datetime) -> Path:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{_SAFE.sub('-', name)}-{now:%Y%m%d-%H%M%S}.txt"
        n = 1
        while path.exists():
            n += 1
            path = directory / f"{_SAFE.sub('-', name)}-{now:%Y%m%d-%H%M%S}-{n}.txt"
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise PrintError(
            f"Не удалось сохранить документ в каталог {directory}: {exc.strerror or exc}."
        ) from exc
    return path


def print_document(
    text: str,
    *,
    title: str,
    name: str,
    printer: str | None,
    output_dir: Path,
    now: datetime | None = None,
    lp: str | bool | None = True,
    run: Runner = subprocess.run,
) -> PrintResult:
    """Send ``text`` to the CUPS ``printer`` with ``lp``, or save it under ``output_dir``.

    ``lp=True`` looks the command up on ``PATH``; pass a path, or ``None`` to never print.
    ``name`` becomes the file name stem (ASCII-safe).
    """
    now = now or datetime.now()
    command = shutil.which("lp") if lp is True else (lp or None)
    failure = ""
    if printer and command:
        args: Sequence[str] = [str(command), "-d", printer, "-t", title, "-o", "cpi=12", "-"]
        try:
            done = run(
                args,
                input=text.encode("utf-8"),
                capture_output=True,
                timeout=LP_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            failure = str(exc)
        else:
            if done.returncode == 0:
                return PrintResult(
                    True, f"Документ «{title}» отправлен на принтер «{printer}».", printer=printer
                )
            failure = (done.stderr or b"").decode("utf-8", "replace").strip() or (
                f"код завершения {done.returncode}"
            )
    path = _save(text, output_dir, name, now)
    if failure:
        message = (
            f"Печать на принтер «{printer}» не удалась ({failure}); документ «{title}» сохранён "
            f"в файл {path}."
        )
    elif printer and not command:
        message = f"Команда печати lp (CUPS) не найдена; документ «{title}» сохранён в файл {path}."
    else:
        message = f"Принтер не настроен; документ «{title}» сохранён в файл {path}."
    return PrintResult(False, message, printer=printer, path=path)
