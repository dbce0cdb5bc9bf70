"""Asking Prometheus: each panel's queries over a time range, as Grafana's datasource does."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from taowatch.preview import PreviewError
from taowatch.preview.panels import PanelSpec, expand


@dataclass(frozen=True)
class Series:
    labels: dict[str, str]
    times: tuple[float, ...]
    values: tuple[float, ...]


@dataclass
class PanelData:
    spec: PanelSpec
    results: dict[str, list[Series]] = field(default_factory=dict)  # by refId
    errors: list[str] = field(default_factory=list)
    queries: dict[str, str] = field(default_factory=dict)  # refId -> expanded expr


async def query_range(
    session: Any, base_url: str, expr: str, start: float, end: float, step: float
) -> list[Series]:
    """One ``/api/v1/query_range`` call; raises PreviewError with Prometheus' reason."""
    import aiohttp

    url = base_url.rstrip("/") + "/api/v1/query_range"
    form = {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
    try:
        async with session.post(url, data=form) as response:
            try:
                body = await response.json(content_type=None)
            except (json.JSONDecodeError, ValueError) as exc:
                raise PreviewError(
                    f"{url} answered HTTP {response.status} without Prometheus JSON"
                ) from exc
    except aiohttp.ClientError as exc:
        raise PreviewError(f"cannot reach Prometheus at {base_url}: {exc}") from exc
    if not isinstance(body, dict) or body.get("status") != "success":
        reason = body.get("error", body) if isinstance(body, dict) else body
        raise PreviewError(f"Prometheus refused the query: {reason}")
    data = body.get("data", {})
    if data.get("resultType") != "matrix":
        raise PreviewError(f"expected a matrix from query_range, got {data.get('resultType')}")
    series = []
    for item in data.get("result", []):
        points = [(float(t), float(v)) for t, v in item.get("values", [])]
        series.append(
            Series(
                labels=dict(item.get("metric", {})),
                times=tuple(t for t, _ in points),
                values=tuple(v for _, v in points),
            )
        )
    return series


async def fetch_panels(
    specs: Sequence[PanelSpec],
    prometheus_url: str,
    *,
    start: float,
    end: float,
    step: float,
    variables: dict[str, str],
    scrape_interval_seconds: float,
    concurrency: int = 4,
) -> list[PanelData]:
    """Run every panel's queries; a failed query is recorded on its panel, not raised.

    Only an unreachable Prometheus aborts, since every panel would fail the same way.
    """
    import aiohttp

    semaphore = asyncio.Semaphore(concurrency)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        await _probe(session, prometheus_url)

        async def one(spec: PanelSpec) -> PanelData:
            data = PanelData(spec)
            for target in spec.targets:
                try:
                    expr = expand(
                        target.expr,
                        variables,
                        step_seconds=step,
                        range_seconds=end - start,
                        scrape_interval_seconds=scrape_interval_seconds,
                    )
                    data.queries[target.ref_id] = expr
                    async with semaphore:
                        data.results[target.ref_id] = await query_range(
                            session, prometheus_url, expr, start, end, step
                        )
                except PreviewError as exc:
                    data.errors.append(f"{target.ref_id}: {exc}")
            return data

        return list(await asyncio.gather(*(one(spec) for spec in specs)))


async def _probe(session: Any, base_url: str) -> None:
    import aiohttp

    url = base_url.rstrip("/") + "/api/v1/query"
    try:
        async with session.get(url, params={"query": "1"}) as response:
            if response.status >= 500 or response.status == 404:
                raise PreviewError(
                    f"{base_url} does not look like Prometheus: GET /api/v1/query gave HTTP "
                    f"{response.status}"
                )
    except aiohttp.ClientError as exc:
        raise PreviewError(
            f"cannot reach Prometheus at {base_url}: {exc}; check --prometheus"
        ) from exc
