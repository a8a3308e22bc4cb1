"""zeep over the bundled WSDL: operation metadata, request payloads, the HTTP transport.

The WSDL of each version is loaded once per process from the files bundled in
``eln_tui/core/fss/wsdl/`` (:class:`BundledTransport` maps the Fund's ``location`` and
``schemaLocation`` URLs to them and refuses anything else; nothing is fetched). zeep gives:

* the operations of the binding with their SOAPAction and input/output elements
  (:func:`operation_info`);
* the request payload of every operation except prParseFilelnlpu, serialised from keyword
  arguments by the WSDL's types (:func:`build_payload`);
* the HTTP transport (a ``requests`` session with timeouts) used for every POST.

prParseFilelnlpu is assembled with lxml (:mod:`eln_tui.core.fss.rows`): its rows carry
doctors' and VK chairmen's blocks that were signed earlier and must travel byte-exact, which
zeep's object model cannot do.
"""

from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass
from importlib import resources
from typing import Any

import requests
import zeep
from lxml import etree
from zeep.transports import Transport

from eln_tui.core.fss.config import ProtocolVersion
from eln_tui.core.fss.errors import FssConfigError, FssRequestError, ReplyTooLarge
from eln_tui.core.fss.operations import Operation

_PACKAGES = {
    ProtocolVersion.V20: "eln_tui.core.fss.wsdl.v20",
    ProtocolVersion.V11: "eln_tui.core.fss.wsdl.v11",
}
_ENTRY = {
    ProtocolVersion.V20: "FileOperationsLnService.wsdl",
    ProtocolVersion.V11: "FileOperationsLnPort.wsdl",
}
#: WSDL operation names of each version.
_WSDL_NAMES: dict[ProtocolVersion, dict[Operation, str]] = {
    ProtocolVersion.V20: {
        Operation.GET_NEW_LN_NUM: "GetNewLNNum",
        Operation.GET_NEW_LN_NUM_RANGE: "GetNewLNNumRange",
        Operation.GET_EXISTING_LN_NUM_RANGE: "GetExistingLNNumRange",
        Operation.PR_PARSE_FILELNLPU: "PrParseFilelnlpu",
        Operation.PR_PARSE_FILE_NUMBERSLPU: "PrParseFileNumberslpu",
        Operation.GET_LN_DATA: "GetLNData",
        Operation.GET_LN_LIST_BY_SNILS: "GetLNListBySnils",
        Operation.GET_LN_LIST_BY_DATE: "GetLNListByDate",
        Operation.DISABLE_LN: "DisableLn",
    },
    ProtocolVersion.V11: {op: op.value for op in Operation},
}
_V11_NUMBERED = re.compile(r"[?&]xsd=(\d+)$")


def bundled_names(version: ProtocolVersion) -> list[str]:
    pkg = resources.files(_PACKAGES[version])
    return sorted(p.name for p in pkg.iterdir() if p.name.endswith((".xsd", ".wsdl")))


def read_bundled(version: ProtocolVersion, name: str) -> bytes:
    return resources.files(_PACKAGES[version]).joinpath(name).read_bytes()


def bundled_name(version: ProtocolVersion, url: str) -> str | None:
    """The bundled file a WSDL/XSD location means (by its last path element)."""
    if version is ProtocolVersion.V11 and (m := _V11_NUMBERED.search(url)):
        return f"FileOperationsLnPort.{m[1]}.xsd"
    name = re.split(r"[/=?\\]", url)[-1]
    return name if name in bundled_names(version) else None


class BundledTransport(Transport):
    """zeep's transport: documents come from the bundle, SOAP requests go over HTTP."""

    def __init__(
        self,
        version: ProtocolVersion,
        *,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (15.0, 120.0),
    ) -> None:
        super().__init__(  # type: ignore[no-untyped-call]
            timeout=timeout[0], operation_timeout=timeout, session=session
        )
        self.version = version

    def post_capped(
        self, address: str, message: bytes, headers: dict[str, str], limit: int
    ) -> tuple[int, bytes]:
        """POST a request; the status and at most ``limit`` bytes of the reply.

        The reply is read as a stream and refused once it passes ``limit`` (the XML parser's own
        cap), so a hostile or broken server cannot make the workstation hold an endless body.
        """
        response = self.session.post(
            address, data=message, headers=headers, timeout=self.operation_timeout, stream=True
        )
        try:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > limit:
                raise _too_large(limit, f"Content-Length {declared}")
            body = bytearray()
            for chunk in response.iter_content(64 * 1024):
                body += chunk
                if len(body) > limit:
                    raise _too_large(limit, "body exceeds the limit")
            return response.status_code, bytes(body)
        finally:
            response.close()

    def load(self, url: str) -> bytes:
        name = bundled_name(self.version, url or "")
        if name is None:
            raise FssConfigError(
                "Описание сервиса СФР ссылается на документ, которого нет в поставке программы; "
                "он не будет загружен из сети.",
                detail=f"refused to load {url!r}",
            )
        return read_bundled(self.version, name)


