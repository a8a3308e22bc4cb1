"""Exclusive XML canonicalization (``xml-exc-c14n#`` and ``#WithComments``) via libxml2.

Exclusive c14n of an element depends only on the element's own subtree and the namespace
bindings of the prefixes it visibly uses, not on where it sits: a signed fragment keeps its
digest wherever it is placed, as long as its prefixes keep their namespaces. Use
:func:`gostsign.xml.fragments.splice` (never lxml's ``append`` of a foreign element, which
may rename prefixes) to put stored fragments into a new message.
"""

from __future__ import annotations

from lxml import etree

from gostsign.errors import InvalidInput, UnsupportedAlgorithm
from gostsign.xml import ns


def exc_c14n(element: etree._Element, *, with_comments: bool = False) -> bytes:
    """Exclusive canonical form of ``element`` (its subtree), without inclusive prefixes.

    Raises :class:`InvalidInput` where libxml2 cannot canonicalise (e.g. a relative namespace
    URI, which C14N forbids): such a document can be neither signed nor verified.
    """
    try:
        return etree.tostring(element, method="c14n", exclusive=True, with_comments=with_comments)
    except etree.C14NError:
        raise InvalidInput(
            "the XML cannot be canonicalised (exclusive c14n); a namespace URI may be relative"
        ) from None


def canonicalize(element: etree._Element, algorithm: str) -> bytes:
    """Canonicalize with the algorithm named by its URI (only exclusive c14n is accepted)."""
    try:
        with_comments = ns.C14N_ALGORITHMS[algorithm]
    except KeyError:
        raise UnsupportedAlgorithm(
            f"canonicalization {algorithm!r} is not accepted; the Fund's profile uses "
            f"exclusive c14n ({ns.EXC_C14N} or {ns.EXC_C14N_WITH_COMMENTS})"
        ) from None
    return exc_c14n(element, with_comments=with_comments)
