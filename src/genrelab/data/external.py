"""Content fingerprints of the third-party files that ``params.yaml`` points at outside the repository.

The GTZAN indexes, the fault-filtered split lists and the public feature tables live beside the
project (``../shared/data`` by default), not under DVC. The ``external`` stage writes one small
JSON file per such key to ``data/external/<key>.json``: the path and the MD5 of each file it names
(every file of a folder), or ``present: false``. The stages that read a key list its fingerprint as
a dep, so editing the split lists reruns what reads them, and nothing else. The stage runs on every
``dvc repro`` (hashing a few megabytes); a fingerprint whose content did not change is not
rewritten, so nothing downstream reruns.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

EXTERNAL = Path("data/external")
# The data.* keys that name files outside the repository.
EXTERNAL_KEYS = ("gtzan_index", "gtzan_artists", "gtzan_splits", "fma_metadata", "public_features_30s", "public_features_3s")


def fingerprint(path: str) -> dict:
    """``{"path", "present", "md5": {name: hex}}`` of a file, or of every file under a folder (names relative to it)."""
    target = Path(path)
    if not path or not target.exists():
        return {"path": path, "present": False, "md5": {}}
    files = sorted(p for p in target.rglob("*") if p.is_file()) if target.is_dir() else [target]
    md5 = {(p.relative_to(target).as_posix() if target.is_dir() else p.name): _md5(p) for p in files}
    return {"path": path, "present": True, "md5": md5}


def write_fingerprints(data: dict, out_dir: Path = EXTERNAL) -> dict[str, bool]:
    """Write ``out_dir/<key>.json`` for each of :data:`EXTERNAL_KEYS` of the ``data`` params; a file
    whose content is unchanged is left alone. Returns ``{key: present}``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    present = {}
    for key in EXTERNAL_KEYS:
        found = fingerprint(data.get(key) or "")
        text = json.dumps(found, indent=1, sort_keys=True) + "\n"
        out = out_dir / f"{key}.json"
        if not out.is_file() or out.read_text() != text:
            out.write_text(text)
        present[key] = found["present"]
    return present


def _md5(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "md5").hexdigest()


def main() -> None:
    """The ``external`` stage: ``python -m genrelab.data.external [params.yaml]``."""
    import sys

    from genrelab.config import load_params

    present = write_fingerprints(load_params(sys.argv[1] if len(sys.argv) > 1 else "params.yaml", "data"))
    found = [key for key, ok in present.items() if ok]
    print(f"fingerprinted {len(found)} third-party input(s) in {EXTERNAL}: {', '.join(found) or 'none'}")


if __name__ == "__main__":
    main()
