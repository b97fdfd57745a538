"""The CPU pins: one set in the Makefile, dvc.yaml and the benchmark, and under them a simulated
lesser CPU computes the same bits (``benchmarks/bench_cpu_determinism.py``)."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys

import pytest
import yaml

from conftest import ROOT

_spec = importlib.util.spec_from_file_location("bench_cpu_determinism", ROOT / "benchmarks" / "bench_cpu_determinism.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def test_makefile_exports_the_pins():
    exports = dict(re.findall(r"^export (\w+) := (\S+)$", (ROOT / "Makefile").read_text(), re.M))
    assert {k: exports.get(k) for k in bench.PINS} == bench.PINS


def test_every_dvc_stage_runs_under_the_pins():
    dvc = yaml.safe_load((ROOT / "dvc.yaml").read_text())
    cpu = next(v["cpu"] for v in dvc["vars"] if "cpu" in v)
    assert cpu == "env " + " ".join(f"{k}={v}" for k, v in bench.PINS.items())
    unpinned = [name for name, stage in dvc["stages"].items() if "${cpu} " not in stage["cmd"]]
    assert not unpinned


def test_import_tensorflow_sets_the_tensorflow_pins_unless_the_user_chose():
    from genrelab.tensorflow_setup import CPU_PINS

    assert CPU_PINS.items() <= bench.PINS.items()
    code = ("import os; from genrelab.tensorflow_setup import CPU_PINS, import_tensorflow; import_tensorflow(); "
            "from tensorflow.python.framework.config import is_op_determinism_enabled; "
            "print(*(os.environ[k] for k in CPU_PINS), is_op_determinism_enabled())")  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k not in CPU_PINS}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == [*CPU_PINS.values(), "True"]
    env["TF_NUM_INTRAOP_THREADS"] = "1"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split()[list(CPU_PINS).index("TF_NUM_INTRAOP_THREADS")] == "1"


@pytest.mark.slow
@pytest.mark.parametrize("workload", ["audio", "cnn"])  # cnn-native is the speed check, 10x dearer
def test_a_lesser_cpu_computes_the_same_bits_under_the_pins(workload, shared_data):
    pinned = bench.run_variant(workload, "pinned", shared_data)
    lesser = bench.run_variant(workload, "pinned+lesser", shared_data)
    assert {k: bench.digest(a) for k, a in lesser.items()} == {k: bench.digest(a) for k, a in pinned.items()}
