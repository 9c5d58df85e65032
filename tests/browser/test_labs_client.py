"""The labs' PollyNotes web client (lab 7), replayed request for request in a real Chromium, from
another origin, against `make dev`: what it sends and what it expects, as its source has it.

- every call: `Authorization: <raw ID token>` (no `Bearer`) and `Content-Type: application/json`,
  GET included (so every request is preflighted);
- `GET /notes` and `GET /notes/search?text=<as typed, not URL-encoded>` must answer a bare
  array whose elements have `NoteId` (string or number) and `Note`;
- `POST /notes {"NoteId": max(ids) + 1 or null when empty, "Note"}` to create, and
  `{"NoteId": parseInt(NoteId), "Note"}` to edit; the response body is ignored and the list
  reloaded after each write;
- `DELETE /notes/{id}`;
- `POST /notes/{id} {"VoiceId": <voice, "" until one is picked>}` must answer a JSON string, the
  URL of an mp3, which it plays in an `<audio>` element;
- any non-2xx is an error, and a response the browser withholds (CORS) is a network error.

A `fetch` the browser refuses for CORS rejects with a TypeError, which fails the test: passing
means every response was readable cross-origin, as the browser checks it."""

import base64
import json
import os
import uuid


# The client's calls, as it makes them (its `API` module), in the page's own JavaScript.
LABS_CLIENT = r"""
async ({api, token}) => {
  const headers = {"Authorization": token, "Content-Type": "application/json"};
  const log = [];
  async function call(method, path, body) {
    const init = {method, headers};
    if (body !== undefined) init.body = JSON.stringify(body);
    let response;
    try {
      response = await fetch(api + path, init);
    } catch (error) {
      throw new Error(`${method} ${path}: network error (CORS?): ${error}`);
    }
    const text = await response.text();
    log.push({method, path, status: response.status});
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }
  async function list() {
    const notes = await call("GET", "/notes");
    if (!Array.isArray(notes)) throw new Error("GET /notes is not an array: " + JSON.stringify(notes));
    for (const note of notes) {
      if (note.NoteId === undefined || typeof note.Note !== "string") throw new Error("bad element " + JSON.stringify(note));
    }
    return notes;
  }
  // The client's search box: the text as typed, not URL-encoded.
  async function search(text) {
    const notes = await call("GET", "/notes/search?text=" + text);
    if (!Array.isArray(notes)) throw new Error("search is not an array: " + JSON.stringify(notes));
    return notes;
  }
  // Its "add" button: the next id is computed from the list on screen.
  function nextId(notes) {
    return notes.length ? Math.max(...notes.map((n) => parseInt(n.NoteId))) + 1 : null;
  }
  async function add(notes, text) {
    await call("POST", "/notes", {NoteId: nextId(notes), Note: text});
    return list();
  }
  async function edit(note, text) {
    await call("POST", "/notes", {NoteId: parseInt(note.NoteId), Note: text});
    return list();
  }
  // Its "speak" button: the URL of an mp3, played by an audio element (no CORS: a media element
  // without `crossorigin` loads from anywhere, as the labs' S3 URL does).
  async function speak(note, voice) {
    const url = await call("POST", "/notes/" + note.NoteId, {VoiceId: voice});
    if (typeof url !== "string") throw new Error("dictate did not answer a JSON string: " + JSON.stringify(url));
    const audio = new Audio();
    const loaded = new Promise((resolve, reject) => {
      audio.onloadedmetadata = resolve;
      audio.onerror = () => reject(new Error("the mp3 did not load: media error " + (audio.error && audio.error.code)));
    });
    audio.src = url;
    await loaded;
    return {url, duration: audio.duration};
  }
  async function remove(note) {
    await call("DELETE", "/notes/" + note.NoteId);
    return list();
  }

  const states = {};
  let notes = await list();
  states.initial = notes;
  states.firstId = nextId(notes);
  notes = await add(notes, "milk & eggs");          // NoteId null: the server picks an integer id
  states.afterFirst = notes;
  notes = await add(notes, "call mum");              // NoteId max + 1
  states.afterSecond = notes;
  const first = notes.find((n) => n.Note === "milk & eggs");
  notes = await edit(first, "oat milk & eggs");      // parseInt of a server-generated id
  states.afterEdit = notes;
  states.search = await search("milk & eggs");       // sent as typed
  states.searchAll = await search("");               // the box cleared
  states.spoken = await speak(first, "Joey");
  states.spokenDefault = await speak(first, "");     // no voice picked yet
  const second = notes.find((n) => n.Note === "call mum");
  notes = await remove(second);
  states.afterDelete = notes;
  states.reloaded = await list();
  return {states, log};
}
"""


