"""Our web client (web/), in a real Chromium, against `make dev`: the page on its own origin, the
local Cognito pool (moto) through amazon-cognito-identity-js, the API through the authorizer and
the function binaries. Everything is driven as a person uses it: labels, roles, visible text.

Where a test needs what no person can do from the page (an administrator revoking every
session, a token that expires, an API that goes away), it does exactly that from outside:
boto3 against the same pool, the page's own clock moved forward, the browser's connection to the
API refused. Each test saves screenshots into SCREENSHOT_DIR (default target/screenshots)."""

import base64
import hashlib
import hmac
import json
import os
import re
import struct
import time
import urllib.error
import urllib.request
import uuid

import pytest
from playwright.sync_api import expect

PASSWORD = "Correct-Horse-9!"
SESSION_ENDED = "Your session has ended. Please sign in again."
CANNOT_REACH = "Cannot reach the notes service. Check your connection and try again."
# Dictation runs espeak-ng and lame on a two-core machine; everything else answers in milliseconds.
AUDIO_TIMEOUT_MS = 60_000


AXE = os.path.join("node_modules", "axe-core", "axe.min.js")


def accessibility_violations(page):
    """axe-core's WCAG 2 A/AA rules on the page as it is now: labels, names, roles, contrast.
    Returns the serious and critical violations, each as `rule: targets`."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        with open(AXE, encoding="utf-8") as script:
            page.add_script_tag(content=script.read())
    results = page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}})"
    )
    return [
        f"{v['id']}: {[n['target'] for n in v['nodes']]}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def shot(page, directory, name, full_page=True):
    page.screenshot(path=os.path.join(directory, f"{name}.png"), full_page=full_page)


def new_page(browser, url):
    """A fresh browser profile (its own storage) on `url`, recording every JavaScript dialog."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.dialogs = []

    def on_dialog(dialog):
        page.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(url + "/")
    return page


def new_page_with_clock(browser, url):
    """Like `new_page`, with Playwright's clock installed first: the test can move the page's time."""
    context = browser.new_context()
    context.clock.install()
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(url + "/")
    return page


def create_user(cognito, pool, username):
    """Signs up and confirms a user as the labs' CLI flow does (sign-up, admin-confirm-sign-up)."""
    cognito.sign_up(
        ClientId=pool["client_id"],
        Username=username,
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}],
    )
    cognito.admin_confirm_sign_up(UserPoolId=pool["pool_id"], Username=username)


