"""The README and docs/: every link leads to a file (and heading) of the repository, nothing
points outside it, and the README links every document."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
URL = re.compile(r"https?://[^\s)`\"'>]+")


def anchors(path: Path) -> set[str]:
    """GitHub's anchors for the headings of a Markdown file."""
    found = set()
    in_code = False
    for line in path.read_text().splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return found


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_links_lead_into_the_repository(document: Path) -> None:
    for target in LINK.findall(document.read_text()):
        assert not target.startswith(("http:", "https:", "//")), (document.name, target)
        path, _, anchor = target.partition("#")
        resolved = (document.parent / path).resolve() if path else document
        assert resolved.exists(), (document.name, target)
        assert ROOT in resolved.parents or resolved == ROOT, (document.name, target)
        if anchor:
            assert anchor in anchors(resolved), (document.name, target)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_no_address_outside_this_machine(document: Path) -> None:
    for url in URL.findall(document.read_text()):
        host = re.sub(r"^https?://", "", url).split("/")[0].split(":")[0]
        assert host in ("localhost", "127.0.0.1") or host.endswith("example.com"), url


def test_the_readme_links_every_document() -> None:
    readme = LINK.findall((ROOT / "README.md").read_text())
    for document in DOCUMENTS[1:]:
        assert f"docs/{document.name}" in readme, document.name
