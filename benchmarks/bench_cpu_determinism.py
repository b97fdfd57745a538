"""Do the CPU pins give the same numbers on another x86-64 CPU? Simulated on this one.

Runs a small workload of the study in fresh subprocesses under environment variants and compares
the outputs bit for bit (SHA-256 of the arrays' bytes; where they differ, the largest absolute
difference from the first variant of the pair):

``audio``
    log-mel spectrograms of 3 s segments of real GTZAN clips (``features.spectrograms.log_mel``,
    librosa: FFT, mel matrix product), HOG of each (``approaches.image_models.hog_features``,
    skimage) and a logistic regression fitted on the HOG rows (probabilities on the same rows).
``cnn``
    the scratch CNN (``approaches.cnn.ScratchCNN``, two small blocks, 2 epochs) on fixed random
    data with a fixed seed: its validation and predicted probabilities.

Variants: ``pinned`` (:data:`PINS`, what the Makefile and dvc.yaml set) against ``pinned+lesser``
(the same with an AVX2 CPU of one core simulated: :data:`LESSER`, NumPy's, oneDNN's and XLA's
AVX-512 paths off, the process on one core), which must match; ``unpinned`` (the libraries'
defaults) against ``unpinned+lesser`` (the same simulation, and OpenBLAS's Haswell kernel in place
of the one it picks here), which shows what the pins are for. ``pinned+noavx2`` (NumPy's and
oneDNN's AVX2 paths off too: a CPU without AVX2) is reported, not required: no pin reaches below
AVX2. Exit status 1 when the pinned pair differs. The CNN also asserts that Keras put no XLA on
the CPU (XLA compiles for the host's ISA).

    nice python benchmarks/bench_cpu_determinism.py                 # both workloads, all variants
    nice python benchmarks/bench_cpu_determinism.py --workload audio --variants pinned pinned+lesser
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

# The process environment the Makefile and dvc.yaml give every stage (tests check they agree).
PINS = {
    "OPENBLAS_CORETYPE": "Sandybridge",
    "OPENBLAS_NUM_THREADS": "1",  # its threaded paths round otherwise, and it starts one per core
    "NPY_DISABLE_CPU_FEATURES": "X86_V4,AVX512_ICL,AVX512_SPR",
    "TF_ENABLE_ONEDNN_OPTS": "1",  # oneDNN's kernels (TensorFlow's Eigen ones: 1.4-3x slower here)
    # oneDNN picks AVX-512 code here, and AVX2 code on an AVX2 CPU: capped, both run the same
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "TF_NUM_INTRAOP_THREADS": "2",  # Eigen splits a product by its thread count, one per core
}
# What an AVX2 CPU without AVX-512 would look like to each library, on this AVX-512 machine; the
# variants named "+lesser" also run on one core.
LESSER = {
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "XLA_FLAGS": "--xla_cpu_max_isa=AVX2",
    "NPY_DISABLE_CPU_FEATURES": "X86_V4,AVX512_ICL,AVX512_SPR",
}
# TensorFlow's own defaults, which genrelab.tensorflow_setup would otherwise replace by the pins.
TF_DEFAULTS = {"TF_ENABLE_ONEDNN_OPTS": "1", "ONEDNN_MAX_CPU_ISA": "ALL", "TF_NUM_INTRAOP_THREADS": "0"}
VARIANTS = {
    "pinned": PINS,
    "pinned+lesser": {**PINS, **LESSER},
    "pinned+noavx2": {**PINS, **LESSER, "NPY_DISABLE_CPU_FEATURES": "X86_V3,X86_V4,AVX512_ICL,AVX512_SPR",
                      "ONEDNN_MAX_CPU_ISA": "AVX"},
    # TensorFlow's Eigen kernels (the previous pins): also stable, and slower
    "eigen": {**PINS, "TF_ENABLE_ONEDNN_OPTS": "0"},
    "eigen+lesser": {**PINS, **LESSER, "TF_ENABLE_ONEDNN_OPTS": "0"},
    "unpinned": TF_DEFAULTS,
    "unpinned+lesser": {**TF_DEFAULTS, **LESSER, "OPENBLAS_CORETYPE": "Haswell"},
}
# (reference, other, must match)
PAIRS = [("pinned", "pinned+lesser", True), ("pinned", "pinned+noavx2", False), ("eigen", "eigen+lesser", False),
         ("unpinned", "unpinned+lesser", False)]
CLIPS = ("blues/blues.00000.wav", "classical/classical.00000.wav", "metal/metal.00000.wav", "jazz/jazz.00001.wav")


def audio_workload(data_dir: Path) -> dict[str, np.ndarray]:
    """Log-mel segments of four real clips, their HOG rows, and a logistic regression's probabilities."""
    from sklearn.linear_model import LogisticRegression

    from genrelab.approaches.image_models import hog_features
    from genrelab.data import audio
    from genrelab.features.spectrograms import SpectrogramSettings, segment_spectrograms

    settings = SpectrogramSettings()
    spectra, labels = [], []
    for rel in CLIPS:
        y, _ = audio.load(data_dir / "gtzan-mini" / rel, sr=settings.sr)
        segments = segment_spectrograms(y[: 4 * settings.segment_samples], settings)  # 4 segments: cheap
        spectra.append(segments)
        labels += [rel.split("/")[0]] * len(segments)
    mel = np.concatenate(spectra)
    hog = hog_features(mel, pixels_per_cell=12)
    model = LogisticRegression(C=1.0, max_iter=200).fit(hog, labels)
    return {"log-mel": mel, "hog": hog, "logreg proba": model.predict_proba(hog)}


