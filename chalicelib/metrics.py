"""CloudWatch metrics, as embedded metric format (EMF) lines in the Lambda's logs: CloudWatch
turns each line into metrics, no API call on the way (Powertools for AWS Lambda's Metrics).

    metrics.count("PagesFailed")
    metrics.seconds("EscalationLateness", 4.2)

Namespace `Astreinte`, one dimension `service` = `astreinte-<ASTREINTE_STAGE>` (`local` by
default).  The names are a contract with the alarms (infra/): EventsAccepted, EventsRefused,
PagesSent, PagesFailed, PagesRetried, EscalationLateness (seconds), SweeperRuns,
SelfCheckFailed.  What one invocation counted is printed once, when it ends
(`per_invocation`, the Chalice middleware app.py registers); counts made later by a page
still being sent after a trigger's answer (chalicelib.incidents.engine) go out with the next
invocation's.

Printed only in Lambda (AWS_LAMBDA_FUNCTION_NAME set) or when ASTREINTE_METRICS=stdout:
locally and in tests nothing is printed, and `totals()` says what was counted.  Counting
never raises: a metric that cannot be counted must not stop a page.

X-Ray (Powertools Tracer) when ASTREINTE_TRACING=1: each invocation is a subsegment, and the
AWS SDK and HTTP calls are traced (aws-xray-sdk must then be in the package; it is not
imported otherwise).
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.metrics import Metrics, MetricUnit

from . import log

NAMESPACE = "Astreinte"
NAMES = frozenset({"EventsAccepted", "EventsRefused", "PagesSent", "PagesFailed", "PagesRetried",
                   "EscalationLateness", "SweeperRuns", "SelfCheckFailed"})

_lock = threading.Lock()  # pages are sent from worker threads, and the local server is threaded
_totals: dict[str, float] = {}
_emf: Metrics | None = None
_tracer: Any = None  # a powertools Tracer once built; False when tracing is off or cannot start


def count(name: str, value: int = 1) -> None:
    """Add `value` to the count `name` (Unit Count)."""
    _add(name, MetricUnit.Count, value)


def seconds(name: str, value: float) -> None:
    """Record a duration `name` in seconds (Unit Seconds): CloudWatch keeps each value, so an
    alarm can read its maximum or a percentile."""
    _add(name, MetricUnit.Seconds, value)


def emitting() -> bool:
    """Whether EMF lines are printed: in Lambda, or when asked for (ASTREINTE_METRICS=stdout)."""
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME")) or os.environ.get("ASTREINTE_METRICS") == "stdout"


def totals() -> dict[str, float]:
    """Everything counted by this process, by name (tests, `make run`)."""
    with _lock:
        return dict(_totals)


def flush() -> None:
    """Print what was counted since the last flush, as one EMF line (nothing when nothing was)."""
    try:
        with _lock:
            if _emf is not None and _emf.metric_set:
                _emf.flush_metrics()
    except Exception as exc:  # noqa: BLE001 - metrics must never fail an invocation
        log.warning("metrics_not_flushed", error=f"{type(exc).__name__}: {exc}"[:300])


def per_invocation(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Chalice middleware (every kind of event): the invocation's metrics flushed when it
    ends, its log lines tagged with its request id, and traced when tracing is on."""
    context = getattr(event, "lambda_context", None) or getattr(event, "context", None)
    in_lambda = bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))
    if in_lambda:  # (the local server is threaded: one request's id would tag the others' lines)
        log.invocation(getattr(context, "aws_request_id", None))
    try:
        tracer = _tracing()
        if tracer is None:
            return get_response(event)
        with tracer.provider.in_subsegment(f"## {type(event).__name__}"):
            return get_response(event)
    finally:
        flush()
        if in_lambda:
            log.invocation(None)


def _add(name: str, unit: MetricUnit, value: float) -> None:
    global _emf
    try:
        with _lock:
            _totals[name] = _totals.get(name, 0) + value
            if not emitting():
                return
            if _emf is None:
                _emf = Metrics(namespace=NAMESPACE, service=log.service_name())
            _emf.add_metric(name=name, unit=unit, value=value)
    except Exception as exc:  # noqa: BLE001 - a metric must never stop a page
        log.warning("metric_not_counted", metric=name, error=f"{type(exc).__name__}: {exc}"[:300])


def _tracing() -> Any:
    """The Tracer when ASTREINTE_TRACING=1 (built once: it patches the SDK's clients), else None."""
    global _tracer
    if _tracer is None:
        _tracer = False
        if os.environ.get("ASTREINTE_TRACING") == "1":
            try:
                from aws_lambda_powertools import Tracer

                _tracer = Tracer(service=log.service_name())
            except Exception as exc:  # noqa: BLE001 - aws-xray-sdk missing: say so, run untraced
                log.warning("tracing_off", error=f"{type(exc).__name__}: {exc}"[:300])
    return _tracer or None
