"""Every problem type of the chassis registry has its page in docs/problems, and the index lists them."""

from pathlib import Path

import pytest
from icsuite_chassis.problems import PROBLEM_TYPES

pytestmark = pytest.mark.unit

PAGES = Path(__file__).resolve().parents[2] / "docs" / "problems"


def test_every_problem_type_has_a_page_naming_its_uri_and_status() -> None:
    index = (PAGES / "README.md").read_text(encoding="utf-8")
    for problem in PROBLEM_TYPES.values():
        page = (PAGES / f"{problem.slug}.md").read_text(encoding="utf-8")
        assert problem.uri in page and f"status {problem.status}" in page, problem.slug
        assert f"({problem.slug}.md)" in index, problem.slug
    assert {p.stem for p in PAGES.glob("*.md")} - {"README"} == set(PROBLEM_TYPES)
