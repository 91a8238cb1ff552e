#!/usr/bin/env python3
"""Runs the SAM transform on a template offline, as CloudFormation does at deploy time; exits 1 with its errors.

    sam_translate.py TEMPLATE [--out TRANSLATED.json]

`sam validate --lint` and cfn-lint do not run every rule of the transform (for example, an image function that
inherits Runtime or Handler from Globals passes both and fails the deploy). `sam validate` without `--lint` runs
the transform but needs AWS credentials for the managed-policy names; this script gives it the few managed policies
SAM itself attaches instead, so it runs without network or credentials (cargo xtask lint and test run it).
"""

import argparse
import json
import sys

from samcli.lib.translate.sam_template_validator import SamTemplateValidator
from samcli.yamlhelper import yaml_parse
from samtranslator.model.exceptions import InvalidDocumentException

# The managed policies SAM attaches on its own (execution, tracing, VPC, event sources). A template that names
# any other managed policy in Policies fails here, which is intended: this project writes inline policies.
MANAGED_POLICIES = {
    name: f"arn:aws:iam::aws:policy/{path}{name}"
    for name, path in [
        ("AWSLambdaBasicExecutionRole", "service-role/"),
        ("AWSXrayWriteOnlyAccess", ""),
        ("AWSLambdaVPCAccessExecutionRole", "service-role/"),
        ("AWSLambdaSQSQueueExecutionRole", "service-role/"),
        ("AWSLambdaDynamoDBExecutionRole", "service-role/"),
        ("AWSLambdaKinesisExecutionRole", "service-role/"),
    ]
}


class StaticPolicies:
    """Stands in for samtranslator's ManagedPolicyLoader, which asks IAM."""

    def load(self):
        return MANAGED_POLICIES


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("template")
    parser.add_argument("--out", help="write the translated CloudFormation template here (JSON)")
    args = parser.parse_args()
    with open(args.template, encoding="utf-8") as file:
        template = yaml_parse(file.read())
    validator = SamTemplateValidator(template, StaticPolicies(), region="us-east-1")
    try:
        translated = validator.get_translated_template_if_valid()
    except Exception as error:  # InvalidSamDocumentException wraps every transform error with its resource.
        causes = getattr(getattr(error, "__cause__", None), "causes", None)
        if isinstance(getattr(error, "__cause__", None), InvalidDocumentException) and causes:
            for cause in causes:
                print(f"sam transform: {cause}", file=sys.stderr)
        else:
            print(f"sam transform: {error}", file=sys.stderr)
        return 1
    if args.out:
        with open(args.out, "w", encoding="utf-8") as file:
            json.dump(yaml_parse(translated), file, indent=1)
    print(f"{args.template}: the SAM transform succeeds", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
