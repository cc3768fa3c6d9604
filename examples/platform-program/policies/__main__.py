"""`pulumi preview --policy-pack policies --policy-pack <site-packages>/serverless_patterns/policies`."""

from pulumi_policy import PolicyPack

from rules import POLICIES  # the CLI runs this folder as the program: its own modules import flat

PolicyPack(name="platform", policies=POLICIES)
