"""structlog, configured once per process: JSON off a terminal, personal data masked in every line."""

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


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {k: _mask_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_mask_value(v) for v in value]
    return value


_UNMASKED_KEYS = frozenset({"timestamp", "level", "logger", "service", "event_id", "correlation_id",
                            "causation_id", "contact_id", "ce_type", "topic", "partition", "offset"})


def mask_personal_data(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: mask phone numbers and e-mail addresses in every value of a log line."""
    return {k: (v if k in _UNMASKED_KEYS else _mask_value(v)) for k, v in event_dict.items()}


def configure_logging(service: str, level: str = "INFO", json: bool | None = None) -> None:
    """Configure structlog and route the standard library's loggers (uvicorn, aiokafka) through it."""
    global _configured
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
