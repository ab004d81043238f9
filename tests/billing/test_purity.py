"""billing/ is the pure domain: it imports only the standard library and itself, and never computes with
floats (refusing them, with isinstance, is fine)."""

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
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "float":
                offenders.append(f"{path.name}: converts to float")
            annotations = [getattr(node, "returns", None), getattr(node, "annotation", None)]
            if any(a is not None and "float" in ast.unparse(a) for a in annotations):
                offenders.append(f"{path.name}: float in an annotation")
    assert offenders == []
