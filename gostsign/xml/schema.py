"""Validation of payloads against the Fund's XSDs (bundled; the network is never used).

``validate(element, "2.0")`` checks a request or response element (the child of the SOAP Body,
e.g. ``prParseFilelnlpuRequest``) against the v2.0 MO schema (plus the v2.0 Fault schema);
``"1.1"`` uses the v1.1 schema. The schemas' ``schemaLocation`` URLs point at the Fund's
servers; a resolver maps each of them to the bundled copy by file name and refuses anything
else.
"""

from __future__ import annotations

import functools
import re
import threading
from importlib import resources
from typing import Any, Literal

from lxml import etree

from gostsign.errors import InvalidInput
from gostsign.xml.errors import SchemaError

Version = Literal["2.0", "1.1"]
VERSIONS: tuple[Version, ...] = ("2.0", "1.1")
_PACKAGES: dict[str, str] = {"2.0": "gostsign.xml.schemas.v20", "1.1": "gostsign.xml.schemas.v11"}
_BASE = "gostsign-schemas://{pkg}/"

#: What the driver schema imports, per version: (namespace, file).
_ENTRY_POINTS: dict[str, tuple[tuple[str, str], ...]] = {
    "2.0": (
        ("http://www.fss.ru/integration/types/eln/mo/v01", "FileOperationsLnMo.xsd"),
        ("http://www.fss.ru/integration/types/fault/v01", "Fault.xsd"),
    ),
    "1.1": (("http://ru/ibs/fss/ln/ws/FileOperationsLn.wsdl", "FileOperationsLnPort.1.xsd"),),
}
#: v1.1 serves its schemas as ``?xsd=1`` / ``?xsd=2``.
_V11_NUMBERED = re.compile(r"[?&]xsd=(\d+)$")


def bundled_files(version: Version) -> list[str]:
    """Names of the bundled XSD/WSDL files of a version."""
    pkg = resources.files(_PACKAGES[_version(version)])
    return sorted(p.name for p in pkg.iterdir() if p.name.endswith((".xsd", ".wsdl")))


def read_bundled(version: Version, name: str) -> bytes:
    """The bytes of one bundled file."""
    if "/" in name or "\\" in name or name.startswith("."):
        raise InvalidInput(f"not a schema file name: {name!r}")
    path = resources.files(_PACKAGES[_version(version)]).joinpath(name)
    if not path.is_file():
        raise InvalidInput(f"no bundled schema {name!r} for version {version}")
    return path.read_bytes()


def _version(version: str) -> Version:
    v = {"2.0": "2.0", "v2.0": "2.0", "2": "2.0", "1.1": "1.1", "v1.1": "1.1"}.get(str(version))
    if v is None:
        raise InvalidInput(f"schema version must be 2.0 or 1.1, not {version!r}")
    return "2.0" if v == "2.0" else "1.1"


def _file_for(version: Version, url: str) -> str | None:
    """The bundled file a schemaLocation URL means, by its last path element."""
    if version == "1.1" and (m := _V11_NUMBERED.search(url)):
        return f"FileOperationsLnPort.{m[1]}.xsd"
    name = re.split(r"[/=?]", url)[-1]
    return name if name.endswith((".xsd", ".wsdl")) else None


class _BundledResolver(etree.Resolver):
    def __init__(self, version: Version) -> None:
        super().__init__()
        self.version = version
        self.names = set(bundled_files(version))

    def resolve(  # type: ignore[override]  # lxml passes a context the stubs omit
        self, system_url: str, public_id: str, context: object
    ) -> object:
        name = _file_for(self.version, system_url or "")
        if name is None or name not in self.names:
            raise InvalidInput(
                f"the schema refers to {system_url!r}, which is not bundled; refusing to fetch it"
            )
        return self.resolve_string(
            read_bundled(self.version, name),
            context,
            base_url=_BASE.format(pkg=self.version) + name,
        )


_lock = threading.Lock()


@functools.cache
def _schema(version: Version) -> etree.XMLSchema:
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    parser.resolvers.add(_BundledResolver(version))
    imports = "".join(
        f'<xs:import namespace="{namespace}" schemaLocation="{name}"/>'
        for namespace, name in _ENTRY_POINTS[version]
    )
    driver = (
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" '
        f'targetNamespace="urn:gostsign:schema-driver">{imports}</xs:schema>'
    ).encode()
    doc = etree.fromstring(driver, parser, base_url=_BASE.format(pkg=version) + "driver.xsd")
    try:
        return etree.XMLSchema(doc)
    except etree.XMLSchemaParseError as exc:  # pragma: no cover - bundled data is fixed
        raise InvalidInput(f"the bundled v{version} schemas do not compile: {exc}") from None


def schema(version: Version = "2.0") -> etree.XMLSchema:
    """The compiled schema of a version (compiled once, then cached)."""
    v = _version(version)
    with _lock:
        return _schema(v)


def errors(element: etree._Element | etree._ElementTree, version: Version = "2.0") -> list[str]:
    """libxml2's messages for ``element`` (empty when it conforms)."""
    xsd = schema(version)
    node = element.getroot() if isinstance(element, etree._ElementTree) else element
    with _lock:
        ok = xsd.validate(node)
        if ok:
            return []
        entries: Any = xsd.error_log
        return [f"line {e.line}: {e.message}" if e.line else str(e.message) for e in entries]


def validate(element: etree._Element | etree._ElementTree, version: Version = "2.0") -> None:
    """Raise :class:`SchemaError` (an InvalidInput) unless ``element`` conforms to the XSD."""
    problems = errors(element, version)
    if problems:
        raise SchemaError(
            f"the payload does not conform to the Fund's v{_version(version)} schema: "
            f"{problems[0]}" + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
            problems,
        )
