"""The stack's hosting of the web client (HostWebClient, on by default): a private bucket that
only its CloudFront distribution reads, through origin access control; HTTPS only; the page's
security headers as a response headers policy whose Content-Security-Policy is make dev's with
this deployment's origins; and the distribution's origin first in every CORS list, in the same
deploy."""

import re

import tomllib

from conftest import ROOT, functions, sam_transform

WEB_RESOURCES = {
    "WebBucket": "AWS::S3::Bucket",
    "WebBucketPolicy": "AWS::S3::BucketPolicy",
    "WebOriginAccessControl": "AWS::CloudFront::OriginAccessControl",
    "WebResponseHeadersPolicy": "AWS::CloudFront::ResponseHeadersPolicy",
    "WebDistribution": "AWS::CloudFront::Distribution",
}
WEB_OUTPUTS = {"WebUrl", "WebBucketName", "WebDistributionId"}
HOSTED = "https://${WebDistribution.DomainName}"
# The hosted page's policy: connect-src names API Gateway and Cognito of the stack's region (not
# the APIs' ids: their CORS names the distribution, so naming them would be a dependency cycle),
# media-src the audio bucket's presigned URLs; never a loopback origin; never framed.
HOSTED_CONNECT = "https://*.execute-api.${AWS::Region}.${AWS::URLSuffix} https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}"
HOSTED_MEDIA = "https://*.s3.${AWS::Region}.${AWS::URLSuffix}"


def headers_policy(template):
    return template["Resources"]["WebResponseHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]


def rust_policy_format():
    """The directives make dev's web server sends (crates/notes-devkit/src/web_client.rs,
    content_security_policy), with {media} and {connect} where each deployment's origins go."""
    source = (ROOT / "crates/notes-devkit/src/web_client.rs").read_text()
    body = source.split("pub fn content_security_policy(", 1)[1]
    match = re.search(r'format!\(\s*"((?:[^"\\]|\\.)*)"', body, re.S)
    assert match, "content_security_policy formats one string"
    return re.sub(r"\\\n\s*", "", match.group(1))


def test_hosting_is_on_by_default_and_every_piece_depends_on_it(template):
    parameter = template["Parameters"]["HostWebClient"]
    assert parameter["Default"] == "true" and parameter["AllowedValues"] == ["true", "false"]
    assert template["Conditions"]["HostsWebClient"] == {"Fn::Equals": [{"Ref": "HostWebClient"}, "true"]}
    for name, kind in WEB_RESOURCES.items():
        resource = template["Resources"][name]
        assert resource["Type"] == kind, name
        assert resource["Condition"] == "HostsWebClient", f"{name} exists only when the stack hosts the page"
    for name in WEB_OUTPUTS:
        assert template["Outputs"][name]["Condition"] == "HostsWebClient", name
    assert template["Outputs"]["WebUrl"]["Value"] == {"Fn::Sub": HOSTED}
    assert template["Outputs"]["WebBucketName"]["Value"] == {"Ref": "WebBucket"}
    assert template["Outputs"]["WebDistributionId"]["Value"] == {"Ref": "WebDistribution"}


def test_the_site_bucket_is_private_encrypted_and_holds_only_built_files(template):
    bucket = template["Resources"]["WebBucket"]
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
    }
    (encryption,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}, "ACLs off"
    assert "WebsiteConfiguration" not in props, "no public website endpoint: CloudFront only"
    # Built files, uploaded again by make publish-web: deleted with the stack.
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Delete"


def test_only_this_distribution_may_read_the_site_and_only_over_https(template):
    statements = template["Resources"]["WebBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert allows == [{
        "Sid": "AllowThisDistributionToRead",
        "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject",
        "Resource": {"Fn::Sub": "${WebBucket.Arn}/*"},
        "Condition": {"StringEquals": {"AWS:SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${WebDistribution}"}}},
    }], "one reader: this distribution, objects only (no listing)"
    (deny,) = [s for s in statements if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} and deny["Action"] == "s3:*"


