"""docs/contract.md and docs/api/ are what `make docs` writes from the code today."""

from __future__ import annotations

import pytest
from icsuite_tools.contract_docs import DOCS, ROOT, SERVICES, collect, expected_files

pytestmark = pytest.mark.unit


def test_the_contract_documents_are_current() -> None:
    files = expected_files(collect())
    stale = [str(path.relative_to(ROOT)) for path, text in files.items()
             if not path.exists() or path.read_text(encoding="utf-8") != text]
    assert not stale, f"not current, run `make docs`: {stale}"
    contract = (DOCS / "contract.md").read_text(encoding="utf-8")
    for service in SERVICES:
        assert f"## {service}\n" in contract
    assert "| GET | `/v1/accounts/search` |" in contract and "### ic.contact.started.v1" in contract
    assert {path.name for path in (DOCS / "api").iterdir()} == {path.name for path in files if path.parent.name == "api"}
