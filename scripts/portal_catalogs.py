#!/usr/bin/env python3
"""The portal's translation catalogs: extract the text from portal/ (Python and templates), update
portal/locales/{en,zh_CN}/LC_MESSAGES/messages.po with it, compile the .mo files beside them.

    python scripts/portal_catalogs.py           extract, update the .po files, compile the .mo files
    python scripts/portal_catalogs.py --check   say what is stale or untranslated (exit 1), change nothing

After adding text: run it, write the Chinese of every new entry (`msgstr ""` in zh_CN's messages.po), run
it again to compile. On a merge conflict in a .po, keep both sides' entries; in a .mo, take either side and
rerun the script. The .po files are sorted and carry no line numbers, so that parallel work merges cleanly.
English needs no translation (the msgids are English); its catalog exists so that every language has one.
"""

from __future__ import annotations

import argparse
import io
import sys
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
PORTAL = ROOT / "portal"
LOCALES = PORTAL / "locales"
LANGUAGES = ("en", "zh_CN")
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2.ext:babel_extract")]
OPTIONS = {"templates/**.html": {"trim_blocks": "true", "lstrip_blocks": "true"}}
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None}
# A fixed date keeps the files' headers unchanged from run to run.
STABLE_DATE = datetime(2026, 1, 1, tzinfo=UTC)


def extract() -> Catalog:
    """Every msgid of portal/ as a template catalog."""
    template = Catalog(project="rentmeter portal", creation_date=STABLE_DATE, fuzzy=False)
    found = extract_from_dir(str(PORTAL), METHODS, OPTIONS, KEYWORDS, strip_comment_tags=True)
    for filename, lineno, message, comments, context in found:
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def po_path(language: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / "messages.po"


def load(language: str) -> Catalog:
    path = po_path(language)
    if not path.exists():
        return Catalog(locale=language, project="rentmeter portal", creation_date=STABLE_DATE, fuzzy=False)
    with path.open("rb") as po:
        return read_po(po, locale=language)


def updated(language: str, template: Catalog) -> Catalog:
    catalog = load(language)
    catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
    catalog.obsolete.clear()
    return catalog


def po_bytes(catalog: Catalog) -> bytes:
    """The .po text; without Babel's Generated-By line, so that another Babel version writes the same."""
    out = io.BytesIO()
    write_po(out, catalog, width=110, no_location=True, sort_output=True, ignore_obsolete=True)
    return b"".join(
        line for line in out.getvalue().splitlines(keepends=True) if b'"Generated-By:' not in line
    )


def mo_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def translations_of(catalog: Catalog) -> dict[object, object]:
    """msgid -> translation, the header left out (it names the Babel version that compiled it)."""

    def key(value: object) -> tuple[object, ...]:
        return tuple(value) if isinstance(value, list | tuple) else (value,)

    translated = (m for m in catalog if m.id and not m.fuzzy and all(key(m.string) or ()))
    # write_mo stores an untranslated plural as its msgids: the same as no translation
    return {key(m.id): key(m.string) for m in translated if key(m.string) != key(m.id)}


def untranslated(catalog: Catalog) -> list[str]:
    missing = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        if message.fuzzy or not all(strings):
            missing.append(str(message.id))
    return missing


def problems() -> list[str]:
    """What is stale or missing, one sentence each (empty: the catalogs are complete and compiled)."""
    template = extract()
    found = []
    for language in LANGUAGES:
        path = po_path(language)
        if not path.exists():
            found.append(f"{path.relative_to(ROOT)} is missing")
            continue
        catalog = load(language)
        if po_bytes(updated(language, template)) != path.read_bytes():
            found.append(f"{path.relative_to(ROOT)} is not up to date with the text in portal/")
        if language != "en":
            found.extend(f"{language} has no translation of {msgid!r}" for msgid in untranslated(catalog))
        mo = path.with_suffix(".mo")
        if not mo.exists() or translations_of(read_mo(io.BytesIO(mo.read_bytes()))) != translations_of(
            catalog
        ):
            found.append(f"{mo.relative_to(ROOT)} is not compiled from its .po")
    return found


def write() -> None:
    template = extract()
    for language in LANGUAGES:
        path = po_path(language)
        path.parent.mkdir(parents=True, exist_ok=True)
        catalog = updated(language, template)
        path.write_bytes(po_bytes(catalog))
        path.with_suffix(".mo").write_bytes(mo_bytes(read_po(io.BytesIO(po_bytes(catalog)), locale=language)))
        missing = untranslated(catalog) if language != "en" else []
        print(f"{language}: {len(catalog)} messages, {len(missing)} without a translation")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="report stale or untranslated catalogs")
    if parser.parse_args(argv).check:
        found = problems()
        for problem in found:
            print(problem, file=sys.stderr)
        return 1 if found else 0
    write()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
