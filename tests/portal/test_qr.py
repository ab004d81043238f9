"""portal/qr.py: QR codes as inline SVG that the page's CSP allows (no style, no script), labelled."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from portal.qr import qr_svg

SVG = "{http://www.w3.org/2000/svg}"


def test_a_qr_code_is_an_accessible_svg_without_style_or_script() -> None:
    svg = qr_svg("weixin://wxpay/bizpayurl?pr=RMT0123456789abcdef0101", label="Pay <20.00 CNY>")
    root = ET.fromstring(str(svg))
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "Pay <20.00 CNY>"  # escaped in the markup, read back whole
    assert "style" not in svg and "<script" not in svg and "<?xml" not in svg
    assert root.find(f"{SVG}path").get("d", "").startswith("M")
    longer = qr_svg("https://qr.alipay.com/" + "x" * 200)
    assert ET.fromstring(str(longer)).get("viewBox") != root.get("viewBox")  # grows with its content
