"""The true-quality study's building blocks: LAME and FLAC round trips, the chains and their
labels, and the cut-off read from a decoded file's spectrum."""

from __future__ import annotations

import io

import mutagen
import numpy as np
import pytest

from genrelab.data.demo.render import render_track
from genrelab.errors import AudioError, DataError
from genrelab.quality import codecs, spectral
from genrelab.quality.conditions import LAME_LOWPASS_KHZ, QUALITY_ORDER, apply, parse

SR = 44100


@pytest.fixture(scope="module")
def source() -> np.ndarray:
    """8 s of a bright demo style at 44.1 kHz, stereo (the right channel a little later and quieter)."""
    pcm, _ = render_track("waltz", 0, tracks_per_genre=2, seconds=8.0, seed=0, sample_rate=SR)
    left = pcm.astype(np.float32) / 32768
    return np.stack([left, 0.9 * np.roll(left, 11)], axis=1)


def test_chains_are_labelled_by_what_they_claim_and_what_they_hold():
    fake = parse("lame:cbr128>flac")
    assert (fake.nominal, fake.effective, fake.group, fake.container, fake.transcoded) == (
        "lossless", "cbr128", "lp17k", "flac", True)  # fmt: skip
    up = parse("lame:v2>lame:cbr320")
    assert (up.nominal, up.effective, up.group, up.container, up.transcoded) == ("cbr320", "v2", "lp18.6k", "mp3", True)
    down = parse("lame:cbr320>lame:cbr128")
    assert (down.nominal, down.effective, down.transcoded) == ("cbr128", "cbr128", False)
    genuine = parse("flac")
    assert (genuine.nominal, genuine.effective, genuine.transcoded) == ("lossless", "lossless", False)
    resampled = parse("lame:cbr192>resample:48000>gain:-3>flac")
    assert resampled.effective == "cbr192" and resampled.chain_json() == '["lame:cbr192", "resample:48000", "gain:-3", "flac"]'
    assert QUALITY_ORDER[0] == "cbr96" and QUALITY_ORDER[-1] == "lossless"


@pytest.mark.parametrize("bad, message", [("lame:cbr100", "valid argument"), ("wma:96>flac", "unknown step"),
                                          ("lame:cbr128>gain:-3", "must end with lame"),
                                          ("opus:96", "must end with lame"),  # libsndfile cannot read every codec
                                          ("vorbis:4>flac", "valid argument"),
                                          ("resample:fast>flac", "valid argument")])  # fmt: skip
def test_a_bad_chain_is_refused_with_the_step_named(bad, message):
    with pytest.raises(DataError, match=message):
        parse(bad)


def test_the_data_stage_refuses_a_bad_chain_before_any_work(tmp_path):
    """Chains are parsed by quality_data, not by the params schema: the schema would make every
    stage depend on the chain grammar."""
    from genrelab.config import section
    from genrelab.stages.quality import run_quality_data

    params = {"quality": section("quality", {"corpus": {"conditions": ["flac", "lame:cbr100"]}}),
              "parallel": {"backend": "loky", "dask_scheduler": ""}}  # fmt: skip
    with pytest.raises(DataError, match="'lame:cbr100'.*valid argument"):
        run_quality_data(params, out_dir=tmp_path / "q", metrics_path=tmp_path / "m.json", progress=False)
    assert not (tmp_path / "q").exists()



