"""The lock files: every package the code imports is declared with a ceiling, every declared one is
pinned with hashes within its range, and what runs the tests is exactly what is pinned."""

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("roster", "resolvers", "schema", "jobs", "db", "rules")
PIN = re.compile(r"^([A-Za-z0-9._-]+)==(\S+) \\$")


def pins(lock: str) -> dict[str, tuple[Version, int]]:
    """Package: (pinned version, how many hashes follow it)."""
    found: dict[str, tuple[Version, int]] = {}
    name = None
    for line in (ROOT / lock).read_text().splitlines():
        if m := PIN.match(line):
            name = canonicalize_name(m[1])
            found[name] = (Version(m[2]), 0)
        elif line.strip().startswith("--hash=sha256:") and name is not None:
            version, hashes = found[name]
            found[name] = (version, hashes + 1)
    return found


def declared(extra: str | None = None) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    listed = project["optional-dependencies"][extra] if extra else project["dependencies"]
    return [Requirement(r) for r in listed]


def imported_distributions() -> set[str]:
    """The distributions whose modules the packages of Roster import."""
    modules: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    modules.update(a.name.split(".")[0] for a in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules.add(node.module.split(".")[0])
    third_party = modules - set(sys.stdlib_module_names) - set(PACKAGES)
    owners = metadata.packages_distributions()
    return {canonicalize_name(d) for m in third_party for d in owners.get(m, [m])}


def test_every_imported_package_is_declared() -> None:
    names = {canonicalize_name(r.name) for r in declared()}
    assert imported_distributions() <= names, imported_distributions() - names


@pytest.mark.parametrize("extra", [None, "dev"])
def test_every_declared_range_has_a_ceiling(extra: str | None) -> None:
    for requirement in declared(extra):
        if requirement.name.startswith("types-"):
            continue  # type stubs follow their package's version and hold no code
        operators = {s.operator for s in requirement.specifier}
        assert operators & {"<", "<=", "=="}, f"{requirement} has no ceiling"


@pytest.mark.parametrize(
    ("lock", "extra"), [("requirements.txt", None), ("requirements-dev.txt", "dev")]
)
def test_the_lock_pins_every_declared_package_within_its_range(
    lock: str, extra: str | None
) -> None:
    pinned = pins(lock)
    wanted = declared() + (declared(extra) if extra else [])
    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{name} is not in {lock}: run scripts/lock"
        version, hashes = pinned[name]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{lock} pins {name}=={version}, outside {requirement}: run scripts/lock"
        )
        assert hashes > 0
    assert all(hashes > 0 for _, hashes in pinned.values())
    # The build backend too, so that building Roster asks the registry for nothing unpinned.
    assert "setuptools" in pinned


def test_the_tests_run_on_exactly_what_the_lock_pins() -> None:
    for name, (version, _) in pins("requirements-dev.txt").items():
        installed = Version(metadata.version(name))
        assert installed == version, f"{name} {installed} is installed, the lock pins {version}"
