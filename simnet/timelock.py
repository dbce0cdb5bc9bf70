"""Opening timelocked weight commits: the drand side of commit-reveal.

The SDK's ``SetWeights`` on a commit-reveal subnet calls
``bittensor_core.get_encrypted_commit_v2``: it SCALE-encodes the runtime's
``WeightsTlockPayload`` (hotkey bytes, uids, u16 values, version key), timelock-encrypts it
to a future drand quicknet round (IBE over BLS12-381) and sends the compressed TLE
ciphertext with ``commit_timelocked_mechanism_weights``. Opening it needs drand's BLS
signature for that round, which only exists once the beacon publishes it: there is no key
simnet could hold, and the round is computed from wall-clock time, so it is always in the
future when the commit is made.

So simnet opens a commit with whichever :class:`TimelockOpener` the chain was given, in
order (``None`` means "not yet", and the chain retries every block of the reveal epoch, as
the runtime does while a pulse is missing):

* :class:`DrandPulses` - real decryption with ``bittensor_core.decrypt_with_signature``
  from pulses (round -> BLS signature) written to it, as ``Drand.write_pulse`` does on
  chain. Offline it only opens rounds whose signatures were recorded, e.g. the chain's own
  test vector (quicknet round 1000, in subtensor's ``pallets/drand`` tests).
* :class:`PlaintextEscrow` - the offline stand-in: it wraps the real encryptor so every
  ciphertext the SDK makes is filed with the payload that went in. The SDK still encrypts
  and sends the real ciphertext; the escrow only hands simnet what drand would reveal.
  In one process a test wraps the encryptor with the chain's escrow itself; a validator in
  its own process against a served simnet (``sim://``) files each payload with the server's
  ``POST /escrow`` from its ``RemoteSubstrate``, signed by the committing hotkey, just before
  the commit is submitted (:mod:`simnet.escrow`).

What simnet does instead of drand, exactly: the escrow opens a commit at the first block of
its reveal epoch (commit epoch + ``reveal_period_epochs``) whatever its drand round says, with
the plaintext the committer filed, then applies it through the ordinary weight checks as the
runtime does. A commit whose plaintext was never filed stays queued through that epoch and is
dropped after it, as an unopenable commit is on chain.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


class TimelockUnreadable(ValueError):
    """A ciphertext or payload that can never be opened (the runtime drops the commit)."""


class TimelockOpener(Protocol):
    def open(self, ciphertext: bytes, reveal_round: int) -> bytes | None:
        """The SCALE payload, or None while the round's pulse is not available."""


@dataclass(frozen=True)
class WeightsPayload:
    """The runtime's ``WeightsTlockPayload``."""

    hotkey: bytes
    uids: tuple[int, ...]
    values: tuple[int, ...]
    version_key: int

    def encode(self) -> bytes:
        return (
            _compact(len(self.hotkey))
            + self.hotkey
            + _compact(len(self.uids))
            + b"".join(struct.pack("<H", u) for u in self.uids)
            + _compact(len(self.values))
            + b"".join(struct.pack("<H", v) for v in self.values)
            + struct.pack("<Q", self.version_key)
        )

    @classmethod
    def decode(cls, data: bytes) -> WeightsPayload:
        reader = _Reader(data)
        hotkey = reader.take(reader.compact())
        uids = tuple(reader.u16() for _ in range(reader.compact()))
        values = tuple(reader.u16() for _ in range(reader.compact()))
        version_key = reader.u64()
        if reader.left():
            raise TimelockUnreadable(f"{reader.left()} bytes after the weights payload")
        return cls(hotkey, uids, values, version_key)

    def hotkey_ss58(self) -> str | None:
        if len(self.hotkey) != 32:
            return None
        import bittensor_core  # the SDK's codec

        return bittensor_core.ss58_encode(self.hotkey, 42)


def envelope(ciphertext: bytes, reveal_round: int) -> bytes:
    """The SDK's ``UserData`` envelope around a bare TLE ciphertext (``Vec<u8>`` then the
    round as u64), which is what ``bittensor_core.decrypt_with_signature`` reads."""
    return _compact(len(ciphertext)) + bytes(ciphertext) + struct.pack("<Q", reveal_round)


