"""Every text, map, list and number field of every event documents its maximum in the JSON Schema, and
times refuse years outside the suite's range."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from icsuite_contracts.base import INT64_MAX, MAX_YEAR, MIN_YEAR
from icsuite_contracts.contacts_v1 import ContactStarted
from icsuite_contracts.callbacks_v1 import CallbackQueued
from icsuite_contracts.schemas import current_schemas

pytestmark = pytest.mark.unit
MONEY = ("amount", "balance")  # Money fields: a number or a string of 15 digits at most


def _unbounded(schema: dict, path: str, defs: dict) -> list[str]:
    if "$ref" in schema:
        return _unbounded(defs[schema["$ref"].split("/")[-1]], path, defs)
    found = [p for key in ("anyOf", "oneOf", "allOf") for sub in schema.get(key, ())
             for p in _unbounded(sub, path, defs)]
    kind = schema.get("type")
    if kind == "string" and schema.get("format") in ("date-time", "date"):
        if schema.get("x-year-range") != [MIN_YEAR, MAX_YEAR]:
            found.append(f"{path}: time without a year range")
    elif kind == "string" and path.endswith(MONEY):
        pass  # Money, read from a string too: 15 digits at most
    elif kind == "string" and not ({"maxLength", "pattern", "enum", "const"} & schema.keys()):
        found.append(f"{path}: text without a maximum length")
    elif kind == "object" and "properties" in schema:
        for name, sub in schema["properties"].items():
            found += _unbounded(sub, f"{path}.{name}", defs)
    elif kind == "object":
        if "maxProperties" not in schema:
            found.append(f"{path}: map without a maximum size")
        for key in ("additionalProperties", "propertyNames"):
            if isinstance(schema.get(key), dict):
                found += _unbounded(schema[key], f"{path}{{}}", defs)
    elif kind == "array":
        if "maxItems" not in schema:
            found.append(f"{path}: list without a maximum length")
        found += _unbounded(schema.get("items", {}), f"{path}[]", defs)
    elif kind in ("integer", "number") and "maximum" not in schema and "anyOf" not in schema:
        if not (kind == "number" and path.endswith(MONEY)):
            found.append(f"{path}: number without a maximum")
    return found


def test_every_field_of_every_event_documents_its_maximum() -> None:
    problems = [f"{ce_type}{p}" for ce_type, schema in current_schemas().items()
                for p in _unbounded(schema, "", schema.get("$defs", {}))]
    assert problems == []


def test_integers_above_int64_are_refused() -> None:
    base = dict(callback_id="cb-1", request_id="r-1", callback_number="+4930123456", profile="default",
                at=datetime.now(UTC), due_at=datetime.now(UTC), queue="q")
    fields = set(CallbackQueued.model_fields)
    base = {k: v for k, v in base.items() if k in fields}
    with pytest.raises(ValidationError, match="priority"):
        CallbackQueued.model_validate({**base, "priority": INT64_MAX + 1})


@pytest.mark.parametrize("when", [
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))),
    datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
    datetime(MIN_YEAR - 1, 12, 31, tzinfo=UTC),
    datetime(MAX_YEAR + 1, 1, 1, tzinfo=UTC),
])
def test_times_outside_the_sensible_years_are_refused(when: datetime) -> None:
    with pytest.raises(ValidationError, match="year must lie between"):
        ContactStarted(contact_id="c-1", channel="phone", direction="inbound", from_address="+4930123456",
                       started_at=when)


def test_times_within_the_years_are_kept() -> None:
    for when in (datetime(MIN_YEAR, 1, 1, tzinfo=UTC), datetime(MAX_YEAR, 12, 31, tzinfo=UTC)):
        event = ContactStarted(contact_id="c-1", channel="phone", direction="inbound",
                               from_address="+4930123456", started_at=when)
        assert event.started_at == when