def test_lame_writes_the_setting_its_header_reports_and_flac_is_lossless(source):
    mp3 = codecs.lame(source, SR, "cbr192")
    header = mutagen.File(io.BytesIO(mp3))
    assert type(header).__name__ == "MP3" and header.info.bitrate == pytest.approx(192000, abs=100) and header.info.sample_rate == SR
    decoded, sr = codecs.decode(mp3)
    assert sr == SR and decoded.shape[1] == 2 and abs(len(decoded) - len(source)) < 2 * 1152 + 529
    vbr = codecs.lame(source, SR, "v2")
    assert str(mutagen.File(io.BytesIO(vbr)).info.bitrate_mode) == "BitrateMode.VBR"  # the Xing tag is written
    decoded_vbr, _ = codecs.decode(vbr)
    assert abs(len(decoded_vbr) - len(source)) < 2 * 1152 + 529  # so a decoder reads all of it
    once, _ = codecs.decode(codecs.flac(source, SR))  # 16-bit: the first pass quantises ...
    twice, _ = codecs.decode(codecs.flac(once, SR))  # ... and then nothing changes
    assert np.abs(once - source).max() <= 1 / 32768 and np.array_equal(once, twice)
    with pytest.raises(AudioError, match="cannot be decoded"):
        codecs.decode(b"ID3 not really an mp3")
    with pytest.raises(AudioError, match="unknown LAME setting"):
        codecs.lame(source, SR, "cbr100")


@pytest.mark.parametrize("setting", sorted(LAME_LOWPASS_KHZ))
def test_the_cutoff_of_each_lame_setting_is_its_low_pass(source, setting):
    _, decoded, sr = apply(parse(f"lame:{setting}"), source, SR)
    features = spectral.spectral_features(decoded, sr)
    assert features["has_cutoff"] == 1.0 and features["edge_db"] >= spectral.EDGE_DB
    assert features["cutoff_hz"] == pytest.approx(1000 * LAME_LOWPASS_KHZ[setting], abs=400)  # ~half a 689 Hz band


def test_a_fake_lossless_keeps_its_edge_under_dither_gain_and_resampling(source):
    genuine = spectral.spectral_features(*apply(parse("flac"), source, SR)[1:])
    assert genuine["has_cutoff"] == 0.0 and genuine["cutoff_hz"] == pytest.approx(SR / 2, abs=30)
    for chain in ("lame:cbr128>flac", "lame:cbr128>gain:-3>flac", "lame:cbr128>resample:48000>flac"):
        fake = spectral.spectral_features(*apply(parse(chain), source, SR)[1:])
        assert fake["cutoff_hz"] == pytest.approx(17000, abs=400), chain
        assert fake["floor_above_db"] > -70  # the band above is refilled by dither: a level test would miss it


def test_v0_has_no_low_pass_but_its_frames_have_holes_above_16k(source):
    v0 = spectral.spectral_features(*apply(parse("lame:v0"), source, SR)[1:])
    genuine = spectral.spectral_features(*apply(parse("flac"), source, SR)[1:])
    assert v0["has_cutoff"] == 0.0
    assert v0["sfb21_holes"] > genuine["sfb21_holes"] or v0["frames_p50_hz"] < genuine["frames_p50_hz"]


def test_the_profile_covers_the_high_band(source):
    band = spectral.profile(source, SR)
    assert band.shape == (spectral.PROFILE_BANDS,) and band.dtype == np.float32 and np.isfinite(band).all()


