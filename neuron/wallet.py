"""Loading a neuron's keys: the hotkey and the coldkey's public address, nothing else.

A miner or validator answers the internet, so it holds the one key it signs with (the hotkey)
and the coldkey's *address* (``coldkeypub.txt``, for fee estimation). The layout is the SDK
``Wallet``'s: ``<path>/<name>/hotkeys/<hotkey>``, ``<path>/<name>/coldkeypub.txt``. A coldkey
private key file next to them makes the runtime refuse to start unless the operator opts in
for a development machine, and a hotkey file readable by group or others is refused with the
``chmod`` that fixes it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from bittensor.keyfiles import Keyfile, Keypair

from common.secret_files import SecretFileError, check_secret_file


class WalletError(Exception):
    """A key problem an operator can fix; ``str()`` names the file and the fix."""


class ColdkeyNotOnHost(RuntimeError):
    """Raised if anything tries to sign with the coldkey of a hotkey-only wallet."""


@dataclass(frozen=True)
class _AbsentColdkey:
    """Stands where the SDK looks for ``wallet.coldkey``: public parts only, cannot sign.

    The SDK recognises wallet-shaped objects by the presence of ``coldkey``, so the attribute
    must exist; signing with it fails loudly instead of quietly needing a key that is not here.
    """

    public: Keypair

    @property
    def ss58_address(self) -> str:
        return self.public.ss58_address

    @property
    def public_key(self) -> bytes:
        return self.public.public_key

    @property
    def crypto_type(self) -> int:
        return self.public.crypto_type

    @property
    def ss58_format(self) -> int:
        return self.public.ss58_format

    def sign(self, payload: bytes) -> bytes:
        raise ColdkeyNotOnHost(
            "this neuron loads only its hotkey; coldkey-signed operations (registration, "
            "staking, transfers) belong on the machine that holds the coldkey"
        )


@dataclass(frozen=True)
class HotkeyWallet:
    """What the SDK accepts as a wallet for hotkey-signed intents (SetWeights, ServeAxon).

    ``hotkey`` is the loaded ``Keypair``: signing with it directly costs ~35 µs, where going
    through ``Wallet`` (lazy signer resolution per call) costs ~1.1 ms.
    """

    hotkey: Keypair
    coldkeypub: Keypair
    source: str

    @property
    def coldkey(self) -> _AbsentColdkey:
        return _AbsentColdkey(self.coldkeypub)

    @property
    def hotkey_ss58(self) -> str:
        return self.hotkey.ss58_address

    @property
    def coldkey_ss58(self) -> str:
        return self.coldkeypub.ss58_address

    def __repr__(self) -> str:  # never print key material
        return f"HotkeyWallet(hotkey={self.hotkey_ss58}, source={self.source!r})"


def check_private_key_mode(path: Path) -> None:
    """Refuse a key file that users other than its owner can read or write."""
    try:
        check_secret_file(path)
    except SecretFileError as exc:
        raise WalletError(str(exc)) from None


def load_hotkey_wallet(
    path: str | os.PathLike[str],
    name: str,
    hotkey: str = "default",
    *,
    allow_coldkey_on_host: bool = False,
    password: str | None = None,
) -> HotkeyWallet:
    """Load ``<path>/<name>/hotkeys/<hotkey>`` and ``coldkeypub.txt``; never the coldkey.

    ``password`` unlocks an encrypted hotkey; without it the SDK's environment variable for
    that file (``BT_PW_...``) is used and no prompt is ever shown.
    """
    wallet_dir = Path(path).expanduser() / name
    if not wallet_dir.is_dir():
        raise WalletError(
            f"{wallet_dir}: wallet directory not found; check wallet.path and wallet.name"
        )
    coldkey_file = wallet_dir / "coldkey"
    if coldkey_file.exists() and not allow_coldkey_on_host:
        raise WalletError(
            f"{coldkey_file}: a coldkey private key sits next to the hotkey on this host. "
            "A miner or validator needs only hotkeys/<name> and coldkeypub.txt; move the "
            "coldkey file to a machine that serves no requests (or, on a development "
            "machine only, set wallet.allow_coldkey_on_host: true)"
        )
    hotkey_file = wallet_dir / "hotkeys" / hotkey
    if not hotkey_file.is_file():
        raise WalletError(
            f"{hotkey_file}: hotkey file not found; check wallet.hotkey, or create it with "
            f"btcli wallet new-hotkey --wallet.name {name} --wallet.hotkey {hotkey}"
        )
    check_private_key_mode(hotkey_file)
    coldkeypub_file = wallet_dir / "coldkeypub.txt"
    if not coldkeypub_file.is_file():
        raise WalletError(
            f"{coldkeypub_file}: coldkey public address not found; copy coldkeypub.txt from "
            "the machine holding the coldkey (it contains no secret)"
        )
    keyfile = Keyfile(hotkey_file, hotkey)
    try:
        if keyfile.is_encrypted() and password is None:
            password = os.environ.get(keyfile.env_var_name())
            if not password:
                raise WalletError(
                    f"{hotkey_file}: the hotkey is encrypted; set {keyfile.env_var_name()} "
                    "from a secrets file (a neuron never prompts)"
                )
        hot = keyfile.get_keypair(password)
        cold = Keyfile(coldkeypub_file, "coldkeypub.txt").get_keypair()
    except WalletError:
        raise
    except Exception as exc:  # the SDK's keyfile errors carry no file context
        raise WalletError(f"{wallet_dir}: cannot load keys: {exc}") from None
    try:
        hot.sign(b"taowatch key probe")
    except Exception:  # a public-only keypair cannot sign
        raise WalletError(
            f"{hotkey_file}: holds no private key; a neuron must sign requests"
        ) from None
    return HotkeyWallet(hotkey=hot, coldkeypub=cold, source=str(hotkey_file))
