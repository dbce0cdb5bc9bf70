"""Dashboard builders: one module per dashboard, each with ``UID``, ``FILENAME`` and
``build(knobs)``; :mod:`grafana.dashboards.generate` writes their JSON next to this folder."""
