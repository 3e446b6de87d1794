"""The W3C trace context of the operation running now, so that the events it emits carry it.

A gateway request or a consumed event runs inside :func:`trace_scope`, which the chassis opens with
the ``traceparent`` of its span; :func:`~icsuite_contracts.cloudevents.new_envelope` asks
:func:`traceparent_for` and stores the answer in the envelope (and so in the outbox and on Kafka as
``ce_traceparent``). A handler that takes a batch of events gets, per event it names as its cause,
the trace context of that event (``causes``), so a batch never mixes up the traces of its events.
The contracts know nothing of a tracing library: only these strings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["TraceparentSource", "current_traceparent", "trace_scope", "traceparent_for"]

TraceparentSource = str | Callable[[], str | None] | None
"""A ``traceparent``, or a function asked for it when an event is made (a tracer's current span)."""

_CURRENT: ContextVar[TraceparentSource] = ContextVar("icsuite_traceparent", default=None)
_BY_CAUSE: ContextVar[Mapping[str, str]] = ContextVar("icsuite_traceparent_by_cause", default={})


def current_traceparent() -> str | None:
    """The ``traceparent`` of the operation running now, if it is traced."""
    source = _CURRENT.get()
    return source() if callable(source) else source


def traceparent_for(causation_id: str | None) -> str | None:
    """The trace context of an event caused by ``causation_id`` (the event handled), else the current one."""
    if causation_id is not None:
        by_cause = _BY_CAUSE.get().get(causation_id)
        if by_cause is not None:
            return by_cause
    return current_traceparent()


@contextmanager
def trace_scope(traceparent: TraceparentSource, *, causes: Mapping[str, str] | None = None) -> Iterator[None]:
    """Run the block with ``traceparent`` as the current trace context (and ``causes`` per event id)."""
    current = _CURRENT.set(traceparent)
    by_cause = _BY_CAUSE.set(dict(causes or {}))
    try:
        yield
    finally:
        _BY_CAUSE.reset(by_cause)
        _CURRENT.reset(current)