def id_token(cognito, pool, username):
    result = cognito.initiate_auth(
        ClientId=pool["client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
    )
    return result["AuthenticationResult"]["IdToken"]


def api(api_url, token, method, path, body=None, headers=None):
    """One call to the API from outside the page (another device of the same user)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(api_url + path, data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
            return response.status, dict(response.headers), json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        text = error.read().decode()
        return error.code, dict(error.headers), json.loads(text) if text else None


def all_notes(api_url, token):
    """Every note of the user, following the Link header."""
    notes, path = [], "/notes?limit=100"
    while path:
        status, headers, page = api(api_url, token, "GET", path)
        assert status == 200, page
        notes.extend(page)
        link = headers.get("Link") or headers.get("link") or ""
        match = re.search(r'<([^>]+)>;\s*rel="?next"?', link)
        path = match.group(1)[len(api_url) :] if match else None
    return notes


def signed_in_page(browser, web_url, cognito, pool, prefix):
    """A new user (signed up and confirmed through the pool) signed in on a fresh page."""
    username = unique(prefix)
    create_user(cognito, pool, username)
    page = new_page(browser, web_url)
    sign_in(page, username)
    return page, username


def sign_in(page, username, password=PASSWORD):
    form = page.get_by_role("form", name="Sign in")
    expect(form).to_be_visible()
    form.get_by_label("Username").fill(username)
    form.get_by_label("Password").fill(password)
    form.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {username}")).to_be_visible()


def new_note_box(page):
    return page.get_by_role("textbox", name="New note")


def notes_list(page):
    return page.get_by_role("list", name="Notes")


def note_item(page, text):
    return notes_list(page).get_by_role("listitem").filter(has_text=text)


def editing_item(page):
    """The note being edited: its text is in the editor now, no longer in the item's text."""
    return notes_list(page).get_by_role("listitem").filter(has=page.get_by_role("textbox", name="Edit note"))


def page_alert(page):
    """The page's own alert region (under the header): what is not about one field or note."""
    return page.locator(".messages").get_by_role("alert")


def notes_alert(page):
    """The alert above the notes list: a list or a search that did not load."""
    return page.get_by_role("region", name="Notes").locator("#notes-alert")


def composer_error(page):
    """The error beside the new note's box."""
    return page.get_by_role("form", name="New note").get_by_role("alert")


def add_note(page, text):
    new_note_box(page).fill(text)
    page.get_by_role("button", name="Add note").click()
    expect(note_item(page, text)).to_have_count(1)


def refresh_tokens_in_storage(page):
    return page.evaluate(
        "() => Object.entries(localStorage).filter(([k]) => k.endsWith('.refreshToken')).map(([, v]) => v)"
    )


def cognito_calls(page, target):
    """Records the page's calls of one Cognito operation (X-Amz-Target), with their bodies."""
    calls = []

    def on_request(request):
        if request.headers.get("x-amz-target", "").endswith("." + target):
            calls.append(request.post_data or "")

    page.on("request", on_request)
    return calls


def test_a_new_user_s_whole_journey(browser, web_url, api_url, cognito, pool, screenshot_dir):
    username = unique("journey")
    page = new_page(browser, web_url)
    expect(page.get_by_role("heading", name="PollyNotes")).to_be_visible()
    shot(page, screenshot_dir, "journey-01-sign-in")

    # Sign up, then confirm with the code (the local pool accepts any code, as its docs say).
    page.get_by_role("button", name="Create an account").click()
    sign_up = page.get_by_role("form", name="Create account")
    expect(sign_up.get_by_label("Username")).to_be_focused()
    sign_up.get_by_label("Username").fill(username)
    sign_up.get_by_label("Email").fill(f"{username}@example.com")
    sign_up.get_by_label("Password").fill(PASSWORD)
    sign_up.get_by_role("button", name="Create account").click()
    confirm = page.get_by_role("form", name="Confirm account")
    expect(confirm).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("We sent a confirmation code")
    expect(confirm.get_by_label("Username")).to_have_value(username)
    confirm.get_by_role("button", name="Send a new code").click()
    expect(page.get_by_role("status")).to_contain_text(f"We sent a new code to {username[0]}***@e***")
    confirm.get_by_label("Confirmation code").fill("123456")
    confirm.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status")).to_contain_text("Account confirmed")
    expect(page.get_by_role("form", name="Sign in").get_by_label("Username")).to_have_value(username)

    # Older notes, written from another device before this sign-in: more than one page.
    token = id_token(cognito, pool, username)
    older = 25
    for number in range(older):
        status, _, body = api(api_url, token, "POST", "/notes", {"Note": f"older note {number:02}"})
        assert status == 201, body

    sign_in(page, username)
    expect(new_note_box(page)).to_be_focused()
    expect(page.get_by_role("button", name="More notes")).to_be_visible()
    first_page = notes_list(page).get_by_role("listitem").count()
    assert 0 < first_page < older, f"the first page holds {first_page} of {older} notes"
    expect(notes_list(page).get_by_role("listitem").first).to_contain_text(f"older note {older - 1:02}")

    # Three notes: the third by a double click, which must still create one note.
    add_note(page, "first note")
    expect(page.get_by_role("status")).to_contain_text("Note added.")
    # The item holds its text, its time and its three actions, and nothing else.
    expect(note_item(page, "first note")).to_have_text(re.compile(r"^first noteUpdated [^\n]+EditListenDelete$"))
    expect(new_note_box(page)).to_be_focused()
    add_note(page, "second note")
    new_note_box(page).fill("milk & eggs 100%")
    page.get_by_role("button", name="Add note").dblclick()
    expect(note_item(page, "milk & eggs 100%")).to_have_count(1)
    expect(notes_list(page).get_by_role("listitem").first).to_contain_text("milk & eggs 100%")
    stored = all_notes(api_url, token)
    assert [n["Note"] for n in stored].count("milk & eggs 100%") == 1, "a double click created two notes"
    assert len(stored) == older + 3

    # "More notes" follows the Link cursor to the end.
    page.get_by_role("button", name="More notes").click()
    expect(notes_list(page).get_by_role("listitem")).to_have_count(older + 3)
    expect(page.get_by_role("button", name="More notes")).to_have_count(0)
    shot(page, screenshot_dir, "journey-02-notes")

    # Edit.
    note_item(page, "second note").get_by_role("button", name="Edit").click()
    second = editing_item(page)
    editor = second.get_by_label("Edit note")
    expect(editor).to_be_focused()
    editor.fill("second note, edited")
    second.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Note saved.")
    edited = note_item(page, "second note, edited")
    expect(edited).to_have_count(1)
    expect(edited.get_by_role("button", name="Edit")).to_be_focused()

    # Search as you type, the text URL-encoded: unencoded, "&" and "%" would break the query.
    search = page.get_by_label("Search notes")
    search.fill("& eggs 100%")
    expect(notes_list(page).get_by_role("listitem")).to_have_count(1)
    expect(notes_list(page).get_by_role("listitem").first).to_contain_text("milk & eggs 100%")
    search.fill("EDITED")
    expect(notes_list(page).get_by_role("listitem")).to_have_count(1)
    expect(notes_list(page).get_by_role("listitem").first).to_contain_text("second note, edited")
    search.fill("no such words anywhere")
    expect(page.get_by_text("No notes match your search.")).to_be_visible()
    search.fill("")
    expect(note_item(page, "first note")).to_have_count(1)

    # Dictate in a chosen voice: the <audio> element loads real audio.
    page.get_by_label("Voice").select_option("Matthew")
    first = note_item(page, "first note")
    first.get_by_role("button", name="Listen").click()
    audio = first.locator("audio")
    expect(audio).to_have_count(1, timeout=AUDIO_TIMEOUT_MS)
    expect(first.get_by_label("Dictated note")).to_be_visible()
    page.wait_for_function(
        "audio => audio.readyState >= 1 && audio.duration > 0",
        arg=audio.element_handle(),
        timeout=AUDIO_TIMEOUT_MS,
    )
    duration = audio.evaluate("audio => audio.duration")
    assert duration > 0, duration
    # The README's picture: the top of the page down to the dictated note's player.
    page.set_viewport_size({"width": 1280, "height": 1160})
    page.evaluate("() => window.scrollTo(0, 0)")
    shot(page, screenshot_dir, "journey-03-dictated", full_page=False)
    page.set_viewport_size({"width": 1280, "height": 900})

    # Delete, with a confirmation that can be declined.
    milk = note_item(page, "milk & eggs 100%")
    milk.get_by_role("button", name="Delete").click()
    expect(milk.get_by_text("Delete this note?")).to_be_visible()
    milk.get_by_role("button", name="Keep note").click()
    expect(milk).to_have_count(1)
    milk.get_by_role("button", name="Delete").click()
    milk.get_by_role("button", name="Delete note").click()
    expect(page.get_by_role("status")).to_contain_text("Note deleted.")
    expect(note_item(page, "milk & eggs 100%")).to_have_count(0)
    assert all(n["Note"] != "milk & eggs 100%" for n in all_notes(api_url, token))

    # The board.
    page.get_by_role("button", name="Board").click()
    expect(page.get_by_role("button", name="Board")).to_have_attribute("aria-pressed", "true")
    title = unique("Hello board")
    post_form = page.get_by_role("form", name="New post")
    post_form.get_by_label("Title").fill(title)
    post_form.get_by_label("Message").fill("First post from the page")
    post_form.get_by_role("button", name="Post").click()
    expect(page.get_by_role("status")).to_contain_text("Posted.")
    post = page.get_by_role("list", name="Posts").get_by_role("listitem").filter(has_text=title)
    expect(post).to_have_count(1)
    expect(post).to_contain_text("First post from the page")
    expect(post).to_contain_text(f"by {username}")
    expect(post.locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT"))
    shot(page, screenshot_dir, "journey-04-board")

    # Sign out revokes the refresh token: Cognito refuses it afterwards.
    refresh_tokens = refresh_tokens_in_storage(page)
    assert len(refresh_tokens) == 1, "the library keeps one session"
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("form", name="Sign in")).to_be_visible()
    assert refresh_tokens_in_storage(page) == [], "no token left in storage"
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.initiate_auth(
            ClientId=pool["client_id"],
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": refresh_tokens[0]},
        )

    # Signing in again shows the notes.
    sign_in(page, username)
    expect(note_item(page, "second note, edited")).to_have_count(1)
    expect(note_item(page, "first note")).to_have_count(1)
    assert page.dialogs == [], page.dialogs
    page.context.close()


def test_two_tabs_editing_one_note_meet_the_conflict_view(browser, web_url, api_url, cognito, pool, screenshot_dir):
    tab_a, username = signed_in_page(browser, web_url, cognito, pool, "tabs")
    add_note(tab_a, "the original text")
    # A second tab of the same browser: it shares the session the library keeps.
    tab_b = tab_a.context.new_page()
    tab_b.dialogs = []
    tab_b.on("dialog", lambda dialog: (tab_b.dialogs.append(dialog.message), dialog.dismiss()))
    tab_b.goto(web_url + "/")
    expect(tab_b.get_by_text(f"Signed in as {username}")).to_be_visible()
    expect(note_item(tab_b, "the original text")).to_have_count(1)

    def start_edit(tab, current, text):
        note_item(tab, current).get_by_role("button", name="Edit").click()
        item = editing_item(tab)
        item.get_by_label("Edit note").fill(text)
        return item

    in_a = start_edit(tab_a, "the original text", "tab A's text")
    in_b = start_edit(tab_b, "the original text", "tab B's text")
    in_a.get_by_role("button", name="Save").click()
    expect(tab_a.get_by_role("status")).to_contain_text("Note saved.")
    in_b.get_by_role("button", name="Save").click()

    conflict = tab_b.get_by_role("group", name="Edit conflict")
    expect(conflict).to_be_visible()
    expect(conflict).to_contain_text("This note was changed elsewhere.")
    expect(conflict).to_contain_text("tab A's text")
    expect(conflict).to_contain_text("tab B's text")
    shot(tab_b, screenshot_dir, "conflict-01-view")
    conflict.get_by_role("button", name="Keep mine").click()
    expect(tab_b.get_by_role("status")).to_contain_text("Note saved.")
    expect(note_item(tab_b, "tab B's text")).to_have_count(1)
    token = id_token(cognito, pool, username)
    [stored] = all_notes(api_url, token)
    assert stored["Note"] == "tab B's text", stored
    assert stored["Version"] == 3, stored

    # Tab A still shows its own save; its next edit conflicts with B's, and it takes the stored.
    in_a = start_edit(tab_a, "tab A's text", "tab A again")
    in_a.get_by_role("button", name="Save").click()
    conflict = tab_a.get_by_role("group", name="Edit conflict")
    expect(conflict).to_contain_text("tab B's text")
    expect(conflict).to_contain_text("tab A again")
    conflict.get_by_role("button", name="Use saved version").click()
    expect(conflict).to_have_count(0)
    expect(note_item(tab_a, "tab B's text")).to_have_count(1)
    [stored] = all_notes(api_url, token)
    assert (stored["Note"], stored["Version"]) == ("tab B's text", 3), stored
    assert tab_a.dialogs == [] and tab_b.dialogs == []
    tab_a.context.close()


def test_markup_in_notes_and_posts_is_shown_as_text(browser, web_url, cognito, pool, screenshot_dir):
    page, username = signed_in_page(browser, web_url, cognito, pool, "markup")
    hostile_note = "<img src=x onerror=alert(1)>"
    add_note(page, hostile_note)
    expect(note_item(page, hostile_note)).to_contain_text(hostile_note)
    expect(notes_list(page).locator("img")).to_have_count(0)

    page.get_by_role("button", name="Board").click()
    hostile_title = "<script>alert(2)</script>" + unique("t")
    hostile_contents = '<b>bold</b><img src=x onerror="alert(3)"><a href="javascript:alert(4)">link</a>'
    form = page.get_by_role("form", name="New post")
    form.get_by_label("Title").fill(hostile_title)
    form.get_by_label("Message").fill(hostile_contents)
    form.get_by_role("button", name="Post").click()
    post = page.get_by_role("list", name="Posts").get_by_role("listitem").filter(has_text=hostile_title)
    expect(post).to_contain_text(hostile_contents)
    posts = page.get_by_role("list", name="Posts")
    for tag in ("script", "img", "b", "a"):
        expect(posts.locator(tag)).to_have_count(0)
    page.wait_for_timeout(500)
    shot(page, screenshot_dir, "markup-01-as-text")
    assert page.dialogs == [], f"a dialog fired: {page.dialogs}"
    page.context.close()


def test_an_expired_token_is_refreshed_and_the_action_succeeds(browser, web_url, cognito, pool, screenshot_dir):
    username = unique("clock")
    create_user(cognito, pool, username)
    page = new_page_with_clock(browser, web_url)
    refreshes = cognito_calls(page, "InitiateAuth")
    sign_in(page, username)
    signed_in_with = [call for call in refreshes if "REFRESH_TOKEN" in call]
    assert signed_in_with == [], "no refresh yet"

    # The page's clock moves past the ID token's exp (Cognito's tokens last an hour).
    page.clock.fast_forward("01:05:00")
    add_note(page, "written after the hour")
    assert any("REFRESH_TOKEN" in call for call in refreshes), "the session was not refreshed"
    expect(page.get_by_text(f"Signed in as {username}")).to_be_visible()
    expect(page_alert(page)).not_to_contain_text(SESSION_ENDED)
    shot(page, screenshot_dir, "expiry-01-refreshed")
    assert page.dialogs == []
    page.context.close()


def test_a_401_refreshes_once_and_retries(browser, web_url, api_url, cognito, pool, screenshot_dir):
    """API Gateway refuses a token the page still thinks valid (revoked keys, a skewed clock): the
    page refreshes the session once and sends the request again."""
    page, username = signed_in_page(browser, web_url, cognito, pool, "retry")
    refreshes = cognito_calls(page, "InitiateAuth")
    refused = []

    def refuse_once(route):
        if route.request.method == "POST" and not refused:
            refused.append(route.request.headers.get("authorization"))
            route.fulfill(
                status=401,
                content_type="application/json",
                headers={"Access-Control-Allow-Origin": web_url, "Vary": "Origin"},
                body='{"message":"Unauthorized"}',
            )
        else:
            route.continue_()

    page.route(api_url + "/notes", refuse_once)
    add_note(page, "sent twice, stored once")
    assert len(refused) == 1
    assert any("REFRESH_TOKEN" in call for call in refreshes), "no refresh after the 401"
    expect(page_alert(page)).not_to_contain_text(SESSION_ENDED)
    token = id_token(cognito, pool, username)
    assert [n["Note"] for n in all_notes(api_url, token)] == ["sent twice, stored once"]
    shot(page, screenshot_dir, "retry-01-after-401")
    page.context.close()


def test_a_revoked_refresh_token_returns_to_sign_in(browser, web_url, cognito, pool, screenshot_dir):
    username = unique("revoked")
    create_user(cognito, pool, username)
    page = new_page_with_clock(browser, web_url)
    sign_in(page, username)
    # An administrator signs the user out everywhere: every refresh token of theirs is revoked.
    cognito.admin_user_global_sign_out(UserPoolId=pool["pool_id"], Username=username)
    page.clock.fast_forward("01:05:00")
    new_note_box(page).fill("never stored")
    page.get_by_role("button", name="Add note").click()
    # amazon-cognito-identity-js retries a refused refresh with backoff for about 6 s first.
    expect(page.get_by_role("form", name="Sign in")).to_be_visible(timeout=20_000)
    expect(page.get_by_text(SESSION_ENDED)).to_be_visible()
    shot(page, screenshot_dir, "revoked-01-sign-in-again")
    sign_in(page, username)
    expect(page.get_by_text("No notes yet.")).to_be_visible()
    # What was typed when the session ended is back in the box, not lost.
    expect(new_note_box(page)).to_have_value("never stored")
    page.context.close()


def test_the_api_down_is_a_clear_message_and_the_page_recovers(browser, web_url, api_url, cognito, pool, screenshot_dir):
    page, username = signed_in_page(browser, web_url, cognito, pool, "down")
    add_note(page, "written before the outage")

    # The API stops answering: every connection to it is refused (Cognito stays up).
    refuse = lambda route: route.abort("connectionrefused")  # noqa: E731
    page.route(api_url + "/**", refuse)
    alert = notes_alert(page)
    new_note_box(page).fill("kept while the API is down")
    page.get_by_role("button", name="Add note").click()
    expect(composer_error(page)).to_have_text(CANNOT_REACH)
    expect(new_note_box(page)).to_have_value("kept while the API is down")
    page.get_by_label("Search notes").fill("written")
    expect(alert).to_contain_text(CANNOT_REACH)
    expect(alert.get_by_role("button", name="Try again")).to_be_visible()
    assert_beside(page, page.get_by_label("Search notes"), alert, within=40)
    expect(page_alert(page)).to_be_empty()
    shot(page, screenshot_dir, "outage-01-message")

    # It comes back: "Try again" reruns the search, the pending note is sent, no page reload.
    page.unroute(api_url + "/**", refuse)
    alert.get_by_role("button", name="Try again").click()
    expect(note_item(page, "written before the outage")).to_have_count(1)
    expect(alert).not_to_contain_text(CANNOT_REACH)
    page.get_by_label("Search notes").fill("")
    page.get_by_role("button", name="Add note").click()
    expect(note_item(page, "kept while the API is down")).to_have_count(1)
    token = id_token(cognito, pool, username)
    assert sorted(n["Note"] for n in all_notes(api_url, token)) == [
        "kept while the API is down",
        "written before the outage",
    ]
    page.context.close()


def test_a_page_on_an_origin_the_api_does_not_allow_says_so_clearly(browser, web_url, cognito, pool, screenshot_dir):
    """The same page from http://localhost:PORT, an origin `make dev` was not told to allow: the
    browser withholds every answer (CORS), which the page reports as a connection problem rather
    than as a wrong password or an expired session."""
    username = unique("cors")
    create_user(cognito, pool, username)
    other_origin = web_url.replace("127.0.0.1", "localhost")
    page = new_page(browser, other_origin)
    sign_in(page, username)
    expect(notes_alert(page)).to_contain_text(CANNOT_REACH)
    expect(page.get_by_text(f"Signed in as {username}")).to_be_visible()
    shot(page, screenshot_dir, "cors-01-refused")
    page.context.close()


def test_errors_people_understand(browser, web_url, api_url, cognito, pool, screenshot_dir):
    username = unique("errors")
    create_user(cognito, pool, username)
    page = new_page(browser, web_url)

    # Cognito's refusals, in words.
    form = page.get_by_role("form", name="Sign in")
    form.get_by_label("Username").fill(username)
    form.get_by_label("Password").fill("Wrong-Password-1!")
    form.get_by_role("button", name="Sign in").click()
    # Beside the password, which it is about, focused, and tied to it for screen readers.
    password = form.get_by_label("Password")
    expect(form.get_by_role("alert")).to_have_text("Incorrect username or password.")
    expect(password).to_be_focused()
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_have_accessible_description("Incorrect username or password.")
    expect(page_alert(page)).to_be_empty()
    shot(page, screenshot_dir, "errors-00-wrong-password")
    sign_in(page, username)
    expect(form.get_by_role("alert")).to_have_count(0)
    alert = composer_error(page)

    # Every refusal the API can answer, at the network layer (the local stack produces them only
    # under conditions a test cannot stage for a page: throttling, a failing dependency...). The
    # body's own message is shown only for a 400, which the functions write for people.
    add_note(page, "a note to act on")
    for status, body, message in [
        (400, '{"message":"Note: at most 10000 characters"}', "Note: at most 10000 characters"),
        (403, '{"message":"Forbidden"}', "You are not allowed to do that."),
        (413, '{"message":"Request body too large"}', "That is too long to send."),
        (422, '{"message":"key reused"}', "That request was already sent with different content."),
        (429, '{"message":"Too Many Requests"}', "Too many requests. Wait a moment and try again."),
        (500, '{"message":"internal detail"}', "The notes service is having trouble. Try again in a moment."),
        (503, '{"message":"internal detail"}', "The notes service is having trouble. Try again in a moment."),
    ]:
        def answer(route, *, status=status, body=body):
            route.fulfill(
                status=status,
                content_type="application/json",
                headers={"Access-Control-Allow-Origin": web_url, "Vary": "Origin", "Retry-After": "1"},
                body=body,
            )

        page.route(api_url + "/notes", answer)
        new_note_box(page).fill(f"refused with {status}")
        page.get_by_role("button", name="Add note").click()
        expect(alert).to_contain_text(message)
        expect(alert).not_to_contain_text("internal detail")
        expect(page.get_by_text(f"Signed in as {username}")).to_be_visible()
        page.unroute(api_url + "/notes", answer)
    shot(page, screenshot_dir, "errors-01-server-trouble")
    token = id_token(cognito, pool, username)
    assert [n["Note"] for n in all_notes(api_url, token)] == ["a note to act on"]
    page.context.close()


def test_a_retried_create_after_a_lost_answer_stores_one_note(browser, web_url, api_url, cognito, pool, screenshot_dir):
    """The request reaches the API and the note is stored, but the answer never reaches the page:
    the user's second click resends it with the same Idempotency-Key and gets the first answer."""
    page, username = signed_in_page(browser, web_url, cognito, pool, "lost")
    keys = []

    def lose_first_answer(route):
        if route.request.method == "POST" and not keys:
            keys.append(route.request.headers.get("idempotency-key"))
            route.fetch()
            route.abort("connectionreset")
        else:
            if route.request.method == "POST":
                keys.append(route.request.headers.get("idempotency-key"))
            route.continue_()

    page.route(api_url + "/notes", lose_first_answer)
    new_note_box(page).fill("stored once")
    page.get_by_role("button", name="Add note").click()
    expect(composer_error(page)).to_have_text(CANNOT_REACH)
    page.get_by_role("button", name="Add note").click()
    expect(note_item(page, "stored once")).to_have_count(1)
    expect(composer_error(page)).to_have_count(0)
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1], keys
    token = id_token(cognito, pool, username)
    assert [n["Note"] for n in all_notes(api_url, token)] == ["stored once"]
    shot(page, screenshot_dir, "lost-answer-01-one-note")
    page.context.close()


