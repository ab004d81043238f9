"""Make the invoice PDF's font, collector/delivery/fonts/wqy-microhei-invoice.ttf, from Debian's package.

    apt-get download fonts-wqy-microhei=0.2.0-beta-3.1
    .venv/bin/python scripts/make_invoice_font.py fonts-wqy-microhei_0.2.0-beta-3.1_all.deb

The source is WenQuanYi Micro Hei 0.2.0-beta (Apache-2.0; Latin, Greek, Cyrillic, all 20,9xx CJK unified
ideographs, kana and the 11,172 Hangul syllables in one face), the first face of wqy-microhei.ttc, checked
by its SHA-256. Every character it maps is kept; what the PDF writer (fpdf2) never uses is dropped:
hinting, OpenType layout tables, vertical metrics and glyph names. 4.6 MB -> 3.7 MB (1.8 MB compressed);
fpdf2 subsets it again when it writes a PDF, so an invoice carries only the glyphs it shows.

The result is the same bytes for the same source and fontTools version (no timestamps are written); the
script prints its SHA-256, and `--check` compares it with the committed file instead of writing.
Accepts the .deb or the .ttc itself.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
import tarfile
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "collector" / "delivery" / "fonts" / "wqy-microhei-invoice.ttf"
MEMBER = "./usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
SOURCE_SHA256 = "2420e8078af796b19a3f6ef13de527a1a91c1e7171eea115926c614ced1009b3"
DROPPED_TABLES = ["vhea", "vmtx", "FFTM", "GDEF", "GPOS", "GSUB"]


def ttc_from_deb(deb: bytes) -> bytes:
    """wqy-microhei.ttc out of the Debian package (an ar archive holding data.tar.*)."""
    if not deb.startswith(b"!<arch>\n"):
        raise SystemExit("not a Debian package (no ar header)")
    offset = 8
    while offset + 60 <= len(deb):
        header = deb[offset : offset + 60]
        name, size = header[:16].decode().strip().rstrip("/"), int(header[48:58])
        body = deb[offset + 60 : offset + 60 + size]
        if name.startswith("data.tar"):
            with tarfile.open(fileobj=io.BytesIO(body)) as tar:
                member = tar.extractfile(MEMBER)
                if member is None:
                    raise SystemExit(f"{MEMBER} is not in the package")
                return member.read()
        offset += 60 + size + size % 2
    raise SystemExit("the package has no data.tar member")


def make_font(ttc: bytes) -> bytes:
    digest = hashlib.sha256(ttc).hexdigest()
    if digest != SOURCE_SHA256:
        raise SystemExit(f"wqy-microhei.ttc has SHA-256 {digest}, expected {SOURCE_SHA256}")
    font = TTCollection(io.BytesIO(ttc)).fonts[0]  # WenQuanYi Micro Hei (the second face is the Mono one)
    options = subset.Options()
    options.hinting = False
    options.layout_features = []
    options.drop_tables += DROPPED_TABLES
    options.glyph_names = False
    options.name_IDs = ["*"]  # keep the copyright and licence records
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=font.getBestCmap().keys())
    subsetter.subset(font)
    font.recalcTimestamp = False  # keep head.modified as the source has it: reproducible bytes
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="fonts-wqy-microhei_*.deb or wqy-microhei.ttc")
    parser.add_argument("--check", action="store_true", help="compare with the committed font, write nothing")
    args = parser.parse_args(argv)
    data = args.source.read_bytes()
    font = make_font(ttc_from_deb(data) if args.source.suffix == ".deb" else data)
    digest = hashlib.sha256(font).hexdigest()
    if args.check:
        same = OUTPUT.read_bytes() == font
        print(f"{OUTPUT.name}: {'same as' if same else 'DIFFERS from'} what the script makes ({digest})")
        return 0 if same else 1
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_bytes(font)
    print(f"{OUTPUT.relative_to(ROOT)}: {len(font)} bytes, SHA-256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
