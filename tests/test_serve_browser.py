"""`genrelab serve` in a real browser: upload a newly generated clip, wait for the chart, and check
the page shows what the model answers, with no console errors. Headless Chromium as in
test_book_browser (skips with the reason where it is missing; CI installs it)."""

from __future__ import annotations

import threading

import pytest

from test_book_browser import browser, save_screenshot, severe_console  # noqa: F401 - browser is a fixture

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(built_project):
    from werkzeug.serving import make_server

    from genrelab.config import section
    from genrelab.inference.serve import create_app, load_predictors

    predictors, _ = load_predictors(built_project / "models/predict", built_project / "models/predict_gtzan")
    server = make_server("127.0.0.1", 0, create_app(predictors, section("serve")), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/", predictors
    server.shutdown()


def test_the_page_shows_the_genres_and_recommendations_of_an_upload(browser, served, tmp_path):  # noqa: F811
    import soundfile as sf
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from genrelab.data.demo.render import render_track

    url, predictors = served
    predictor = predictors["main"]
    pcm, _ = render_track(predictor.classes[0], 0, tracks_per_genre=2, seconds=9.0, seed=123)  # never heard
    clip = tmp_path / "new clip.wav"
    sf.write(clip, pcm, 22050)
    expected = predictor.predict(clip).top(1)[0][0]

    browser.get(url)
    assert "measured track accuracy" in browser.find_element(By.ID, "model").text
    browser.execute_script("document.getElementById('file').hidden = false;")  # the drop zone's own input
    browser.find_element(By.ID, "file").send_keys(str(clip))
    WebDriverWait(browser, 60).until(lambda d: d.find_element(By.ID, "result").is_displayed()
                                     or d.find_element(By.ID, "error").text)  # fmt: skip
    assert browser.find_element(By.ID, "error").text == ""
    assert browser.find_element(By.ID, "top-genre").text == expected
    bars = browser.find_elements(By.CSS_SELECTOR, "#chart .row")
    assert len(bars) == min(5, len(predictor.classes)) and bars[0].get_attribute("data-genre") == expected
    players = browser.find_elements(By.CSS_SELECTOR, "#recs audio")
    assert players and all(p.get_attribute("src").startswith(url + "audio/") for p in players)
    assert severe_console(browser) == []
    for path in save_screenshot(browser, "serve.png", tmp_path):
        assert path.stat().st_size > 10_000


def test_the_page_explains_a_rejected_upload(browser, served, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url, _ = served
    notes = tmp_path / "notes.txt"
    notes.write_text("not music")
    browser.get(url)
    browser.execute_script("document.getElementById('file').hidden = false;")
    browser.find_element(By.ID, "file").send_keys(str(notes))
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "error").text)
    assert "notes.txt: not an audio file" in browser.find_element(By.ID, "error").text
    # The browser logs the 415 response itself; nothing else may have gone wrong.
    assert [m for m in severe_console(browser) if "415" not in m] == []


def test_the_page_answers_with_the_chosen_model(browser, served, tmp_path, shared_data):  # noqa: F811
    import soundfile as sf
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    from genrelab.data.demo.render import render_track

    url, predictors = served
    pcm, _ = render_track(predictors["main"].classes[0], 1, tracks_per_genre=2, seconds=20.0, seed=7)
    clip = tmp_path / "clip.wav"
    sf.write(clip, pcm, 22050)
    expected = predictors["gtzan"].predict(clip).top(1)[0][0]

    browser.get(url)
    Select(browser.find_element(By.ID, "choice")).select_by_value("gtzan")
    assert "GTZAN's 10 genres" in browser.find_element(By.ID, "model").text
    browser.execute_script("document.getElementById('file').hidden = false;")
    browser.find_element(By.ID, "file").send_keys(str(clip))
    WebDriverWait(browser, 60).until(lambda d: d.find_element(By.ID, "result").is_displayed()
                                     or d.find_element(By.ID, "error").text)  # fmt: skip
    assert browser.find_element(By.ID, "error").text == ""
    assert browser.find_element(By.ID, "top-genre").text == expected
    assert severe_console(browser) == []
