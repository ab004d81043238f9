"""billing/ is the pure domain: it imports only the standard library and itself."""

import ast
import sys
from pathlib import Path

BILLING = Path(__file__).resolve().parents[2] / "billing"


def test_billing_imports_only_stdlib_and_itself() -> None:
    offenders = []
    for path in BILLING.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top != "billing" and top != "__future__" and top not in sys.stdlib_module_names:
                    offenders.append(f"{path.name}: {name}")
            if isinstance(node, ast.Name) and node.id == "float":
                offenders.append(f"{path.name}: uses float")
    assert offenders == []
