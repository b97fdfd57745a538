"""The built book in a real browser: every page renders its figures and tables, with no console errors.

Headless Debian Chromium driven by Selenium through ``chromedriver``. The site is served over
http on 127.0.0.1 (as a reader's server would), not file://, where Chromium restricts scripts.
Skips with the reason where Chromium, chromedriver or Selenium are missing (a user's machine);
CI installs them.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import quote, urldefrag, urlparse

import pytest
import yaml

pytestmark = pytest.mark.slow

SKIPPED_PAGES = {"genindex.html", "search.html", "py-modindex.html"}
LEADERBOARD_PAGE = "07-compare.html"
PAGE_LOAD_SECONDS = 30
# Chromium talks to Google services at start-up; without network those attempts are noise.
CHROMIUM_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1280,1024",
]
# Runs in the page: bring every image into view (lazy images load only then) and report the
# ones that have not loaded, and tables that render empty.
PAGE_CHECK_JS = """
if (document.readyState !== 'complete' || !document.body) return {pending: -1};  // still loading (or redirecting)
const imgs = Array.from(document.images);
imgs.forEach(img => { img.loading = 'eager'; });
return {
  pending: imgs.filter(img => !img.complete).length,
  broken: imgs.filter(img => img.complete && img.naturalWidth === 0).map(img => img.src),
  images: imgs.length,
  tables: Array.from(document.querySelectorAll('table')).map(t => t.rows.length * t.offsetHeight),
  text: document.body.innerText,
};
"""


# Runs in a page: what a reader of a report should not meet (issue 23's five measures). A code
# input counts as shown unless it sits in a closed <details> (a ``hide-input`` cell) or is hidden;
# Chromium keeps layout boxes inside a closed <details>, so boxes alone do not tell.
REPORT_CHECK_JS = """
const shown = el => !el.closest('details:not([open])') && el.checkVisibility();
const article = document.querySelector('article.bd-article') || document.querySelector('main');
const column = article.getBoundingClientRect().width;
const cut = /(\\u2026|\\.\\.\\.)$/;
const fileName = /^\\S+\\.(png|jpe?g|svg|gif)$/i;  // docutils writes the image's path as alt when it has none
// Tables are measured with every collapsed section opened: a table a reader can open must fit too.
const closed = Array.from(article.querySelectorAll('details:not([open])'));
closed.forEach(d => { d.open = true; });
const wide = Array.from(article.querySelectorAll('table')).filter(t => t.getClientRects().length > 0)
  .filter(t => t.getBoundingClientRect().width > column + 1)
  .map(t => `${Math.round(t.getBoundingClientRect().width)} px > ${Math.round(column)} px: ${t.innerText.slice(0, 60)}`);
closed.forEach(d => { d.open = false; });
return {
  code_inputs: Array.from(document.querySelectorAll('div.cell_input')).filter(shown).length,
  wide_tables: wide,
  cut_cells: Array.from(article.querySelectorAll('td, th')).map(c => c.textContent.trim()).filter(t => cut.test(t)),
  images: Array.from(article.querySelectorAll('img')).length,
  no_alt: Array.from(article.querySelectorAll('img')).map(i => [i.src, (i.getAttribute('alt') || '').trim()])
    .filter(([src, alt]) => !alt || fileName.test(alt)).map(([src]) => src),
  raw_markdown: Array.from(article.querySelectorAll('p')).map(p => p.innerText.trim())
    .filter(t => t.startsWith('|') || /\\|:?[-\\u2013\\u2014]{3}/.test(t)).map(t => t.slice(0, 60)),
};
"""


def report_problems(name: str, report: dict) -> list[str]:
    """One line per breach of :data:`REPORT_CHECK_JS`'s measures on page ``name``."""
    problems = [f"{name}: {report['code_inputs']} code input(s) shown by default"] if report["code_inputs"] else []
    problems += [f"{name}: table wider than the text column: {t}" for t in report["wide_tables"]]
    problems += [f"{name}: table cell cut short: {t!r}" for t in report["cut_cells"]]
    problems += [f"{name}: image without alt text: {src}" for src in report["no_alt"]]
    problems += [f"{name}: raw Markdown: {t!r}" for t in report["raw_markdown"]]
    return problems


def find_browser() -> tuple[str, str]:
    """Paths of Chromium and chromedriver, or skip the module naming what is missing."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None)
    if not chromium or not driver:
        pytest.skip("headless browser test needs Chromium and chromedriver "
                    "(Debian: apt-get install chromium chromium-driver)")
    return chromium, driver


@pytest.fixture(scope="module")
def site(built_project) -> str:
    """Base URL of the built book, served from a local http server for the module's duration."""
    root = built_project / "book/_build/html"
    assert (root / "index.html").exists(), f"no built book at {root}"
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files without logging each request to stderr."""

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A headless Chromium session with a fresh profile, collecting console messages."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (pip install -r requirements.lock)")
    chromium, driver_path = find_browser()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver_path))
    driver.set_page_load_timeout(PAGE_LOAD_SECONDS)
    yield driver
    driver.quit()


def toc_pages(book_dir: Path) -> set[str]:
    """HTML file names of the pages listed in ``_toc.yml`` (root and every chapter)."""
    toc = yaml.safe_load((book_dir / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part.get("chapters", [])]
    return {Path(f).name + ".html" for f in files}


def internal_links(driver, base: str) -> set[str]:
    """Absolute URLs (no fragment) of the site's own .html pages linked from the current page."""
    hrefs = driver.execute_script("return Array.from(document.querySelectorAll('a[href]')).map(a => a.href);")
    urls = {urldefrag(h)[0] for h in hrefs}
    return {u for u in urls if u.startswith(base) and u.endswith(".html")
            and Path(urlparse(u).path).name not in SKIPPED_PAGES and "/_sources/" not in u}


