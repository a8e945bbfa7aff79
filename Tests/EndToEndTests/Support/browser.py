#!/usr/bin/env python3
"""Drives headless Chromium through the DevTools protocol, for the console's tests.

    browser.py dom URL                  the page's DOM after it loaded (and its scripts ran)
    browser.py click URL SELECTOR WAIT  clicks the element, waits WAIT seconds, prints the DOM
    browser.py screenshot URL FILE      a PNG of the page (1280 wide, full height)

Prints the DOM on stdout; exits non-zero with the reason on stderr. Also
prints every JavaScript dialog (alert) it saw as `DIALOG: …` on stderr and
exits 3, so a test sees any script that data managed to run.
"""
import base64, json, os, re, shutil, subprocess, sys, tempfile, time

import websocket  # websocket-client, from PyPI


def main():
    command, url = sys.argv[1], sys.argv[2]
    profile = tempfile.mkdtemp(prefix="tributary-chromium-")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    proc = subprocess.Popen(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--remote-debugging-port=0",
         f"--user-data-dir={profile}", "--window-size=1280,900", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        endpoint = None
        deadline = time.time() + 30
        while time.time() < deadline and endpoint is None:
            line = proc.stderr.readline()
            match = re.search(r"DevTools listening on (ws://\S+)", line)
            if match:
                endpoint = match.group(1)
        if endpoint is None:
            sys.exit("chromium did not start its DevTools endpoint")
        port = re.search(r":(\d+)/", endpoint).group(1)
        # A page target (the browser endpoint cannot navigate).
        targets = json.loads(subprocess.run(["curl", "-s", f"http://127.0.0.1:{port}/json"], capture_output=True, text=True).stdout)
        page = next(t for t in targets if t["type"] == "page")
        ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30)
        session = Session(ws)
        session.call("Page.enable")
        session.call("Runtime.enable")
        session.navigate(url)
        if command == "click":
            selector, wait = sys.argv[3], float(sys.argv[4])
            found = session.evaluate(f"(() => {{ const e = document.querySelector({json.dumps(selector)}); if (!e) return false; e.click(); return true; }})()")
            if not found:
                sys.exit(f"no element matches {selector}")
            session.pump(wait)
        if command == "screenshot":
            height = session.evaluate("document.documentElement.scrollHeight")
            session.call("Emulation.setDeviceMetricsOverride", width=1280, height=max(600, min(int(height), 1400)), deviceScaleFactor=1, mobile=False)
            shot = session.call("Page.captureScreenshot", format="png")
            with open(sys.argv[3], "wb") as f:
                f.write(base64.b64decode(shot["data"]))
        print(session.evaluate("document.documentElement.outerHTML"))
        if session.dialogs:
            for text in session.dialogs:
                print(f"DIALOG: {text}", file=sys.stderr)
            sys.exit(3)
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(profile, ignore_errors=True)


class Session:
    def __init__(self, ws):
        self.ws, self.next_id, self.dialogs, self.loaded = ws, 0, [], False

    def call(self, method, **params):
        self.next_id += 1
        ident = self.next_id
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == ident:
                if "error" in message:
                    sys.exit(f"{method}: {message['error']}")
                return message.get("result", {})
            self.event(message)

    def event(self, message):
        method = message.get("method")
        if method == "Page.javascriptDialogOpening":
            self.dialogs.append(message["params"].get("message", ""))
            self.ws.send(json.dumps({"id": 0, "method": "Page.handleJavaScriptDialog", "params": {"accept": True}}))
        elif method == "Page.loadEventFired":
            self.loaded = True

    def navigate(self, url):
        self.loaded = False
        self.call("Page.navigate", url=url)
        deadline = time.time() + 30
        while not self.loaded and time.time() < deadline:
            self.pump(0.2)
        if not self.loaded:
            sys.exit(f"{url} did not load in 30 s")
        self.pump(0.3)  # scripts run after load

    def pump(self, seconds):
        end = time.time() + seconds
        while time.time() < end:
            self.ws.settimeout(max(0.01, end - time.time()))
            try:
                self.event(json.loads(self.ws.recv()))
            except websocket.WebSocketTimeoutException:
                break
        self.ws.settimeout(30)

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result.get("result", {}).get("value")


if __name__ == "__main__":
    main()
