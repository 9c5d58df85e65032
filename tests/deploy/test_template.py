"""The security-relevant shape of template.yaml, checked offline after the SAM transform: what a
review of the deployed stack would look for."""

import copy
import json
import re
import subprocess

import pytest
import yaml

from conftest import ROOT, CfnLoader, api_routes, cargo_binaries, env_vars_read, function_binary, functions, sam_transform, sub_text

# The actions each function's code performs (see crates/notes-dynamodb), per resource of ours: a
# table (its ARN or an index of it), the audio bucket ("AudioBucket", for listing) or its objects
# ("AudioBucket/*"), or "*" for an action that has no resource of ours to be scoped to. Its
# policy must grant exactly these, on these resources only.
IDEMPOTENCY_ACTIONS = {"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
EXPECTED_ACTIONS = {
    "AuthorizerFunction": {},
    "ListFunction": {"NotesTable": {"dynamodb:Query", "dynamodb:GetItem"}},
    "CreateUpdateFunction": {"NotesTable": {"dynamodb:UpdateItem"}, "IdempotencyTable": IDEMPOTENCY_ACTIONS},
    # Deletes the note and decrements the user's note counter (one transaction), then every
    # audio under its prefix (a listing, DeleteObjects): no GetObject or PutObject, so it can
    # neither read nor write audio.
    "DeleteFunction": {
        "NotesTable": {"dynamodb:DeleteItem", "dynamodb:UpdateItem"},
        "AudioBucket/*": {"s3:DeleteObject"},
        "AudioBucket": {"s3:ListBucket"},
    },
    "PostFunction": {
        "PostsTable": {"dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Query"},
        "IdempotencyTable": IDEMPOTENCY_ACTIONS,
        "UsageTable": {"dynamodb:UpdateItem"},
    },
    # Reads the note, reuses (HeadObject, presigned GET) or writes its mp3, synthesizes it after
    # taking the characters from the caller's daily budget (UsageTable).
    # ListBucket only so that HeadObject of a missing key is a 404, not a 403.
    "DictateFunction": {
        "NotesTable": {"dynamodb:GetItem"},
        "UsageTable": {"dynamodb:UpdateItem"},
        "AudioBucket/*": {"s3:GetObject", "s3:PutObject"},
        "AudioBucket": {"s3:ListBucket"},
        "*": {"polly:SynthesizeSpeech"},
    },
    # DELETE /account: the caller's partitions read and batch-deleted (notes, usage rows), their
    # idempotency records and posts found through the owner indexes, the posts rewritten to
    # "deleted user", the audio prefix listed and deleted, and last the caller's user read (is it
    # still theirs?) and deleted, in this stack's pool.
    "AccountFunction": {
        "NotesTable": {"dynamodb:Query", "dynamodb:BatchWriteItem"},
        "UsageTable": {"dynamodb:Query", "dynamodb:BatchWriteItem"},
        "IdempotencyTable": {"dynamodb:Query", "dynamodb:BatchWriteItem"},
        "PostsTable": {"dynamodb:Query", "dynamodb:UpdateItem"},
        "AudioBucket/*": {"s3:DeleteObject"},
        "AudioBucket": {"s3:ListBucket"},
        "UserPool": {"cognito-idp:AdminGetUser", "cognito-idp:AdminDeleteUser"},
    },
    # The same erasure for users deleted by other means, plus the scans that find who owns data
    # and ListUsers to ask the pool whether they still exist; it deletes no user.
    "PurgeFunction": {
        "NotesTable": {"dynamodb:Scan", "dynamodb:Query", "dynamodb:BatchWriteItem"},
        "UsageTable": {"dynamodb:Scan", "dynamodb:Query", "dynamodb:BatchWriteItem"},
        "IdempotencyTable": {"dynamodb:Scan", "dynamodb:Query", "dynamodb:BatchWriteItem"},
        "PostsTable": {"dynamodb:Scan", "dynamodb:Query", "dynamodb:UpdateItem"},
        "AudioBucket/*": {"s3:DeleteObject"},
        "AudioBucket": {"s3:ListBucket"},
        "UserPool": {"cognito-idp:ListUsers"},
    },
}
# Where the account and purge functions may use the owner indexes, and nothing else of the two
# tables' indexes: a table's `/index/*` would do, but names more than they need.
OWNER_INDEXES = {"${IdempotencyTable.Arn}/index/OwnerIndex", "${PostsTable.Arn}/index/AuthorIndex"}
# The only actions that may be granted on Resource "*": SynthesizeSpeech's only resource type is
# a lexicon, and the stack uses none.
UNSCOPABLE_ACTIONS = {"polly:SynthesizeSpeech"}
# Every route of the API and the function that serves it: on the REST API and on the HTTP API alike.
EXPECTED_ROUTES = {
    ("GET", "/notes"): "ListFunction",
    ("GET", "/notes/search"): "ListFunction",
    ("GET", "/notes/{id}"): "ListFunction",
    ("POST", "/notes"): "CreateUpdateFunction",
    ("POST", "/notes/{id}"): "DictateFunction",
    ("DELETE", "/notes/{id}"): "DeleteFunction",
    ("GET", "/post"): "PostFunction",
    ("POST", "/post"): "PostFunction",
    ("DELETE", "/account"): "AccountFunction",
}
# Functions that no API invokes: the purge, invoked by EventBridge rules on CloudTrail's records
# of user deletions.
EVENT_FUNCTIONS = {"PurgeFunction"}
# API Gateway gives up on a Lambda integration after this, whatever the function's timeout.
API_GATEWAY_INTEGRATION_LIMIT_SECONDS = 29
# Tables whose loss would lose what users wrote.
USER_DATA_TABLES = {"NotesTable", "PostsTable"}
# Per-user counters (posts written): retained like user data, but no backups needed.
COUNTER_TABLES = {"UsageTable"}
# Managed policies SAM attaches by itself: logs and X-Ray writes, nothing else.
ALLOWED_MANAGED = ("AWSLambdaBasicExecutionRole", "AWSXrayWriteOnlyAccess")
# Variables Lambda provides; the template must not set them.
LAMBDA_PROVIDED = {"AWS_REGION"}
# Overrides for local runs and tests: a deployed authorizer must never trust another issuer.
LOCAL_ONLY = {"TOKEN_ISSUER", "JWKS_URL", "AWS_ENDPOINT_URL_DYNAMODB"}
# The only issuer the HTTP API's JWT authorizer may trust: this stack's user pool, as `!Sub` text.
STACK_POOL_ISSUER = "https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}"
# The origins CORS allows: AllowedOrigin, after the hosted page's origin when the stack hosts the
# page (HostWebClient, test_web_hosting.py) and AllowedOrigin is not '*'.
ORIGINS = {"Fn::If": ["HostedOriginListed", {"Fn::Sub": "https://${WebDistribution.DomainName},${AllowedOrigin}"}, {"Ref": "AllowedOrigin"}]}
# The REST API's fixed preflight and gateway-response origin: the hosted page's, or the first of
# the AllowedOrigin list.
FIRST_ORIGIN = {"Fn::If": ["HostedOriginListed", {"Fn::Sub": "'https://${WebDistribution.DomainName}'"},
                           {"Fn::Sub": ["'${FirstOrigin}'", {"FirstOrigin": {"Fn::Select": [0, {"Fn::Split": [",", {"Ref": "AllowedOrigin"}]}]}}]}]}
ALL_ORIGINS = {"Fn::Split": [",", ORIGINS]}


def resources_of(transformed, kind):
    return {n: r for n, r in transformed["Resources"].items() if r["Type"] == kind}


def rest_api_body(transformed):
    (api,) = resources_of(transformed, "AWS::ApiGateway::RestApi").values()
    return api["Properties"]["Body"]


def http_api_body(transformed):
    """The OpenAPI body SAM generates for the HTTP API: its routes, their authorizer and CORS."""
    (api,) = resources_of(transformed, "AWS::ApiGatewayV2::Api").values()
    return api["Properties"]["Body"]


def exposed_headers():
    """The functions' EXPOSED_HEADERS (crates/notes-http/src/cors.rs), as a list."""
    source = (ROOT / "crates/notes-http/src/cors.rs").read_text()
    match = re.search(r'pub const EXPOSED_HEADERS: &str = "([^"]+)";', source)
    assert match, "crates/notes-http/src/cors.rs has no EXPOSED_HEADERS this test can read"
    return [header.strip() for header in match.group(1).split(",")]


def test_every_route_needs_the_authorizer_and_an_api_key(transformed, template):
    assert api_routes(template) == EXPECTED_ROUTES
    body = rest_api_body(transformed)
    deployed = set()
    for path, operations in body["paths"].items():
        for method, operation in operations.items():
            if method == "options":
                assert "security" not in operation or operation["security"] == [], f"preflight {path} must stay open"
                continue
            deployed.add((method.upper(), path))
            names = {name for entry in operation.get("security", []) for name in entry}
            assert "TokenAuthorizer" in names, f"{method.upper()} {path} lacks the authorizer"
            assert "api_key" in names, f"{method.upper()} {path} does not require an API key"
            function = EXPECTED_ROUTES.get((method.upper(), path))
            uri = str(operation["x-amazon-apigateway-integration"]["uri"])
            assert f"${{{function}.Arn}}" in uri, f"{method.upper()} {path} is not served by {function}"
    assert deployed == set(EXPECTED_ROUTES)


def test_every_rest_route_has_its_http_api_twin(template):
    # Each function's events come in pairs: the REST API's `Name` and the HTTP API's `NameHttp`,
    # for the same method and path. Nothing else triggers a function but the purge's rules
    # (test_the_purge_runs_on_user_deletions_in_this_pool_only).
    assert api_routes(template, "HttpApi") == EXPECTED_ROUTES
    for name, function in functions(template).items():
        if name in EVENT_FUNCTIONS:
            continue
        events = function["Properties"].get("Events", {})
        for event_name, event in events.items():
            props = event["Properties"]
            if event["Type"] == "Api":
                assert props["RestApiId"] == {"Ref": "NotesApi"}, f"{name}.{event_name}"
                twin = events.get(f"{event_name}Http")
                assert twin and twin["Type"] == "HttpApi", f"{name}.{event_name} has no {event_name}Http"
                assert (twin["Properties"]["Method"], twin["Properties"]["Path"]) == (props["Method"], props["Path"])
            else:
                assert event["Type"] == "HttpApi", f"{name}.{event_name}: {event['Type']}"
                assert event_name.endswith("Http") and event_name[: -len("Http")] in events, f"{name}.{event_name}"
                assert props["ApiId"] == {"Ref": "NotesHttpApi"}, f"{name}.{event_name}"
                # lambda_http reads either format; 2.0 is the HTTP API's own (jwt.claims).
                assert props["PayloadFormatVersion"] == "2.0", f"{name}.{event_name}"
                # An event-level Auth could turn the authorizer off for one route.
                assert "Auth" not in props, f"{name}.{event_name} overrides the authorizer"


def test_every_http_api_route_needs_the_jwt_authorizer(transformed):
    body = http_api_body(transformed)
    assert "security" not in body or body["security"] == [{"CognitoJwt": []}]
    deployed = set()
    for path, operations in body["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            # The HTTP API answers preflight itself (x-amazon-apigateway-cors, below); an OPTIONS
            # or ANY route would be one more way in, open or not.
            assert method in ("get", "post", "delete"), f"{method} {path}"
            deployed.add((method.upper(), path))
            assert operation.get("security") == [{"CognitoJwt": []}], f"{method.upper()} {path} is not behind the JWT authorizer"
            integration = operation["x-amazon-apigateway-integration"]
            assert integration["type"] == "aws_proxy" and integration["payloadFormatVersion"] == "2.0"
            function = EXPECTED_ROUTES.get((method.upper(), path))
            assert f"${{{function}.Arn}}" in str(integration["uri"]), f"{method.upper()} {path} is not served by {function}"
    # The same method and path reach the same function as on the REST API (checked above).
    assert deployed == set(EXPECTED_ROUTES)
    assert "x-amazon-apigateway-cors" in body, "preflight is answered by API Gateway"
    # Should SAM ever emit routes and authorizers as resources instead of in the body.
    for name, route in resources_of(transformed, "AWS::ApiGatewayV2::Route").items():
        assert route["Properties"].get("AuthorizationType") == "JWT", f"{name} is open"


def test_the_jwt_authorizer_trusts_only_this_stacks_pool_and_client(template, transformed):
    auth = template["Resources"]["NotesHttpApi"]["Properties"]["Auth"]
    assert auth["DefaultAuthorizer"] == "CognitoJwt"
    assert auth["Authorizers"] == {
        "CognitoJwt": {
            # Bare or after "Bearer ": API Gateway accepts both, as our TOKEN authorizer does.
            "IdentitySource": "$request.header.Authorization",
            "JwtConfiguration": {
                "issuer": {"Fn::Sub": STACK_POOL_ISSUER},
                "audience": [{"Ref": "UserPoolClient"}],
            },
        }
    }
    schemes = http_api_body(transformed)["components"]["securitySchemes"]
    assert set(schemes) == {"CognitoJwt"}, "no other authorizer, no Lambda authorizer"
    authorizer = schemes["CognitoJwt"]["x-amazon-apigateway-authorizer"]
    assert authorizer["type"] == "jwt"
    assert authorizer["identitySource"] == "$request.header.Authorization"
    # Never a local issuer or JWKS: the stack's own pool, and the app client as the audience
    # (`aud` of ID tokens; API Gateway compares an access token's `client_id` with it).
    assert sub_text(authorizer["jwtConfiguration"]["issuer"]) == STACK_POOL_ISSUER
    assert authorizer["jwtConfiguration"]["audience"] == [{"Ref": "UserPoolClient"}]
    for name, resource in resources_of(transformed, "AWS::ApiGatewayV2::Authorizer").items():
        props = resource["Properties"]
        assert props["AuthorizerType"] == "JWT", name
        assert sub_text(props["JwtConfiguration"]["Issuer"]) == STACK_POOL_ISSUER, name
    # The pool and client the REST API's TOKEN authorizer checks: one set of users for both.
    variables = template["Resources"]["AuthorizerFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["USER_POOL_ID"] == {"Ref": "UserPool"}
    assert variables["USER_POOL_CLIENT_IDS"] == {"Ref": "UserPoolClient"}


def test_each_function_may_be_invoked_by_both_apis_on_its_routes_only(transformed):
    permissions = resources_of(transformed, "AWS::Lambda::Permission")
    granted = {}
    for name, permission in permissions.items():
        props = permission["Properties"]
        if props["FunctionName"] == {"Ref": "PurgeFunction"}:
            continue  # EventBridge's, checked below
        assert props["Action"] == "lambda:InvokeFunction" and props["Principal"] == "apigateway.amazonaws.com", name
        arn, variables = props["SourceArn"]["Fn::Sub"]
        api = variables["__ApiId__"]["Ref"]
        assert api in ("NotesApi", "NotesHttpApi"), f"{name}: invoked by {api}"
        if props["FunctionName"] == {"Fn::GetAtt": ["AuthorizerFunction", "Arn"]}:
            # The TOKEN authorizer, by the REST API's authorizers only.
            assert api == "NotesApi" and arn.endswith("${__ApiId__}/authorizers/*"), name
            continue
        match = re.fullmatch(r"arn:(?:aws|\$\{AWS::Partition\}):execute-api:\$\{AWS::Region\}:\$\{AWS::AccountId\}:\$\{__ApiId__\}/\$\{__Stage__\}/([A-Z]+)(/.*)", arn)
        assert match, f"{name}: {arn}"
        granted[(api, match.group(1), match.group(2))] = props["FunctionName"]["Ref"]
    expected = {
        (api, method, re.sub(r"\{[^}]+\}", "*", path)): function
        for (method, path), function in EXPECTED_ROUTES.items()
        for api in ("NotesApi", "NotesHttpApi")
    }
    assert granted == expected


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


def test_the_authorizer_is_a_cached_token_authorizer_on_the_authorization_header(transformed, template):
    definitions = rest_api_body(transformed)["securityDefinitions"]
    authorizer = definitions["TokenAuthorizer"]
    assert authorizer["in"] == "header" and authorizer["name"] == "Authorization"
    settings = authorizer["x-amazon-apigateway-authorizer"]
    assert settings["type"] == "token"
    assert settings["authorizerResultTtlInSeconds"] == 60, "caching on (the policy is stage-wide), at most a minute by default"
    # Issue 22: a revoked or expired token works for at most the cache's life; the deployer sets it.
    for seconds in (0, 15):
        overridden = rest_api_body(sam_transform(template, {"AuthorizerCacheSeconds": seconds}))
        ttl = overridden["securityDefinitions"]["TokenAuthorizer"]["x-amazon-apigateway-authorizer"]
        assert int(ttl["authorizerResultTtlInSeconds"]) == seconds
    assert "AuthorizerFunction" in str(settings["authorizerUri"])
    assert definitions["api_key"]["name"] == "x-api-key"


def test_usage_plan_numbers(transformed, template):
    # The transform resolves the parameters: defaults here, the deployer's values at deploy.
    (plan,) = resources_of(transformed, "AWS::ApiGateway::UsagePlan").values()
    props = plan["Properties"]
    assert props["Throttle"] == {"RateLimit": 100, "BurstLimit": 200}
    # Issue 22: the key is public (every page's config.js), so a daily quota on it was one that
    # any single caller could spend for everyone (5,000 a day in ~50 s) until the next day.
    assert "Quota" not in props, "no daily quota on a key that ships in public"
    assert "QuotaPerDay" not in template["Parameters"]
    custom = sam_transform(template, {"ThrottleRateLimit": 7, "ThrottleBurstLimit": 9})
    (plan,) = resources_of(custom, "AWS::ApiGateway::UsagePlan").values()
    assert plan["Properties"]["Throttle"] == {"RateLimit": 7, "BurstLimit": 9}, "parameters reach the plan"
    assert "Quota" not in plan["Properties"]
    assert resources_of(transformed, "AWS::ApiGateway::ApiKey"), "an API key is created"
    assert resources_of(transformed, "AWS::ApiGateway::UsagePlanKey"), "and attached to the plan"


def _rate_rule(acl, name):
    (rule,) = [rule for rule in acl["Properties"]["Rules"] if rule["Name"] == name]
    return rule


def test_each_caller_has_its_own_rate_limit_at_the_edge_of_the_rest_api(transformed, template, openapi):
    """Issue 22, finding 4: the stage's and the usage plan's throttles are shared, so one caller
    could take them all. A WAF web ACL on the REST stage counts each caller apart."""
    (acl,) = resources_of(transformed, "AWS::WAFv2::WebACL").values()
    props = acl["Properties"]
    assert props["Scope"] == "REGIONAL" and props["DefaultAction"] == {"Allow": {}}
    assert template["Parameters"]["PerCallerRequestsPer5Minutes"]["Default"] == "1000"

    by_token = _rate_rule(acl, "per-authorization-header")["Statement"]["RateBasedStatement"]
    assert by_token["AggregateKeyType"] == "CUSTOM_KEYS"
    assert by_token["CustomKeys"] == [{"Header": {"Name": "Authorization", "TextTransformations": [{"Priority": 0, "Type": "NONE"}]}}]
    assert "ScopeDownStatement" not in by_token, "every request with the header counts"
    # WAF skips a request without a custom key: those are counted per address instead.
    by_address = _rate_rule(acl, "per-address-without-authorization")["Statement"]["RateBasedStatement"]
    assert by_address["AggregateKeyType"] == "IP"
    missing = by_address["ScopeDownStatement"]["NotStatement"]["Statement"]["SizeConstraintStatement"]
    assert missing["FieldToMatch"] == {"SingleHeader": {"Name": "authorization"}}
    assert (missing["ComparisonOperator"], missing["Size"]) == ("GT", 0)

    body = props["CustomResponseBodies"]["TooManyRequests"]
    assert body["ContentType"] == "APPLICATION_JSON"
    for rule in props["Rules"]:
        statement = rule["Statement"]["RateBasedStatement"]
        assert statement["Limit"] in ("1000", 1000) and statement["EvaluationWindowSec"] == 300
        response = rule["Action"]["Block"]["CustomResponse"]
        assert response["ResponseCode"] == 429 and response["CustomResponseBodyKey"] == "TooManyRequests"
        headers = {header["Name"]: header["Value"] for header in response["ResponseHeaders"]}
        assert headers["Retry-After"] == "300", "the whole window"
        # WAF's answer replaces API Gateway's (and its DEFAULT_4XX CORS headers): without its
        # own, a browser could not read the 429.
        assert headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
        assert "Retry-After" in headers["Access-Control-Expose-Headers"]

    (association,) = resources_of(transformed, "AWS::WAFv2::WebACLAssociation").values()
    assert association["Properties"]["WebACLArn"] == {"Fn::GetAtt": ["RestApiWebAcl", "Arn"]}
    # The REST stage that SAM creates (the offline language extensions flatten this !Sub, so the
    # template's own text is checked; SAM resolves NotesApi.Stage to the stage's logical id).
    arn, variables = template["Resources"]["RestApiWebAclAssociation"]["Properties"]["ResourceArn"]["Fn::Sub"]
    assert arn.endswith("::/restapis/${NotesApi}/stages/${Stage}") and variables == {"Stage": {"Ref": "NotesApi.Stage"}}
    assert not [r for r in transformed["Resources"].values() if r["Type"].startswith("AWS::WAFv2::") and "NotesHttpApi" in json.dumps(r)], "WAF cannot front an HTTP API"

    # 0 turns it off, and only 0 or WAF's own range (10 and up) is accepted.
    for resource in ("RestApiWebAcl", "RestApiWebAclAssociation"):
        assert template["Resources"][resource]["Condition"] == "PerCallerLimit"
    assert template["Conditions"]["PerCallerLimit"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "PerCallerRequestsPer5Minutes"}, "0"]}]}
    pattern = re.compile(template["Parameters"]["PerCallerRequestsPer5Minutes"]["AllowedPattern"])
    assert [v for v in ("0", "10", "1000", "999999999") if not pattern.match(v)] == []
    assert [v for v in ("", "1", "9", "01", "-5", "1e3", "1000000000") if pattern.match(v)] == []

    # The contract says so on every route: a 429 with Retry-After.
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "delete", "put", "patch"):
                assert "429" in operation["responses"], f"{method.upper()} {path}"
    too_many = openapi["components"]["responses"]["TooManyRequests"]
    assert "Retry-After" in too_many["headers"] and "300" in too_many["description"]


