"""`dvc plots show` works offline: its page inlines vega, vega-lite and vega-embed and draws every plot.

The template (``dvc_plots/template.html``, set by ``plots.html_template`` in ``.dvc/config``) is
checked as text; the slow test runs ``dvc plots show`` on a scratch copy of the repository's
committed plot files, serves the page on 127.0.0.1 and counts the charts Chromium draws, with the
helpers of ``test_book_browser`` (skips with the reason where Chromium or Selenium are missing).
"""

from __future__ import annotations

import configparser
import functools
import http.server
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import BIN, ROOT, pipeline_env, scratch_project
from test_book_browser import browser  # noqa: F401 - the headless Chromium fixture

TEMPLATE = ROOT / "dvc_plots" / "template.html"
# One per plot definition; a plot whose file is missing (DVC says it "failed to load") gets ``spec = {}``.
PLOT_DIV = re.compile(r"var spec = (.*?);\s*vegaEmbed\('#([^']+)'", re.S)
# Runs in the page: how many vega-embed containers hold a drawn chart (a canvas or svg with a size).
CHARTS_JS = """
const drawn = Array.from(document.querySelectorAll('.vega-embed')).filter(el => {
  const c = el.querySelector('canvas, svg.marks');
  return c && c.getBoundingClientRect().width > 0 && c.getBoundingClientRect().height > 0;
});
return {
  drawn: drawn.length,
  ids: drawn.map(el => el.id || el.parentElement.id),
  resources: performance.getEntriesByType('resource').map(r => r.name),
};
"""


def test_the_template_inlines_the_pinned_libraries_and_loads_nothing():
    sys.path.insert(0, str(ROOT / "dvc_plots"))
    try:
        from build_template import PACKAGES
    finally:
        sys.path.pop(0)
    text = TEMPLATE.read_text(encoding="utf-8")
    assert "{plot_divs}" in text and "{refresh_tag}" in text
    assert "{scripts}" not in text  # dvc_render would put its CDN tags there
    assert not re.search(r"<script[^>]*\bsrc=", text), "the template loads a script"
    for name, version in PACKAGES.items():
        assert f"<script>/* {name}@{version} */" in text, name
    assert "BSD-3-Clause" in (ROOT / "dvc_plots" / "LICENSE-vega.txt").read_text()
    config = configparser.ConfigParser()
    config.read(ROOT / ".dvc" / "config")
    # DVC resolves a relative html_template from the .dvc folder
    assert (ROOT / ".dvc" / config["plots"]["html_template"]).resolve() == TEMPLATE


@pytest.fixture(scope="module")
def plots_page(tmp_path_factory) -> tuple[Path, list[str]]:
    """``dvc plots show`` in a scratch copy of the repository: (its output folder, the plot ids on the page)."""
    work = scratch_project(tmp_path_factory, "plots")
    out = work / "plots_out"
    result = subprocess.run([str(BIN / "dvc"), "plots", "show", "-o", str(out)], cwd=work, env=pipeline_env(),
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    page = (out / "index.html").read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]*\bsrc=", page), "the page loads a script"
    assert "cdn.jsdelivr" not in page
    ids = [div for spec, div in PLOT_DIV.findall(page) if spec.strip() != "{}"]
    if not ids:
        pytest.skip(f"no plot files in the scratch copy: {result.stderr.strip()}")
    return out, ids


@pytest.fixture(scope="module")
def plots_site(plots_page) -> str:
    from test_book_browser import QuietHandler

    handler = functools.partial(QuietHandler, directory=str(plots_page[0]))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    server.shutdown()
    server.server_close()


@pytest.mark.slow
def test_dvc_plots_page_draws_every_plot_offline(plots_page, plots_site, browser):
    from selenium.webdriver.support.ui import WebDriverWait
    from test_book_browser import PAGE_LOAD_SECONDS, severe_console

    _, ids = plots_page
    browser.get(plots_site)
    try:
        WebDriverWait(browser, PAGE_LOAD_SECONDS).until(lambda d: d.execute_script(CHARTS_JS)["drawn"] >= len(ids))
    except Exception:  # a timeout: the assertion below names what is missing
        pass
    report = browser.execute_script(CHARTS_JS)
    assert report["drawn"] == len(ids), f"{report['drawn']} of {len(ids)} plots drawn; missing {set(ids) - set(report['ids'])}"
    assert severe_console(browser) == []
    assert [url for url in report["resources"] if not url.startswith("http://127.0.0.1:")] == []
