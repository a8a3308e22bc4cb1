"""The provider interface: where a key lives does not matter to the rest of the product.

A :class:`Provider` says whether it can work here (:meth:`Provider.availability`), lists the
certificates it can sign with (:meth:`Provider.list_certificates`) and opens a
:class:`KeySession` for one of them (:meth:`Provider.open_session`). A session signs Streebog
digests (GOST R 34.10-2012, 256 or 512 bit, raw ``s_be || r_be`` as gostsign expects), gives its
certificate and, where the provider can, a :class:`gostsign.vko.KeyAgreement` so that encrypted
replies are decrypted without the key leaving its home. A session satisfies
:class:`gostsign.signer.Signer` (``certificate`` + ``sign_digest``).

How the PIN gets to the key is data (:class:`PinSource`), never a prompt hidden here: a given
PIN, the token's PIN pad, a callback the UI supplies, or no PIN. A given PIN is kept in a
``bytearray`` that is zeroed once the session has logged in (CPython cannot wipe the transient
``str`` copies a PKCS#11 binding or a subprocess needs; those die with the call). PINs never
appear in ``repr``, logs or exception texts.
"""

from __future__ import annotations

import enum
import os
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, NoReturn

from gostsign import streebog
from gostsign.errors import InvalidSignature
from gostsign.vko import KeyAgreement
from gostsign.x509 import Certificate
from providers.errors import (
    BadConfiguration,
    KeyCertificateMismatch,
    KeyNotFound,
    OperationNotSupported,
    PinRequired,
    ProviderError,
    SessionClosed,
    SeveralKeysMatch,
)

# ----------------------------------------------------------------------------------------------
# PIN sources
# ----------------------------------------------------------------------------------------------


class PinSource:
    """How a session gets its PIN. Use :class:`Pin`, :data:`PIN_PAD`, :data:`NO_PIN` or
    :class:`PinPrompt`."""

    kind: ClassVar[str] = "none"

    def __reduce__(self) -> NoReturn:
        raise TypeError("PIN sources are not serialisable")


class Pin(PinSource):
    """A PIN the user typed. Wiped (zeroed) by the provider once it has been used."""

    kind = "pin"
    __slots__ = ("_buf",)

    def __init__(self, pin: str | bytes | bytearray) -> None:
        self._buf: bytearray | None = None
        raw = pin.encode("utf-8") if isinstance(pin, str) else bytes(pin)
        if not raw:
            raise ValueError("empty PIN")
        self._buf = bytearray(raw)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Pin:
        """The first line of a file (the way ``--pin-file`` passes a PIN to scripts)."""
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise BadConfiguration(
                f"Не удалось прочитать файл с PIN-кодом {path}: {exc.strerror}."
            ) from None
        lines = data.splitlines()
        first = lines[0] if lines else b""
        if not first:
            raise BadConfiguration(f"Файл с PIN-кодом {path} пуст.")
        return cls(first)

    @property
    def wiped(self) -> bool:
        return self._buf is None

    def reveal(self) -> str:
        """The PIN as text, for the one call that needs it."""
        if self._buf is None:
            raise PinRequired("PIN-код уже использован и стёрт из памяти; введите его снова.")
        return self._buf.decode("utf-8")

    def reveal_bytes(self) -> bytes:
        if self._buf is None:
            raise PinRequired("PIN-код уже использован и стёрт из памяти; введите его снова.")
        return bytes(self._buf)

    def wipe(self) -> None:
        if self._buf is not None:
            for i in range(len(self._buf)):
                self._buf[i] = 0
            self._buf = None

    def __repr__(self) -> str:
        return "Pin(<скрыт>)" if self._buf is not None else "Pin(<стёрт>)"

    __str__ = __repr__

    def __del__(self) -> None:
        self.wipe()


class PinPad(PinSource):
    """The PIN is entered on the reader's PIN pad (PKCS#11 protected authentication path)."""

    kind = "pinpad"

    def __repr__(self) -> str:
        return "PIN_PAD"


class NoPin(PinSource):
    """No PIN: the key is not protected, or the token is already logged in elsewhere."""

    kind = "none"

    def __repr__(self) -> str:
        return "NO_PIN"


class PinPrompt(PinSource):
    """Ask the user only when the key needs a PIN: ``ask(question)`` returns the PIN or None
    (cancelled). The question is a Russian sentence naming the certificate."""

    kind = "prompt"

    def __init__(self, ask: Callable[[str], str | None]) -> None:
        self.ask = ask

    def __repr__(self) -> str:
        return "PinPrompt()"


PIN_PAD = PinPad()
NO_PIN = NoPin()


