"""The true-quality study's building blocks: LAME and FLAC round trips, the chains and their
labels, and the cut-off read from a decoded file's spectrum."""

from __future__ import annotations

import io

import mutagen
import numpy as np
import pandas as pd
import pytest

from genrelab.data.demo.render import render_track
from conftest import ROOT
from genrelab.errors import AudioError, DataError
from genrelab.quality import codecs, spectral
from genrelab.quality.conditions import LAME_LOWPASS_KHZ, QUALITY_ORDER, apply, parse
from genrelab.quality.evaluation import macro_f1

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
    from genrelab.stages.quality_data import run_quality_data

    params = {"quality": section("quality", {"corpus": {"conditions": ["flac", "lame:cbr100"]}}),
              "parallel": {"backend": "loky", "dask_scheduler": ""}}  # fmt: skip
    with pytest.raises(DataError, match="'lame:cbr100'.*valid argument"):
        run_quality_data(params, out_dir=tmp_path / "q", metrics_path=tmp_path / "m.json", summary_path=tmp_path / "s.json", progress=False)
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
    data = run_quality_data(params, out_dir=tmp_path / "q", metrics_path=tmp_path / "d.json", summary_path=tmp_path / "ds.json", progress=False)
    shine = codecs.missing_encoder("shine") is None  # libshine is in Debian's ffmpeg, not in the bundled one
    assert data["probes_skipped"] == ([] if shine else ["shine:128>flac"])
    probe_files = 2 * (2 + shine)  # for the 2 held-out sources only
    # 24 files excerpted at 2 s; the held-out ones and their probes at 1 s too
    assert (data["sources"], data["held_out"], data["files"]) == (4, 2, 24 + probe_files)
    assert data["excerpts"] == 24 + probe_files + (12 + probe_files)
    study = run_quality_models(params, data_dir=tmp_path / "q", models_dir=tmp_path / "models",
                               results_dir=tmp_path / "results", metrics_path=tmp_path / "m.json", summary_path=tmp_path / "s.json", progress=False)  # fmt: skip
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
    assert saved.model == study.shipped and len(saved.predict(X[:3])) == 3 and saved.protocol == "all_sources"
    train_only = models.load(tmp_path / "models" / "held_out_model.joblib")
    assert (train_only.model, train_only.protocol) == (study.shipped, "train_sources")
    metrics = json.loads((tmp_path / "s.json").read_text())
    assert metrics["shipped"] == study.shipped and metrics["held_out_sources"] == {"thrash": 1, "waltz": 1}
    # the choice: CV over the 2 training sources, feature models only, recorded beside the held-out scores
    assert set(study.selection["model"]) == {"rule", "lightgbm"} and (study.selection["cv_folds"] == 2).all()
    assert study.selection.loc[study.selection["selected"], "model"].tolist() == [study.shipped]
    written = pd.read_csv(tmp_path / "results" / "quality_scores.csv")
    chosen = written[written["selected"]]
    assert set(chosen["model"]) == {study.shipped} and set(chosen["target"]) == {"group"}
    assert written.loc[written["input"] != "features", "cv_macro_f1"].isna().all()
    # the command itself on the 12 held-out LAME files, with the fit that never saw them
    assert len(study.command_files) == 12 and set(study.command_files["source_id"]) == held_out
    command = study.command.set_index("measure")
    assert command.loc["right verdict", "rows"] == 12 and command.loc["fake lossless caught", "rows"] == 2
    assert command.loc["genuine accused", "rows"] == 8  # flac, limiter>flac, lame:cbr128, lame:cbr320 of 2 sources
    right = (study.command_files["verdict"] == study.command_files["truth"]).mean()
    assert command.loc["right verdict", "value"] == pytest.approx(right)
    assert (command["low"] <= command["value"]).all() and (command["value"] <= command["high"]).all()
    assert (tmp_path / "results" / "quality_command.csv").is_file()

    # Blind to the held-out labels: permute them among the held-out files, choosing a permutation under
    # which the old rule (best held-out macro-F1) would ship another model; the choice must not move.
    files = pd.read_csv(tmp_path / "q" / "files.csv", keep_default_na=False, dtype={"probe": bool, "transcoded": bool})
    labels = ["nominal", "effective", "group"]
    held = files.index[(files["split"] == "test") & ~files["probe"]]
    group = study.predictions[(study.predictions["target"] == "group")
                              & study.predictions["model"].isin(study.selection["model"])]  # fmt: skip
    rng = np.random.default_rng(0)
    for _ in range(500):
        permuted = files.loc[held, labels].iloc[rng.permutation(len(held))].set_axis(held)
        truth = group["file"].map(permuted.set_index(files.loc[held, "file"])["group"])
        held_out_f1 = {name: macro_f1(truth[part.index], part["predicted"]) for name, part in group.groupby("model")}
        if max(held_out_f1, key=lambda n: (held_out_f1[n], n)) != study.shipped:
            break
    else:
        pytest.fail("no permutation of the held-out labels would change a choice made on them: the test proves nothing")
    files.loc[held, labels] = permuted
    files.to_csv(tmp_path / "q" / "files.csv", index=False)
    blind = run_quality_models(params, data_dir=tmp_path / "q", models_dir=tmp_path / "models2",
                               results_dir=tmp_path / "results2", metrics_path=tmp_path / "m2.json", summary_path=tmp_path / "s2.json", progress=False)  # fmt: skip
    assert blind.shipped == study.shipped
    pd.testing.assert_frame_equal(blind.selection, study.selection)
    before, after = (s.loc[s["target"] == "group"].set_index("model")["macro_f1"] for s in (study.scores, blind.scores))
    assert not np.allclose(before.sort_index(), after.sort_index())  # the held-out scores did see the permutation
    candidates = after[after.index.isin(study.selection["model"])]
    assert max(candidates.index, key=lambda n: (candidates[n], n)) != blind.shipped  # what the old rule would ship