def test_accessible_by_keyboard_and_to_axe(browser, web_url, cognito, pool, screenshot_dir):
    """Keyboard only (typing, Tab, Enter, Ctrl+Enter), and axe-core's WCAG 2 AA audit of each
    screen: sign-in, notes, an edit, the conflict-free delete question, the board. The audit is
    injected into the page, so this context lets the test's own script past the page's CSP."""
    username = unique("keys")
    create_user(cognito, pool, username)
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    console = []
    page.on("console", lambda message: console.append(message.text))
    page.goto(web_url + "/")
    expect(page.get_by_role("form", name="Sign in").get_by_label("Username")).to_be_focused()
    assert accessibility_violations(page) == []

    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_text(f"Signed in as {username}")).to_be_visible()
    expect(new_note_box(page)).to_be_focused()
    page.keyboard.type("typed, never clicked")
    page.keyboard.press("Control+Enter")
    expect(note_item(page, "typed, never clicked")).to_have_count(1)
    expect(new_note_box(page)).to_be_focused()
    assert accessibility_violations(page) == []

    edit = note_item(page, "typed, never clicked").get_by_role("button", name="Edit")
    edit.focus()
    page.keyboard.press("Enter")
    expect(editing_item(page).get_by_label("Edit note")).to_be_focused()
    assert accessibility_violations(page) == []
    page.keyboard.press("Control+A")
    page.keyboard.type("edited from the keyboard")
    page.keyboard.press("Control+Enter")
    expect(page.get_by_role("status")).to_contain_text("Note saved.")
    edited = note_item(page, "edited from the keyboard")
    expect(edited.get_by_role("button", name="Edit")).to_be_focused()

    edited.get_by_role("button", name="Delete").focus()
    page.keyboard.press("Enter")
    expect(edited.get_by_text("Delete this note?")).to_be_visible()
    assert accessibility_violations(page) == []
    expect(edited.get_by_role("button", name="Keep note")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(edited.get_by_role("button", name="Delete note")).to_be_focused()
    page.keyboard.press("Enter")
    expect(note_item(page, "edited from the keyboard")).to_have_count(0)

    page.get_by_role("button", name="Board").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("form", name="New post")).to_be_visible()
    assert accessibility_violations(page) == []

    # Nothing of the session leaks: no token in the URL, in a log line, or in storage other than
    # the Cognito library's own keys.
    assert "eyJ" not in page.url
    assert not [line for line in console if "eyJ" in line], console
    keys = page.evaluate("() => [...Object.keys(localStorage), ...Object.keys(sessionStorage)]")
    assert keys and all(k.startswith(("CognitoIdentityServiceProvider.", "PollyNotes.drafts.")) for k in keys), keys
    drafts = page.evaluate(
        "() => Object.entries(localStorage).filter(([k]) => k.startsWith('PollyNotes.')).map(([, v]) => v)"
    )
    assert not [d for d in drafts if "eyJ" in d], "a token in the drafts"
    shot(page, screenshot_dir, "keyboard-01-board")
    context.close()


