"""The Prometheus text exposition (0.0.4) and OpenMetrics 1.0, written straight from families.

Why not prometheus-client's ``generate_latest``: with ``export_all_neurons`` on 16 subnets of
256 uids the agent exports ~80 000 samples, and going through ``Metric``/``Sample`` objects
(a namedtuple and a label dict per sample, the labels sorted and escaped again for every
sample) costs about as much as holding them in labelled ``Gauge`` children. Here each
neuron's label set is escaped once per render and shared by all ~20 per-neuron families
(:class:`exporters.collector.Family` shares the label sequence object), and a family's lines
are joined by C-level ``map``/``join`` rather than a Python step per sample: a whole network
(128 x 256) is 525 000 samples. :class:`SnapshotRenders` renders a snapshot once per format.

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

from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from itertools import chain, repeat
from operator import itemgetter
from typing import Any

from prometheus_client import exposition as pc_exposition
from prometheus_client.openmetrics import exposition as om_exposition
from prometheus_client.utils import floatToGoString
from zlib_ng import zlib_ng

from exporters.family import Family

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
    return "".join(render_chunks(families, fmt))


def render_chunks(families: Iterable[Family], fmt: str) -> Iterator[str]:
    """:func:`render_families` one family at a time, so a caller can encode and compress a
    large exposition as it goes instead of holding the whole text at once."""
    # One render's label strings (each ending in the space before the value), keyed by the
    # identity of the shared label sequence.
    rendered: dict[tuple[int, tuple[str, ...]], list[str]] = {}
    keep_alive = []
    for fam in families:
        counter = fam.kind == "counter"
        sample = fam.name + "_total" if counter else fam.name
        head = sample if counter and fmt == TEXT else fam.name
        yield f"# HELP {head} {_help_text(fam.help, fmt)}\n# TYPE {head} {fam.kind}\n"
        values = fam.values
        if not values:
            continue
        if not fam.label_names:
            labs: list[str] = [" "] * len(values)
        else:
            key = (id(fam.label_values), fam.label_names)
            labs = rendered.get(key)  # type: ignore[assignment]
            if labs is None:
                labs = rendered[key] = _label_strings(fam.label_names, fam.label_values)
                keep_alive.append(fam.label_values)  # ids stay unique while we render
        if len(labs) != len(values):
            raise ValueError(f"{fam.name}: {len(labs)} label sets for {len(values)} values")
        yield _samples(sample, labs, values)


def _label_strings(names: tuple[str, ...], label_values: Sequence[tuple[str, ...]]) -> list[str]:
    """``{a="..",b=".."} `` for each label set: names sorted, values escaped."""
    order = sorted(range(len(names)), key=names.__getitem__)
    if _needs_escaping(label_values):
        parts = [(names[i], i) for i in order]
        return [
            "{" + ",".join(f'{n}="{escape_label_value(vals[i])}"' for n, i in parts) + "} "
            for vals in label_values
        ]
    # Nothing to escape (ss58 keys, numbers, addresses: the usual case): one C-level
    # %-format per label set. Label names are legacy-valid, so never hold a "%".
    template = "{" + ",".join(f'{names[i]}="%s"' for i in order) + "} "
    pick = itemgetter(*order) if len(order) > 1 else lambda vals: (vals[order[0]],)
    return list(map(template.__mod__, map(pick, label_values)))


def _needs_escaping(label_values: Sequence[tuple[str, ...]]) -> bool:
    text = "".join(chain.from_iterable(label_values))
    return "\\" in text or "\n" in text or '"' in text


def _samples(sample: str, labs: list[str], values: Sequence[float | None]) -> str:
    """One family's sample lines. ``labs[i]`` is the label part of line i, with its space."""
    go = floatToGoString
    if None in values:
        return "".join(
            f"{sample}{lab}{repr(v) if -_INF < v < 1e6 else go(v)}\n"
            for lab, v in zip(labs, values, strict=True)
            if v is not None
        )
    # floatToGoString(v) is repr(v) for every finite v below 1e6. A finite sum rules out
    # NaN and the infinities in one C-level pass, so the common family is formatted by map
    # and join without a Python-level step per sample (a whole network is 500k samples).
    total = sum(values)  # type: ignore[arg-type]
    if -_INF < total < _INF and max(values) < 1e6:  # type: ignore[type-var]
        strs: Iterable[str] = map(repr, values)
    else:
        strs = [repr(v) if -_INF < v < 1e6 else go(v) for v in values]  # type: ignore[operator]
    return "".join(chain.from_iterable(zip(repeat(sample), labs, strs, repeat("\n"))))


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