def test_the_corpus_writes_every_condition_of_each_source_with_its_labels(tmp_path):
    from genrelab.quality.corpus import build_corpus, excerpt_offsets

    chains = ["flac", "lame:cbr128", "lame:cbr128>flac", "lame:v2>lame:cbr320"]
    files, sources, skipped = build_corpus(tmp_path, styles=["waltz", "thrash"], sources_per_style=1, seconds=6.0,
                                           conditions=chains, probes=["vorbis:q2>flac"], test_fraction=0.5,
                                           progress=False)  # fmt: skip
    assert sources["status"].tolist() == ["ok", "ok"] and (sources["bandwidth_hz"] > 21000).all()
    assert sorted(sources["split"]) == ["test", "train"] and skipped.empty
    held_out = sources.loc[sources["split"] == "test", "source_id"].item()
    probes = files[files["probe"]]
    assert (probes["source_id"] == held_out).all() and probes["condition"].tolist() == ["vorbis:q2>flac"]
    assert (probes["effective"].item(), probes["group"].item(), probes["transcoded"].item()) == ("vorbis:q2", "vorbis", True)
    files = files[~files["probe"]]
    assert len(files) == 8 and files.groupby("source_id").size().tolist() == [4, 4]
    assert (files.groupby("source_id")["split"].nunique() == 1).all()  # a source's files share its side
    by_condition = files[files["source_id"] == "waltz.000"].set_index("condition")
    assert by_condition.loc["lame:cbr128>flac", ["nominal", "effective", "container", "transcoded"]].tolist() == [
        "lossless", "cbr128", "flac", True]  # fmt: skip
    fake320 = mutagen.File(tmp_path / by_condition.loc["lame:v2>lame:cbr320", "file"])
    assert fake320.info.bitrate == pytest.approx(320000, abs=100)  # the header claims 320; the label says v2
    assert type(mutagen.File(tmp_path / by_condition.loc["lame:cbr128>flac", "file"])).__name__ == "FLAC"
    excerpts = excerpt_offsets(files, [2.0, 30.0], seed=0)
    assert len(excerpts) == 16 and excerpts.equals(excerpt_offsets(files, [2.0, 30.0], seed=0))
    short = excerpts[excerpts["excerpt_seconds"] < 30]  # 6 s files: the 30 s excerpt is the whole file
    assert (short["offset_seconds"] + short["excerpt_seconds"] <= 6.1).all()


def test_a_source_without_the_bandwidth_is_excluded_with_its_measure(tmp_path):
    from genrelab.quality.corpus import build_corpus

    files, sources, _ = build_corpus(tmp_path, styles=["ambient"], sources_per_style=1, seconds=4.0, conditions=["flac"],
                                     min_bandwidth_hz=30000.0, progress=False)  # fmt: skip
    assert files.empty and sources.loc[0, "status"] == "excluded"
    assert "below 30000 Hz: no encoder low-pass could show" in sources.loc[0, "reason"]


def test_the_header_says_what_the_file_claims_and_nothing_more(tmp_path, source):
    from genrelab.quality.header import read_header

    (tmp_path / "a.mp3").write_bytes(codecs.lame(source, SR, "cbr192"))
    mp3 = read_header(tmp_path / "a.mp3")
    assert (mp3.container, mp3.codec, mp3.bitrate_kbps, mp3.sample_rate, mp3.channels) == ("mp3", "mp3", 192.0, SR, 2)
    assert mp3.claim.startswith("MP3 192 kbps") and not mp3.claims_lossless
    (tmp_path / "b.flac").write_bytes(codecs.flac(source, SR))
    lossless = read_header(tmp_path / "b.flac")
    assert lossless.claims_lossless and lossless.bitrate_kbps is None and lossless.claim == "FLAC (lossless)"
    (tmp_path / "empty.mp3").write_bytes(b"")
    (tmp_path / "garbage.mp3").write_bytes(b"\x00\x01not an mp3 at all" * 50)
    for name in ("empty.mp3", "garbage.mp3"):
        with pytest.raises(AudioError, match=rf"{name}: no (readable )?audio header"):
            read_header(tmp_path / name)


@pytest.mark.shared_data
def test_the_real_fma_mp3_headers(shared_data):
    from genrelab.quality.header import read_header

    header = read_header(shared_data / "fma-samples" / "000002.mp3")
    assert (header.codec, header.bitrate_kbps, header.bitrate_mode, header.sample_rate) == ("mp3", 256.0, "cbr", 44100)
    assert read_header(shared_data / "fma-samples" / "000010.mp3").bitrate_kbps == pytest.approx(128, abs=0.1)