def test_a_phone_width_screen(browser, web_url, cognito, pool, screenshot_dir):
    username = unique("phone")
    create_user(cognito, pool, username)
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(web_url + "/")
    sign_in(page, username)
    add_note(page, "a note read on a phone, long enough to wrap across the narrow screen's lines")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px at 360px"
    for name in ("Add note", "Sign out", "Edit", "Listen", "Delete"):
        box = page.get_by_role("button", name=name).first.bounding_box()
        assert box and box["height"] >= 24 and box["width"] >= 24, f"{name}: {box}"
    # The first note starts in the first screen: header, tabs, composer and search above it are compact.
    top = notes_list(page).get_by_role("listitem").first.evaluate(
        "li => li.getBoundingClientRect().top + window.scrollY"
    )
    assert top < 740 * 0.6, f"the first note starts at y = {top:.0f} on a 360 x 740 screen"
    # The voice picker takes less room than search, on the same line.
    search = page.get_by_label("Search notes").bounding_box()
    voice = page.get_by_label("Voice").bounding_box()
    assert voice["width"] < search["width"], (voice, search)
    assert abs(voice["y"] - search["y"]) < 8, "the voice picker is not beside search"
    # A 10,000-character note is a few lines with "Show more", not several screens.
    long_text = "A long note\n" + " ".join(f"word{n:04}" for n in range(1100))
    assert len(long_text) <= 10_000
    new_note_box(page).fill(long_text)
    page.get_by_role("button", name="Add note").click()
    long_note = note_item(page, "word1099")
    expect(long_note).to_have_count(1)
    height = long_note.bounding_box()["height"]
    assert height < 740 / 2, f"a collapsed long note is {height:.0f}px high"
    top = notes_list(page).get_by_role("listitem").nth(1).evaluate(
        "li => li.getBoundingClientRect().top + window.scrollY"
    )
    assert top < 740, f"the note after a long one starts at y = {top:.0f}"
    shot(page, screenshot_dir, "phone-01-notes", full_page=False)
    context.close()


def test_notes_read_as_cards_and_long_ones_collapse(browser, web_url, cognito, pool, screenshot_dir):
    """A note's first line is its title and the rest a preview; a long note shows a few lines and
    "Show more" (a button with aria-expanded, by keyboard too) opens and closes the rest; the time
    is small beside compact actions; axe-core finds nothing in either state."""
    page, _ = signed_in_audited_page(browser, web_url, cognito, pool, "cards")
    add_note(page, "Shopping list\nmilk\neggs")
    card = note_item(page, "Shopping list")
    expect(card.get_by_role("heading", name="Shopping list", exact=True)).to_be_visible()
    expect(card.get_by_text("milk")).to_be_visible()
    expect(card.get_by_role("button", name="Show more")).to_have_count(0)
    # The time is secondary: smaller than the note's own text.
    sizes = card.evaluate(
        "li => ['.note-title', '.note-preview', '.meta'].map(s => parseFloat(getComputedStyle(li.querySelector(s)).fontSize))"
    )
    assert sizes[2] < sizes[1] <= sizes[0], sizes
    # The actions are compact: one line, lower than the default button, each with its own name.
    edit = card.get_by_role("button", name="Edit").bounding_box()
    delete = card.get_by_role("button", name="Delete").bounding_box()
    assert abs(edit["y"] - delete["y"]) < 4 and edit["height"] < 44, (edit, delete)

    long_text = "Minutes of the long meeting\n" + " ".join(f"item{n:04}" for n in range(1090))
    new_note_box(page).fill(long_text)
    page.get_by_role("button", name="Add note").click()
    long_note = note_item(page, "item1089")
    expect(long_note).to_have_count(1)
    more = long_note.get_by_role("button", name="Show more")
    expect(more).to_have_attribute("aria-expanded", "false")
    collapsed = long_note.bounding_box()["height"]
    assert collapsed < 300, f"a collapsed 10,000-character note is {collapsed:.0f}px high"
    assert accessibility_violations(page) == []
    shot(page, screenshot_dir, "cards-01-collapsed", full_page=False)

    more.focus()
    page.keyboard.press("Enter")
    less = long_note.get_by_role("button", name="Show less")
    expect(less).to_have_attribute("aria-expanded", "true")
    expect(less).to_be_focused()
    expanded = long_note.bounding_box()["height"]
    assert expanded > 3 * collapsed, (collapsed, expanded)
    assert accessibility_violations(page) == []
    page.keyboard.press("Enter")
    expect(long_note.get_by_role("button", name="Show more")).to_be_focused()
    assert long_note.bounding_box()["height"] == collapsed
    page.context.close()


