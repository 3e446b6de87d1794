import json
import shutil
from pathlib import Path

import pytest
from icsuite_contracts import schemas
from icsuite_contracts.schemas import SCHEMA_DIR, check, compatibility, current_schemas, main, write

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).parent / "fixtures" / "compat"


def _fixture(name):
    return json.loads((FIXTURES / f"{name}.json").read_text())


def test_committed_snapshots_match_the_models_and_their_published_versions():
    assert check() == []


def test_every_snapshot_is_the_producer_side_schema():
    for ce_type, schema in current_schemas().items():
        stored = json.loads((SCHEMA_DIR / f"{ce_type}.json").read_text())
        assert stored == schema
        assert stored["additionalProperties"] is False


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("removed_field", "tags: field removed or renamed"),
        ("renamed_field", "order_id: field removed or renamed"),
        ("type_changed", "amount: type changed"),
        ("nested_type_changed", "address.country: type changed"),
        ("nested_field_removed", "address.street: field removed or renamed"),
        ("nullable_became_non_null", "note: type changed"),
        ("enum_values_changed", "channel: type changed"),
        ("array_items_type_changed", "tags[]: type changed"),
        ("optional_became_required", "note: optional field became required"),
        ("new_required_field", "priority: new required field"),
    ],
)
def test_compatibility_rejects_breaking_changes(fixture, expected):
    issues = compatibility(_fixture("base"), _fixture(fixture))

    assert any(issue.startswith(expected) for issue in issues), issues


def test_a_rename_reports_the_new_required_field_too():
    issues = compatibility(_fixture("base"), _fixture("renamed_field"))

    assert "orderId: new required field" in issues


@pytest.mark.parametrize("fixture", ["added_optional_field", "description_and_constraints_changed", "base"])
def test_compatibility_accepts_compatible_changes(fixture):
    assert compatibility(_fixture("base"), _fixture(fixture)) == []


@pytest.fixture
def snapshot_dir(tmp_path):
    target = tmp_path / "schemas"
    shutil.copytree(SCHEMA_DIR, target)
    return target


def _break_published(snapshot_dir, ce_type="ic.contact.ended.v1"):
    """Pretend the published schema had a field the current model does not have."""
    path = snapshot_dir / "published" / f"{ce_type}.json"
    schema = json.loads(path.read_text())
    schema["properties"]["hangup_side"] = {"type": "string"}
    path.write_text(json.dumps(schema))


def test_check_catches_a_breaking_change_even_when_snapshots_were_rewritten(snapshot_dir):
    _break_published(snapshot_dir)
    assert write(snapshot_dir) == []

    assert check(snapshot_dir) == ["ic.contact.ended.v1: hangup_side: field removed or renamed"]


def test_publishing_a_breaking_change_is_refused(snapshot_dir):
    _break_published(snapshot_dir)

    problems = write(snapshot_dir, publish=True)

    assert "ic.contact.ended.v1: hangup_side: field removed or renamed" in problems
    assert "hangup_side" in (snapshot_dir / "published" / "ic.contact.ended.v1.json").read_text()


def test_check_reports_a_stale_snapshot_and_a_removed_published_type(snapshot_dir):
    for where in (snapshot_dir, snapshot_dir / "published"):
        shutil.copy(where / "ic.contact.ended.v1.json", where / "ic.contact.vanished.v1.json")

    problems = check(snapshot_dir)

    assert "ic.contact.vanished.v1: snapshot without a model (run write)" in problems
    assert "ic.contact.vanished.v1: published event type has no model any more" in problems


def test_check_reports_an_edited_snapshot(snapshot_dir):
    (snapshot_dir / "ic.contact.ended.v1.json").write_text("{}")

    assert check(snapshot_dir) == ["ic.contact.ended.v1: snapshot differs from the model (run write)"]


def test_write_then_publish_into_an_empty_directory(tmp_path):
    assert write(tmp_path, publish=True) == []

    assert check(tmp_path) == []
    assert len(list((tmp_path / schemas.PUBLISHED).glob("*.json"))) == len(current_schemas())


def test_cli_exit_codes(snapshot_dir, capsys):
    assert main(["check", "--dir", str(snapshot_dir)]) == 0
    (snapshot_dir / "ic.contact.ended.v1.json").unlink()

    assert main(["check", "--dir", str(snapshot_dir)]) == 1
    assert "no snapshot" in capsys.readouterr().err