def obtain_pin(source: PinSource, question: str) -> Pin | None:
    """Turn a source into a :class:`Pin` (asking through a prompt) or None for no PIN.

    A cancelled prompt raises :class:`PinRequired`.
    """
    if isinstance(source, Pin):
        return source
    if isinstance(source, PinPrompt):
        answer = source.ask(question)
        if not answer:
            raise PinRequired("Ввод PIN-кода отменён.")
        return Pin(answer)
    return None


class PinMode(enum.Enum):
    """What the caller must do about a PIN before opening a session."""

    ASK = "ask"  #: ask the user and pass a Pin (or a PinPrompt)
    PIN_PAD = "pinpad"  #: tell the user to enter the PIN on the reader
    ELSEWHERE = "elsewhere"  #: the PIN is asked somewhere else (the signing agent's terminal)
    NONE = "none"  #: no PIN is needed


# ----------------------------------------------------------------------------------------------
# Certificates
# ----------------------------------------------------------------------------------------------

_HEX_RE = re.compile(r"^[0-9a-f]+$")


def normalize_hex(text: str) -> str:
    """Lower-case hex without ``0x``, spaces, colons or leading zeros ('' if not hex)."""
    t = text.strip().lower()
    if t.startswith("0x"):
        t = t[2:]
    t = re.sub(r"[\s:.-]", "", t)
    if not t or not _HEX_RE.match(t):
        return ""
    return t.lstrip("0") or "0"


def serial_hex(serial: int) -> str:
    """A certificate serial as CryptoPro and CAs print it: upper-case hex, even length."""
    text = f"{serial:X}"
    return text if len(text) % 2 == 0 else "0" + text


def algorithm_name(bits: int) -> str:
    return f"ГОСТ Р 34.10-2012 {bits} бит"


@dataclass(frozen=True, eq=False)
class CertificateInfo:
    """A certificate a provider can sign with, and where its key lives."""

    provider: str
    #: Where the key is, for people: token label (and serial), key directory, container reader.
    token: str
    certificate: Certificate
    key_label: str | None = None
    #: The key's identifier in hex (PKCS#11 CKA_ID); None where the store has none.
    key_id: str | None = None
    #: Provider-private coordinates (token serial, container name, file), as text pairs.
    locator: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    @property
    def serial(self) -> int:
        return self.certificate.serial

    @property
    def serial_hex(self) -> str:
        return serial_hex(self.certificate.serial)

    @property
    def subject(self) -> str:
        return str(self.certificate.subject)

    @property
    def common_name(self) -> str:
        return self.certificate.subject.common_name or self.subject

    @property
    def not_before(self) -> datetime:
        return self.certificate.not_before

    @property
    def not_after(self) -> datetime:
        """Expiry."""
        return self.certificate.not_after

    @property
    def bits(self) -> int:
        return self.certificate.public_key.curve.bits

    @property
    def algorithm(self) -> str:
        return algorithm_name(self.bits)

    @property
    def curve(self) -> str:
        return self.certificate.public_key.curve.name

    @property
    def thumbprint(self) -> str:
        return self.certificate.thumbprint

    def get(self, key: str, default: str | None = None) -> str | None:
        return dict(self.locator).get(key, default)

    def matches(self, ref: str) -> bool:
        """True if ``ref`` names this certificate.

        ``ref`` is a serial (hex, ``0x``/colons allowed), a SHA-1 thumbprint, ``id:<hex>``
        (the key's CKA_ID), ``label:<text>`` (the key label) or ``serial:<hex>`` /
        ``thumbprint:<hex>`` to be explicit.
        """
        text = ref.strip()
        low = text.lower()
        if low.startswith("label:"):
            return self.key_label is not None and self.key_label == text[6:]
        if low.startswith("id:"):
            want = normalize_hex(text[3:])
            return bool(want) and self.key_id is not None and normalize_hex(self.key_id) == want
        if low.startswith("serial:"):
            return normalize_hex(text[7:]) == normalize_hex(f"{self.serial:x}")
        if low.startswith("thumbprint:"):
            return normalize_hex(text[11:]) == normalize_hex(self.thumbprint)
        want = normalize_hex(text)
        if not want:
            return False
        return want in (normalize_hex(f"{self.serial:x}"), normalize_hex(self.thumbprint))

    def as_dict(self) -> dict[str, Any]:
        """A plain description (no key material), for ``eln crypto certs --json`` and logs."""
        return {
            "provider": self.provider,
            "token": self.token,
            "key_label": self.key_label,
            "key_id": self.key_id,
            "serial": self.serial_hex,
            "subject": self.subject,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "algorithm": self.algorithm,
            "curve": self.curve,
            "thumbprint": self.thumbprint,
        }

    def describe(self) -> str:
        """One line for people and logs."""
        return (
            f"«{self.common_name}», серийный номер {self.serial_hex}, отпечаток {self.thumbprint}"
        )


