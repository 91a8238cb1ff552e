#!/usr/bin/env python3
"""Prints one environment's `sam deploy --parameter-overrides` from samconfig.toml, FROM_TERRAFORM values filled.

    sam_parameters.py ENV TERRAFORM_OUTPUTS_JSON [--samconfig samconfig.toml]

TERRAFORM_OUTPUTS_JSON is a file (or - for standard input) holding either `terraform output -json sam_parameters`
(a map of parameter name to value) or the whole `terraform output -json`. `--parameter-overrides` on the command
line replaces samconfig.toml's list as a whole, so the whole list is printed, not only the foundation's part.
Exits 1 naming every placeholder the outputs do not fill.
"""

import argparse
import json
import sys
import tomllib

PLACEHOLDER = "FROM_TERRAFORM"


def foundation_values(outputs: dict) -> dict:
    """The `sam_parameters` map, from either shape of `terraform output -json`."""
    wrapped = outputs.get("sam_parameters")
    if isinstance(wrapped, dict) and "value" in wrapped:
        outputs = wrapped["value"]
    return {key: value if isinstance(value, str) else ",".join(value) for key, value in outputs.items()}


def overrides(samconfig: dict, env: str) -> list:
    """The `Key=Value` words of `[ENV.deploy.parameters].parameter_overrides`."""
    try:
        raw = samconfig[env]["deploy"]["parameters"]["parameter_overrides"]
    except KeyError:
        raise SystemExit(f"samconfig.toml has no [{env}.deploy.parameters] parameter_overrides") from None
    return raw.split() if isinstance(raw, str) else list(raw)


def fill(words: list, values: dict) -> tuple:
    """Replaces each FROM_TERRAFORM value; returns the filled words and the names left unfilled."""
    filled, missing = [], []
    for word in words:
        key, _, value = word.partition("=")
        if value == PLACEHOLDER:
            if key not in values or values[key] in ("", PLACEHOLDER):
                missing.append(key)
                continue
            value = values[key]
        filled.append(f'{key}="{value}"' if " " in value else f"{key}={value}")
    return filled, missing


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("env")
    parser.add_argument("outputs", help="terraform output -json (file, or - for stdin)")
    parser.add_argument("--samconfig", default="samconfig.toml")
    args = parser.parse_args()

    with open(args.samconfig, "rb") as file:
        samconfig = tomllib.load(file)
    text = sys.stdin.read() if args.outputs == "-" else open(args.outputs, encoding="utf-8").read()
    values = foundation_values(json.loads(text) if text.strip() else {})
    filled, missing = fill(overrides(samconfig, args.env), values)
    if missing:
        print(
            f"{args.env}: no Terraform output for {', '.join(missing)} "
            "(apply infra/terraform and store `terraform output -json sam_parameters`)",
            file=sys.stderr,
        )
        return 1
    print(" ".join(filled))
    return 0


if __name__ == "__main__":
    sys.exit(main())
