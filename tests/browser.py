# SPDX-License-Identifier: LGPL-2.1-or-later
"""A real browser on a real Cockpit, for tests of the Cockpit page.

Cockpit: cockpit-ws --local-session=cockpit-bridge on 127.0.0.1 runs as a given user (no login: the bridge is
that user's session), and finds the page through XDG_DATA_DIRS (a staged install of the build, or the build's
share dir). Browser: Debian's chromium, headless, driven through the DevTools protocol over a WebSocket
(Debian's python3-websocket)."""

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

import lib
from stage import stage_install  # noqa: F401  (tests import it from here too)

try:
    import websocket
except ImportError:    # a Python other than Debian's: use Debian's package all the same
    sys.path.append("/usr/lib/python3/dist-packages")
    import websocket

COCKPIT_WS = "/usr/lib/cockpit/cockpit-ws"
SCREENSHOT_DIR = os.path.join(lib.BUILD_DIR, "test-screenshots")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1400,900", "--remote-debugging-port=0"]


class Cockpit:
    """cockpit-ws with a local session as USER, serving the packages of SHARE (and the system's)."""

    def __init__(self, user, share, port):
        self.user, self.share, self.port = user, share, port
        self.proc = None

    def __enter__(self):
        env = dict(os.environ, XDG_DATA_DIRS=f"{self.share}:/usr/local/share:/usr/share", HOME="/")
        cmd = [COCKPIT_WS, "--local-session=cockpit-bridge", "-a", "127.0.0.1", "-p", str(self.port)]
        if self.user != "root":
            cmd = ["setpriv", f"--reuid={self.user}", f"--regid={self.user}", "--init-groups"] + cmd
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd="/")
        lib.wait_for(lambda: self.proc.poll() is not None or self._up(), timeout=30, what="cockpit-ws")
        assert self.proc.poll() is None, self.output()
        return self

    def _up(self):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{self.port}/cockpit/@localhost/bpfd/manifest.json", timeout=5)
            return True
        except Exception:
            return False

    def url(self, fragment="/"):
        return f"http://127.0.0.1:{self.port}/cockpit/@localhost/bpfd/index.html#{fragment}"

    def output(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def __exit__(self, *exc):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Browser:
    """Headless chromium with one page, driven over the DevTools protocol."""

    def __init__(self):
        self.proc = None
        self.ws = None
        self.next_id = 0
        self.console = []
        self.requests = []     # every URL the page asked for

    def __enter__(self):
        self.profile = tempfile.mkdtemp(prefix="chromium-")
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(["chromium", *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
                                     stdout=self.log, stderr=subprocess.STDOUT, cwd="/")
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        lib.wait_for(lambda: self.proc.poll() is not None or os.path.exists(port_file) and
                     len(open(port_file).read().split()) == 2, timeout=60, what="chromium's DevTools port")
        assert self.proc.poll() is None, self.output()
        port = open(port_file).read().split()[0]
        pages = lib.wait_for(lambda: [t for t in json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
                                      if t["type"] == "page"], what="a page target")
        self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=60, suppress_origin=True)
        self.call("Page.enable")
        self.call("Runtime.enable")
        self.call("Network.enable")
        return self

    def output(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-3000:]

    def __exit__(self, *exc):
        if self.ws:
            self.ws.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    def call(self, method, **params):
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("method") == "Runtime.consoleAPICalled":
                self.console.append(" ".join(str(a.get("value", a.get("description", ""))) for a in msg["params"]["args"]))
            elif msg.get("method") == "Network.requestWillBeSent":
                self.requests.append(msg["params"]["request"]["url"])
            elif msg.get("method") == "Network.webSocketCreated":
                self.requests.append(msg["params"]["url"])
            elif msg.get("method") == "Runtime.exceptionThrown":
                self.console.append("exception: " + json.dumps(msg["params"]["exceptionDetails"])[:500])
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise AssertionError(f"{method}: {msg['error']}")
                return msg["result"]

    def eval(self, expression):
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise AssertionError(f"{expression}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def go(self, url):
        self.call("Page.navigate", url=url)
        self.wait_js("document.readyState === 'complete' && document.body && document.body.dataset.ready === 'true'",
                     what=f"{url} to load")

    def wait_js(self, expression, timeout=30, what=None, also="document.querySelector('#alert').innerText"):
        """Waits until EXPRESSION is true in the page (the page updates from bus signals; nothing here sleeps
        a fixed time). On a timeout the message has the page's ALSO (its alert) and console."""
        try:
            return lib.wait_for(lambda: self.eval(expression), timeout=timeout, what=what or expression)
        except AssertionError as e:
            raise AssertionError(f"{e}; page: {self.eval(also)!r}; console: {' | '.join(self.console[-10:])}")

    def click(self, selector):
        found = self.eval(f"(() => {{ const e = document.querySelector({json.dumps(selector)}); "
                          f"if (!e) return false; e.click(); return true; }})()")
        assert found, f"nothing to click at {selector}"

    def text(self, selector):
        return self.eval(f"(() => {{ const e = document.querySelector({json.dumps(selector)}); "
                         f"return e ? e.innerText : null; }})()")

    def set_file(self, selector, path):
        """Chooses PATH in the file input at SELECTOR, as a person would in the file dialog."""
        root = self.call("DOM.getDocument")["root"]["nodeId"]
        node = self.call("DOM.querySelector", nodeId=root, selector=selector)["nodeId"]
        assert node, f"no {selector}"
        self.call("DOM.setFileInputFiles", nodeId=node, files=[path])

    def screenshot(self, name):
        os.makedirs(SCREENSHOT_DIR, exist_ok=True)
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        path = os.path.join(SCREENSHOT_DIR, name + ".png")
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path
