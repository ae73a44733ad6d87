#!/usr/bin/env python3
"""The web UI in a real browser (issue 14 §5): Debian's Chromium, headless,
driven by Selenium (pinned in requirements.txt; `scripts/setup-browser`
installs the browser and its driver), against `sightline serve` on 127.0.0.1.

For each backend (SQLite, then PostgreSQL) it starts the real binary on a
fresh store holding the Bureau 121 pack and MITRE ATT&CK Enterprise (from
$SIGHTLINE_TEST_DATA, `serve --demo --demo-import`), with two accounts on
the demo collection: `writer` (read and write) and `reader` (read only). Then,
as a user would:

  sign in -> home -> search "lazarus" -> Lazarus Group -> its ATT&CK matrix
  (and the Navigator layer) -> its graph, expanding a node -> Bureau 121 ->
  its organisation tree (Lab 110) -> campaign timeline -> indicators ->
  collections: upload a bundle as the writer (1+ new, an invalid object in
  #rejected with its diagnostic code) -> sign out (cookie gone, back and home
  lead to the sign-in page, the old session id is dead) -> sign in as the
  reader: no upload form, a forged upload is 403 and stores nothing.

Also: the session cookie is HttpOnly and SameSite=Strict (as the browser
holds it and as the Set-Cookie header says), every POST form carries a csrf
field, and a POST without it (sign-in, sign-out, upload) is 403.

On every page: a screenshot (under --out, default target/ui-browser/BACKEND/,
printed) and axe-core (vendored, tests/interop/vendor/; injected with
WebDriver's execute_script, which the page's CSP does not block): any
violation of impact serious or critical fails, with its rule, impact and
elements. A page or element of the UI URL contract that is missing is a
failure, never a skip.

PostgreSQL: a fresh database on $SIGHTLINE_TEST_PG's cluster, or a private
cluster started with scripts/pg (and stopped) when that is unset.

Exit status: 0 when every check passes, 1 otherwise, 2 when it cannot run.

Usage: ui_browser.py [--sightline PATH] [--backend sqlite|postgres|both] [--out DIR]
                     [--docs-screenshot docs/ui.png]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENDOR = Path(__file__).resolve().parent / "vendor"
# tests/interop/vendor/README.md: axe-core 4.14.1 from the npm registry.
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
PASSWORD = "ui-Browser-Password-1"
SESSION_COOKIE = "sightline_session"
# ATT&CK's Lazarus Group (G0032); the scenario finds it by searching, this is
# for steps that must not depend on the search.
LAZARUS = "intrusion-set--c93fccb1-e8e8-42cf-ae33-2ad1d183913a"
LOGIN_COOKIE = "sightline_login"
# Without the flags after --disable-gpu Chromium keeps trying to reach Google's
# services; on a closed network that is noise and delay.
CHROME_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1280,800", "--lang=en-US",
]
# Seconds to wait for an element: pages are rendered on the server, so what is
# not there at once is missing; the graph is drawn by script and gets longer.
WAIT = 3
SCRIPT_WAIT = 15
# Serious and critical axe violations fail; moderate and minor are listed.
AXE_FAILING = {"serious", "critical"}


class Checks:
    """Counts passes and failures; a check is a function, an exception or a
    False result fails it, and the run goes on."""

    def __init__(self, label: str):
        self.label = label
        self.passed = 0
        self.failed: list[str] = []

    def __call__(self, what: str, fn):
        try:
            r = fn()
            ok = r is not False
            detail = f" ({r})" if isinstance(r, str) else ""
        except Exception as e:  # noqa: BLE001 - every failure is reported, then we go on
            ok, r = False, None
            detail = f": {type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"
            if not isinstance(e, (AssertionError, Missing)):
                traceback.print_exc(limit=3, file=sys.stdout)
        print(f"  {'ok  ' if ok else 'FAIL'} [{self.label}] {what}{detail}", flush=True)
        if ok:
            self.passed += 1
        else:
            self.failed.append(f"[{self.label}] {what}{detail}")
        return r

    def fail(self, what: str, why: str) -> None:
        print(f"  FAIL [{self.label}] {what}: {why}", flush=True)
        self.failed.append(f"[{self.label}] {what}: {why}")


class Missing(Exception):
    """A page or element of the UI URL contract is not there."""


# ---------------------------------------------------------------- HTTP (urllib)

class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):  # noqa: D401 - urllib's hook
        return None


# No proxy: the server is on loopback, whatever http_proxy says.
OPENER = urllib.request.build_opener(NoRedirect, urllib.request.ProxyHandler({}))


def http(method: str, url: str, *, cookies: dict | None = None, form: dict | None = None,
         body: bytes | None = None, content_type: str | None = None, auth: tuple | None = None):
    """(status, headers, text) of one request; redirects are not followed."""
    headers = {}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    if form is not None:
        body = urllib.parse.urlencode(form).encode()
        content_type = "application/x-www-form-urlencoded"
    if content_type:
        headers["Content-Type"] = content_type
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with OPENER.open(req, timeout=60) as r:
            return r.status, r.headers, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode("utf-8", "replace")


def multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    """A multipart/form-data body: fields {name: value}, files {name: (filename, bytes)}."""
    boundary = "----sightline-ui-test-" + uuid.uuid4().hex
    out = []
    for k, v in fields.items():
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    for k, (fname, data) in files.items():
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; filename="{fname}"\r\n'
                   f"Content-Type: application/json\r\n\r\n".encode() + data + b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


def set_cookies(headers) -> list[str]:
    return headers.get_all("Set-Cookie") or []


def cookie_attrs(header: str) -> tuple[str, str, dict]:
    """(name, value, {attribute lowercased: value}) of one Set-Cookie header."""
    parts = [p.strip() for p in header.split(";")]
    name, _, value = parts[0].partition("=")
    attrs = {}
    for p in parts[1:]:
        k, _, v = p.partition("=")
        attrs[k.strip().lower()] = v.strip()
    return name, value, attrs


def hidden_csrf(page: str) -> str | None:
    m = re.search(r'name="csrf"[^>]*value="([^"]*)"', page) or re.search(r'value="([^"]*)"[^>]*name="csrf"', page)
    return html.unescape(m.group(1)) if m else None


def http_sign_in(base: str, user: str) -> dict:
    """Signs in with urllib as a browser would (GET the form, POST it with its
    token and the double-submit cookie); returns the session cookie header."""
    st, h, page = http("GET", f"{base}/ui/login")
    assert st == 200, f"GET /ui/login: {st}"
    token = hidden_csrf(page)
    login = next((cookie_attrs(c)[1] for c in set_cookies(h) if cookie_attrs(c)[0] == LOGIN_COOKIE), None)
    assert token and login, "the sign-in form has no csrf field or no sightline_login cookie"
    st, h, _ = http("POST", f"{base}/ui/login", cookies={LOGIN_COOKIE: login},
                    form={"user": user, "password": PASSWORD, "csrf": token})
    assert st in (302, 303), f"POST /ui/login as {user}: {st}, expected a redirect"
    return {"status": st, "set_cookie": set_cookies(h)}


# ---------------------------------------------------------------- the server

def start_server(binary: str, store: list[str], tmp: Path, attack: Path):
    """Adds the accounts, writes the config, starts `serve --demo`; returns
    (process, base URL, demo collection UUID, stderr path)."""

    def sl(*a: str, stdin: str | None = None):
        return subprocess.run([binary, *store, *a], input=stdin, capture_output=True, text=True,
                              timeout=300, check=True)

    sl("user", "add", "writer", "--password-stdin", stdin=PASSWORD + "\n")
    sl("user", "add", "reader", "--password-stdin", stdin=PASSWORD + "\n")
    config = tmp / "sightline.toml"
    # The demo's collection with our accounts' rights (serve --demo keeps a
    # [collections.demo] the config gives).
    config.write_text("""
