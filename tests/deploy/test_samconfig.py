"""samconfig.toml and the repository agree with the README's deploy flow: `sam deploy` never
prompts in the default environment, and nothing generated is tracked where a package could
pick it up."""

import subprocess
import tomllib

from conftest import ROOT


def samconfig():
    return tomllib.loads((ROOT / "samconfig.toml").read_text())


def test_default_deploy_asks_nothing():
    deploy = samconfig()["default"]["deploy"]["parameters"]
    # confirm_changeset stops every deploy at "Deploy this changeset? [y/N]".
    assert deploy["confirm_changeset"] is False
    assert deploy["resolve_s3"] is True, "without it, the first deploy asks for a bucket"
    assert "CAPABILITY_IAM" in deploy["capabilities"], "the template creates IAM roles"
    assert samconfig()["default"]["global"]["parameters"]["stack_name"]


def test_prod_confirms_its_change_set_on_a_stack_of_its_own():
    config = samconfig()
    assert config["prod"]["deploy"]["parameters"]["confirm_changeset"] is True
    assert config["prod"]["global"]["parameters"]["stack_name"] != config["default"]["global"]["parameters"]["stack_name"]


def test_build_uses_the_makefile_targets_without_beta_features():
    for env in ("default", "prod"):
        build = samconfig()[env]["build"]["parameters"]
        assert build["cached"] is False and build["parallel"] is False
        assert "beta_features" not in build, "BuildMethod makefile is not a beta feature"


def test_readme_deploy_flow_matches():
    readme = (ROOT / "README.md").read_text()
    assert "cargo lambda build --release && sam deploy" in readme
    assert "confirm_changeset" not in readme or "--config-env prod" in readme


def test_nothing_generated_is_tracked():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    generated = [path for path in tracked if path.endswith("dynamodb-local-metadata.json") or path.startswith("target/")]
    assert not generated, f"generated files are tracked: {generated}"
