"""portal/ is a client of the collector's API: it never imports collector/ (nor the CLI), only the protos,
the pure billing library (currency digits), the standard library and its web libraries."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PORTAL = Path(__file__).resolve().parents[2] / "portal"
ALLOWED = {
    "portal", "protos", "billing", "__future__", "grpc", "google", "starlette", "jinja2", "markupsafe",
    "uvicorn", "babel", "itsdangerous", "multipart", "python_multipart", "qrcode",
}  # fmt: skip


def imported_names(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def test_the_portal_imports_neither_the_collector_nor_the_cli() -> None:
    offenders = [
        f"{path.relative_to(PORTAL.parent)}: {name}"
        for path in sorted(PORTAL.rglob("*.py"))
        for name in imported_names(path)
        if name.split(".")[0] not in ALLOWED and name.split(".")[0] not in sys.stdlib_module_names
    ]
    assert offenders == []


def test_the_walk_sees_an_import_of_the_collector(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from collector.db import models\nimport collector.server\n")
    assert imported_names(module) == ["collector.db", "collector.server"]
