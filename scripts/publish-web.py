#!/usr/bin/env python3
"""`make publish-web`: the web client onto the stack's own hosting (HostWebClient=true), in one
command. Reads the stack's outputs, writes the page's config.js for it (the REST API with the
stack's API key when the stack requires one, or the HTTP API), gathers the site (web/, that
config.js, the Cognito library) into target/web-site, refuses it if it names a loopback origin,
uploads it to the stack's bucket with explicit content types and Cache-Control, deletes what is
no longer part of it, and invalidates the distribution. Only the deploy tools: Python, the AWS CLI
of .venv (scripts/setup.sh deploy); no Node.js: the page's one library comes from node_modules
when `npm ci` ran, or else as the very tarball package-lock.json pins, checked against its hash.

Offline (tests/deploy/test_publish_web.py) it runs against moto: --outputs names a saved
describe-stacks answer, and AWS_ENDPOINT_URL points the AWS CLI at moto's S3, API Gateway and
CloudFront.
"""

import argparse
import base64
import hashlib
import io
import json
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[1]
COGNITO_PACKAGE = "amazon-cognito-identity-js"
COGNITO_LIBRARY = ROOT / "node_modules" / COGNITO_PACKAGE / "dist/amazon-cognito-identity.min.js"
# The page's files are not fingerprinted (no build step), so a browser must never run an old
# module beside a new one: every file is revalidated (a 304 when unchanged), and a publish
# invalidates CloudFront's copies.
CACHE_CONTROL = "no-cache"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
# What the hosted page must never name: the config or a policy pointing at a developer's machine.
LOOPBACK = re.compile(r"localhost|127\.0\.0\.1|\[::1\]")


class PublishError(Exception):
    """A refusal worth one line: what is wrong, and what to do."""


def say(message):
    print(f"==> {message}", file=sys.stderr, flush=True)


def aws(*args, capture=True):
    """The AWS CLI of .venv (or of PATH), with the caller's credentials, region and endpoint."""
    venv_aws = ROOT / ".venv/bin/aws"
    command = [str(venv_aws) if venv_aws.is_file() else "aws", *args]
    try:
        result = subprocess.run(command, capture_output=capture, text=True)
    except OSError as error:
        raise PublishError(f"could not run the AWS CLI ({error}): run make setup-deploy") from None
    if result.returncode != 0:
        detail = (result.stderr or "").strip().splitlines()[-1:] if capture else []
        raise PublishError(f"aws {' '.join(args[:2])} failed{': ' + detail[0] if detail else ''}")
    return result.stdout if capture else ""


def stack_document(args):
    if args.outputs:
        text = pathlib.Path(args.outputs).read_text()
    else:
        text = aws("cloudformation", "describe-stacks", "--stack-name", args.stack, "--output", "json")
    try:
        document = json.loads(text)
        (stack,) = document["Stacks"]
        return stack
    except (ValueError, KeyError, TypeError) as error:
        raise PublishError(f"not a describe-stacks answer of one stack: {error!r}") from None


def outputs_of(stack):
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def parameter(stack, name):
    return next((p.get("ParameterValue") for p in stack.get("Parameters", []) if p.get("ParameterKey") == name), None)


def page_config(stack, front, api_key):
    """window.NOTES_CONFIG's values, as `notes-dev web-config` writes them for a deployed stack
    (crates/notes-devkit/src/web_client.rs, WebConfig::from_stack_outputs)."""
    outputs = outputs_of(stack)

    def output(key):
        if key not in outputs:
            raise PublishError(f"the stack has no output {key}: is it this project's template.yaml, deployed?")
        return outputs[key]

    api_url = output("ApiUrl" if front == "rest" else "HttpApiUrl").rstrip("/")
    if not api_url.startswith("https://"):
        raise PublishError(f"the stack's API URL {api_url!r} is not an https:// URL")
    pool = output("UserPoolId")
    match = re.fullmatch(r"([a-z0-9-]+)_[A-Za-z0-9]+", pool)
    if not match:
        raise PublishError(f"the stack's UserPoolId {pool!r} is not <region>_<id>")
    client = output("UserPoolClientId")
    if not re.fullmatch(r"[A-Za-z0-9]+", client):
        raise PublishError(f"the stack's UserPoolClientId {client!r} is not an app client id")
    return {
        "apiUrl": api_url,
        "apiKey": api_key or "",
        "region": match.group(1),
        "userPoolId": pool,
        "clientId": client,
        "cognitoEndpoint": None,
    }


