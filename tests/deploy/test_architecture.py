"""One architecture decides the binaries and the functions, and a mismatch stops before upload.

The setting is template.yaml's Globals > Function > Architectures, a literal: CargoLambda.toml
makes `cargo lambda build` build for it on any host, and scripts/check-bootstraps.sh reads every
bootstrap's ELF header against it on every make and sam build path. Each of the four ways a wrong
architecture used to ship (issue 23) is a test below; the ELF checks run on small synthetic
headers, the make paths with fake cargo, sam and aws that record what they are asked to do."""

import os
import shutil
import sys
import subprocess
import tomllib

import pytest

from conftest import ROOT, functions, load_template, sam_transform

ELF_MACHINE = {"x86_64": 62, "arm64": 183}
CHECK = ROOT / "scripts/check-bootstraps.sh"


def elf_header(machine, elf_class=2, data=1):
    """The first 64 bytes of an ELF executable for `machine` (e_machine at offset 18)."""
    header = bytearray(64)
    header[0:4] = b"\x7fELF"
    header[4], header[5], header[6] = elf_class, data, 1
    header[16:18] = (2).to_bytes(2, "little")  # ET_EXEC
    header[18:20] = machine.to_bytes(2, "little")
    return bytes(header)


def check(*arguments, cwd=ROOT, env=None):
    return subprocess.run([str(CHECK), *map(str, arguments)], cwd=cwd, env=env, capture_output=True, text=True)


def stack_architecture():
    (architecture,) = load_template()["Globals"]["Function"]["Architectures"]
    return architecture


def test_the_architecture_is_one_literal_of_the_template_and_no_parameter():
    template = load_template()
    assert stack_architecture() in ELF_MACHINE, "a literal arm64 or x86_64, not a !Ref"
    assert "Architecture" not in template["Parameters"], "a parameter could be kept (UsePreviousValue) or overridden apart from the binaries"
    for name, function in functions(template).items():
        assert "Architectures" not in function["Properties"], f"{name} overrides the one setting"
    assert check("arch").stdout.strip() == stack_architecture(), "the scripts read the same value"


def test_the_default_is_arm64():
    # Published Rust init on Lambda: arm64 13.6-13.9 ms, x86_64 15.2-18.2 ms; arm64 costs 20% less
    # per GB-second. Nothing here needs x86_64: cargo lambda cross-compiles with zig.
    assert stack_architecture() == "arm64"


def test_a_plain_cargo_lambda_build_builds_for_the_stack_on_any_host():
    # Trap 1: on an aarch64 machine `cargo lambda build --release` built for the host while the
    # template said x86_64 (and the reverse). CargoLambda.toml pins the target to the template's.
    config = tomllib.loads((ROOT / "CargoLambda.toml").read_text())["build"]
    pinned = {arch for arch in ("arm64", "x86_64") if config.get(arch) is True}
    assert pinned == {stack_architecture()}
    assert "target" not in config, "one way of saying it"
    assert check("config").returncode == 0


@pytest.mark.parametrize("config", ["[build]\nx86_64 = true\n", "[build]\n", "", "[watch]\narm64 = true\n", "[build]\narm64 = true\nx86_64 = true\n"])
def test_a_cargo_lambda_config_that_disagrees_is_refused(tmp_path, config):
    path = tmp_path / "CargoLambda.toml"
    path.write_text(config)
    result = check("config", env={"PATH": "/usr/bin:/bin", "CARGO_LAMBDA_CONFIG": str(path)})
    assert result.returncode == 1
    assert f"template.yaml deploys {stack_architecture()}" in result.stderr
    assert f"set `{stack_architecture()} = true`" in result.stderr, "the message names the fix"


def test_the_elf_check_accepts_the_stacks_architecture_and_refuses_every_other(tmp_path):
    good = tmp_path / "good"
    good.write_bytes(elf_header(ELF_MACHINE[stack_architecture()]))
    assert check(good).returncode == 0, check(good).stderr
    other = next(arch for arch in ELF_MACHINE if arch != stack_architecture())
    cases = {
        "other": (elf_header(ELF_MACHINE[other]), f"built for {other}, but template.yaml deploys {stack_architecture()}"),
        "script": (b"#!/bin/sh\necho hi\n", "built for not-elf"),
        "elf32": (elf_header(ELF_MACHINE[stack_architecture()], elf_class=1), "not-64-bit-le"),
        "big-endian": (elf_header(ELF_MACHINE[stack_architecture()], data=2), "not-64-bit-le"),
        "riscv": (elf_header(243), "machine-243"),
    }
    for name, (content, complaint) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        result = check(good, path)
        assert result.returncode == 1, name
        assert complaint in result.stderr, f"{name}: {result.stderr}"
        assert "run `make build`" in result.stderr, "the message names the fix"
    missing = check(tmp_path / "absent")
    assert missing.returncode == 1 and "is missing: run `make build`" in missing.stderr


