"""W3C Trace Context from a request or a consumed event into the events emitted there; OTLP export only
when an endpoint is configured."""

import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import pytest
from fastapi import FastAPI
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.contacts_v1 import ContactStarted

from icsuite_chassis.trace_capture import capture_spans
from icsuite_chassis.tracing import TraceRequests, batch_span, event_span, export_configured

pytestmark = pytest.mark.unit

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
INCOMING = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


def _started(contact_id: str = "ct-1", traceparent: str | None = None):
    data = ContactStarted(contact_id=contact_id, channel="phone", direction="inbound",
                          from_address="+4930123456", started_at=datetime.now(UTC))
    return new_envelope(data, source="/cti", traceparent=traceparent)


def _parts(traceparent: str) -> tuple[str, str]:
    _, trace_id, span_id, _ = traceparent.split("-")
    return trace_id, span_id


def _app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(TraceRequests)

    @app.post("/v1/contacts/{contact_id}")
    async def emit(contact_id: str) -> dict[str, str | None]:
        return {"traceparent": _started(contact_id).traceparent}  # what a handler's event would carry

    return app


async def _post(headers: dict[str, str]) -> str | None:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        return (await client.post("/v1/contacts/ct-9", headers=headers)).json()["traceparent"]


def _ancestry(spans, span_id: int) -> list:
    """The captured spans from ``span_id`` up to the root of what was captured."""
    by_id = {s.context.span_id: s for s in spans}
    chain = []
    while span_id in by_id:
        chain.append(by_id[span_id])
        span_id = by_id[span_id].parent.span_id if by_id[span_id].parent else None
    return chain


async def test_an_event_caused_by_a_request_continues_the_callers_trace() -> None:
    with capture_spans() as spans:
        emitted = await _post({"traceparent": INCOMING})

    trace_id, span_id = _parts(emitted)
    chain = _ancestry(spans, int(span_id, 16))
    assert trace_id == TRACE_ID and chain, "the event names a span of this request"
    server = chain[-1]
    assert server.kind.name == "SERVER" and server.name == "POST /v1/contacts/{contact_id}"
    assert f"{server.parent.span_id:016x}" == "00f067aa0ba902b7"


async def test_a_request_without_trace_context_starts_a_trace_when_tracing_is_on() -> None:
    with capture_spans() as spans:
        emitted = await _post({})

    chain = _ancestry(spans, int(_parts(emitted)[1], 16))
    assert chain and chain[-1].kind.name == "SERVER" and chain[-1].parent is None


def test_an_event_caused_by_a_consumed_event_continues_its_trace() -> None:
    consumed = _started(traceparent=INCOMING)
    with capture_spans() as spans:
        with event_span(consumed, "identity.contacts"):
            caused = _started("ct-2")  # a handler's event (its cause named or not)

    [span] = spans
    assert span.name == "process ic.contact.started.v1" and span.kind.name == "CONSUMER"
    assert _parts(caused.traceparent) == (TRACE_ID, f"{span.context.span_id:016x}")


def test_each_event_of_a_batch_keeps_the_trace_of_its_cause() -> None:
    other = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    first, second = _started("ct-a", traceparent=INCOMING), _started("ct-b", traceparent=other)
    with capture_spans() as spans:
        with batch_span([first, second], "interactions.contacts"):
            from_first = new_envelope(first.data, source="/t", causation_id=first.id)
            from_second = new_envelope(second.data, source="/t", causation_id=second.id)

    assert (from_first.traceparent, from_second.traceparent) == (INCOMING, other)
    assert {f"{link.context.trace_id:032x}" for link in spans[0].links} == {TRACE_ID, _parts(other)[0]}


def test_export_needs_an_endpoint_and_can_be_disabled() -> None:
    assert not export_configured({})
    assert export_configured({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"})
    assert export_configured({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"})
    assert not export_configured({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x:4318", "OTEL_SDK_DISABLED": "true"})


_PROCESS = textwrap.dedent("""
    import asyncio, sys
    import httpx
    from fastapi import FastAPI
    from icsuite_chassis.tracing import TraceRequests
    from datetime import UTC, datetime
    from icsuite_chassis.tracing import configure_tracing, event_span, flush_traces
    from icsuite_contracts.cloudevents import new_envelope
    from icsuite_contracts.contacts_v1 import ContactStarted
    data = ContactStarted(contact_id="ct-1", channel="phone", direction="inbound", from_address="+4930123456",
                          started_at=datetime.now(UTC))
    consumed = new_envelope(data, source="/cti", traceparent=sys.argv[1])
    print(configure_tracing("identity"))
    with event_span(consumed, "identity.contacts"):
        print(new_envelope(data, source="/identity").traceparent)
    app = FastAPI()
    app.add_middleware(TraceRequests)
    app.post("/v1/contacts")(lambda: new_envelope(data, source="/identity").traceparent)
    async def call():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://g") as client:
            return (await client.post("/v1/contacts", headers={"traceparent": sys.argv[1]})).json()
    print(asyncio.run(call()))
    flush_traces()
""")


def _run_process(environment: dict[str, str]) -> list[str]:
    run = subprocess.run([sys.executable, "-c", _PROCESS, INCOMING], capture_output=True, text=True, timeout=60,
                         env={"PATH": "/usr/bin:/bin", **environment})
    assert run.returncode == 0, run.stderr
    return run.stdout.split()[-3:]  # a log line may come first


def test_without_an_endpoint_nothing_is_recorded_and_the_context_passes_on_unchanged() -> None:
    configured, from_event, from_request = _run_process({})

    assert configured == "False" and from_event == from_request == INCOMING


def test_with_an_endpoint_spans_are_exported_over_otlp_http() -> None:
    received: list[tuple[str, bytes]] = []

    class Collector(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            received.append((self.path, self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        configured, emitted, from_request = _run_process(
            {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{server.server_port}"})
    finally:
        server.shutdown()

    assert configured == "True" and _parts(emitted)[0] == _parts(from_request)[0] == TRACE_ID
    assert INCOMING not in (emitted, from_request)  # each names a span of its own
    assert [path for path, _ in received] == ["/v1/traces"]
    body = received[0][1]
    assert b"process ic.contact.started.v1" in body and b"POST /v1/contacts" in body
    assert b"icsuite-identity" in body
    assert bytes.fromhex(TRACE_ID) in body
