"""``eln init | db | numbers | ln | registry | journal | audit``: the journal without a UI.

Configuration: the workstation TOML (see providers/config.py) with two more sections::

    [database]
    url = "postgresql://eln@db/eln"          # default: SQLite in the user's data directory

    [fss]
    ogrn = "1027700000019"
    version = "2.0"
    contour = "test"                          # test, prod, test-plain, emulator
    url = "https://..."                       # optional, required for the emulator
    fund_certificate = "/etc/eln/fss.cer"     # the Fund's certificate (PEM or DER)
    mo_certificate = "label:mo"               # the МО key, as the provider names it
    author = "Иванова М. П."
    phone = "+7 495 000-00-00"
    email = "eln@example.test"

Every command also takes ``--db URL`` and ``--user LOGIN`` (the acting user; default ``$ELN_USER``
or the OS login) and ``--json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from eln_tui.cli.main import EXIT_FAILED, EXIT_OK, CliError
from eln_tui.core.domain import flk
from eln_tui.core.domain.codes import JournalView, Role, SignerSlot
from eln_tui.core.domain.flk import CheckContext
from eln_tui.core.domain.lifecycle import Signer
from eln_tui.core.domain.model import Block, Eln
from eln_tui.core.errors import ElnError, NotFound
from eln_tui.core.exchange.eln_json import from_json, to_json
from eln_tui.core.exchange.service import (
    ExchangeService,
    MessageProgress,
)
from eln_tui.core.exchange.service import preview as registry_preview
from eln_tui.core.storage import STALE_AFTER, ElnStore, open_database, upgrade
from eln_tui.core.storage.repository import OrganisationData, SettingsData, UserInfo
from providers.cli import add_provider_arguments, cli_settings, pin_from_args
from providers.config import WorkstationConfig, load_config

# --- shared helpers ------------------------------------------------------------------------------


def _common(p: argparse.ArgumentParser, *, provider: bool = False) -> None:
    p.add_argument("--config", metavar="FILE", help="файл настройки рабочего места")
    p.add_argument("--user-config", metavar="FILE", help="личный файл настройки")
    p.add_argument("--db", metavar="URL", help="адрес базы данных (иначе из [database])")
    p.add_argument("--user", metavar="LOGIN", help="пользователь, от имени которого действовать")
    p.add_argument("--json", action="store_true", help="вывод в JSON")
    if provider:
        add_provider_arguments(p)


def _config(args: argparse.Namespace) -> WorkstationConfig:
    return load_config(
        Path(args.config) if args.config else None,
        Path(args.user_config) if args.user_config else None,
    )


def _section(cfg: WorkstationConfig, name: str) -> dict[str, Any]:
    value = cfg.raw.get(name, {})
    if not isinstance(value, dict):
        raise CliError(f"Раздел [{name}] файла настройки должен быть таблицей.")
    return value


def _db_url(args: argparse.Namespace, cfg: WorkstationConfig) -> str | None:
    url = args.db or _section(cfg, "database").get("url")
    return str(url) if url else None


@contextmanager
def _store(args: argparse.Namespace, *, migrate: bool = False) -> Iterator[ElnStore]:
    cfg = _config(args)
    db = open_database(_db_url(args, cfg))
    try:
        if migrate:
            upgrade(db)
        yield ElnStore(db)
    finally:
        db.close()


def _login(args: argparse.Namespace) -> str:
    return str(args.user or os.environ.get("ELN_USER") or getpass.getuser())


def _user(store: ElnStore, args: argparse.Namespace) -> UserInfo:
    login = _login(args)
    try:
        return store.user_by_login(login)
    except NotFound:
        raise CliError(f"Пользователь «{login}» не зарегистрирован в журнале ЭЛН.") from None


def _emit(args: argparse.Namespace, data: Any, text: str) -> None:
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        print(text)


def _read_json(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CliError(f"Файл «{path}» не найден.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CliError(f"Файл «{path}» не является корректным JSON ({exc}).") from None
    except RecursionError:
        raise CliError(
            f"Файл «{path}» не является корректным ЭЛН: слишком глубокая вложенность JSON."
        ) from None


def _open_key(args: argparse.Namespace, cfg: WorkstationConfig, reference: str) -> Any:
    from providers.registry import provider_class

    name = args.provider or cfg.provider
    if not name:
        raise CliError("Средство подписи не выбрано: укажите --provider или «eln crypto use».")
    cls = provider_class(name)
    settings = cfg.settings_for(name) | cli_settings(args)
    provider = cls(settings)
    return provider.open_session(reference, pin_from_args(args))


@contextmanager
def _exchange(
    args: argparse.Namespace, store: ElnStore, actor: Signer
) -> Iterator[ExchangeService]:
    """The service over the МО key: the same assembly as the UI's (core ``open_exchange``)."""
    from eln_tui.core.exchange import open_exchange
    from providers.registry import provider_class

    cfg = _config(args)
    name = args.provider or cfg.provider
    if not name:
        raise CliError("Средство подписи не выбрано: укажите --provider или «eln crypto use».")
    provider = provider_class(name)(cfg.settings_for(name) | cli_settings(args))
    with open_exchange(store, provider, actor, _section(cfg, "fss"), pin_from_args(args)) as svc:
        yield svc