def test_without_arguments_every_functions_bootstrap_is_checked(tmp_path):
    listed = subprocess.run(["sed", "-n", r"s|^ *CodeUri: *\(target/lambda/[A-Za-z0-9_-]*\)/\{0,1\} *$|\1/bootstrap|p", "template.yaml"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    expected = [function["Properties"]["CodeUri"].rstrip("/") + "/bootstrap" for function in functions(load_template()).values()]
    assert sorted(listed) == sorted(expected) and len(listed) == 8


def test_no_parameter_or_stage_changes_the_functions_architecture():
    # Trap 2: after one arm64 deploy, SAM kept Architecture=arm64 for a later plain deploy of
    # x86_64 binaries. Trap 3: `sam build --parameter-overrides Architecture=arm64` relabelled the
    # stack without rebuilding. With no such parameter, every transform deploys the one literal.
    template = load_template()
    for parameters in ({}, {"Architecture": "x86_64"}, {"Architecture": "arm64"}, {"StageName": "dev", "LogLevel": "DEBUG"}):
        resources = sam_transform(template, parameters)["Resources"]
        lambdas = [r for r in resources.values() if r["Type"] == "AWS::Lambda::Function"]
        assert len(lambdas) == 8
        for function in lambdas:
            assert function["Properties"]["Architectures"] == [stack_architecture()], parameters


# ---------------------------------------------------------------- the make paths ------------

# What the deploy targets may find on the PATH: a shell and the basic tools, python3 (the SAM and
# AWS CLIs run on it) and the fakes below. No Java, browser, speech or npm.
SYSTEM_TOOLS = ["bash", "env", "make", "awk", "sed", "od", "tr", "cmp", "cp", "mkdir", "rm", "cat", "grep",
                "dirname", "basename", "head", "tail", "sort", "python3", "printf", "test", "chmod", "ls", "tee", "true"]
TEST_ONLY_TOOLS = ["java", "chromium", "espeak-ng", "lame", "npm", "node"]

FAKE_CARGO = r"""#!/usr/bin/env bash
# Records its arguments; `cargo lambda build` leaves an ELF header per function for $FAKE_MACHINE.
echo "cargo $*" >> "$CALLS"
if [ "$1 $2" = "lambda build" ]; then
  for dir in $(sed -n 's|^ *CodeUri: *\(target/lambda/[A-Za-z0-9_-]*\)/\{0,1\} *$|\1|p' template.yaml); do
    mkdir -p "$dir"
    # 64-bit little-endian ELF, ET_EXEC, then e_machine (little-endian) at offset 18.
    printf '\177ELF\002\001\001\000\000\000\000\000\000\000\000\000\002\000' > "$dir/bootstrap"
    printf "\\$(printf %03o $((FAKE_MACHINE & 255)))\\$(printf %03o $((FAKE_MACHINE >> 8)))" >> "$dir/bootstrap"
    head -c 44 /dev/zero >> "$dir/bootstrap"
  done
fi
"""
FAKE_AWS = r"""#!/usr/bin/env bash
echo "aws $*" >> "$CALLS"
# A fresh account: API Gateway has no CloudWatch Logs role yet.
if [ "$1 $2" = "apigateway get-account" ]; then echo None; fi
"""
FAKE_RECORDER = """#!/usr/bin/env bash
echo "$(basename "$0") $*" >> "$CALLS"
"""
FAKE_RUSTUP = """#!/usr/bin/env bash
echo "rustup $*" >> "$CALLS"
if [ "$1 $2" = "target list" ]; then printf 'x86_64-unknown-linux-gnu\\naarch64-unknown-linux-gnu\\n'; fi
"""


@pytest.fixture
def workspace(tmp_path):
    """A copy of what the deploy targets read, a PATH without the test tools, and fakes of cargo,
    rustup, sam and aws that record their calls (the deploy tools in .venv count as installed)."""
    root = tmp_path / "repo"
    root.mkdir()
    for name in ("Makefile", "template.yaml", "samconfig.toml", "CargoLambda.toml", "account.yaml", "requirements-deploy.txt"):
        shutil.copy(ROOT / name, root / name)
    shutil.copytree(ROOT / "scripts", root / "scripts")
    venv = root / ".venv/bin"
    venv.mkdir(parents=True)
    shutil.copy(ROOT / "requirements-deploy.txt", root / ".venv/.requirements-deploy-installed")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in SYSTEM_TOOLS:
        # The interpreter itself, not a version manager's shim that needs its own PATH.
        found = os.path.realpath(sys.executable) if tool == "python3" else shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    fakes = {"cargo": FAKE_CARGO, "aws": FAKE_AWS, "sam": FAKE_RECORDER, "rustup": FAKE_RUSTUP, "python": FAKE_RECORDER}
    for name, script in fakes.items():
        target = (venv if name in ("sam", "aws", "python") else bin_dir) / name
        target.write_text(script)
        target.chmod(0o755)
    path = str(bin_dir)
    for tool in TEST_ONLY_TOOLS:
        assert shutil.which(tool, path=f"{venv}:{path}") is None, f"{tool} is on the test's PATH"
    calls = tmp_path / "calls.log"
    calls.touch()
    env = {"PATH": path, "HOME": str(tmp_path), "CALLS": str(calls), "FAKE_MACHINE": str(ELF_MACHINE[stack_architecture()])}
    return root, env, calls


def make(workspace, *targets, **variables):
    root, env, calls = workspace
    result = subprocess.run(["make", "--no-print-directory", *targets, *[f"{k}={v}" for k, v in variables.items()]],
                            cwd=root, env=env, capture_output=True, text=True)
    return result, calls.read_text().splitlines()


def test_the_deploy_targets_need_no_test_tools(workspace):
    result, calls = make(workspace, "build")
    assert result.returncode == 0, result.stderr
    assert "cargo lambda build --release" in calls
    result, calls = make(workspace, "deploy")
    assert result.returncode == 0, result.stderr
    result, calls = make(workspace, "web-config", OUTPUTS="outputs.json")
    assert result.returncode == 0, result.stderr
    assert any(call.startswith("cargo run --quiet -p notes-dev --bin notes-dev -- web-config") for call in calls)
    result, calls = make(workspace, "publish-web", STACK="notes-x", API="http")
    assert result.returncode == 0, result.stderr
    assert "python scripts/publish-web.py --stack notes-x --api http" in calls
    assert not any(call.startswith("python -m pip") for call in calls), "the deploy tools were already there"


def test_make_deploy_sets_the_account_role_before_the_stack_and_checks_before_upload(workspace):
    result, calls = make(workspace, "deploy")
    assert result.returncode == 0, result.stderr
    order = [call.split()[0:3] for call in calls if call.split()[0] in ("aws", "sam")]
    assert order == [
        ["aws", "apigateway", "get-account"],
        ["aws", "cloudformation", "deploy"],
        ["sam", "deploy"],
    ], calls
    (account,) = [call for call in calls if call.startswith("aws cloudformation deploy")]
    assert "--template-file account.yaml" in account and "--capabilities CAPABILITY_IAM" in account
    assert "sam deploy --config-env dev" in make(workspace, "deploy", CONFIG_ENV="dev")[1]


def test_make_deploy_refuses_binaries_for_the_host_when_the_stack_differs(workspace):
    # Trap 1, through make: a build that came out for another machine never reaches sam deploy.
    root, env, calls = workspace
    other = next(arch for arch in ELF_MACHINE if arch != stack_architecture())
    env["FAKE_MACHINE"] = str(ELF_MACHINE[other])
    result, calls = make(workspace, "deploy")
    assert result.returncode != 0
    assert f"is built for {other}, but template.yaml deploys {stack_architecture()}: run `make build`" in result.stderr
    assert not any(call.startswith(("sam ", "aws ")) for call in calls), "nothing was uploaded or deployed"


def test_sam_builds_makefile_target_checks_before_it_copies(workspace, tmp_path):
    # Trap 3: `sam build` runs build-<Function> with ARTIFACTS_DIR; no ARCHITECTURE variable or
    # --parameter-overrides changes what it builds, and a wrong binary is never copied.
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    result, _ = make(workspace, "build-ListFunction", ARTIFACTS_DIR=artifacts, ARCHITECTURE="x86_64")
    assert result.returncode == 0, result.stderr
    assert (artifacts / "bootstrap").read_bytes()[18:20] == ELF_MACHINE[stack_architecture()].to_bytes(2, "little")
    (artifacts / "bootstrap").unlink()
    root, env, _ = workspace
    env["FAKE_MACHINE"] = str(ELF_MACHINE[next(a for a in ELF_MACHINE if a != stack_architecture())])
    result, _ = make(workspace, "build-ListFunction", ARTIFACTS_DIR=artifacts)
    assert result.returncode != 0 and "run `make build`" in result.stderr
    assert not (artifacts / "bootstrap").exists()


def test_no_deploy_can_pick_up_a_stale_sam_build():
    # Trap 4: after a `sam build`, `sam deploy` uploaded .aws-sam/build's older binaries. Every
    # environment deploys and packages template.yaml, whose CodeUris are target/lambda/.
    from samcli.lib.config.samconfig import SamConfig

    config = SamConfig(str(ROOT), "samconfig.toml")
    for env in ("default", "dev", "prod"):
        for command in ("deploy", "package"):
            assert config.get_all([command], "parameters", env).get("template_file") == "template.yaml", (env, command)
