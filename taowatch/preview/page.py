"""One preview run: every panel of every dashboard fetched, drawn, and listed in index.html."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from taowatch.preview import PreviewError
from taowatch.preview.client import fetch_panels
from taowatch.preview.panels import panel_specs, variable_defaults
from taowatch.preview.render import Drawn, import_pyplot, render_panel


def write_index(out_dir: Path, pages: dict[str, tuple[str, list[Drawn]]]) -> Path:
    parts = [
        "<!doctype html><meta charset='utf-8'><title>taowatch dashboards preview</title>",
        "<style>body{font-family:sans-serif} img{max-width:100%;border:1px solid #ddd}</style>",
        "<h1>taowatch dashboards preview</h1>",
    ]
    for uid, (title, drawn) in pages.items():
        parts.append(f"<h2 id='{html.escape(uid)}'>{html.escape(title)}</h2>")
        for item in drawn:
            rel = item.path.relative_to(out_dir).as_posix()
            parts.append(f"<p><img src='{html.escape(rel)}' alt='{html.escape(rel)}'></p>")
    index = out_dir / "index.html"
    index.write_text("\n".join(parts) + "\n")
    return index


async def preview(
    prometheus_url: str,
    out_dir: Path,
    documents: Sequence[dict[str, Any]],
    *,
    start: float,
    end: float,
    step: float | None = None,
    variables: dict[str, str] | None = None,
    scrape_interval_seconds: float = 15.0,
) -> dict[str, list[Drawn]]:
    """Render every panel of ``documents`` into ``out_dir/<uid>/NN-title.png``."""
    plt = import_pyplot()
    if end <= start:
        raise PreviewError("the preview's time range is empty: --end must be after the start")
    # Grafana picks about one point per pixel with the scrape interval as the floor.
    step = step or max(scrape_interval_seconds, (end - start) / 240)
    pages: dict[str, tuple[str, list[Drawn]]] = {}
    for document in documents:
        values = variable_defaults(document) | (variables or {})
        specs = panel_specs(document)
        results = await fetch_panels(
            specs,
            prometheus_url,
            start=start,
            end=end,
            step=step,
            variables=values,
            scrape_interval_seconds=scrape_interval_seconds,
        )
        page_dir = out_dir / document["uid"]
        page_dir.mkdir(parents=True, exist_ok=True)
        drawn = [render_panel(data, page_dir, plt) for data in results]
        pages[document["uid"]] = (document["title"], drawn)
    write_index(out_dir, pages)
    return {uid: drawn for uid, (_, drawn) in pages.items()}
