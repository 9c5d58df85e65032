"""The HTTP API fixtures in events/ are exactly what scripts/http-api-fixtures.py generates from
`sam local generate-event apigateway http-api-proxy`: regenerated and compared, so a hand edit or
a change of the generator cannot go unnoticed. (The binaries are tested with them in crates/e2e.)"""

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_http_api_fixtures_are_generated():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts/http-api-fixtures.py"), "--check"],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr or result.stdout


def test_every_route_has_an_http_api_fixture():
    import json
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=Loader)
    routes = set()
    for resource in template["Resources"].values():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        for event in (resource["Properties"].get("Events") or {}).values():
            if event.get("Type") == "Api":
                routes.add(f'{event["Properties"]["Method"].upper()} {event["Properties"]["Path"]}')
    covered = {
        json.loads(path.read_text()).get("routeKey") for path in (ROOT / "events").glob("http-*.json")
    }
    assert routes and routes <= covered, f"routes without an HTTP API fixture: {sorted(routes - covered)}"
