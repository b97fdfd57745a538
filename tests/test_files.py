"""The one folder walker (genrelab.data.files.find_audio) that every command uses."""

from __future__ import annotations

from genrelab.data.files import find_audio


def test_folders_are_walked_and_what_is_left_is_named(tmp_path):
    for name in ["a/x.wav", "a/deep/y.m4a", "a/.trash/old.wav", "a/.DS_Store", "a/notes.txt", "empty/readme.md"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).touch()
    (tmp_path / "song.xyz").touch()
    found = find_audio([tmp_path / "a", tmp_path / "a" / "x.wav", tmp_path / "song.xyz", tmp_path / "empty", tmp_path / "gone"])
    assert [p.relative_to(tmp_path).as_posix() for p in found.files] == ["a/deep/y.m4a", "a/x.wav", "song.xyz"]  # given order, once each
    assert sorted((p.kind, tmp_path.joinpath(p.path).name) for p in found.ignored) == [
        ("hidden", ".DS_Store"), ("hidden", "old.wav"), ("non_audio", "notes.txt"), ("non_audio", "readme.md")]
    assert [line.split(":")[0] for line in found.missing] == [str(tmp_path / "empty"), str(tmp_path / "gone")]
    assert "no audio files" in found.missing[0] and "no such file or folder" in found.missing[1]
