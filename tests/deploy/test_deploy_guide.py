"""docs/deploy.md is true word for word: every command in its `sh` blocks runs as written (make
targets and their variables, the SAM CLI's and the AWS CLI's subcommands and flags, the
samconfig.toml environments, the stack outputs it reads, the scripts it calls), the teardown reads
every handle before the stack and its outputs are gone, and the parameters and costs it names
are the template's. Offline: make -n, `sam ... --help`, `aws ... help`, the templates' text, and
the teardown's blocks run as written by bash against moto (a stand-in stack with the real
stack's retained tables, pool, buckets and output names), `sam delete` included."""

import functools
import json
import os
import re
import shlex
import shutil
import subprocess
import tomllib

import pytest
import yaml

from conftest import ROOT, load_template

GUIDE = ROOT / "docs/deploy.md"
ACCOUNT_STACK = "apigateway-cloudwatch-role"
TOOLS_PATH = f"{ROOT / '.venv/bin'}{os.pathsep}{os.environ.get('PATH', '')}"


def sections(text):
    """{"## heading": body} of the guide's second-level sections."""
    parts = re.split(r"^(## .+)$", text, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def strip_comment(line):
    """The line without its trailing `# comment` (a # after a blank, outside quotes)."""
    quote = None
    for i, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip()
    return line


def split_commands(line):
    """The simple commands of one shell line: split on && || ; | { } outside quotes and
    substitutions, and the commands inside every $( ... ), recursively (before the command
    that uses what they print)."""
    found, current, quote, depth, i = [], "", None, 0, 0
    while i < len(line):
        char = line[i]
        if quote == "'":
            quote = None if char == "'" else quote
        elif line.startswith("$(", i):
            # The substitution's own commands; in the outer command it stays as written.
            start, depth, j = i + 2, 1, i + 2
            inner_quote = None
            while j < len(line) and depth:
                if inner_quote:
                    inner_quote = None if line[j] == inner_quote else inner_quote
                elif line[j] == "'":
                    inner_quote = "'"
                elif line[j] == "(":
                    depth += 1
                elif line[j] == ")":
                    depth -= 1
                j += 1
            found.extend(split_commands(line[start:j - 1]))
            # In the outer command the substitution is one word, whatever it prints.
            current += "__SUBSTITUTION__"
            i = j
            continue
        elif char == "'" and quote is None:
            quote = "'"
        elif char == '"':
            quote = None if quote == '"' else '"'
        elif quote is None and (line.startswith("&&", i) or line.startswith("||", i)):
            found.append(current)
            current, i = "", i + 2
            continue
        elif quote is None and char in ";|{}":
            found.append(current)
            current, i = "", i + 1
            continue
        current += char
        i += 1
    found.append(current)
    return [command.strip() for command in found if command.strip()]


def words(command):
    """The command's words, its leading VAR=value assignments dropped; `out() ` (a function
    definition's head) too."""
    tokens = shlex.split(command)
    if tokens and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=\(.*", tokens[0]):
        return []  # an array assignment, H=(-H ... ): words, not a command
    while tokens and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", tokens[0]):
        tokens.pop(0)
    if tokens and tokens[0].endswith("()"):
        tokens.pop(0)
    return tokens


def guide_commands(text=None):
    """[(section, command line, simple command's words)] of every `sh` block, in order."""
    text = GUIDE.read_text() if text is None else text
    commands = []
    for section, body in sections(text).items():
        for block in re.findall(r"^```sh\n(.*?)^```", body, flags=re.M | re.S):
            for line in block.replace("\\\n", " ").splitlines():
                line = strip_comment(line)
                for command in split_commands(line):
                    tokens = words(command)
                    if tokens:
                        commands.append((section, line, tokens))
    return commands


def samconfig():
    return tomllib.loads((ROOT / "samconfig.toml").read_text())


def stack_names():
    """{samconfig environment: the stack it deploys}."""
    return {env: config["global"]["parameters"]["stack_name"] for env, config in samconfig().items() if env != "version"}


def outputs(path):
    return set(yaml.safe_load(re.sub(r"!\w+", "", (ROOT / path).read_text()))["Outputs"])


def flags(tokens):
    return [token.split("=", 1)[0] for token in tokens if token.startswith("--")]


@functools.cache
def help_text(*command):
    """A command's help as text. The AWS CLI renders its help pages with groff (or mandoc) and
    pages them: cat, so nothing waits for a terminal."""
    if command[0] == "aws":
        assert shutil.which("groff") or shutil.which("mandoc"), "`aws ... help` needs groff or mandoc (apt-get install groff-base)"
    result = subprocess.run([*command], capture_output=True, text=True, cwd=ROOT, stdin=subprocess.DEVNULL,
                            env={**os.environ, "PATH": TOOLS_PATH, "SAM_CLI_TELEMETRY": "0", "AWS_PAGER": "",
                                 "MANPAGER": "cat", "PAGER": "cat"})
    return result.returncode, result.stdout + result.stderr


def inline_commands(text=None):
    """[words] of every inline `make ...`, `sam ...` or `aws ...` code span outside the blocks
    (tables and prose name commands too: `sam deploy --config-env dev`)."""
    text = GUIDE.read_text() if text is None else text
    prose = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    found = []
    for span in re.findall(r"`([^`\n]+)`", prose):
        if re.match(r"(make|sam|aws) ", span):
            for command in split_commands(span):
                tokens = words(command)
                if tokens and len(tokens) >= {"make": 2, "sam": 2, "aws": 3}.get(tokens[0], 1):
                    found.append(tokens)
    return found


COMMANDS = guide_commands()
INLINE = inline_commands()


def commands_of(tool):
    shown = [tokens for _, _, tokens in COMMANDS] + INLINE
    return sorted({tuple(tokens) for tokens in shown if tokens[0] == tool})


def test_the_guide_shows_commands_of_every_kind():
    tools = {tokens[0] for _, _, tokens in COMMANDS}
    assert {"make", "sam", "aws", "scripts/check-bootstraps.sh"} <= tools, tools


def check_make(tokens):
    """`make -n` with the shown target and variables: the target exists and the variables reach
    the command it runs (a CONFIG_ENV or STACK of samconfig.toml, passed on)."""
    result = subprocess.run(["make", "-n", *tokens[1:]], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, f"{' '.join(tokens)}: {result.stderr}"
    variables = dict(token.split("=", 1) for token in tokens[1:] if "=" in token)
    if "CONFIG_ENV" in variables:
        assert variables["CONFIG_ENV"] in stack_names(), f"{variables['CONFIG_ENV']} is no samconfig.toml environment"
        assert f"--config-env {variables['CONFIG_ENV']}" in result.stdout, result.stdout
    if "STACK" in variables:
        assert variables["STACK"] in stack_names().values(), f"{variables['STACK']} is no stack of samconfig.toml"
        assert f"--stack '{variables['STACK']}'" in result.stdout, result.stdout


def check_sam(tokens):
    subcommand = tokens[1]
    code, text = help_text("sam", subcommand, "--help")
    assert code == 0, f"sam {subcommand}: {text}"
    for flag in flags(tokens):
        assert re.search(rf"{re.escape(flag)}\b", text), f"sam {subcommand} has no {flag}"
    if "--config-env" in tokens:
        env = tokens[tokens.index("--config-env") + 1]
        assert env in stack_names(), f"{env} is no samconfig.toml environment"
    if "--stack-name" in tokens:
        stack = tokens[tokens.index("--stack-name") + 1]
        assert stack.startswith("$") or stack in stack_names().values(), stack


def check_aws(tokens):
    # `aws cloudformation wait stack-delete-complete`: the waiter is the command.
    command = tokens[1:4] if tokens[2] == "wait" else tokens[1:3]
    code, text = help_text("aws", *command, "help")
    service, operation = tokens[1], " ".join(command[1:])
    assert code == 0, f"aws {service} {operation}: {text[-300:]}"
    for flag in flags(tokens):
        assert re.search(rf"{re.escape(flag)}\b", text), f"aws {service} {operation} has no {flag}"


@pytest.mark.parametrize("tokens", commands_of("make"), ids=" ".join)
def test_each_make_command_runs_with_its_variables(tokens):
    check_make(tokens)


@pytest.mark.parametrize("tokens", commands_of("sam"), ids=" ".join)
def test_each_sam_command_and_its_flags_exist(tokens):
    check_sam(tokens)


@pytest.mark.parametrize("tokens", commands_of("aws"), ids=lambda tokens: " ".join(tokens[:3]))
def test_each_aws_command_and_its_flags_exist(tokens):
    check_aws(tokens)


@pytest.mark.parametrize(
    "check, command",
    [
        (check_make, "make deplyo"),
        (check_make, "make deploy CONFIG_ENV=staging"),
        (check_make, "make publish-web STACK=serverless-notes-rust-test"),
        (check_sam, "sam delete --stack-nme x"),
        (check_sam, "sam deploy --config-env staging"),
        (check_aws, "aws cloudformation describe-stackz --stack-name x"),
        (check_aws, "aws s3 rm s3://x --recursiv"),
    ],
)
def test_the_command_checks_refuse_a_wrong_command(check, command):
    with pytest.raises(AssertionError):
        check(shlex.split(command))


def described_outputs():
    """[(stack, output)] of every `describe-stacks ... OutputKey=='X'` and every `out X`."""
    found = []
    for _, _, tokens in COMMANDS:
        if tokens[:3] == ["aws", "cloudformation", "describe-stacks"]:
            stack = tokens[tokens.index("--stack-name") + 1]
            query = tokens[tokens.index("--query") + 1]
            found += [(stack, key) for key in re.findall(r"OutputKey=='([A-Za-z0-9$]+)'", query)]
        if tokens[0] == "out":
            assert len(tokens) == 2, tokens
            found.append(("$STACK", tokens[1]))
    return found


def test_every_output_the_guide_reads_exists():
    found = described_outputs()
    assert ("$STACK", "$1") in found, "the guide's out() reads the stack's outputs"
    assert (ACCOUNT_STACK, "CloudWatchRoleArn") in found
    for stack, key in found:
        if key == "$1":
            continue
        template = "account.yaml" if stack == ACCOUNT_STACK else "template.yaml"
        assert key in outputs(template), f"{template} has no output {key}"


def test_every_script_shown_exists_and_takes_its_arguments():
    scripts = [tokens for _, _, tokens in COMMANDS if tokens[0].startswith("scripts/")]
    assert scripts
    for tokens in scripts:
        path = ROOT / tokens[0]
        assert path.is_file() and os.access(path, os.X_OK), tokens[0]
        if path.suffix == ".py":
            code, text = help_text(str(path), "--help")
            assert code == 0, text
            for flag in flags(tokens):
                assert flag in text, f"{tokens[0]} has no {flag}"
        else:
            assert subprocess.run(["bash", "-n", str(path)]).returncode == 0
            if path.name == "deploy.sh":
                # Its arguments go to sam deploy.
                assert 'sam deploy "$@"' in path.read_text()
                check_sam(["sam", "deploy", *tokens[1:]])
            else:
                # check-bootstraps.sh takes no argument (check every bootstrap), `config` or `arch`.
                assert tokens[1:] in ([], ["config"], ["arch"]), tokens


def test_the_account_step_is_what_make_deploy_runs():
    deploy_sh = (ROOT / "scripts/deploy.sh").read_text()
    shown = [line for _, line, tokens in COMMANDS if tokens[:3] == ["aws", "cloudformation", "deploy"]]
    assert shown, "the guide shows the account step"
    for line in shown:
        assert f"--stack-name {ACCOUNT_STACK}" in line and "--template-file account.yaml" in line
        assert "--capabilities CAPABILITY_IAM" in line
    assert f"ACCOUNT_STACK:-{ACCOUNT_STACK}" in deploy_sh and "--template-file account.yaml" in deploy_sh


def teardown_commands():
    return [(line, tokens) for section, line, tokens in COMMANDS if section == "## Teardown"]


def position(commands, predicate, what):
    for i, (line, tokens) in enumerate(commands):
        if predicate(line, tokens):
            return i
    raise AssertionError(f"the teardown has no {what}")


def variable_of(commands, output):
    """The shell variable the teardown reads `output` into: NAME=$(out Output)."""
    for line, _ in commands:
        match = re.search(rf"\b([A-Z_]+)=\$\(out {output}\)", line)
        if match:
            return match.group(1)
    raise AssertionError(f"the teardown reads no {output} into a variable")


def ref_outputs(template):
    """{resource: the output naming it (Value: !Ref resource)}."""
    return {spec["Value"]["Ref"]: name for name, spec in template["Outputs"].items()
            if isinstance(spec["Value"], dict) and "Ref" in spec["Value"]}


def test_the_teardown_reads_every_handle_before_the_stack_is_deleted():
    template = load_template()
    named = ref_outputs(template)
    commands = teardown_commands()
    delete_stack = position(commands, lambda line, tokens: tokens[:2] == ["sam", "delete"], "sam delete")
    read = lambda output: position(commands, lambda line, _: f"$(out {output})" in line, f"$(out {output})")

    retained = [name for name, resource in template["Resources"].items()
                if resource.get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate")]
    assert retained, "the template retains user data"
    removers = {"AWS::DynamoDB::Table": ("dynamodb", "delete-table"), "AWS::Cognito::UserPool": ("cognito-idp", "delete-user-pool")}
    for resource in retained:
        assert resource in named, f"{resource} is retained but no output names it: the teardown could not find it"
        output = named[resource]
        variable = variable_of(commands, output)
        assert read(output) < delete_stack, f"{output} is read after the stack is deleted"
        remover = removers[template["Resources"][resource]["Type"]]
        removed = position(commands, lambda line, tokens: tuple(tokens[1:3]) == remover and f'"${variable}"' in line,
                           f"{' '.join(remover)} of ${variable}")
        assert removed > delete_stack, f"{resource} is deleted before the stack"

    # Buckets the stack deletes must be empty first, or the deletion fails.
    buckets = [name for name, resource in template["Resources"].items() if resource["Type"] == "AWS::S3::Bucket"]
    assert len(buckets) == 2
    for bucket in buckets:
        output = named[bucket]
        variable = variable_of(commands, output)
        assert read(output) < delete_stack
        emptied = position(commands, lambda line, tokens: tokens[:3] == ["aws", "s3", "rm"] and f"s3://${variable}" in line
                           and "--recursive" in tokens, f"aws s3 rm of ${variable}")
        assert emptied < delete_stack, f"{bucket} is emptied after the stack's deletion began"

    # Each stage of samconfig.toml is torn down the same way: the guide names each one's stack.
    teardown = sections(GUIDE.read_text())["## Teardown"]
    for env, stack in stack_names().items():
        assert stack in teardown, f"the teardown does not say how to remove {env}'s stack {stack}"


def test_the_account_stack_is_removed_last_with_its_handle_read_first():
    """The role and setting outlive their stack (Retain): the role's ARN is read from the stack's
    output before the stack goes, and the role is deleted after it, once no stack logs."""
    account = yaml.safe_load(re.sub(r"!\w+", "", (ROOT / "account.yaml").read_text()))
    assert {resource["DeletionPolicy"] for resource in account["Resources"].values()} == {"Retain"}
    commands = teardown_commands()
    last_stack = max(i for i, (_, tokens) in enumerate(commands) if tokens[:2] == ["sam", "delete"])
    read = position(commands, lambda line, tokens: tokens[:3] == ["aws", "cloudformation", "describe-stacks"]
                    and ACCOUNT_STACK in tokens and "CloudWatchRoleArn" in line, "read of CloudWatchRoleArn")
    deleted = position(commands, lambda line, tokens: tokens[:3] == ["aws", "cloudformation", "delete-stack"]
                       and ACCOUNT_STACK in tokens, f"delete-stack of {ACCOUNT_STACK}")
    detached = position(commands, lambda line, tokens: tokens[:3] == ["aws", "iam", "detach-role-policy"], "detach-role-policy")
    role = position(commands, lambda line, tokens: tokens[:3] == ["aws", "iam", "delete-role"], "delete-role")
    assert last_stack < read < deleted < detached < role
    policy = account["Resources"]["ApiGatewayCloudWatchRole"]["Properties"]["ManagedPolicyArns"][0]
    assert policy.split(":policy/")[1] in commands[detached][0], "the role's one managed policy is detached"


def test_every_parameter_is_documented_with_its_default():
    """Each template parameter is named in "What the stack is", and where the guide gives its
    default in parentheses, it is the template's."""
    template = load_template()
    what = sections(GUIDE.read_text())["## What the stack is"]
    for name, spec in template["Parameters"].items():
        assert f"`{name}`" in what, f"the guide does not name the parameter {name}"
        for shown in re.findall(rf"`{name}` \((`[^`]+`|[0-9][0-9,]*)", what):
            value = shown.strip("`").replace(",", "")
            assert value == str(spec.get("Default")), f"{name}: the guide says {value}, the template {spec.get('Default')}"


def test_the_costs_name_the_parameters_that_bound_them():
    template = load_template()
    costs = sections(GUIDE.read_text())["## What a deployed stack lets others spend"]
    for name in ("DailySpeechCharactersPerUser", "DictateReservedConcurrency", "ThrottleRateLimit", "ThrottleBurstLimit",
                 "HostWebClient", "LogRetentionDays", "LogLevel", "MaxNotesPerUser", "MaxPostsPerUser"):
        assert re.search(rf"`{name}[`=]", costs), f"the costs do not name {name}"
    # Template properties the costs section may name besides parameters and resources.
    properties = {"AllowAdminCreateUserOnly", "ReservedConcurrentExecutions", "UserPoolTier"}
    for name in set(re.findall(r"`([A-Z][a-z]+[A-Z][A-Za-z]+)`", costs)) - properties:
        assert name in template["Parameters"] or name in template["Resources"], f"`{name}` is no parameter or resource"
    assert "as of 2026" in costs and "pricing" in costs, "the prices carry their date and source"


def test_the_parsers_see_what_a_shell_sees():
    """The checks above are only as good as the parsing: a comment, a substitution and a
    continuation line."""
    text = "## Teardown\n\n```sh\nX=$(out Notes) && aws s3 rm \"s3://$X\" \\\n  --recursive   # empty it\nmake deploy CONFIG_ENV=dev\n```\n"
    found = [tokens for _, _, tokens in guide_commands(text)]
    assert found == [["out", "Notes"], ["aws", "s3", "rm", "s3://$X", "--recursive"], ["make", "deploy", "CONFIG_ENV=dev"]]
    assert split_commands("out() { aws x --query \"a=='$1'\" --output text; }") == ["out()", "aws x --query \"a=='$1'\" --output text"]


def slug(heading):
    """A heading's anchor as GitHub makes it: lower case, punctuation dropped, blanks to -."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_link_of_the_guide_leads_somewhere():
    text = GUIDE.read_text()
    anchors = {slug(heading) for heading in re.findall(r"^#+ (.+)$", text, flags=re.M)}
    links = re.findall(r"\]\(([^)\s]+)\)", re.sub(r"^```.*?^```", "", text, flags=re.M | re.S))
    assert links
    for link in links:
        if re.match(r"https?://", link):
            continue
        path, _, anchor = link.partition("#")
        if path:
            target = (GUIDE.parent / path).resolve()
            assert target.exists(), f"{link}: no {target.relative_to(ROOT.resolve()) if ROOT.resolve() in target.parents else target}"
            if anchor and target.suffix == ".md":
                assert anchor in {slug(h) for h in re.findall(r"^#+ (.+)$", target.read_text(), flags=re.M)}, link
        else:
            assert anchor in anchors, f"{link}: no such heading in docs/deploy.md"


def test_the_counts_the_guide_gives_are_the_templates():
    """"the six functions", "the eight log groups": a function added to the template makes the
    guide's words wrong until they are changed."""
    numbers = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
               "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}
    template = load_template()
    count = lambda kind: sum(resource["Type"] == kind for resource in template["Resources"].values())
    text = re.sub(r"\s+", " ", GUIDE.read_text())
    claims = [("functions", "AWS::Serverless::Function"), ("log groups", "AWS::Logs::LogGroup")]
    for noun, kind in claims:
        said = re.findall(rf"\bthe (\w+) {noun}\b", text)
        said = [word for word in said if word in numbers]
        assert said, f"the guide gives no count of {noun}"
        for word in said:
            assert numbers[word] == count(kind), f"the guide says {word} {noun}, the template has {count(kind)}"


# The teardown, run as written against moto's CloudFormation, DynamoDB, Cognito and S3: a
# stand-in stack with the real stack's retained resources, buckets and output names.
from test_publish_web import REGION, aws_env, client, moto_endpoint  # noqa: E402,F401 (fixtures)


@pytest.fixture(scope="module", autouse=True)
def moto_knows_aws_managed_policies():
    """moto's IAM knows AWS's managed policies (AmazonAPIGatewayPushToCloudWatchLogs) only when
    told so; autouse, so it is set before this module's moto server starts."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        yield


def sh_blocks(section):
    return re.findall(r"^```sh\n(.*?)^```", sections(GUIDE.read_text())[section], flags=re.M | re.S)


@pytest.mark.parametrize("hosts_web_client", [True, False], ids=["HostWebClient=true", "HostWebClient=false"])
def test_the_teardown_runs_as_written(aws_env, moto_endpoint, tmp_path, hosts_web_client):
    stack = stack_names()["default"]
    pool = client("cognito-idp", moto_endpoint).create_user_pool(PoolName=f"{stack}-users")["UserPool"]["Id"]
    table = {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "Properties": {
        "BillingMode": "PAY_PER_REQUEST", "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}]}}
    bucket = {"Type": "AWS::S3::Bucket"}
    standin = {
        "Resources": {"NotesTable": table, "PostsTable": table, "UsageTable": table, "AudioBucket": bucket, "WebBucket": bucket},
        "Outputs": {
            **{f"{name}Name": {"Value": {"Ref": name}} for name in ("NotesTable", "PostsTable", "UsageTable")},
            "AudioBucketName": {"Value": {"Ref": "AudioBucket"}}, "WebBucketName": {"Value": {"Ref": "WebBucket"}},
            "UserPoolId": {"Value": pool},
        },
    }
    if not hosts_web_client:
        # No site bucket and no WebBucketName output: the teardown must not stumble on it.
        del standin["Resources"]["WebBucket"], standin["Outputs"]["WebBucketName"]
    # The stand-in names only outputs the real template has.
    assert set(standin["Outputs"]) <= outputs("template.yaml")
    cloudformation, s3, dynamodb = (client(name, moto_endpoint) for name in ("cloudformation", "s3", "dynamodb"))
    cloudformation.create_stack(StackName=stack, TemplateBody=json.dumps(standin))
    resources = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in cloudformation.describe_stack_resources(StackName=stack)["StackResources"]}
    buckets = [name for name in ("AudioBucket", "WebBucket") if name in resources]
    for name in buckets:
        s3.put_object(Bucket=resources[name], Key="user/note/a.mp3", Body=b"x")

    blocks = sh_blocks("## Teardown")
    run = lambda script: subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, env=aws_env,
                                        capture_output=True, text=True, timeout=300)
    # The stack's deletion, then the log groups left: as a user types them, in one shell.
    result = run(blocks[0] + blocks[1])
    assert result.returncode == 0, result.stdout + result.stderr
    assert not [s for s in cloudformation.list_stacks()["StackSummaries"] if s["StackName"] == stack and s["StackStatus"] != "DELETE_COMPLETE"]
    left = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert not {resources[name] for name in buckets} & left, "the buckets were emptied and deleted"
    tables = set(dynamodb.list_tables()["TableNames"])
    assert {resources["NotesTable"], resources["PostsTable"], resources["UsageTable"]} <= tables, "the tables are retained"
    handles = (tmp_path / "retained-resources.txt").read_text().split()
    assert handles == [stack, resources["NotesTable"], resources["PostsTable"], resources["UsageTable"], pool]

    # Dropping the data from a new shell, with the handles read back as the guide says.
    teardown = sections(GUIDE.read_text())["## Teardown"]
    (read_back,) = re.findall(r"`(read -r [^`]+)`", teardown)
    result = run(read_back + "\n" + blocks[2])
    assert result.returncode == 0, result.stdout + result.stderr
    assert not {resources["NotesTable"], resources["PostsTable"], resources["UsageTable"]} & set(dynamodb.list_tables()["TableNames"])
    assert pool not in {p["Id"] for p in client("cognito-idp", moto_endpoint).list_user_pools(MaxResults=60)["UserPools"]}


def test_the_account_stack_is_removed_as_written(aws_env, moto_endpoint, tmp_path):
    """The last teardown block against moto: account.yaml's role, as its stack creates it
    (moto's CloudFormation has no AWS::ApiGateway::Account, the setting: left out), read, the
    stack deleted and the retained role detached and deleted."""
    from conftest import CfnLoader

    account = yaml.load((ROOT / "account.yaml").read_text(), Loader=CfnLoader)
    del account["Resources"]["ApiGatewayAccount"]
    cloudformation, iam = client("cloudformation", moto_endpoint), client("iam", moto_endpoint)
    cloudformation.create_stack(StackName=ACCOUNT_STACK, TemplateBody=json.dumps(account), Capabilities=["CAPABILITY_IAM"])
    (role,) = [r["PhysicalResourceId"] for r in cloudformation.describe_stack_resources(StackName=ACCOUNT_STACK)["StackResources"]]
    # What CloudFormation attaches on AWS (moto's role resource leaves ManagedPolicyArns out).
    (policy,) = account["Resources"]["ApiGatewayCloudWatchRole"]["Properties"]["ManagedPolicyArns"]
    iam.attach_role_policy(RoleName=role, PolicyArn=policy["Fn::Sub"].replace("${AWS::Partition}", "aws"))

    result = subprocess.run(["bash", "-euo", "pipefail", "-c", sh_blocks("## Teardown")[3]], cwd=tmp_path, env=aws_env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert role not in {r["RoleName"] for r in iam.list_roles()["Roles"]}
    assert not [s for s in cloudformation.list_stacks()["StackSummaries"]
                if s["StackName"] == ACCOUNT_STACK and s["StackStatus"] != "DELETE_COMPLETE"]
