"""Workstation configuration: which provider signs here, with which settings, and whose key.

Two TOML files, the user's overriding the system's key by key:

* system-wide ``/etc/eln/workstation.toml`` (``$ELN_WORKSTATION_CONFIG`` overrides the path),
  written by the admin with ``eln crypto use``;
* per user ``~/.config/eln/workstation.toml`` (``$XDG_CONFIG_HOME``; ``$ELN_USER_CONFIG``
  overrides the path), where a user's profile names the certificate he signs with.

Example::

    [signing]
    provider = "pkcs11"

    [providers.pkcs11]
    module = "/usr/lib/librtpkcs11ecp.so"
    token_label = "Rutoken ECP"

    [profile]
    certificate = "7BD7C839870945F7C20A48286C97F0BE"   # serial or SHA-1 thumbprint

Other sections (other parts of the product keep theirs in the same file) are preserved when
``eln crypto use`` rewrites the file; comments are not (tomllib does not keep them).
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from providers.errors import BadConfiguration

SYSTEM_CONFIG = Path("/etc/eln/workstation.toml")
ENV_SYSTEM = "ELN_WORKSTATION_CONFIG"
ENV_USER = "ELN_USER_CONFIG"


def system_config_path() -> Path:
    env = os.environ.get(ENV_SYSTEM)
    return Path(env) if env else SYSTEM_CONFIG


def user_config_path() -> Path:
    env = os.environ.get(ENV_USER)
    if env:
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "eln" / "workstation.toml"


@dataclass
class WorkstationConfig:
    """The merged view of both files."""

    provider: str | None = None
    providers: dict[str, dict[str, Any]] = field(default_factory=dict)
    certificate: str | None = None
    sources: list[Path] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)

    def settings_for(self, name: str) -> dict[str, Any]:
        return dict(self.providers.get(name, {}))


def read_toml(path: Path) -> dict[str, Any]:
    """One file as a dict ({} if it does not exist); BadConfiguration if it is broken."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise BadConfiguration(
            f"Не удалось прочитать файл настройки {path}: {exc.strerror}."
        ) from None
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadConfiguration(f"Файл настройки {path} не в кодировке UTF-8.") from None
    except tomllib.TOMLDecodeError as exc:
        raise BadConfiguration(f"Файл настройки {path} испорчен: {exc}.") from None


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_config(system: Path | None = None, user: Path | None = None) -> WorkstationConfig:
    """Read and merge the system and user files (either may be missing)."""
    system = system or system_config_path()
    user = user or user_config_path()
    merged: dict[str, Any] = {}
    sources = []
    for path in (system, user):
        data = read_toml(path)
        if data:
            sources.append(path)
            _check_shape(data, path)
            merged = _merge(merged, data)
    signing = merged.get("signing", {})
    profile = merged.get("profile", {})
    providers = {name: dict(table) for name, table in merged.get("providers", {}).items()}
    return WorkstationConfig(
        provider=signing.get("provider"),
        providers=providers,
        certificate=profile.get("certificate"),
        sources=sources,
        raw=merged,
    )


def _check_shape(data: dict[str, Any], path: Path) -> None:
    signing = data.get("signing", {})
    if not isinstance(signing, dict):
        raise BadConfiguration(f"В файле {path} «signing» должен быть разделом [signing].")
    if "provider" in signing and not isinstance(signing["provider"], str):
        raise BadConfiguration(f"В файле {path} signing.provider должен быть строкой.")
    providers = data.get("providers", {})
    if not isinstance(providers, dict) or not all(isinstance(v, dict) for v in providers.values()):
        raise BadConfiguration(
            f"В файле {path} настройки средств подписи должны быть разделами [providers.<имя>]."
        )
    profile = data.get("profile", {})
    if not isinstance(profile, dict):
        raise BadConfiguration(f"В файле {path} «profile» должен быть разделом [profile].")
    if "certificate" in profile and not isinstance(profile["certificate"], str):
        raise BadConfiguration(
            f"В файле {path} profile.certificate должен быть строкой "
            "(серийный номер или отпечаток)."
        )


# ----------------------------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------------------------


def set_provider(
    path: Path, name: str, settings: Mapping[str, Any], *, mode: int = 0o644
) -> dict[str, Any]:
    """Make ``name`` the provider in the file at ``path`` with exactly these settings."""
    data = read_toml(path)
    signing = dict(data.get("signing") or {})
    signing["provider"] = name
    data["signing"] = signing
    providers = dict(data.get("providers") or {})
    providers[name] = {
        k: (str(v) if isinstance(v, os.PathLike) else v) for k, v in settings.items()
    }
    data["providers"] = providers
    write_toml(path, data, mode=mode)
    return data


def set_profile_certificate(path: Path, certificate: str, *, mode: int = 0o600) -> dict[str, Any]:
    data = read_toml(path)
    profile = dict(data.get("profile") or {})
    profile["certificate"] = certificate
    data["profile"] = profile
    write_toml(path, data, mode=mode)
    return data


HEADER = "# Настройка рабочего места ЭЛН. Файл переписывается командой «eln crypto use».\n"


def write_toml(path: Path, data: Mapping[str, Any], *, mode: int = 0o644) -> None:
    """Write atomically (temporary file + rename) with the given permissions."""
    text = HEADER + dumps(data)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".workstation-", suffix=".toml", dir=path.parent)
        try:
            os.fchmod(fd, mode)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    except PermissionError:
        raise BadConfiguration(
            f"Нет прав на запись {path}: запустите команду от администратора (sudo) "
            "или сохраните настройку для себя (--user)."
        ) from None
    except OSError as exc:
        raise BadConfiguration(f"Не удалось записать {path}: {exc.strerror}.") from None


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _string(key)


def _string(value: str) -> str:
    out = ['"']
    for ch in value:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, os.PathLike):
        return _string(os.fspath(value))
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_key(str(k))} = {_value(v)}" for k, v in value.items()) + "}"
    raise BadConfiguration(f"Значение {value!r} нельзя записать в файл настройки.")


def dumps(data: Mapping[str, Any]) -> str:
    """A small TOML writer: scalars, arrays, tables and nested tables (enough for this file)."""
    lines: list[str] = []
    _emit(lines, data, [])
    return "\n".join(lines).strip("\n") + "\n"


def _emit(lines: list[str], table: Mapping[str, Any], prefix: list[str]) -> None:
    scalars = [(k, v) for k, v in table.items() if not isinstance(v, Mapping)]
    tables = [(k, v) for k, v in table.items() if isinstance(v, Mapping)]
    if prefix and (scalars or not tables):
        lines.append("")
        lines.append("[" + ".".join(_key(p) for p in prefix) + "]")
    for key, value in scalars:
        lines.append(f"{_key(str(key))} = {_value(value)}")
    for key, value in tables:
        _emit(lines, value, [*prefix, str(key)])