def check_page(driver) -> dict:
    """Wait until the page's images have finished loading, then return :data:`PAGE_CHECK_JS`'s report."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, PAGE_LOAD_SECONDS).until(lambda d: d.execute_script(PAGE_CHECK_JS)["pending"] == 0)
    return driver.execute_script(PAGE_CHECK_JS)


def severe_console(driver) -> list[str]:
    """Console messages at level SEVERE since the last call (the log is drained on read).

    A 404 for ``/favicon.ico`` is left out: Chromium asks for it on its own, no page links it.
    """
    return [entry["message"] for entry in driver.get_log("browser")
            if entry["level"] == "SEVERE" and "/favicon.ico " not in entry["message"]]


def save_screenshot(driver, name: str, tmp_path: Path) -> list[Path]:
    """Full-page PNG of the current page in ``tmp_path`` and, if set, ``$GENRELAB_SCREENSHOT_DIR``.

    The window is stretched to the page's height (capped at 16000 px) for the capture: Chromium's
    beyond-viewport capture misplaces the theme's fixed sidebar.
    """
    height = min(driver.execute_script("return document.documentElement.scrollHeight;"), 16000)
    driver.set_window_size(1280, height)
    data = driver.get_screenshot_as_png()
    targets = [tmp_path]
    if os.environ.get("GENRELAB_SCREENSHOT_DIR"):
        targets.append(Path(os.environ["GENRELAB_SCREENSHOT_DIR"]))
    paths = []
    for folder in targets:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
        paths.append(folder / name)
    return paths


def test_every_page_renders_without_errors(built_project, site, browser, tmp_path):
    expected = toc_pages(built_project / "book")
    queue, seen, problems, visited = [site + "index.html"], set(), [], {}
    while queue:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        browser.get(url)
        report = check_page(browser)
        seen.add(urldefrag(browser.current_url)[0])  # index.html redirects to the root page
        name = Path(urlparse(browser.current_url).path).name
        visited[name] = report
        problems += [f"{name}: image did not load: {src}" for src in report["broken"]]
        problems += [f"{name}: a table renders empty" for size in report["tables"] if size == 0]
        problems += [f"{name}: console error: {msg}" for msg in severe_console(browser)]
        if "Traceback (most recent call last)" in report["text"]:
            problems.append(f"{name}: shows a Python traceback")
        if "| ---" in report["text"]:
            problems.append(f"{name}: shows an unrendered Markdown table")
        queue += sorted(internal_links(browser, site) - seen)
    assert not problems, "\n".join(problems)
    assert expected <= set(visited), f"TOC pages not reachable from index.html: {sorted(expected - set(visited))}"

    # The comparison chapter is the study's summary: it must show its figures and tables.
    compare = visited[LEADERBOARD_PAGE]
    assert compare["images"] >= 4 and len(compare["tables"]) >= 3, "the comparison chapter lost its figures or tables"
    browser.get(next(u for u in seen if u.endswith(LEADERBOARD_PAGE)))
    check_page(browser)
    for path in save_screenshot(browser, "leaderboard.png", tmp_path):
        assert path.stat().st_size > 10_000  # a real rendering, not a blank page


def test_every_chapter_reads_as_a_report(built_project, site, browser):
    """At 1280 px: no code shown by default, no table wider than the text column, no cell cut to
    "…", alt text on every image, no Markdown left unrendered, on every page of the book."""
    pages = sorted(toc_pages(built_project / "book"))
    problems, images = [], 0
    browser.set_window_size(1280, 900)
    for name in pages:
        path = next((built_project / "book/_build/html").rglob(name))
        browser.get(site + path.relative_to(built_project / "book/_build/html").as_posix())
        check_page(browser)
        report = browser.execute_script(REPORT_CHECK_JS)
        images += report["images"]
        problems += report_problems(name, report)
    assert not problems, "\n".join(problems)
    assert images >= 20, f"only {images} images over the chapters: the check saw no figures"


def test_the_report_check_sees_each_problem(browser):
    """The measures catch what they look for: a page made with each problem fails each one."""
    page = ("<html><body><main><article class='bd-article' style='width: 600px'>"
            "<div class='cell_input'><pre>import this</pre></div>"
            "<table style='width: 900px'><tr><td>99.5 [9...</td><td>cut\u2026</td></tr></table>"
            "<img src='data:image/gif;base64,R0lGODlhAQABAAAAACw=' width='10' height='10'>"
            "<img src='x.png' alt='../../_images/3f2a9c.png'><img src='y.png' alt='Bar chart of tracks per genre'>"
            "<details><summary>open</summary><div class='cell_input'>hidden code</div>"
            "<table style='width: 700px'><tr><td>collapsed</td></tr></table></details>"
            "<p>| a | b |</p><p>x |:\u2014\u2014\u2014| y</p></article></main></body></html>")
    browser.get("data:text/html;charset=utf-8," + quote(page))
    report = browser.execute_script(REPORT_CHECK_JS)
    assert report["code_inputs"] == 1  # the one inside the closed section is hidden
    assert len(report["wide_tables"]) == 2  # the collapsed one counts: a reader can open it
    assert report["cut_cells"] == ["99.5 [9...", "cut\u2026"]
    assert len(report["no_alt"]) == 2 and len(report["raw_markdown"]) == 2  # no alt, and a file name as alt
    assert len(report_problems("page", report)) == 9  # one line per problem found
