"""taowatch: monitoring and alerting for Bittensor miners and validators."""

from common.version import __version__

__all__ = ["__version__"]
