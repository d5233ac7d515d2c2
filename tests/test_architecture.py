"""The layout docs/architecture.md draws is the layout the code has: every module is named there, and no module
imports one in a layer after its own (function-level imports included), so data flows one way."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "linkkeeper"
ARCHITECTURE = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")

# The layers of docs/architecture.md, first to last: a module may import its own layer and those before it.
LAYERS = [
    {"text"},
    {"settings", "files", "faults", "exits", "progress"},
    {"store", "net", "wayback"},
    {"sources"},
    {"check"},
    {"repair"},
    {"desk"},
    {"sim", "nightly", "demo"},
    {"cli", "__main__"},
]


def layer_of(module: str) -> int:
    top = module.split(".")[1] if module.count(".") else ""
    for index, names in enumerate(LAYERS):
        if top in names:
            return index
    raise AssertionError(f"{module} is in no layer of docs/architecture.md")


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if name != "linkkeeper":
            found[name] = path
    return found


def imports_of(path: Path, module: str) -> set[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            if base.startswith("linkkeeper."):
                out.add(base)
            elif base == "linkkeeper":
                out.update(f"linkkeeper.{a.name}" for a in node.names if a.name != "__version__")
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("linkkeeper."))
    return out


MODULES = modules()


@pytest.mark.parametrize("module", sorted(MODULES))
def test_every_module_is_on_the_map(module):
    leaf = module.split(".")[-1]
    path = MODULES[module].relative_to(SRC).as_posix()
    named = path in ARCHITECTURE or f"`{leaf}.py`" in ARCHITECTURE or f"`{leaf}/`" in ARCHITECTURE \
        or f"{module.split('.')[-1]}/" in ARCHITECTURE
    assert named, f"docs/architecture.md does not name {path}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_a_later_stage(module):
    mine = layer_of(module)
    upward = sorted(m for m in imports_of(MODULES[module], module) if layer_of(m) > mine)
    assert not upward, f"{module} (layer {mine}) imports {upward}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_every_module_says_what_it_owns(module):
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    if module.endswith("__main__"):
        return
    assert ast.get_docstring(tree), f"{module} has no docstring"


def test_no_module_is_over_700_lines():
    long = {m: n for m, p in MODULES.items() if (n := len(p.read_text(encoding="utf-8").splitlines())) > 700}
    assert not long
