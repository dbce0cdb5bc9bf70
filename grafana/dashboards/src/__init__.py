"""Dashboard builders: one module per dashboard, each with ``UID``, ``FILENAME`` and
``build()``; ``taowatch dashboards generate`` writes their JSON next to this folder."""