def test_the_distribution_signs_with_origin_access_control_and_redirects_to_https(template):
    oac = template["Resources"]["WebOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"], oac["SigningProtocol"]) == ("s3", "always", "sigv4")
    config = template["Resources"]["WebDistribution"]["Properties"]["DistributionConfig"]
    assert config["Enabled"] is True and config["DefaultRootObject"] == "index.html"
    (origin,) = config["Origins"]
    assert origin["DomainName"] == {"Fn::GetAtt": ["WebBucket", "RegionalDomainName"]}
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["WebOriginAccessControl", "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}, "no legacy origin access identity"
    behavior = config["DefaultCacheBehavior"]
    assert behavior["TargetOriginId"] == origin["Id"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["AllowedMethods"] == ["GET", "HEAD"], "a static site: nothing is written through it"
    assert behavior["ResponseHeadersPolicyId"] == {"Ref": "WebResponseHeadersPolicy"}
    assert "CacheBehaviors" not in config, "one behavior: every path gets the headers"


def test_the_security_headers_are_the_pages_policy_with_this_deployments_origins(template):
    headers = headers_policy(template)
    csp = headers["ContentSecurityPolicy"]
    assert csp["Override"] is True
    expected = rust_policy_format().format(media=HOSTED_MEDIA, connect=HOSTED_CONNECT)
    assert csp["ContentSecurityPolicy"] == {"Fn::Sub": expected}, "make dev's directives, the deployment's origins"
    text = csp["ContentSecurityPolicy"]["Fn::Sub"]
    assert "frame-ancestors 'none'" in text
    for loopback in ("localhost", "127.0.0.1"):
        assert loopback not in text
    directives = {d.split()[0]: d.split()[1:] for d in text.split("; ")}
    assert "'self'" not in directives["connect-src"] and "https:" not in directives["connect-src"], "only API Gateway and Cognito"
    assert headers["FrameOptions"] == {"FrameOption": "DENY", "Override": True}
    assert headers["ContentTypeOptions"] == {"Override": True}
    assert headers["ReferrerPolicy"] == {"ReferrerPolicy": "no-referrer", "Override": True}
    hsts = headers["StrictTransportSecurity"]
    assert hsts["AccessControlMaxAgeSec"] >= 31536000 and hsts["Override"] is True


def test_the_hosted_origin_comes_first_in_every_cors_list_in_the_same_deploy():
    from conftest import load_template

    output = sam_transform(load_template())
    resources = output["Resources"]
    for name, function in resources.items():
        variables = function.get("Properties", {}).get("Environment", {}).get("Variables", {})
        if function["Type"] == "AWS::Lambda::Function" and "ALLOWED_ORIGINS" in variables:
            value = variables["ALLOWED_ORIGINS"]
            value = value.get("Fn::Sub", value) if isinstance(value, dict) else value
            assert value == f"{HOSTED},http://localhost:3000", name
    (http,) = [r for r in resources.values() if r["Type"] == "AWS::ApiGatewayV2::Api"]
    assert http["Properties"]["Body"]["x-amazon-apigateway-cors"]["allowOrigins"] == [HOSTED, "http://localhost:3000"]
    (rest,) = [r for r in resources.values() if r["Type"] == "AWS::ApiGateway::RestApi"]
    body = rest["Properties"]["Body"]
    for path, operations in body["paths"].items():
        headers = operations["options"]["x-amazon-apigateway-integration"]["responses"]["default"]["responseParameters"]
        assert headers["method.response.header.Access-Control-Allow-Origin"] == f"'{HOSTED}'", f"{path}: the page's preflight"
    for response in ("DEFAULT_4XX", "DEFAULT_5XX"):
        headers = body["x-amazon-apigateway-gateway-responses"][response]["responseParameters"]
        assert headers["gatewayresponse.header.Access-Control-Allow-Origin"] == f"'{HOSTED}'", response
    (rule,) = resources["AudioBucket"]["Properties"]["CorsConfiguration"]["CorsRules"]
    assert rule["AllowedOrigins"] == [HOSTED, "http://localhost:3000"]


def test_without_hosting_or_with_any_origin_the_lists_are_the_parameters(template):
    for parameters, origins in (({"HostWebClient": "false"}, ["http://localhost:3000"]),
                                ({"HostWebClient": "false", "AllowedOrigin": "https://a.example,https://b.example"}, ["https://a.example", "https://b.example"]),
                                ({"AllowedOrigin": "*"}, ["*"])):
        output = sam_transform(template, parameters)
        for name in functions(template):
            variables = output["Resources"][name]["Properties"]["Environment"]["Variables"]
            if "ALLOWED_ORIGINS" in variables:
                assert variables["ALLOWED_ORIGINS"] == ",".join(origins), (parameters, name)
        (http,) = [r for r in output["Resources"].values() if r["Type"] == "AWS::ApiGatewayV2::Api"]
        assert http["Properties"]["Body"]["x-amazon-apigateway-cors"]["allowOrigins"] == origins, parameters


def test_cloudfront_names_fit_for_every_stage():
    """The origin access control's name (at most 64 characters) is the stack's name and region:
    CloudFront names are global, so two regions' stacks of one name must not collide."""
    samconfig = tomllib.loads((ROOT / "samconfig.toml").read_text())
    longest_region = "ap-southeast-5"
    for environment, commands in samconfig.items():
        if not isinstance(commands, dict):
            continue
        for command in commands.values():
            name = command.get("parameters", {}).get("stack_name")
            if name:
                assert len(f"{name}-{longest_region}") <= 64, (environment, name)