def test_dark_mode_follows_the_system_setting(browser, web_url, cognito, pool, screenshot_dir):
    """With the system in dark mode the page is dark, and axe-core's contrast audit still passes on
    sign-in, the notes, an edit, the delete question, the board and the account."""
    username = unique("dark")
    create_user(cognito, pool, username)
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True, color_scheme="dark", bypass_csp=True
    )
    page = context.new_page()
    page.goto(web_url + "/")
    expect(page.get_by_role("form", name="Sign in")).to_be_visible()
    luminance = """el => {
        const [r, g, b] = getComputedStyle(el).backgroundColor.match(/\\d+/g).map(Number);
        return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
    }"""
    assert page.locator("body").evaluate(luminance) < 0.2
    assert accessibility_violations(page) == []
    sign_in(page, username)
    add_note(page, "Dark note\nread at night")
    card = note_item(page, "Dark note")
    assert card.evaluate(luminance) < 0.2
    assert accessibility_violations(page) == []
    shot(page, screenshot_dir, "dark-01-phone", full_page=False)
    card.get_by_role("button", name="Edit").click()
    expect(editing_item(page).get_by_label("Edit note")).to_be_focused()
    assert accessibility_violations(page) == []
    page.keyboard.press("Escape")
    note_item(page, "Dark note").get_by_role("button", name="Delete").click()
    expect(note_item(page, "Dark note").get_by_text("Delete this note?")).to_be_visible()
    assert accessibility_violations(page) == []
    page.get_by_role("button", name="Board").click()
    expect(page.get_by_role("form", name="New post")).to_be_visible()
    assert accessibility_violations(page) == []
    page.get_by_role("button", name="Account").click()
    expect(page.get_by_role("form", name="Change password")).to_be_visible()
    assert accessibility_violations(page) == []

    # The same page with the system in light mode is light.
    light = browser.new_context(color_scheme="light")
    light_page = light.new_page()
    light_page.goto(web_url + "/")
    expect(light_page.get_by_role("form", name="Sign in")).to_be_visible()
    assert light_page.locator("body").evaluate(luminance) > 0.8
    light.close()
    context.close()


# ---------------------------------------------------------------------------------------------
# Nothing a person types is lost: a save takes away only what it sent, and what is not saved yet
# is a draft that outlives a reload, a lost network, a failed save and a session that ended.


def hold_posts(page, api_url):
    """Holds every POST /notes the page sends until the test releases it: a slow network."""
    held = []

    def hold(route):
        if route.request.method == "POST":
            held.append(route)
        else:
            route.continue_()

    page.route(api_url + "/notes", hold)

    def wait_and_release():
        for _ in range(100):
            if held:
                break
            page.wait_for_timeout(100)
        assert held, "the page sent no POST /notes"
        for route in held:
            route.continue_()
        page.unroute(api_url + "/notes", hold)

    return held, wait_and_release


def draft_keys(page):
    return page.evaluate("() => Object.keys(localStorage).filter((k) => k.startsWith('PollyNotes.drafts.'))")


def test_typing_on_while_a_note_saves_is_kept(browser, web_url, api_url, cognito, pool, screenshot_dir):
    """Ctrl+Enter on one note and straight on with the next: the save takes away only the text it
    sent; the letters typed while it was on its way stay, and the caret stays after them."""
    page, username = signed_in_page(browser, web_url, cognito, pool, "typing")
    box = new_note_box(page)
    held, release = hold_posts(page, api_url)
    box.focus()
    page.keyboard.type("First thought A1")
    page.keyboard.press("Control+Enter")
    expect(page.get_by_role("button", name="Adding…")).to_be_disabled()
    page.keyboard.press("Enter")
    page.keyboard.type("Second thought B0")
    expect(box).to_have_value("First thought A1\nSecond thought B0")
    release()
    expect(note_item(page, "First thought A1")).to_have_count(1)
    expect(box).to_have_value("Second thought B0")
    expect(box).to_be_focused()
    page.keyboard.type(" and on")
    expect(box).to_have_value("Second thought B0 and on")
    shot(page, screenshot_dir, "typing-01-composer-kept")

    # The same in an edit: saved with what was sent, left open with what came after.
    note_item(page, "First thought A1").get_by_role("button", name="Edit").click()
    editor = editing_item(page).get_by_label("Edit note")
    expect(editor).to_be_focused()
    held, release = hold_posts(page, api_url)
    page.keyboard.press("Control+A")
    page.keyboard.type("Edited once")
    page.keyboard.press("Control+Enter")
    page.keyboard.type(", then more")
    release()
    expect(page.get_by_role("status")).to_contain_text("Note saved.")
    expect(editor).to_have_value("Edited once, then more")
    token = id_token(cognito, pool, username)
    assert [n["Note"] for n in all_notes(api_url, token)] == ["Edited once"]
    expect(editor).to_be_focused()
    page.keyboard.type("!")
    page.keyboard.press("Control+Enter")
    expect(note_item(page, "Edited once, then more!")).to_have_count(1)
    expect(notes_list(page).get_by_role("textbox")).to_have_count(0)
    assert [n["Note"] for n in all_notes(api_url, token)] == ["Edited once, then more!"]
    shot(page, screenshot_dir, "typing-02-edit-saved")
    page.context.close()


def test_a_draft_outlives_a_reload_a_lost_network_and_a_failed_save(browser, web_url, api_url, cognito, pool, screenshot_dir):
    page, username = signed_in_page(browser, web_url, cognito, pool, "drafts")
    add_note(page, "a saved note")
    token = id_token(cognito, pool, username)

    # A new note and an edit, typed, not saved: a reload brings both back.
    new_note_box(page).fill("a new note, not yet added")
    note_item(page, "a saved note").get_by_role("button", name="Edit").click()
    editing_item(page).get_by_label("Edit note").fill("an edit, not yet saved")
    page.reload()
    expect(page.get_by_text(f"Signed in as {username}")).to_be_visible()
    expect(new_note_box(page)).to_have_value("a new note, not yet added")
    expect(page.get_by_role("status")).to_contain_text("Your unsaved note is back in New note.")
    expect(editing_item(page).get_by_label("Edit note")).to_have_value("an edit, not yet saved")
    shot(page, screenshot_dir, "drafts-01-after-reload")

    # The network goes: the save fails beside the box, the text stays, and outlives the tab.
    context = page.context
    context.set_offline(True)
    page.get_by_role("button", name="Add note").click()
    expect(composer_error(page)).to_have_text(CANNOT_REACH)
    expect(new_note_box(page)).to_have_value("a new note, not yet added")
    shot(page, screenshot_dir, "drafts-02-offline")
    page.close()
    context.set_offline(False)
    page = context.new_page()
    page.goto(web_url + "/")
    expect(new_note_box(page)).to_have_value("a new note, not yet added")
    expect(editing_item(page).get_by_label("Edit note")).to_have_value("an edit, not yet saved")

    # The service refuses the save: the text stays, here and after a reload.
    def refuse(route):
        if route.request.method == "POST":
            route.fulfill(
                status=503,
                content_type="application/json",
                headers={"Access-Control-Allow-Origin": web_url, "Vary": "Origin"},
                body='{"message":"Service Unavailable"}',
            )
        else:
            route.continue_()

    page.route(api_url + "/notes", refuse)
    page.get_by_role("button", name="Add note").click()
    expect(composer_error(page)).to_have_text("The notes service is having trouble. Try again in a moment.")
    editing_item(page).get_by_role("button", name="Save").click()
    edit_error = editing_item(page).get_by_role("alert")
    expect(edit_error).to_have_text("The notes service is having trouble. Try again in a moment.")
    page.reload()
    expect(new_note_box(page)).to_have_value("a new note, not yet added")
    expect(editing_item(page).get_by_label("Edit note")).to_have_value("an edit, not yet saved")
    assert [n["Note"] for n in all_notes(api_url, token)] == ["a saved note"]
    page.unroute(api_url + "/notes", refuse)

    # Saved: the drafts are gone, from the page and from storage.
    page.get_by_role("button", name="Add note").click()
    expect(note_item(page, "a new note, not yet added")).to_have_count(1)
    expect(new_note_box(page)).to_have_value("")
    editing_item(page).get_by_role("button", name="Save").click()
    expect(note_item(page, "an edit, not yet saved")).to_have_count(1)
    expect(notes_list(page).get_by_role("textbox")).to_have_count(0)
    assert draft_keys(page) == []
    page.reload()
    expect(note_item(page, "an edit, not yet saved")).to_have_count(1)
    expect(new_note_box(page)).to_have_value("")
    expect(notes_list(page).get_by_role("textbox")).to_have_count(0)
    assert sorted(n["Note"] for n in all_notes(api_url, token)) == ["a new note, not yet added", "an edit, not yet saved"]

    # Drafts are each user's own: another user signing in on this browser does not see them.
    new_note_box(page).fill("only for my eyes")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("form", name="Sign in")).to_be_visible()
    other = unique("other")
    create_user(cognito, pool, other)
    sign_in(page, other)
    expect(new_note_box(page)).to_have_value("")
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, username)
    expect(new_note_box(page)).to_have_value("only for my eyes")
    [key] = draft_keys(page)
    claims = json.loads(base64_json(token.split(".")[1]))
    assert key == f"PollyNotes.drafts.{claims['sub']}", key
    shot(page, screenshot_dir, "drafts-03-per-user")
    context.close()


