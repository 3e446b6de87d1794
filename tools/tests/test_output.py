"""Table and key/value rendering."""

from __future__ import annotations

import json

import pytest
from icsuite_tools import output

pytestmark = pytest.mark.unit


def test_table_aligns_columns_and_renders_values() -> None:
    text = output.table([{"id": "acc-1", "phones": ["+49301", "+49302"], "vip": True, "x": None},
                         {"id": "acc-22", "phones": [], "vip": False, "x": {"a": 1}}])
    lines = text.splitlines()
    assert lines[0].split() == ["id", "phones", "vip", "x"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert lines[2].split() == ["acc-1", "+49301,", "+49302", "yes", "-"]
    assert lines[3].split() == ["acc-22", "-", "no", '{"a":1}']
    assert len({line.index("vip") if "vip" in line else None for line in lines[:1]}) == 1


def test_empty_table_and_long_cells() -> None:
    assert output.table([]) == "(none)"
    assert output.cell("x" * 100).endswith("…") and len(output.cell("x" * 100)) == output.MAX_CELL


def test_preferred_columns_and_pages() -> None:
    rows = [{"b": 1, "a": 2, "z": 3}]
    assert output.choose_columns(rows, ["a", "b", "missing"]) == ["a", "b"]
    assert output.choose_columns(rows, ["missing"]) == ["b", "a", "z"]
    text = output.page({"items": rows, "next_cursor": "abc"}, ["a"])
    assert text.splitlines()[0].strip() == "a" and text.endswith("(more: --cursor abc)")
    assert output.page({"items": [], "next_cursor": None}) == "(none)"


def test_record_flattens_one_level_and_tables_lists() -> None:
    text = output.record({"account_id": "acc-1", "address": {"city": "Berlin"},
                          "business_agreements": [{"business_agreement_id": "ba-1", "dunning_level": 2}]})
    assert "address.city  Berlin" in text
    assert "business_agreements:" in text and "ba-1" in text


def test_json_keeps_unicode() -> None:
    assert json.loads(output.to_json({"name": "Müller"})) == {"name": "Müller"}
    assert "Müller" in output.to_json({"name": "Müller"})
