"""The HTML report in a browser: a headless-Chromium render of the real tiny pipeline run's
report that fails on a broken figure, a console error or any request that leaves the report's
folder.

It renders ``reports/index.html`` of the session's tiny Snakemake run (``tiny_run`` in
conftest.py: real trained models, histories and metadata). The browser is Debian's
``chromium`` (``scripts/install-system-deps.sh``), driven over the DevTools protocol on a pipe
(``--remote-debugging-pipe``: NUL-separated JSON on file descriptors 3 and 4), so no extra
Python package is needed. Without a working Chromium the browser tests skip, except under
``CI=true``, where they fail. The report's contents are tested in
``tests/unit/report/test_report.py``.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = next((p for n in ("chromium", "chromium-browser", "google-chrome")
                 if (p := shutil.which(n))), None)
LOCAL_SCHEMES = ("data:", "about:", "blob:")  # and file: URLs inside the page's folder
IN_CI = os.environ.get("CI", "").lower() == "true"
PNG_1X1 = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwAD"
                           "hgGAWjR9awAAAABJRU5ErkJggg==")

# --------------------------------------------------------------------------- the browser


class Browser:
    """Headless Chromium driven over the DevTools protocol on a pipe.

    ``page(url)`` loads a page in a fresh tab and returns what it saw: every request URL,
    failed loads, console errors and exceptions, the state of every ``<img>`` and a PNG
    screenshot of the first screen (1280 x 900) and of the whole page.
    """

    def __init__(self, executable: str, profile: Path) -> None:
        to_chrome_r, self._w = os.pipe()
        self._r, from_chrome_w = os.pipe()

        def fds() -> None:  # in the child: the pipe ends on fds 3 (commands) and 4 (replies)
            a = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        args = [executable, "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-extensions", "--no-first-run",
                "--no-default-browser-check", "--hide-scrollbars", "--mute-audio",
                "--remote-debugging-pipe", f"--user-data-dir={profile}", "about:blank"]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, preexec_fn=fds,
                                     close_fds=False)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._next = 0
        self._replies: dict[int, dict] = {}
        self._events: queue.Queue[dict] = queue.Queue()
        self._lock = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        buf = b""
        while True:
            chunk = os.read(self._r, 1 << 16)
            if not chunk:
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw)
                if "id" in msg:
                    with self._lock:
                        self._replies[msg["id"]] = msg
                        self._lock.notify_all()
                else:
                    self._events.put(msg)

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 30.0) -> dict:
        """Send one command and wait for its reply; raise on a protocol error."""
        self._next += 1
        msg: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._next not in self._replies:
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise TimeoutError(f"no reply to {method} from Chromium")
                self._lock.wait(left)
            reply = self._replies.pop(self._next)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def page(self, url: str, timeout: float = 30.0) -> dict[str, Any]:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"]
        for method in ("Page.enable", "Runtime.enable", "Log.enable", "Network.enable"):
            self.send(method, session=session)
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False},
                  session=session)
        seen: dict[str, Any] = {"requests": [], "failed": [], "errors": []}
        self.send("Page.navigate", {"url": url}, session=session)
        deadline, loaded = time.monotonic() + timeout, None
        while True:  # events until the load event, then 0.5 s more for late ones
            wait = (loaded + 0.5 if loaded else deadline) - time.monotonic()
            if wait <= 0:
                break
            try:
                ev = self._events.get(timeout=wait)
            except queue.Empty:
                break
            if ev.get("sessionId") != session:
                continue
            method, p = ev.get("method"), ev.get("params", {})
            if method == "Page.loadEventFired":
                loaded = time.monotonic()
            elif method == "Network.requestWillBeSent":
                seen["requests"].append(p["request"]["url"])
            elif method == "Network.loadingFailed":
                seen["failed"].append(p.get("errorText", ""))
            elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                seen["errors"].append(" ".join(str(a.get("value", a.get("description", "")))
                                               for a in p.get("args", [])))
            elif method == "Runtime.exceptionThrown":
                seen["errors"].append(p["exceptionDetails"].get("text", "exception"))
            elif method == "Log.entryAdded" and p["entry"].get("level") == "error":
                seen["errors"].append(p["entry"].get("text", ""))
        if loaded is None:
            raise TimeoutError(f"{url} did not finish loading in {timeout} s")
        images = self.send("Runtime.evaluate", {
            "expression": "JSON.stringify([...document.images].map(i => ({src: "
                          "i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0})))",
            "returnByValue": True}, session=session)["result"]["value"]
        seen["images"] = json.loads(images)
        seen["screenshot"] = base64.b64decode(self.send(
            "Page.captureScreenshot", {"format": "png"}, session=session)["data"])
        size = self.send("Page.getLayoutMetrics", session=session)["cssContentSize"]
        seen["fullpage"] = base64.b64decode(self.send("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"],
                     "scale": 1}}, session=session)["data"])
        self.send("Target.closeTarget", {"targetId": target})
        return seen

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except (TimeoutError, RuntimeError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._w, self._r):
            try:
                os.close(fd)
            except OSError:
                pass


def problems(seen: dict[str, Any], folder: Path) -> list[str]:
    """Everything that makes a rendered page fail: requests that leave ``folder`` (any URL but
    ``data:``/``about:``/``blob:`` and ``file:`` URLs below ``folder``), failed loads, console
    errors and exceptions, images that did not decode."""
    inside = folder.resolve().as_uri().rstrip("/") + "/"
    out = [f"request leaves {folder.name}/: {u}" for u in seen["requests"]
           if not (u.startswith(LOCAL_SCHEMES) or u.startswith(inside))]
    out += [f"failed load: {e}" for e in seen["failed"]]
    out += [f"console error: {e}" for e in seen["errors"]]
    out += [f"broken image: {i['src']}" for i in seen["images"] if not i["ok"]]
    return out


def no_browser(reason: str) -> None:
    """Skip, or under CI=true fail: CI must run the browser test."""
    if IN_CI:
        pytest.fail(f"CI=true and {reason}: CI must run the browser test "
                    "(scripts/install-system-deps.sh installs chromium)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    if CHROMIUM is None:
        no_browser("Chromium not installed (Debian: `apt-get install chromium`, or "
                   "scripts/install-system-deps.sh as root)")
    b = Browser(CHROMIUM, tmp_path_factory.mktemp("chromium-profile"))
    try:
        b.send("Browser.getVersion", timeout=60)
    except (TimeoutError, RuntimeError) as exc:
        b.close()
        no_browser(f"Chromium at {CHROMIUM} does not start headless: {exc}")
    yield b
    b.close()


@pytest.mark.slow
def test_real_report_renders_offline_in_chromium(tiny_run: Path, browser: Browser) -> None:
    """The report of the tiny Snakemake run: every figure it has is shown and decodes, no
    console error, no request outside reports/."""
    reports = tiny_run / "reports"
    seen = browser.page((reports / "index.html").as_uri())
    bad = problems(seen, reports)
    assert not bad, "\n".join(bad)
    figures = sorted(p.relative_to(reports).as_posix()
                     for p in (reports / "figures").glob("*.png"))
    assert len(figures) >= 5, figures
    shown = sorted(i["src"] for i in seen["images"])
    assert sorted(set(shown)) == figures, "figures on disk and <img> in the page differ"
    for fig in figures:  # each was fetched from the report's own folder
        assert (reports / fig).as_uri() in seen["requests"], fig
    assert seen["screenshot"][:8] == b"\x89PNG\r\n\x1a\n" and len(seen["screenshot"]) > 20_000
    keep = os.environ.get("DENOISEBENCH_SCREENSHOTS")  # a folder to keep them for a look
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        (Path(keep) / "screenshot.png").write_bytes(seen["screenshot"])
        (Path(keep) / "screenshot-full.png").write_bytes(seen["fullpage"])


def test_browser_check_catches_problems(tmp_path: Path, browser: Browser) -> None:
    page = tmp_path / "reports"
    page.mkdir()
    (tmp_path / "outside.png").write_bytes(PNG_1X1)  # loads fine, but outside the folder
    (page / "broken.html").write_text(
        "<!DOCTYPE html><html><body><img src='figures/missing.png' alt=x></body></html>")
    (page / "remote.html").write_text(
        "<!DOCTYPE html><html><body><img src='http://example.invalid/x.png' alt=x>"
        "</body></html>")
    (page / "outside.html").write_text(
        "<!DOCTYPE html><html><body><img src='../outside.png' alt=x></body></html>")
    (page / "console.html").write_text(
        "<!DOCTYPE html><html><body><script>console.error('boom')</script></body></html>")
    broken = problems(browser.page((page / "broken.html").as_uri()), page)
    assert any("broken image: figures/missing.png" in p for p in broken), broken
    remote = problems(browser.page((page / "remote.html").as_uri()), page)
    assert any("request leaves reports/: http://example.invalid/x.png" in p
               for p in remote), remote
    outside = problems(browser.page((page / "outside.html").as_uri()), page)
    assert outside == [f"request leaves reports/: {(tmp_path / 'outside.png').as_uri()}"], outside
    console = problems(browser.page((page / "console.html").as_uri()), page)
    assert any("console error: boom" in p for p in console), console


def test_missing_browser_fails_in_ci_and_skips_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    module = sys.modules[__name__]
    monkeypatch.setattr(module, "IN_CI", True)
    with pytest.raises(pytest.fail.Exception, match="CI=true and no chromium"):
        no_browser("no chromium")
    monkeypatch.setattr(module, "IN_CI", False)
    with pytest.raises(pytest.skip.Exception, match="no chromium"):
        no_browser("no chromium")