def select_certificate(
    infos: Iterable[CertificateInfo], ref: CertificateInfo | str
) -> CertificateInfo:
    """Pick the one certificate ``ref`` names; KeyNotFound or SeveralKeysMatch otherwise."""
    candidates = list(infos)
    if isinstance(ref, CertificateInfo):
        found = [c for c in candidates if c.certificate == ref.certificate]
        if ref.locator:
            precise = [c for c in found if c.locator == ref.locator]
            found = precise or found
        if not found:
            raise KeyNotFound(
                f"Сертификат {ref.describe()} больше не найден у средства подписи «{ref.provider}»."
            )
        return found[0]
    found = [c for c in candidates if c.matches(ref)]
    # The same certificate can be visible twice (e.g. in two slots); distinct keys matter.
    distinct = {(c.certificate.der, c.locator) for c in found}
    if not found:
        raise KeyNotFound(f"Сертификат «{ref}» не найден ни на одном доступном ключевом носителе.")
    if len(distinct) > 1:
        names = "; ".join(f"{c.describe()} ({c.token})" for c in found[:5])
        raise SeveralKeysMatch(
            f"Под «{ref}» подходит несколько сертификатов: {names}. "
            "Укажите полный серийный номер или отпечаток."
        )
    return found[0]


# ----------------------------------------------------------------------------------------------
# Sessions
# ----------------------------------------------------------------------------------------------


class KeySession(ABC):
    """An open key: signs digests, gives its certificate, maybe agrees keys (VKO).

    Use it as a context manager; :meth:`close` logs out and forgets everything the session
    held. Signatures are checked against the certificate before they are returned (a few
    milliseconds) unless ``verify_signatures`` is False: a token whose key does not belong to
    the certificate, or a vendor tool with a surprising byte order, is caught here and not
    by the Fund.
    """

    def __init__(self, info: CertificateInfo, *, verify_signatures: bool = True) -> None:
        self.info = info
        self.verify_signatures = verify_signatures
        #: What is being signed, in words ("ЭЛН 910000000001, подпись врача"). Providers that
        #: show their user what they sign (the signing agent) display it next to the digest.
        self.purpose: str | None = None
        self._lock = threading.RLock()
        self._closed = False

    # -- the Signer protocol ---------------------------------------------------------------

    @property
    def certificate(self) -> Certificate:
        return self.info.certificate

    def sign_digest(self, digest: bytes) -> bytes:
        """Sign a Streebog digest (byte order, 32 or 64 bytes); returns ``s_be || r_be``."""
        digest = bytes(digest)
        size = self.info.bits // 8
        if len(digest) != size:
            raise ValueError(
                f"ключ {self.info.bits} бит подписывает хэш длиной {size} байт, "
                f"получено {len(digest)}"
            )
        with self._lock:
            self._check_open()
            signature = self._sign_digest(digest)
        return self._checked(digest, signature)

    # -- conveniences ----------------------------------------------------------------------

    @property
    def bits(self) -> int:
        return self.info.bits

    @property
    def closed(self) -> bool:
        return self._closed

    def sign(self, data: bytes) -> bytes:
        """Raw signature of ``data``'s Streebog hash of the key's size (``gostsign sign``)."""
        data = bytes(data)
        with self._lock:
            self._check_open()
            done = self._sign_data(data)
        digest = streebog.digest(data, self.info.bits)
        if done is None:
            return self.sign_digest(digest)
        return self._checked(digest, done)

    def key_agreement(self) -> KeyAgreement:
        """VKO with this key, or OperationNotSupported where the provider cannot."""
        with self._lock:
            self._check_open()
            return self._key_agreement()

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._close()

    def __enter__(self) -> KeySession:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"{type(self).__name__}({self.info.provider}, {self.info.serial_hex}, {state})"

    # -- for subclasses --------------------------------------------------------------------

    @abstractmethod
    def _sign_digest(self, digest: bytes) -> bytes:
        """Return s_be || r_be for the digest (already length-checked)."""

    def _sign_data(self, data: bytes) -> bytes | None:
        """Providers whose tool hashes by itself sign ``data`` here; None = hash in software."""
        return None

    def _key_agreement(self) -> KeyAgreement:
        raise OperationNotSupported(
            f"Средство подписи «{self.info.provider}» не умеет выполнять выработку общего "
            "ключа (VKO) с этим ключом; расшифровать ответ им нельзя."
        )

    def _close(self) -> None:
        """Log out and drop handles."""
        return None

    def _check_open(self) -> None:
        if self._closed:
            raise SessionClosed()

    def _checked(self, digest: bytes, signature: bytes) -> bytes:
        signature = bytes(signature)
        if self.verify_signatures:
            try:
                self.info.certificate.public_key.verify_digest(digest, signature)
            except InvalidSignature:
                raise KeyCertificateMismatch(
                    detail=f"{self.info.provider}: signature does not verify with "
                    f"{self.info.thumbprint}"
                ) from None
        return signature


