"""samconfig.toml and the repository agree with the README's deploy flow: `sam deploy` never
prompts in the default environment, the dev and prod stages deploy what they say (the template
transformed with each one's parameter overrides), and nothing generated is tracked where a
package could pick it up."""

import re
import subprocess
import tomllib

import pytest

from conftest import ROOT, load_template, resolve_parameters, sam_transform

# What each `sam deploy [--config-env <env>]` deploys. `default` sets no parameters: it is the
# template's defaults, as it was before there were stages.
STAGES = {
    "default": {"stack": "serverless-notes-rust", "stage": "Prod", "log_level": "INFO", "retention": 30, "rate": 100, "burst": 200},
    "dev": {"stack": "serverless-notes-rust-dev", "stage": "dev", "log_level": "DEBUG", "retention": 7, "rate": 20, "burst": 40},
    "prod": {"stack": "serverless-notes-rust-prod", "stage": "prod", "log_level": "INFO", "retention": 90, "rate": 200, "burst": 400},
}


def samconfig():
    return tomllib.loads((ROOT / "samconfig.toml").read_text())


def deploy_parameters(env):
    """What `sam deploy --config-env <env>` reads, by SAM CLI's own reader: the environment's
    global parameters, overridden by its deploy parameters."""
    from samcli.lib.config.samconfig import SamConfig

    return SamConfig(str(ROOT), "samconfig.toml").get_all(["deploy"], "parameters", env)


def parameter_overrides(value):
    """parameter_overrides as SAM CLI parses them (its option type): {name: value}."""
    from samcli.cli.types import CfnParameterOverridesType

    return CfnParameterOverridesType().convert(value, None, None) if value else {}


def check_overrides(template, overrides):
    """Each override names a parameter of the template and gives it a value CloudFormation
    accepts; a typo would otherwise fail only at deploy, or silently deploy the default."""
    parameters = template["Parameters"]
    for name, value in overrides.items():
        assert name in parameters, f"{name} is no parameter of template.yaml"
        spec = parameters[name]
        if "AllowedValues" in spec:
            assert value in [str(allowed) for allowed in spec["AllowedValues"]], f"{name}={value}: not in {spec['AllowedValues']}"
        if "AllowedPattern" in spec:
            assert re.fullmatch(spec["AllowedPattern"], value), f"{name}={value}: does not match {spec['AllowedPattern']}"
        if spec["Type"] == "Number":
            assert re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", value), f"{name}={value}: not a number"
            if "MinValue" in spec:
                assert float(value) >= spec["MinValue"], f"{name}={value}: below {spec['MinValue']}"
            if "MaxValue" in spec:
                assert float(value) <= spec["MaxValue"], f"{name}={value}: above {spec['MaxValue']}"


def stack_parameters(template, overrides):
    """The parameter values CloudFormation deploys with: the template's defaults, overridden."""
    values = {name: str(spec["Default"]) for name, spec in template["Parameters"].items() if "Default" in spec}
    values.update(overrides)
    return values


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


def test_each_stage_is_a_stack_of_its_own_and_only_prod_asks():
    for env, expected in STAGES.items():
        deploy = deploy_parameters(env)
        assert deploy["stack_name"] == expected["stack"], env
        assert deploy["confirm_changeset"] is (env == "prod"), env
        # SAM CLI environments do not inherit from default: each needs these itself.
        assert deploy["resolve_s3"] is True, env
        assert "CAPABILITY_IAM" in deploy["capabilities"], env
    assert "parameter_overrides" not in deploy_parameters("default"), "sam deploy keeps the template's defaults"


