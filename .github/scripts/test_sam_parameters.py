"""Tests of sam_parameters.py: `python3 -m unittest discover -s .github/scripts`."""

import json
import pathlib
import subprocess
import sys
import tempfile
import tomllib
import unittest

import sam_parameters

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = pathlib.Path(__file__).with_name("sam_parameters.py")


class Fill(unittest.TestCase):
    def test_placeholders_take_the_terraform_values_and_the_rest_is_kept(self):
        words = ["Stage=prod", "VpcSubnetIds=FROM_TERRAFORM", "WebAclArn=FROM_TERRAFORM"]
        values = {"VpcSubnetIds": "subnet-a,subnet-b", "WebAclArn": "arn:aws:wafv2:acl"}

        filled, missing = sam_parameters.fill(words, values)

        self.assertEqual(filled, ["Stage=prod", "VpcSubnetIds=subnet-a,subnet-b", "WebAclArn=arn:aws:wafv2:acl"])
        self.assertEqual(missing, [])

    def test_a_placeholder_without_an_output_is_reported(self):
        filled, missing = sam_parameters.fill(["Stage=prod", "WebAclArn=FROM_TERRAFORM"], {})

        self.assertEqual(filled, ["Stage=prod"])
        self.assertEqual(missing, ["WebAclArn"])

    def test_whole_terraform_output_and_list_values_are_understood(self):
        outputs = {"sam_parameters": {"value": {"VpcSubnetIds": ["subnet-a", "subnet-b"]}, "sensitive": False}}

        self.assertEqual(sam_parameters.foundation_values(outputs), {"VpcSubnetIds": "subnet-a,subnet-b"})


class AgainstTheRepository(unittest.TestCase):
    def test_every_placeholder_in_samconfig_is_a_key_of_the_terraform_sam_parameters_output(self):
        samconfig = tomllib.loads((ROOT / "samconfig.toml").read_text())
        outputs_tf = (ROOT / "infra/terraform/outputs.tf").read_text()

        for env in ("dev", "staging", "prod"):
            for word in sam_parameters.overrides(samconfig, env):
                key, _, value = word.partition("=")
                if value == sam_parameters.PLACEHOLDER:
                    self.assertRegex(outputs_tf, rf"\n\s+{key}\s+=", f"{env}: {key} is not in sam_parameters")

    def test_the_script_fails_when_an_environment_is_not_filled(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json") as outputs:
            json.dump({"VpcSubnetIds": "subnet-a"}, outputs)
            outputs.flush()

            result = subprocess.run(
                [sys.executable, SCRIPT, "prod", outputs.name, "--samconfig", ROOT / "samconfig.toml"],
                capture_output=True,
                text=True,
                check=False,
            )

        self.assertEqual(result.returncode, 1)
        self.assertIn("FunctionSecurityGroupId", result.stderr)


if __name__ == "__main__":
    unittest.main()