class DrandPulses:
    """Real timelock decryption from recorded drand pulses (round -> hex BLS signature)."""

    def __init__(self, pulses: dict[int, str] | None = None):
        self._pulses: dict[int, str] = dict(pulses or {})

    def write_pulse(self, reveal_round: int, signature_hex: str) -> None:
        self._pulses[int(reveal_round)] = signature_hex.removeprefix("0x")

    def open(self, ciphertext: bytes, reveal_round: int) -> bytes | None:
        signature = self._pulses.get(int(reveal_round))
        if signature is None:
            return None
        import bittensor_core  # the SDK's own crypto; imported only when a pulse exists

        try:
            return bytes(
                bittensor_core.decrypt_with_signature(envelope(ciphertext, reveal_round), signature)
            )
        except ValueError as exc:
            raise TimelockUnreadable(f"round {reveal_round}: {exc}") from None


class PlaintextEscrow:
    """Ciphertext -> payload, filed by :meth:`wrap` as the SDK encrypts (offline drand)."""

    def __init__(self) -> None:
        self._payloads: dict[bytes, bytes] = {}

    def file(self, ciphertext: bytes, payload: bytes) -> None:
        self._payloads[bytes(ciphertext)] = payload

    def file_once(self, ciphertext: bytes, payload: bytes) -> bool:
        """File unless this ciphertext already has a payload (first filing wins)."""
        if bytes(ciphertext) in self._payloads:
            return False
        self.file(ciphertext, payload)
        return True

    def open(self, ciphertext: bytes, reveal_round: int) -> bytes | None:
        # Taken, not kept: an opened commit is applied or dropped and never opened again, so a
        # served chain running for days does not hold every payload it ever revealed.
        return self._payloads.pop(bytes(ciphertext), None)

    def wrap(self, encrypt: Callable[..., tuple[bytes, int]]) -> Callable[..., tuple[bytes, int]]:
        """``get_encrypted_commit_v2`` that also files what it encrypted."""

        def encrypt_and_file(**kwargs: Any) -> tuple[bytes, int]:
            ciphertext, reveal_round = encrypt(**kwargs)
            payload = WeightsPayload(
                hotkey=bytes(kwargs["hotkey"]),
                uids=tuple(int(u) for u in kwargs["uids"]),
                values=tuple(int(v) for v in kwargs["weights"]),
                version_key=int(kwargs["version_key"]),
            )
            self.file(bytes(ciphertext), payload.encode())
            return ciphertext, reveal_round

        return encrypt_and_file


def _compact(n: int) -> bytes:
    if n < 1 << 6:
        return bytes([n << 2])
    if n < 1 << 14:
        return struct.pack("<H", (n << 2) | 1)
    if n < 1 << 30:
        return struct.pack("<I", (n << 2) | 2)
    raw = n.to_bytes((n.bit_length() + 7) // 8, "little")
    return bytes([((len(raw) - 4) << 2) | 3]) + raw


class _Reader:
    def __init__(self, data: bytes):
        self._data, self._at = bytes(data), 0

    def take(self, n: int) -> bytes:
        if self._at + n > len(self._data):
            raise TimelockUnreadable("the payload ends early")
        out = self._data[self._at : self._at + n]
        self._at += n
        return out

    def left(self) -> int:
        return len(self._data) - self._at

    def u16(self) -> int:
        return struct.unpack("<H", self.take(2))[0]

    def u64(self) -> int:
        return struct.unpack("<Q", self.take(8))[0]

    def compact(self) -> int:
        first = self.take(1)[0]
        mode = first & 3
        if mode == 0:
            return first >> 2
        if mode == 1:
            return struct.unpack("<H", bytes([first]) + self.take(1))[0] >> 2
        if mode == 2:
            return struct.unpack("<I", bytes([first]) + self.take(3))[0] >> 2
        return int.from_bytes(self.take((first >> 2) + 4), "little")
