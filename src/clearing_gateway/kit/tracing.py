"""OpenTelemetry tracing, optional (`pip install clearing-gateway[otel]`).

Spans are made for requests (api/context.py), database statements (db.py), provider calls
(providers/transport.py) and job runs (jobs/worker.py); a job carries the trace context
of the code that enqueued it, so a deposit is one trace from the provider's callback to
the merchant's webhook delivery. Spans that touch a payment carry its id as
`gateway.transaction_id`.

Without the opentelemetry packages every helper here is a no-op; with only the API
installed and no SDK configured, OpenTelemetry's own no-op tracer is used. OTEL_ENABLED
installs the SDK with an OTLP/HTTP exporter (OTEL_EXPORTER_OTLP_ENDPOINT and the other
standard OTEL_* variables apply).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

try:
    from opentelemetry import context as otel_context
    from opentelemetry import propagate, trace
except ImportError:  # the extra is not installed
    trace = None  # type: ignore[assignment]

TRACE_KEY = "_trace"  # where a job payload carries its parent's trace context
TRANSACTION_ID = "gateway.transaction_id"


def available() -> bool:
    return trace is not None


def _tracer() -> Any:
    assert trace is not None
    return trace.get_tracer("clearing_gateway")


@contextlib.contextmanager
def span(
    name: str,
    *,
    kind: str = "internal",
    parent: Mapping[str, str] | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> Iterator[Any]:
    """A span around the block (None when tracing is unavailable). `parent`: a carrier
    (headers or a job's `_trace`) whose context becomes the parent."""
    if trace is None:
        yield None
        return
    token = None
    if parent:
        token = otel_context.attach(propagate.extract(dict(parent)))
    try:
        with _tracer().start_as_current_span(
            name,
            kind=getattr(trace.SpanKind, kind.upper()),
            attributes={k: v for k, v in (attributes or {}).items() if v is not None},
        ) as current:
            yield current
    finally:
        if token is not None:
            otel_context.detach(token)


def annotate(**attributes: Any) -> None:
    """Attributes on the current span (`transaction_id` becomes gateway.transaction_id)."""
    if trace is None:
        return
    current = trace.get_current_span()
    if not current.is_recording():
        return
    for key, value in attributes.items():
        if value is not None:
            name = TRANSACTION_ID if key == "transaction_id" else f"gateway.{key}"
            current.set_attribute(name, str(value))


def inject(carrier: MutableMapping[str, Any]) -> None:
    """Put the current trace context into `carrier` (a job payload) when a span is being
    recorded (untraced payloads stay exactly as the caller wrote them)."""
    if trace is None or not trace.get_current_span().is_recording():
        return
    headers: dict[str, str] = {}
    propagate.inject(headers)
    if headers:
        carrier[TRACE_KEY] = headers


def start_span(name: str, attributes: Mapping[str, Any] | None = None) -> Any:
    """A span started now and ended by the caller (database statements)."""
    if trace is None:
        return None
    return _tracer().start_span(name, kind=trace.SpanKind.CLIENT, attributes=dict(attributes or {}))


def configure(enabled: bool, service_name: str) -> None:
    """Install the SDK with an OTLP exporter (OTEL_ENABLED); once per process."""
    if not enabled or trace is None:
        return
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        raise RuntimeError(
            "OTEL_ENABLED needs the otel extra: pip install 'clearing-gateway[otel]'"
        ) from exc
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