def _too_large(limit: int, detail: str) -> ReplyTooLarge:
    return ReplyTooLarge(
        f"Ответ сервиса СФР больше {limit // (1024 * 1024)} МБ и не принят: такого ответа "
        "сервис не даёт. Если отправлялся реестр, перед повторной отправкой программа сверит "
        "ЭЛН с СФР.",
        detail=detail,
    )


@dataclass(frozen=True)
class OperationInfo:
    """What the WSDL says about one operation."""

    operation: Operation
    wsdl_name: str
    soap_action: str
    input_element: str  # Clark notation
    output_element: str

    @property
    def output_local_name(self) -> str:
        return etree.QName(self.output_element).localname

    @property
    def namespace(self) -> str:
        return etree.QName(self.input_element).namespace or ""


_lock = threading.RLock()


@functools.cache
def _client(version: ProtocolVersion) -> Any:
    transport = BundledTransport(version)
    settings = zeep.Settings(
        strict=True,
        forbid_dtd=True,
        forbid_entities=True,
        # The imports are fetched through BundledTransport.load, which serves bundled files only.
        forbid_external=False,
        xml_huge_tree=False,
    )
    location = f"bundle://{_PACKAGES[version]}/{_ENTRY[version]}"
    return zeep.Client(  # type: ignore[no-untyped-call]
        location, transport=transport, settings=settings
    )


def wsdl_client(version: ProtocolVersion) -> Any:
    """The zeep client of a version's bundled WSDL (built once; used for metadata only)."""
    with _lock:
        return _client(ProtocolVersion(version))


def _binding(version: ProtocolVersion) -> Any:
    client = wsdl_client(version)
    (service,) = client.wsdl.services.values()
    (port,) = service.ports.values()
    return port.binding


@functools.cache
def operation_info(version: ProtocolVersion, operation: Operation) -> OperationInfo:
    with _lock:
        binding = _binding(version)
    name = _WSDL_NAMES[version][operation]
    op = binding.get(name)
    return OperationInfo(
        operation=operation,
        wsdl_name=name,
        soap_action=op.soapaction,
        input_element=str(op.input.body.qname),
        output_element=str(op.output.body.qname),
    )


def default_address(version: ProtocolVersion) -> str:
    """The address in the bundled WSDL (the Fund's plain test contour)."""
    with _lock:
        client = wsdl_client(version)
        (service,) = client.wsdl.services.values()
        (port,) = service.ports.values()
        return str(port.binding_options["address"])


def build_payload(version: ProtocolVersion, operation: Operation, **params: Any) -> etree._Element:
    """The request element of ``operation`` (the Body's child), built by zeep from ``params``.

    Only the payload is taken from zeep's envelope: the client writes its own envelope (prefix
    ``soapenv``, no WS-Addressing headers; protocol.md §9).
    """
    if operation is Operation.PR_PARSE_FILELNLPU:
        raise FssRequestError(
            "Реестр ЭЛН собирается построителем строк, а не из параметров.",
            detail="use eln_tui.core.fss.rows for prParseFilelnlpu",
        )
    info = operation_info(version, operation)
    with _lock:
        client = wsdl_client(version)
        try:
            envelope = client.create_message(client.service, info.wsdl_name, **params)
        except (TypeError, ValueError, zeep.exceptions.Error) as exc:
            raise FssRequestError(
                f"Не удалось сформировать запрос «{operation.label}»: неверные параметры.",
                detail=str(exc),
            ) from None
    body = envelope.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
    payload = body[0] if body is not None and len(body) else None
    if payload is None or payload.tag != info.input_element:
        raise FssRequestError(  # pragma: no cover - zeep always writes the part
            f"Не удалось сформировать запрос «{operation.label}».",
            detail=f"zeep wrote no {info.input_element}",
        )
    # Detach: a standalone copy that carries its own namespace declarations.
    return etree.fromstring(etree.tostring(payload))


def make_transport(
    version: ProtocolVersion,
    *,
    timeout: tuple[float, float],
    tls_verify: bool | str = True,
    session: requests.Session | None = None,
) -> BundledTransport:
    """The HTTP transport for the SOAP posts of one client."""
    sess = session or requests.Session()
    sess.verify = tls_verify
    transport = BundledTransport(version, session=sess, timeout=timeout)
    sess.headers["User-Agent"] = "eln-workstation"
    return transport
