"""The course in a real browser: the published book, and lesson 01 run in JupyterLab.

Playwright for Python drives Debian's Chromium (``apt-get install chromium``, which ``.ci/run`` does); it never
downloads a browser. Everything is served on loopback; the book's pages must not ask the internet for anything.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LESSONS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CHROMIUM = os.environ.get("CYCLEGAN_LITE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed (test extra)")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).is_file(),
                                reason=f"Chromium is missing at {CHROMIUM}: apt-get install chromium (.ci/run does)")


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the book ---------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def book_url(smoke_batch, tmp_path_factory):
    """The book built from the smoke batch's executed lessons, served on loopback."""
    pytest.importorskip("mkdocs_jupyter", reason="the book extra is not installed")
    from cyclegan_lite.course import build_book

    work = tmp_path_factory.mktemp("book")
    started = time.perf_counter()
    site = build_book(LESSONS, REPO / "README.md", work / "site", work=work / "work", executed=smoke_batch.out,
                      progress=False)
    print(f"book built in {time.perf_counter() - started:.1f} s")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def _open(browser, url: str, base: str):
    """A page at ``url`` whose requests outside ``base`` are refused and recorded, with its console errors."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems = []
    page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))

    def route(r):
        if r.request.url.startswith(base):
            r.continue_()
        else:
            problems.append(f"asked the internet for {r.request.url}")
            r.abort()

    page.route("**/*", route)
    page.goto(url, wait_until="load")
    return page, problems


@pytest.mark.parametrize("lesson", [p.stem for p in LESSONS])
def test_lesson_page_shows_figures_math_run_time_and_badge(browser, book_url, lesson):
    page, problems = _open(browser, f"{book_url}{lesson}.html", book_url)
    page.wait_for_function("() => window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0 "
                           "&& document.querySelectorAll('.MathJax_CHTML, .MathJax, .MathJax_Display').length > 0",
                           timeout=60_000)
    figures = page.eval_on_selector_all(".jupyter-wrapper .jp-OutputArea-output img",
                                        "els => els.map(e => [e.complete, e.naturalWidth])")
    assert figures, f"{lesson}: no figure on the page"
    assert all(complete and width > 0 for complete, width in figures), f"{lesson}: figures not loaded: {figures}"
    assert page.locator(".MathJax_Error, .merror").count() == 0, f"{lesson}: MathJax could not typeset some math"
    text = page.inner_text("body")
    assert re.search(r"This page was executed on \d{4}-\d\d-\d\d in \d+ s", text), f"{lesson}: no run time"
    badge = page.locator(f"a[href$='notebooks/{lesson}.ipynb'] img")
    assert badge.count() == 1 and badge.evaluate("e => e.naturalWidth") > 0, f"{lesson}: no Colab badge"
    page.close()
    assert not problems, f"{lesson}: " + "\n".join(problems)


def test_front_page_and_student_download(browser, book_url):
    page, problems = _open(browser, book_url + "index.html", book_url)
    assert "Image GANs" in page.inner_text("body")
    for lesson in LESSONS:
        assert page.locator(f"a[href$='{lesson.stem}.html'], a[href$='{lesson.stem}/']").count() > 0, lesson.stem
    page.goto(book_url + "downloads.html", wait_until="load")
    href = page.locator("a[href$='.zip']").first.get_attribute("href")
    page.close()
    assert not problems, "\n".join(problems)
    with urllib.request.urlopen(book_url + href) as response:
        archive = zipfile.ZipFile(__import__("io").BytesIO(response.read()))
    assert sorted(Path(n).name for n in archive.namelist()) == [p.name for p in LESSONS]


# -- lesson 01 in JupyterLab ------------------------------------------------------------------------------------

@pytest.fixture
def jupyter_lab(tmp_path):
    """JupyterLab on loopback, serving a folder that holds a copy of lesson 01, kernels in smoke mode."""
    shutil.copy(REPO / "notebooks" / "01_gan.ipynb", tmp_path)
    port, token = _free_port(), "cyclegan-lite-test"
    settings = tmp_path / ".lab-settings" / "@jupyterlab"
    for plugin, value in (("notebook-extension/tracker", '{"windowingMode": "none"}'),  # every cell in the page
                          ("docmanager-extension/plugin", '{"autoStartDefaultKernel": true}'),  # no kernel dialog
                          ("apputils-extension/notification", '{"fetchNews": "false"}')):  # no news prompt
        (settings / plugin).parent.mkdir(parents=True, exist_ok=True)
        (settings / f"{plugin}.jupyterlab-settings").write_text(value)
    env = dict(os.environ, CYCLEGAN_LITE_SMOKE="1", JUPYTER_CONFIG_DIR=str(tmp_path / ".jupyter-config"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / ".jupyter-runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(tmp_path / ".lab-settings"))
    env.setdefault("CYCLEGAN_LITE_CACHE", str(tmp_path / ".toy-cache"))
    log = open(tmp_path / "jupyter-lab.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}", "--ServerApp.allow_root=True",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail(f"jupyter lab exited: {(tmp_path / 'jupyter-lab.log').read_text()[-2000:]}")
                time.sleep(0.5)
        yield f"{url}/lab/tree/01_gan.ipynb?token={token}", tmp_path
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _run_all_cells(page, tries: int = 3) -> None:
    """Run > Run All Cells, until the kernel has taken the first cell.

    On a loaded machine the menu can open before the notebook is the current widget; its Run All item is then
    disabled and a click does nothing, so the click is repeated until a prompt shows ``[*]`` or a count.
    """
    started = "() => [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]" \
              ".some(e => /^\\[(\\*|\\d+)\\]:$/.test(e.textContent.trim()))"
    for _ in range(tries):
        page.locator(".jp-Notebook .jp-Cell").first.click()  # the notebook becomes the current widget
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        item = page.locator(".lm-Menu-item:not(.lm-mod-disabled) .lm-Menu-itemLabel",
                            has_text=re.compile(r"^Run All Cells$"))
        try:
            item.click(timeout=30_000)
            page.wait_for_function(started, timeout=30_000)
            return
        except sync_api.TimeoutError:
            page.keyboard.press("Escape")
    pytest.fail(f"Run > Run All Cells started no cell in {tries} tries")


def test_lesson_01_runs_all_in_jupyterlab_and_its_slider_redraws(browser, jupyter_lab):
    lab_url, jupyter_lab_dir = jupyter_lab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(lab_url)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
    page.wait_for_function("() => document.querySelector('.jp-Notebook-ExecutionIndicator')"
                           "?.getAttribute('data-status') === 'idle' && document.querySelectorAll('.jp-CodeCell')"
                           ".length > 10", timeout=120_000)
    _run_all_cells(page)
    n_code = page.locator(".jp-CodeCell").count()
    try:
        page.wait_for_function(
            "n => { const p = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];"
            " return p.length === n && p.every(e => /^\\[\\d+\\]:$/.test(e.textContent.trim())); }",
            arg=n_code, timeout=300_000, polling=1000)
    except sync_api.TimeoutError:
        page.screenshot(path=str(jupyter_lab_dir / "timeout.png"), full_page=True)
        prompts = page.eval_on_selector_all(".jp-CodeCell .jp-InputArea-prompt", "p => p.map(e => e.textContent)")
        pytest.fail(f"Run All did not finish within 5 minutes: {n_code} code cells, prompts {prompts}")
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']")
    assert errors.count() == 0, "error output: " + errors.first.inner_text()[:2000]
    stderr = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    assert stderr.count() == 0, "stderr output (a warning?): " + stderr.first.inner_text()[:2000]

    # browse(...): the figure for the slider's starting value is an ordinary output above the widget; the
    # widget's own output area stays empty until the slider moves, then shows the step picked
    widget = page.locator(".cyclegan-lite-browse").first
    widget.scroll_into_view_if_needed()
    assert widget.locator(".jp-OutputArea-output img").count() == 0
    readout = widget.locator(".widget-readout").first.inner_text()
    widget.locator(".noUi-handle").first.focus()
    page.keyboard.press("Home")  # the first snapshot; the slider starts on the last one
    page.wait_for_function("el => { const img = el.querySelector('.jp-OutputArea-output img');"
                           " return img && img.naturalWidth > 0; }", arg=widget.element_handle(), timeout=60_000)
    assert widget.locator(".widget-readout").first.inner_text() != readout
    page.close()
