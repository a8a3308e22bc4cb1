"""The one XML parser of gostsign: hardened lxml, no DTD, no entities, no network.

Every module of gostsign that reads XML goes through :func:`parse`. It refuses

* any document with a DOCTYPE (no DTD is ever loaded, no entity is ever expanded: this
  rules out external entities, "billion laughs" and quadratic blow-up),
* input larger than ``max_bytes`` and element nesting deeper than ``max_depth``,
* anything that is not well-formed XML,

with :class:`~gostsign.errors.InvalidInput` carrying one clear sentence.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from gostsign.errors import InvalidInput

#: Default size limit. The Fund's messages are far below it (30 ELN rows signed ≈ 150 KB);
#: pure-Python Streebog makes anything larger impractical to verify anyway.
MAX_BYTES = 16 * 1024 * 1024
#: Default depth limit. A signed prParseFilelnlpu row nests about 12 levels deep.
MAX_DEPTH = 64

_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_DOCTYPE_UTF16 = (
    re.compile("<!DOCTYPE".encode("utf-16-le"), re.IGNORECASE),
    re.compile("<!DOCTYPE".encode("utf-16-be"), re.IGNORECASE),
)


def _parser() -> etree.XMLParser:
    # A fresh parser per call: lxml parsers are not thread-safe.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        attribute_defaults=False,
        huge_tree=False,
        collect_ids=False,
        remove_comments=False,
        remove_pis=False,
        remove_blank_text=False,
        strip_cdata=False,
        recover=False,
    )


_ABSOLUTE_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


def _check_tree(root: etree._Element, max_depth: int, what: str) -> None:
    """Depth limit, and no relative namespace URI (canonical XML cannot represent one, so a
    signature over such a document could be neither made nor checked)."""
    depth = 0
    for event, item in etree.iterwalk(root, events=("start", "end", "start-ns")):
        if event == "start":
            depth += 1
            if depth > max_depth:
                raise InvalidInput(f"XML nests elements deeper than {max_depth} levels; refused")
        elif event == "end":
            depth -= 1
        else:
            prefix, uri = item
            if uri and not _ABSOLUTE_URI.match(uri):
                raise InvalidInput(
                    f"{what} declares the relative namespace URI {uri[:80]!r} "
                    f"(prefix {prefix or '(default)'}); not accepted"
                )


def parse(
    data: bytes | bytearray | memoryview | str,
    *,
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
    what: str = "XML",
) -> etree._ElementTree:
    """Parse ``data`` safely and return the document.

    ``str`` input is encoded as UTF-8 (so it must not declare another encoding).
    ``what`` names the input in error messages ("the reply", "IN", …).
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    elif not isinstance(data, bytes):
        data = bytes(data)
    if len(data) > max_bytes:
        raise InvalidInput(f"{what} is {len(data)} bytes, more than the limit of {max_bytes}")
    if not data.strip():
        raise InvalidInput(f"{what} is empty")
    if _DOCTYPE.search(data) or any(p.search(data) for p in _DOCTYPE_UTF16):
        raise InvalidInput(f"{what} contains a DOCTYPE; DTDs and entities are not accepted")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        msg = str(exc.msg or exc).strip()
        if "Excessive depth" in msg:
            raise InvalidInput(f"{what} nests elements too deeply; refused") from None
        line = f" (line {exc.lineno})" if exc.lineno else ""
        raise InvalidInput(f"{what} is not well-formed XML{line}: {msg}") from None
    except ValueError as exc:  # e.g. unsupported encodings
        raise InvalidInput(f"{what} cannot be parsed: {exc}") from None
    tree = root.getroottree()
    docinfo: Any = tree.docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise InvalidInput(f"{what} contains a DOCTYPE; DTDs and entities are not accepted")
    for node in root.iter(etree.Entity):
        name = getattr(node, "name", "?")
        raise InvalidInput(f"{what} contains an entity reference &{name};; not accepted")
    _check_tree(root, max_depth, what)
    return tree


def parse_element(
    data: bytes | bytearray | memoryview | str,
    *,
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
    what: str = "XML",
) -> etree._Element:
    """:func:`parse` and return the root element."""
    return parse(data, max_bytes=max_bytes, max_depth=max_depth, what=what).getroot()


def to_bytes(node: etree._ElementTree | etree._Element, *, declaration: bool = True) -> bytes:
    """Serialise a document (or element) as UTF-8 without pretty-printing.

    lxml serialisation is faithful to the tree, so the canonical form of every signed
    element is preserved. Never pretty-print a signed message.
    """
    if isinstance(node, etree._ElementTree):
        return etree.tostring(node, encoding="UTF-8", xml_declaration=declaration)
    return etree.tostring(node, encoding="UTF-8", xml_declaration=declaration, with_tail=False)
