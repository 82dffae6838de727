"""ElementTree <-> TMVA's XML nodes (ROOT ``TXMLEngine`` node handles, passed as ``void*``).

TMVA writes its weight files with ``TXMLEngine`` and hands a method the ``void*`` of a node:
``AddWeightsXMLTo(void* parent)`` receives ``<MethodSetup>``, ``ReadWeightsFromXML(void* node)``
receives ``<Weights>``. The model itself is an :class:`xml.etree.ElementTree.Element`; these two
functions copy it into and out of TXMLEngine's tree, node by node (a model has few nodes: the
matrices are text). ``TXMLEngine`` escapes attribute values but writes text content verbatim,
so text is escaped here (``&``, ``<``, ``>``); it unescapes both when it parses.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

__all__ = ["append_element", "read_element"]

_engine = None


def _xml():
    """A TXMLEngine. It keeps no per-document state, so one serves every document."""
    global _engine
    if _engine is None:
        import ROOT

        _engine = ROOT.TXMLEngine()
    return _engine


def append_element(parent, element: ET.Element):
    """Append ``element`` (and its subtree) under the TXMLEngine node ``parent``; return the node."""
    import ROOT

    xml = _xml()
    text = (element.text or "").strip()
    if text:
        node = xml.NewChild(parent, ROOT.nullptr, element.tag, escape(text))
    else:
        node = xml.NewChild(parent, ROOT.nullptr, element.tag)
    for name, value in element.attrib.items():
        xml.NewAttr(node, ROOT.nullptr, name, str(value))
    for child in element:
        append_element(node, child)
    return node


def read_element(node) -> ET.Element:
    """Return the TXMLEngine node ``node`` (and its subtree) as an ElementTree element."""
    xml = _xml()
    element = ET.Element(str(xml.GetNodeName(node)))
    attr = xml.GetFirstAttr(node)
    while attr:
        element.set(str(xml.GetAttrName(attr)), str(xml.GetAttrValue(attr)))
        attr = xml.GetNextAttr(attr)
    child = xml.GetChild(node)
    if child:
        while child:
            element.append(read_element(child))
            child = xml.GetNext(child)
    else:
        content = xml.GetNodeContent(node)
        if content:
            element.text = str(content)
    return element
