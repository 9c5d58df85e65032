"""`make publish-web` (scripts/publish-web.py), run offline as a user runs it: moto's server
stands in for S3, API Gateway and CloudFront (AWS_ENDPOINT_URL), a recorded describe-stacks
answer for CloudFormation; then every uploaded file is read back: the exact set of files, their
content types and Cache-Control, config.js with the stack's values and API key, no loopback
origin anywhere, the bucket's stale files gone and the distribution invalidated."""

import contextlib
import copy
import json
import os
import pathlib
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
RECORDED = ROOT / "crates/notes-devkit/tests/data/describe-stacks.json"
REGION = "eu-west-1"
BUCKET = "serverless-notes-rust-webbucket-9q8w7e6r5t4y"
API_KEY_VALUE = "pk5Tq9Wn2Lx7Rb4Zc8Hv3Jm6Ys1Fd0Ga"
LOOPBACK = ("localhost", "127.0.0.1")


def free_port():
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def moto_endpoint(tmp_path_factory):
    port = free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("w")
    server = subprocess.Popen(
        [str(pathlib.Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto_server did not start on port {port}")
                time.sleep(0.1)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def aws_env(moto_endpoint):
    env = dict(os.environ)
    env.update(
        AWS_ENDPOINT_URL=moto_endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
        AWS_REGION=REGION,
        PATH=f"{ROOT / '.venv/bin'}{os.pathsep}{env.get('PATH', '')}",
    )
    env.pop("AWS_PROFILE", None)
    return env


def client(service, moto_endpoint):
    import boto3

    return boto3.client(service, endpoint_url=moto_endpoint, region_name=REGION,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture(scope="module")
def stack(moto_endpoint, tmp_path_factory):
    """The stack's hosting as the template creates it, in moto: the bucket (holding a file of an
    earlier publish that the site no longer has), the API key and the distribution; and the
    recorded describe-stacks answer naming them, deployed with ApiKeyRequired=true."""
    s3 = client("s3", moto_endpoint)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket=BUCKET, Key="js/removed-module.js", Body=b"export {};")
    key = client("apigateway", moto_endpoint).create_api_key(name="notes", enabled=True, value=API_KEY_VALUE)
    distribution = client("cloudfront", moto_endpoint).create_distribution(DistributionConfig={
        "CallerReference": "notes-web",
        "Comment": "serverless-notes-rust: the notes web client",
        "Enabled": True,
        "DefaultRootObject": "index.html",
        "Origins": {"Quantity": 1, "Items": [{
            "Id": "WebBucket",
            "DomainName": f"{BUCKET}.s3.{REGION}.amazonaws.com",
            "S3OriginConfig": {"OriginAccessIdentity": ""},
        }]},
        "DefaultCacheBehavior": {"TargetOriginId": "WebBucket", "ViewerProtocolPolicy": "redirect-to-https",
                                 "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"},
    })["Distribution"]
    document = json.loads(RECORDED.read_text())
    (recorded,) = document["Stacks"]
    for item in recorded["Parameters"]:
        if item["ParameterKey"] == "ApiKeyRequired":
            item["ParameterValue"] = "true"
    values = {"WebBucketName": BUCKET, "WebDistributionId": distribution["Id"], "ApiKeyId": key["id"]}
    for output in recorded["Outputs"]:
        output["OutputValue"] = values.get(output["OutputKey"], output["OutputValue"])
    path = tmp_path_factory.mktemp("stack") / "describe-stacks.json"
    path.write_text(json.dumps(document))
    return {"outputs_file": path, "document": document, "distribution_id": distribution["Id"]}


def publish(aws_env, *args):
    return subprocess.run([sys.executable, str(ROOT / "scripts/publish-web.py"), *args],
                          env=aws_env, capture_output=True, text=True, timeout=300)


def config_of(script):
    _, rest = script.split("Object.freeze(", 1)
    json_text, _ = rest.rsplit(");", 1)
    return json.loads(json_text)


def bucket_files(moto_endpoint):
    s3 = client("s3", moto_endpoint)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    files = {}
    for key in keys:
        answer = s3.get_object(Bucket=BUCKET, Key=key)
        files[key] = (answer["ContentType"], answer.get("CacheControl"), answer["Body"].read())
    return files


def test_publish_web_uploads_the_page_with_the_stacks_config_and_invalidates(aws_env, moto_endpoint, stack, tmp_path):
    result = publish(aws_env, "--outputs", str(stack["outputs_file"]), "--site", str(tmp_path / "site"))
    assert result.returncode == 0, result.stderr
    files = bucket_files(moto_endpoint)

    web = ROOT / "web"
    expected = {p.relative_to(web).as_posix() for p in web.rglob("*") if p.is_file()}
    expected -= {"js/package.json", "config.js"}
    expected |= {"config.js", "vendor/amazon-cognito-identity.min.js"}
    assert set(files) == expected, "exactly the page, its config and its library; the removed module deleted"

    content_types = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
    for key, (content_type, cache_control, body) in files.items():
        assert content_type == content_types[pathlib.PurePosixPath(key).suffix], key
        assert cache_control == "no-cache", key
        if key != "vendor/amazon-cognito-identity.min.js":
            assert body == (tmp_path / "site" / key).read_bytes(), key
        if key in ("index.html", "config.js"):
            text = body.decode()
            for loopback in LOOPBACK:
                assert loopback not in text, f"{key} names {loopback}"
    assert files["js/app.js"][2] == (web / "js/app.js").read_bytes()
    assert b"Content-Security-Policy" not in files["index.html"][2], "the policy is CloudFront's header"

    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["document"]["Stacks"][0]["Outputs"]}
    assert config_of(files["config.js"][2].decode()) == {
        "apiUrl": outputs["ApiUrl"],
        "apiKey": API_KEY_VALUE,
        "region": REGION,
        "userPoolId": outputs["UserPoolId"],
        "clientId": outputs["UserPoolClientId"],
        "cognitoEndpoint": None,
    }, "the REST API with the stack's key (ApiKeyRequired=true)"

    invalidations = client("cloudfront", moto_endpoint).list_invalidations(DistributionId=stack["distribution_id"])
    assert invalidations["InvalidationList"]["Quantity"] >= 1, "the distribution is invalidated"
    assert outputs["WebUrl"] in result.stderr, "it ends with the page's address"


def test_publish_web_for_the_http_api_sends_no_key(aws_env, moto_endpoint, stack, tmp_path):
    result = publish(aws_env, "--outputs", str(stack["outputs_file"]), "--api", "http", "--site", str(tmp_path / "site"))
    assert result.returncode == 0, result.stderr
    config = config_of(bucket_files(moto_endpoint)["config.js"][2].decode())
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["document"]["Stacks"][0]["Outputs"]}
    assert config["apiUrl"] == outputs["HttpApiUrl"] and config["apiKey"] == ""


def test_a_stack_without_hosting_is_refused_and_nothing_is_uploaded(aws_env, moto_endpoint, stack, tmp_path):
    document = copy.deepcopy(stack["document"])
    (recorded,) = document["Stacks"]
    recorded["Outputs"] = [o for o in recorded["Outputs"] if not o["OutputKey"].startswith("Web")]
    path = tmp_path / "no-hosting.json"
    path.write_text(json.dumps(document))
    before = bucket_files(moto_endpoint)
    result = publish(aws_env, "--outputs", str(path), "--site", str(tmp_path / "site"))
    assert result.returncode == 1
    assert "does not host the page" in result.stderr and "HostWebClient=true" in result.stderr, result.stderr
    assert bucket_files(moto_endpoint) == before


def test_without_node_modules_the_library_is_the_locked_tarball_or_nothing(tmp_path):
    """Publishing needs no Node.js: without node_modules the script takes the tarball
    package-lock.json pins, and refuses one whose hash is not the lock's."""
    import base64
    import hashlib
    import importlib.util
    import io
    import tarfile

    spec = importlib.util.spec_from_file_location("publish_web", ROOT / "scripts/publish-web.py")
    publish_web = importlib.util.module_from_spec(spec)
    # No scripts/__pycache__ left in the working tree.
    writes_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        spec.loader.exec_module(publish_web)
    finally:
        sys.dont_write_bytecode = writes_bytecode

    library = publish_web.COGNITO_LIBRARY.read_bytes()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tarball:
        info = tarfile.TarInfo(f"package/dist/{publish_web.COGNITO_LIBRARY.name}")
        info.size = len(library)
        tarball.addfile(info, io.BytesIO(library))
    path = tmp_path / "package.tgz"
    path.write_bytes(buffer.getvalue())
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(buffer.getvalue()).digest()).decode()

    assert publish_web.library_from_tarball(path.as_uri(), integrity) == library
    wrong = "sha512-" + base64.b64encode(hashlib.sha512(b"another tarball").digest()).decode()
    with pytest.raises(publish_web.PublishError, match="does not match package-lock.json's integrity"):
        publish_web.library_from_tarball(path.as_uri(), wrong)
    with pytest.raises(publish_web.PublishError, match="is not <sha512"):
        publish_web.library_from_tarball(path.as_uri(), "md5-abc")
    locked = json.loads((ROOT / "package-lock.json").read_text())["packages"]["node_modules/amazon-cognito-identity-js"]
    assert locked["integrity"].startswith("sha512-"), "the lock pins the tarball the script would download"
