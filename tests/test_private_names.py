"""Only the execution engine (roster/execution/) uses private names of Strawberry or graphql-core,
and it lists each (its docstring; PRIVATE_NAMES, which scripts/upgrade-check checks): read off
the code's syntax trees, so that an upgrade moving one breaks a package the kill switch unloads."""

import ast
import importlib
from pathlib import Path

import roster.execution
from roster.execution import PRIVATE_NAMES, moved

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("roster", "resolvers", "schema", "jobs", "db", "rules")
ENGINE = ROOT / "roster" / "execution"
LIBRARIES = {"strawberry", "graphql"}
# Internal modules of theirs whose path has no underscore.
INTERNAL_MODULES = {"strawberry.subscriptions.protocols.graphql_transport_ws.handlers"}
# arq's private names, kept in the one module that runs jobs (scripts/upgrade-check checks them).
ARQ = {("jobs/worker.py", "_release_sem_dec_counter_on_complete")}
# The standard library's public names that start with an underscore.
PUBLIC = {"_exit", "_replace", "_asdict", "_make", "_fields"}


def is_private(name: str) -> bool:
    dunder = name.startswith("__") and name.endswith("__")
    return name.startswith("_") and not dunder and name not in PUBLIC


def own_name(node: ast.AST) -> str | None:
    """The name a node defines in its file: function, class, parameter, assigned name or
    attribute (`self._x = …`), import alias."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return node.name
    if isinstance(node, ast.Name | ast.Attribute) and isinstance(node.ctx, ast.Store):
        return node.id if isinstance(node, ast.Name) else node.attr
    return node.arg if isinstance(node, ast.arg) else getattr(node, "asname", None)


class PrivateNames(ast.NodeVisitor):
    """Collects (line, name) for each use of a name private to Strawberry or graphql-core."""

    def __init__(self, tree: ast.Module) -> None:
        self.own = {own_name(node) for node in ast.walk(tree)}
        self.found: list[tuple[int, str]] = []
        # Local name -> (module, name) of what the file imports from the two libraries.
        self.imported: dict[str, tuple[str, str]] = {}
        self.visit(tree)

    def flag(self, node: ast.AST, name: str) -> None:
        self.found.append((getattr(node, "lineno", 0), name))

    def visit_Import(self, node: ast.Import) -> None:  # (a)
        for alias in node.names:
            self.check_module(node, alias.name)
            if alias.name.split(".")[0] in LIBRARIES:
                self.imported[alias.asname or alias.name.split(".")[0]] = (alias.name, "")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:  # (a)
        module = node.module or ""
        self.check_module(node, module)
        for alias in node.names if module.split(".")[0] in LIBRARIES else ():
            self.imported[alias.asname or alias.name] = (module, alias.name)
            if is_private(alias.name):
                self.flag(node, alias.name)

    def check_module(self, node: ast.AST, module: str) -> None:
        parts = module.split(".")
        if parts[0] in LIBRARIES and (any(map(is_private, parts)) or module in INTERNAL_MODULES):
            self.flag(node, module)

    def visit_Attribute(self, node: ast.Attribute) -> None:  # (b) and (c)
        if is_private(node.attr) and node.attr not in self.own:
            self.flag(node, node.attr)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        function = node.func
        if isinstance(function, ast.Name) and function.id in ("getattr", "hasattr", "setattr"):
            name = node.args[1] if len(node.args) > 1 else None
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                if is_private(name.value) and name.value not in self.own:  # (b), spelt out
                    self.flag(node, name.value)
        if self.imported:  # (d): in a file using the libraries, `_x=` is taken to be theirs
            for keyword in node.keywords:
                if keyword.arg and is_private(keyword.arg) and keyword.arg not in self.own:
                    self.flag(keyword.value, keyword.arg)
        self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:  # (e)
        for base in filter(None, map(self.library_class, node.bases)):
            for method in node.body:
                if isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef):
                    if is_private(method.name) and hasattr(base, method.name):
                        self.flag(method, method.name)
        self.generic_visit(node)

    def library_class(self, base: ast.expr) -> type | None:
        """The class a base names, when it comes from one of the two libraries."""
        if isinstance(base, ast.Subscript):
            base = base.value
        if not isinstance(base, ast.Name) or base.id not in self.imported:
            return None
        module, name = self.imported[base.id]
        found = getattr(importlib.import_module(module), name, None)
        return found if isinstance(found, type) else None


def private_names(path: Path) -> list[tuple[int, str]]:
    return PrivateNames(ast.parse(path.read_text(), str(path))).found


SOURCES = [p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))]


def test_nothing_outside_the_engine_touches_a_private_name() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path in SOURCES
        if not path.is_relative_to(ENGINE)
        for line, name in private_names(path)
        if (str(path.relative_to(ROOT)), name) not in ARQ
    ]
    assert not found, (
        "Private names of Strawberry or graphql-core outside roster/execution/: move the code "
        "into the engine, and list the names in its docstring and PRIVATE_NAMES:\n"
        + "\n".join(found)
    )


def test_the_engine_lists_every_private_name_it_uses() -> None:
    listed = {n for e in PRIVATE_NAMES for n in (e.module, *e.name.split("."), *e.keywords)}
    unlisted = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path in sorted(ENGINE.glob("*.py"))
        for line, name in private_names(path)
        if name not in listed
    ]
    assert not unlisted, "Add these to PRIVATE_NAMES in roster/execution/__init__.py:\n" + (
        "\n".join(unlisted)
    )
    docstring = roster.execution.__doc__ or ""
    undocumented = [e for e in PRIVATE_NAMES if e.name.split(".")[-1] not in docstring]
    assert undocumented == [], "List these in roster/execution/__init__.py's docstring"


def test_every_private_name_is_where_the_engine_expects_it() -> None:
    """With the locked versions; scripts/upgrade-check asks the same of the newest."""
    assert moved() == []