# ----------------------------------------------------------------------------------------------
# Providers
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Availability:
    """Whether a provider can work on this machine; ``reason`` is a Russian sentence if not."""

    ok: bool
    reason: str | None = None

    def __bool__(self) -> bool:
        return self.ok

    @classmethod
    def yes(cls) -> Availability:
        return cls(True, None)

    @classmethod
    def no(cls, reason: str) -> Availability:
        return cls(False, reason)


@dataclass(frozen=True)
class Option:
    """One setting of a provider: a TOML key in the workstation file and a command-line flag."""

    name: str
    help: str
    kind: type = str  #: str, Path, bool or int
    required: bool = False
    metavar: str | None = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


class Provider(ABC):
    """Where keys live. Subclasses set ``name``, ``title`` and ``options``."""

    name: ClassVar[str] = ""
    #: Russian name for people.
    title: ClassVar[str] = ""
    options: ClassVar[tuple[Option, ...]] = ()

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        self.settings: dict[str, Any] = self.check_settings(settings or {})

    @classmethod
    def check_settings(cls, settings: Mapping[str, Any]) -> dict[str, Any]:
        """Validate types and required settings; BadConfiguration with one sentence if not."""
        known = {o.name: o for o in cls.options}
        out: dict[str, Any] = {}
        for key, value in settings.items():
            if value is None:
                continue
            opt = known.get(key)
            if opt is None:
                raise BadConfiguration(
                    f"У средства подписи «{cls.name}» нет настройки «{key}». "
                    f"Допустимые: {', '.join(known) or 'нет'}."
                )
            out[key] = _coerce(cls.name, opt, value)
        for opt in cls.options:
            if opt.required and opt.name not in out:
                raise BadConfiguration(
                    f"Для средства подписи «{cls.name}» нужна настройка «{opt.name}» "
                    f"(параметр {opt.flag}): {opt.help}"
                )
        return out

    # -- the interface ---------------------------------------------------------------------

    @abstractmethod
    def availability(self) -> Availability:
        """Can this provider work here? If not, say why in one Russian sentence."""

    @abstractmethod
    def list_certificates(self) -> list[CertificateInfo]:
        """Certificates whose keys this provider can use."""

    @abstractmethod
    def open_session(self, cert: CertificateInfo | str, pin: PinSource = NO_PIN) -> KeySession:
        """Open the key of one certificate (a CertificateInfo or a reference, see
        :meth:`CertificateInfo.matches`). The session is a context manager."""

    def pin_mode(self, cert: CertificateInfo) -> PinMode:
        """What the caller must do about the PIN for this certificate."""
        return PinMode.ASK

    def check_configuration(self) -> None:
        """Raise for settings that can never work (a missing module file, a missing tool).

        Unlike :meth:`availability` this ignores passing states such as a token that is not
        inserted right now or an agent that is not connected yet.
        """
        return None

    def find_certificate(self, ref: CertificateInfo | str) -> CertificateInfo:
        return select_certificate(self.list_certificates(), ref)

    def close(self) -> None:
        """Release libraries and connections."""
        return None

    def require_available(self) -> None:
        avail = self.availability()
        if not avail:
            from providers.errors import ProviderNotInstalled

            raise ProviderNotInstalled(avail.reason)

    def describe_settings(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in self.settings.items()}

    def __enter__(self) -> Provider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.describe_settings()!r})"


def _coerce(provider: str, opt: Option, value: Any) -> Any:
    where = f"Настройка «{opt.name}» средства подписи «{provider}»"
    if opt.kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "да"):
            return True
        if isinstance(value, str) and value.lower() in ("0", "false", "no", "нет"):
            return False
        raise BadConfiguration(f"{where} должна быть да/нет (true/false), а не «{value}».")
    if opt.kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        raise BadConfiguration(f"{where} должна быть целым числом, а не «{value}».")
    if opt.kind is Path:
        if isinstance(value, (str, os.PathLike)) and str(value):
            return Path(os.path.expanduser(str(value)))
        raise BadConfiguration(f"{where} должна быть путём к файлу или каталогу.")
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise BadConfiguration(f"{where} должна быть строкой, а не «{value}».")


def hex_id(value: bytes | None) -> str | None:
    return value.hex() if value else None


def format_table(rows: Sequence[Sequence[str]]) -> str:
    """A plain text table (the CLI and the agent use it)."""
    if not rows:
        return ""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


__all__ = [
    "NO_PIN",
    "PIN_PAD",
    "Availability",
    "CertificateInfo",
    "KeySession",
    "NoPin",
    "Option",
    "Pin",
    "PinMode",
    "PinPad",
    "PinPrompt",
    "PinSource",
    "Provider",
    "ProviderError",
    "algorithm_name",
    "normalize_hex",
    "obtain_pin",
    "select_certificate",
    "serial_hex",
]