title = "Sightline UI test"
[[api_roots]]
path = "api1"
title = "UI test"
collections = ["demo"]
[collections.demo]
can_read = ["writer", "reader"]
can_write = ["writer"]
""")
    err = tmp / "serve.stderr"
    proc = subprocess.Popen([binary, *store, "serve", "--listen", "127.0.0.1:0", "--config", str(config),
                             "--demo", "--demo-import", str(attack)],
                            stdout=subprocess.PIPE, stderr=open(err, "w"), text=True)
    base = collection = None
    # The banner is read on a thread, so a server that hangs before it cannot
    # hang the test: it gets 240 s (the import of ATT&CK takes 2-20).
    lines: queue.Queue = queue.Queue()
    assert proc.stdout is not None

    def pump():
        for x in iter(proc.stdout.readline, ""):
            lines.put(x)
        lines.put("")  # end of output: the server exited
    threading.Thread(target=pump, daemon=True).start()
    deadline = time.time() + 240
    while time.time() < deadline:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.time()))
        except queue.Empty:
            break
        if not line:
            break
        if line.startswith("listening on "):
            base = line.split()[-1]
        m = re.match(r"collection demo: \S*/collections/([0-9a-f-]{36})/", line)
        if m:
            collection = m.group(1)
            break
    if base is None:
        proc.kill()
        proc.wait()
        raise RuntimeError(f"the server did not start:\n{err.read_text()[-3000:]}")
    return proc, base, collection, err


def stop_server(proc) -> int:
    os.kill(proc.pid, signal.SIGTERM)
    try:
        return proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return -1


def psql() -> str:
    found = shutil.which("psql")
    if found:
        return found
    cands = sorted(Path("/usr/lib/postgresql").glob("*/bin/psql"))
    if not cands:
        raise RuntimeError("psql not found (scripts/pg install)")
    return str(cands[-1])


# ---------------------------------------------------------------- the browser

class Browser:
    """One headless Chromium with a fresh profile, and what every page gets:
    a screenshot, axe-core, the csrf field check."""

    def __init__(self, tmp: Path, out: Path, check: Checks, axe_src: str):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for f in CHROME_FLAGS:
            opts.add_argument(f)
        opts.add_argument(f"--user-data-dir={tmp / 'chromium-profile'}")
        self.driver = webdriver.Chrome(options=opts, service=Service(
            executable_path=CHROMEDRIVER, log_output=str(tmp / "chromedriver.log")))
        # --window-size counts the (invisible) window frame: make the viewport
        # itself 1280x800, the size of the screenshots.
        iw, ih = self.driver.execute_script("return [window.innerWidth, window.innerHeight]")
        self.driver.set_window_size(1280 + 1280 - iw, 800 + 800 - ih)
        self.driver.set_script_timeout(120)
        self.driver.set_page_load_timeout(60)
        self.out = out
        self.check = check
        self.axe_src = axe_src
        self.shots = 0
        self.axe_pages: list[tuple[str, list]] = []

    def quit(self):
        self.driver.quit()

    # Elements ------------------------------------------------------------

    def page_note(self) -> str:
        """Where we are and what the page says, for a failure message."""
        d = self.driver
        try:
            h1 = d.find_element("css selector", "h1").text
        except Exception:  # noqa: BLE001
            h1 = "(no h1)"
        return f"at {urllib.parse.urlsplit(d.current_url).path} (h1: {h1!r})"

    def need(self, css: str, what: str, timeout: float = WAIT):
        """The first element matching `css`, waiting for it; Missing if absent."""
        from selenium.common.exceptions import TimeoutException
        from selenium.webdriver.support import expected_conditions as EC
        from selenium.webdriver.support.ui import WebDriverWait
        try:
            return WebDriverWait(self.driver, timeout).until(
                EC.presence_of_element_located(("css selector", css)))
        except TimeoutException:
            raise Missing(f"{what}: no {css} {self.page_note()}") from None

    def all(self, css: str):
        return self.driver.find_elements("css selector", css)

    def path(self) -> str:
        return urllib.parse.urlsplit(self.driver.current_url).path

    def wait_path(self, pred, what: str, timeout: float = WAIT):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if pred(self.path()):
                return self.path()
            time.sleep(0.1)
        raise AssertionError(f"{what}: still {self.page_note()}")

    # Every page ----------------------------------------------------------

    def page(self, name: str, ready_css: str, what: str, timeout: float = WAIT):
        """The page now shown is `name`: waits for `ready_css`, then, found or
        not, saves a screenshot, checks its POST forms carry a csrf field and
        runs axe (every page visited gets them); Missing if it never came."""
        try:
            el = self.need(ready_css, what, timeout)
        except Missing as e:
            el, missing = None, e
        self.shots += 1
        shot = self.out / f"{self.shots:02d}-{name}.png"
        self.driver.save_screenshot(str(shot))
        self.check(f"{name}: every POST form has a csrf field", self.forms_have_csrf)
        self.check(f"{name}: axe-core, no serious or critical violation", lambda: self.axe(name))
        if el is None:
            raise missing
        return el

    def forms_have_csrf(self):
        bad = self.driver.execute_script("""
            return Array.from(document.querySelectorAll('form'))
              .filter(f => (f.getAttribute('method') || 'get').toLowerCase() === 'post')
              .filter(f => !f.querySelector('input[name="csrf"]') || !f.querySelector('input[name="csrf"]').value)
              .map(f => f.outerHTML.slice(0, 160));""")
        assert not bad, f"POST forms without a csrf value {self.page_note()}: {bad}"

    def axe(self, name: str):
        d = self.driver
        d.execute_script(self.axe_src)
        # The CSP (script-src 'self') must not have stopped the injection.
        assert d.execute_script("return typeof window.axe") == "object", \
            "axe-core was not injected (does the page's CSP block WebDriver's execute_script?)"
        res = d.execute_async_script("""
            const done = arguments[arguments.length - 1];
            axe.run(document, {resultTypes: ['violations']})
              .then(r => done({ok: true, violations: r.violations.map(v => ({
                  id: v.id, impact: v.impact, help: v.help,
                  nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html.slice(0, 200),
                                            summary: (n.failureSummary || '').slice(0, 300)}))}))}))
              .catch(e => done({ok: false, error: String(e)}));""")
        assert res and res.get("ok"), f"axe.run failed: {res}"
        vs = res["violations"]
        self.axe_pages.append((name, vs))
        for v in vs:
            mark = "AXE " if v["impact"] in AXE_FAILING else "axe "
            if name == "axe-probe":
                mark = "axe (expected) "
            print(f"       {mark}{name}: {v['id']} ({v['impact']}): {v['help']}")
            for n in v["nodes"][:5]:
                print(f"            {n['target']}  {n['html'][:120]}")
            if len(v["nodes"]) > 5:
                print(f"            ... {len(v['nodes']) - 5} more elements")
        bad = [f"{v['id']} ({v['impact']}, {len(v['nodes'])} elements: {v['nodes'][0]['target']})"
               for v in vs if v["impact"] in AXE_FAILING]
        assert not bad, "; ".join(bad)

    # Sign-in -------------------------------------------------------------

    def sign_in(self, base: str, user: str):
        """Signs in afresh (cookies cleared first, so this does not depend on
        an earlier sign-out having worked)."""
        d = self.driver
        d.get(f"{base}/ui/login")
        d.delete_all_cookies()
        d.get(f"{base}/ui/login")
        self.need("input#user", "the user name field").send_keys(user)
        pw = self.need("input#password", "the password field")
        pw.send_keys(PASSWORD)
        from selenium.webdriver.common.keys import Keys
        pw.send_keys(Keys.ENTER)
        self.wait_path(lambda p: p != "/ui/login", f"sign-in as {user}")


# ---------------------------------------------------------------- the scenario

def bundle(new_ids: list[str], bad_id: str) -> bytes:
    """Two new valid objects and one invalid indicator (a broken pattern: E141)."""
    now = "2026-12-01T00:00:00.000Z"
    objs = [
        {"type": "malware", "spec_version": "2.1", "id": new_ids[0], "created": now, "modified": now,
         "name": "UI test malware", "is_family": True, "malware_types": ["trojan"]},
        {"type": "indicator", "spec_version": "2.1", "id": new_ids[1], "created": now, "modified": now,
         "name": "UI test indicator", "pattern": "[ipv4-addr:value = '198.51.100.7']",
         "pattern_type": "stix", "valid_from": now, "indicator_types": ["malicious-activity"]},
        {"type": "indicator", "spec_version": "2.1", "id": bad_id, "created": now, "modified": now,
         "name": "UI test broken indicator", "pattern": "[file:hashes.'SHA-256' = ",
         "pattern_type": "stix", "valid_from": now},
    ]
    return json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objs}, indent=1).encode()


def scenario(check: Checks, b: Browser, base: str, collection_uuid: str | None, tmp: Path):
    from selenium.webdriver.common.keys import Keys

    d = b.driver
    ctx: dict = {}

    def needs(key: str):
        if key not in ctx:
            raise AssertionError(f"needs {key}, which an earlier step did not find")
        return ctx[key]

    # --- Sign-in and home
    def login_page():
        d.get(f"{base}/ui/login")
        b.page("login", "form#login", "the sign-in page")
        b.need("input#user", "user name field")
        b.need("input#password", "password field")
    check("sign-in page: form#login, input#user, input#password", login_page)

    def axe_catches():
        # The harness itself: a control axe must flag (an input with no label
        # is a critical "label" violation), so a silent axe cannot pass pages.
        d.get(f"{base}/ui/login")
        d.execute_script("""const i = document.createElement('input'); i.type = 'text';
                            i.id = 'axe-probe'; document.querySelector('main').appendChild(i);""")
        try:
            b.axe("axe-probe")
        except AssertionError as e:
            assert "label (critical" in str(e), f"axe flagged something else: {e}"
            b.axe_pages.pop()
            return
        raise AssertionError("axe-core did not flag an unlabelled input")
    check("axe-core harness: an unlabelled input added to the sign-in page is flagged (critical)", axe_catches)

    def sign_in_writer():
        b.sign_in(base, "writer")
        assert b.path() == "/ui/", f"after sign-in: {b.path()}, expected /ui/"
        ctx["signed_in"] = True
    check("sign in as writer: lands on /ui/", sign_in_writer)

    def home():
        d.get(f"{base}/ui/")
        b.page("home", "main", "home")
        missing = [css for css in ("#counts", "#latest", "#latest-sightings", "#top-indicators") if not b.all(css)]
        assert not missing, f"no {', '.join(missing)} {b.page_note()}"
        assert re.search(r"\d", b.all("#counts")[0].text), "#counts shows no number"
    check("home: #counts, #latest, #latest-sightings, #top-indicators", home)

    def cookie_in_browser():
        c = d.get_cookie(SESSION_COOKIE)
        assert c, f"no {SESSION_COOKIE} cookie in the browser"
        assert c.get("httpOnly") is True, f"HttpOnly missing: {c}"
        assert c.get("sameSite") == "Strict", f"SameSite is {c.get('sameSite')!r}: {c}"
        assert c.get("path") == "/ui", f"Path is {c.get('path')!r}"
        assert d.execute_script("return document.cookie").find(SESSION_COOKIE) < 0, \
            "the session cookie is visible to scripts"
    check("session cookie as the browser holds it: HttpOnly, SameSite=Strict, Path=/ui, hidden from scripts",
          cookie_in_browser)

    def csp():
        d.get(f"{base}/ui/")
        ran = d.execute_script("""
            window.__inline = false;
            const s = document.createElement('script');
            s.textContent = 'window.__inline = true';
            document.head.appendChild(s);
            return window.__inline;""")
        assert ran is False, "an inline script added to the page ran: no CSP in force"
        # ...while WebDriver's own scripts (how axe-core gets in) are not blocked.
        assert d.execute_script("return 1 + 1") == 2
    check("CSP in force: an inline <script> added to the page does not run; WebDriver's execute_script does", csp)

    def keyboard():
        from selenium.webdriver.common.action_chains import ActionChains
        d.get(f"{base}/ui/objects/{urllib.parse.quote(LAZARUS)}")
        ActionChains(d).send_keys(Keys.TAB).perform()
        first = d.execute_script("const a = document.activeElement; return [a.tagName, a.getAttribute('href'), a.textContent]")
        assert first[0] == "A" and first[1] == "#main", f"the first Tab stop is {first}, not a skip link to #main"
        ActionChains(d).send_keys(Keys.ENTER).perform()
        time.sleep(0.2)
        ActionChains(d).send_keys(Keys.TAB).perform()
        inside = d.execute_script("return !!document.activeElement.closest('main')")
        assert inside, "after the skip link, Tab does not move into the page's main content"
    check("keyboard: the first Tab stop is the skip link; after it, Tab lands in <main>", keyboard)

    # --- Search
    def search():
        d.get(f"{base}/ui/")
        q = b.need("#nav-q", "the header's search field")
        q.send_keys("lazarus")
        q.send_keys(Keys.ENTER)
        b.wait_path(lambda p: p == "/ui/search", "submitting the search")
        b.page("search-lazarus", "#results", "search results")
        links = [a for a in b.all("#results a[href^='/ui/objects/']") if a.text.strip() == "Lazarus Group"]
        assert links, "no 'Lazarus Group' link in #results"
        ctx["lazarus"] = links[0].get_attribute("href")
        b.need("#facets", "search: type facets")
        links[0].click()
        b.wait_path(lambda p: p.startswith("/ui/objects/intrusion-set--"), "opening Lazarus Group")
    check('search "lazarus": #results with Lazarus Group, #facets; open it', search)
    if "lazarus" not in ctx:
        # So that the next steps still run: found through the API instead.
        st, _, body = http("GET", f"{base}/api/v1/search?q=G0032&type=intrusion-set", auth=("writer", PASSWORD))
        hits = [h for h in json.loads(body).get("results", []) if h.get("name") == "Lazarus Group"] if st == 200 else []
        if hits:
            ctx["lazarus"] = f"{base}/ui/objects/{hits[0]['id']}"

    def instant_search():
        # htmx: results follow the typing, no submit.
        d.get(f"{base}/ui/search")
        q = b.need("input#q", "the search page's field")
        url = d.current_url
        q.send_keys("G0032")
        deadline = time.time() + SCRIPT_WAIT
        while time.time() < deadline and "Lazarus Group" not in b.need("#results", "results").text:
            time.sleep(0.2)
        assert "Lazarus Group" in b.need("#results", "results").text, "typing G0032 did not bring Lazarus Group"
        assert d.current_url == url, f"the page was reloaded ({d.current_url}): not instant"
    check("instant search: typing G0032 on /ui/search shows Lazarus Group without a submit (htmx)", instant_search)

    # --- Object page
    def lazarus_page():
        url = needs("lazarus")
        if d.current_url != url:
            d.get(url)
        h1 = b.page("object-lazarus", "h1", "the object page")
        assert h1.text.strip() == "Lazarus Group", f"h1 is {h1.text!r}"
        problems = []
        for a, suffix in (("a#open-graph", "/graph"), ("a#open-matrix", "/matrix")):
            links = b.all(a)
            if not links:
                problems.append(f"no {a}")
            elif links[0].get_attribute("href") != url + suffix:
                problems.append(f"{a} goes to {links[0].get_attribute('href')}, not {url + suffix}")
        for css in (".type-badge", ".markdown", "#relationships", "#versions", "details#raw-json"):
            if not b.all(css):
                problems.append(f"no {css}")
        if b.all(".type-badge") and "intrusion-set" not in b.all(".type-badge")[0].text:
            problems.append(f".type-badge says {b.all('.type-badge')[0].text!r}")
        if b.all(".markdown") and not b.all(".markdown")[0].text.strip():
            problems.append("empty .markdown description")
        if b.all("#relationships") and "uses" not in b.all("#relationships")[0].text:
            problems.append("#relationships does not list 'uses'")
        # ATT&CK writes Markdown links: rendered as links, never as raw HTML.
        if b.all(".markdown") and not b.all(".markdown a[href='https://attack.mitre.org/groups/G0032']"):
            problems.append(".markdown does not render the description's Markdown link to G0032")
        if b.all(".markdown script, .markdown iframe, .markdown [onclick]"):
            problems.append(".markdown holds active HTML")
        raw = b.all("details#raw-json")
        if raw:
            raw[0].find_element("css selector", "summary").click()
            if not re.search(r'"type":\s*"intrusion-set"', raw[0].text):
                problems.append("details#raw-json does not show the object's JSON when opened")
        assert not problems, f"{'; '.join(problems)} {b.page_note()}"
    check("Lazarus Group page: h1, .type-badge, .markdown, #relationships (uses), #versions, details#raw-json, "
          "a#open-graph, a#open-matrix", lazarus_page)
    if "lazarus" in ctx:
        # The contract's URLs: the pages are tested even when a link is missing.
        ctx["a#open-graph"] = ctx["lazarus"] + "/graph"
        ctx["a#open-matrix"] = ctx["lazarus"] + "/matrix"

    # --- ATT&CK matrix
    def matrix():
        d.get(needs("a#open-matrix"))
        b.page("matrix-lazarus", "table#matrix", "the ATT&CK matrix")
        cells = b.all("table#matrix td.technique[data-technique]")
        ids = {c.get_attribute("data-technique") for c in cells}
        assert len(ids) > 50, f"{len(ids)} techniques in the matrix, expected more than 50 (ATT&CK: 94)"
        assert any(t.startswith("T1566") for t in ids), "no T1566 (Phishing) cell"
        heat = [c for c in cells if any(k.startswith("heat") or k.startswith("level") for k in
                                        (c.get_attribute("class") or "").split())]
        assert heat, "no td.technique has a heat level class"
        ctx["techniques"] = len(ids)
        return f"{len(ids)} techniques"
    check("matrix: table#matrix, > 50 td.technique, T1566 present, heat classes", matrix)

    def layer():
        d.get(needs("a#open-matrix"))
        href = b.need("a#navigator-layer", "Navigator layer link").get_attribute("href")
        got = d.execute_async_script("""
            const done = arguments[arguments.length - 1];
            fetch(arguments[0], {credentials: 'same-origin'})
              .then(r => r.text().then(t => done({status: r.status, type: r.headers.get('content-type'), body: t})))
              .catch(e => done({status: 0, body: String(e)}));""", href)
        assert got["status"] == 200, f"{href}: {got['status']}"
        lay = json.loads(got["body"])
        assert str(lay.get("versions", {}).get("layer", "")).startswith("4"), f"layer version {lay.get('versions')}"
        assert lay.get("domain") == "enterprise-attack", f"domain {lay.get('domain')!r}"
        tids = {t.get("techniqueID") for t in lay.get("techniques", [])}
        assert len(tids) > 50 and any(str(t).startswith("T1566") for t in tids), f"{len(tids)} techniques in the layer"
    check("matrix: a#navigator-layer is an ATT&CK Navigator 4.x layer with the techniques", layer)

    # --- Graph
    def graph():
        d.get(needs("a#open-graph"))
        b.page("graph-lazarus", "#graph", "the graph view")
        b.need("#graph-filter input[type=checkbox]", "type filter", SCRIPT_WAIT)
        counter = b.need("#graph-count", "node and edge count", SCRIPT_WAIT)

        def nodes() -> int:
            m = re.search(r"(\d[\d,]*)\s+nodes?", counter.text)
            assert m, f"#graph-count says {counter.text!r}"
            return int(m.group(1).replace(",", ""))

        b.need("#graph-nodes button.expand[data-id]", "expand buttons", SCRIPT_WAIT)
        before = nodes()
        seed = urllib.parse.unquote(needs("lazarus").rsplit("/", 1)[-1])
        buttons = [x for x in b.all("#graph-nodes button.expand[data-id]") if x.get_attribute("data-id") != seed]
        # Software is linked to techniques Lazarus itself does not use: the best
        # chance of new nodes.
        buttons.sort(key=lambda x: 0 if x.get_attribute("data-id").split("--")[0] in ("malware", "tool") else 1)
        tried = []
        for btn in buttons[:4]:
            tried.append(btn.get_attribute("data-id"))
            d.execute_script("arguments[0].scrollIntoView({block: 'center'})", btn)
            btn.click()
            deadline = time.time() + SCRIPT_WAIT
            while time.time() < deadline and nodes() <= before:
                time.sleep(0.2)
            if nodes() > before:
                d.execute_script("window.scrollTo(0, 0)")
                b.shots += 1
                d.save_screenshot(str(b.out / f"{b.shots:02d}-graph-expanded.png"))
                return f"{before} -> {nodes()} nodes after expanding {tried[-1]}"
        raise AssertionError(f"#graph-count stayed at {before} nodes after expanding {tried}")
    check("graph: #graph, #graph-filter, #graph-count; button.expand grows the node count", graph)

    def graph_filter():
        d.get(needs("a#open-graph"))
        counter = b.need("#graph-count", "node and edge count", SCRIPT_WAIT)
        b.need("#graph-nodes button.expand[data-id]", "expand buttons", SCRIPT_WAIT)

        def nodes() -> int:
            m = re.search(r"(\d[\d,]*)\s+nodes?", counter.text)
            assert m, f"#graph-count says {counter.text!r}"
            return int(m.group(1).replace(",", ""))

        before = nodes()
        boxes = [x for x in b.all("#graph-filter input[type=checkbox]") if x.is_selected()]
        assert boxes, "no checked type box in #graph-filter"
        # Techniques are most of Lazarus Group's neighbourhood.
        boxes.sort(key=lambda x: 0 if "attack-pattern" in (x.get_attribute("value") or x.get_attribute("name") or "") else 1)
        box = boxes[0]
        what = box.get_attribute("value") or box.get_attribute("name")
        d.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
        box.click()
        deadline = time.time() + SCRIPT_WAIT
        while time.time() < deadline and nodes() >= before:
            time.sleep(0.2)
        assert nodes() < before, f"#graph-count stayed at {before} nodes after unchecking {what!r}"
        return f"{before} -> {nodes()} nodes without {what}"
    check("graph: unchecking a type in #graph-filter lowers the node count", graph_filter)

    # --- Organisation tree
    def tree():
        d.get(f"{base}/ui/search?q={urllib.parse.quote('Bureau 121')}")
        b.need("#results", "search results")
        links = [a for a in b.all("#results a[href^='/ui/objects/threat-actor--']") if a.text.strip() == "Bureau 121"]
        assert links, "no 'Bureau 121' threat-actor in #results"
        url = links[0].get_attribute("href")
        links[0].click()
        h1 = b.page("object-bureau-121", "h1", "Bureau 121's page")
        assert h1.text.strip() == "Bureau 121", f"h1 is {h1.text!r}"
        problems = []
        if not b.all(".tlp-badge"):
            problems.append(f"no .tlp-badge (the pack marks Bureau 121 TLP:CLEAR) {b.page_note()}")
        link = b.all("a#open-tree")
        if not link:
            problems.append(f"no a#open-tree {b.page_note()}")
        elif link[0].get_attribute("href") != url + "/tree":
            problems.append(f"a#open-tree goes to {link[0].get_attribute('href')}")
        d.get(url + "/tree")
        t = b.page("tree-bureau-121", "ul#org-tree", "the organisation tree")
        if "Lab 110" not in t.text:
            problems.append("#org-tree does not contain Lab 110")
        if not b.all("ul#org-tree li ul li a[href^='/ui/objects/']"):
            problems.append("#org-tree has no nested links to objects")
        assert not problems, "; ".join(problems)
    check("Bureau 121: .tlp-badge, a#open-tree; ul#org-tree holds Lab 110, nested, linked", tree)

    # --- Campaigns and indicators
    def timeline():
        d.get(f"{base}/ui/campaigns")
        t = b.page("campaigns", "#timeline", "the campaign timeline")
        assert t.find_elements("css selector", "a[href^='/ui/objects/campaign--']"), "#timeline links no campaign"
    check("campaigns: #timeline with campaigns", timeline)

    def indicators():
        d.get(f"{base}/ui/indicators?state=valid")
        b.page("indicators", "table#indicators", "the indicators list")
        b.need("form#indicator-filter", "indicator filter")
    check("indicators: table#indicators, form#indicator-filter", indicators)

    # --- Upload as the writer
    new_ids = [f"malware--{uuid.uuid4()}", f"indicator--{uuid.uuid4()}"]
    bad_id = f"indicator--{uuid.uuid4()}"
    upload_file = tmp / "upload.json"
    upload_file.write_bytes(bundle(new_ids, bad_id))

    def collections_writer():
        d.get(f"{base}/ui/collections")
        b.page("collections-writer", "table#collections", "the collections page")
        form = b.need("form.upload", "upload form (the writer may write to demo)")
        ctx["upload_action"] = form.get_attribute("action")
        assert urllib.parse.urlsplit(ctx["upload_action"]).path.endswith("/upload"), ctx["upload_action"]
        form.find_element("css selector", "input[type=file][name=bundle]").send_keys(str(upload_file))
        buttons = form.find_elements("css selector", "button[type=submit], input[type=submit], button:not([type])")
        if buttons:
            buttons[0].click()
        else:
            form.submit()
        s = b.page("upload-result", "#import-summary", "the import summary", SCRIPT_WAIT)
        # "2 new" or a "New | 2" row.
        m = re.search(r"(\d+)\s+new\b|^\s*new\b[^\d\n]*(\d+)", s.text, re.I | re.M)
        assert m and int(m.group(1) or m.group(2)) >= 1, f"#import-summary says {s.text!r}, expected '1+ new'"
        ctx["summary"] = " ".join(s.text.split())
        rej = b.need("#rejected", "rejected objects").text
        assert bad_id in rej, f"#rejected does not name {bad_id}"
        assert re.search(r"\bE\d{3}\b", rej), f"#rejected shows no diagnostic code (E141 expected): {rej[:200]!r}"
        for i in new_ids:
            assert i not in rej, f"{i} is valid but shown as rejected"
        d.get(f"{base}/ui/objects/{new_ids[0]}")
        h1 = b.need("h1", "the uploaded object's page")
        assert h1.text.strip() == "UI test malware", f"the uploaded malware's page says {h1.text!r}"
        d.get(f"{base}/ui/objects/{new_ids[1]}")
        h1 = b.page("object-indicator", "h1", "the uploaded indicator's page")
        assert h1.text.strip() == "UI test indicator", f"the uploaded indicator's page says {h1.text!r}"
        code = re.search(r"\bE\d{3}\b", rej).group(0)
        return f"{ctx['summary'][:100]}; rejected with {code}"
    check("writer: table#collections, form.upload; upload -> #import-summary 1+ new, #rejected names "
          "the invalid object with its code; the new object has a page", collections_writer)

    def indicators_filtered():
        # The pack and ATT&CK hold no indicator: the one just uploaded is the test.
        from selenium.webdriver.support.ui import Select
        d.get(f"{base}/ui/indicators")
        form = b.need("form#indicator-filter", "indicator filter")
        Select(form.find_element("css selector", "select[name=observable]")).select_by_value("ipv4-addr")
        Select(form.find_element("css selector", "select[name=state]")).select_by_value("valid")
        form.find_element("css selector", "button[type=submit], input[type=submit]").click()
        b.wait_path(lambda p: p == "/ui/indicators", "filtering")
        t = b.page("indicators-ipv4-valid", "table#indicators", "the filtered indicators")
        assert "observable=ipv4-addr" in d.current_url, f"the filter form did not submit: {d.current_url}"
        assert "UI test indicator" in t.text, "observable=ipv4-addr&state=valid does not list the uploaded indicator"
        assert "UI test broken indicator" not in t.text, "the rejected indicator is listed"
        for q in ("observable=file", "state=revoked", "state=expired", "min_confidence=90", "sighted=yes"):
            d.get(f"{base}/ui/indicators?{q}")
            t = b.need("table#indicators", f"indicators?{q}")
            assert "UI test indicator" not in t.text, f"indicators?{q} lists the uploaded indicator"
    check("indicators: form#indicator-filter (observable ipv4-addr, valid) lists the uploaded indicator; "
          "file, revoked, expired, confidence 90, sighted do not", indicators_filtered)

    # --- HTTP-level: cookie header flags and CSRF
    def cookie_header():
        r = http_sign_in(base, "writer")
        sc = [cookie_attrs(c) for c in r["set_cookie"]]
        sess = [a for (n, _, a) in sc if n == SESSION_COOKIE]
        assert sess, f"no {SESSION_COOKIE} in Set-Cookie: {r['set_cookie']}"
        a = sess[0]
        assert "httponly" in a, f"HttpOnly missing: {r['set_cookie']}"
        assert a.get("samesite", "").lower() == "strict", f"SameSite: {a.get('samesite')!r}"
        assert "secure" not in a, "Secure over plain HTTP: the browser would drop it"
        ctx["http_session"] = next(v for (n, v, _) in sc if n == SESSION_COOKIE)
    check("Set-Cookie after a sign-in (urllib): HttpOnly, SameSite=Strict, no Secure over HTTP", cookie_header)

    def csrf_refused():
        sess = {SESSION_COOKIE: needs("http_session")}
        st, _, page = http("GET", f"{base}/ui/", cookies=sess)
        assert st == 200, f"GET /ui/ with the session: {st}"
        token = hidden_csrf(page)
        assert token, "no csrf field on the home page (the sign-out form)"
        problems = []
        st, h, _ = http("GET", f"{base}/ui/login")
        login = next((cookie_attrs(c)[1] for c in set_cookies(h) if cookie_attrs(c)[0] == LOGIN_COOKIE), "")
        for what, args in [
            ("sign-in without csrf", dict(cookies={LOGIN_COOKIE: login}, form={"user": "writer", "password": PASSWORD})),
            ("sign-in with a wrong csrf", dict(cookies={LOGIN_COOKIE: login},
                                               form={"user": "writer", "password": PASSWORD, "csrf": "0" * 64})),
        ]:
            st, _, _ = http("POST", f"{base}/ui/login", **args)
            if st != 403:
                problems.append(f"{what}: {st}")
        for what, form in [("sign-out without csrf", {}), ("sign-out with a wrong csrf", {"csrf": "0" * 64})]:
            st, _, _ = http("POST", f"{base}/ui/logout", cookies=sess, form=form)
            if st != 403:
                problems.append(f"{what}: {st}")
        upload = ctx.get("upload_action") or (f"{base}/ui/collections/{collection_uuid}/upload" if collection_uuid else None)
        if upload:
            extra = f"malware--{uuid.uuid4()}"
            body, ctype = multipart({}, {"bundle": ("b.json", bundle([extra, f"indicator--{uuid.uuid4()}"], bad_id))})
            st, _, _ = http("POST", urllib.parse.urljoin(base, upload), cookies=sess, body=body, content_type=ctype)
            if st != 403:
                problems.append(f"upload without csrf: {st}")
            st, _, _ = http("GET", f"{base}/api/v1/objects/{extra}", auth=("writer", PASSWORD))
            if st != 404:
                problems.append(f"the upload without csrf stored {extra} (GET /api/v1/objects: {st})")
        else:
            problems.append("no upload URL to try")
        # The refused sign-outs did nothing.
        st, _, _ = http("GET", f"{base}/ui/", cookies=sess)
        if st != 200:
            problems.append(f"the session ended after refused sign-outs: GET /ui/ {st}")
        assert not problems, "; ".join(problems)
    check("POST without (or with a wrong) csrf is 403: sign-in, sign-out, upload; nothing happens", csrf_refused)

    # --- Sign out
    def sign_out():
        d.get(f"{base}/ui/")
        b.need("#sign-out", "the sign-out button").click()
        b.wait_path(lambda p: p == "/ui/login", "after sign-out")
        gone = d.get_cookie(SESSION_COOKIE)
        assert gone is None, f"the session cookie is still there: {gone}"
        d.back()
        time.sleep(0.5)
        assert b.path() == "/ui/login", f"back after sign-out shows {b.page_note()}"
        d.get(f"{base}/ui/")
        assert b.path() == "/ui/login", f"home after sign-out shows {b.page_note()}"
        d.get(f"{base}/ui/objects/{new_ids[0]}")
        assert b.path() == "/ui/login", f"an object page after sign-out shows {b.page_note()}"
    check("sign out (#sign-out): cookie gone; back, home and an object page lead to /ui/login", sign_out)

    def http_sign_out_kills_session():
        r = http_sign_in(base, "writer")
        sid = next(cookie_attrs(c)[1] for c in r["set_cookie"] if cookie_attrs(c)[0] == SESSION_COOKIE)
        st, _, page = http("GET", f"{base}/ui/", cookies={SESSION_COOKIE: sid})
        assert st == 200
        st, h, _ = http("POST", f"{base}/ui/logout", cookies={SESSION_COOKIE: sid}, form={"csrf": hidden_csrf(page)})
        assert st in (302, 303), f"sign-out: {st}"
        st, h, _ = http("GET", f"{base}/ui/", cookies={SESSION_COOKIE: sid})
        assert st in (302, 303) and h.get("Location", "").endswith("/ui/login"), \
            f"the signed-out session id still opens /ui/: {st}"
    check("a signed-out session id is dead on the server (urllib)", http_sign_out_kills_session)

    # --- The reader
    def reader():
        b.sign_in(base, "reader")
        d.get(f"{base}/ui/collections")
        b.page("collections-reader", "table#collections", "the collections page (reader)")
        assert "Bureau 121 demo" in b.need("table#collections", "").text, "the reader does not see the demo collection"
        assert not b.all("form.upload"), "the reader is offered an upload form"
        assert not b.all("input[type=file]"), "the reader is offered a file input"
        sid = (d.get_cookie(SESSION_COOKIE) or {}).get("value")
        assert sid, "no session cookie for the reader"
        token = b.need("form input[name=csrf]", "the sign-out form's csrf").get_attribute("value")
        upload = ctx.get("upload_action") or (f"{base}/ui/collections/{collection_uuid}/upload" if collection_uuid else None)
        assert upload, "no upload URL to forge"
        forged = f"malware--{uuid.uuid4()}"
        body, ctype = multipart({"csrf": token}, {"bundle": ("b.json", bundle([forged, f"indicator--{uuid.uuid4()}"], bad_id))})
        st, _, page = http("POST", urllib.parse.urljoin(base, upload), cookies={SESSION_COOKIE: sid}, body=body,
                           content_type=ctype)
        assert st == 403, f"the reader's forged upload (valid session and csrf): {st}, expected 403"
        assert re.search(r"403|forbidden|not allowed|may not|no right|permission", page, re.I), \
            "the 403 page does not say the upload is refused"
        st, _, _ = http("GET", f"{base}/api/v1/objects/{forged}", auth=("writer", PASSWORD))
        assert st == 404, f"the refused upload stored {forged} (GET /api/v1/objects: {st})"
    check("reader: sees the collection, no form.upload; a forged upload (valid session and csrf) is 403, "
          "stores nothing", reader)


def run_backend(name: str, binary: str, store: list[str], attack: Path, out: Path, axe_src: str,
                tmp: Path) -> Checks:
    check = Checks(name)
    t0 = time.time()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    try:
        proc, base, collection, err = start_server(binary, store, tmp, attack)
    except Exception as e:  # noqa: BLE001
        check.fail("sightline serve --demo --demo-import starts", str(e))
        return check
    print(f"ui_browser [{name}]: server at {base} ({time.time() - t0:.1f}s to import and start); "
          f"screenshots in {out}", flush=True)
    b = None
    try:
        t1 = time.time()
        b = check("Chromium starts (headless)", lambda: Browser(tmp, out, check, axe_src))
        if b is not None:
            print(f"ui_browser [{name}]: Chromium up in {time.time() - t1:.1f}s", flush=True)
            scenario(check, b, base, collection, tmp)
            worst = [(p, v["id"], v["impact"]) for p, vs in b.axe_pages for v in vs if v["impact"] in AXE_FAILING]
            print(f"ui_browser [{name}]: axe-core on {len(b.axe_pages)} pages, "
                  f"{len(worst)} serious/critical violations", flush=True)
    finally:
        if b is not None:
            b.quit()
        code = stop_server(proc)
        if code == 0:
            check("SIGTERM: the server exits 0", lambda: True)
        else:
            check.fail("SIGTERM: the server exits 0", f"exit {code}")
            print(err.read_text()[-3000:])
    print(f"ui_browser [{name}]: {time.time() - t0:.1f}s", flush=True)
    return check


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sightline", default=os.environ.get("SIGHTLINE_BIN", str(ROOT / "target/release/sightline")))
    ap.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--out", type=Path, default=ROOT / "target/ui-browser",
                    help="screenshots go to OUT/BACKEND/ (default target/ui-browser)")
    ap.add_argument("--docs-screenshot", type=Path, metavar="PNG",
                    help="also copy the SQLite run's matrix screenshot here (docs/ui.png, shown in the README)")
    args = ap.parse_args()
    binary = args.sightline
    if not Path(binary).is_file():
        print(f"ui_browser: ERROR: sightline binary not found at {binary}")
        return 2
    try:
        import selenium  # noqa: F401
    except ImportError as e:
        print(f"ui_browser: ERROR: {e} (run scripts/setup-venv)")
        return 2
    for exe in (CHROMIUM, CHROMEDRIVER):
        if not os.access(exe, os.X_OK):
            print(f"ui_browser: ERROR: {exe} is missing (run scripts/setup-browser)")
            return 2
    axe_path = VENDOR / "axe.min.js"
    axe_bytes = axe_path.read_bytes()
    if hashlib.sha256(axe_bytes).hexdigest() != AXE_SHA256:
        print(f"ui_browser: ERROR: {axe_path} is not the vendored axe-core (sha256 differs; see vendor/README.md)")
        return 2
    data = Path(os.environ.get("SIGHTLINE_TEST_DATA", ROOT.parent / "shared/data/real"))
    attack = sorted((data / "attack").glob("enterprise-attack-*.json*"))
    if not attack:
        # The scenario needs ATT&CK (Lazarus Group's techniques).
        print(f"ui_browser: ERROR: no enterprise-attack-*.json[.gz] under {data}/attack (SIGHTLINE_TEST_DATA)")
        return 2
    attack_file = attack[-1]
    print(f"ui_browser: {binary}; ATT&CK from {attack_file}; axe-core 4.14.1; "
          f"{subprocess.run([CHROMIUM, '--version'], capture_output=True, text=True).stdout.strip()}", flush=True)
    os.environ.setdefault("SE_AVOID_STATS", "true")  # Selenium Manager: no telemetry

    results: list[Checks] = []
    t0 = time.time()
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="sightline-ui-sqlite-") as tmp:
            t = Path(tmp)
            results.append(run_backend("sqlite", binary, ["--data", str(t / "data")], attack_file,
                                       args.out / "sqlite", axe_bytes.decode(), t))
    if args.backend in ("postgres", "both"):
        with tempfile.TemporaryDirectory(prefix="sightline-ui-pg-") as tmp:
            t = Path(tmp)
            pg_dir = None
            dropdb = None
            check = Checks("postgres")
            try:
                url = os.environ.get("SIGHTLINE_TEST_PG")
                if url:
                    name = f"ui_browser_{os.getpid()}_{int(time.time())}"
                    subprocess.run([psql(), url, "-q", "-c", f"CREATE DATABASE {name}"], check=True,
                                   capture_output=True, timeout=60)
                    dropdb = [psql(), url, "-q", "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"]
                    url = re.sub(r"/[^/?]*(\?|$)", f"/{name}\\1", url, count=1)
                else:
                    # Its own temp dir: the cluster's owner (postgres) must reach
                    # it, and our 0700 temp dir would stop it.
                    pg_dir = Path(tempfile.mkdtemp(prefix="sightline-ui-pg-cluster-"))
                    url = subprocess.run([str(ROOT / "scripts/pg"), "start", str(pg_dir)], check=True,
                                         capture_output=True, text=True, timeout=300).stdout.strip()
                print(f"ui_browser [postgres]: store {url}", flush=True)
                results.append(run_backend("postgres", binary, ["--data", str(t / "data"), "--store", url],
                                           attack_file, args.out / "postgres", axe_bytes.decode(), t))
            except subprocess.CalledProcessError as e:
                check.fail("a PostgreSQL database for the test", f"{e.cmd}: {(e.stderr or '')[-800:]}")
                results.append(check)
            finally:
                if dropdb:
                    subprocess.run(dropdb, capture_output=True, timeout=60)
                if pg_dir is not None:
                    subprocess.run([str(ROOT / "scripts/pg"), "stop", str(pg_dir)], capture_output=True, timeout=120)
                    shutil.rmtree(pg_dir, ignore_errors=True)

    if args.docs_screenshot:
        shot = next(iter(sorted((args.out / "sqlite").glob("*-matrix-lazarus.png"))), None)
        if shot:
            shutil.copyfile(shot, args.docs_screenshot)
            print(f"ui_browser: {shot} copied to {args.docs_screenshot}")
        else:
            print(f"ui_browser: no matrix screenshot to copy to {args.docs_screenshot}")
    passed = sum(r.passed for r in results)
    failed = [f for r in results for f in r.failed]
    print(f"ui_browser: {passed} passed, {len(failed)} failed ({time.time() - t0:.0f}s); screenshots in {args.out}")
    for f in failed:
        print(f"  FAILED: {f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