def base64_json(segment):
    import base64

    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)).decode()


# ---------------------------------------------------------------------------------------------
# Every error beside what caused it, in words, with the focus on it.


def assert_beside(page, control, error, within=120):
    """The error's top is at most `within` px below the control's bottom (and not above it)."""
    box, err = control.bounding_box(), error.bounding_box()
    assert box and err, (box, err)
    gap = err["y"] - (box["y"] + box["height"])
    assert 0 <= gap <= within, f"the error is {gap:.0f}px from what caused it"


def signed_in_audited_page(browser, web_url, cognito, pool, prefix):
    """Like signed_in_page, in a context that lets axe-core's script past the page's CSP."""
    username = unique(prefix)
    create_user(cognito, pool, username)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.goto(web_url + "/")
    sign_in(page, username)
    return page, username


def test_a_blank_note_or_edit_is_refused_beside_its_box(browser, web_url, api_url, cognito, pool, screenshot_dir):
    page, username = signed_in_audited_page(browser, web_url, cognito, pool, "blank")
    posts = []
    page.on("request", lambda r: posts.append(r) if r.method == "POST" and r.url.startswith(api_url) else None)
    add_note(page, "twenty notes above this one would push the page's top far away")
    expect(page.get_by_role("status")).to_contain_text("Note added.")
    sent = len(posts)

    # A whitespace-only new note: refused beside the box, in words, focus on the box.
    box = new_note_box(page)
    box.fill("   \n  ")
    page.get_by_role("button", name="Add note").click()
    error = composer_error(page)
    expect(error).to_have_text("Write something first: a note cannot be empty.")
    expect(box).to_be_focused()
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(box).to_have_accessible_description("Write something first: a note cannot be empty.")
    expect(page.get_by_role("status")).to_be_empty()
    assert_beside(page, box, error)
    assert accessibility_violations(page) == []
    shot(page, screenshot_dir, "blank-01-new-note")
    page.keyboard.type("now with words")
    expect(error).to_have_count(0)
    expect(box).not_to_have_attribute("aria-invalid", "true")
    box.fill("")

    # A blank edit: refused beside the edit box, which keeps the focus.
    note_item(page, "twenty notes").get_by_role("button", name="Edit").click()
    item = editing_item(page)
    editor = item.get_by_label("Edit note")
    editor.fill("  ")
    item.get_by_role("button", name="Save").click()
    error = item.get_by_role("alert")
    expect(error).to_have_text("A note cannot be empty. Write something, or use Delete to remove the note.")
    expect(editor).to_be_focused()
    expect(editor).to_have_attribute("aria-invalid", "true")
    expect(editor).to_have_accessible_description(re.compile("A note cannot be empty"))
    assert_beside(page, editor, error)
    expect(page_alert(page)).to_be_empty()
    assert accessibility_violations(page) == []
    shot(page, screenshot_dir, "blank-02-edit")
    assert len(posts) == sent, "a blank note was sent to the service"

    # A refusal of the service is shown there too.
    def refuse(route):
        route.fulfill(
            status=400,
            content_type="application/json",
            headers={"Access-Control-Allow-Origin": web_url, "Vary": "Origin"},
            body='{"message":"Note: at most 10000 characters"}',
        )

    page.route(api_url + "/notes", refuse)
    editor.fill("words the service refuses")
    expect(error).to_have_count(0)
    item.get_by_role("button", name="Save").click()
    expect(item.get_by_role("alert")).to_have_text("Note: at most 10000 characters")
    expect(editor).to_be_focused()
    expect(editor).to_have_value("words the service refuses")
    page.context.close()


def test_the_sign_up_form_states_the_password_rules_and_checks_them(browser, web_url, pool, screenshot_dir):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    sign_ups = cognito_calls(page, "SignUp")
    page.goto(web_url + "/")
    page.get_by_role("button", name="Create an account").click()
    form = page.get_by_role("form", name="Create account")
    password = form.get_by_label("Password")
    rules = form.get_by_role("listitem")
    expect(rules).to_have_text([
        re.compile("At least 12 characters"),
        re.compile(r"A lowercase letter"),
        re.compile(r"An uppercase letter"),
        re.compile(r"A number"),
        re.compile(r"A symbol"),
    ])
    expect(password).to_have_accessible_description(re.compile("Your password needs: .*At least 12 characters"))

    def done(rule):
        return rules.filter(has_text=rule)

    username = unique("rules")
    form.get_by_label("Username").fill(username)
    form.get_by_label("Email").fill(f"{username}@example.com")
    password.fill("horse")
    expect(done("A lowercase letter")).to_contain_text("(done)")
    expect(done("At least 12 characters")).not_to_contain_text("(done)")
    password.fill("CorrectHorse99")
    for rule in ("At least 12 characters", "A lowercase letter", "An uppercase letter", "A number"):
        expect(done(rule)).to_contain_text("(done)")
    expect(done("A symbol")).not_to_contain_text("(done)")
    shot(page, screenshot_dir, "password-01-rules")

    # Submitted anyway: said beside the password, before Cognito is asked.
    form.get_by_role("button", name="Create account").click()
    error = form.get_by_role("alert")
    expect(error).to_have_text("Your password still needs: a symbol, such as ! ? # - or _.")
    expect(password).to_be_focused()
    expect(password).to_have_attribute("aria-invalid", "true")
    assert_beside(page, password, error)
    assert accessibility_violations(page) == []
    assert sign_ups == []
    shot(page, screenshot_dir, "password-02-missing-symbol")

    # Cognito refuses a password anyway (its policy changed): in our words, never its own.
    def refuse_sign_up(route):
        if route.request.headers.get("x-amz-target", "").endswith(".SignUp"):
            route.fulfill(
                status=400,
                content_type="application/x-amz-json-1.1",
                headers={"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "x-amzn-errortype"},
                body=json.dumps({
                    "__type": "InvalidPasswordException",
                    "message": "The provided password does not confirm to the configured password policy",
                }),
            )
        else:
            route.continue_()

    cognito_endpoint = pool["endpoint"].rstrip("/")
    at_cognito = lambda url: url.startswith(cognito_endpoint)  # noqa: E731
    page.route(at_cognito, refuse_sign_up)
    password.fill(PASSWORD)
    for rule in ("At least 12 characters", "A symbol"):
        expect(done(rule)).to_contain_text("(done)")
    form.get_by_role("button", name="Create account").click()
    expect(error).to_have_text(re.compile("^That password does not meet the rules"))
    expect(page.get_by_text("does not confirm")).to_have_count(0)
    expect(password).to_be_focused()
    assert len(sign_ups) == 1
    page.unroute(at_cognito, refuse_sign_up)

    # And a good one goes through.
    form.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("form", name="Confirm account")).to_be_visible()
    context.close()


# ---------------------------------------------------------------------------------------------
# The account beyond signing in: a forgotten password, a changed one, signing out everywhere.

NEW_PASSWORD = "Battery-Staple-42?"


