"""The dashboards: builders in ``builders/``, their committed JSON here, generated and
drift-checked by :mod:`grafana.dashboards.generate` (``taowatch dashboards generate|check``)."""
