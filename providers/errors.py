"""The exception family of ``providers``: one base, one precise type per failure a person can meet.

Every error carries ``message``, one Russian sentence that says what happened and, where it
helps, what to do. ``str(error)`` is that sentence. ``detail`` holds the technical cause (a
PKCS#11 return code, a tool's exit status) for logs; neither ever contains a PIN.

The agent protocol (:mod:`providers.protocol`) sends errors across the socket by ``code`` (the
class name) plus their fields, and :func:`error_from_wire` rebuilds the same type on the other
side, so ``WrongPin.tries_left`` survives the trip.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ProviderError(Exception):
    """Base of every provider error."""

    default_message: ClassVar[str] = "Ошибка средства подписи."

    def __init__(self, message: str | None = None, *, detail: str | None = None) -> None:
        self.message = message or self.default_message
        self.detail = detail
        super().__init__(self.message)

    @property
    def code(self) -> str:
        return type(self).__name__

    def __str__(self) -> str:
        return self.message

    def to_wire(self) -> dict[str, Any]:
        """Fields for the agent protocol (never a PIN: errors do not hold one)."""
        return {"code": self.code, "message": self.message}


class WrongPin(ProviderError):
    """The PIN (or key file password) is wrong. ``tries_left`` is None when the token
    does not say; ``count_low`` is True when it only says "few tries left"."""

    def __init__(
        self,
        message: str | None = None,
        *,
        tries_left: int | None = None,
        count_low: bool = False,
        detail: str | None = None,
    ) -> None:
        self.tries_left = tries_left
        self.count_low = count_low or tries_left is not None
        if message is None:
            message = "Неверный PIN-код."
            if tries_left == 1:
                message += " Осталась последняя попытка: следующая ошибка заблокирует PIN."
            elif tries_left is not None:
                message += f" Осталось попыток: {tries_left}."
            elif count_low:
                message += " Осталось мало попыток до блокировки PIN."
        super().__init__(message, detail=detail)

    def to_wire(self) -> dict[str, Any]:
        return {**super().to_wire(), "tries_left": self.tries_left, "count_low": self.count_low}


class PinLocked(ProviderError):
    default_message = (
        "PIN-код заблокирован после нескольких неверных попыток. "
        "Разблокируйте его PIN-кодом администратора токена."
    )


class PinRequired(ProviderError):
    default_message = "Для доступа к ключу нужен PIN-код, но он не был введён."


class TokenNotPresent(ProviderError):
    default_message = "Токен не найден: вставьте токен и повторите."


class KeyNotFound(ProviderError):
    default_message = "Ключ или сертификат не найден."


class SeveralKeysMatch(ProviderError):
    default_message = (
        "Под условие подходит несколько ключей; уточните выбор (серийный номер или отпечаток)."
    )


class OperationNotSupported(ProviderError):
    default_message = "Это средство подписи не поддерживает запрошенную операцию."


class ProviderNotInstalled(ProviderError):
    default_message = "Средство подписи не установлено на этом рабочем месте."


class BadConfiguration(ProviderError):
    default_message = "Настройка средства подписи ошибочна."


class KeyCertificateMismatch(ProviderError):
    default_message = (
        "Подпись, сделанная ключом, не проверяется сертификатом: ключ и сертификат "
        "не соответствуют друг другу."
    )


class AccessDenied(ProviderError):
    default_message = "Агент подписи отказал в доступе."


class SessionClosed(ProviderError):
    default_message = "Сеанс работы с ключом уже закрыт."


class ProtocolError(ProviderError):
    default_message = "Агент подписи ответил не по протоколу."


_BY_CODE: dict[str, type[ProviderError]] = {
    cls.__name__: cls
    for cls in (
        ProviderError,
        WrongPin,
        PinLocked,
        PinRequired,
        TokenNotPresent,
        KeyNotFound,
        SeveralKeysMatch,
        OperationNotSupported,
        ProviderNotInstalled,
        BadConfiguration,
        KeyCertificateMismatch,
        AccessDenied,
        SessionClosed,
        ProtocolError,
    )
}


def error_from_wire(data: Any) -> ProviderError:
    """Rebuild an error sent by :meth:`ProviderError.to_wire` (unknown codes become the base)."""
    if not isinstance(data, dict):
        return ProtocolError(detail=f"error object is {type(data).__name__}")
    code = data.get("code")
    message = data.get("message")
    if not isinstance(message, str) or not message:
        message = None
    cls = _BY_CODE.get(code if isinstance(code, str) else "", ProviderError)
    if cls is WrongPin:
        tries = data.get("tries_left")
        return WrongPin(
            message,
            tries_left=tries if isinstance(tries, int) and not isinstance(tries, bool) else None,
            count_low=bool(data.get("count_low")),
        )
    return cls(message)
