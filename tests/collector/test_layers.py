"""The collector's layers, held by its imports (like tests/billing/test_purity.py holds billing/ pure).

Each sub-package may import its own modules and those of lower layers, never a higher one; siblings of one
layer stay independent of each other. Module names never repeat across sub-packages.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

COLLECTOR = Path(__file__).resolve().parents[2] / "collector"

# Lowest first. Packages on one line are siblings: neither imports the other.
LAYERS: list[tuple[str, ...]] = [
    ("core",),
    ("db",),
    ("metering",),
    ("accounts", "delivery"),
    ("sessions",),
    ("invoicing", "payments", "pricing"),
    ("insights",),
    ("api",),
    ("config",),  # the top: settings, then the jobs' schedule, then the running server
    ("scheduler",),
    ("server",),
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def _part(module: str) -> str:
    """`collector.sessions.rating` -> `sessions`; `collector.server` -> `server`."""
    return module.split(".")[1]


def _modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(COLLECTOR.rglob("*.py")):
        relative = path.relative_to(COLLECTOR.parent).with_suffix("")
        if "migrations" in relative.parts or relative.parts == ("collector", "__init__"):
            continue
        found.append((".".join(relative.parts), path))
    return found


def _collector_imports(path: Path) -> list[tuple[int, str]]:
    imports = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("collector"):
            targets = (
                [node.module] if node.module != "collector" else [f"collector.{a.name}" for a in node.names]
            )
            imports += [(node.lineno, target) for target in targets]
        elif isinstance(node, ast.Import):
            imports += [(node.lineno, a.name) for a in node.names if a.name.startswith("collector.")]
    return imports


def test_every_module_belongs_to_a_layer() -> None:
    unknown = {_part(module) for module, _ in _modules()} - set(RANK)
    assert not unknown, f"add these to LAYERS: {sorted(unknown)}"


def test_no_module_imports_a_higher_layer_or_a_sibling() -> None:
    problems = []
    for module, path in _modules():
        own = _part(module)
        for line, target in _collector_imports(path):
            other = _part(target)
            if other == own:
                continue
            if RANK[other] > RANK[own]:
                problems.append(f"{path.name}:{line}: {own} (layer {RANK[own]}) imports higher {target}")
            elif RANK[other] == RANK[own]:
                problems.append(f"{path.name}:{line}: {own} imports its sibling {target}")
    assert not problems, "\n".join(problems)


def test_module_names_do_not_repeat_across_packages() -> None:
    names = Counter(Path(module.replace(".", "/")).name for module, _ in _modules() if module.count(".") == 2)
    repeated = sorted(name for name, count in names.items() if count > 1 and name != "__init__")
    assert not repeated, f"module names used in several packages: {repeated}"


def test_domain_layers_do_not_know_grpc() -> None:
    """Only api/ and the top layer speak gRPC; domain errors are mapped to statuses in api/status.py."""
    problems = []
    for module, path in _modules():
        if RANK[_part(module)] >= RANK["api"]:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            problems += [f"{module} imports {n}" for n in names if n.split(".")[0] in ("grpc", "protos")]
    assert not problems, "\n".join(problems)
