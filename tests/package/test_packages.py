"""Every deploy path the README shows uploads, for every function of the template, a zip holding
one executable `bootstrap` built for the template's architecture, and nothing else.

scripts/package-check.sh runs `cargo lambda build --release` and `sam build` first, as the README
does; these tests run `sam package` (what `sam deploy` does before it calls CloudFormation) against
moto's S3 and open what was uploaded."""

import io
import pathlib
import re
import stat
import subprocess
import sys
import zipfile

import pytest
import yaml

from conftest import BUCKET, ROOT

# ELF e_machine values (the architectures Lambda runs).
ELF_MACHINE = {"x86_64": 0x3E, "arm64": 0xB7}
# Size budgets of the zips: the authorizer no bigger than when it was built alone (1.30 MB), the
# others within the benchmark's 4 MB target (`make bench` reports the same sizes).
ZIP_BUDGET = {"AuthorizerFunction": 1_300_000}
DEFAULT_ZIP_BUDGET = 4_000_000


class _AnyTagLoader(yaml.SafeLoader):
    """Reads a CloudFormation template; short-form intrinsics (!Ref, !Sub, ...) become plain values,
    which is all these checks need (they read types, CodeUris and parameter defaults)."""


def _any_tag(loader, _suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


_AnyTagLoader.add_multi_constructor("!", _any_tag)


def load(path):
    return yaml.load(pathlib.Path(path).read_text(), Loader=_AnyTagLoader)


def functions(template):
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def architecture(template):
    """The architecture every function deploys for: the one literal of Globals (no parameter can
    override it; tests/deploy/test_architecture.py)."""
    (arch,) = template["Globals"]["Function"]["Architectures"]
    return arch


def sam_package(template_file, aws_env, tmp_path):
    packaged = tmp_path / "packaged.yaml"
    result = subprocess.run(
        [
            str(pathlib.Path(sys.executable).parent / "sam"),
            "package",
            "--template-file", str(template_file),
            "--s3-bucket", BUCKET,
            "--output-template-file", str(packaged),
            "--force-upload",
        ],
        cwd=ROOT,
        env=aws_env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, f"sam package failed:\n{result.stdout}\n{result.stderr}"
    return load(packaged)


def problems_of_zip(data, arch):
    """What is wrong with one function's zip ([] when it is a deployable custom-runtime package)."""
    problems = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        if "bootstrap" not in names:
            problems.append("no bootstrap at the root of the zip")
        extra = sorted(set(names) - {"bootstrap"})
        if extra:
            shown = ", ".join(extra[:8]) + (f" and {len(extra) - 8} more" if len(extra) > 8 else "")
            problems.append(f"ships what it should not: {shown}")
        if "bootstrap" in names:
            info = archive.getinfo("bootstrap")
            mode = info.external_attr >> 16
            if not stat.S_ISREG(mode) or not mode & 0o111:
                problems.append(f"bootstrap is not an executable file (mode {oct(mode)})")
            head = archive.read("bootstrap")[:20]
            if head[:4] != b"\x7fELF":
                problems.append("bootstrap is not an ELF executable")
            elif head[4] != 2 or head[5] != 1:
                problems.append("bootstrap is not a 64-bit little-endian ELF")
            else:
                machine = int.from_bytes(head[18:20], "little")
                if machine != ELF_MACHINE[arch]:
                    built = {v: k for k, v in ELF_MACHINE.items()}.get(machine, hex(machine))
                    problems.append(f"bootstrap is built for {built}, the template deploys {arch}")
    return problems


def inspect(packaged, s3, arch):
    """{function: (zip bytes, bootstrap bytes or None, problems)} for every function."""
    report = {}
    for name, function in functions(packaged).items():
        code_uri = function["Properties"].get("CodeUri")
        match = re.fullmatch(rf"s3://{BUCKET}/(.+)", code_uri or "")
        if not match:
            report[name] = (0, None, [f"the packaged template does not point at an uploaded zip: {code_uri!r}"])
            continue
        data = s3.get_object(Bucket=BUCKET, Key=match.group(1))["Body"].read()
        problems = problems_of_zip(data, arch)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            bootstrap = archive.read("bootstrap") if "bootstrap" in archive.namelist() else None
        report[name] = (len(data), bootstrap, problems)
    return report


def print_sizes(title, report):
    lines = [f"\n{title}", f"  {'function':<22} {'zip':>10}  {'bootstrap':>10}"]
    for name, (size, bootstrap, _) in sorted(report.items()):
        lines.append(f"  {name:<22} {size / 1e6:>8.2f} MB  {len(bootstrap or b'') / 1e6:>8.2f} MB")
    print("\n".join(lines))


@pytest.fixture(scope="module")
def template():
    return load(ROOT / "template.yaml")


def assert_deployable(report, template):
    assert set(report) == set(functions(template)), "every function of the template is packaged"
    failures = {name: problems for name, (_, _, problems) in report.items() if problems}
    assert not failures, f"undeployable packages: {failures}"
    for name, (size, _, _) in report.items():
        budget = ZIP_BUDGET.get(name, DEFAULT_ZIP_BUDGET)
        assert size <= budget, f"{name}: zip of {size} bytes, over its {budget} byte budget"


def check_flow(title, template_file, template, aws_env, s3, tmp_path):
    """`sam package` one deploy flow's template and check every zip it uploads: deployable, within
    budget, and holding the very binary `cargo lambda build` left in target/lambda."""
    packaged = sam_package(template_file, aws_env, tmp_path)
    report = inspect(packaged, s3, architecture(template))
    print_sizes(title, report)
    assert_deployable(report, template)
    for name, (_, bootstrap, _) in report.items():
        binary = template["Resources"][name]["Properties"]["CodeUri"].rstrip("/").rsplit("/", 1)[-1]
        assert bootstrap == (ROOT / "target/lambda" / binary / "bootstrap").read_bytes(), name


def test_cargo_lambda_build_then_sam_deploy_uploads_a_bootstrap_per_function(template, aws_env, s3, tmp_path):
    # With no .aws-sam/build, `sam deploy` packages template.yaml itself: the CodeUris are
    # cargo lambda's output directories.
    check_flow("cargo lambda build --release && sam deploy uploads:", ROOT / "template.yaml", template, aws_env, s3, tmp_path)


def test_sam_build_then_sam_deploy_uploads_the_same_binaries(template, aws_env, s3, tmp_path):
    # sam build's Makefile targets copy cargo lambda's output: the two flows ship one binary.
    built = ROOT / ".aws-sam/build/template.yaml"
    assert built.is_file(), "run `sam build` first (scripts/package-check.sh does)"
    check_flow("sam build && sam deploy uploads:", built, template, aws_env, s3, tmp_path)


def test_a_function_pointed_at_its_crate_folder_is_caught(template, aws_env, s3, tmp_path):
    # The mutation this check exists for: the template deploying a crate's source, as it did when
    # CodeUri was crates/<crate> and only `sam build` produced binaries.
    source = (ROOT / "template.yaml").read_text()
    mutated_text, count = re.subn(r"CodeUri: target/lambda/list/", "CodeUri: crates/list", source)
    assert count == 1
    # Beside the original, so that the other CodeUris resolve as they do for a user.
    mutated = ROOT / f".template-mutation-{tmp_path.name}.yaml"
    mutated.write_text(mutated_text)
    try:
        packaged = sam_package(mutated, aws_env, tmp_path)
    finally:
        mutated.unlink()
    report = inspect(packaged, s3, architecture(template))
    failing = {name for name, (_, _, problems) in report.items() if problems}
    assert failing == {"ListFunction"}, report["ListFunction"][2]
    problems = " ".join(report["ListFunction"][2])
    assert "no bootstrap" in problems and "Cargo.toml" in problems
    with pytest.raises(AssertionError, match="undeployable packages"):
        assert_deployable(report, template)


def test_a_binary_for_the_other_architecture_is_caught(template, s3):
    # The same check, on the other architecture's ELF header: an x86_64 build deployed as arm64
    # (or the reverse) fails at the first invocation with Runtime.InvalidEntrypoint.
    arch = architecture(template)
    other = next(a for a in ELF_MACHINE if a != arch)
    bootstrap = (ROOT / "target/lambda/authorizer/bootstrap").read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = (stat.S_IFREG | 0o755) << 16
        archive.writestr(info, bootstrap)
    assert problems_of_zip(buffer.getvalue(), arch) == []
    assert problems_of_zip(buffer.getvalue(), other) == [
        f"bootstrap is built for {arch}, the template deploys {other}"
    ]


def _package_in(directory, aws_env, extra=()):
    """`sam package` as a user runs it in `directory`: no --template-file, so samconfig.toml (or
    SAM's default, .aws-sam/build/template.yaml when it exists) decides what is packaged."""
    packaged = directory / "packaged.yaml"
    result = subprocess.run(
        [str(pathlib.Path(sys.executable).parent / "sam"), "package", "--s3-bucket", BUCKET,
         "--output-template-file", str(packaged), "--force-upload", *extra],
        cwd=directory, env=aws_env, capture_output=True, text=True,
    )
    assert result.returncode == 0, f"sam package failed:\n{result.stdout}\n{result.stderr}"
    return load(packaged)


def test_a_stale_sam_build_is_never_what_deploy_uploads(template, aws_env, s3, tmp_path):
    # Issue 23's fourth trap: after an earlier `sam build`, `sam deploy` uploaded .aws-sam/build's
    # binaries (of another architecture) instead of the fresh target/lambda. samconfig.toml pins
    # template_file = template.yaml for package and deploy in every environment.
    repo = tmp_path / "repo"
    (repo / ".aws-sam/build").mkdir(parents=True)
    for name in ("template.yaml", "samconfig.toml"):
        (repo / name).write_text((ROOT / name).read_text())
    source = template["Resources"]
    built = yaml.safe_dump({"Resources": {
        name: {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": name, "Handler": "bootstrap", "Runtime": "provided.al2023"}}
        for name in functions(template)
    }})
    (repo / ".aws-sam/build/template.yaml").write_text(built)
    other = next(a for a in ELF_MACHINE if a != architecture(template))
    header = bytearray(64)
    header[0:7] = b"\x7fELF\x02\x01\x01"
    header[18:20] = ELF_MACHINE[other].to_bytes(2, "little")
    for name, function in functions(template).items():
        (repo / ".aws-sam/build" / name).mkdir()
        (repo / ".aws-sam/build" / name / "bootstrap").write_bytes(bytes(header))
        binary = source[name]["Properties"]["CodeUri"].rstrip("/")
        (repo / binary).mkdir(parents=True)
        (repo / binary / "bootstrap").write_bytes((ROOT / binary / "bootstrap").read_bytes())
        (repo / binary / "bootstrap").chmod(0o755)
    report = inspect(_package_in(repo, aws_env), s3, architecture(template))
    assert_deployable(report, template)
    # Without the pin (an empty samconfig), SAM would have packaged the stale build: the trap is real.
    (repo / "empty.toml").write_text("version = 0.1\n")
    unpinned = inspect(_package_in(repo, aws_env, ["--config-file", str(repo / "empty.toml")]), s3, architecture(template))
    assert all(f"built for {other}" in " ".join(problems) for _, _, problems in unpinned.values())
