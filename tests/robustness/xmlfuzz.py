"""Hypothesis strategies that damage XML: byte-level mutations of a valid document, tree
mutations of a parsed element, and random well-formed trees."""

from __future__ import annotations

import base64
import copy
from typing import Any

from hypothesis import strategies as st
from lxml import etree

XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"

_SNIPPETS = [
    b"",
    b"<",
    b">",
    b"&",
    b"&amp;",
    b"&#0;",
    b"&#xD800;",
    b"]]>",
    b"<!--",
    b"<?pi x?>",
    b"<![CDATA[x]]>",
    b"<!DOCTYPE r>",
    b'<!ENTITY x SYSTEM "file:///etc/passwd">',
    b"&x;",
    b"\x00",
    b"\xff\xfe",
    b"\xd0",
    b'xmlns="urn:x"',
    b' wsu:Id="x"',
    b"<a>",
    b"</a>",
    b"9" * 40,
    b"1900-13-45",
    "Ж".encode(),
]


@st.composite
def mutated_bytes(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` with 1–3 changes: a byte changed, a span deleted/duplicated/moved, a snippet
    inserted, a text or attribute value replaced, or the document truncated."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 3))):
        n = len(out)
        if n == 0:
            out += draw(st.binary(max_size=20))
            continue
        kind = draw(
            st.sampled_from(["byte", "delete", "duplicate", "snippet", "text", "truncate", "swap"])
        )
        i = draw(st.integers(0, n - 1))
        j = min(n, i + draw(st.integers(1, 64)))
        if kind == "byte":
            out[i] = draw(st.integers(0, 255))
        elif kind == "delete":
            del out[i:j]
        elif kind == "duplicate":
            out[j:j] = out[i:j]
        elif kind == "snippet":
            out[i:i] = draw(st.sampled_from(_SNIPPETS)) or draw(st.binary(max_size=16))
        elif kind == "text":
            # replace the content between the next '>' and the following '<'
            start = out.find(b">", i)
            end = out.find(b"<", start + 1) if start >= 0 else -1
            if start >= 0 and end > start:
                text = draw(st.text(max_size=40)).encode("utf-8", "surrogatepass")
                out[start + 1 : end] = text.replace(b"<", b"").replace(b"&", b"")
        elif kind == "truncate":
            del out[i:]
        else:
            k = draw(st.integers(0, n - 1))
            out[i], out[k] = out[k], out[i]
    return bytes(out)


# Characters an lxml tree can hold (the byte-level mutations above cover the others).
_XML_CHARS = st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\t\n\r")


@st.composite
def damaged_ciphertext(draw: st.DrawFn, data: bytes) -> bytes:
    """An encrypted document whose base64 payload (CipherValue, key or data) is damaged inside:
    a byte flipped, cut short, or lengthened. Well-formed, so decryption itself is tested."""
    root = etree.fromstring(data)
    values = [e for e in root.iter() if isinstance(e.tag, str) and e.tag.endswith("CipherValue")]
    target = draw(st.sampled_from(values))
    raw = bytearray(base64.b64decode("".join((target.text or "").split())))
    kind = draw(st.sampled_from(["flip", "cut", "extend", "empty"]))
    if kind == "flip" and raw:
        i = draw(st.integers(0, len(raw) - 1))
        raw[i] ^= draw(st.integers(1, 255))
    elif kind == "cut":
        del raw[draw(st.integers(0, len(raw))) :]
    elif kind == "extend":
        raw += draw(st.binary(min_size=1, max_size=40))
    else:
        raw = bytearray()
    target.text = base64.b64encode(bytes(raw)).decode()
    return bytes(etree.tostring(root))


def _elements(root: etree._Element) -> list[etree._Element]:
    return [e for e in root.iter() if isinstance(e.tag, str)]


@st.composite
def mutated_tree(draw: st.DrawFn, root: etree._Element, names: list[str]) -> etree._Element:
    """A deep copy of ``root`` with 1–4 structural changes: element text replaced (digits,
    dates, booleans, junk), an element removed, duplicated, renamed to another known name,
    nil-ed, emptied, moved elsewhere (wrapping), given another element's Id, or given an
    unknown child."""
    tree = copy.deepcopy(root)
    values = (
        st.text(_XML_CHARS, max_size=30)
        | st.text("0123456789", min_size=1, max_size=30)
        | st.sampled_from(
            [
                "",
                " ",
                "true",
                "false",
                "1",
                "0",
                "-1",
                "2020-02-30",
                "2020-08-28",
                "x" * 200,
                "1" * 5000,
                "９",
                "010",
                "2020-08-28T25:00:00",
            ]
        )
    )
    for _ in range(draw(st.integers(1, 4))):
        elements = _elements(tree)
        target = draw(st.sampled_from(elements))
        parent = target.getparent()
        kind = draw(
            st.sampled_from(
                [
                    "text",
                    "text",
                    "remove",
                    "duplicate",
                    "rename",
                    "nil",
                    "empty",
                    "add",
                    "move",
                    "id",
                ]
            )
        )
        if kind == "text":
            target.text = draw(values)
        elif kind == "remove" and parent is not None:
            parent.remove(target)
        elif kind == "duplicate" and parent is not None:
            parent.insert(parent.index(target), copy.deepcopy(target))
        elif kind == "rename":
            ns = etree.QName(target).namespace
            local = draw(st.sampled_from(names))
            target.tag = f"{{{ns}}}{local}" if ns else local
        elif kind == "nil":
            target.set(XSI_NIL, draw(st.sampled_from(["true", "1", "false"])))
        elif kind == "empty":
            for c in list(target):
                target.remove(c)
            target.text = None
        elif kind == "move" and parent is not None:
            # e.g. a signed element moved into a wrapper elsewhere (signature wrapping)
            dest = draw(st.sampled_from(elements))
            if dest is not target and target not in dest.iterancestors():
                dest.append(copy.deepcopy(target) if draw(st.booleans()) else target)
        elif kind == "id":
            # an Id taken from another element (duplicated Ids)
            ids = [(k, v) for e in elements for k, v in e.attrib.items() if k.endswith("Id")]
            if ids:
                k, v = draw(st.sampled_from(ids))
                target.set(k, v)
        else:
            etree.SubElement(target, draw(st.sampled_from(names))).text = draw(values)
    return tree


def local_names(*roots: etree._Element) -> list[str]:
    return sorted({etree.QName(e).localname for r in roots for e in _elements(r)})


_TAGS = st.sampled_from(["a", "data", "row", "lnCode", "status", "requestId", "Body", "x"])


def _render(node: Any) -> bytes:
    tag, text, kids = node
    inner = b"".join(_render(k) for k in kids)
    return b"<%s>%s%s</%s>" % (tag.encode(), text.encode(), inner, tag.encode())


random_trees = st.recursive(
    st.tuples(
        _TAGS,
        st.text("abc 019-<>&", max_size=8).map(
            lambda s: s.replace("<", "&lt;").replace("&", "&amp;").replace(">", "&gt;")
        ),
        st.just([]),
    ),
    lambda kids: st.tuples(_TAGS, st.just(""), st.lists(kids, max_size=4)),
    max_leaves=20,
).map(_render)

#: Anything: random bytes, random well-formed trees, text with XML-looking pieces.
any_bytes = (
    st.binary(max_size=300)
    | random_trees
    | st.lists(st.sampled_from(_SNIPPETS), max_size=12).map(b"".join)
)