def signs_in_with(cognito, pool, username, password):
    """Whether the pool accepts `password` for `username` (the labs' CLI flow)."""
    try:
        cognito.initiate_auth(
            ClientId=pool["client_id"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
        return True
    except cognito.exceptions.NotAuthorizedException:
        return False


def test_a_forgotten_password_is_reset_with_a_code(browser, web_url, cognito, pool, screenshot_dir):
    username = unique("forgot")
    create_user(cognito, pool, username)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    sent = cognito_calls(page, "ForgotPassword")
    confirmed = cognito_calls(page, "ConfirmForgotPassword")
    page.goto(web_url + "/")
    page.get_by_role("form", name="Sign in").get_by_label("Username").fill(username)
    page.get_by_role("button", name="Forgot your password?").click()
    forgot = page.get_by_role("form", name="Reset password")
    expect(forgot.get_by_label("Username")).to_have_value(username)
    assert accessibility_violations(page) == []
    forgot.get_by_role("button", name="Send a code").click()

    # The code went by email (locally: nowhere, and any code is accepted, as for sign-up).
    reset = page.get_by_role("form", name="Set a new password")
    expect(reset).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(f"We sent a code to {username[0]}***@e***")
    expect(reset.get_by_label("Username")).to_have_value(username)
    expect(reset.get_by_label("Code from the email")).to_be_focused()
    assert len(sent) == 1 and username in sent[0]
    reset.get_by_label("Code from the email").fill("123456")
    new_password = reset.get_by_label("New password")
    new_password.fill("battery-staple")
    reset.get_by_role("button", name="Set new password").click()
    expect(reset.get_by_role("alert")).to_have_text(
        "Your password still needs: an uppercase letter (A–Z), a number (0–9)."
    )
    expect(new_password).to_be_focused()
    assert confirmed == [], "a password against the rules went to Cognito"
    assert accessibility_violations(page) == []
    shot(page, screenshot_dir, "forgot-01-rules")

    new_password.fill(NEW_PASSWORD)
    reset.get_by_role("button", name="Set new password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password was changed. Sign in with the new one.")
    form = page.get_by_role("form", name="Sign in")
    expect(form.get_by_label("Username")).to_have_value(username)
    expect(form.get_by_label("Password")).to_be_focused()
    shot(page, screenshot_dir, "forgot-02-changed")
    assert not signs_in_with(cognito, pool, username, PASSWORD), "the old password still works"
    sign_in(page, username, NEW_PASSWORD)
    context.close()


def test_a_signed_in_user_changes_the_password(browser, web_url, cognito, pool, screenshot_dir):
    page, username = signed_in_audited_page(browser, web_url, cognito, pool, "change")
    page.get_by_role("button", name="Account").click()
    form = page.get_by_role("form", name="Change password")
    current = form.get_by_label("Current password")
    new_password = form.get_by_label("New password")
    expect(new_password).to_have_accessible_description(re.compile("Your password needs:"))
    assert accessibility_violations(page) == []

    # A wrong current password: said beside it, in words.
    current.fill("Not-My-Password-1!")
    new_password.fill(NEW_PASSWORD)
    form.get_by_role("button", name="Change password").click()
    expect(form.get_by_role("alert")).to_have_text("Your current password is not correct.")
    expect(current).to_be_focused()
    expect(current).to_have_attribute("aria-invalid", "true")
    shot(page, screenshot_dir, "change-01-wrong-current")
    assert signs_in_with(cognito, pool, username, PASSWORD)

    current.fill(PASSWORD)
    form.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password was changed.")
    expect(form.get_by_role("alert")).to_have_count(0)
    expect(current).to_have_value("")
    expect(new_password).to_have_value("")
    shot(page, screenshot_dir, "change-02-changed")
    assert not signs_in_with(cognito, pool, username, PASSWORD)
    assert signs_in_with(cognito, pool, username, NEW_PASSWORD)
    expect(page.get_by_text(f"Signed in as {username}")).to_be_visible()
    page.context.close()


def test_sign_out_everywhere_ends_every_session(browser, web_url, cognito, pool, screenshot_dir):
    """Two browsers of one user: signing out everywhere in one revokes the other's refresh token
    too, which that one meets when its ID token runs out (its clock moved past the hour)."""
    username = unique("everywhere")
    create_user(cognito, pool, username)
    other = new_page_with_clock(browser, web_url)
    sign_in(other, username)
    page = new_page(browser, web_url)
    sign_in(page, username)
    [refresh_token] = refresh_tokens_in_storage(page)
    calls = cognito_calls(page, "GlobalSignOut")

    page.get_by_role("button", name="Account").click()
    page.get_by_role("button", name="Sign out everywhere").click()
    form = page.get_by_role("form", name="Sign in")
    expect(form).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Signed out on every device.")
    expect(form.get_by_label("Username")).to_have_value(username)
    assert len(calls) == 1
    assert refresh_tokens_in_storage(page) == [], "the tokens stayed in this browser"
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.initiate_auth(
            ClientId=pool["client_id"],
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": refresh_token},
        )
    shot(page, screenshot_dir, "everywhere-01-signed-out")

    # The other browser: its next refresh is refused, and it says so.
    other.clock.fast_forward("01:05:00")
    new_note_box(other).fill("typed on the other device")
    other.get_by_role("button", name="Add note").click()
    expect(other.get_by_role("form", name="Sign in")).to_be_visible(timeout=20_000)
    expect(other.get_by_text(SESSION_ENDED)).to_be_visible()
    shot(other, screenshot_dir, "everywhere-02-other-device")
    other.context.close()
    page.context.close()


def test_sign_out_everywhere_that_fails_says_so_beside_the_button(browser, web_url, cognito, pool, screenshot_dir):
    page, username = signed_in_page(browser, web_url, cognito, pool, "everywhere-down")
    page.get_by_role("button", name="Account").click()
    endpoint = pool["endpoint"].rstrip("/")
    at_cognito = lambda url: url.startswith(endpoint)  # noqa: E731

    def refuse(route):
        if route.request.headers.get("x-amz-target", "").endswith(".GlobalSignOut"):
            route.abort("connectionrefused")
        else:
            route.continue_()

    page.route(at_cognito, refuse)
    button = page.get_by_role("button", name="Sign out everywhere")
    button.click()
    group = page.get_by_role("group", name="Sign out everywhere")
    expect(group.get_by_role("alert")).to_have_text(CANNOT_REACH)
    expect(button).to_be_focused()
    expect(page.get_by_text(f"Signed in as {username}")).to_be_visible()
    shot(page, screenshot_dir, "everywhere-03-cannot-reach")
    page.context.close()


def test_an_edit_of_a_note_deleted_elsewhere_moves_to_new_note(browser, web_url, api_url, cognito, pool, screenshot_dir):
    page, username = signed_in_page(browser, web_url, cognito, pool, "orphan")
    add_note(page, "deleted on another device")
    note_item(page, "deleted on another device").get_by_role("button", name="Edit").click()
    editing_item(page).get_by_label("Edit note").fill("words worth keeping")
    token = id_token(cognito, pool, username)
    [stored] = all_notes(api_url, token)
    status, _, _ = api(api_url, token, "DELETE", f"/notes/{stored['NoteId']}")
    assert status in (200, 204), status

    editing_item(page).get_by_role("button", name="Save").click()
    expect(new_note_box(page)).to_have_value("words worth keeping")
    expect(composer_error(page)).to_have_text(
        "That note was deleted elsewhere. Your text is in New note, to add as a new note."
    )
    expect(new_note_box(page)).to_be_focused()
    expect(notes_list(page).get_by_role("listitem")).to_have_count(0)
    shot(page, screenshot_dir, "orphan-01-moved")
    page.reload()
    expect(new_note_box(page)).to_have_value("words worth keeping")
    assert len(draft_keys(page)) == 1
    drafts = json.loads(page.evaluate("(k) => localStorage.getItem(k)", draft_keys(page)[0]))
    assert drafts["edits"] == {}, drafts
    page.context.close()


def test_an_edit_restored_after_a_change_elsewhere_meets_the_conflict_view(browser, web_url, api_url, cognito, pool, screenshot_dir):
    """A draft keeps the version its edit started from: saved after the note changed on another
    device, it is not written over that change silently."""
    page, username = signed_in_page(browser, web_url, cognito, pool, "stale-draft")
    add_note(page, "the first version")
    note_item(page, "the first version").get_by_role("button", name="Edit").click()
    editing_item(page).get_by_label("Edit note").fill("my edit from before")
    context = page.context
    page.close()

    token = id_token(cognito, pool, username)
    [stored] = all_notes(api_url, token)
    status, _, _ = api(
        api_url, token, "POST", "/notes", {"NoteId": stored["NoteId"], "Note": "changed on a phone"},
        headers={"If-Match": f'"{stored["Version"]}"'},
    )
    assert status == 200, status

    page = context.new_page()
    page.goto(web_url + "/")
    editor = editing_item(page).get_by_label("Edit note")
    expect(editor).to_have_value("my edit from before")
    editing_item(page).get_by_role("button", name="Save").click()
    conflict = page.get_by_role("group", name="Edit conflict")
    expect(conflict).to_contain_text("changed on a phone")
    expect(conflict).to_contain_text("my edit from before")
    shot(page, screenshot_dir, "stale-draft-01-conflict")
    conflict.get_by_role("button", name="Keep mine").click()
    expect(page.get_by_role("status")).to_contain_text("Note saved.")
    expect(conflict).to_have_count(0)
    expect(note_item(page, "my edit from before")).to_have_count(1)
    assert [n["Note"] for n in all_notes(api_url, token)] == ["my edit from before"]
    assert draft_keys(page) == []
    page.context.close()


# ---------------------------------------------------------------------------------------------
# Two-factor sign-in with an authenticator app (TOTP), computed here as the app computes it.


def totp(secret, at=None):
    """The six-digit RFC 6238 code (HMAC-SHA1, 30-second step) of a base32 secret, as an
    authenticator app shows it."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = int((time.time() if at is None else at) // 30)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06}"


def test_totp_helper_meets_rfc_6238():
    secret = base64.b32encode(b"12345678901234567890").decode()
    assert totp(secret, at=59) == "287082"
    assert totp(secret, at=1111111109) == "081804"


def test_two_factor_is_set_up_with_a_qr_code_and_asked_for_at_sign_in(browser, web_url, cognito, pool, screenshot_dir):
    """Account > Set up two-factor shows the key as a QR code and as text; a wrong code is refused
    beside its box, the right one turns it on (the pool says so); sign-in then asks for the code
    after the password, refuses a wrong one and one already used, and takes the right one; turned
    off, sign-in takes the password alone. axe-core audits the set-up and the code form."""
    username = unique("totp")
    create_user(cognito, pool, username)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.goto(web_url + "/")
    sign_in(page, username)
    page.get_by_role("button", name="Account").click()
    card = page.get_by_role("group", name="Two-factor sign-in")
    expect(card.get_by_text("Off: signing in asks for your password only.")).to_be_visible()
    card.get_by_role("button", name="Set up two-factor").click()
    setup = page.get_by_role("form", name="Set up two-factor")
    expect(setup.get_by_label("Code from the app")).to_be_focused()
    qr = setup.get_by_role("img", name="QR code of your two-factor key")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 100 && img.src.startsWith('data:image/gif')")
    secret = setup.locator("#mfa-secret").inner_text().replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{52}", secret), secret
    assert accessibility_violations(page) == []
    shot(page, screenshot_dir, "mfa-01-setup", full_page=False)

    # A wrong code: refused beside the box, two-factor still off.
    wrong = totp(secret, at=time.time() + 600)
    setup.get_by_label("Code from the app").fill(wrong)
    setup.get_by_role("button", name="Turn on two-factor").click()
    error = setup.get_by_role("alert")
    expect(error).to_have_text("That code is not correct. Type the 6-digit code your authenticator app shows now.")
    expect(setup.get_by_label("Code from the app")).to_be_focused()
    assert cognito.admin_get_user(UserPoolId=pool["pool_id"], Username=username)["UserMFASettingList"] == []
    setup.get_by_label("Code from the app").fill("12 34")
    setup.get_by_role("button", name="Turn on two-factor").click()
    expect(error).to_have_text("The code is 6 digits, such as 123456.")

    setup.get_by_label("Code from the app").fill(totp(secret))
    setup.get_by_role("button", name="Turn on two-factor").click()
    expect(page.get_by_role("status")).to_contain_text("Two-factor sign-in is on.")
    expect(card.get_by_text("On: signing in asks for your password and a code")).to_be_visible()
    expect(setup).to_be_hidden()
    user = cognito.admin_get_user(UserPoolId=pool["pool_id"], Username=username)
    assert user["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"], user
    assert user["PreferredMfaSetting"] == "SOFTWARE_TOKEN_MFA", user

    # Sign-in: the password, then the code.
    page.get_by_role("button", name="Sign out", exact=True).click()
    form = page.get_by_role("form", name="Sign in")
    form.get_by_label("Username").fill(username)
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Sign in").click()
    code_form = page.get_by_role("form", name="Two-factor code")
    expect(code_form.get_by_label("Code")).to_be_focused()
    expect(page.get_by_text(f"Signed in as {username}")).to_have_count(0)
    assert accessibility_violations(page) == []
    shot(page, screenshot_dir, "mfa-02-code", full_page=False)
    code_form.get_by_label("Code").fill(wrong)
    code_form.get_by_role("button", name="Verify code").click()
    expect(code_form.get_by_role("alert")).to_have_text(
        "That code is not correct. Type the 6-digit code your authenticator app shows now."
    )
    used = totp(secret)
    code_form.get_by_label("Code").fill(used)
    code_form.get_by_role("button", name="Verify code").click()
    expect(page.get_by_text(f"Signed in as {username}")).to_be_visible()
    expect(new_note_box(page)).to_be_focused()

    # The same code again, in another sign-in: refused, as Cognito refuses it.
    page.get_by_role("button", name="Sign out", exact=True).click()
    sign_in_form = page.get_by_role("form", name="Sign in")
    sign_in_form.get_by_label("Username").fill(username)
    sign_in_form.get_by_label("Password").fill(PASSWORD)
    sign_in_form.get_by_role("button", name="Sign in").click()
    code_form.get_by_label("Code").fill(used)
    code_form.get_by_role("button", name="Verify code").click()
    expect(code_form.get_by_role("alert")).to_have_text(
        "That code was already used. Wait for the next one in your authenticator app."
    )
    # The next code (the following 30-second step) signs in.
    page.wait_for_timeout(max(0.0, 30 - time.time() % 30) * 1000 + 500)
    code_form.get_by_label("Code").fill(totp(secret))
    code_form.get_by_role("button", name="Verify code").click()
    expect(page.get_by_text(f"Signed in as {username}")).to_be_visible()

    # Turned off: the password alone again.
    page.get_by_role("button", name="Account").click()
    expect(card.get_by_text("On: signing in asks for your password and a code")).to_be_visible()
    card.get_by_role("button", name="Turn off two-factor").click()
    expect(card.get_by_text("Off: signing in asks for your password only.")).to_be_visible()
    assert cognito.admin_get_user(UserPoolId=pool["pool_id"], Username=username)["UserMFASettingList"] == []
    page.get_by_role("button", name="Sign out", exact=True).click()
    sign_in(page, username)
    context.close()


def test_the_page_s_policy_is_a_header_and_no_other_page_can_frame_it(browser, web_url, api_url, pool, page_origin):
    """The Content-Security-Policy comes with the page as a header (index.html carries none):
    scripts and calls only where this make dev runs (its API, moto as Cognito and S3, the page's
    own origin for config.js), and frame-ancestors 'none', which a <meta> policy cannot say: a
    page on another origin that frames it gets nothing (clickjacking)."""
    context = browser.new_context()
    page = context.new_page()
    response = page.goto(web_url + "/")
    headers = response.headers
    moto = pool["endpoint"].rstrip("/")
    assert headers["content-security-policy"] == (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"media-src {moto}; connect-src 'self' {api_url} {moto}; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert "Content-Security-Policy" not in page.content(), "no <meta> policy"

    # Another origin frames the page: Chromium refuses to render it there, and says why.
    page.goto(page_origin + "/")
    with page.expect_console_message(lambda message: "frame-ancestors" in message.text, timeout=15_000) as refused:
        page.evaluate(
            """(url) => { const frame = document.createElement('iframe'); frame.src = url;
                          document.body.append(frame); }""",
            web_url + "/",
        )
    assert web_url in refused.value.text, refused.value.text
    framed = page.frame_locator("iframe")
    expect(framed.get_by_role("heading", name="PollyNotes")).to_have_count(0)
    context.close()


def test_deleting_the_account_leaves_nothing_behind(browser, web_url, api_url, cognito, pool, screenshot_dir):
    """Issue 22, item 2: "Delete account" in the Account section, confirmed by typing the username
    (a field of the page, no browser dialog), calls DELETE /account: the notes are gone, the user
    can no longer sign in, the drafts on this device are cleared, the page is signed out and says
    so; the user's posts stay, by "deleted user"."""
    page, username = signed_in_page(browser, web_url, cognito, pool, "leaver")
    add_note(page, "a note that must not outlive the account")
    token = id_token(cognito, pool, username)
    title = unique("farewell")
    status, _, _ = api(api_url, token, "POST", "/post", {"title": title, "contents": "Bye, board."})
    assert status == 201
    new_note_box(page).fill("a draft, never added")
    page.wait_for_function("() => Object.keys(localStorage).some((k) => k.startsWith('PollyNotes.drafts.'))")

    page.get_by_role("button", name="Account").click()
    form = page.get_by_role("form", name="Delete account")
    confirm = form.get_by_label("Type your username to confirm")
    # A wrong confirmation deletes nothing, and says why beside the field.
    confirm.fill(username + "x")
    form.get_by_role("button", name="Delete my account").click()
    expect(form.get_by_role("alert")).to_contain_text("Type your username")
    assert all_notes(api_url, token), "nothing was deleted"
    # By keyboard: the field, then Enter submits the form.
    confirm.fill(username)
    shot(page, screenshot_dir, "account-01-delete-confirm")
    confirm.press("Enter")

    expect(page.get_by_role("form", name="Sign in")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Your account is deleted")
    shot(page, screenshot_dir, "account-02-deleted")
    assert page.dialogs == [], "no browser dialog"
    assert draft_keys(page) == [], "the drafts on this device are cleared"

    # The user is gone from the pool: signing in again fails.
    # (PreventUserExistenceErrors: an unknown name looks like a wrong password.)
    with pytest.raises((cognito.exceptions.NotAuthorizedException, cognito.exceptions.UserNotFoundException)):
        id_token(cognito, pool, username)
    # A new sign-up under the same name is a new account: it sees none of the old notes, and is
    # not shown as the author of the old posts.
    create_user(cognito, pool, username)
    fresh = id_token(cognito, pool, username)
    assert all_notes(api_url, fresh) == []
    status, _, posts = api(api_url, fresh, "GET", "/post?limit=100")
    assert status == 200
    (old_post,) = [post for post in posts if post["title"] == title]
    assert old_post["author"] == "deleted user"
