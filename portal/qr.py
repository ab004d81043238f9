"""QR codes as inline SVG for pages (a gateway order's `pay_url`): drawn on the server with qrcode's SVG
path factory, so no JavaScript and no inline style (the page's CSP holds). Size it with CSS (`.qr svg`).

    {{ qr_svg(order.pay_url) }}       # in a template, after registering qr_svg as a global
"""

from __future__ import annotations

import io

from markupsafe import Markup


def qr_svg(data: str, *, label: str = "") -> Markup:
    """An `<svg>` element of the QR code for `data` (medium error correction), with `label` as its
    accessible name (role img)."""
    import qrcode
    from qrcode.image.svg import SvgPathImage

    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, image_factory=SvgPathImage
    )
    code.add_data(data)
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image().save(out)
    svg = out.getvalue().decode()
    svg = svg[svg.index("<svg") :]  # no XML declaration inside HTML
    title = Markup("<title>{}</title>").format(label) if label else Markup("")
    return Markup(
        svg.replace(">", ' role="img" focusable="false">', 1).replace("</svg>", f"{title}</svg>", 1)
    )