def _role_of(transformed, function):
    role = transformed["Resources"][function]["Properties"]["Role"]
    return transformed["Resources"][role["Fn::GetAtt"][0]]["Properties"]


def _arn_text(resource):
    """A policy resource as `!Sub` text: `!GetAtt T.Arn` is "${T.Arn}". (The offline
    AWS::LanguageExtensions leaves a `!Sub` it cannot resolve as its bare string.)"""
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        target = resource["Fn::GetAtt"]
        return "${" + (target if isinstance(target, str) else ".".join(target)) + "}"
    if isinstance(resource, dict) and isinstance(resource.get("Fn::Sub"), str):
        return resource["Fn::Sub"]
    assert isinstance(resource, str), f"{resource} is no ARN this test can read"
    return resource


def _resource_of(resource):
    """What a policy resource names, as a key of EXPECTED_ACTIONS: a table (`!GetAtt T.Arn`,
    `!Sub "${T.Arn}/index/.."`), "AudioBucket" (`!GetAtt AudioBucket.Arn`), "AudioBucket/*"
    (`!Sub "${AudioBucket.Arn}/*"`: its objects) or "*"."""
    if resource == "*":
        return "*"
    arn = _arn_text(resource)
    for table in ("NotesTable", "PostsTable", "IdempotencyTable", "UsageTable"):
        if arn.startswith(f"${{{table}.Arn}}/index/"):
            assert arn in OWNER_INDEXES or table == "NotesTable", f"{resource}: an index no function reads"
            return table
        if arn == f"${{{table}.Arn}}":
            return table
    if arn in ("${AudioBucket.Arn}", "${AudioBucket.Arn}/*"):
        return arn.replace("${AudioBucket.Arn}", "AudioBucket")
    if arn == "${UserPool.Arn}":
        return "UserPool"
    raise AssertionError(f"{resource} names nothing of ours")


