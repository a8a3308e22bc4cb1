"""The two protocol dialects the emulator speaks: v2.0 (WSLn…V20) and v1.1 (WSLn…V11).

Names come from the Fund's WSDL/XSD (fss_emulator/schemas/, copies of fss-spec/): element names,
namespaces and SOAPActions per operation (protocol.md §2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Version = Literal["2.0", "1.1"]

SOAP11: Final = "http://schemas.xmlsoap.org/soap/envelope/"
XSI: Final = "http://www.w3.org/2001/XMLSchema-instance"
WSU: Final = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
WSSE: Final = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
DS: Final = "http://www.w3.org/2000/09/xmldsig#"

# v2.0 (FileOperationsLnMo.xsd, Eln.xsd, Fault.xsd)
MO_NS: Final = "http://www.fss.ru/integration/types/eln/mo/v01"
COM_NS: Final = "http://www.fss.ru/integration/types/eln/v01"
FAULT_NS: Final = "http://www.fss.ru/integration/types/fault/v01"
# v1.1 (FileOperationsLnPort.1.xsd)
V11_NS: Final = "http://ru/ibs/fss/ln/ws/FileOperationsLn.wsdl"

#: The nine operations, by the name the issue and the v1.1 WSDL use.
OPERATIONS: Final = (
    "getNewLNNum",
    "getNewLNNumRange",
    "getExistingLNNumRange",
    "prParseFilelnlpu",
    "prParseFileNumberslpu",
    "getLNData",
    "getLNListBySnils",
    "getLNListByDate",
    "disableLn",
)


@dataclass(frozen=True)
class Operation:
    name: str
    request: str  # local name of the Body's child
    response: str
    soap_action: str
    #: v1.1 wraps results in a named child of the response element
    out_wrapper: str | None = None


def _v20_action(name: str) -> str:
    # The served WSDL spells this one without "pr" (protocol.md §2.2).
    op = "parseFileNumberslpu" if name == "prParseFileNumberslpu" else name
    return f"http://www.fss.ru/integration/ws/eln/mo/{op}/v01"


V20_OPERATIONS: Final = {
    name: Operation(name, f"{name}Request", f"{name}Response", _v20_action(name))
    for name in OPERATIONS
}

_V11_WRAPPERS: Final = {
    "getNewLNNum": "fileOperationsLnUserGetNewLNNumOut",
    "getNewLNNumRange": "fileOperationsLnUserGetNewLNNumRangeOut",
    "getExistingLNNumRange": "FileOperationsLnUserGetExistingLNNumRangeOut",
    "prParseFilelnlpu": "WSResult",
    "prParseFileNumberslpu": "WSResult",
    "getLNData": "FileOperationsLnUserGetLNDataOut",
    "getLNListBySnils": "FileOperationsLnUserGetLNListBySnilsOut",
    "getLNListByDate": "FileOperationsLnUserGetLNListByDateOut",
    "disableLn": "FileOperationsLnUserDisableLnOut",
}

V11_OPERATIONS: Final = {
    name: Operation(name, name, f"{name}Response", f"{V11_NS}/{name}", _V11_WRAPPERS[name])
    for name in OPERATIONS
}


def operations(version: Version) -> dict[str, Operation]:
    return V20_OPERATIONS if version == "2.0" else V11_OPERATIONS


def request_namespace(version: Version) -> str:
    return MO_NS if version == "2.0" else V11_NS


def find_operation(version: Version, namespace: str | None, local: str) -> Operation | None:
    """The operation whose request element is ``{namespace}local`` in this dialect."""
    if namespace != request_namespace(version):
        return None
    for op in operations(version).values():
        if op.request == local:
            return op
    return None


#: requestId prefixes seen in the Fund's replies (examples 6.1.3–13.1.3); LNNUMMO for the
#: return of numbers is our choice (no example).
REQUEST_ID_PREFIX: Final = {
    "getNewLNNum": "LNNUMMO",
    "getNewLNNumRange": "LNNUMMO",
    "getExistingLNNumRange": "LNNUMMO",
    "prParseFileNumberslpu": "LNNUMMO",
    "prParseFilelnlpu": "LNDATAMO",
    "getLNData": "GETLNMO",
    "getLNListBySnils": "GETLNMO",
    "getLNListByDate": "GETLNMO",
    "disableLn": "LNDISMO",
}


@dataclass(frozen=True)
class Endpoint:
    """One service address: its path, dialect and whether it is the encrypted variant."""

    path: str
    version: Version
    encrypted: bool


#: Paths as the Fund serves them (protocol.md §1); v2.0 plain also under the WSLnV20_2 name.
ENDPOINTS: Final = (
    Endpoint("/WSLnCryptoV20/FileOperationsLnService", "2.0", True),
    Endpoint("/WSLnV20/FileOperationsLnService", "2.0", False),
    Endpoint("/WSLnV20_2/FileOperationsLnService", "2.0", False),
    Endpoint("/WSLnCryptoV11/FileOperationsLnPort", "1.1", True),
    Endpoint("/WSLnV11/FileOperationsLnPort", "1.1", False),
)


def endpoint_for(path: str) -> Endpoint | None:
    path = path.rstrip("/")
    for ep in ENDPOINTS:
        if ep.path.lower() == path.lower():
            return ep
    return None
