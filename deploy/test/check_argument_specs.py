#!/usr/bin/env python3
"""Check that every role's meta/argument_specs.yml documents exactly its defaults/main.yml.

    deploy/test/check_argument_specs.py [ROLES_DIR]     (default: deploy/ansible/roles)

For each role with a defaults/main.yml: the `main` entry point must list the same variables,
each with a description and a type, and with the same default value. Other entry points may
only list variables that are in defaults/main.yml, with the same default. Exit status 1 and one
line per problem when they drift apart (the prometheus-community collection's
lint_arguments_spec.sh, plus the values).
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml


def check_role(role: Path) -> list[str]:
    defaults_file = role / "defaults" / "main.yml"
    specs_file = role / "meta" / "argument_specs.yml"
    if not defaults_file.is_file():
        return []
    if not specs_file.is_file():
        return [f"{role.name}: has defaults/main.yml but no meta/argument_specs.yml"]
    defaults = yaml.safe_load(defaults_file.read_text()) or {}
    specs = (yaml.safe_load(specs_file.read_text()) or {}).get("argument_specs") or {}
    if "main" not in specs:
        return [f"{role.name}: meta/argument_specs.yml has no 'main' entry point"]
    problems = []
    main = specs["main"].get("options") or {}
    for name in sorted(set(defaults) - set(main)):
        problems.append(
            f"{role.name}: {name} is in defaults/main.yml but not in argument_specs main"
        )
    for name in sorted(set(main) - set(defaults)):
        problems.append(
            f"{role.name}: {name} is in argument_specs main but not in defaults/main.yml"
        )
    for entry, spec in specs.items():
        for name, option in (spec.get("options") or {}).items():
            where = f"{role.name}: argument_specs {entry}.{name}"
            if name not in defaults:
                if entry != "main":
                    problems.append(f"{where} is not in defaults/main.yml")
                continue
            if not option.get("description"):
                problems.append(f"{where} has no description")
            if not option.get("type"):
                problems.append(f"{where} has no type")
            if "default" not in option:
                problems.append(f"{where} has no default (defaults/main.yml: {defaults[name]!r})")
            elif option["default"] != defaults[name]:
                problems.append(
                    f"{where} default {option['default']!r} differs from "
                    f"defaults/main.yml {defaults[name]!r}"
                )
            choices = option.get("choices")
            if choices and defaults[name] not in choices:
                problems.append(f"{where} default {defaults[name]!r} is not one of {choices}")
    return problems


def main(argv: list[str]) -> int:
    roles_dir = Path(argv[0]) if argv else Path(__file__).resolve().parents[1] / "ansible" / "roles"
    roles = sorted(p for p in roles_dir.iterdir() if p.is_dir())
    if not roles:
        print(f"{roles_dir}: no roles found", file=sys.stderr)
        return 1
    problems = [p for role in roles for p in check_role(role)]
    for problem in problems:
        print(problem)
    if not problems:
        print(f"argument_specs match defaults in {len(roles)} roles")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
