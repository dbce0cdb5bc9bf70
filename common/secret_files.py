"""Secret files (a hotkey, an API token): one rule for who may read them.

A secret in a file another local user can read is a secret shared with them, so every
component refuses such a file before using it, with the ``chmod`` that fixes it, instead of
each one checking (or forgetting to check) in its own way.
"""

from __future__ import annotations

import stat
from pathlib import Path


class SecretFileError(ValueError):
    """A secret file that is missing, unreadable or readable by others; names the fix."""


def check_secret_file(path: Path) -> None:
    """Refuse a secret file that users other than its owner can read or write."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise SecretFileError(f"{path}: file not found; check the path") from None
    except OSError as exc:
        raise SecretFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise SecretFileError(f"{path}: not a regular file; point at the file holding the secret")
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        raise SecretFileError(
            f"{path}: mode is {mode:04o}, readable or writable by group or others; "
            f"restrict it with: chmod 600 {path}"
        )


def read_secret_file(path: Path) -> str:
    """The secret held in ``path`` (surrounding whitespace stripped), once its mode checks out."""
    check_secret_file(path)
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SecretFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SecretFileError(
            f"{path}: not UTF-8 text; the file should hold only the secret"
        ) from None
    if not secret:
        raise SecretFileError(f"{path}: file is empty; put the secret in it")
    return secret
