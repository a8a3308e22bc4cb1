"""Exceptions of the XML layer (all derive from the gostsign family)."""

from __future__ import annotations

from gostsign.errors import GostError, InvalidInput, InvalidSignature


class FundFault(GostError):
    """The Fund answered with a SOAP Fault (in clear) instead of a (encrypted) reply.

    ``faultstring`` and the detail fields are kept verbatim: they are the Fund's own texts.
    """

    def __init__(
        self,
        faultcode: str,
        faultstring: str,
        *,
        detail_code: str | None = None,
        detail_message: str | None = None,
        detail_uuid: str | None = None,
    ) -> None:
        self.faultcode = faultcode
        self.faultstring = faultstring
        self.detail_code = detail_code
        self.detail_message = detail_message
        self.detail_uuid = detail_uuid
        text = f"the Fund replied with a SOAP Fault ({faultcode}): {faultstring}"
        if detail_code or detail_message:
            extra = " ".join(x for x in (detail_code, detail_message) if x)
            if extra and extra not in faultstring:
                text += f" [{extra}]"
        super().__init__(text)

    @property
    def code(self) -> str:
        """The most specific code: the v2.0 internalFault code when present, else faultcode."""
        return self.detail_code or self.faultcode

    @property
    def message(self) -> str:
        """The Fund's text: the v2.0 internalFault message when present, else faultstring."""
        return self.detail_message or self.faultstring


class SignatureNotCovering(InvalidSignature):
    """An element the caller relies on is not covered by a valid signature of the right actor."""


class SchemaError(InvalidInput):
    """A payload does not conform to the Fund's XSD; ``errors`` lists libxml2's messages."""

    def __init__(self, message: str, errors: list[str]) -> None:
        super().__init__(message)
        self.errors = errors
