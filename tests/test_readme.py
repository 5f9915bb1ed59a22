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


def _layout_entries() -> dict[str, str]:
    """The layout tour's entries: each path at the start of a line, with the text of its lines."""
    text = README.read_text()
    section = text[text.index("## Layout") : text.index("## How a request is handled")]
    block = FENCE.search(section)
    assert block is not None
    entries: dict[str, str] = {}
    current = ""
    for line in block.group(0).splitlines()[1:-1]:
        if line and not line.startswith(" "):
            current = line.split()[0]
            entries[current] = ""
        entries[current] += line + "\n"
    return entries


@pytest.mark.slow
def test_the_layout_tour_names_every_function_folder_and_only_files_that_exist() -> None:
    """The tour left out functions/admin/ (AdminFunction, AdminSetupFunction, UsageRollupFunction): a newcomer
    reading it could not find the admin API's code. Every folder under functions/ and layers/ and every function of
    the template must be named, and every file the tour names must exist where it says."""
    entries = _layout_entries()
    assert len(entries) > 10  # the parse found the tour
    missing = [entry for entry in entries if not (REPO / entry).exists()]
    for entry, lines in entries.items():
        for name in re.findall(r"\b[\w/]+\.(?:py|json|toml|yaml|md)\b", lines):
            if not (REPO / name).exists() and not any((REPO / entry).rglob(name)):
                missing.append(f"{entry}: {name}")
    assert missing == []
    folders = {f"{path.relative_to(REPO)}/" for parent in ("functions", "layers") for path in (REPO / parent).iterdir()}
    assert folders - set(entries) == set()
    tour = "".join(entries.values())
    functions = stack.local_template().functions
    assert "ApiFunction" in functions and [name for name in functions if name not in tour] == []


@pytest.mark.slow
def test_every_parameter_and_output_of_the_template_is_named_in_the_readme() -> None:
    """`FunctionMemorySize`, `ApiLoggingLevel`, `TmdbListPages`, `TmdbRefreshAfterDays`, the tiers' burst limits and
    most outputs (`AdminApiUrl`, `ExportBucketName`, the usage plans' ids…) were named nowhere: `sam deploy --guided`
    asks for every parameter, and a newcomer had only the template to learn what each does."""
    text = README.read_text()
    template = (REPO / "template.yaml").read_text()
    sections = {}
    for section in ("Parameters", "Outputs"):
        body = template[template.index(f"\n{section}:\n") + len(section) + 3 :]
        body = re.split(r"^\S", body, maxsplit=1, flags=re.M)[0]  # up to the next top-level key
        sections[section] = re.findall(r"^  ([A-Z]\w+):", body, re.M)
    assert len(sections["Parameters"]) > 30 and len(sections["Outputs"]) > 15  # the parse found both
    assert [name for names in sections.values() for name in names if not re.search(rf"\b{name}\b", text)] == []
