import pytest

from icsuite_chassis.inbox import APPLIED_FIELD, guarded_update, merge_updates

pytestmark = pytest.mark.unit


def test_merge_keeps_every_operator() -> None:
    merged = merge_updates({"$set": {"a": 1}, "$push": {"x": 1}}, {"$set": {"b": 2}, "$inc": {"n": 1}})
    assert merged == {"$set": {"a": 1, "b": 2}, "$push": {"x": 1}, "$inc": {"n": 1}}


def test_merge_refuses_two_writes_of_one_field() -> None:
    with pytest.raises(ValueError):
        merge_updates({"$set": {"a": 1}}, {"$set": {"a": 2}})


def test_guarded_update_records_the_event_id_bounded() -> None:
    update = guarded_update("e-1", {"$inc": {"n": 1}})
    assert update["$push"][APPLIED_FIELD]["$each"] == ["e-1"]
    assert update["$push"][APPLIED_FIELD]["$slice"] < 0
    assert update["$inc"] == {"n": 1}
