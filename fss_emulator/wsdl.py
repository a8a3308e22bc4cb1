"""``?wsdl`` and ``?xsd=…``: the Fund's bundled WSDL/XSD with its addresses rewritten.

The Fund serves v2.0 schemas as ``?xsd=../../xsd/v01/<dir>/<File>.xsd`` and the Faults WSDL as
``?wsdl=../Faults.wsdl``; v1.1 as ``?xsd=1``/``?xsd=2`` (protocol.md §1). The copies point at
``docs-test.fss.ru``; every such URL becomes the emulator's own service URL, so a SOAP toolkit
(zeep) can load the service description from the emulator alone.
"""

from __future__ import annotations

import re
from importlib import resources

from fss_emulator.dialects import Version

_PACKAGES = {"2.0": "fss_emulator.schemas.v20", "1.1": "fss_emulator.schemas.v11"}
_MAIN = {"2.0": "FileOperationsLnService.wsdl", "1.1": "FileOperationsLnPort.wsdl"}
_ORIGIN = {
    "2.0": re.compile(r"https://docs-test\.fss\.ru/WSLnV20_2/FileOperationsLnService"),
    "1.1": re.compile(r"https://docs-test\.fss\.ru/WSLnV11/FileOperationsLnPort"),
}
_NAME = re.compile(r"^[A-Za-z0-9_.]+\.(xsd|wsdl)$")


def _read(version: Version, name: str) -> bytes | None:
    if not _NAME.match(name):
        return None
    path = resources.files(_PACKAGES[version]).joinpath(name)
    return path.read_bytes() if path.is_file() else None


def _rewrite(data: bytes, version: Version, service_url: str) -> bytes:
    text = data.decode("utf-8")
    return _ORIGIN[version].sub(service_url, text).encode("utf-8")


def document(version: Version, query: str, service_url: str) -> bytes | None:
    """The WSDL or schema a ``?query`` names (None if it names nothing we serve)."""
    key, _, value = query.partition("=")
    key = key.lower()
    if key == "wsdl" and not value:
        name = _MAIN[version]
    elif key == "wsdl":
        name = value.rsplit("/", 1)[-1]
    elif key == "xsd" and version == "1.1" and value.isdigit():
        name = f"FileOperationsLnPort.{value}.xsd"
    elif key == "xsd":
        name = value.rsplit("/", 1)[-1]
    else:
        return None
    data = _read(version, name)
    return None if data is None else _rewrite(data, version, service_url)
