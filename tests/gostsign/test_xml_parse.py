"""The hardened parser refuses hostile XML; exclusive c14n behaves as the Fund's profile needs."""

from __future__ import annotations

import pytest
from lxml import etree

from gostsign.errors import InvalidInput
from gostsign.xml import parse as xmlparse
from gostsign.xml.c14n import canonicalize, exc_c14n
from gostsign.xml.ns import EXC_C14N, EXC_C14N_WITH_COMMENTS


def test_plain_message_parses() -> None:
    tree = xmlparse.parse(b'<?xml version="1.0" encoding="UTF-8"?><a><b x="1">t</b></a>')
    assert tree.getroot()[0].text == "t"


def test_xml_1_1_declaration_is_read() -> None:
    # The Fund's example 7.1.2 declares version 1.1.
    assert xmlparse.parse(b'<?xml version="1.1" encoding="UTF-8"?><a/>').getroot().tag == "a"


@pytest.mark.parametrize(
    "data",
    [
        # external entity (file)
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
        # external entity over the network
        b'<!DOCTYPE r [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]><r>&x;</r>',
        # external DTD
        b'<!DOCTYPE r SYSTEM "http://127.0.0.1:9/r.dtd"><r/>',
        # parameter entities
        b'<!DOCTYPE r [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><r/>',
        # billion laughs
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
        b"]><lolz>&lol3;</lolz>",
        # quadratic blow-up
        b'<!DOCTYPE r [<!ENTITY a "' + b"x" * 10000 + b'">]><r>' + b"&a;" * 1000 + b"</r>",
        # a lower-case doctype still is one
        b"<!doctype r><r/>",
    ],
    ids=[
        "xxe-file",
        "xxe-network",
        "external-dtd",
        "parameter-entity",
        "billion-laughs",
        "quadratic",
        "lowercase-doctype",
    ],
)
def test_dtds_and_entities_are_refused(data: bytes) -> None:
    with pytest.raises(InvalidInput, match=r"DOCTYPE|not well-formed"):
        xmlparse.parse(data)


def test_utf16_doctype_is_refused() -> None:
    data = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>'
    with pytest.raises(InvalidInput, match="DOCTYPE"):
        xmlparse.parse(data.encode("utf-16"))


def test_undeclared_entity_is_refused() -> None:
    with pytest.raises(InvalidInput, match="not well-formed"):
        xmlparse.parse(b"<r>&x;</r>")


def test_predefined_entities_and_char_refs_are_fine() -> None:
    root = xmlparse.parse(b"<r>&lt;&amp;&#x41;&#1046;</r>").getroot()
    assert root.text == "<&AЖ"


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(InvalidInput, match="deep"):
        xmlparse.parse(b"<a>" * 100 + b"</a>" * 100)
    with pytest.raises(InvalidInput, match="deep"):  # beyond libxml2's own limit as well
        xmlparse.parse(b"<a>" * 5000 + b"</a>" * 5000)
    assert xmlparse.parse(b"<a>" * 10 + b"</a>" * 10, max_depth=10) is not None
    with pytest.raises(InvalidInput, match="deeper than 9"):
        xmlparse.parse(b"<a>" * 10 + b"</a>" * 10, max_depth=9)


def test_huge_input_is_refused() -> None:
    big = b"<r>" + b"x" * (xmlparse.MAX_BYTES + 1) + b"</r>"
    with pytest.raises(InvalidInput, match="more than the limit"):
        xmlparse.parse(big)
    with pytest.raises(InvalidInput, match="more than the limit of 100"):
        xmlparse.parse(b"<r>" + b"x" * 200 + b"</r>", max_bytes=100)


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"", "empty"), (b"   ", "empty"), (b"<a>", "not well-formed"), (b"not xml", "not well")],
)
def test_garbage_is_refused_with_one_sentence(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as info:
        xmlparse.parse(data, what="IN")
    assert "\n" not in str(info.value)
    assert str(info.value).startswith("IN ")


def test_str_input_is_utf8() -> None:
    assert xmlparse.parse("<r>Ж</r>").getroot().text == "Ж"


# -- exclusive c14n ---------------------------------------------------------------------------


def test_exc_c14n_renders_only_visibly_used_namespaces() -> None:
    root = etree.fromstring(
        b'<e:Envelope xmlns:e="urn:e" xmlns:a="urn:a" xmlns:b="urn:b" xmlns:u="urn:u">'
        b'<e:Body u:Id="x"><a:req b:attr="1" z="2"/></e:Body></e:Envelope>'
    )
    body = root[0]
    assert exc_c14n(body) == (
        b'<e:Body xmlns:e="urn:e" xmlns:u="urn:u" u:Id="x">'
        b'<a:req xmlns:a="urn:a" xmlns:b="urn:b" z="2" b:attr="1"></a:req></e:Body>'
    )


def test_exc_c14n_is_independent_of_the_surroundings() -> None:
    alone = etree.fromstring(b'<p:x xmlns:p="urn:p"><p:y>1</p:y></p:x>')
    inside = etree.fromstring(
        b'<r xmlns="urn:other" xmlns:p="urn:p" xmlns:q="urn:p" xml:lang="ru">'
        b"<p:x><p:y>1</p:y></p:x></r>"
    )[0]
    assert exc_c14n(alone) == exc_c14n(inside)


def test_comments_only_with_comments() -> None:
    el = etree.fromstring(b"<r><!-- note --><a/></r>")
    assert exc_c14n(el) == b"<r><a></a></r>"
    assert exc_c14n(el, with_comments=True) == b"<r><!-- note --><a></a></r>"
    assert canonicalize(el, EXC_C14N_WITH_COMMENTS) == b"<r><!-- note --><a></a></r>"
    assert canonicalize(el, EXC_C14N) == b"<r><a></a></r>"


def test_c14n_normalises_what_the_spec_says() -> None:
    el = xmlparse.parse(b"<r b='2' a=\"1\"><![CDATA[<x>]]>&#13;<e/></r>").getroot()
    assert exc_c14n(el) == b'<r a="1" b="2">&lt;x&gt;&#xD;<e></e></r>'


def test_only_exclusive_c14n_is_accepted() -> None:
    from gostsign.errors import UnsupportedAlgorithm

    with pytest.raises(UnsupportedAlgorithm, match="exclusive c14n"):
        canonicalize(etree.fromstring(b"<r/>"), "http://www.w3.org/TR/2001/REC-xml-c14n-20010315")