def _minutes(value: str) -> int:
    if not value.strip().isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"«{value}»: укажите целое число минут, не меньше 1")
    return int(value)


def _parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"дата «{value}» не в формате ГГГГ-ММ-ДД") from None


# --- registration ---------------------------------------------------------------------------------


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("init", help="создать базу журнала ЭЛН и настройки МО")
    _common(p)
    p.add_argument("--ogrn", required=True, help="ОГРН МО")
    p.add_argument("--name", required=True, help="наименование МО")
    p.add_argument("--address", required=True, help="официальный адрес МО")
    p.add_argument("--phone", default=None, help="телефон ответственного за реестры")
    p.add_argument("--email", default=None, help="e-mail ответственного за реестры")
    p.add_argument("--full-name", default=None, help="ФИО администратора (пользователь --user)")
    p.add_argument("--server-url", default=None, help="адрес сервера ЕИИС (иначе из [fss] url)")
    p.set_defaults(func=cmd_init)

    db = subparsers.add_parser("db", help="база данных журнала")
    dsub = db.add_subparsers(dest="db_command", metavar="ДЕЙСТВИЕ")
    dsub.required = True
    p = dsub.add_parser("upgrade", help="обновить схему базы данных")
    _common(p)
    p.set_defaults(func=cmd_db_upgrade)

    numbers = subparsers.add_parser("numbers", help="пул номеров ЭЛН")
    nsub = numbers.add_subparsers(dest="numbers_command", metavar="ДЕЙСТВИЕ")
    nsub.required = True
    p = nsub.add_parser("request", help="запросить номера в СФР")
    _common(p, provider=True)
    p.add_argument("count", type=int, metavar="N")
    p.set_defaults(func=cmd_numbers_request)
    p = nsub.add_parser("list", help="номера пула и их состояние")
    _common(p)
    p.set_defaults(func=cmd_numbers_list)
    p = nsub.add_parser("existing", help="загрузить номера, уже выданные СФР")
    _common(p, provider=True)
    p.set_defaults(func=cmd_numbers_existing)
    p = nsub.add_parser("return", help="вернуть в СФР неиспользованные номера")
    _common(p, provider=True)
    p.add_argument("numbers", nargs="*", metavar="НОМЕР", help="по умолчанию — все свободные")
    p.set_defaults(func=cmd_numbers_return)
    p = nsub.add_parser(
        "release-stale", help="освободить зависшие номера (заняты давно, ЭЛН не сохранён)"
    )
    _common(p)
    p.add_argument(
        "--older-than",
        type=_minutes,
        default=int(STALE_AFTER.total_seconds() // 60),
        metavar="МИНУТ",
        help="занят более стольких минут назад (по умолчанию %(default)s)",
    )
    p.add_argument("--dry-run", action="store_true", help="только показать зависшие номера")
    p.set_defaults(func=cmd_numbers_release_stale)

    ln = subparsers.add_parser("ln", help="листки нетрудоспособности")
    lsub = ln.add_subparsers(dest="ln_command", metavar="ДЕЙСТВИЕ")
    lsub.required = True
    p = lsub.add_parser("import", help="создать или обновить ЭЛН из JSON")
    _common(p)
    p.add_argument("file", metavar="FILE.json")
    p.set_defaults(func=cmd_ln_import)
    p = lsub.add_parser("validate", help="проверить ЭЛН из JSON (ФЛК)")
    _common(p)
    p.add_argument("file", metavar="FILE.json")
    p.set_defaults(func=cmd_ln_validate)
    p = lsub.add_parser("show", help="показать ЭЛН")
    _common(p)
    p.add_argument("number", metavar="НОМЕР")
    p.set_defaults(func=cmd_ln_show)
    p = lsub.add_parser("sign", help="подписать блок ЭЛН своим сертификатом")
    _common(p, provider=True)
    p.add_argument("number", metavar="НОМЕР")
    p.add_argument("--block", required=True, help="period:N, breach или result")
    p.add_argument("--as", dest="as_", choices=["doctor", "vk"], default="doctor")
    p.add_argument("--cert", metavar="SERIAL", help="сертификат (иначе из профиля)")
    p.set_defaults(func=cmd_ln_sign)
    p = lsub.add_parser("fetch", help="получить ЭЛН из ЕИИС Соцстрах")
    _common(p, provider=True)
    p.add_argument("number", metavar="НОМЕР")
    p.add_argument("snils", metavar="СНИЛС")
    p.set_defaults(func=cmd_ln_fetch)
    p = lsub.add_parser("disable", help="прекратить ЭЛН в ЕИИС Соцстрах")
    _common(p, provider=True)
    p.add_argument("number", metavar="НОМЕР")
    p.add_argument("--reason", required=True, choices=["010", "030"])
    p.add_argument("--text", default="", help="текст причины")
    p.set_defaults(func=cmd_ln_disable)

    reg = subparsers.add_parser("registry", help="реестр ЭЛН для ЕИИС Соцстрах")
    rsub = reg.add_subparsers(dest="registry_command", metavar="ДЕЙСТВИЕ")
    rsub.required = True
    p = rsub.add_parser("send", help="сформировать и передать реестр за дату")
    _common(p, provider=True)
    p.add_argument("--date", type=_parse_date, default=None, help="ГГГГ-ММ-ДД (сегодня)")
    p.add_argument("--dry-run", action="store_true", help="только показать, что уйдёт")
    p.set_defaults(func=cmd_registry_send)

    p = subparsers.add_parser("journal", help="журнал ЭЛН")
    _common(p)
    p.add_argument("--view", choices=[v.value for v in JournalView], default="all")
    p.add_argument("--limit", type=int, default=200)
    p.set_defaults(func=cmd_journal)

    p = subparsers.add_parser("audit", help="журнал системы и журнал обмена")
    _common(p)
    p.add_argument("--ln", metavar="НОМЕР", help="только записи этого ЭЛН")
    p.add_argument("--exchange", action="store_true", help="журнал обмена с СФР")
    p.add_argument("--limit", type=int, default=200)
    p.set_defaults(func=cmd_audit)


# --- commands -------------------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    with _store(args, migrate=True) as store:
        login = _login(args)
        try:
            user = store.user_by_login(login)
        except NotFound:
            user = store.add_user(login, args.full_name or login, [Role.ADMIN, Role.ELN_OPERATOR])
        fss = _section(_config(args), "fss")
        settings = SettingsData(
            enabled=True,
            server_url=args.server_url or fss.get("url"),
            registry_phone=args.phone or fss.get("phone"),
            registry_email=args.email or fss.get("email"),
            protocol_version=str(fss.get("version", "2.0")),
        )
        org = OrganisationData(
            name=args.name, address=args.address, ogrn=args.ogrn, uses_integration=True
        )
        store.save_settings(settings, [org], user.signer)
        _emit(args, {"ok": True, "user": login}, "База данных и настройки МО созданы.")
    return EXIT_OK


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    with _store(args) as store:
        version = upgrade(store.db)
        _emit(args, {"schema_version": version}, f"Схема базы данных: версия {version}.")
    return EXIT_OK


def cmd_numbers_request(args: argparse.Namespace) -> int:
    with _store(args) as store:
        user = _user(store, args)
        with _exchange(args, store, user.signer) as svc:
            got = svc.request_numbers(args.count)
        _emit(args, {"numbers": got}, f"Получено номеров: {len(got)}.\n" + "\n".join(got))
    return EXIT_OK


def cmd_numbers_list(args: argparse.Namespace) -> int:
    from eln_tui.core.storage import models as m

    with _store(args) as store:
        rows: Any = m.ElnNumber.select().order_by(m.ElnNumber.number).bind(store.db)
        data = [{"number": r.number, "state": r.state, "eln_id": r.eln_id} for r in rows]
        counts = store.pool().counts()
        text = "\n".join(f"{d['number']}  {d['state']}" for d in data)
        summary = ", ".join(f"{k.value}: {v}" for k, v in counts.items())
        _emit(
            args,
            {"numbers": data, "counts": {k.value: v for k, v in counts.items()}},
            f"{text}\n{summary}".strip(),
        )
    return EXIT_OK


def cmd_numbers_release_stale(args: argparse.Namespace) -> int:
    """Release stale reservations a page at a time (one transaction and audit line each)."""
    older_than = timedelta(minutes=args.older_than)
    done: list[dict[str, Any]] = []
    with _store(args) as store:
        user = None if args.dry_run else _user(store, args)
        after: str | None = None
        while page := store.stale_numbers(older_than, after=after, limit=500):
            after = page[-1].number
            if user is not None:
                store.release_stale_numbers([s.number for s in page], user.signer, older_than)
            done += [
                {
                    "number": s.number,
                    "reserved_at": s.reserved_at.isoformat() if s.reserved_at else None,
                    "reserved_by": s.reserved_by_login,
                }
                for s in page
            ]
    lines = [f"{d['number']}  {d['reserved_at'] or '—'}  {d['reserved_by'] or '—'}" for d in done]
    head = "Зависшие номера" if args.dry_run else "Освобождено зависших номеров"
    text = (
        f"{head}: {len(done)}" + "".join(f"\n  {line}" for line in lines)
        if done
        else f"Зависших номеров нет (занятых более {args.older_than} мин. назад без ЭЛН)."
    )
    key = "stale" if args.dry_run else "released"
    _emit(args, {key: done, "older_than_minutes": args.older_than}, text)
    return EXIT_OK


def cmd_numbers_existing(args: argparse.Namespace) -> int:
    with _store(args) as store:
        user = _user(store, args)
        with _exchange(args, store, user.signer) as svc:
            new = svc.import_existing()
        _emit(args, {"imported": new}, f"Добавлено номеров: {len(new)}.")
    return EXIT_OK


def cmd_numbers_return(args: argparse.Namespace) -> int:
    with _store(args) as store:
        user = _user(store, args)
        with _exchange(args, store, user.signer) as svc:
            done = svc.return_numbers(args.numbers or None)
        _emit(args, {"returned": done}, f"Возвращено номеров: {len(done)}.")
    return EXIT_OK


def _violations(eln: Eln, store: ElnStore | None = None) -> list[dict[str, str]]:
    ctx = CheckContext(today=date.today())
    return [
        {"rule": v.rule_id, "field": v.field, "message": v.message, "severity": v.severity.value}
        for v in flk.check(eln, ctx)
        # without a number the pool assigns one on import
        if not (eln.ln_code is None and v.field == "ln_code")
    ]


def cmd_ln_validate(args: argparse.Namespace) -> int:
    eln = from_json(_read_json(args.file))
    found = _violations(eln)
    bad = [v for v in found if v["severity"] == "error"]
    text = "\n".join(f"{v['rule']}: {v['message']}" for v in found) or "ФЛК пройден."
    _emit(args, {"ok": not bad, "violations": found}, text)
    return EXIT_FAILED if bad else EXIT_OK


def cmd_ln_import(args: argparse.Namespace) -> int:
    data = _read_json(args.file)
    with _store(args) as store:
        user = _user(store, args)
        code = data.get("ln_code") if isinstance(data, dict) else None
        base: Eln | None = None
        if code:
            try:
                base = store.load_by_number(str(code))
            except NotFound:
                base = None
        if base is not None:
            saved = store.save(from_json(data, base), user.signer)
            action = "обновлён"
        else:
            draft = from_json(data)
            if draft.ln_code is None:
                draft = store.take_number(draft, user.signer)
            try:
                saved = store.save(draft, user.signer)
            except ElnError:
                store.discard_unsaved(draft, user.signer)
                raise
            action = "создан"
        _emit(
            args,
            {"ln_code": saved.ln_code, "id": saved.id, "action": action},
            f"ЭЛН № {saved.ln_code} {action}.",
        )
    return EXIT_OK


def cmd_ln_show(args: argparse.Namespace) -> int:
    with _store(args) as store:
        eln = store.load_by_number(args.number)
        data = to_json(eln)
        lines = [
            f"ЭЛН № {eln.ln_code}  состояние {eln.ln_state}",
            f"Пациент: {eln.patient_fio}  СНИЛС {eln.patient.snils or '—'}",
        ]
        for i, p in enumerate(eln.treat_periods, 1):
            mark = "передан" if p.sent else "не передан"
            lines.append(f"Период {i}: {p.dt1} — {p.dt2}, {p.doctor or '—'} ({mark})")
        if eln.transfer_error:
            lines.append(f"Ошибка передачи: {eln.transfer_error}")
        if eln.termination:
            lines.append(f"Прекращён: {eln.termination.reason_code} {eln.termination.reason}")
        _emit(args, data, "\n".join(lines))
    return EXIT_OK


def _block(spec: str, slot: SignerSlot) -> Block:
    if spec == "breach":
        return Block("breach")
    if spec == "result":
        return Block("result")
    if spec.startswith("period:"):
        try:
            n = int(spec.split(":", 1)[1])
        except ValueError:
            n = 0
        if n >= 1:
            return Block("period", slot, n - 1)
    raise CliError(f"Блок «{spec}» не распознан: укажите period:N, breach или result.")


def cmd_ln_sign(args: argparse.Namespace) -> int:
    """Sign a block with the user's own key: the same core service as the UI's signing dialog
    (the certificate must be the one of the user's profile)."""
    from eln_tui.core import signing

    slot = SignerSlot.VK if args.as_ == "vk" else SignerSlot.DOC
    block = _block(args.block, slot)
    if slot is SignerSlot.VK and block.kind != "period":
        raise CliError("Председатель ВК подписывает только периоды освобождения.")
    cfg = _config(args)
    with _store(args) as store:
        user = _user(store, args)
        eln = store.load_by_number(args.number)
        assert eln.id is not None
        reference = args.cert or user.cert_serial or cfg.certificate
        if not reference:
            raise CliError("В профиле пользователя не указан сертификат подписи.")
        key = _open_key(args, cfg, str(reference))
        try:
            signing.sign_block(store, eln.id, block, user, key, expected_version=eln.version)
        finally:
            key.close()
        _emit(args, {"ln_code": eln.ln_code, "block": block.suffix}, "Блок подписан.")
    return EXIT_OK


def cmd_ln_fetch(args: argparse.Namespace) -> int:
    with _store(args) as store:
        user = _user(store, args)
        with _exchange(args, store, user.signer) as svc:
            eln = svc.fetch(args.number, args.snils)
        _emit(args, to_json(eln), f"ЭЛН № {eln.ln_code} получен (состояние {eln.ln_state}).")
    return EXIT_OK


def cmd_ln_disable(args: argparse.Namespace) -> int:
    with _store(args) as store:
        user = _user(store, args)
        with _exchange(args, store, user.signer) as svc:
            eln = svc.disable(args.number, args.reason, args.text)
        _emit(args, {"ln_code": eln.ln_code, "terminated": True}, f"ЭЛН № {eln.ln_code} прекращён.")
    return EXIT_OK


def _bar(p: MessageProgress) -> None:
    width = 30
    done = width * (p.index - (0 if p.status != "sending" else 1)) // max(p.total, 1)
    bar = "#" * done + "-" * (width - done)
    print(
        f"\r[{bar}] сообщение {p.index}/{p.total} ({p.rows} ЭЛН): {p.status}",
        end="" if p.status == "sending" else "\n",
        file=sys.stderr,
        flush=True,
    )


def cmd_registry_send(args: argparse.Namespace) -> int:
    day = args.date or date.today()
    with _store(args) as store:
        if args.dry_run:
            preview = registry_preview(store, day)
            data = {
                "day": day.isoformat(),
                "ready": [dataclasses.asdict(r) for r in preview.ready],
                "blocked": [dataclasses.asdict(b) for b in preview.blocked],
            }
            lines = [f"К отправке за {day:%d.%m.%Y}: {len(preview.ready)} ЭЛН"]
            lines += [f"  {r.ln_code}: {', '.join(r.blocks)}" for r in preview.ready]
            lines += [f"Заблокировано: {len(preview.blocked)}"]
            lines += [f"  {b.ln_code or b.eln_id}: {' '.join(b.reasons)}" for b in preview.blocked]
            _emit(args, data, "\n".join(lines))
            return EXIT_OK
        user = _user(store, args)
        with _exchange(args, store, user.signer) as svc:
            report = svc.send(day, progress=None if args.json else _bar)
        lines = [
            f"Принято: {len(report.accepted) + len(report.reconciled_accepted)}",
            f"Отклонено: {len(report.rejected)}",
        ]
        lines += [f"  {k}: {v}" for k, v in report.rejected.items()]
        if report.unknown:
            lines.append(f"Ответ не получен (будет сверено): {', '.join(report.unknown)}")
        lines.append(f"Заблокировано: {len(report.blocked)}")
        _emit(args, report.to_dict(), "\n".join(lines))
        return EXIT_FAILED if report.rejected or report.unknown else EXIT_OK


def cmd_journal(args: argparse.Namespace) -> int:
    with _store(args) as store:
        page = store.journal(JournalView(args.view), limit=args.limit)
        data = [dataclasses.asdict(r) for r in page.rows]
        lines = [
            f"{r.ln_code or '—':12}  {r.patient_fio:30}  {r.first_dt1 or ''} — {r.last_dt2 or ''}"
            f"  {r.journal_state.label}" + (f"  {r.transfer_error}" if r.transfer_error else "")
            for r in page.rows
        ]
        _emit(args, data, "\n".join(lines) or "Журнал пуст.")
    return EXIT_OK


def cmd_audit(args: argparse.Namespace) -> int:
    with _store(args) as store:
        if args.exchange:
            from eln_tui.core.storage import models as m

            rows = (
                m.ExchangeLog.select().order_by(m.ExchangeLog.id.desc()).limit(args.limit)
            ).bind(store.db)
            data: list[dict[str, Any]] = [
                {
                    "at": str(r.at),
                    "operation": r.operation,
                    "request_id": r.request_id,
                    "ok": r.ok,
                    "error": r.error,
                    "user_id": r.user_id,
                }
                for r in rows
            ]
            text = "\n".join(
                f"{d['at']}  {d['operation']}  {'ok' if d['ok'] else 'ошибка'}  {d['error'] or ''}"
                for d in data
            )
        else:
            records = store.audit_trail(ln_code=args.ln, limit=args.limit)
            data = [dataclasses.asdict(r) for r in records]
            text = "\n".join(
                f"{r.at:%Y-%m-%d %H:%M:%S}  {r.login or r.user_id or '—'}  {r.action}  "
                f"{r.entity} {r.entity_id or ''} {r.ln_code or ''}"
                for r in records
            )
        _emit(args, data, text or "Записей нет.")
    return EXIT_OK


__all__ = ["register"]
