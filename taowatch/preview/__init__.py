"""``taowatch dashboards preview``: every panel drawn from a live Prometheus, without Grafana.

For a reviewer: each panel's queries run over a time range the way Grafana would run them
(same variable and ``$__rate_interval`` expansion, :mod:`.panels`), against Prometheus' HTTP
API (:mod:`.client`), drawn as PNGs with matplotlib (:mod:`.render`) and gathered into an
``index.html`` per run (:mod:`.page`).
"""


class PreviewError(Exception):
    """A problem the operator can fix; ``str()`` is the whole message."""
