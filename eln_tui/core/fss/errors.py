"""Exceptions of the FSS client.

Every exception carries ``message``: one Russian sentence for the user (``str(exc)`` is the same
text), and where it helps, what to do. Technical detail for the log goes to ``detail`` (English
or the Fund's own words), never secrets.

Which error means what for the caller's state: for every error below the caller got *no*
result, so it must not change anything it keeps (journal, number pool, ELN state). After a
:class:`FssTimeout` or a :class:`FssTransportError` on an operation that is not safe to repeat
(:attr:`Operation.safe_to_retry` is False) the Fund may nevertheless have done the work; the
recovery is an operation that reads the Fund's state (getExistingLNNumRange, getLNData).
"""

from __future__ import annotations

from collections.abc import Sequence

from eln_tui.core.errors import ElnError


class FssError(ElnError):
    """Base of the FSS client's errors; ``message`` is Russian, ``detail`` technical."""

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail


class FssConfigError(FssError):
    """The integration settings cannot be used (no Fund certificate, no address, ОГРН…)."""


class FssRequestError(FssError):
    """The request cannot be built: bad input, more than 30 rows, missing signed blocks."""

    def __init__(
        self, message: str, *, detail: str | None = None, ln_code: str | None = None
    ) -> None:
        super().__init__(message, detail=detail)
        self.ln_code = ln_code


class FssTransportError(FssError):
    """The exchange failed on the network or HTTP level (no usable reply)."""

    def __init__(
        self, message: str, *, detail: str | None = None, http_status: int | None = None
    ) -> None:
        super().__init__(message, detail=detail)
        self.http_status = http_status


class FssTimeout(FssTransportError):
    """No reply within the configured time."""


class FssFault(FssError):
    """The Fund answered with a SOAP Fault (sent in clear); ``text`` is the Fund's own text."""

    def __init__(
        self,
        code: str,
        text: str,
        *,
        faultcode: str | None = None,
        uuid: str | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(f"Сервис СФР сообщает: {text}", detail=f"{faultcode or code}: {text}")
        self.code = code
        self.text = text
        self.faultcode = faultcode
        self.uuid = uuid
        self.http_status = http_status


class FssServiceError(FssError):
    """The Fund processed the request and answered ``status = 0`` with its text in ``mess``."""

    def __init__(self, mess: str | None, *, request_id: str | None = None) -> None:
        text = (mess or "").strip() or "без пояснения"
        super().__init__(f"СФР отказал в выполнении запроса: {text}", detail=request_id)
        self.mess = mess
        self.request_id = request_id


class FssReplyError(FssError):
    """The reply cannot be trusted or read; nothing of it was used."""


class ReplyDecryptError(FssReplyError):
    """The reply is not encrypted as agreed or does not decrypt with the МО's key."""


class ReplySignatureError(FssReplyError):
    """The reply is not signed by the configured Fund certificate (or the signature is bad)."""

    def __init__(
        self, message: str, *, detail: str | None = None, problems: Sequence[str] = ()
    ) -> None:
        super().__init__(message, detail=detail)
        self.problems = list(problems)


class ReplayError(FssReplyError):
    """The reply repeats an earlier one or does not belong to this request."""


class ReplyFormatError(FssReplyError):
    """The reply is signed correctly but its content is not what the operation returns."""


class ReplyTooLarge(FssReplyError):
    """The reply is larger than any reply of the Fund can be; reading stopped at the limit."""


__all__ = [
    "FssConfigError",
    "FssError",
    "FssFault",
    "FssReplyError",
    "FssRequestError",
    "FssServiceError",
    "FssTimeout",
    "FssTransportError",
    "ReplayError",
    "ReplyDecryptError",
    "ReplyFormatError",
    "ReplySignatureError",
    "ReplyTooLarge",
]
