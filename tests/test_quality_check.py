"""``genrelab quality``: the verdict of each kind on small generated files, the header's claim,
broken inputs listed while the rest carry on, and the real FMA MP3s judged as their headers say."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import shared_data_dir
from genrelab import models
from genrelab.cli import main
from genrelab.quality.check import VERDICTS, check_files, claimed_group, excerpt_plan, group_label, verdict
from genrelab.quality.conditions import GROUP_ORDER, LOSSLESS, apply, parse
from genrelab.quality.corpus import render_source
from genrelab.quality.header import Header
from genrelab.quality.rules import LameTableRule

SR = 44100
FMA_SAMPLES = shared_data_dir() / "fma-samples"
BAD_AUDIO = shared_data_dir() / "bad-audio"


def _header(**claim) -> Header:
    fields = {"container": "mp3", "codec": "mp3", "bitrate_kbps": 320.0, "bitrate_mode": "cbr", "encoder": None,
              "sample_rate": SR, "channels": 2, "seconds": 60.0}  # fmt: skip
    return Header(**(fields | claim))


def _flac_header(**claim) -> Header:
    return _header(container="flac", codec="flac", bitrate_kbps=None, bitrate_mode=None, **claim)


def _looks(group: str, p: float = 0.9) -> dict[str, float]:
    """Probabilities with ``p`` on ``group`` and the rest spread over the others."""
    return {g: p if g == group else (1 - p) / (len(GROUP_ORDER) - 1) for g in GROUP_ORDER}


def test_groups_read_as_users_name_settings_and_headers_claim_a_group():
    assert [group_label(g) for g in ("lp15k", "lp17k", "lp18k", "lp19.5k", "no_lowpass", LOSSLESS)] == [
        "≤96 kbps", "≈128 kbps", "≈V3", "≈224–256 kbps", "≈V0", "lossless"]  # fmt: skip
    assert claimed_group(_flac_header()) == LOSSLESS
    assert claimed_group(_header(bitrate_kbps=320.0)) == "lp20.5k"
    assert claimed_group(_header(bitrate_kbps=128.0)) == "lp17k"
    assert claimed_group(_header(bitrate_kbps=112.0)) == "lp15k"  # the table row at or below
    assert claimed_group(_header(bitrate_kbps=182.6, bitrate_mode="vbr")) == "lp17.5k"  # a V2's average: lenient
    assert claimed_group(_header(container="ogg", codec="vorbis", bitrate_kbps=160.0)) is None


@pytest.mark.parametrize("claim, looks, expected", [
    (_flac_header(), LOSSLESS, ("genuine", "genuine")),
    (_flac_header(), "lp17k", ("fake lossless", "fake lossless from ≈128 kbps")),
    (_flac_header(), "no_lowpass", ("fake lossless", "fake lossless from ≈V0")),
    (_header(), "lp20.5k", ("genuine", "genuine")),
    (_header(), LOSSLESS, ("genuine", "genuine")),  # an MP3 cannot hold more than its claim
    (_header(), "lp18.6k", ("transcoded", "transcoded from ≈192 kbps")),
    (_header(bitrate_kbps=128.0), "lp17k", ("genuine", "genuine")),
])  # fmt: skip
def test_the_verdict_compares_what_the_spectrum_looks_like_with_the_claim(claim, looks, expected):
    kind, detail, confidence = verdict(claim, looks, _looks(looks), has_cutoff=looks != LOSSLESS, high_band_db=-90.0)
    assert (kind, detail) == expected
    below = _below(claim, looks)  # the probability of any group under the claim
    assert confidence == pytest.approx(1 - below if kind == "genuine" else below) and confidence > 0.85


def _below(claim: Header, looks: str) -> float:
    groups = GROUP_ORDER[: GROUP_ORDER.index(claimed_group(claim))]
    return sum(_looks(looks)[g] for g in groups)


def test_the_verdict_is_undecidable_where_the_spectrum_cannot_answer():
    faint = verdict(_flac_header(), LOSSLESS, _looks(LOSSLESS), has_cutoff=False, high_band_db=-125.0)
    assert faint[0] == "undecidable" and "no cut-off" in faint[1] and faint[2] is None
    low_rate = verdict(_flac_header(sample_rate=22050), "lp15k", _looks("lp15k"), has_cutoff=True, high_band_db=-90.0)
    assert low_rate[:2] == ("undecidable", "undecidable: sampled at 22050 Hz, too low to show a low-pass")
    aac = verdict(_header(container="mp4", codec="aac"), "lp17k", _looks("lp17k"), has_cutoff=True, high_band_db=-90.0)
    assert aac[:2] == ("undecidable", "undecidable: aac is not a codec the model learned")
    uncertain = {g: 0.0 for g in GROUP_ORDER} | {"lp17k": 0.4, LOSSLESS: 0.6}
    assert verdict(_flac_header(), LOSSLESS, uncertain, True, -90.0) == ("genuine", "genuine", pytest.approx(0.6))


def test_excerpts_spread_over_the_file_and_a_short_file_is_read_whole():
    assert excerpt_plan(4.0, 3, 10.0) == [(0.0, 4.0)]
    plan = excerpt_plan(240.0, 3, 10.0)
    assert [o for o, _ in plan] == [57.5, 115.0, 172.5] and all(s == 10.0 for _, s in plan)
    assert all(0 < o and o + s < 240.0 for o, s in excerpt_plan(25.0, 3, 10.0))


@pytest.fixture(scope="module")
def quality_model(tmp_path_factory) -> Path:
    """A model made by the quality stages on a small corpus of two styles (LightGBM or the rule, the better)."""
    from genrelab.config import section
    from genrelab.stages.quality import run_quality_data, run_quality_models

    tmp = tmp_path_factory.mktemp("quality-model")
    chains = ["flac", "limiter>flac", "lame:cbr128", "lame:cbr192", "lame:cbr320", "lame:v2", "lame:cbr128>flac",
              "lame:cbr192>flac", "lame:cbr128>lame:cbr320"]  # fmt: skip
    params = {"quality": section("quality", {"corpus": {"styles": ["funk", "thrash"], "sources_per_style": 2,
                                                        "source_seconds": 6.0, "conditions": chains,
                                                        "excerpt_seconds": [5.0], "probes": [],
                                                        "test_fraction": 0.25, "jobs": 1},
                                             "models": {"jobs": 1, "cnn": {"epochs": 1, "filters": [4], "valid_fraction": 0.5},
                                                        "models": {"rule": {}, "lightgbm": {"n_estimators": 50}}}}),
              "parallel": {"backend": "loky", "dask_scheduler": ""}}  # fmt: skip
    run_quality_data(params, out_dir=tmp / "q", metrics_path=tmp / "d.json", summary_path=tmp / "ds.json", progress=False)
    run_quality_models(params, data_dir=tmp / "q", models_dir=tmp / "models", results_dir=tmp / "results",
                       metrics_path=tmp / "m.json", summary_path=tmp / "s.json", progress=False)  # fmt: skip
    return tmp / "models" / "model.joblib"


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    """A folder of files of a style the model never saw, one per verdict, and two broken ones."""
    folder = tmp_path_factory.mktemp("library")
    y = render_source("swing", 0, seconds=8.0, seed=3)
    for name, chain in [("genuine.flac", "flac"), ("fake.flac", "lame:cbr128>flac"), ("genuine128.mp3", "lame:cbr128"),
                        ("fake320.mp3", "lame:cbr128>lame:cbr320"), ("albums/genuine320.mp3", "lame:cbr320"),
                        ("dark.flac", "resample:16000>resample:44100>flac")]:  # fmt: skip
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).write_bytes(apply(parse(chain), y, SR)[0])
    sf.write(folder / "low-rate.wav", y[::2], SR // 2, subtype="PCM_16")
    (folder / "empty.mp3").write_bytes(b"")
    (folder / "albums" / "garbage.mp3").write_bytes(np.random.default_rng(0).bytes(5000))
    return folder


EXPECTED = {"genuine.flac": "genuine", "fake.flac": "fake lossless from ≈128 kbps", "genuine128.mp3": "genuine",
            "fake320.mp3": "transcoded from ≈128 kbps", "genuine320.mp3": "genuine",
            "dark.flac": "undecidable: no cut-off, and too little content above 15 kHz to show one",
            "low-rate.wav": "undecidable: sampled at 22050 Hz, too low to show a low-pass"}  # fmt: skip


def test_each_file_gets_its_verdict_and_broken_files_are_listed_while_the_rest_carry_on(quality_model, library):
    files = sorted(p for p in library.rglob("*") if p.is_file())
    reports, failures = check_files(files, models.load(quality_model), jobs=2, progress=False)
    assert {Path(r.path).name: r.detail for r in reports} == EXPECTED and {r.verdict for r in reports} <= set(VERDICTS)
    assert sorted((Path(f.item[0]).name, f.error.kind) for f in failures) == [("empty.mp3", "empty"), ("garbage.mp3", "corrupt")]
    by_name = {Path(r.path).name: r for r in reports}
    assert by_name["fake.flac"].header.claim == "FLAC (lossless)" and 16000 < by_name["fake.flac"].bandwidth_hz < 17500
    assert by_name["fake320.mp3"].header.claim == "MP3 320 kbps CBR" and by_name["fake320.mp3"].confidence > 0.5
    assert not by_name["genuine.flac"].has_cutoff and by_name["genuine.flac"].bandwidth_hz == pytest.approx(SR / 2, abs=25)
    assert by_name["genuine.flac"].excerpts == [(0.0, pytest.approx(8.0, abs=0.05))]  # shorter than one excerpt: whole


def test_the_command_prints_a_table_csv_json_and_plots(quality_model, library, tmp_path, capsys):
    args = ["quality", str(library), "--model", str(quality_model), "--quiet", "--jobs", "1"]
    assert main(args) == 1  # two inputs could not be used
    out, err = capsys.readouterr()
    assert out.startswith("model: quality / ") and "fake.flac: FLAC (lossless); bandwidth 16." in out
    assert "transcoded from ≈128 kbps (" in out and "empty.mp3: empty file (0 bytes)" in err
    assert "garbage.mp3" in err and "2 input(s) could not be used" in err

    assert main([*args, "--json", "--plot", str(tmp_path / "plots")]) == 1
    answer = json.loads(capsys.readouterr().out)
    assert {Path(f["file"]).name: f["detail"] for f in answer["files"]} == EXPECTED and len(answer["unreadable"]) == 2
    fake = next(f for f in answer["files"] if f["file"].endswith("fake.flac"))
    assert (fake["verdict"], fake["header_codec"], fake["class"]) == ("fake lossless", "flac", "lp17k")
    assert sum(fake["probabilities"].values()) == pytest.approx(1, abs=1e-3)
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == sorted(f"{name}.png" for name in EXPECTED)
    assert all(Path(f["plot"]).stat().st_size > 10_000 for f in answer["files"])

    assert main([*args, "--csv"]) == 1
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {Path(r["file"]).name: r["verdict"] for r in rows}["fake320.mp3"] == "transcoded"
    assert {r["codec"] for r in rows} == {"flac", "mp3", "pcm"} and {r["bitrate_kbps"] for r in rows} >= {"128.0", "320.0"}


def test_without_a_model_the_command_says_how_to_build_one(tmp_path, capsys):
    assert main(["quality", str(tmp_path), "--model", str(tmp_path / "none.joblib")]) == 2
    assert "dvc repro quality_models" in capsys.readouterr().err


def _rule_model(path: Path) -> Path:
    """The LAME-table rule as a shipped model: a transparent judge of real files."""
    from genrelab.models import SavedModel

    rule = LameTableRule(0, 1).fit(None, list(GROUP_ORDER))
    models.save(SavedModel(rule, approach="quality", model="rule", protocol="none", level="excerpt",
                           classes=list(rule.classes_), features={"columns": ["cutoff_hz", "has_cutoff"], "edge_db": 20.0}),
                path)  # fmt: skip
    return path


@pytest.mark.skipif(not FMA_SAMPLES.is_dir(), reason=f"real FMA MP3s not found at {FMA_SAMPLES} (set GENRELAB_SHARED_DATA)")
def test_the_real_fma_mp3s_get_the_verdict_their_headers_claim(tmp_path):
    reports, failures = check_files(sorted(FMA_SAMPLES.glob("*.mp3")), models.load(_rule_model(tmp_path / "rule.joblib")),
                                    progress=False)  # fmt: skip
    assert not failures
    by_name = {Path(r.path).name: r for r in reports}
    long, short = by_name["000002.mp3"], by_name["000010.mp3"]
    assert (long.header.codec, long.header.bitrate_kbps, long.header.bitrate_mode, long.header.sample_rate) == (
        "mp3", 256.0, "cbr", 44100)  # fmt: skip
    assert long.header.seconds == pytest.approx(29.99, abs=0.01) and len(long.excerpts) == 3
    assert 19500 < long.bandwidth_hz < 20600 and long.verdict == "genuine"  # an encoder's 256 kbps low-pass
    assert short.header.bitrate_kbps == 128.0 and 16000 < short.bandwidth_hz < 17500 and short.verdict == "genuine"
    assert short.excerpts == [(0.0, pytest.approx(2.0, abs=0.05))]  # FMA's 2 s clip, read whole


@pytest.mark.skipif(not BAD_AUDIO.is_dir(), reason=f"the known corrupt GTZAN file not found at {BAD_AUDIO} (set GENRELAB_SHARED_DATA)")
def test_the_known_corrupt_file_is_listed_with_its_reason(tmp_path):
    reports, failures = check_files([BAD_AUDIO / "jazz.00054.wav"], models.load(_rule_model(tmp_path / "r.joblib")),
                                    progress=False)  # fmt: skip
    assert not reports and failures[0].error.kind == "corrupt" and "jazz.00054.wav" in str(failures[0].error)


def _ffmpeg(source: Path, out: Path, *codec_args: str) -> Path:
    import subprocess

    from genrelab.data.audio import bundled_ffmpeg

    subprocess.run([bundled_ffmpeg(), "-nostdin", "-v", "error", "-y", "-i", str(source), *codec_args, str(out)], check=True)
    return out


@pytest.fixture(scope="module")
def other_formats(tmp_path_factory) -> Path:
    """The library's swing source as ALAC (from the lossless source, and from a 128 kbps MP3), AAC,
    Opus, AIFF and WMA, made by the bundled ffmpeg, and a garbage .m4a."""
    folder = tmp_path_factory.mktemp("formats")
    y = render_source("swing", 0, seconds=8.0, seed=3)
    wav, mp3 = folder / "source.wav", folder / "source.mp3"
    sf.write(wav, y, SR, subtype="PCM_16")
    mp3.write_bytes(apply(parse("lame:cbr128"), y, SR)[0])
    out = folder / "library"
    out.mkdir()
    _ffmpeg(wav, out / "genuine-alac.m4a", "-c:a", "alac")
    _ffmpeg(mp3, out / "fake-alac.m4a", "-c:a", "alac")
    _ffmpeg(wav, out / "aac.m4a", "-c:a", "aac", "-b:a", "128k")
    _ffmpeg(wav, out / "opus.opus", "-c:a", "libopus", "-b:a", "96k")
    _ffmpeg(wav, out / "genuine.aiff", "-c:a", "pcm_s16be")
    _ffmpeg(wav, out / "wma.wma", "-c:a", "wmav2", "-b:a", "128k")
    (out / "garbage.m4a").write_bytes(np.random.default_rng(4).bytes(5000))
    return out


EXPECTED_OTHER = {  # file: (the claim's start, verdict); Opus's bitrate is mutagen's average over the file
    "genuine-alac.m4a": ("ALAC (lossless)", "genuine"),
    "fake-alac.m4a": ("ALAC (lossless)", "fake lossless from ≈128 kbps"),
    "aac.m4a": ("AAC 128 kbps", "undecidable: aac is not a codec the model learned"),
    "opus.opus": ("OPUS ", "undecidable: opus is not a codec the model learned"),
    "genuine.aiff": ("AIFF (lossless)", "genuine"),
    "wma.wma": ("WMA 128 kbps", "undecidable: wma is not a codec the model learned"),
}


def test_alac_is_a_lossless_claim_and_codecs_the_model_never_learned_say_so(quality_model, other_formats):
    files = sorted(other_formats.iterdir())
    reports, failures = check_files(files, models.load(quality_model), jobs=1, progress=False)
    assert {Path(r.path).name: r.detail for r in reports} == {k: v for k, (_, v) in EXPECTED_OTHER.items()}
    assert all(r.header.claim.startswith(EXPECTED_OTHER[Path(r.path).name][0]) for r in reports)
    assert [(Path(f.item[0]).name, f.error.kind) for f in failures] == [("garbage.m4a", "corrupt")]
    by_name = {Path(r.path).name: r for r in reports}
    fake, genuine = by_name["fake-alac.m4a"], by_name["genuine-alac.m4a"]
    assert (fake.header.container, fake.header.codec, fake.header.bitrate_kbps) == ("mp4", "alac", None)
    assert fake.has_cutoff and 16000 < fake.bandwidth_hz < 17500 and fake.confidence > 0.5
    assert not genuine.has_cutoff and genuine.excerpts == [(0.0, pytest.approx(8.0, abs=0.05))]
    assert by_name["aac.m4a"].header.codec == "aac" and by_name["aac.m4a"].confidence is None


def test_the_command_judges_the_other_formats_and_lists_the_garbage_one(quality_model, other_formats, capsys):
    assert main(["quality", str(other_formats), "--model", str(quality_model), "--quiet", "--jobs", "1", "--json"]) == 1
    answer = json.loads(capsys.readouterr().out)
    assert {Path(f["file"]).name: f["detail"] for f in answer["files"]} == {k: v for k, (_, v) in EXPECTED_OTHER.items()}
    assert len(answer["unreadable"]) == 1 and answer["unreadable"][0].startswith(f"{other_formats / 'garbage.m4a'}: ")