def test_the_default_chains_parse():
    from genrelab.config import load_params

    conditions = load_params(ROOT / "params.yaml", "quality")["corpus"]["conditions"]
    assert {parse(chain).group for chain in conditions} >= {"lossless", "lp17k", "lp18.6k", "no_lowpass"}


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


def test_every_style_holds_out_its_share_of_sources_in_a_stable_order():
    from genrelab.quality.evaluation import held_out_sources

    styles = {f"{style}.{k:03d}": style for style in ("dub", "chiptune", "techno") for k in range(5)}
    held = held_out_sources(styles, 0.3, seed=42)
    assert sorted(s.split(".")[0] for s in held) == ["chiptune"] * 2 + ["dub"] * 2 + ["techno"] * 2  # round(1.5) each
    assert held_out_sources(dict(reversed(styles.items())), 0.3, seed=42) == held  # not the order they come in
    assert held != held_out_sources(styles, 0.3, seed=1)
    few = held_out_sources({"dub.000": "dub", "dub.001": "dub", "techno.000": "techno", "techno.001": "techno"}, 0.1, 42)
    assert sorted(s.split(".")[0] for s in few) == ["dub", "techno"]  # at least one of each, never all
    singles = {"waltz.000": "waltz", "thrash.000": "thrash"}  # one source a style: pooled into one stratum
    assert len(held_out_sources(singles, 0.5, 42)) == 1 and held_out_sources({"dub.000": "dub"}, 0.3, 42) == set()


def test_held_out_sources_and_excerpt_offsets_are_pinned():
    # Golden values, computed before the data/evaluation split: both draw from
    # genrelab.evaluation.splits.unit_hash, the study's one seeded draw.
    from genrelab.quality.corpus import excerpt_offsets
    from genrelab.quality.evaluation import held_out_sources

    styles = {f"{style}.{k:03d}": style for style in ("dub", "waltz") for k in range(4)}
    assert sorted(held_out_sources(styles, 0.5, seed=42)) == ["dub.000", "dub.002", "waltz.002", "waltz.003"]
    files = pd.DataFrame({"file": ["dub.000/lame_cbr128.mp3", "waltz.001/flac.flac"], "seconds": [40.0, 12.0]})
    offsets = excerpt_offsets(files, [2.0, 30.0], seed=42)
    assert offsets["offset_seconds"].tolist() == [16.563, 6.749, 9.731, 0.0]
    assert offsets["excerpt_seconds"].tolist() == [2.0, 30.0, 2.0, 12.0]


def test_intervals_of_shares_count_sources_and_a_perfect_score_gets_a_one_sided_bound():
    from scipy.stats import binomtest

    from genrelab.quality.evaluation import clopper_pearson, source_share

    exact = binomtest(7, 15).proportion_ci(method="exact")
    assert clopper_pearson(7, 15) == pytest.approx((exact.low, exact.high))
    assert clopper_pearson(0, 15) == pytest.approx((0.0, 1 - 0.05 ** (1 / 15)))  # 0/15: below 18 %, not 0
    assert clopper_pearson(15, 15) == pytest.approx((0.05 ** (1 / 15), 1.0))
    # 60 files right out of 60, from 15 sources: the bound is that of 15 trials, not of 60
    perfect = source_share(np.ones(60, bool), np.repeat(np.arange(15), 4))
    assert perfect["value"] == 1.0 and perfect["sources"] == 15 and perfect["low"] == pytest.approx(0.05 ** (1 / 15))
    assert perfect["high"] == 1.0 and perfect["low"] < 0.05 ** (1 / 60)
    half = source_share(np.array([1, 1, 0, 0], bool), ["a", "a", "b", "b"])
    assert (half["hits"], half["rows"], half["value"]) == (2, 4, 0.5) and half["low"] < 0.5 < half["high"]


def test_the_right_verdict_of_a_file_follows_its_labels():
    from genrelab.quality.evaluation import command_scores, true_verdict

    chains = {"flac": "genuine", "limiter>flac": "genuine", "lame:cbr128>flac": "fake lossless",
              "lame:cbr320>flac": "fake lossless", "lame:cbr128": "genuine", "lame:cbr128>lame:cbr320": "transcoded",
              "lame:v2>lame:cbr320": "transcoded", "lame:cbr320>lame:cbr128": "genuine"}  # fmt: skip
    labels = {chain: parse(chain) for chain in chains}
    assert {c: true_verdict(p.nominal, p.effective, p.group) for c, p in labels.items()} == chains
    files = pd.DataFrame([{"source_id": source, "nominal": p.nominal, "effective": p.effective, "group": p.group}
                          for source in ("a", "b") for p in labels.values()])  # fmt: skip
    said = [*chains.values(), *chains.values()]
    said[0], said[1] = "undecidable", "fake lossless"  # source a: its flac undecided, its limiter>flac accused
    scores = command_scores(files, said).set_index("measure")
    assert scores.loc["right verdict", ["hits", "rows", "sources"]].tolist() == [14, 16, 2]
    assert scores.loc["undecidable", "hits"] == 1 and scores.loc["genuine accused", ["hits", "rows"]].tolist() == [1, 8]
    assert scores.loc["fake lossless caught", ["hits", "rows"]].tolist() == [2, 2]  # cbr320>flac is not a target
    assert scores.loc["fake lossless caught", "low"] == pytest.approx(0.05 ** (1 / 2))
