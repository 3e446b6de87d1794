"""For tests: capture the spans this process records, in memory.

The first use installs the OpenTelemetry SDK tracer provider (if the process has none) with one span
processor that hands finished spans to whichever :func:`capture_spans` block is open, and drops them
otherwise, so tests before and after pay nearly nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider


class _Capture(SpanProcessor):
    def __init__(self) -> None:
        self.open: list[list[ReadableSpan]] = []

    def on_end(self, span: ReadableSpan) -> None:
        for spans in self.open:
            spans.append(span)


_CAPTURE = _Capture()
_installed = False


def _install() -> None:
    global _installed
    if _installed:
        return
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(_CAPTURE)
    _installed = True


@contextmanager
def capture_spans() -> Iterator[list[ReadableSpan]]:
    """Collect the spans that end inside the block (a list that fills as they end)."""
    _install()
    spans: list[ReadableSpan] = []
    _CAPTURE.open.append(spans)
    try:
        yield spans
    finally:
        _CAPTURE.open.remove(spans)
