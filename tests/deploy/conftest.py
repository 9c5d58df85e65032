"""Shared fixtures: the template as written (CloudFormation tags kept) and after the SAM
transform (aws-sam-translator, offline), plus the OpenAPI document and the Rust sources."""

import copy
import os
import pathlib
import re

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]


class Intrinsic(dict):
    """A CloudFormation short-form tag (!Ref X), loaded as its long form ({"Ref": "X"})."""


def _construct(tag):
    # !Ref and !Condition are the two short forms whose long form has no "Fn::".
    name = tag if tag in ("Ref", "Condition") else f"Fn::{tag}"

    def construct(loader, node):
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if tag == "GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {name: value}

    return construct


class CfnLoader(yaml.SafeLoader):
    pass


for _tag in ["Ref", "GetAtt", "Sub", "Join", "If", "Equals", "Not", "And", "Or", "Select",
             "Split", "FindInMap", "ImportValue", "GetAZs", "Base64", "Condition", "Cidr"]:
    CfnLoader.add_constructor(f"!{_tag}", _construct(_tag))


def load_template():
    return yaml.load((ROOT / "template.yaml").read_text(), Loader=CfnLoader)


class _NoManagedPolicies:
    """The translator asks IAM for managed policy ARNs; offline there are none to resolve."""

    def load(self):
        return {}


def sam_transform(template, parameters=None):
    """The template as CloudFormation deploys it: AWS::LanguageExtensions first (SAM CLI's offline
    implementation of it, which resolves parameter-driven `Fn::If`s such as the API's
    `ApiKeyRequired`), then the SAM transform."""
    from samcli.lib.cfn_language_extensions.api import process_template
    from samtranslator.translator.transform import transform

    # The translator resolves pseudo parameters (AWS::Region) from a boto session; offline, the
    # region only has to be named.
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

    template = copy.deepcopy(template)
    if "AWS::LanguageExtensions" in template.get("Transform", []):
        template = process_template(template, parameter_values=dict(parameters or {}))
        template["Transform"] = "AWS::Serverless-2016-10-31"
    # What `sam build`/`sam package` do before the transform: code is uploaded to S3.
    template["Globals"]["Function"]["CodeUri"] = "s3://example-bucket/function.zip"
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://example-bucket/function.zip"
    return transform(template, {"AWS::Region": "us-east-1", **(parameters or {})}, _NoManagedPolicies())


@pytest.fixture(scope="session")
def template():
    return load_template()


@pytest.fixture(scope="session")
def transformed(template):
    return sam_transform(template)


@pytest.fixture(scope="session")
def openapi():
    return yaml.safe_load((ROOT / "openapi.yaml").read_text())


def functions(template):
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def api_routes(template, kind="Api"):
    """{(METHOD, path): function logical id} from the functions' events of one kind: "Api" (the
    REST API) or "HttpApi" (the HTTP API)."""
    routes = {}
    for name, resource in functions(template).items():
        for event in resource["Properties"].get("Events", {}).values():
            if event["Type"] == kind:
                routes[(event["Properties"]["Method"].upper(), event["Properties"]["Path"])] = name
    return routes


def sub_text(value):
    """A `!Sub` as its text: {"Fn::Sub": "x"} is "x". The offline AWS::LanguageExtensions leaves
    a `!Sub` it cannot resolve (one naming a resource or a pseudo parameter) as its bare string,
    so both forms name the same thing here; CloudFormation's own transform keeps the `!Sub`."""
    if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
        return value["Fn::Sub"]
    assert isinstance(value, str), f"{value} is no !Sub this test can read"
    return value


def resolve_parameters(value, parameters):
    """`value` with every {"Ref": <parameter>} replaced by the parameter's value, as CloudFormation
    does at deploy: the transform leaves some (such as Globals' ApplicationLogLevel) as Refs."""
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in parameters:
            return parameters[value["Ref"]]
        return {key: resolve_parameters(item, parameters) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve_parameters(item, parameters) for item in value]
    return value


def function_binary(function):
    """The binary a function deploys: its CodeUri is cargo lambda's output, target/lambda/<binary>/."""
    code_uri = function["Properties"]["CodeUri"]
    match = re.fullmatch(r"target/lambda/([A-Za-z0-9_-]+)/?", code_uri)
    assert match, f"CodeUri {code_uri!r} is not cargo lambda's output directory target/lambda/<binary>/"
    return match.group(1)


def cargo_binaries():
    """{binary name: crate directory} for every [[bin]] of the deployed crates: the workspace's
    default members (Cargo.toml says they are the functions, and only them; operator and dev
    tools such as notes-migrate and notes-dev are members, not default members)."""
    root_manifest = (ROOT / "Cargo.toml").read_text()
    members = re.search(r"default-members\s*=\s*\[(.*?)\]", root_manifest, re.S)
    assert members, "Cargo.toml names the deployed crates in default-members"
    deployed = [ROOT / path / "Cargo.toml" for path in re.findall(r'"([^"]+)"', members.group(1))]
    binaries = {}
    for manifest in deployed:
        for match in re.finditer(r'\[\[bin\]\]\s*name\s*=\s*"([^"]+)"', manifest.read_text()):
            binaries[match.group(1)] = manifest.parent
    return binaries


# The shared crates a function links, by the dependency that brings them: their configuration
# readers (logging, the HTTP edge, the AWS clients) are part of the binary's configuration.
SHARED_CONFIG_CRATES = {
    "notes-http": ["notes-http", "notes-tracing"],
    "notes-tracing": ["notes-tracing"],
    "notes-dynamodb": ["notes-dynamodb"],
}


def env_vars_read(crate_dir):
    """(required, optional) environment variables a function binary reads at init, from its
    sources and those of the shared crates it links (the HTTP edge, logging, the AWS clients)."""
    sources = list(crate_dir.glob("src/**/*.rs"))
    cargo = (crate_dir / "Cargo.toml").read_text()
    shared = set()
    for dependency, crates in SHARED_CONFIG_CRATES.items():
        if re.search(rf"^{dependency}\s*=", cargo, re.M):
            shared.update(crates)
    for crate in sorted(shared):
        sources += list((ROOT / "crates" / crate / "src").glob("**/*.rs"))
    required, optional = set(), set()
    for source in sources:
        text = source.read_text()
        required |= set(re.findall(r'required_env\(\s*"([A-Z0-9_]+)"', text))
        optional |= set(re.findall(r'(?:optional|flag|number)_env\(\s*"([A-Z0-9_]+)"', text))
        # Config read through a lookup closure (the authorizer, logging, the AWS clients):
        # get("NAME"), or get(NAME_VARIABLE) with the constant defined beside it.
        for name in re.findall(r'\bget\(\s*"([A-Z0-9_]+)"\s*\)', text):
            optional.add(name)
        for constant in re.findall(r'\bget\(\s*([A-Z0-9_]+)\s*\)', text):
            for crate_source in sources:
                defined = re.search(rf'const {constant}: &str = "([A-Z0-9_]+)";', crate_source.read_text())
                if defined:
                    optional.add(defined.group(1))
        required |= set(re.findall(r'ok_or_else\(\|\| problem\(\s*"([A-Z0-9_]+)"', text))
    return required, optional - required
