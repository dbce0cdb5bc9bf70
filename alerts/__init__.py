"""taowatch's alerting: rule templates, thresholds, generated rules and the Alertmanager config.

The data files ship inside this package, so the generator (``python -m alerts.generate``),
``taowatch.stack`` and the dashboard builders read them through ``importlib.resources`` and
work the same from a checkout and from an installed wheel.
"""
