"""A JupyterLab server and a headless Chromium for the browser tests.

The server serves a temporary copy of notebooks/ with its own settings,
workspaces, runtime and config folders, so nothing a learner has (or the
repository holds) changes what the test sees, and nothing the test does is
written back. Chromium is Debian's, driven by the PyPI playwright package: no
`playwright install` (it downloads a browser build, which CI cannot).

Facts this relies on are in shared/NOTES.md, "JupyterLab in a real browser".
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("SDE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
TIMEOUT_S = 60.0
TIMEOUT_MS = int(TIMEOUT_S * 1000)

# User settings, as JupyterLab reads them from JUPYTERLAB_SETTINGS_DIR.
SETTINGS = {
    # Start the notebook's kernel without the "Select Kernel" dialog.
    "@jupyterlab/notebook-extension/tracker": {"autoStartDefaultKernel": True},
    # No news toast, no update check: nothing to fetch, nothing covering the page.
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    # Never write the notebook back (the server only serves a copy anyway).
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
}


def missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing (on Debian: apt-get install chromium)"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """`jupyter lab` on a copy of notebooks/ in `tmp`; `.url(path)` opens a file with the token."""

    def __init__(self, tmp: pathlib.Path) -> None:
        self.tmp = tmp
        self.root = tmp / "notebooks"
        shutil.copytree(ROOT / "notebooks", self.root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        settings = tmp / "lab-settings"
        for plugin, values in SETTINGS.items():
            path = settings / f"{plugin}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        self.runtime = tmp / "runtime"
        dirs = {"JUPYTERLAB_SETTINGS_DIR": settings, "JUPYTERLAB_WORKSPACES_DIR": tmp / "lab-workspaces",
                "JUPYTER_RUNTIME_DIR": self.runtime, "JUPYTER_CONFIG_DIR": tmp / "jupyter-config",
                "JUPYTER_DATA_DIR": tmp / "jupyter-data", "IPYTHONDIR": tmp / "ipython"}
        for d in dirs.values():
            d.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **{k: str(v) for k, v in dirs.items()}, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
        self.token = secrets.token_hex(16)
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={_free_port()}", f"--IdentityProvider.token={self.token}",
               f"--ServerApp.root_dir={self.root}", "--LabApp.news_url=", "--ServerApp.terminals_enabled=False"]
        if os.geteuid() == 0:
            cmd.append("--allow-root")
        self.log_path = tmp / "jupyter-lab.log"
        self._log = open(self.log_path, "wb")
        # A session of its own, so stop() can signal its process group by its id; the kernels have sessions
        # of their own and are stopped by the server.
        self.proc = subprocess.Popen(cmd, cwd=self.root, env=env, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.base = None
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self) -> None:
        """The server writes jpserver-<pid>.json with its real URL (the port may have moved); then /api answers."""
        deadline = time.monotonic() + TIMEOUT_S
        info = self.runtime / f"jpserver-{self.proc.pid}.json"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.proc.returncode}:\n{self.log_tail()}")
            if self.base is None and info.exists():
                with contextlib.suppress(ValueError):
                    self.base = json.loads(info.read_text())["url"].rstrip("/")
            if self.base is not None:
                with contextlib.suppress(OSError):
                    self.api("status")
                    return
            time.sleep(0.1)
        raise TimeoutError(f"jupyter lab did not answer within {TIMEOUT_S:.0f} s:\n{self.log_tail()}")

    def api(self, path: str, method: str = "GET"):
        req = urllib.request.Request(f"{self.base}/api/{path}", method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=10) as r:
            body = r.read()
        return json.loads(body) if body else None

    def url(self, path: str) -> str:
        return f"{self.base}/lab/tree/{path}?token={self.token}"

    def log_tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            self._log.flush()
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        """Ask the server to shut down (it stops its kernels); then stop its process group if it lingers."""
        if self.proc.poll() is None and self.base is not None:
            with contextlib.suppress(OSError):
                self.api("shutdown", method="POST")
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if self.proc.poll() is not None:
                break
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(5)
        # Kernels run in sessions of their own; the server's shutdown stops them, and an
        # ipykernel whose parent has gone exits by itself (its parent poller).
        self._log.close()


class Browser:
    """Debian's Chromium with a fresh profile in `tmp`; `.new_page()` records console errors for diagnostics."""

    def __init__(self, tmp: pathlib.Path) -> None:
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        try:
            self.context = self._pw.chromium.launch_persistent_context(
                str(tmp / "chromium-profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                viewport={"width": 1400, "height": 1400}, timeout=TIMEOUT_MS)
        except BaseException:
            self._pw.stop()
            raise
        self.context.set_default_timeout(TIMEOUT_MS)

    def new_page(self):
        page = self.context.new_page()
        page.console_errors = []
        page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
        page.on("pageerror", lambda e: page.console_errors.append(f"page error: {e}"))
        return page

    def close(self) -> None:
        try:
            self.context.close()
        finally:
            self._pw.stop()


# -- JupyterLab, driven the way a learner would --------------------------------------------------------------

KERNEL_STATE_JS = """() => {
  if (document.querySelector('.jp-Dialog')) return 'dialog';
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  const i = panel && panel.querySelector('.jp-Notebook-ExecutionIndicator');
  const name = panel && panel.querySelector('.jp-Toolbar-kernelName, .jp-KernelName');
  if (name && /No Kernel/.test(name.innerText)) return 'no kernel';
  return i ? i.getAttribute('data-status') : 'none';
}"""


def _session_idle(lab: LabServer, path: str) -> bool:
    """The server's view: a session for this notebook whose kernel is idle with the page connected to it."""
    with contextlib.suppress(OSError, ValueError):
        for s in lab.api("sessions"):
            k = s.get("kernel") or {}
            if (s.get("notebook") or {}).get("path") == path and k.get("execution_state") == "idle" \
                    and k.get("connections", 0) >= 1:
                return True
    return False


def wait_kernel_idle(page, lab: LabServer, path: str, timeout_s: float = TIMEOUT_S) -> None:
    """Until the notebook's kernel is idle, as the server and the page both see it; accepts any dialog.

    The page alone is not enough: on opening, the execution indicator says idle while the toolbar still
    says "No Kernel", and Run All Cells clicked then is lost when the kernel arrives (NOTES.md).
    """
    deadline = time.monotonic() + timeout_s
    while True:
        left_ms = int((deadline - time.monotonic()) * 1000)
        if left_ms <= 0:
            raise TimeoutError(f"the kernel of {path} was not idle within {timeout_s:.0f} s "
                               f"(page: {page.evaluate(KERNEL_STATE_JS)}; server: {lab.api('sessions')})")
        handle = page.wait_for_function(f"() => {{ const s = ({KERNEL_STATE_JS})(); "
                                        "return (s === 'idle' || s === 'dialog') && s; }", timeout=left_ms)
        if handle.json_value() == "dialog":
            dialog = page.locator(".jp-Dialog").first
            print(f"accepting a dialog: {dialog.inner_text()!r}")
            dialog.locator(".jp-mod-accept").first.click()
        elif _session_idle(lab, path) and page.evaluate(KERNEL_STATE_JS) == "idle":
            return
        else:
            time.sleep(0.05)  # poll the server again


def open_notebook(page, lab: LabServer, path: str) -> None:
    page.goto(lab.url(path), wait_until="domcontentloaded")
    page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for()
    wait_kernel_idle(page, lab, path)


def mark_stale(page, selector: str) -> None:
    """Tag what is on the page now, so a wait can tell a fresh render from one restored from the notebook file."""
    page.evaluate("sel => document.querySelectorAll(sel).forEach(e => e.dataset.sdeStale = '1')", selector)


def fresh(selector: str) -> str:
    return f"{selector}:not([data-sde-stale])"


def run_all_cells(page) -> None:
    """Run ▸ Run All Cells: it has no default shortcut."""
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^\s*Run\s*$")).click()
    page.locator(".lm-Menu-item:not(.lm-mod-disabled)", has_text=re.compile(r"^\s*Run All Cells")).click()


def plot_state(page, img_selector: str) -> dict:
    """The plot image's blob URL and the SVG text behind it (fetched from the page itself)."""
    return page.evaluate("""async sel => {
      const img = document.querySelector(sel);
      if (!img || !img.src) return {src: null, svg: null};
      const src = img.src;
      const svg = await (await fetch(src)).text();
      return {src, svg, width: img.naturalWidth};
    }""", img_selector)


def wait_plot_changed(page, img_selector: str, old_src: str | None) -> dict:
    page.wait_for_function("""([sel, old]) => {
      const img = document.querySelector(sel);
      return img && img.src && img.src !== old && img.complete && img.naturalWidth > 0;
    }""", arg=[img_selector, old_src], timeout=TIMEOUT_MS)
    return plot_state(page, img_selector)


def error_outputs(page) -> list[str]:
    return page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']").all_inner_texts()


def wait_status(page, selector: str, needles: list[str], previous: str | None = None) -> str:
    """Until the status at `selector` differs from `previous` and contains every needle; returns its text."""
    try:
        page.wait_for_function("""([sel, needles, prev]) => {
          const el = document.querySelector(sel);
          if (!el) return false;
          const text = el.innerText;
          return (prev === null || text !== prev) && needles.every(n => text.includes(n));
        }""", arg=[selector, needles, previous], timeout=TIMEOUT_MS)
    except Exception as e:
        now = page.locator(selector).first.inner_text(timeout=1000) if page.locator(selector).count() else None
        after = " in a new text" if previous is not None else ""
        raise AssertionError(f"{selector} did not show {needles}{after} within {TIMEOUT_S:.0f} s; "
                             f"it shows:\n{now}") from e
    return page.locator(selector).inner_text()


def drag_slider_to(page, selector: str, fraction: float) -> None:
    """Drag the slider's handle with the mouse to `fraction` of its track, as a learner would."""
    handle = page.locator(f"{selector} .noUi-handle")
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    track = page.locator(f"{selector} .noUi-base").bounding_box()
    x0, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x0, y)
    page.mouse.down()
    page.mouse.move(track["x"] + fraction * track["width"], y, steps=8)
    page.mouse.up()


@contextlib.contextmanager
def diagnostics(page, lab: LabServer, artifacts: pathlib.Path):
    """On failure: a screenshot, every widget status on the page, console errors and the server's log tail."""
    try:
        yield
    except BaseException:
        shot = artifacts / "failure.png"
        with contextlib.suppress(Exception):
            page.screenshot(path=str(shot), full_page=True)
            print(f"\nscreenshot at failure: {shot}")
        with contextlib.suppress(Exception):
            for i, text in enumerate(page.locator(".sde-status").all_inner_texts()):
                print(f"--- .sde-status #{i}:\n{text}")
            print("kernel:", page.evaluate(KERNEL_STATE_JS))
            print("error outputs:", error_outputs(page))
        print("browser console errors:", getattr(page, "console_errors", []))
        print(f"--- jupyter lab log ({lab.log_path}):\n{lab.log_tail()}")
        raise