def api_key_for(stack, front, given):
    """The REST API wants the stack's key on every method unless deployed with
    ApiKeyRequired=false: the hosted page gets it (a key in a public page meters, it does not
    authenticate; the Cognito token does). The HTTP API takes none."""
    if front == "http":
        return ""
    if given is not None:
        return given
    if parameter(stack, "ApiKeyRequired") == "false":
        return ""
    key_id = outputs_of(stack).get("ApiKeyId")
    if not key_id:
        raise PublishError("the stack has no output ApiKeyId: is it this project's template.yaml, deployed?")
    say(f"reading the value of the stack's API key {key_id} (the REST API requires it)")
    value = aws("apigateway", "get-api-key", "--api-key", key_id, "--include-value", "--query", "value", "--output", "text").strip()
    if not value or value == "None":
        raise PublishError(f"API key {key_id} has no value")
    return value


def config_js(config):
    return (
        "// The web client's configuration, generated by `make publish-web` from a deployed stack's outputs; do not edit: it is rewritten.\n"
        f"window.NOTES_CONFIG = Object.freeze({json.dumps(config, indent=2)});\n"
    )


def library_from_tarball(url, integrity):
    """The library's file out of an npm tarball, refused unless the tarball's hash is
    `integrity` (package-lock.json's "sha512-<base64>")."""
    algorithm, _, expected = integrity.partition("-")
    if algorithm not in ("sha512", "sha384", "sha256") or not expected:
        raise PublishError(f"package-lock.json's integrity {integrity!r} is not <sha512|sha384|sha256>-<base64>")
    try:
        with urllib.request.urlopen(url, timeout=60) as answer:
            data = answer.read()
    except OSError as error:
        raise PublishError(f"could not download {url}: {error}") from None
    if base64.b64encode(hashlib.new(algorithm, data).digest()).decode() != expected:
        raise PublishError(f"{url} does not match package-lock.json's integrity: refused")
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tarball:
            member = tarball.extractfile(f"package/dist/{COGNITO_LIBRARY.name}")
            if member is None:
                raise KeyError(COGNITO_LIBRARY.name)
            return member.read()
    except (tarfile.TarError, KeyError) as error:
        raise PublishError(f"{url} holds no dist/{COGNITO_LIBRARY.name}: {error}") from None


def cognito_library():
    """node_modules' copy when `npm ci` ran (make dev, make test); otherwise the version
    package-lock.json pins, from the npm registry, so that publishing needs no Node.js."""
    if COGNITO_LIBRARY.is_file():
        return COGNITO_LIBRARY.read_bytes()
    locked = json.loads((ROOT / "package-lock.json").read_text())["packages"][f"node_modules/{COGNITO_PACKAGE}"]
    url = f"https://registry.npmjs.org/{COGNITO_PACKAGE}/-/{COGNITO_PACKAGE}-{locked['version']}.tgz"
    say(f"downloading {COGNITO_PACKAGE} {locked['version']} (package-lock.json) from the npm registry")
    return library_from_tarball(url, locked["integrity"])