# zlib-ng at level 2 compresses the 62 MB whole-network exposition in ~60 % of the stdlib
# zlib's level-1 time and to ~10 % fewer bytes (zlib-ng's level 1 is faster still but ~35 %
# bigger): on a LAN scrape the CPU is the dearer of the two, but not by that much.
GZIP_LEVEL = 2
_GZIP_WBITS = 31  # zlib's gzip container (header and CRC-32 trailer), as gzip.compress writes


class SnapshotRenders:
    """The snapshot-only part of the exposition (``ChainCollector.snapshot_families``),
    rendered at most once per snapshot and format, plain or gzip-compressed.

    A snapshot is immutable, so every scrape of one poll's result would render and
    compress the same 60 MB again (a whole network: ~0.5 s of formatting and ~1 s of gzip
    per scrape, per scraper). Here the first scrape pays and the others, a Prometheus pair
    or a human with curl, get the cached bytes; a new snapshot drops everything cached.

    For gzip the cache keeps the compressed part and the compressor's state after it: each
    scrape continues a copy of that state with its own small tail (exporter and process
    metrics, which change per scrape), so the body is one ordinary gzip stream and the
    tail's values are never stale.
    """

    def __init__(self) -> None:
        self._snapshot: object | None = None
        self._plain: dict[str, bytes] = {}
        self._zipped: dict[str, tuple[bytes, Any]] = {}
        self.renders = 0  # snapshot-part renders actually done (the rest were cached)

    def _for(self, snapshot: object) -> None:
        if snapshot is not self._snapshot:
            # Drop the old renders before making new ones: never two whole bodies at once.
            self._plain.clear()
            self._zipped.clear()
            self._snapshot = snapshot

    def plain(self, snapshot: object, families: Callable[[], Iterable[Family]], fmt: str) -> bytes:
        self._for(snapshot)
        body = self._plain.get(fmt)
        if body is None:
            self.renders += 1
            body = render_families(families(), fmt).encode()
            self._plain[fmt] = body
        return body

    def gzip(
        self, snapshot: object, families: Callable[[], Iterable[Family]], fmt: str, tail: bytes
    ) -> bytes:
        """``gzip(snapshot part + tail)``, the snapshot part compressed once."""
        head, compressor = self._zipped_part(snapshot, families, fmt)
        rest = compressor.copy()
        return b"".join((head, rest.compress(tail), rest.flush()))

    def _zipped_part(
        self, snapshot: object, families: Callable[[], Iterable[Family]], fmt: str
    ) -> tuple[bytes, Any]:
        self._for(snapshot)
        cached = self._zipped.get(fmt)
        if cached is None:
            compressor = zlib_ng.compressobj(GZIP_LEVEL, zlib_ng.DEFLATED, _GZIP_WBITS)
            plain = self._plain.get(fmt)
            if plain is not None:
                head = compressor.compress(plain)
            else:
                # Family by family: the whole text never exists at once, only its gzip.
                self.renders += 1
                head = b"".join(
                    compressor.compress(chunk.encode()) for chunk in render_chunks(families(), fmt)
                )
            cached = self._zipped[fmt] = (head, compressor)
        return cached

    def prepare(
        self, snapshot: object, families: Callable[[], Iterable[Family]], fmt: str, compress: bool
    ) -> None:
        """Render (and compress) the snapshot part ahead of the scrape that will want it."""
        if compress:
            self._zipped_part(snapshot, families, fmt)
        else:
            self.plain(snapshot, families, fmt)
