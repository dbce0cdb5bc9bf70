"""The installed taowatch release, for ``--version``, ``/api/status`` and metric labels."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("taowatch")
except PackageNotFoundError:  # running from a checkout without an install
    __version__ = "0.0.0+checkout"
