"""The Prometheus text exposition (0.0.4) and OpenMetrics 1.0, written straight from families.

Why not prometheus-client's ``generate_latest``: with ``export_all_neurons`` on 16 subnets of
256 uids the agent exports ~80 000 samples, and going through ``Metric``/``Sample`` objects
(a namedtuple and a label dict per sample, the labels sorted and escaped again for every
sample) costs about as much as holding them in labelled ``Gauge`` children. Here each
neuron's label set is escaped once per render and shared by all ~20 per-neuron families
(:class:`exporters.collector.Family` shares the label sequence object), and each line is one
f-string.

The output is byte-for-byte what prometheus-client 0.2x writes for the same families
(``tests/exporters/test_exposition.py`` compares the two on a realistic snapshot and on
hostile label values): labels sorted by name; label values escaped as ``\\\\``, ``\\n``,
``\\"``; HELP escaped as ``\\\\`` and ``\\n`` (and ``\\"`` in OpenMetrics); values as Go
formats floats (``floatToGoString``); counters named ``X_total`` in the text format's
HELP/TYPE and ``X`` in OpenMetrics', with ``X_total`` samples in both; OpenMetrics ends
with ``# EOF``. Metric and label names are trusted to be legacy-valid (they come from
``common.metric_names``), so the name-escaping schemes other than ``dots`` leave them
unchanged; :func:`fast_format` says which negotiated formats this module can write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial

from prometheus_client import exposition as pc_exposition
from prometheus_client.openmetrics import exposition as om_exposition
from prometheus_client.utils import floatToGoString

from exporters.collector import Family

TEXT = "text"
OPENMETRICS = "openmetrics"

_INF = float("inf")


def escape_label_value(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _help_text(doc: str, fmt: str) -> str:
    doc = doc.replace("\\", r"\\").replace("\n", r"\n")
    return doc.replace('"', r"\"") if fmt == OPENMETRICS else doc


def render_families(families: Iterable[Family], fmt: str) -> str:
    """The families in ``fmt`` (TEXT or OPENMETRICS), without OpenMetrics' ``# EOF``."""
    out: list[str] = []
    # One render's label strings, keyed by the identity of the shared label sequence.
    rendered: dict[tuple[int, tuple[str, ...]], list[str]] = {}
    keep_alive = []
    for fam in families:
        counter = fam.kind == "counter"
        sample = fam.name + "_total" if counter else fam.name
        head = sample if counter and fmt == TEXT else fam.name
        out.append(f"# HELP {head} {_help_text(fam.help, fmt)}\n# TYPE {head} {fam.kind}\n")
        if not fam.label_names:
            labs: list[str] = [""] * len(fam.values)
        else:
            key = (id(fam.label_values), fam.label_names)
            labs = rendered.get(key)  # type: ignore[assignment]
            if labs is None:
                names = fam.label_names
                order = sorted(range(len(names)), key=names.__getitem__)
                parts = [(names[i], i) for i in order]
                labs = [
                    "{" + ",".join(f'{n}="{escape_label_value(vals[i])}"' for n, i in parts) + "}"
                    for vals in fam.label_values
                ]
                rendered[key] = labs
                keep_alive.append(fam.label_values)  # ids stay unique while we render
        # floatToGoString(v) is repr(v) for every finite v below 1e6; only the rest needs it.
        go = floatToGoString
        out.append(
            "".join(
                f"{sample}{lab} {repr(v) if -_INF < v < 1e6 else go(v)}\n"
                for lab, v in zip(labs, fam.values, strict=True)
                if v is not None
            )
        )
    return "".join(out)


def fast_format(encoder: Callable[..., bytes]) -> str | None:
    """Which of our formats an encoder from ``prometheus_client.exposition.choose_encoder``
    stands for (TEXT or OPENMETRICS), or None when only prometheus-client can write it
    (the ``dots`` name escaping rewrites every ``_``)."""
    func = encoder.func if isinstance(encoder, partial) else encoder
    escaping = encoder.keywords.get("escaping") if isinstance(encoder, partial) else None
    if escaping == om_exposition.DOTS:
        return None
    if func is pc_exposition.generate_latest:
        return TEXT
    if func is om_exposition.generate_latest:
        return OPENMETRICS
    return None
