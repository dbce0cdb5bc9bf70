"""The chain exporter: polls watched hotkeys and subnets and yields Prometheus metrics."""