def test_the_lame_table_rule_reads_cutoffs_as_groups():
    from genrelab.quality.rules import GROUP_LOWPASS_HZ, LameTableRule

    rule = LameTableRule().fit(np.zeros((2, 2)), ["lp17k", "lossless"])
    X = np.array([[16700.0, 1], [18700.0, 1], [20300.0, 1], [22050.0, 0], [15200.0, 1]])
    assert rule.predict(X).tolist() == ["lp17k", "lp18.6k", "lp20.5k", "lossless", "lp15k"]
    assert GROUP_LOWPASS_HZ["lp19.5k"] == pytest.approx(19533, abs=1)


def test_the_quality_stages_hold_out_sources_score_and_ship_a_model(tmp_path):
    import json

    from genrelab import models
    from genrelab.config import section
    from genrelab.stages.quality import run_quality_data, run_quality_models

    chains = ["flac", "limiter>flac", "lame:cbr128", "lame:cbr320", "lame:cbr128>flac", "lame:v2>lame:cbr320"]
    probes = ["aac:128>flac", "resample:48000>lame:cbr128", "shine:128>flac"]
    params = {"quality": section("quality", {"corpus": {"styles": ["waltz", "thrash"], "sources_per_style": 2,
                                                        "source_seconds": 4.0, "conditions": chains, "probes": probes,
                                                        "test_fraction": 0.5, "excerpt_seconds": [2.0],
                                                        "probe_excerpt_seconds": [1.0], "jobs": 1},
                                             "models": {"jobs": 1, "cnn": {"epochs": 2, "filters": [4], "valid_fraction": 0.5},
                                                        "models": {"rule": {}, "lightgbm": {"n_estimators": 20}}}}),
              "parallel": {"backend": "loky", "dask_scheduler": ""}}  # fmt: skip
    data = run_quality_data(params, out_dir=tmp_path / "q", metrics_path=tmp_path / "d.json", progress=False)
    shine = codecs.missing_encoder("shine") is None  # libshine is in Debian's ffmpeg, not in the bundled one
    assert data["probes_skipped"] == ([] if shine else ["shine:128>flac"])
    probe_files = 2 * (2 + shine)  # for the 2 held-out sources only
    # 24 files excerpted at 2 s; the held-out ones and their probes at 1 s too
    assert (data["sources"], data["held_out"], data["files"]) == (4, 2, 24 + probe_files)
    assert data["excerpts"] == 24 + probe_files + (12 + probe_files)
    study = run_quality_models(params, data_dir=tmp_path / "q", models_dir=tmp_path / "models",
                               results_dir=tmp_path / "results", metrics_path=tmp_path / "m.json", progress=False)  # fmt: skip
    held_out = set(study.table.loc[study.test, "source_id"])
    assert len(held_out) == 2 and not held_out & set(study.table.loc[~study.test, "source_id"])  # sources, not files
    assert set(study.scores["model"]) == {"rule", "lightgbm", "pixels_logreg_l2", "cnn", "cnn_freqmask"}
    assert set(study.scores.loc[study.scores["input"] != "features", "target"]) == {"group"}
    assert study.shipped in ("rule", "lightgbm")  # the command computes features, not pictures
    assert set(study.scores.loc[study.scores["model"] == "rule", "target"]) == {"group"}  # the table names groups
    assert study.scores[["macro_f1", "balanced_accuracy"]].apply(lambda c: c.between(0, 1)).all().all()
    verdict = study.verdicts.set_index("model").loc["rule"]
    assert (verdict["fakes"], verdict["genuine"]) == (2, 4)  # 2 held-out sources: 1 fake and 2 genuine lossless each
    general = study.generalisation.set_index(["test", "condition"])
    assert general.loc[("unseen encoder: aac", "aac:128>flac"), "measure"] == "called fake lossless"
    assert general.loc[("LAME at 48 kHz", ""), "files"] == 2 and general.loc[("1 s excerpts", ""), "files"] == 12
    assert general["value"].between(0, 1).all() and (general["low"] <= general["high"]).all()
    assert list(study.styles["style"]) == ["thrash", "waltz", "all, pooled"]
    assert study.styles["files"].iloc[-1] == 24  # every LAME file of both styles, each scored when its style is out
    saved = models.load(tmp_path / "models" / "model.joblib")
    X = study.table[study.feature_columns].to_numpy(dtype=float)
    assert saved.model == study.shipped and len(saved.predict(X[:3])) == 3
    assert json.loads((tmp_path / "m.json").read_text())["shipped"] == study.shipped
    assert (tmp_path / "results" / "quality_scores.csv").is_file()


