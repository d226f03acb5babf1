"""The folders show the architecture (README, "Layout"): imports point down only, no
product package imports the fake world, and the engine above the adapters names no
provider. A change that breaks the layout fails here, with the file and the import."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Lowest first. A package may import its own layer and the layers below it.
LAYERS = {
    "syncfirm": 0,  # money, crypto, limits; its settings/urls/jinja compose the whole app
    "clients": 1,  # tenancy
    "connections": 2,  # the provider contract, adapters, OAuth and tokens
    "sync": 3,  # the engine: sees only the contract
    "reconciliation": 4,
    "notices": 5,
    "questions": 6,
    "dashboard": 7,  # pages above everything
    "api": 7,
}
COMPOSITION = {"syncfirm/urls.py", "syncfirm/jinja.py"}  # wire the layers together
# A finding's page shows the questions asked about it; questions are a layer above findings.
KNOWN = {("reconciliation/views.py", "questions")}
PROVIDER_PACKAGES = ("connections.quickbooks", "connections.hubspot", "connections.xero")
PROVIDER_LIBRARIES = ("quickbooks", "intuitlib", "hubspot", "xero_python")
PROVIDER_NAMES = ("quickbooks", "xero", "hubspot", "intuit", "realm")


def _modules():
    for package in LAYERS:
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" not in relative:
                yield relative, ast.parse(path.read_text(), relative)


def _imports(relative: str, tree: ast.AST):
    here = relative[:-3].replace("/", ".").split(".")
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level]
                yield ".".join(base + ([node.module] if node.module else []))
            else:
                yield node.module


MODULES = dict(_modules())


def test_imports_point_down():
    upward = []
    for relative, tree in MODULES.items():
        own = relative.split("/")[0]
        if relative in COMPOSITION or relative.startswith("syncfirm/settings/"):
            continue
        for name in _imports(relative, tree):
            top = name.split(".")[0]
            if top in LAYERS and LAYERS[top] > LAYERS[own] and (relative, top) not in KNOWN:
                upward.append(f"{relative} imports {name}")
    assert upward == []


def test_no_product_package_imports_the_sandbox():
    found = [
        f"{relative} imports {name}"
        for relative, tree in MODULES.items()
        for name in _imports(relative, tree)
        if name.split(".")[0] == "sandbox"
    ]
    assert found == []


@pytest.mark.parametrize("package", ["sync", "reconciliation"])
def test_the_engine_sees_only_the_contract(package):
    """No provider package or SDK is imported, and no provider is named in code (comments
    and docstrings may explain a provider's rule)."""
    found = []
    for relative, tree in MODULES.items():
        if relative.split("/")[0] != package:
            continue
        for name in _imports(relative, tree):
            if name.startswith(PROVIDER_PACKAGES) or name.split(".")[0] in PROVIDER_LIBRARIES:
                found.append(f"{relative} imports {name}")
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
        }
        for node in ast.walk(tree):
            text = (
                node.value
                if isinstance(node, ast.Constant) and isinstance(node.value, str)
                else node.id
                if isinstance(node, ast.Name)
                else node.attr
                if isinstance(node, ast.Attribute)
                else ""
            )
            if id(node) in docstrings:
                continue
            if any(word in text.lower() for word in PROVIDER_NAMES):
                found.append(f"{relative}:{node.lineno} names {text[:60]!r}")
    assert found == []
