"""Time lrbook.fit against statsmodels and scikit-learn on simulated data.

For each size, the data come from ``lrbook.simulate(n, weights, bias=0.3,
seed=42)`` in float64 (logit link, intercept always fitted). With p = 2 the
weights are the book's (1.5, -0.8), so the small size is the book's standard
data set; for larger p they are a fixed draw from N(0, 0.3^2) with
``numpy.random.default_rng(0)``.

Six contenders fit each data set, in turns: one round of first calls, then
``--repeats`` rounds, each in a rotated order; a contender's time is the
median of its rounds. lrbook compiles per shape, so its first call at a size
(made after ``jax.clear_caches()``, in a process whose JAX backend is already
up) includes compilation and is reported on its own.

What is inside the timed call, per contender:

- ``lrbook-newton``, ``lrbook-lbfgs``: ``lrbook.fit(X, y, method=...)``, with
  its validation, its checks for separation and collinearity, and the final
  Hessian from which it gets standard errors.
- ``statsmodels-logit``: ``Logit(y, design).fit(disp=0)`` (Newton), model
  construction included. It keeps the inverse Hessian of its last iteration
  as the covariance.
- ``statsmodels-glm``: ``GLM(y, design, family=Binomial()).fit()`` (IRLS),
  model construction included.
- ``sklearn-lbfgs``, ``sklearn-newton-cholesky``:
  ``LogisticRegression(C=inf, solver=..., tol=1e-10, max_iter=1000).fit(X, y)``
  (``C=inf`` is scikit-learn's spelling of ``penalty=None`` since 1.8). No
  standard errors.

statsmodels needs the intercept as a column: ``design = add_constant(X)``, a
copy of X, is built once per size outside every timed region.

The memory-bandwidth bound of a size is the time to read X twice per Newton
iteration (a pass for the gradient and Hessian, one for the step, as the
benchmark's issue defines it) for as many iterations as statsmodels' Newton
takes, at the best read bandwidth measured in this run. lrbook's Newton
reads X once per iteration (``lrbook.glm.newton_glm``), so its own floor is
half this bound.

Peak memory is measured in a fresh subprocess per contender (XLA allocates
outside Python, so tracemalloc cannot see it): on Linux the process's peak
resident size is reset through ``/proc/self/clear_refs`` just before the fit
and read from ``VmHWM`` after it; the peak minus the resident size before the
fit is the fit's extra memory, reported as a multiple of the bytes of X.

Run ``python benchmarks/fit.py --help`` for the options. The script exits with
status 1 if some contender's coefficients differ from statsmodels' Logit by
more than ``--tolerance``.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import sklearn
import statsmodels
import statsmodels.api as sm
from report import render  # benchmarks/report.py, beside this script
from sklearn.linear_model import LogisticRegression

import lrbook

jax.config.update("jax_enable_x64", True)

SIZES = {
    "small": (100_000, 2),
    "medium": (1_000_000, 20),
    "large": (4_000_000, 50),
}
DATA_SEED = 42
WEIGHT_SEED = 0
BIAS = 0.3
REFERENCE = "statsmodels-logit"
SKLEARN_TOL = 1e-10
SKLEARN_MAX_ITER = 1000
# The bound's definition: a textbook Newton iteration reads X twice, for the
# gradient and Hessian and for the step X @ delta. (lrbook.glm.newton_glm
# fuses the two into one read; see its docstring.)
PASSES_PER_NEWTON_ITERATION = 2


def true_weights(p: int) -> np.ndarray:
    """The simulation's weights: the book's for p = 2, a seeded draw otherwise."""
    if p == 2:
        return np.array([1.5, -0.8])
    return np.random.default_rng(WEIGHT_SEED).normal(0.0, 0.3, size=p)


@dataclass
class Data:
    X: np.ndarray
    y: np.ndarray
    design: np.ndarray | None


def make_data(n: int, p: int, with_design: bool = True) -> Data:
    X, y = lrbook.simulate(n, weights=true_weights(p), bias=BIAS, seed=DATA_SEED)
    return Data(X, y, sm.add_constant(X) if with_design else None)


@dataclass(frozen=True)
class Contender:
    name: str
    fit: Callable[[Data], object]
    describe: Callable[[object], tuple[np.ndarray, int, bool]]


def _lrbook(method: str) -> Contender:
    def run(data):
        return lrbook.fit(data.X, data.y, method=method)

    def describe(result):
        return result.coef.to_numpy(), result.n_iter, result.converged

    return Contender(f"lrbook-{method}", run, describe)


def _statsmodels_logit() -> Contender:
    def run(data):
        return sm.Logit(data.y, data.design).fit(disp=0)

    def describe(result):
        info = result.mle_retvals
        return np.asarray(result.params), info["iterations"], info["converged"]

    return Contender("statsmodels-logit", run, describe)


def _statsmodels_glm() -> Contender:
    def run(data):
        family = sm.families.Binomial()
        return sm.GLM(data.y, data.design, family=family).fit()

    def describe(result):
        n_iter = result.fit_history["iteration"]
        return np.asarray(result.params), n_iter, bool(result.converged)

    return Contender("statsmodels-glm", run, describe)


def _sklearn(solver: str) -> Contender:
    def run(data):
        model = LogisticRegression(
            C=np.inf, solver=solver, tol=SKLEARN_TOL, max_iter=SKLEARN_MAX_ITER
        )
        return model.fit(data.X, data.y)

    def describe(model):
        coef = np.concatenate([model.intercept_, model.coef_.ravel()])
        n_iter = int(model.n_iter_[0])
        return coef, n_iter, n_iter < SKLEARN_MAX_ITER

    return Contender(f"sklearn-{solver}", run, describe)


CONTENDERS = {
    c.name: c
    for c in [
        _lrbook("newton"),
        _lrbook("lbfgs"),
        _statsmodels_logit(),
        _statsmodels_glm(),
        _sklearn("lbfgs"),
        _sklearn("newton-cholesky"),
    ]
}


@dataclass
class Call:
    seconds: float
    coef: np.ndarray
    n_iter: int
    converged: bool


def time_call(contender: Contender, data: Data) -> Call:
    """One timed fit; the result is summarised, then freed, outside the timer."""
    gc.collect()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        fitted = contender.fit(data)
        seconds = time.perf_counter() - start
    coef, n_iter, converged = contender.describe(fitted)
    del fitted
    # Each library has its own ConvergenceWarning class; match them by name.
    warned = any("Convergence" in type(w.message).__name__ for w in caught)
    return Call(seconds, np.asarray(coef, dtype=np.float64), int(n_iter),
                bool(converged) and not warned)


def warm_up() -> None:
    """Start JAX's backend and each peer once, on a shape no size uses."""
    jax.jit(lambda x: x + 1)(jnp.ones(3)).block_until_ready()
    tiny = make_data(256, 1)
    for name, contender in CONTENDERS.items():
        if not name.startswith("lrbook"):
            time_call(contender, tiny)


