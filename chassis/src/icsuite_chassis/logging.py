"""structlog, configured once per process: JSON off a terminal, personal data masked in every line.

Masked by default: phone numbers and e-mail addresses anywhere in a value (a few characters kept), and
the whole value of every field that holds a name, a postal address or free text (``name``, ``street``,
``city``, ``text``, ``note``, ``details``, ...; :data:`MASKED_KEYS`), at any depth. Only an explicit
``log_personal_data`` setting (``IC_<SVC>_LOG_PERSONAL_DATA=true``, refused in production) shows them,
for debugging on a developer's machine.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from typing import Any

import structlog

_EMAIL = re.compile(r"(?<![\w.+-])([\w.+-])[\w.+-]*@([\w-]+(?:\.[\w-]+)+)")
_PHONE = re.compile(r"(?<![\w])(\+?\d[\d ()./-]{5,}\d)(?![\w])")
_configured = False
_reveal_personal_data = False
NAME_KEYS = frozenset({"name", "names", "first_name", "last_name", "given_name", "family_name", "full_name",
                       "display_name", "customer_name", "contact_name", "account_name", "person_name"})
ADDRESS_KEYS = frozenset({"address", "addresses", "postal_address", "billing_address", "street", "house_number",
                          "postcode", "postal_code", "zip", "zip_code", "city", "premise_address"})
FREE_TEXT_KEYS = frozenset({"text", "note", "notes", "comment", "comments", "description", "message", "body",
                            "details", "attributes", "remark", "remarks", "free_text", "summary", "subject_text"})
MASKED_KEYS = NAME_KEYS | ADDRESS_KEYS | FREE_TEXT_KEYS
"""Fields whose whole value is personal data: masked at any depth of a log line."""


def _mask_phone(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(1))
    if len(digits) < 7:
        return match.group(1)
    lead = "+" if match.group(1).startswith("+") else ""
    return f"{lead}{'*' * (len(digits) - 2)}{digits[-2:]}"


def mask_text(text: str) -> str:
    """Mask e-mail addresses (first letter and domain kept) and phone numbers (last two digits kept)."""
    masked = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    return _PHONE.sub(_mask_phone, masked)


def _masked_whole(value: Any) -> str:
    if isinstance(value, str):
        return f"<masked: {len(value)} characters>"
    if isinstance(value, (Mapping, list, tuple)):
        return f"<masked: {len(value)} entries>"
    return "<masked>"


def _is_masked_key(key: Any) -> bool:
    name = str(key).lower()
    return name in MASKED_KEYS or name.endswith(("_text", "_note", "_street", "_city"))


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {k: _masked_whole(v) if _is_masked_key(k) and v is not None else _mask_value(v)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_mask_value(v) for v in value]
    return value


_UNMASKED_KEYS = frozenset({"timestamp", "level", "logger", "service", "event_id", "correlation_id",
                            "causation_id", "contact_id", "ce_type", "topic", "partition", "offset"})


def mask_personal_data(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: mask names, postal addresses, free text, phone numbers and e-mail addresses."""
    if _reveal_personal_data:
        return event_dict
    masked: dict[str, Any] = {}
    for key, value in event_dict.items():
        if key in _UNMASKED_KEYS:
            masked[key] = value
        elif _is_masked_key(key) and value is not None:
            masked[key] = _masked_whole(value)
        else:
            masked[key] = _mask_value(value)
    return masked


def configure_logging(service: str, level: str = "INFO", json: bool | None = None, *,
                      reveal_personal_data: bool = False) -> None:
    """Configure structlog and route the standard library's loggers (uvicorn, aiokafka) through it.

    ``reveal_personal_data`` turns masking off: for a developer's machine only (the settings refuse it in
    production).
    """
    global _configured, _reveal_personal_data
    _reveal_personal_data = reveal_personal_data
    render_json = (not sys.stderr.isatty()) if json is None else json
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        mask_personal_data,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer() if render_json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "pymongo", "faststream.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    structlog.contextvars.bind_contextvars(service=service)
    _configured = True


def bind_event_context(*, event_id: str | None, correlation_id: str | None,
                       contact_id: str | None = None) -> None:
    """Bind the ids of the event being handled to every log line written while handling it."""
    structlog.contextvars.bind_contextvars(
        event_id=event_id, correlation_id=correlation_id, contact_id=contact_id
    )


def clear_event_context() -> None:
    structlog.contextvars.unbind_contextvars("event_id", "correlation_id", "contact_id")


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
