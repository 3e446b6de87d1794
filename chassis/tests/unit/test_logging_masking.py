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
