"""The Grafana dashboard provisioned from deploy/grafana/ asks Prometheus only for series that
meetings/metrics.py exports, by the labels they carry: a renamed metric or label would leave a
panel empty on the day it is needed, with nothing else to say so."""

import json
import re
from pathlib import Path

import pytest
from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from meetings import metrics

ROOT = Path(__file__).resolve().parent.parent
DASHBOARD = ROOT / "deploy/grafana/dashboards/meetings.json"
SUFFIXES = {Counter: ("_total",), Histogram: ("_bucket", "_count", "_sum"), Gauge: ("",)}


def exported() -> dict[str, set[str]]:
    """Every series name meetings/metrics.py can export -> its labels."""
    series: dict[str, set[str]] = {}
    for value in vars(metrics).values():
        for kind, suffixes in SUFFIXES.items():
            if isinstance(value, kind):
                for suffix in suffixes:
                    labels = set(value._labelnames) | ({"le"} if suffix == "_bucket" else set())
                    series[value._name + suffix] = labels
    # The families read at scrape time: the hubs' figures, the database pool (none of it open
    # here, so the families come out empty but named, with their labels).
    for collector in (metrics.MediaCollector(), metrics.DatabasePoolCollector()):
        for family in collector.collect():
            if isinstance(family, CounterMetricFamily):  # named without its _total
                series[family.name + "_total"] = set(family._labelnames)
            else:
                assert isinstance(family, GaugeMetricFamily)
                series[family.name] = set(family._labelnames)
    return series


def expressions() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"] for panel in panels for target in panel.get("targets", [])]


def problems(exprs: list[str], series: dict[str, set[str]]) -> list[str]:
    found = []
    for expr in exprs:
        for name in re.findall(r"\bmeetings_\w+", expr):
            if name not in series:
                found.append(f"{expr}: no series {name}")
                continue
            # Labels grouped by or matched on must be the series' own.
            grouped = re.findall(r"by \(([^)]*)\)\s*\(\s*(?:rate|increase)?\(?" + name, expr)
            matched = re.findall(name + r"\{([^}]*)\}", expr)
            labels = {label.strip() for group in grouped for label in group.split(",")}
            labels |= {m.split("=")[0].strip() for group in matched for m in group.split(",")}
            if labels - series[name]:
                found.append(f"{expr}: {name} has no label {sorted(labels - series[name])}")
    return found


@pytest.mark.django_db
def test_every_panel_asks_for_series_that_are_exported_with_their_labels():
    series = exported()
    exprs = expressions()
    assert len(exprs) >= 10
    assert problems(exprs, series) == []


@pytest.mark.django_db
def test_the_check_catches_a_renamed_series_and_a_label_it_does_not_have():
    series = exported()
    assert problems(["sum(rate(meetings_stream_frame_total[1m]))"], series)
    assert problems(["sum by (hall) (meetings_sockets)"], series)
    assert problems(['meetings_db_pool{state="requests_waiting"}'], series)
    assert not problems(['sum(meetings_db_pool{stat="requests_waiting"})'], series)