def cnn_workload() -> dict[str, np.ndarray]:
    """The scratch CNN, two small blocks, 2 epochs on fixed random dB segments: its probabilities."""
    from genrelab.approaches import cnn

    rng = np.random.default_rng(0)
    y = np.repeat(["a", "b", "c", "d"], 24)
    x = (rng.normal(-40, 10, size=(len(y), 32, 32)) + np.searchsorted(np.unique(y), y)[:, None, None]).astype(np.float32)
    params = {"scratch": {"filters": [8, 16], "dense_units": 16, "epochs": 2, "batch_size": 16}}
    model = cnn.ScratchCNN(cnn.check_params(params), seed=0).fit(x, y, groups=np.arange(len(y)) // 2)
    assert not model.model_.jit_compile, "Keras put XLA on the CPU: it compiles for the host's ISA"
    return {"cnn validation proba": model.validation_proba_, "cnn proba": model.predict_proba(x)}


def cnn_native_workload() -> dict[str, np.ndarray]:
    """The scratch CNN of params.yaml (four blocks) on 256 native 128 x 130 dB segments, one epoch:
    the size whose speed the Eigen and oneDNN kernels differ on (the seconds are printed)."""
    import time

    from genrelab.approaches import cnn

    rng = np.random.default_rng(0)
    y = np.repeat(list("abcdefgh"), 32)
    x = (rng.normal(-40, 10, size=(len(y), 128, 130)) + np.searchsorted(np.unique(y), y)[:, None, None]).astype(np.float32)
    params = {"scratch": {"epochs": 1, "patience": 0}}
    start = time.perf_counter()
    model = cnn.ScratchCNN(cnn.check_params(params), seed=0).fit(x, y, groups=np.arange(len(y)) // 2)
    proba = model.predict_proba(x)
    print(f"    cnn-native fit + predict: {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return {"cnn-native validation proba": model.validation_proba_, "cnn-native proba": proba}


WORKLOADS = {"audio": audio_workload, "cnn": cnn_workload, "cnn-native": cnn_native_workload}


def run_variant(workload: str, variant: str, data_dir: Path) -> dict[str, np.ndarray]:
    """The workload's arrays, computed in a fresh interpreter whose environment is the variant's
    over this one's without any pinned or simulated setting (they act when the libraries load),
    on one core for a "+lesser" variant (libraries count the cores they may use when they load)."""
    base = {k: v for k, v in os.environ.items() if k not in {*PINS, *LESSER}}
    one_core = {min(os.sched_getaffinity(0))}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.npz"
        command = [sys.executable, __file__, "--child", workload, "--data", str(data_dir), "--out", str(out)]
        subprocess.run(command, env={**base, "TF_CPP_MIN_LOG_LEVEL": "3", **VARIANTS[variant]}, check=True,
                       preexec_fn=(lambda: os.sched_setaffinity(0, one_core)) if "+lesser" in variant else None)  # fmt: skip
        with np.load(out) as arrays:
            return dict(arrays)


def digest(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()[:12]


def compare(results: dict[str, dict[str, np.ndarray]], reference: str, other: str) -> dict[str, float]:
    """Largest absolute difference of each array between two variants (0.0: bit for bit equal)."""
    a, b = results[reference], results[other]
    return {name: 0.0 if digest(a[name]) == digest(b[name]) else float(np.abs(a[name] - b[name]).max()) for name in a}


def table(results: dict[str, dict[str, np.ndarray]]) -> str:
    """One row per array: its hash under each variant, then each pair's largest difference."""
    variants = list(results)
    names = list(results[variants[0]])
    pairs = [(r, o) for r, o, _ in PAIRS if r in results and o in results]
    header = ["array", *variants, *(f"|{o} - {r}|" for r, o in pairs)]
    rows = [header]
    for name in names:
        diffs = [compare(results, r, o)[name] for r, o in pairs]
        rows.append([name, *(digest(results[v][name]) for v in variants), *(f"{d:.3g}" for d in diffs)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workload", nargs="+", choices=list(WORKLOADS), default=list(WORKLOADS))
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("GENRELAB_SHARED_DATA", "../shared/data")),
                        help="the shared real-data folder (gtzan-mini/)")  # fmt: skip
    parser.add_argument("--child", choices=list(WORKLOADS), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:  # one workload in this interpreter, its arrays to --out
        arrays = audio_workload(args.data) if args.child == "audio" else WORKLOADS[args.child]()
        np.savez(args.out, **arrays)
        return 0
    failed = False
    for workload in args.workload:
        results = {}
        for variant in args.variants:
            print(f"  {workload} / {variant}", file=sys.stderr)
            results[variant] = run_variant(workload, variant, args.data)
        print(f"{workload}:\n{table(results)}\n")
        failed |= any(d for r, o, must in PAIRS if must and {r, o} <= set(results) for d in compare(results, r, o).values())
    return int(failed)


if __name__ == "__main__":
    sys.exit(main())
