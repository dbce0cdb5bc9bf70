"""taowatch: monitoring and alerting for Bittensor miners and validators."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("taowatch")
except PackageNotFoundError:  # running from a checkout without an install
    __version__ = "0.0.0+checkout"
