"""The ``taowatch`` command: one entry point, one subcommand per component.

Each subcommand lives in its component's package and is imported only when used, so
``taowatch --help`` stays fast and a broken optional component cannot break the others.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from types import MappingProxyType

# name -> (module, function, one-line help). The function takes argv (list[str]) and
# returns a process exit code.
SUBCOMMANDS: Mapping[str, tuple[str, str, str]] = MappingProxyType(
    {
        "demo": ("taowatch.demo", "main", "run simnet and every component on this machine"),
        "init": ("taowatch.init", "main", "write an agent config for a coldkey's neurons"),
        "check": ("taowatch.check", "main", "poll once and show how your neurons stand"),
        "simnet": ("simnet.cli", "main", "run or drive the simulated subtensor"),
        "agent": ("agent.main", "main", "run the agent that hosts the chain exporter"),
        "miner": ("neuron.cli", "miner_main", "run the bundled miner"),
        "validator": ("neuron.cli", "validator_main", "run the bundled validator"),
        "dashboards": ("taowatch.dashboards", "main", "generate or preview Grafana dashboards"),
    }
)


def _usage() -> str:
    width = max(len(name) for name in SUBCOMMANDS)
    lines = ["usage: taowatch <command> [options]", "", "commands:"]
    lines += [f"  {name:<{width}}  {help_}" for name, (_, _, help_) in SUBCOMMANDS.items()]
    lines += ["", "Run 'taowatch <command> --help' for a command's options."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in {"-h", "--help", "help"}:
        print(_usage())
        return 0
    if args[0] == "--version":
        from common.version import __version__

        print(f"taowatch {__version__}")
        return 0
    name, rest = args[0], args[1:]
    if name not in SUBCOMMANDS:
        print(f"taowatch: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    from taowatch.extras import extra_of, install_hint, missing_extra

    if not {"-h", "--help"} & set(rest) and (problem := missing_extra(name, rest)):
        print(problem, file=sys.stderr)
        return 2
    module_name, func_name, _ = SUBCOMMANDS[name]
    try:
        func = getattr(importlib.import_module(module_name), func_name)
        return int(func(rest) or 0)
    except KeyboardInterrupt:
        return 130
    except ModuleNotFoundError as exc:
        # An extra's package imported where the table of taowatch.extras did not expect it.
        extra = extra_of(exc.name)
        if extra is None:
            raise
        print(install_hint(name, extra, str(exc.name).split(".")[0]), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