def measure_bandwidth(mib: int, tries: int = 5) -> dict[str, float]:
    """Best read bandwidth, bytes per second, over an array of ``mib`` MiB.

    Two read-only streams: numpy's sum (one thread) and a BLAS matrix-vector
    product (all threads).
    """
    array = np.ones(mib * 2**20 // 8)
    matrix = array.reshape(-1, 64)
    vector = np.ones(64)
    results = {}
    for label, operation in [
        ("numpy sum", array.sum),
        ("BLAS gemv", lambda: matrix @ vector),
    ]:
        best = float("inf")
        for _ in range(tries):
            start = time.perf_counter()
            operation()
            best = min(best, time.perf_counter() - start)
        results[label] = array.nbytes / best
    return results


@dataclass
class SizeResult:
    size: str
    n: int
    p: int
    first: dict[str, float]
    times: dict[str, list[float]]
    calls: dict[str, Call]
    bound: float
    bandwidth: float
    memory: dict[str, dict]

    @property
    def x_bytes(self) -> int:
        return self.n * self.p * 8

    def median(self, name: str) -> float:
        return statistics.median(self.times[name])

    def max_abs_diff(self, name: str) -> float:
        reference = self.calls[REFERENCE].coef
        return float(np.max(np.abs(self.calls[name].coef - reference)))


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def benchmark_size(size: str, repeats: int, bandwidth: float) -> SizeResult:
    n, p = SIZES[size]
    progress(f"[{size}] simulating {n:,} x {p} ...")
    data = make_data(n, p)
    names = list(CONTENDERS)
    first, times, calls = {}, {name: [] for name in names}, {}
    for round_ in range(repeats + 1):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            if round_ == 0 and name.startswith("lrbook"):
                # Forget every compiled program, so this first call pays for
                # all the compilation a fresh shape needs, shared parts too.
                jax.clear_caches()
            call = time_call(CONTENDERS[name], data)
            calls[name] = call
            if round_ == 0:
                first[name] = call.seconds
            else:
                times[name].append(call.seconds)
            label = "first call" if round_ == 0 else f"repeat {round_}"
            progress(f"[{size}] {name:<24} {label:<10} {call.seconds:8.3f} s")
        if round_ == 0:
            # Clearing the caches for the last lrbook method dropped the
            # programs of the earlier ones; compile those again, untimed.
            for name in [n for n in names if n.startswith("lrbook")][:-1]:
                time_call(CONTENDERS[name], data)
    del data
    gc.collect()
    iterations = calls[REFERENCE].n_iter
    bound = PASSES_PER_NEWTON_ITERATION * n * p * 8 * iterations / bandwidth
    return SizeResult(size, n, p, first, times, calls, bound, bandwidth, {})


def _proc_status_kib(key: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def probe_memory(name: str, size: str) -> dict:
    """Peak extra resident memory of two fits (first and second call), bytes."""
    n, p = SIZES[size]
    warnings.simplefilter("ignore")
    data = make_data(n, p, with_design=name.startswith("statsmodels"))
    if name.startswith("lrbook"):
        jax.jit(lambda x: x + 1)(jnp.ones(3)).block_until_ready()
    peaks = {}
    for label in ("first", "later"):
        gc.collect()
        # Writing 5 resets the peak resident size (VmHWM) to the current one.
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        before = _proc_status_kib("VmRSS")
        fitted = CONTENDERS[name].fit(data)
        peaks[label] = (_proc_status_kib("VmHWM") - before) * 1024
        del fitted
    return {"contender": name, "size": size, "x_bytes": n * p * 8, **peaks}


def run_memory_probe(name: str, size: str) -> dict:
    progress(f"[{size}] {name:<24} peak memory, in a subprocess ...")
    command = [sys.executable, str(Path(__file__).resolve()),
               "--probe-memory", name, "--sizes", size]
    completed = subprocess.run(command, stdout=subprocess.PIPE, text=True,
                               check=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])





def _seconds(value: float) -> str:
    return f"{value:.4g}"


def csv_rows(results: list[SizeResult], tolerance: float) -> list[list[str]]:
    rows = []
    for r in results:
        reference = r.median(REFERENCE)
        for name, call in r.calls.items():
            memory = r.memory.get(name, {})
            diff = r.max_abs_diff(name)
            rows.append([
                r.size, str(r.n), str(r.p), name,
                f"{r.first[name]:.6g}", f"{r.median(name):.6g}",
                f"{min(r.times[name]):.6g}", str(len(r.times[name])),
                str(call.n_iter), str(call.converged), f"{diff:.3e}",
                str(diff <= tolerance), f"{r.median(name) / reference:.4g}",
                f"{r.bound:.6g}", f"{r.median(name) / r.bound:.4g}",
                f"{r.bandwidth / 1e9:.4g}", str(r.x_bytes),
                *(f"{memory[k] / r.x_bytes:.4g}" if memory else ""
                  for k in ("first", "later")),
            ])
    return rows


CSV_HEADERS = [
    "size", "n", "p", "contender", "first_s", "median_s", "min_s", "repeats",
    "n_iter", "converged", "max_abs_diff", "agrees", "time_over_statsmodels_logit",
    "bound_s", "time_over_bound", "bandwidth_gb_s", "x_bytes",
    "peak_first_over_x", "peak_later_over_x",
]


def size_section(r: SizeResult, fmt: str) -> str:
    reference = r.median(REFERENCE)
    rows = []
    for name, call in r.calls.items():
        compile_ = r.first[name] - r.median(name)
        rows.append([
            name, _seconds(r.first[name]), _seconds(r.median(name)),
            _seconds(compile_) if name.startswith("lrbook") else "",
            str(call.n_iter) + ("" if call.converged else " (not converged)"),
            f"{r.max_abs_diff(name):.1e}", f"{r.median(name) / reference:.2f}",
            f"{r.median(name) / r.bound:.1f}",
        ])
    headers = ["contender", "first call (s)", "median (s)", "compile (s)",
               "iterations", "max abs diff vs Logit", "time / Logit",
               "time / bound"]
    iterations = r.calls[REFERENCE].n_iter
    title = f"{r.n:,} x {r.p} ({r.size})"
    text = [
        f"## {title}" if fmt == "markdown" else f"{title}\n{'=' * len(title)}",
        "",
        f"Bandwidth bound: {PASSES_PER_NEWTON_ITERATION} passes x "
        f"{r.x_bytes / 1e9:.3g} GB x {iterations} iterations / "
        f"{r.bandwidth / 1e9:.3g} GB/s = {r.bound:.3g} s. Medians of "
        f"{len(r.times[REFERENCE])} repeat(s).",
        "",
        render(headers, rows, fmt),
    ]
    if r.memory:
        memory_rows = [
            [name, f"{m['first'] / 1e9:.3g}", f"{m['first'] / r.x_bytes:.2f}",
             f"{m['later'] / 1e9:.3g}", f"{m['later'] / r.x_bytes:.2f}"]
            for name, m in r.memory.items()
        ]
        text += [
            f"Peak extra memory (X is {r.x_bytes / 1e9:.3g} GB):",
            "",
            render(["contender", "first call (GB)", "/ X", "later call (GB)",
                    "/ X"], memory_rows, fmt),
        ]
    return "\n".join(text)


def _fastest_lrbook(r: SizeResult, tolerance: float) -> tuple[str, float] | None:
    exact = [name for name in r.calls
             if name.startswith("lrbook") and r.max_abs_diff(name) <= tolerance]
    if not exact:
        return None
    best = min(exact, key=r.median)
    return best, r.median(best)


def targets(results: list[SizeResult], tolerance: float) -> list[list[str]]:
    """The README's targets that this run measured, with the measurement."""
    rows = []

    def add(target, measured, met):
        rows.append([target, measured, "yes" if met else "no"])

    by_size = {r.size: r for r in results}
    for r in results:
        compile_ = r.first["lrbook-newton"] - r.median("lrbook-newton")
        add(f"{r.size}: Newton compile at a new shape < 1 s",
            f"{compile_:.2f} s", compile_ < 1)
    if "small" in by_size:
        r = by_size["small"]
        ratio = r.first["lrbook-newton"] / r.median(REFERENCE)
        add("small: lrbook Newton first call <= 10x statsmodels Logit",
            f"{ratio:.1f}x", ratio <= 10)
    if "medium" in by_size:
        r = by_size["medium"]
        fastest = _fastest_lrbook(r, tolerance)
        worst = max(r.max_abs_diff(n) for n in r.calls if n.startswith("lrbook"))
        add("medium: lrbook coefficients within 1e-6 of statsmodels",
            f"{worst:.1e}", worst <= 1e-6)
        if fastest:
            name, best = fastest
            speedup = r.median(REFERENCE) / best
            sklearn_best = min(r.median(n) for n in r.calls
                               if n.startswith("sklearn"))
            add("medium: fastest lrbook >= 3x faster than statsmodels Logit",
                f"{speedup:.2f}x ({name})", speedup >= 3)
            add("medium: fastest lrbook >= 1.4x faster than sklearn's fastest",
                f"{sklearn_best / best:.2f}x", sklearn_best / best >= 1.4)
            add("medium: fastest lrbook within 3x of the bandwidth bound",
                f"{best / r.bound:.2f}x", best / r.bound <= 3)
    if "large" in by_size:
        r = by_size["large"]
        fastest = _fastest_lrbook(r, tolerance)
        if fastest:
            name, best = fastest
            peers = min(r.median(n) for n in r.calls if not n.startswith("lrbook"))
            add("large: fastest lrbook faster than every peer",
                f"{peers / best:.2f}x the fastest peer ({name})", best < peers)
        if "lrbook-newton" in r.memory:
            extra = r.memory["lrbook-newton"]["later"] / r.x_bytes
            add("large: lrbook Newton peak extra memory below one copy of X",
                f"{extra:.2f} x X", extra < 1)
    return rows


def environment() -> list[str]:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    threads = {k: os.environ[k] for k in ("XLA_FLAGS", "OMP_NUM_THREADS",
                                          "OPENBLAS_NUM_THREADS") if k in os.environ}
    cache = jax.config.jax_compilation_cache_dir
    return [
        f"date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        f"machine: {model}, {os.cpu_count()} logical cores "
        f"({len(os.sched_getaffinity(0))} usable), {platform.system()}",
        f"versions: python {platform.python_version()}, lrbook "
        f"{lrbook.__version__}, jax {jax.__version__}, numpy {np.__version__}, "
        f"statsmodels {statsmodels.__version__}, scikit-learn {sklearn.__version__}",
        f"JAX persistent compilation cache: {cache or 'off'}",
        f"thread settings: {threads or 'library defaults'}",
    ]


NOTES = [
    "first call: lrbook's first fit at the size after jax.clear_caches(), so "
    "it includes all compilation for the new shape; peers' first calls are "
    "shown for comparison. compile = first call - median.",
    "statsmodels gets design = add_constant(X), built once outside the timer; "
    "model construction and fit are timed. lrbook's time includes its "
    "validation, separation and collinearity checks and its final Hessian.",
    f"scikit-learn: LogisticRegression(C=inf, tol={SKLEARN_TOL:g}, "
    f"max_iter={SKLEARN_MAX_ITER}); no standard errors.",
    "time / bound: the median over the memory-bandwidth bound above.",
]


def report(results, bandwidths, fmt, tolerance) -> str:
    if fmt == "csv":
        return render(CSV_HEADERS, csv_rows(results, tolerance), fmt)
    bullet = "- " if fmt == "markdown" else ""
    chosen = max(bandwidths, key=bandwidths.get)
    measured = ", ".join(f"{k} {v / 1e9:.3g} GB/s" for k, v in bandwidths.items())
    parts = [
        "# lrbook.fit benchmark" if fmt == "markdown" else "lrbook.fit benchmark",
        "",
        *(bullet + line for line in environment()),
        f"{bullet}read bandwidth: {measured}; the bound uses {chosen}",
        "",
        *(size_section(r, fmt) for r in results),
        "## Targets" if fmt == "markdown" else "Targets\n=======",
        "",
        render(["target", "measured", "met"], targets(results, tolerance), fmt),
        *(bullet + note for note in NOTES),
    ]
    return "\n".join(parts) + "\n"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time lrbook.fit against statsmodels and scikit-learn.")
    parser.add_argument(
        "--sizes", "--size", default="small,medium,large",
        help="comma-separated sizes among " + ", ".join(
            f"{k} ({n:,} x {p})" for k, (n, p) in SIZES.items()))
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed rounds after the first call (default 3)")
    parser.add_argument("--format", choices=["markdown", "csv", "text"],
                        default="markdown")
    parser.add_argument("--output", type=Path,
                        help="write the report here instead of to stdout")
    parser.add_argument(
        "--memory", default="lrbook-newton",
        help="contenders whose peak memory to measure, comma-separated, or "
             "'all' or 'none' (default lrbook-newton); Linux only")
    parser.add_argument("--bandwidth-mib", type=int, default=1024,
                        help="size of the bandwidth test array (default 1024)")
    parser.add_argument("--tolerance", type=float, default=1e-6,
                        help="largest allowed |coef - statsmodels Logit|")
    parser.add_argument("--probe-memory", metavar="CONTENDER",
                        help="internal: measure one contender's peak memory at "
                             "one size and print it as JSON")
    args = parser.parse_args(argv)

    args.sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in args.sizes if s not in SIZES]
    if unknown or not args.sizes:
        parser.error(f"unknown sizes {unknown}; choose among {list(SIZES)}.")
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1; got {args.repeats}.")
    if args.memory == "all":
        args.memory = list(CONTENDERS)
    elif args.memory == "none":
        args.memory = []
    else:
        args.memory = [m.strip() for m in args.memory.split(",") if m.strip()]
    unknown = [m for m in args.memory if m not in CONTENDERS]
    if args.probe_memory is not None:
        unknown += [] if args.probe_memory in CONTENDERS else [args.probe_memory]
    if unknown:
        parser.error(f"unknown contenders {unknown}; choose among "
                     f"{list(CONTENDERS)}, 'all' or 'none'.")
    if args.memory and not Path("/proc/self/clear_refs").exists():
        parser.error("peak memory needs Linux's /proc/self/clear_refs; pass "
                     "--memory none on this system.")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.probe_memory:
        print(json.dumps(probe_memory(args.probe_memory, args.sizes[0])))
        return 0

    progress("warming up JAX and the peers on a 256 x 1 problem ...")
    warm_up()
    progress(f"measuring read bandwidth over {args.bandwidth_mib} MiB ...")
    bandwidths = measure_bandwidth(args.bandwidth_mib)
    bandwidth = max(bandwidths.values())

    results = []
    for size in args.sizes:
        result = benchmark_size(size, args.repeats, bandwidth)
        for name in args.memory:
            result.memory[name] = run_memory_probe(name, size)
        results.append(result)

    text = report(results, bandwidths, args.format, args.tolerance)
    if args.output:
        args.output.write_text(text)
        progress(f"wrote {args.output}")
    else:
        sys.stdout.write(text)

    failures = [
        f"{r.size} {name}: {r.max_abs_diff(name):.2e}"
        for r in results for name in r.calls
        if not r.max_abs_diff(name) <= args.tolerance
    ]
    if failures:
        progress("coefficients differ from statsmodels' Logit by more than "
                 f"{args.tolerance:g}: " + "; ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