@pytest.mark.parametrize("env", list(STAGES))
def test_each_stage_deploys_its_stage_name_limits_log_retention_and_log_level(env):
    template = load_template()
    expected = STAGES[env]
    overrides = parameter_overrides(deploy_parameters(env).get("parameter_overrides"))
    check_overrides(template, overrides)
    parameters = stack_parameters(template, overrides)
    transformed = sam_transform(template, parameters)
    resources = transformed["Resources"]
    of_type = lambda kind: [resource["Properties"] for resource in resources.values() if resource["Type"] == kind]
    value = lambda item: str(resolve_parameters(item, parameters))

    (rest_stage,) = of_type("AWS::ApiGateway::Stage")
    (http_stage,) = of_type("AWS::ApiGatewayV2::Stage")
    assert value(rest_stage["StageName"]) == value(http_stage["StageName"]) == expected["stage"]
    (setting,) = rest_stage["MethodSettings"]
    assert (value(setting["ThrottlingRateLimit"]), value(setting["ThrottlingBurstLimit"])) == (str(expected["rate"]), str(expected["burst"]))
    routes = http_stage["DefaultRouteSettings"]
    assert (value(routes["ThrottlingRateLimit"]), value(routes["ThrottlingBurstLimit"])) == (str(expected["rate"]), str(expected["burst"]))
    (plan,) = of_type("AWS::ApiGateway::UsagePlan")
    assert (value(plan["Throttle"]["RateLimit"]), value(plan["Throttle"]["BurstLimit"])) == (str(expected["rate"]), str(expected["burst"]))
    assert "Quota" not in plan, "no daily quota on the public key"

    groups = of_type("AWS::Logs::LogGroup")
    assert len(groups) == 10, "eight functions and two APIs"
    for group in groups:
        assert value(group["RetentionInDays"]) == str(expected["retention"]), group["LogGroupName"]
    functions = of_type("AWS::Lambda::Function")
    assert len(functions) == 8
    for function in functions:
        assert value(function["LoggingConfig"]["ApplicationLogLevel"]) == expected["log_level"], function["LoggingConfig"]["LogGroup"]


@pytest.mark.parametrize(
    "override",
    ["StageNme=dev", "StageName=dev-1", "LogLevel=TRACE", "LogRetentionDays=10", "ThrottleRateLimit=0", "QuotaPerDay=1000", "PerCallerRequestsPer5Minutes=5"],
)
def test_a_misspelt_or_disallowed_override_is_caught(override):
    with pytest.raises(AssertionError):
        check_overrides(load_template(), parameter_overrides([override]))


def test_build_uses_the_makefile_targets_without_beta_features():
    for env in STAGES:
        build = samconfig()[env]["build"]["parameters"]
        assert build["cached"] is False and build["parallel"] is False
        assert "beta_features" not in build, "BuildMethod makefile is not a beta feature"


def test_the_deploy_guide_matches_the_deploy_flow():
    guide = (ROOT / "docs/deploy.md").read_text()
    assert "make deploy" in guide and "cargo lambda build --release && scripts/check-bootstraps.sh && sam deploy" in guide
    assert "sam deploy --config-env dev" in guide and "sam deploy --config-env prod" in guide
    assert "confirm_changeset" not in guide or "--config-env prod" in guide
    # The one-time account step, by the command scripts/deploy.sh runs.
    assert "aws cloudformation deploy --template-file account.yaml --stack-name apigateway-cloudwatch-role" in guide
    assert "ACCOUNT_STACK:-apigateway-cloudwatch-role" in (ROOT / "scripts/deploy.sh").read_text()
    # Teardown keeps its handles: the retained resources' names are read from the outputs
    # before the stack (and its outputs) is deleted, and deleted only after it.
    teardown = guide[guide.index("## Teardown"):]
    assert teardown.index("out NotesTableName") < teardown.index("sam delete") < teardown.index("delete-table")
    assert teardown.index("out UserPoolId") < teardown.index("sam delete") < teardown.index("delete-user-pool")
    assert teardown.index("aws s3 rm") < teardown.index("sam delete"), "the bucket is emptied first"
    assert teardown.index("out WebBucketName") < teardown.index("sam delete"), "and the site's bucket"
    # The hosted page: one command puts it on the stack (scripts/publish-web.py).
    assert "make publish-web" in guide and "publish-web:" in (ROOT / "Makefile").read_text()
    # The costs a deployed stack exposes.
    for cost in ("Sign-up is open", "Dictation calls Polly", "Every request costs API Gateway", "The hosted page is public"):
        assert cost in guide, cost
    # The README points here instead of repeating it.
    readme = (ROOT / "README.md").read_text()
    assert "docs/deploy.md" in readme and "### Step by step" not in readme


def test_nothing_generated_is_tracked():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    generated = [path for path in tracked if path.endswith("dynamodb-local-metadata.json") or path.startswith("target/")]
    assert not generated, f"generated files are tracked: {generated}"
