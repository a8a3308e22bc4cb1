"""``eln crypto``: choose and check the signing provider of a workstation.

::

    eln crypto providers                      what is installed and usable, and why not
    eln crypto certs [--provider P ...]       certificates the provider can sign with
    eln crypto use PROVIDER [options]         write the workstation configuration
    eln crypto profile [--cert SERIAL]        show or set the user's certificate
    eln crypto test-sign [--cert SERIAL]      sign a test digest and verify it with gostsign
    eln crypto sign --cert SERIAL FILE -o SIG raw signature of FILE's Streebog hash
    eln crypto test-set DIR                   software test keys (CA, МО, doctors, ВК)

Every command takes the provider options (``--provider pkcs11 --module LIB --token-label L``,
``--provider remote --socket PATH``, ...) and the PIN options (``--pin-file F``, ``--pin-pad``,
``--no-pin``), so it works without any configuration file.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eln_tui.cli.main import EXIT_CONFIG, EXIT_FAILED, EXIT_OK, CliError
from gostsign.errors import GostError
from providers.base import (
    NO_PIN,
    PIN_PAD,
    CertificateInfo,
    PinMode,
    PinPrompt,
    PinSource,
    Provider,
    format_table,
    select_certificate,
)
from providers.cli import add_provider_arguments, cli_settings, pin_from_args, settings_for
from providers.config import (
    WorkstationConfig,
    load_config,
    set_profile_certificate,
    set_provider,
    system_config_path,
    user_config_path,
)
from providers.errors import BadConfiguration, ProviderError, TokenNotPresent
from providers.inventory import sign_check, survey
from providers.registry import provider_class, provider_entries


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    crypto = subparsers.add_parser(
        "crypto",
        help="средства подписи: выбор, проверка, подпись",
        description="Средства подписи рабочего места (программные ключи, токены PKCS#11, "
        "агент подписи, КриптоПро, ViPNet).",
    )
    sub = crypto.add_subparsers(dest="crypto_command", metavar="ДЕЙСТВИЕ")
    sub.required = True

    def common(p: argparse.ArgumentParser, *, with_pin: bool = True) -> None:
        p.add_argument(
            "--config",
            metavar="FILE",
            help=f"файл настройки рабочего места (по умолчанию {system_config_path()})",
        )
        p.add_argument(
            "--user-config",
            metavar="FILE",
            help=f"личный файл настройки (по умолчанию {user_config_path()})",
        )
        add_provider_arguments(p, with_pin=with_pin)

    p = sub.add_parser("providers", help="какие средства подписи установлены и работают")
    common(p, with_pin=False)
    p.add_argument("--json", action="store_true", help="вывод в JSON")
    p.set_defaults(func=cmd_providers)

    p = sub.add_parser("certs", help="сертификаты, которыми можно подписывать")
    common(p, with_pin=False)
    p.add_argument("--json", action="store_true", help="вывод в JSON")
    p.set_defaults(func=cmd_certs)

    p = sub.add_parser(
        "use",
        help="выбрать средство подписи рабочего места (записывает файл настройки)",
        description="Записывает в файл настройки средство подписи и его параметры, например: "
        "eln crypto use pkcs11 --module /usr/lib/librtpkcs11ecp.so",
    )
    p.add_argument("use_provider", metavar="PROVIDER", help="имя средства подписи")
    common(p, with_pin=False)
    p.add_argument(
        "--user", action="store_true", help="записать в личный файл настройки, а не в системный"
    )
    p.set_defaults(func=cmd_use)

    p = sub.add_parser("profile", help="показать или задать свой сертификат подписи")
    common(p, with_pin=False)
    p.add_argument("--cert", metavar="SERIAL", help="серийный номер или отпечаток сертификата")
    p.set_defaults(func=cmd_profile)

    p = sub.add_parser("test-sign", help="подписать тестовый хэш и проверить подпись")
    common(p)
    p.add_argument("--cert", metavar="SERIAL", help="серийный номер или отпечаток сертификата")
    p.set_defaults(func=cmd_test_sign)

    p = sub.add_parser("sign", help="подпись (s||r) хэша Стрибог файла, как «gostsign sign»")
    common(p)
    p.add_argument("--cert", metavar="SERIAL", help="серийный номер или отпечаток сертификата")
    p.add_argument("file", metavar="FILE")
    p.add_argument("-o", "--output", metavar="SIG", required=True)
    p.set_defaults(func=cmd_sign)

    p = sub.add_parser(
        "test-set", help="создать тестовый набор программных ключей (УЦ, МО, врачи, ВК)"
    )
    p.add_argument("directory", metavar="DIR")
    p.add_argument("--password-file", metavar="FILE", help="пароль ключей (первая строка файла)")
    p.add_argument(
        "--curve",
        default="cryptopro-xcha",
        help="кривая (по умолчанию cryptopro-xcha, как в примерах Фонда)",
    )
    p.set_defaults(func=cmd_test_set)


# ----------------------------------------------------------------------------------------------
# Shared plumbing
# ----------------------------------------------------------------------------------------------


def _config(args: argparse.Namespace) -> WorkstationConfig:
    return load_config(
        Path(args.config) if args.config else None,
        Path(args.user_config) if args.user_config else None,
    )


def _provider(args: argparse.Namespace, cfg: WorkstationConfig) -> Provider:
    name = args.provider or cfg.provider
    if not name:
        raise BadConfiguration(
            "Средство подписи не выбрано: укажите --provider или настройте рабочее место "
            "командой «eln crypto use»."
        )
    cls = provider_class(name)
    settings = cfg.settings_for(name)
    settings.update(settings_for(cls, cli_settings(args)))
    provider = cls(settings)
    provider.check_configuration()
    return provider


def _cert_ref(args: argparse.Namespace, cfg: WorkstationConfig) -> str | None:
    ref: str | None = getattr(args, "cert", None) or cfg.certificate
    return ref


def _choose(provider: Provider, ref: str | None) -> CertificateInfo:
    certs = provider.list_certificates()
    if ref:
        return select_certificate(certs, ref)
    if not certs:
        raise CliError(f"Средство подписи «{provider.name}» не видит ни одного сертификата.")
    if len(certs) > 1:
        listing = "; ".join(f"{c.serial_hex} ({c.common_name})" for c in certs[:6])
        raise CliError(
            f"Сертификатов несколько ({listing}): выберите один параметром --cert "
            "или командой «eln crypto profile --cert ...»."
        )
    return certs[0]


def _pin(args: argparse.Namespace, provider: Provider, info: CertificateInfo) -> PinSource:
    explicit = pin_from_args(args, default=_UNSET)
    if explicit is not _UNSET:
        return explicit
    mode = provider.pin_mode(info)
    if mode is PinMode.PIN_PAD:
        print("Введите PIN-код на считывателе.", file=sys.stderr)
        return PIN_PAD
    if mode is PinMode.ELSEWHERE:
        print("PIN-код запросит агент подписи на тонком клиенте.", file=sys.stderr)
        return NO_PIN
    if mode is PinMode.NONE or not sys.stdin.isatty():
        return NO_PIN
    return PinPrompt(lambda question: getpass.getpass(question + " "))


class _Unset(PinSource):
    kind = "unset"


_UNSET = _Unset()


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def _wrap(func: Any) -> Any:
    """Turn provider and gostsign errors into one sentence for the user."""

    def run(args: argparse.Namespace) -> int:
        try:
            result: int = func(args)
            return result
        except ProviderError as exc:
            raise CliError(exc.message, EXIT_CONFIG) from None
        except GostError as exc:
            raise CliError(f"Ошибка криптографии: {exc}.", EXIT_CONFIG) from None
        except OSError as exc:
            name = f" {exc.filename}" if exc.filename else ""
            raise CliError(f"Ошибка файла{name}: {exc.strerror or exc}.", EXIT_CONFIG) from None

    run.__name__ = func.__name__
    run.__doc__ = func.__doc__
    return run


# ----------------------------------------------------------------------------------------------
# Commands
# ----------------------------------------------------------------------------------------------


@_wrap
def cmd_providers(args: argparse.Namespace) -> int:
    cfg = _config(args)
    chosen = args.provider or cfg.provider

    def settings(name: str) -> dict[str, Any]:
        values = cfg.settings_for(name)
        if name == args.provider:
            values.update(settings_for(provider_class(name), cli_settings(args)))
        return values

    rows = survey(settings, chosen)
    if args.json:
        _print_json([r.as_dict() for r in rows])
        return EXIT_OK
    table = [("", "имя", "средство", "состояние")]
    for r in rows:
        table.append(("*" if r.selected else "", r.name, r.title, r.state))
    print(format_table(table))
    if chosen:
        print(f"\n* — выбрано для этого рабочего места ({chosen}).")
    else:
        print("\nСредство подписи не выбрано: «eln crypto use ИМЯ [параметры]».")
    return EXIT_OK


def _certs_of(provider: Provider) -> list[CertificateInfo]:
    return provider.list_certificates()


@_wrap
def cmd_certs(args: argparse.Namespace) -> int:
    cfg = _config(args)
    providers: list[Provider] = []
    if args.provider or cfg.provider:
        providers.append(_provider(args, cfg))
    else:
        for name, entry in sorted(provider_entries().items()):
            try:
                p = entry.load()(cfg.settings_for(name))
            except ProviderError:
                continue
            if p.availability():
                providers.append(p)
    certs: list[CertificateInfo] = []
    for p in providers:
        try:
            certs.extend(_certs_of(p))
        finally:
            p.close()
    if args.json:
        _print_json([c.as_dict() for c in certs])
        return EXIT_OK
    if not certs:
        print("Сертификатов не найдено.")
        return EXIT_OK
    now = datetime.now(UTC)
    table = [("серийный номер", "владелец", "действует до", "алгоритм", "где", "ключ", "отпечаток")]
    for c in certs:
        until = f"{c.not_after:%Y-%m-%d}" + (" (истёк)" if c.not_after < now else "")
        key = c.key_label or ""
        if c.key_id:
            key += f" [id {c.key_id}]"
        table.append(
            (
                c.serial_hex,
                c.common_name,
                until,
                c.algorithm,
                f"{c.provider}: {c.token}",
                key,
                c.thumbprint,
            )
        )
    print(format_table(table))
    if cfg.certificate:
        print(f"\nСертификат в профиле пользователя: {cfg.certificate}")
    return EXIT_OK


@_wrap
def cmd_use(args: argparse.Namespace) -> int:
    name = args.use_provider
    if args.provider and args.provider != name:
        raise BadConfiguration(
            f"Указаны два средства подписи: «{name}» и --provider {args.provider}."
        )
    cls = provider_class(name)
    settings = settings_for(cls, cli_settings(args))
    provider = cls(settings)
    provider.check_configuration()
    if args.user:
        path = Path(args.user_config) if args.user_config else user_config_path()
        mode = 0o600
    else:
        path = Path(args.config) if args.config else system_config_path()
        mode = 0o644
    set_provider(path, name, provider.settings, mode=mode)
    print(f"Средство подписи «{name}» записано в {path}.")
    avail = provider.availability()
    if not avail:
        print(f"Внимание: сейчас оно не работает: {avail.reason}", file=sys.stderr)
    else:
        try:
            count = len(provider.list_certificates())
            print(f"Доступно сертификатов: {count}.")
        except TokenNotPresent as exc:
            print(f"Внимание: {exc.message}", file=sys.stderr)
    provider.close()
    return EXIT_OK


@_wrap
def cmd_profile(args: argparse.Namespace) -> int:
    cfg = _config(args)
    path = Path(args.user_config) if args.user_config else user_config_path()
    if not args.cert:
        if cfg.certificate:
            print(f"Сертификат подписи пользователя: {cfg.certificate}")
        else:
            print(
                "Сертификат подписи в профиле не задан: «eln crypto profile --cert СЕРИЙНЫЙ_НОМЕР»."
            )
        return EXIT_OK
    provider = _provider(args, cfg)
    try:
        info = select_certificate(provider.list_certificates(), args.cert)
    finally:
        provider.close()
    set_profile_certificate(path, info.thumbprint)
    print(f"Сертификат {info.describe()} записан в профиль {path}.")
    return EXIT_OK


@_wrap
def cmd_test_sign(args: argparse.Namespace) -> int:
    cfg = _config(args)
    provider = _provider(args, cfg)
    try:
        info = _choose(provider, _cert_ref(args, cfg))
        print(f"Сертификат: {info.describe()}")
        print(f"Где ключ:   {info.provider}: {info.token}")
        result = sign_check(provider, info, _pin(args, provider, info))
        print(f"Хэш ({info.algorithm}): {result.digest.hex()}")
        if not result.verified:
            print("Подпись НЕ проверяется сертификатом.", file=sys.stderr)
            return EXIT_FAILED
        print(f"Подпись (s||r): {result.signature.hex()}")
        print("Подпись проверена gostsign: верна.")
        if not result.valid_now:
            print(
                f"Внимание: сертификат недействителен сейчас (срок {info.not_before:%Y-%m-%d} — "
                f"{info.not_after:%Y-%m-%d}).",
                file=sys.stderr,
            )
        return EXIT_OK
    finally:
        provider.close()


@_wrap
def cmd_sign(args: argparse.Namespace) -> int:
    cfg = _config(args)
    try:
        data = Path(args.file).read_bytes()
    except FileNotFoundError:
        raise CliError(f"Файл {args.file} не найден.") from None
    provider = _provider(args, cfg)
    try:
        info = _choose(provider, _cert_ref(args, cfg))
        with provider.open_session(info, _pin(args, provider, info)) as session:
            signature = session.sign(data)
    finally:
        provider.close()
    Path(args.output).write_bytes(signature)
    print(
        f"Подпись {len(signature)} байт ({info.algorithm}, {info.describe()}) "
        f"записана в {args.output}.",
        file=sys.stderr,
    )
    return EXIT_OK


@_wrap
def cmd_test_set(args: argparse.Namespace) -> int:
    from providers.software import create_test_set

    if args.password_file:
        lines = Path(args.password_file).read_text(encoding="utf-8").splitlines()
        password = lines[0] if lines else ""
    elif sys.stdin.isatty():
        password = getpass.getpass("Пароль для ключей тестового набора: ")
        if password != getpass.getpass("Повторите пароль: "):
            raise CliError("Пароли не совпадают.")
    else:
        raise CliError("Укажите пароль ключей: --password-file ФАЙЛ.")
    if not password:
        raise CliError("Пустой пароль не защищает ключи; задайте пароль.")
    target = Path(args.directory)
    if target.exists() and any(target.iterdir()):
        raise CliError(f"Каталог {target} не пуст; укажите новый каталог.")
    ts = create_test_set(target, password, curve=args.curve)
    rows = [("роль", "серийный номер", "владелец", "действует до")]
    for role, info in ts.entries.items():
        rows.append((role, info.serial_hex, info.common_name, f"{info.not_after:%Y-%m-%d}"))
    print(format_table(rows))
    print(f"\nКлючи и сертификаты: {ts.directory} (тестовый УЦ: {ts.ca_cert_file}).")
    print(f"Выбрать их для рабочего места: eln crypto use software --key-dir {ts.directory} --user")
    return EXIT_OK
