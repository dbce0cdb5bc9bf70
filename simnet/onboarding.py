"""What an operator does before a neuron can run, done through the SDK against simnet.

Create a wallet, have simnet fund its coldkey (the faucet a real chain lacks), register the
hotkey with ``BurnedRegister``, stake validators with ``AddStake``, then delete the coldkey
private key: the runtimes load hotkeys only and refuse to start next to a coldkey. Used by the
demo and by the tests that run real neurons.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import bittensor as bt

from common.chain import make_client
from simnet.remote import SimAdmin, parse_sim


class OnboardingError(RuntimeError):
    pass


@dataclass(frozen=True)
class Onboarded:
    name: str
    hotkey: str
    coldkeypub: str
    uid: int


async def onboard(
    network: str,
    wallets_dir: Path,
    names: Iterable[str],
    *,
    netuid: int = 1,
    stake_tao: Mapping[str, float] | None = None,
    spare_tao: float = 100.0,
    remove_coldkeys: bool = True,
) -> dict[str, Onboarded]:
    """Register each named wallet on ``netuid`` (and stake those in ``stake_tao``)."""
    sim = parse_sim(network)
    if sim is None:
        raise OnboardingError(
            f"onboarding funds accounts through simnet; {network!r} is not sim://"
        )
    stake_tao = dict(stake_tao or {})
    wallets: dict[str, bt.Wallet] = {}
    out: dict[str, Onboarded] = {}
    async with SimAdmin(sim.host, sim.port) as admin, make_client(network) as client:
        for name in names:
            wallet = await asyncio.to_thread(_new_wallet, wallets_dir, name)
            wallets[name] = wallet
            await admin.fund(wallet.coldkeypub.ss58_address, stake_tao.get(name, 0) + spare_tao)
            result = await client.execute(bt.BurnedRegister(netuid=netuid), wallet)
            if not result.success:
                raise OnboardingError(f"registering {name} failed: {result.message}")
            hotkey = wallet.hotkey.ss58_address
            uid = await client.neurons.uid(hotkey, netuid)
            out[name] = Onboarded(name, hotkey, wallet.coldkeypub.ss58_address, int(uid))
        for name, tao in stake_tao.items():
            staked = await client.execute(
                bt.AddStake(
                    netuid=netuid,
                    hotkey_ss58=out[name].hotkey,
                    amount_tao=tao,
                    slippage_protection=False,
                ),
                wallets[name],
            )
            if not staked.success:
                raise OnboardingError(f"staking {name} failed: {staked.message}")
    if remove_coldkeys:
        for wallet in wallets.values():
            await asyncio.to_thread(Path(wallet.coldkey_file.path).unlink)
    return out


def _new_wallet(wallets_dir: Path, name: str) -> bt.Wallet:
    wallet = bt.Wallet(name=name, hotkey="default", path=str(wallets_dir))
    wallet.create_new_coldkey(use_password=False, suppress=True, overwrite=True)
    wallet.create_new_hotkey(use_password=False, suppress=True, overwrite=True)
    return wallet