def test_the_params_schema_names_the_demo_styles_and_the_default_chains_parse():
    from genrelab.config import DEMO_STYLES, QUALITY_CONDITIONS
    from genrelab.data.demo.styles import STYLES

    assert DEMO_STYLES == STYLES
    assert {parse(chain).group for chain in QUALITY_CONDITIONS} >= {"lossless", "lp17k", "lp18.6k", "no_lowpass"}


def test_the_unseen_encoders_low_pass_as_measured_and_opus_resamples_to_48k(source):
    """FFmpeg's AAC and Vorbis low-pass below their top settings and not at them; Opus always near 20 kHz."""
    measured = {}
    for chain in ("aac:128>flac", "aac:256>flac", "vorbis:q2>flac", "vorbis:q6>flac", "opus:96>flac"):
        _, y, sr = apply(parse(chain), source, SR)
        measured[chain] = (sr, spectral.spectral_features(y, sr)["cutoff_hz"])
    assert 16800 < measured["aac:128>flac"][1] < 17800 and 16200 < measured["vorbis:q2>flac"][1] < 17100
    assert measured["aac:256>flac"][1] == measured["vorbis:q6>flac"][1] == SR / 2  # no cut-off: looks lossless
    assert measured["opus:96>flac"][0] == 48000 and 19500 < measured["opus:96>flac"][1] < 20800
    assert parse("aac:128>flac").probe_kind == "aac" and parse("resample:48000>lame:v2").probe_kind == "48 kHz"
    assert parse("lame:v2>resample:48000>flac").probe_kind == "resampled" and parse("lame:v2").probe_kind == ""


def test_an_encoder_this_machine_lacks_is_named_with_the_way_to_get_it(monkeypatch):
    import shutil

    codecs.missing_encoder.cache_clear()
    monkeypatch.setattr(shutil, "which", lambda name: None)
    try:
        assert "apt-get install ffmpeg" in codecs.missing_encoder("shine")
        with pytest.raises(AudioError, match="libshine"):
            codecs.encode_other("shine", "128", np.zeros((4410, 2), np.float32), SR)
        assert codecs.missing_encoder("aac") is None  # the bundled ffmpeg has it
    finally:
        codecs.missing_encoder.cache_clear()


def test_pictures_pool_the_spectrogram_and_the_mask_hides_bands_only_while_training(source):
    from genrelab.quality.excerpts import PICTURES
    from genrelab.quality.networks import FrequencyMask

    spec = spectral.spectrum(codecs.decode(codecs.lame(source, SR, "cbr128"))[0], SR)
    shape, hz = PICTURES["band"]
    band = spectral.picture(spec, shape, *hz)
    assert band.shape == (32, 64) and band.dtype == np.float32
    hz = np.linspace(11025, 22050, 65)[:-1]
    assert band[:, hz < 16000].mean() > band[:, hz > 17500].mean() + 20  # the 17 kHz low-pass, as a picture
    assert band.min() >= -100 and band.max() <= 10
    x = np.ones((8, 32, 64, 1), np.float32)
    masked = np.asarray(FrequencyMask(12, seed=0)(x, training=True))
    hidden = (masked[..., 0] == 0).all(axis=1)  # (8, 64): a band hidden over the whole picture
    assert (hidden.sum(axis=1) <= 12).all() and hidden.any() and ((masked == 0) | (masked == 1)).all()
    assert np.array_equal(np.asarray(FrequencyMask(12)(x, training=False)), x)