def granted_actions(transformed, function):
    """{resource (as _resource_of names it): actions} that the function's role allows; fails on
    anything broader than an action on a resource of ours."""
    role = _role_of(transformed, function)
    for arn in role.get("ManagedPolicyArns", []):
        text = str(arn)
        assert any(allowed in text for allowed in ALLOWED_MANAGED), f"{function}: managed policy {text}"
        assert "FullAccess" not in text
    granted = {}
    for policy in role.get("Policies", []):
        for statement in policy["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            # NotAction and NotResource grant everything but what they name. This check reads only
            # Action and Resource, so it refuses any other key (a Condition too) rather than misread it.
            assert set(statement) <= {"Sid", "Effect", "Action", "Resource"}, f"{function}: {sorted(statement)}"
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            for action in actions:
                assert "*" not in action, f"{function}: wildcard action {action}"
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            for resource in resources:
                if resource == "*":
                    assert set(actions) <= UNSCOPABLE_ACTIONS, f"{function}: {sorted(actions)} on Resource *"
                granted.setdefault(_resource_of(resource), set()).update(actions)
    return granted


def test_each_function_may_only_do_what_it_does_on_its_own_resources(transformed, template):
    assert set(EXPECTED_ACTIONS) == set(functions(template)), "every function's grants are listed"
    for function, expected in EXPECTED_ACTIONS.items():
        granted = granted_actions(transformed, function)
        assert granted == expected, f"{function}: {granted} != {expected}"


def _with_dictate_statement(template, statement):
    mutated = copy.deepcopy(template)
    mutated["Resources"]["DictateFunction"]["Properties"]["Policies"][0]["Statement"].append(statement)
    return sam_transform(mutated)


@pytest.mark.parametrize(
    "statement, complaint",
    [
        ({"Effect": "Allow", "Action": ["s3:*"], "Resource": {"Fn::Sub": "${AudioBucket.Arn}/*"}}, "wildcard action"),
        ({"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}, "on Resource \\*"),
        ({"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": "arn:aws:s3:::someone-elses-bucket/*"}, "nothing of ours"),
        ({"Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": {"Fn::GetAtt": ["PostsTable", "Arn"]}}, "!="),
        ({"Effect": "Allow", "Action": ["s3:DeleteObject"], "Resource": {"Fn::Sub": "${AudioBucket.Arn}/*"}}, "!="),
        ({"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "*"}, "NotAction"),
    ],
)
def test_a_broader_dictate_policy_is_caught(template, statement, complaint):
    # The check above on the one function with S3 and Polly grants, against the mutations a
    # review would refuse: every one of them must fail it.
    with pytest.raises(AssertionError, match=complaint):
        granted = granted_actions(_with_dictate_statement(template, statement), "DictateFunction")
        assert granted == EXPECTED_ACTIONS["DictateFunction"], f"{granted} != expected"


def test_the_required_group_reaches_every_function(template):
    """The HTTP API's JWT authorizer checks no groups, so every function gets RequiredGroup and
    checks the token's cognito:groups itself (notes-http); the REST API's authorizer checks it
    before them."""
    for name, function in functions(template).items():
        variables = function["Properties"]["Environment"]["Variables"]
        if name in EVENT_FUNCTIONS:
            assert "REQUIRED_GROUP" not in variables, f"{name} answers no caller"
            continue
        assert variables.get("REQUIRED_GROUP") == {"Ref": "RequiredGroup"}, name


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


def test_the_shared_settings_are_part_of_each_functions_configuration():
    # Logging, the HTTP edge and the AWS clients are read with the rest of a function's
    # configuration, in code this test reads: none of them is invisible to the check above.
    binaries = cargo_binaries()
    shared = {"AWS_LAMBDA_LOG_LEVEL", "AWS_LAMBDA_LOG_FORMAT", "RUST_LOG"}
    http = shared | {"ALLOWED_ORIGINS", "REQUIRED_GROUP", "DYNAMODB_CONNECT_AT_INIT"}
    for binary, crate_dir in binaries.items():
        required, optional = env_vars_read(crate_dir)
        expected = shared if binary == "authorizer" else http
        assert expected <= required | optional, f"{binary}: {sorted(expected - required - optional)} unseen"


def test_configuration_is_read_only_by_the_configuration_readers():
    # Each binary reads its environment once, into its Config, in main: a std::env::var anywhere
    # else would be a setting no Config (and no check above) knows about.
    readers = {
        "crates/notes-http/src/config.rs",
        "crates/notes-tracing/src/lib.rs",
        "crates/notes-dynamodb/src/client.rs",
        "crates/authorizer/src/config.rs",
        # The Runtime API's address, which Lambda itself provides.
        "crates/authorizer/src/runtime.rs",
    }
    crates = set(cargo_binaries().values()) | {
        ROOT / "crates" / name for name in ("notes-http", "notes-tracing", "notes-dynamodb", "notes-s3", "notes-domain")
    }
    offenders = []
    for crate_dir in sorted(crates):
        for source in crate_dir.glob("src/**/*.rs"):
            relative = str(source.relative_to(ROOT))
            if relative in readers:
                continue
            if re.search(r"\benv::var(?:_os)?\(", source.read_text()):
                offenders.append(relative)
    assert not offenders, f"environment read outside a Config: {offenders}"


def test_functions_are_built_and_run_as_designed(template):
    binaries = cargo_binaries()
    globals_ = template["Globals"]["Function"]
    assert globals_["Runtime"] == "provided.al2023" and globals_["Handler"] == "bootstrap"
    assert globals_["Tracing"] == "Active"
    assert globals_["LoggingConfig"]["LogFormat"] == "JSON"
    assert globals_["LoggingConfig"]["ApplicationLogLevel"] == {"Ref": "LogLevel"}, "a stage chooses its log level"
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
        if name in EVENT_FUNCTIONS:
            # No caller waits; Lambda's own limit is 15 minutes.
            assert 3 <= timeout <= 900, f"{name}: timeout {timeout} s"
        else:
            assert 3 <= timeout <= 29, f"{name}: timeout {timeout} s (the SDK needs 6 s, API Gateway gives 29)"
        assert props.get("LoggingConfig", globals_["LoggingConfig"])["LogFormat"] == "JSON"
        assert "LogGroup" in props.get("LoggingConfig", {}), f"{name}: log group with retention"
        # Its own group, named after its binary, kept as long as the deployer chose.
        group = template["Resources"][props["LoggingConfig"]["LogGroup"]["Ref"]]
        assert group["Type"] == "AWS::Logs::LogGroup", name
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name
        assert group["Properties"]["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/${{AWS::StackName}}-{binary}"}, name
    # The function crates are the workspace's default members (what `cargo lambda build` builds);
    # other binaries (notes-migrate, the dev kit) are tools run from a checkout, never deployed.
    members = re.search(r"default-members\s*=\s*\[(.*?)\]", (ROOT / "Cargo.toml").read_text(), re.DOTALL)
    deployed = {(ROOT / path).resolve() for path in re.findall(r'"([^"]+)"', members.group(1))}
    function_binaries = {binary for binary, crate in binaries.items() if crate.resolve() in deployed}
    assert used == function_binaries, "every function binary is deployed, and nothing else"
    assert 'cp target/lambda/$(1)/bootstrap "$(ARTIFACTS_DIR)/bootstrap"' in makefile


def _dictate_constant(name):
    """A `pub const` of crates/dictate: seconds of a `Duration::from_secs(..)`, a `u32`, or a `&str`."""
    source = (ROOT / "crates/dictate/src/lib.rs").read_text()
    match = re.search(rf'pub const {name}: (?:Duration = Duration::from_secs\(([0-9_]+)\)|&str = "([^"]*)"|u32 = ([0-9_]+));', source)
    assert match, f"crates/dictate/src/lib.rs has no `pub const {name}` this test can read"
    seconds, text, number = match.groups()
    if text is not None:
        return text
    return int((seconds or number).replace("_", ""))


def test_dictate_answers_before_lambda_and_api_gateway_give_up(template):
    props = template["Resources"]["DictateFunction"]["Properties"]
    timeout = props["Timeout"]
    # The function gives its own work (Polly, S3, DynamoDB) this long before it answers 503. Its
    # timeout leaves room to answer after that, and stays under the gateway's limit, or the
    # caller would get the gateway's 504 instead of our Retry-After.
    budget = _dictate_constant("DICTATION_DEADLINE")
    assert budget < timeout < API_GATEWAY_INTEGRATION_LIMIT_SECONDS, f"timeout {timeout} s, budget {budget} s"
    assert props["MemorySize"] >= 256


def test_dictate_parameters_agree_with_the_code(template):
    # A deployed value the function refuses would fail every cold start; the defaults are the
    # function's own, so an unset variable (make dev) behaves as a default stack.
    params = template["Parameters"]
    assert params["DictateUrlTtlSeconds"]["Default"] == _dictate_constant("DEFAULT_URL_TTL")
    assert params["DictateUrlTtlSeconds"]["MaxValue"] <= _dictate_constant("MAX_URL_TTL")
    assert params["DefaultVoiceId"]["Default"] == _dictate_constant("DEFAULT_VOICE")
    assert params["AudioRetentionDays"]["Default"] == _dictate_constant("DEFAULT_RETENTION_DAYS")


def test_the_voices_offered_are_the_domains(template, openapi):
    """The stack's default voice and the documented VoiceIds are exactly the voices the function
    knows: a default it refuses would fail every cold start."""
    voices = re.findall(r'voice\("([A-Za-z]+)", "', (ROOT / "crates/notes-domain/src/speech.rs").read_text())
    assert len(voices) > 50 and "Joanna" in voices
    assert template["Parameters"]["DefaultVoiceId"]["AllowedValues"] == voices
    documented = openapi["components"]["schemas"]["DictateRequest"]["properties"]["VoiceId"]["enum"]
    assert documented == [""] + voices


def test_dictate_environment_names_its_table_bucket_and_voice_settings(template):
    variables = template["Resources"]["DictateFunction"]["Properties"]["Environment"]["Variables"]
    assert variables == {
        "NOTES_TABLE": {"Ref": "NotesTable"},
        "USAGE_TABLE": {"Ref": "UsageTable"},
        "DAILY_SPEECH_CHARACTERS_PER_USER": {"Ref": "DailySpeechCharactersPerUser"},
        "AUDIO_BUCKET": {"Ref": "AudioBucket"},
        "DICTATE_URL_TTL_SECONDS": {"Ref": "DictateUrlTtlSeconds"},
        "POLLY_ENGINE": {"Ref": "PollyEngine"},
        "DEFAULT_VOICE_ID": {"Ref": "DefaultVoiceId"},
        "AUDIO_RETENTION_DAYS": {"Ref": "AudioRetentionDays"},
        "ALLOWED_ORIGINS": ORIGINS,
        "REQUIRED_GROUP": {"Ref": "RequiredGroup"},
    }


def test_the_audio_bucket_is_private_encrypted_and_a_cache_that_expires(template):
    bucket = template["Resources"]["AudioBucket"]
    assert bucket["Type"] == "AWS::S3::Bucket"
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (encryption,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}, "SSE-S3"
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}, "ACLs off"
    rules = [rule for rule in props["LifecycleConfiguration"]["Rules"] if rule["Status"] == "Enabled"]
    assert len(rules) == 1 and "Prefix" not in rules[0] and "Filter" not in rules[0], "one rule, for every object"
    assert rules[0]["ExpirationInDays"] == {"Ref": "AudioRetentionDays"}
    assert rules[0]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    # Regenerable audio: deleted with the stack, unlike the tables (which keep what users wrote).
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Delete"


def test_the_retention_parameter_reaches_the_lifecycle_rule(template):
    (rule,) = sam_transform(template, {"AudioRetentionDays": 3})["Resources"]["AudioBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] in (3, "3")


def test_a_browser_on_the_api_origin_may_read_the_audio(template):
    (rule,) = template["Resources"]["AudioBucket"]["Properties"]["CorsConfiguration"]["CorsRules"]
    assert set(rule["AllowedMethods"]) == {"GET", "HEAD"}, "read only"
    assert rule["AllowedOrigins"] == ALL_ORIGINS, "every origin the API allows"
    assert rule["MaxAge"] == 600


def test_the_audio_bucket_refuses_plain_http(template):
    policies = [r for r in template["Resources"].values() if r["Type"] == "AWS::S3::BucketPolicy"]
    (policy,) = [p for p in policies if p["Properties"]["Bucket"] == {"Ref": "AudioBucket"}]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert all(statement["Effect"] == "Deny" for statement in statements), "the policy grants nothing"
    denials = [
        statement
        for statement in statements
        if statement["Principal"] == "*"
        and statement["Action"] in ("s3:*", ["s3:*"])
        and statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    assert len(denials) == 1, statements
    resources = denials[0]["Resource"]
    # The bucket ARN covers bucket operations (ListBucket), the /* one every object.
    assert {_arn_text(resource) for resource in resources} == {"${AudioBucket.Arn}", "${AudioBucket.Arn}/*"}


def test_functions_read_tls_roots_from_one_bundle(template):
    # rustls-native-certs reads the whole certificate directory unless SSL_CERT_FILE names a file
    # (crates/notes-dynamodb/src/client.rs); this is provided.al2023's bundle.
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["SSL_CERT_FILE"] == "/etc/pki/tls/certs/ca-bundle.crt"


def test_tables_keep_user_data(template):
    tables = {n for n, r in template["Resources"].items() if r["Type"] == "AWS::DynamoDB::Table"}
    assert tables == USER_DATA_TABLES | COUNTER_TABLES | {"IdempotencyTable"}
    for name, resource in template["Resources"].items():
        if name in USER_DATA_TABLES | COUNTER_TABLES or resource["Type"] == "AWS::Cognito::UserPool":
            # Kept when a deployed stack is deleted or the resource replaced; deleted only when
            # the stack's own first create fails, so a failed first deploy leaves no orphans.
            assert resource.get("DeletionPolicy") == "RetainExceptOnCreate", name
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
    # A REST API's preflight and its own errors carry one fixed origin: the list's first.
    origin = FIRST_ORIGIN
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
        if name not in EVENT_FUNCTIONS and function["Properties"].get("Events"):
            assert function["Properties"]["Environment"]["Variables"]["ALLOWED_ORIGINS"] == ORIGINS, name
    # The functions expose the same list (crates/notes-http/src/cors.rs).
    cors_source = (ROOT / "crates/notes-http/src/cors.rs").read_text()
    assert f'EXPOSED_HEADERS: &str = "{exposed.strip(chr(39))}"' in cors_source


def test_http_api_cors_is_the_rest_apis_for_every_listed_origin(template, transformed):
    rest = template["Resources"]["NotesApi"]["Properties"]["Cors"]
    http = template["Resources"]["NotesHttpApi"]["Properties"]["CorsConfiguration"]
    assert http["AllowOrigins"] == ALL_ORIGINS
    cors = http_api_body(sam_transform(template, {"HostWebClient": "false"}))["x-amazon-apigateway-cors"]
    assert cors["allowOrigins"] == ["http://localhost:3000"], "the parameter's default"
    listed = lambda quoted: {item.strip().lower() for item in quoted.strip("'").split(",")}
    assert {m.lower() for m in cors["allowMethods"]} == listed(rest["AllowMethods"])
    assert {h.lower() for h in cors["allowHeaders"]} == listed(rest["AllowHeaders"])
    assert cors["maxAge"] == int(rest["MaxAge"].strip("'"))
    # With a CORS configuration API Gateway drops the functions' own CORS headers and sends
    # these, so it must expose what the functions expose.
    assert cors["exposeHeaders"] == exposed_headers()
    # Tokens travel in a header; no cookie or credentialed CORS.
    assert not cors.get("allowCredentials")


def test_allowed_origin_takes_a_list(template):
    pattern = re.compile(template["Parameters"]["AllowedOrigin"]["AllowedPattern"])
    for accepted in ("http://localhost:3000", "*", "https://a.example,https://b.example", "https://a.example,http://localhost:5173,https://c.example:8443"):
        assert pattern.fullmatch(accepted), accepted
    # !Split keeps spaces, and an origin has no path: these would never match a browser's Origin.
    for refused in ("", "https://a.example, https://b.example", "https://a.example,", "https://a.example/", "*,https://a.example", "ftp://a.example"):
        assert not pattern.fullmatch(refused), refused


def test_several_origins_reach_the_http_api_the_bucket_and_the_functions(template):
    origins = "https://a.example,https://b.example"
    # The page hosted elsewhere (test_web_hosting.py checks the stack's own page comes first).
    output = sam_transform(template, {"AllowedOrigin": origins, "HostWebClient": "false"})
    assert http_api_body(output)["x-amazon-apigateway-cors"]["allowOrigins"] == ["https://a.example", "https://b.example"]
    (rule,) = output["Resources"]["AudioBucket"]["Properties"]["CorsConfiguration"]["CorsRules"]
    assert rule["AllowedOrigins"] == ["https://a.example", "https://b.example"]
    body = rest_api_body(output)
    for path, operations in body["paths"].items():
        headers = operations["options"]["x-amazon-apigateway-integration"]["responses"]["default"]["responseParameters"]
        assert headers["method.response.header.Access-Control-Allow-Origin"] == "'https://a.example'", path
    for response in ("DEFAULT_4XX", "DEFAULT_5XX"):
        headers = body["x-amazon-apigateway-gateway-responses"][response]["responseParameters"]
        assert headers["gatewayresponse.header.Access-Control-Allow-Origin"] == "'https://a.example'", response
    # The functions echo whichever listed origin asks.
    for name, function in resources_of(output, "AWS::Lambda::Function").items():
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        if "ALLOWED_ORIGINS" in variables:
            assert variables["ALLOWED_ORIGINS"] == origins, name


def test_bodies_are_validated_against_models(transformed):
    body = rest_api_body(transformed)
    posts = [(method, path) for method, path in EXPECTED_ROUTES if method == "POST"]
    assert ("POST", "/notes/{id}") in posts
    for _, path in posts:
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


def test_http_api_access_logs_throttling_and_stage(template, transformed):
    api = template["Resources"]["NotesHttpApi"]["Properties"]
    # The REST API's stage name, so both URLs end in /<StageName>.
    assert api["StageName"] == template["Resources"]["NotesApi"]["Properties"]["StageName"] == {"Ref": "StageName"}
    assert api["FailOnWarnings"] is True
    (stage,) = resources_of(transformed, "AWS::ApiGatewayV2::Stage").values()
    props = stage["Properties"]
    assert props["StageName"] == "Prod" and props["ApiId"] == {"Ref": "NotesHttpApi"}
    assert props["AccessLogSettings"]["DestinationArn"] == {"Fn::GetAtt": ["HttpApiAccessLogGroup", "Arn"]}
    fields = json.loads(props["AccessLogSettings"]["Format"])
    for field, variable in {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "routeKey": "$context.routeKey",
        "status": "$context.status",
        "protocol": "$context.protocol",
        "responseLength": "$context.responseLength",
        "requestTime": "$context.requestTime",
        "integrationLatency": "$context.integrationLatency",
        "authorizerError": "$context.authorizer.error",
    }.items():
        assert fields.get(field) == variable, field
    group = template["Resources"]["HttpApiAccessLogGroup"]
    assert group["Type"] == "AWS::Logs::LogGroup"
    assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert group["Properties"]["LogGroupName"] != template["Resources"]["ApiAccessLogGroup"]["Properties"]["LogGroupName"]
    # The REST stage's limits, for every route and every caller (there are no API keys here).
    assert props["DefaultRouteSettings"] == {"ThrottlingRateLimit": 100, "ThrottlingBurstLimit": 200, "DetailedMetricsEnabled": True}
    (stage,) = resources_of(sam_transform(template, {"ThrottleRateLimit": 7, "ThrottleBurstLimit": 9}), "AWS::ApiGatewayV2::Stage").values()
    settings = stage["Properties"]["DefaultRouteSettings"]
    assert settings["ThrottlingRateLimit"] in (7, "7") and settings["ThrottlingBurstLimit"] in (9, "9")


def test_outputs(template):
    assert {"ApiUrl", "HttpApiUrl", "UserPoolId", "UserPoolClientId", "ApiKeyId", "NotesTableName", "PostsTableName", "AudioBucketName"} <= set(template["Outputs"])
    # Both base URLs, alike but for the API id.
    for output, api in (("ApiUrl", "NotesApi"), ("HttpApiUrl", "NotesHttpApi")):
        assert template["Outputs"][output]["Value"] == {"Fn::Sub": f"https://${{{api}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/${{StageName}}"}, output
    assert template["Outputs"]["AudioBucketName"]["Value"] == {"Ref": "AudioBucket"}


def test_parameters_have_safe_defaults(template):
    params = template["Parameters"]
    assert params["StageName"]["Default"] == "Prod"
    assert params["AllowedOrigin"]["Default"] != "*"
    assert params["LogRetentionDays"]["Default"] in params["LogRetentionDays"]["AllowedValues"]
    assert params["RequiredGroup"]["Default"] == ""
    assert params["LogLevel"]["AllowedValues"] == ["DEBUG", "INFO", "WARN", "ERROR"]
    assert params["LogLevel"]["Default"] == "INFO"
    for name in ("AudioRetentionDays", "DictateUrlTtlSeconds"):
        assert params[name]["MinValue"] <= params[name]["Default"] <= params[name]["MaxValue"], name
    assert params["AudioRetentionDays"]["MinValue"] >= 1, "S3 expires objects after whole days"
    # A presigned URL dies with the role session that signed it: longer would not be honoured.
    assert params["DictateUrlTtlSeconds"]["Default"] == 900 and params["DictateUrlTtlSeconds"]["MaxValue"] <= 3600
    assert set(params["PollyEngine"]["AllowedValues"]) == {"neural", "standard"}
    assert params["PollyEngine"]["Default"] == "neural"
    voice = params["DefaultVoiceId"]
    assert voice["Default"] in voice["AllowedValues"], "the default voice is one of its allowed values"
    model = template["Resources"]["NotesApi"]["Properties"]["Models"]["DictateInput"]
    assert len(voice["Default"]) <= model["properties"]["VoiceId"]["maxLength"]


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
    for name, schema_name in (("NoteInput", "NoteInput"), ("PostInput", "PostInput"), ("DictateInput", "DictateRequest")):
        model, schema = models[name], schemas[schema_name]
        assert model.get("required", []) == schema.get("required", []), name
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


def test_no_stack_sets_or_deletes_the_accounts_api_gateway_logging_role(transformed):
    """API Gateway's CloudWatch Logs role is one per account and region: a stack that set it would
    overwrite its siblings' (default, dev, prod) and break their logging when deleted. account.yaml
    sets it once; scripts/deploy.sh deploys that before the stack where the region lacks it."""
    assert not resources_of(transformed, "AWS::ApiGateway::Account")
    for name, role in resources_of(transformed, "AWS::IAM::Role").items():
        assert "AmazonAPIGatewayPushToCloudWatchLogs" not in json.dumps(role), name
    # The REST stage still logs (through the account's role).
    (stage,) = resources_of(transformed, "AWS::ApiGateway::Stage").values()
    assert stage["Properties"]["AccessLogSetting"]["DestinationArn"]


def test_the_account_template_sets_the_role_once_and_keeps_it():
    account = yaml.load((ROOT / "account.yaml").read_text(), Loader=CfnLoader)
    resources = account["Resources"]
    assert {r["Type"] for r in resources.values()} == {"AWS::IAM::Role", "AWS::ApiGateway::Account"}
    (setting,) = [r for r in resources.values() if r["Type"] == "AWS::ApiGateway::Account"]
    (role_name,) = [n for n, r in resources.items() if r["Type"] == "AWS::IAM::Role"]
    # Created after its role (GetAtt orders it), and neither goes away with the stack.
    assert setting["Properties"]["CloudWatchRoleArn"] == {"Fn::GetAtt": [role_name, "Arn"]}
    for name, resource in resources.items():
        assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain", name
    role = resources[role_name]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert [p["Fn::Sub"] for p in role["ManagedPolicyArns"]] == ["arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"]
    lint = subprocess.run(["cfn-lint", str(ROOT / "account.yaml")], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_dictation_has_a_daily_budget_and_reserved_concurrency(template, transformed):
    params = template["Parameters"]
    assert params["DailySpeechCharactersPerUser"]["Default"] == 100000
    assert params["DictateReservedConcurrency"]["Default"] == 10
    props = template["Resources"]["DictateFunction"]["Properties"]
    variables = props["Environment"]["Variables"]
    assert variables["DAILY_SPEECH_CHARACTERS_PER_USER"] == {"Ref": "DailySpeechCharactersPerUser"}
    assert variables["USAGE_TABLE"] == {"Ref": "UsageTable"}
    assert props["ReservedConcurrentExecutions"] == {
        "Fn::If": ["DictateConcurrencyReserved", {"Ref": "DictateReservedConcurrency"}, {"Ref": "AWS::NoValue"}]
    }
    usage = template["Resources"]["UsageTable"]["Properties"]
    # The day's counters expire by TTL (crates/notes-dynamodb/src/usage.rs writes it).
    assert usage["TimeToLiveSpecification"] == {"AttributeName": "ExpiresAt", "Enabled": True}
    source = (ROOT / "crates/notes-dynamodb/src/usage.rs").read_text()
    assert 'const EXPIRES_AT: &str = "ExpiresAt";' in source


def test_the_purge_runs_on_user_deletions_in_this_pool_only(template, transformed):
    """Issue 22, item 2: an administrator's AdminDeleteUser in this stack's pool (and a user's own
    DeleteUser, which names no pool) reaches the purge function through EventBridge rules on
    CloudTrail's records, and EventBridge may invoke it for those rules alone."""
    events = template["Resources"]["PurgeFunction"]["Properties"]["Events"]
    assert {event["Type"] for event in events.values()} == {"EventBridgeRule"}, "nothing else invokes it"
    patterns = {name: event["Properties"]["Pattern"] for name, event in events.items()}
    for name, pattern in patterns.items():
        assert pattern["source"] == ["aws.cognito-idp"], name
        assert pattern["detail-type"] == ["AWS API Call via CloudTrail"], name
        assert pattern["detail"]["eventSource"] == ["cognito-idp.amazonaws.com"], name
    admin = patterns["AdminDeletedUser"]["detail"]
    assert admin["eventName"] == ["AdminDeleteUser"]
    assert admin["requestParameters"]["userPoolId"] == [{"Ref": "UserPool"}], "this stack's pool only"
    assert patterns["UserDeletedThemselves"]["detail"]["eventName"] == ["DeleteUser"]
    rules = resources_of(transformed, "AWS::Events::Rule")
    assert len(rules) == 2
    for name, rule in rules.items():
        (target,) = rule["Properties"]["Targets"]
        assert target["Arn"] == {"Fn::GetAtt": ["PurgeFunction", "Arn"]}, name
    permissions = {
        name: permission["Properties"]
        for name, permission in resources_of(transformed, "AWS::Lambda::Permission").items()
        if permission["Properties"]["FunctionName"] == {"Ref": "PurgeFunction"}
    }
    assert len(permissions) == 2
    for name, props in permissions.items():
        assert props["Principal"] == "events.amazonaws.com", name
        assert props["Action"] == "lambda:InvokeFunction", name
        (rule,) = [rule for rule in rules if props["SourceArn"] == {"Fn::GetAtt": [rule, "Arn"]}]
        assert rule in rules, name
    # The account function deletes users only after reading them (is the name still theirs?).
    account = EXPECTED_ACTIONS["AccountFunction"]["UserPool"]
    assert account == {"cognito-idp:AdminGetUser", "cognito-idp:AdminDeleteUser"}
    assert EXPECTED_ACTIONS["PurgeFunction"]["UserPool"] == {"cognito-idp:ListUsers"}, "the purge deletes no user"
