"""The gateway's mapping: domain errors to problem statuses (the chassis's one table), principals to actors,
inbox cursors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from icsuite_chassis.auth import Principal
from icsuite_chassis.errors import StoreConflict, problem_kind
from icsuite_chassis.pagination import encode_cursor
from icsuite_chassis.problems import Problem

from icsuite_callbacks.api.deps import actor_of, position_of
from icsuite_callbacks.domain import (
    CallbackNotFound,
    InvalidRequest,
    NotOwner,
    ProfileNotFound,
    TooManyOpenRequests,
    WrongState,
)

pytestmark = [pytest.mark.unit]


@pytest.mark.parametrize(("error", "status"), [
    (InvalidRequest("x"), 422), (TooManyOpenRequests("x"), 429), (NotOwner("x"), 403),
    (WrongState("x"), 409), (StoreConflict("x"), 409), (CallbackNotFound("x"), 404), (ProfileNotFound("x"), 404),
])
def test_each_domain_error_has_its_status(error, status) -> None:
    kind = problem_kind(error)
    assert kind is not None and kind.status == status


def test_supervisors_and_admins_act_on_any_item_channels_for_customers() -> None:
    assert actor_of(Principal("s", frozenset({"supervisor"}))).supervisor
    assert actor_of(Principal("ad", frozenset({"admin"}))).supervisor
    assert not actor_of(Principal("a", frozenset({"agent"}))).supervisor
    assert actor_of(Principal("w", frozenset({"channel"}))).channel


def test_a_cursor_round_trips_and_a_forged_one_is_refused() -> None:
    due = datetime(2025, 3, 2, 9, tzinfo=UTC)
    position = position_of(encode_cursor({"p": 3, "d": due.isoformat(), "i": "cbr-1"}))
    assert position is not None and (position.priority, position.due_at, position.callback_id) == (3, due, "cbr-1")
    assert position_of(None) is None
    for forged in ({"p": "3", "d": due.isoformat(), "i": "x"}, {"p": 3, "d": "yesterday", "i": "x"},
                   {"p": 3, "d": "2025-03-02T09:00:00", "i": "x"}, {"p": True, "d": due.isoformat(), "i": "x"},
                   {"p": 3, "d": due.isoformat(), "i": 5}):
        with pytest.raises(Problem) as refused:
            position_of(encode_cursor(forged))
        assert refused.value.status == 400
