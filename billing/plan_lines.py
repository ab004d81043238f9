"""Where a key is written in a TOML plan document: tomllib reports no positions for valid documents, so
errors find their line here."""

from __future__ import annotations

import re
from collections.abc import Iterator

Path = tuple[str | int, ...]


class Locator:
    """Finds the line of a key (tomllib reports no positions for valid documents). A path is
    (table, key), (array-of-tables name, index, key) or (table, subtable, key)."""

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?\s*(#.*)?$")

    def __init__(self, text: str) -> None:
        self._lines = text.splitlines()

    def _sections(self) -> Iterator[tuple[str, int, list[tuple[int, str]]]]:
        """(header name with array index, header line number, [(line number, text)]) per section."""
        name, header_line = "", 0
        body: list[tuple[int, str]] = []
        seen: dict[str, int] = {}
        for number, line in enumerate(self._lines, start=1):
            match = self._HEADER.match(line)
            if match:
                yield name, header_line, body
                table = match.group(2).replace('"', "").replace("'", "").strip()
                if match.group(1) == "[[":
                    seen[table] = seen.get(table, -1) + 1
                    table = f"{table}.{seen[table]}"
                name, header_line, body = table, number, []
            else:
                body.append((number, line))
        yield name, header_line, body

    def __call__(self, path: Path) -> int | None:
        parts = [str(p) for p in path]
        for split in range(len(parts), -1, -1):
            section, keys = ".".join(parts[:split]), parts[split:]
            for name, header_line, body in self._sections():
                if name != section:
                    continue
                if not keys:
                    return header_line or None
                pattern = re.compile(r"^\s*[\"']?" + re.escape(keys[0]) + r"[\"']?\s*=")
                for number, line in body:
                    if pattern.match(line):
                        return number
        return None