def test_the_labs_client_works_unmodified_from_another_origin(page, api_url, id_token, page_origin):
    assert not api_url.startswith(page_origin), "the page must be on another origin than the API"
    result = page.evaluate(LABS_CLIENT, {"api": api_url, "token": id_token})
    states, log = result["states"], result["log"]

    assert states["initial"] == [], "a new user's list is empty"
    assert states["firstId"] is None, "so the client sends NoteId null for its first note"

    (first,) = states["afterFirst"]
    generated = first["NoteId"]
    assert str(generated).isdigit() and int(generated) <= 2**53 - 1, (
        f"a server-generated id parseInt reads exactly: {generated!r}"
    )
    ids = {note["Note"]: int(note["NoteId"]) for note in states["afterSecond"]}
    assert ids == {"milk & eggs": int(generated), "call mum": int(generated) + 1}, "max + 1"

    edited = {note["Note"] for note in states["afterEdit"]}
    assert edited == {"oat milk & eggs", "call mum"}, (
        "editing through parseInt(NoteId) changed the note itself, and added none"
    )
    assert [int(n["NoteId"]) for n in states["afterEdit"] if n["Note"] == "oat milk & eggs"] == [int(generated)]

    # `?text=milk & eggs` reaches the server as text="milk " plus a stray parameter " eggs":
    # the labs' search still finds the note, and nothing errs.
    assert [note["Note"] for note in states["search"]] == ["oat milk & eggs"]
    assert {note["Note"] for note in states["searchAll"]} == edited, "an empty search lists every note"

    assert [note["Note"] for note in states["afterDelete"]] == ["oat milk & eggs"]
    assert states["reloaded"] == states["afterDelete"]
    for spoken in (states["spoken"], states["spokenDefault"]):
        assert spoken["url"].startswith("http") and ".mp3?" in spoken["url"], spoken
        assert spoken["duration"] > 0.5, f"the audio element plays the note: {spoken}"
    assert "-Joey-" in states["spoken"]["url"] and "-Joanna-" in states["spokenDefault"]["url"], (
        "the voice asked for, and the default voice for an empty VoiceId"
    )

    assert all(200 <= entry["status"] < 300 for entry in log), log
    assert len(log) == 14, log


def test_a_page_from_an_origin_not_allowed_cannot_read_the_api(browser, api_url, id_token, unlisted_origin):
    # The control for the test above: the same call from an origin make dev does not allow is a
    # network error in the page, because the browser withholds the response.
    page = browser.new_page()
    try:
        page.goto(unlisted_origin + "/")
        outcome = page.evaluate(
            """async ({api, token}) => {
                 try {
                   const r = await fetch(api + "/notes", {headers: {"Authorization": token, "Content-Type": "application/json"}});
                   return "read " + r.status;
                 } catch (error) { return "blocked: " + error.name; }
               }""",
            {"api": api_url, "token": id_token},
        )
    finally:
        page.close()
    assert outcome == "blocked: TypeError", outcome


# The labs' sign-in form: amazon-cognito-identity-js's `authenticateUser`, whose default flow is
# USER_SRP_AUTH (the password never leaves the page; the page proves it knows it). The library
# is the one the project installs (node_modules), loaded into a page of another origin as the
# labs' React bundle carries it.
LABS_SIGN_IN = r"""
async ({poolId, clientId, endpoint, username, password}) => {
  const C = window.AmazonCognitoIdentity;
  const pool = new C.CognitoUserPool({UserPoolId: poolId, ClientId: clientId, endpoint});
  const user = new C.CognitoUser({Username: username, Pool: pool});
  return await new Promise((resolve) => {
    user.authenticateUser(new C.AuthenticationDetails({Username: username, Password: password}), {
      onSuccess: (session) => resolve({ok: true, idToken: session.getIdToken().getJwtToken(),
                                       flow: user.getAuthenticationFlowType()}),
      onFailure: (error) => resolve({ok: false, code: error.code, message: error.message}),
    });
  });
}
"""

COGNITO_LIBRARY = os.path.join("node_modules", "amazon-cognito-identity-js", "dist", "amazon-cognito-identity.min.js")


def _claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_the_labs_sign_in_form_signs_in_with_srp_and_refuses_a_wrong_password(page, api_url, cognito, pool):
    username = f"labs-srp-{uuid.uuid4().hex[:8]}"
    password = "Correct-Horse-9!"
    cognito.sign_up(
        ClientId=pool["client_id"],
        Username=username,
        Password=password,
        UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}],
    )
    cognito.admin_confirm_sign_up(UserPoolId=pool["pool_id"], Username=username)
    sub = next(a["Value"] for a in cognito.admin_get_user(UserPoolId=pool["pool_id"], Username=username)["UserAttributes"] if a["Name"] == "sub")
    with open(COGNITO_LIBRARY, encoding="utf-8") as library:
        page.add_script_tag(content=library.read())
    form = {"poolId": pool["pool_id"], "clientId": pool["client_id"], "endpoint": pool["endpoint"], "username": username}

    signed_in = page.evaluate(LABS_SIGN_IN, {**form, "password": password})
    assert signed_in["ok"], signed_in
    assert signed_in["flow"] == "USER_SRP_AUTH", "the library's default flow, as the labs' form uses it"
    claims = _claims(signed_in["idToken"])
    assert (claims["cognito:username"], claims["sub"]) == (username, sub)
    # The labs' client then calls the API with that token, raw.
    status = page.evaluate(
        "async ({api, token}) => (await fetch(api + '/notes', {headers: {Authorization: token}})).status",
        {"api": api_url, "token": signed_in["idToken"]},
    )
    assert status == 200

    refused = page.evaluate(LABS_SIGN_IN, {**form, "password": "Wrong-Horse-9!"})
    assert (refused["ok"], refused["code"], refused["message"]) == (
        False,
        "NotAuthorizedException",
        "Incorrect username or password.",
    ), refused
    # The app client prevents user existence errors: an unknown name reads as a wrong password.
    unknown = page.evaluate(LABS_SIGN_IN, {**form, "username": username + "-nobody", "password": password})
    assert (unknown["ok"], unknown["code"], unknown["message"]) == (
        False,
        "NotAuthorizedException",
        "Incorrect username or password.",
    ), unknown
