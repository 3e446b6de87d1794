import json
import logging

import pytest
import structlog

from icsuite_chassis.logging import configure_logging, mask_text

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "hidden", "kept"),
    [
        ("caller +4930123456789 waited", "4930123456", "**89"),
        ("call 030 1234 5678 now", "1234 5678", "78"),
        ("mail anna.schmidt@example.org please", "anna.schmidt", "a***@example.org"),
    ],
)
def test_mask_text_hides_numbers_and_addresses(text: str, hidden: str, kept: str) -> None:
    masked = mask_text(text)
    assert hidden not in masked
    assert kept in masked


def test_short_numbers_and_ids_stay_readable() -> None:
    assert mask_text("attempt 3 of 5, queue 42") == "attempt 3 of 5, queue 42"


@pytest.fixture
def restored_logging():
    """configure_logging replaces the root handlers; give later tests the ones they had."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


def test_every_log_line_is_masked_including_foreign_loggers(capsys: pytest.CaptureFixture[str],
                                                            restored_logging: None) -> None:
    configure_logging("test", "INFO", json=True)
    structlog.get_logger("t").info("identified", caller="+4915112345678", emails=["bo@example.com"])
    logging.getLogger("some.library").warning("lookup for +4915112345678 failed")
    lines = [json.loads(line) for line in capsys.readouterr().err.strip().splitlines()]
    text = json.dumps(lines)
    assert "4915112345678" not in text and "bo@example.com" not in text
    assert lines[0]["caller"].endswith("78") and lines[0]["service"] == "test"
    assert lines[1]["event"].startswith("lookup for +")


PERSONAL = {"name": "Erika Mustermann", "street": "Hauptstr. 5", "city": "Berlin", "postcode": "10115",
            "text": "Kundin bittet um Ratenzahlung", "details": {"reason": "Scheidung"}}


def _lines(capsys: pytest.CaptureFixture[str]) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().err.strip().splitlines()]


def test_names_addresses_and_free_text_are_masked_by_default_at_any_depth(
        capsys: pytest.CaptureFixture[str], restored_logging: None) -> None:
    configure_logging("test", "INFO", json=True)
    structlog.get_logger("t").info("note added", note_id="n-1", **PERSONAL,
                                   account={"account_id": "acc-1", "name": "Erika Mustermann",
                                            "address": {"street": "Hauptstr. 5", "city": "Berlin"}},
                                   notes=[{"text": "privat"}], account_text="Erika", agent_id="a-17")
    line = _lines(capsys)[0]
    text = json.dumps(line)
    for secret in ("Erika", "Mustermann", "Hauptstr", "Berlin", "10115", "Ratenzahlung", "Scheidung", "privat"):
        assert secret not in text, secret
    assert line["name"] == "<masked: 16 characters>" and line["details"] == "<masked: 1 entries>"
    assert line["account"]["account_id"] == "acc-1" and line["account"]["address"] == "<masked: 2 entries>"
    assert line["note_id"] == "n-1" and line["agent_id"] == "a-17" and line["event"] == "note added"


def test_the_explicit_setting_shows_them_in_development(capsys: pytest.CaptureFixture[str],
                                                        restored_logging: None) -> None:
    configure_logging("test", "INFO", json=True, reveal_personal_data=True)
    structlog.get_logger("t").info("note added", **PERSONAL, caller="+4915112345678")
    line = _lines(capsys)[0]
    assert line["name"] == "Erika Mustermann" and line["street"] == "Hauptstr. 5"
    assert line["caller"] == "+4915112345678"
    configure_logging("test", "INFO", json=True)  # and masked again once configured without it
    structlog.get_logger("t").info("again", name="Erika Mustermann")
    assert "Erika" not in json.dumps(_lines(capsys))


def test_production_refuses_to_show_personal_data() -> None:
    from pydantic import ValidationError

    from icsuite_chassis.settings import ServiceSettings

    with pytest.raises(ValidationError, match="log_personal_data"):
        ServiceSettings(environment="production", jwt_secret="x" * 40, jwt_issuer="https://i/", jwt_audience="a",
                        log_personal_data=True)
    assert ServiceSettings(environment="development", log_personal_data=True).log_personal_data
