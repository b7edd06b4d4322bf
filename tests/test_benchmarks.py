"""Smoke test of benchmarks/fit.py: it runs, and every contender agrees.

Times are never checked; they depend on the machine and its load.
"""

import csv
import io
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "fit.py"
CONTENDERS = {
    "lrbook-newton",
    "lrbook-lbfgs",
    "statsmodels-logit",
    "statsmodels-glm",
    "sklearn-lbfgs",
    "sklearn-newton-cholesky",
}


def test_fit_benchmark_runs_and_every_contender_agrees():
    command = [
        sys.executable, str(SCRIPT), "--size", "small", "--repeats", "1",
        "--format", "csv", "--memory", "none", "--bandwidth-mib", "64",
    ]
    completed = subprocess.run(command, capture_output=True, text=True,
                               timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]

    rows = list(csv.DictReader(io.StringIO(completed.stdout)))
    assert {row["contender"] for row in rows} == CONTENDERS
    for row in rows:
        assert row["size"] == "small"
        assert float(row["max_abs_diff"]) <= 1e-6, row
        assert row["agrees"] == "True", row
        assert int(row["n_iter"]) > 0, row