def gather(site, config):
    """web/ as it is (but the node-test manifest and any local config.js), the generated
    config.js and the Cognito library, into `site`."""
    shutil.rmtree(site, ignore_errors=True)
    web = ROOT / "web"

    def left_out(directory, names):
        # web/config.js is `make web-config`'s (replaced below); web/js/package.json only tells
        # node --test that the modules are ES modules; hidden files are nobody's business.
        return [name for name in names if name.startswith(".") or name == "package.json"
                or (pathlib.Path(directory) == web and name == "config.js")]

    shutil.copytree(web, site, ignore=left_out)
    (site / "config.js").write_text(config_js(config))
    (site / "vendor").mkdir(exist_ok=True)
    (site / "vendor" / COGNITO_LIBRARY.name).write_bytes(cognito_library())
    for path in (site / "index.html", site / "config.js"):
        found = LOOPBACK.search(path.read_text())
        if found:
            raise PublishError(f"{path.relative_to(site)} names {found.group(0)}: a hosted page must not point at a loopback address")
    for path in site.rglob("*"):
        if path.is_file() and path.suffix not in CONTENT_TYPES:
            raise PublishError(f"{path.relative_to(site)}: no content type known for {path.suffix!r} (scripts/publish-web.py)")


def upload(site, bucket):
    """Each kind of file with its content type (not guessed from the machine's mime.types), the
    configuration and then the page last, so that a page never names a file not yet there; then
    whatever the bucket holds beyond the site is deleted."""
    def cp(source, target, content_type, *filters):
        recursive = ["--recursive", *filters] if filters else []
        aws("s3", "cp", str(source), f"s3://{bucket}/{target}", *recursive, "--only-show-errors",
            "--content-type", content_type, "--cache-control", CACHE_CONTROL, capture=False)

    say(f"uploading the site to s3://{bucket}/")
    cp(site, "", CONTENT_TYPES[".css"], "--exclude", "*", "--include", "*.css")
    cp(site, "", CONTENT_TYPES[".js"], "--exclude", "*", "--include", "*.js", "--exclude", "config.js")
    cp(site / "config.js", "config.js", CONTENT_TYPES[".js"])
    cp(site, "", CONTENT_TYPES[".html"], "--exclude", "*", "--include", "*.html")
    wanted = {path.relative_to(site).as_posix() for path in site.rglob("*") if path.is_file()}
    listed = aws("s3api", "list-objects-v2", "--bucket", bucket, "--query", "Contents[].Key", "--output", "json")
    stale = sorted(set(json.loads(listed) or []) - wanted)
    for key in stale:
        say(f"deleting s3://{bucket}/{key}: no longer part of the site")
        aws("s3", "rm", f"s3://{bucket}/{key}", "--only-show-errors", capture=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--stack", default="serverless-notes-rust", help="the deployed stack (samconfig.toml's name)")
    source.add_argument("--outputs", help="a saved `aws cloudformation describe-stacks` answer instead")
    parser.add_argument("--api", choices=["rest", "http"], default="rest", help="which API the page calls")
    parser.add_argument("--api-key", default=None, help="the REST API key's value (default: read from the stack)")
    parser.add_argument("--site", default=str(ROOT / "target/web-site"), help="where the site is gathered")
    args = parser.parse_args()
    try:
        stack = stack_document(args)
        outputs = outputs_of(stack)
        missing = [key for key in ("WebBucketName", "WebDistributionId", "WebUrl") if not outputs.get(key)]
        if missing:
            raise PublishError(
                f"the stack has no output {missing[0]}: it does not host the page (deploy it with "
                "HostWebClient=true, the default), or use make web-config and make web-dist for another host")
        config = page_config(stack, args.api, api_key_for(stack, args.api, args.api_key))
        site = pathlib.Path(args.site)
        gather(site, config)
        upload(site, outputs["WebBucketName"])
        say(f"invalidating the distribution {outputs['WebDistributionId']}")
        aws("cloudfront", "create-invalidation", "--distribution-id", outputs["WebDistributionId"],
            "--paths", "/*", "--output", "json")
    except PublishError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    say(f"published: {outputs['WebUrl']} (API {config['apiUrl']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
