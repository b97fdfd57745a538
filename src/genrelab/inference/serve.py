"""``genrelab serve``: a local page where a user drops a song and sees its genres and similar tracks.

Flask rather than FastAPI + uvicorn: the work per request is one synchronous, CPU-bound model
call, so an async stack buys nothing here; Flask's built-in threaded server is enough for a
page on 127.0.0.1, it caps uploads itself (``MAX_CONTENT_LENGTH``), and it adds four small
Pallets packages (Flask, Werkzeug, itsdangerous, blinker) to an environment that already holds
Jinja2, click and MarkupSafe, where FastAPI needs starlette, uvicorn and python-multipart.

The page loads nothing from the network. An upload is written to a fresh temporary folder, read,
and deleted before the answer is sent; the app writes nowhere else. Corpus audio for the players
is served by track id from the recommender's index, never by a path from the request.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

from genrelab.data.audio import AUDIO_EXTENSIONS, extensions_text
from genrelab.errors import AudioError, GenrelabError


def create_app(predictors: dict, settings: dict):
    """The Flask app around loaded :class:`genrelab.inference.predict.Predictor` s, ``{name: predictor}``:
    the page's select element chooses one (form field ``model``), the first is the default and its
    recommender index answers every upload. ``settings`` is the ``serve`` section of params.yaml."""
    from flask import Flask, abort, jsonify, request, send_file
    from werkzeug.utils import secure_filename

    from genrelab.data.tags import artist_tag
    from genrelab.inference.inputs import AudioFile

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = int(settings["max_upload_mb"] * 1024 * 1024)
    default = next(iter(predictors))
    index = predictors[default].recommender()
    paths = dict(zip(index.tracks["track_id"], index.tracks["path"]))
    lock = threading.Lock()  # one analysis at a time: the networks use every core anyway

    def error(message: str, status: int):
        return jsonify({"error": message}), status

    @app.get("/")
    def page():
        options = "".join(f'<option value="{_escape(name)}" data-summary="{_escape(p.summary())}">{_escape(name)} '
                          f'({len(p.classes)} genres: {_escape(", ".join(p.classes[:3]))}, ...)</option>'
                          for name, p in predictors.items())  # fmt: skip
        page = (PAGE.replace("{{model}}", _escape(predictors[default].summary())).replace("{{options}}", options)
                .replace("{{formats}}", extensions_text()).replace("{{accept}}", ",".join(AUDIO_EXTENSIONS)))
        return page, 200, {"Content-Type": "text/html; charset=utf-8"}

    @app.post("/api/analyze")
    def analyze():
        upload = request.files.get("audio")
        name = request.form.get("model", default)
        if name not in predictors:
            return error(f"no model {name!r} here; choose one of {', '.join(predictors)}.", 400)
        predictor = predictors[name]
        if upload is None or not upload.filename:
            return error("no file: send one audio file in the form field 'audio'.", 400)
        safe = secure_filename(upload.filename) or "upload"
        if Path(safe).suffix.lower() not in AUDIO_EXTENSIONS:
            return error(f"{upload.filename}: not an audio file. Upload one of: {extensions_text()}.", 415)
        with tempfile.TemporaryDirectory(prefix="genrelab-serve-") as folder, lock:
            path = Path(folder) / safe
            upload.save(path)
            try:
                source = AudioFile(path)
                answer = predictor.predict(source).as_dict(settings["top"])
                exclude, copies = index.file_exclusions(source, artist_tag(path))
                found = index.query(index.file_vector(source), settings["top"], exclude)
            except AudioError as err:
                return error(str(err).replace(str(path), upload.filename), 422)
        answer["file"] = upload.filename
        answer["model"] = predictor.summary()
        answer["duplicates_in_corpus"] = copies
        answer["recommendations"] = [
            {"track_id": r.track_id, "genre": r.genre, "artist": r.artist, "distance": round(float(r.distance), 3),
             "audio": f"/audio/{r.track_id}"} for r in found.itertuples()
        ]  # fmt: skip
        return jsonify(answer)

    @app.get("/audio/<track_id>")
    def corpus_audio(track_id: str):
        if track_id not in paths:
            abort(404)
        return send_file(Path(index.root).resolve() / paths[track_id], conditional=True)

    @app.errorhandler(413)
    def too_large(_):
        return error(f"the upload is larger than {settings['max_upload_mb']:g} MB (serve.max_upload_mb).", 413)

    return app


def load_predictors(models_dir, gtzan_dir=None) -> tuple[dict, str]:
    """The shipped models by name: ``main`` from ``models_dir``, and ``gtzan`` from ``gtzan_dir``
    (default ``models/predict_gtzan``) where it was shipped; and why it was not ("" when it was)."""
    from genrelab.inference.export import GTZAN_DIR
    from genrelab.inference.predict import Predictor

    predictors = {"main": Predictor.load(models_dir)}
    try:
        predictors["gtzan"] = Predictor.load(GTZAN_DIR if gtzan_dir is None else gtzan_dir)
    except GenrelabError as err:  # the page offers the main model only
        return predictors, str(err)
    return predictors, ""


def serve(models_dir, settings: dict) -> int:
    """Load the shipped models once (:func:`load_predictors`) and serve the page until interrupted."""
    predictors, no_gtzan = load_predictors(models_dir)
    if no_gtzan:
        print(f"genrelab serve: no GTZAN model to offer ({no_gtzan})")
    predictor = predictors["main"]
    app = create_app(predictors, settings)
    print(f"{predictor.summary()}\ngenrelab serve: open http://{settings['host']}:{settings['port']}  (Ctrl-C stops)")
    try:
        app.run(host=settings["host"], port=settings["port"], threaded=True, debug=False, load_dotenv=False)
    except OSError as err:
        raise GenrelabError(f"cannot listen on {settings['host']}:{settings['port']} ({err}); try --port.") from err
    return 0


def _escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>genrelab</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<style>
body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222}
#drop{border:2px dashed #888;border-radius:8px;padding:2rem;text-align:center;cursor:pointer}
#drop.over{background:#eef}
.row{display:flex;align-items:center;margin:.25rem 0}
.label{width:8rem}.bar{background:#4c72b0;height:1.1rem;border-radius:3px}
.value{margin-left:.5rem;font-variant-numeric:tabular-nums}
#error{color:#b00}.note{color:#666;font-size:.9rem}
li{margin:.4rem 0} audio{height:2rem;vertical-align:middle}
</style></head><body>
<h1>genrelab</h1>
<p><label for="choice">Model</label> <select id="choice">{{options}}</select></p>
<p class="note" id="model">{{model}}</p>
<label id="drop" for="file">Drop an audio file here, or click to pick one ({{formats}})</label>
<input id="file" type="file" accept="{{accept}},audio/*" hidden>
<p id="status" class="note"></p><p id="error" role="alert"></p>
<section id="result" hidden>
<h2>Genres of <span id="name"></span>: <span id="top-genre"></span></h2>
<div id="chart"></div>
<p class="note" id="segments"></p>
<h2>Similar tracks of the corpus</h2>
<p class="note">Never by the file's own artist, nor by the artist of a corpus copy of it.</p>
<ol id="recs"></ol>
</section>
<script>
const $ = (id) => document.getElementById(id);
async function analyze(file) {
  $("error").textContent = ""; $("result").hidden = true; $("status").textContent = "Analysing " + file.name + "...";
  const form = new FormData(); form.append("audio", file); form.append("model", $("choice").value);
  let answer;
  try {
    const response = await fetch("/api/analyze", {method: "POST", body: form});
    answer = await response.json();
    if (!response.ok) { $("status").textContent = ""; $("error").textContent = answer.error; return; }
  } catch (err) { $("status").textContent = ""; $("error").textContent = "The server did not answer: " + err; return; }
  $("status").textContent = "";
  $("name").textContent = answer.file;
  $("top-genre").textContent = answer.top[0].genre;
  const chart = $("chart"); chart.replaceChildren();
  for (const t of answer.top) {
    const row = document.createElement("div"); row.className = "row"; row.dataset.genre = t.genre;
    const label = document.createElement("span"); label.className = "label"; label.textContent = t.genre;
    const bar = document.createElement("span"); bar.className = "bar"; bar.style.width = (t.probability * 24) + "rem";
    const value = document.createElement("span"); value.className = "value";
    value.textContent = (100 * t.probability).toFixed(1) + " % (spread " + (100 * t.spread).toFixed(1) + ")";
    row.append(label, bar, value); chart.append(row);
  }
  $("segments").textContent = answer.segments + " segments of " + answer.seconds + " s of audio.";
  const recs = $("recs"); recs.replaceChildren();
  for (const r of answer.recommendations) {
    const item = document.createElement("li");
    item.textContent = r.track_id + " - " + r.genre + ", " + r.artist + " (distance " + r.distance + ") ";
    const player = document.createElement("audio"); player.controls = true; player.preload = "none"; player.src = r.audio;
    item.append(player); recs.append(item);
  }
  $("result").hidden = false;
}
$("choice").addEventListener("change", (e) => {
  $("model").textContent = e.target.selectedOptions[0].dataset.summary; $("result").hidden = true; });
$("file").addEventListener("change", (e) => { if (e.target.files.length) analyze(e.target.files[0]); });
const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over");
  if (e.dataTransfer.files.length) analyze(e.dataTransfer.files[0]); });
</script></body></html>
"""
