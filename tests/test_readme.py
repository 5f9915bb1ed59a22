"""The README as a newcomer's front door: its links resolve inside the repository, every public route has a
captured example, and the make targets it names exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from marquee_local import stack
from marquee_local.template import api_spec

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
DOCUMENTS = [README, REPO / "data" / "README.md", REPO / "bench" / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FENCE = re.compile(r"^```.*?^```", re.M | re.S)


def _prose(path: Path) -> str:
    return FENCE.sub("", path.read_text())


def _anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation but hyphens dropped, spaces as hyphens, -1, -2… on repeats."""
    seen: dict[str, int] = {}
    anchors = set()
    for heading in re.findall(r"^#{1,6} (.+)$", _prose(path), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        count = seen.get(slug)
        seen[slug] = 0 if count is None else count + 1
        anchors.add(slug if count is None else f"{slug}-{count + 1}")
    return anchors


@pytest.mark.slow
@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(REPO)))
def test_every_relative_link_and_anchor_resolves_inside_the_repository(document: Path) -> None:
    broken = []
    for link in re.findall(r"\]\(([^)\s]+)\)", _prose(document)):
        if re.match(r"[a-z]+:", link):
            continue  # https:, mailto:
        target, _, anchor = link.partition("#")
        path = (document.parent / target).resolve() if target else document
        if not path.is_relative_to(REPO) or not path.exists():
            broken.append(f"{link}: no such file in the repository")
        elif anchor and path.suffix == ".md" and anchor not in _anchors(path):
            broken.append(f"{link}: no such heading")
    assert broken == []


def test_the_readme_leans_on_no_file_outside_the_repository() -> None:
    """A newcomer has the clone only: no `../shared/…`, no documents of the team that wrote it."""
    text = README.read_text()
    assert "../shared" not in text and "/work/" not in text
    assert not re.search(r"\bDESIGN(\.md)?\b|STYLE\.md|TOOLCHAIN\.md", text)


@pytest.mark.slow
def test_every_public_route_has_a_captured_example() -> None:
    """The README says "Every endpoint has a captured request and response under Examples"; popular, upcoming and
    now_playing had none."""
    text = README.read_text()
    examples = text[text.index("<!-- examples:start -->") : text.index("<!-- examples:end -->")]
    requested = {
        re.sub(r"/\d+", "/{id}", path)
        for path in re.findall(r"curl [^\n]*?\"http://127\.0\.0\.1:8000(/[^?\"]*)", examples)
    }
    routes = {
        route.path
        for route in api_spec(stack.local_template()).routes
        if route.function == "ApiFunction" and route.method == "GET"
    }
    routes -= {"/docs", "/docs/{asset}", "/openapi.json"}  # the API's documentation, named in the API section
    assert routes and routes - requested == set()


def test_every_make_target_the_readme_names_exists() -> None:
    targets = set(re.findall(r"^([a-z][a-z-]*):", (REPO / "Makefile").read_text(), re.M))
    named = set(re.findall(r"`make ([a-z][a-z-]*)", README.read_text()))
    assert named and named - targets == set()
