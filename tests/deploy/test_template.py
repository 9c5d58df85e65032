"""The security-relevant shape of template.yaml, checked offline after the SAM transform: what a
review of the deployed stack would look for."""

import re

from conftest import ROOT, api_routes, cargo_binaries, env_vars_read, function_binary, functions, sam_transform

# The DynamoDB actions each function's code performs (see crates/notes-dynamodb), per table: its
# policy must grant exactly these, on these tables only.
IDEMPOTENCY_ACTIONS = {"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
EXPECTED_ACTIONS = {
    "AuthorizerFunction": {},
    "ListFunction": {"NotesTable": {"dynamodb:Query", "dynamodb:GetItem"}},
    "CreateUpdateFunction": {"NotesTable": {"dynamodb:UpdateItem"}, "IdempotencyTable": IDEMPOTENCY_ACTIONS},
    "DeleteFunction": {"NotesTable": {"dynamodb:DeleteItem"}},
    "PostFunction": {
        "PostsTable": {"dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Query"},
        "IdempotencyTable": IDEMPOTENCY_ACTIONS,
    },
}
# Tables whose loss would lose what users wrote.
USER_DATA_TABLES = {"NotesTable", "PostsTable"}
# Managed policies SAM attaches by itself: logs and X-Ray writes, nothing else.
ALLOWED_MANAGED = ("AWSLambdaBasicExecutionRole", "AWSXrayWriteOnlyAccess")
# Variables Lambda provides; the template must not set them.
LAMBDA_PROVIDED = {"AWS_REGION"}
# Overrides for local runs and tests: a deployed authorizer must never trust another issuer.
LOCAL_ONLY = {"TOKEN_ISSUER", "JWKS_URL", "AWS_ENDPOINT_URL_DYNAMODB"}


def resources_of(transformed, kind):
    return {n: r for n, r in transformed["Resources"].items() if r["Type"] == kind}


def rest_api_body(transformed):
    (api,) = resources_of(transformed, "AWS::ApiGateway::RestApi").values()
    return api["Properties"]["Body"]


def test_every_route_needs_the_authorizer_and_an_api_key(transformed, template):
    body = rest_api_body(transformed)
    methods = 0
    for path, operations in body["paths"].items():
        for method, operation in operations.items():
            if method == "options":
                assert "security" not in operation or operation["security"] == [], f"preflight {path} must stay open"
                continue
            methods += 1
            names = {name for entry in operation.get("security", []) for name in entry}
            assert "TokenAuthorizer" in names, f"{method.upper()} {path} lacks the authorizer"
            assert "api_key" in names, f"{method.upper()} {path} does not require an API key"
    assert methods == len(api_routes(template)) == 7


def test_the_api_key_requirement_can_be_turned_off_and_throttling_stays(template, transformed):
    # ApiKeyRequired=false serves clients that send no x-api-key (the labs' web client): the
    # authorizer still guards every method, and the stage throttles every caller.
    assert template["Parameters"]["ApiKeyRequired"]["Default"] == "true"
    open_api = sam_transform(template, {"ApiKeyRequired": "false"})
    body = rest_api_body(open_api)
    methods = 0
    for path, operations in body["paths"].items():
        for method, operation in operations.items():
            if method == "options":
                continue
            methods += 1
            names = {name for entry in operation.get("security", []) for name in entry}
            assert "TokenAuthorizer" in names, f"{method.upper()} {path} lacks the authorizer"
            assert "api_key" not in names, f"{method.upper()} {path} still requires an API key"
    assert methods == len(api_routes(template))
    for output in (transformed, sam_transform(template, {"ApiKeyRequired": "false", "ThrottleRateLimit": 7, "ThrottleBurstLimit": 9})):
        (stage,) = resources_of(output, "AWS::ApiGateway::Stage").values()
        (setting,) = stage["Properties"]["MethodSettings"]
        assert setting["ThrottlingRateLimit"] and setting["ThrottlingBurstLimit"], "stage throttling"
    (stage,) = resources_of(sam_transform(template, {"ThrottleRateLimit": 7, "ThrottleBurstLimit": 9}), "AWS::ApiGateway::Stage").values()
    assert stage["Properties"]["MethodSettings"][0]["ThrottlingRateLimit"] in (7, "7")


def test_the_authorizer_is_a_cached_token_authorizer_on_the_authorization_header(transformed):
    definitions = rest_api_body(transformed)["securityDefinitions"]
    authorizer = definitions["TokenAuthorizer"]
    assert authorizer["in"] == "header" and authorizer["name"] == "Authorization"
    settings = authorizer["x-amazon-apigateway-authorizer"]
    assert settings["type"] == "token"
    assert settings["authorizerResultTtlInSeconds"] == 300, "caching on (the policy is stage-wide)"
    assert "AuthorizerFunction" in str(settings["authorizerUri"])
    assert definitions["api_key"]["name"] == "x-api-key"


def test_usage_plan_numbers(transformed, template):
    # The transform resolves the parameters: defaults here, the deployer's values at deploy.
    (plan,) = resources_of(transformed, "AWS::ApiGateway::UsagePlan").values()
    props = plan["Properties"]
    assert props["Throttle"] == {"RateLimit": 100, "BurstLimit": 200}
    assert props["Quota"] == {"Limit": 5000, "Period": "DAY"}
    custom = sam_transform(template, {"ThrottleRateLimit": 7, "ThrottleBurstLimit": 9, "QuotaPerDay": 11})
    (plan,) = resources_of(custom, "AWS::ApiGateway::UsagePlan").values()
    assert plan["Properties"]["Throttle"] == {"RateLimit": 7, "BurstLimit": 9}, "parameters reach the plan"
    assert plan["Properties"]["Quota"]["Limit"] == 11
    assert resources_of(transformed, "AWS::ApiGateway::ApiKey"), "an API key is created"
    assert resources_of(transformed, "AWS::ApiGateway::UsagePlanKey"), "and attached to the plan"


def _role_of(transformed, function):
    role = transformed["Resources"][function]["Properties"]["Role"]
    return transformed["Resources"][role["Fn::GetAtt"][0]]["Properties"]


def _table_of(resource):
    """The logical id of the table a policy resource names (`!GetAtt T.Arn`, `!Sub "${T.Arn}/index/.."`)."""
    text = str(resource)
    found = [table for table in ("NotesTable", "PostsTable", "IdempotencyTable") if table in text]
    assert len(found) == 1, f"{text} names no single table of ours"
    return found[0]


def test_each_function_may_only_do_what_it_does_on_its_own_tables(transformed):
    for function, expected in EXPECTED_ACTIONS.items():
        role = _role_of(transformed, function)
        for arn in role.get("ManagedPolicyArns", []):
            text = str(arn)
            assert any(allowed in text for allowed in ALLOWED_MANAGED), f"{function}: managed policy {text}"
            assert "FullAccess" not in text
        granted = {}
        for policy in role.get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                assert statement["Effect"] == "Allow"
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                for action in actions:
                    assert "*" not in action, f"{function}: wildcard action {action}"
                resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                for resource in resources:
                    assert str(resource) != "*", f"{function}: Resource *"
                    granted.setdefault(_table_of(resource), set()).update(actions)
        assert granted == expected, f"{function}: {granted} != {expected}"


def test_environment_matches_what_each_binary_reads(template):
    binaries = cargo_binaries()
    for name, function in functions(template).items():
        binary = function_binary(function)
        required, optional = env_vars_read(binaries[binary])
        variables = set(function["Properties"].get("Environment", {}).get("Variables", {}))
        assert required - LAMBDA_PROVIDED <= variables, f"{name}: {sorted(required - variables)} not set"
        assert variables <= required | optional, f"{name} sets {sorted(variables - required - optional)}, which {binary} never reads"
        assert not variables & LOCAL_ONLY, f"{name} sets local-only {sorted(variables & LOCAL_ONLY)}"
        assert not variables & LAMBDA_PROVIDED


def test_functions_are_built_and_run_as_designed(template):
    binaries = cargo_binaries()
    globals_ = template["Globals"]["Function"]
    assert globals_["Runtime"] == "provided.al2023" and globals_["Handler"] == "bootstrap"
    assert globals_["Tracing"] == "Active"
    assert globals_["LoggingConfig"]["LogFormat"] == "JSON"
    used = set()
    makefile = (ROOT / "Makefile").read_text()
    for name, function in functions(template).items():
        # CodeUri is what `cargo lambda build --release` writes, so `sam deploy` uploads a binary;
        # `sam build` runs the root Makefile's build-<LogicalId>, which copies that same binary.
        binary = function_binary(function)
        assert binary in binaries, f"{name}: no such binary"
        used.add(binary)
        assert function["Metadata"] == {"BuildMethod": "makefile", "ContextPath": ".", "WorkingDirectory": "."}, name
        target = re.search(rf"^build-{name}:(.*)$", makefile, re.MULTILINE)
        assert target, f"{name}: the Makefile has no build-{name} target for sam build"
        assert target.group(1).strip() == f"; $(call sam_artifact,{binary})", f"build-{name} copies another binary"
        props = function["Properties"]
        timeout = props.get("Timeout", globals_["Timeout"])
        assert 3 <= timeout <= 29, f"{name}: timeout {timeout} s (the SDK needs 6 s, API Gateway gives 29)"
        assert props.get("LoggingConfig", globals_["LoggingConfig"])["LogFormat"] == "JSON"
        assert "LogGroup" in props.get("LoggingConfig", {}), f"{name}: log group with retention"
    assert used == set(binaries), "every function binary is deployed, and nothing else"
    assert 'cp target/lambda/$(1)/bootstrap "$(ARTIFACTS_DIR)/bootstrap"' in makefile


def test_functions_read_tls_roots_from_one_bundle(template):
    # rustls-native-certs reads the whole certificate directory unless SSL_CERT_FILE names a file
    # (crates/notes-dynamodb/src/client.rs); this is provided.al2023's bundle.
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["SSL_CERT_FILE"] == "/etc/pki/tls/certs/ca-bundle.crt"


def test_tables_keep_user_data(template):
    tables = {n for n, r in template["Resources"].items() if r["Type"] == "AWS::DynamoDB::Table"}
    assert tables == USER_DATA_TABLES | {"IdempotencyTable"}
    for name, resource in template["Resources"].items():
        if name in USER_DATA_TABLES or resource["Type"] == "AWS::Cognito::UserPool":
            assert resource.get("DeletionPolicy") == "Retain", name
            assert resource.get("UpdateReplacePolicy") == "Retain", name
        if resource["Type"] == "AWS::DynamoDB::Table":
            props = resource["Properties"]
            assert props["BillingMode"] == "PAY_PER_REQUEST", name
            assert props["SSESpecification"]["SSEEnabled"] is True, name
        if name in USER_DATA_TABLES:
            assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, name


def test_idempotency_records_expire_by_ttl(template):
    props = template["Resources"]["IdempotencyTable"]["Properties"]
    assert props["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    # The attribute crates/notes-dynamodb writes as epoch seconds (Powertools' name).
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    source = (ROOT / "crates/notes-dynamodb/src/idempotency.rs").read_text()
    assert 'const EXPIRATION: &str = "expiration";' in source


def test_cognito_supports_the_tutorial_cli_flow(template):
    pool = template["Resources"]["UserPool"]["Properties"]
    assert pool["AliasAttributes"] == ["email"]
    assert pool["AutoVerifiedAttributes"] == ["email"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is False, "self sign-up"
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] >= 8
    client = template["Resources"]["UserPoolClient"]["Properties"]
    assert client["GenerateSecret"] is False
    assert {"ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH"} <= set(client["ExplicitAuthFlows"])


def test_cors_on_success_errors_and_preflight(transformed, template):
    api = template["Resources"]["NotesApi"]["Properties"]
    origin = {"Fn::Sub": "'${AllowedOrigin}'"}
    assert api["Cors"]["AllowOrigin"] == origin
    for response in ("DEFAULT_4XX", "DEFAULT_5XX"):
        assert api["GatewayResponses"][response]["ResponseParameters"]["Headers"]["Access-Control-Allow-Origin"] == origin
    body = rest_api_body(transformed)
    for path in body["paths"]:
        assert "options" in body["paths"][path], f"no preflight for {path}"
    # A browser script can read ETag (versions), Location, Link (the next page), Retry-After and
    # Idempotent-Replayed only if they are exposed: on API Gateway's own errors as on ours.
    exposed = "'ETag, Location, Link, Retry-After, Idempotent-Replayed'"
    for response in ("DEFAULT_4XX", "DEFAULT_5XX"):
        assert api["GatewayResponses"][response]["ResponseParameters"]["Headers"]["Access-Control-Expose-Headers"] == exposed
    allowed_headers = {h.strip().lower() for h in api["Cors"]["AllowHeaders"].strip("'").split(",")}
    # Every header the labs' client and ours send.
    assert {"authorization", "content-type", "if-match", "idempotency-key", "x-api-key"} <= allowed_headers
    for name, function in functions(template).items():
        if function["Properties"].get("Events"):
            assert function["Properties"]["Environment"]["Variables"]["ALLOWED_ORIGINS"] == {"Ref": "AllowedOrigin"}, name
    # The functions expose the same list (crates/notes-http/src/cors.rs).
    cors_source = (ROOT / "crates/notes-http/src/cors.rs").read_text()
    assert f'EXPOSED_HEADERS: &str = "{exposed.strip(chr(39))}"' in cors_source


def test_bodies_are_validated_against_models(transformed):
    body = rest_api_body(transformed)
    for path in ("/notes", "/post"):
        post = body["paths"][path]["post"]
        assert post.get("x-amazon-apigateway-request-validator"), f"POST {path} has no validator"
        (parameter,) = [p for p in post["parameters"] if p["in"] == "body"]
        assert parameter["required"] is True


def test_access_logs_and_metrics(transformed, template):
    (stage,) = resources_of(transformed, "AWS::ApiGateway::Stage").values()
    props = stage["Properties"]
    assert "ApiAccessLogGroup" in str(props["AccessLogSetting"]["DestinationArn"])
    assert '"requestId":"$context.requestId"' in props["AccessLogSetting"]["Format"]
    assert props["MethodSettings"][0]["MetricsEnabled"] is True
    assert template["Resources"]["ApiAccessLogGroup"]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_outputs(template):
    assert {"ApiUrl", "UserPoolId", "UserPoolClientId", "ApiKeyId", "NotesTableName", "PostsTableName"} <= set(template["Outputs"])


def test_parameters_have_safe_defaults(template):
    params = template["Parameters"]
    assert params["StageName"]["Default"] == "Prod"
    assert params["AllowedOrigin"]["Default"] != "*"
    assert params["Architecture"]["Default"] in params["Architecture"]["AllowedValues"]
    assert params["LogRetentionDays"]["Default"] in params["LogRetentionDays"]["AllowedValues"]
    assert params["RequiredGroup"]["Default"] == ""


def test_openapi_describes_exactly_the_deployed_routes(template, openapi):
    documented = {
        (method.upper(), path)
        for path, item in openapi["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }
    assert documented == set(api_routes(template))
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            codes = set(operation["responses"])
            assert {"401", "403", "500"} <= codes, f"{method.upper()} {path} documents its errors"
            assert any(c.startswith("2") for c in codes)


def test_the_labs_first_note_passes_the_gateway_model(template):
    # Its NoteId is max(ids) + 1 computed by the client: null when the list is empty.
    model = template["Resources"]["NotesApi"]["Properties"]["Models"]["NoteInput"]
    assert set(model["properties"]["NoteId"]["type"]) == {"string", "integer", "null"}


def test_openapi_schemas_agree_with_the_gateway_models(template, openapi):
    models = template["Resources"]["NotesApi"]["Properties"]["Models"]
    schemas = openapi["components"]["schemas"]
    for name in ("NoteInput", "PostInput"):
        model, schema = models[name], schemas[name]
        assert model["required"] == schema["required"], name
        for field, spec in model["properties"].items():
            documented = schema["properties"][field]
            if "$ref" in documented:
                documented = schemas[documented["$ref"].rsplit("/", 1)[-1]]
            for bound in ("minLength", "maxLength", "minimum"):
                if bound in spec:
                    assert documented.get(bound) == spec[bound], f"{name}.{field}.{bound}"


def test_limits_agree_with_the_code(template):
    """The gateway's models must not be stricter or looser than the domain's own limits."""
    domain = ROOT / "crates/notes-domain/src"
    note = (domain / "note.rs").read_text()
    post = (domain / "post.rs").read_text()
    models = template["Resources"]["NotesApi"]["Properties"]["Models"]
    limit = lambda text, type_: int(re.search(rf"impl {type_} \{{\s*pub const MAX_CHARS: usize = ([0-9_]+);", text).group(1).replace("_", ""))
    assert models["NoteInput"]["properties"]["Note"]["maxLength"] == limit(note, "NoteText")
    assert models["PostInput"]["properties"]["title"]["maxLength"] == limit(post, "PostTitle")
    assert models["PostInput"]["properties"]["contents"]["maxLength"] == limit(post, "PostContents")
