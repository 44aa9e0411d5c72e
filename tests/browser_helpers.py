"""What every browser test shares: `studygraph ui` on a free local port, and Debian's chromium through playwright."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import CHROMIUM, REPO

ARTIFACTS = REPO / "tests" / "artifacts"
VIEWPORT = {"width": 1440, "height": 1000}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    """Wait for Streamlit's health endpoint; fail with the server's log if it exits or never answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"studygraph ui exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"studygraph ui did not answer within {timeout} s:\n{log.read_text(errors='replace')}")


@contextlib.contextmanager
def ui_server(workspace: Path, log_name: str, *options: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """`studygraph ui --workspace W` on a free local port, in its own process group (killed whatever happens).

    Yields:
        The app's base URL.
    """
    port = free_port()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / log_name
    cmd = [sys.executable, "-m", "ui.cli", "ui", "--workspace", str(workspace), "--port", str(port), *options]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, env={**os.environ, **(env or {})}, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, proc, log)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextlib.contextmanager
def chromium_page(timeout_ms: int = 120_000, init_script: str | None = None) -> Iterator:
    """A fresh 1440x1000 tab of Debian's headless chromium (playwright drives the system browser)."""
    if not CHROMIUM.exists():
        pytest.fail("The browser test needs Debian's chromium at /usr/bin/chromium (apt-get install chromium).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page(viewport=VIEWPORT)
            if init_script:
                tab.add_init_script(init_script)
            tab.set_default_timeout(timeout_ms)
            yield tab
        finally:
            browser.close()


# Coloured, opaque pixels on the graph's canvas (inside the streamlit-agraph iframe): nodes are drawn.
_DRAWN = """() => { const f = document.querySelector("iframe[title='streamlit_agraph.agraph']");
    const c = f && f.contentDocument && f.contentDocument.querySelector('canvas'); if (!c || !c.width) return 0;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
    for (let i = 0; i < d.length; i += 4)
        if (d[i + 3] > 200 && Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 40) n++;
    return n; }"""


def wait_graph_drawn(page, timeout_ms: int = 420_000) -> int:
    """Wait until the network canvas shows coloured nodes and has stopped moving; returns the coloured pixels."""
    page.wait_for_function(f"() => ({_DRAWN})() > 500", timeout=timeout_ms)
    previous = -1
    for _ in range(40):  # physics stabilization: wait until two frames in a row agree
        now = page.evaluate(_DRAWN)
        if now == previous:
            break
        previous = now
        page.wait_for_timeout(250)
    return page.evaluate(_DRAWN)
