"""OpenTelemetry tracing with W3C Trace Context, from a gateway request or a consumed event into the
events it causes.

A gateway request (``traceparent`` header) runs in FastAPI's own server span, a consumed event (its
``traceparent`` extension) in a consumer span made here, each a child of that context; inside,
:func:`~icsuite_contracts.tracecontext.trace_scope` gives the span's ``traceparent`` to ``new_envelope``
for every event emitted there, so it travels through the outbox into ``ce_traceparent``. A batch handler gets the context of each event it
names as a cause. Without a tracer provider (the default) nothing is recorded, yet a context that came
in is still passed on unchanged, so a trace started by a channel stays whole.

Export is off unless ``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` is set:
then :func:`configure_tracing` installs the SDK with a batching OTLP/HTTP exporter, configured by the
standard ``OTEL_*`` variables (``OTEL_SERVICE_NAME`` defaults to ``icsuite-<service>``;
``OTEL_SDK_DISABLED=true`` keeps it off).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from icsuite_contracts.cloudevents import Envelope, valid_traceparent
from icsuite_contracts.tracecontext import trace_scope
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, Span, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.types import ASGIApp, Receive, Scope, Send

from .logging import get_logger

TRACER_NAME = "icsuite"
_PROPAGATOR = TraceContextTextMapPropagator()
_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
_log = get_logger(__name__)


def export_configured(environ: Mapping[str, str] = os.environ) -> bool:
    """True when an OTLP endpoint is set and the SDK is not disabled."""
    disabled = environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"
    return not disabled and any(environ.get(name) for name in _ENDPOINT_VARIABLES)


def configure_tracing(service_name: str, environ: Mapping[str, str] = os.environ) -> bool:
    """Install the SDK tracer provider with OTLP export if configured (once per process); True if it did."""
    if not export_configured(environ):
        return False
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return False  # this process has one already (another app in it, or a test)
    name = environ.get("OTEL_SERVICE_NAME") or f"icsuite-{service_name}"
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _log.info("tracing exports over OTLP", service_name=name)
    return True


def flush_traces(timeout_ms: int = 5_000) -> None:
    """Send the spans still buffered (at shutdown)."""
    flush = getattr(trace.get_tracer_provider(), "force_flush", None)
    if flush is not None:
        flush(timeout_ms)


def _parent(traceparent: str | None) -> Context:
    return _PROPAGATOR.extract({"traceparent": traceparent}) if traceparent else Context()


def traceparent_of(span: Span) -> str | None:
    """The W3C ``traceparent`` of ``span`` (None for a span outside any trace)."""
    if not span.get_span_context().is_valid:
        return None
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier, context=trace.set_span_in_context(span))
    return carrier.get("traceparent")


@contextmanager
def event_span(envelope: Envelope, consumer: str) -> Iterator[Span]:
    """Handle ``envelope`` in a consumer span that continues the event's trace."""
    tracer = trace.get_tracer(TRACER_NAME)
    attributes = {"messaging.system": "kafka", "messaging.operation.type": "process",
                  "messaging.destination.name": envelope.topic, "messaging.consumer.group.name": consumer,
                  "messaging.message.id": envelope.id, "cloudevents.event_type": envelope.type}
    with tracer.start_as_current_span(f"process {envelope.type}", context=_parent(envelope.traceparent),
                                      kind=SpanKind.CONSUMER, attributes=attributes) as span:
        with trace_scope(traceparent_of(span) or envelope.traceparent):
            yield span


@contextmanager
def batch_span(envelopes: Sequence[Envelope], consumer: str) -> Iterator[Span]:
    """Handle a batch in one span linked to each event's trace; each caused event keeps its cause's trace."""
    causes = {e.id: e.traceparent for e in envelopes if e.traceparent}
    links = [Link(trace.get_current_span(_parent(tp)).get_span_context()) for tp in causes.values()]
    tracer = trace.get_tracer(TRACER_NAME)
    with tracer.start_as_current_span(f"process batch {consumer}", kind=SpanKind.CONSUMER, links=links,
                                      attributes={"messaging.batch.message_count": len(envelopes),
                                                  "messaging.consumer.group.name": consumer}) as span:
        with trace_scope(traceparent_of(span), causes=causes):
            yield span


class TraceRequests:
    """ASGI middleware: events made while a request is handled carry its trace context.

    The server span itself is FastAPI's own (its native OpenTelemetry support, active once a tracer
    provider is installed): an event gets the ``traceparent`` of the span current when it is made,
    else, with tracing off, the caller's ``traceparent`` header unchanged.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = valid_traceparent(_header(scope, b"traceparent"))

        def current() -> str | None:
            return traceparent_of(trace.get_current_span()) or incoming

        with trace_scope(current):
            await self.app(scope, receive, send)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None
