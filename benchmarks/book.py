"""Execute every chapter notebook and time it, with JAX's compile time apart.

Each notebook runs top to bottom with nbclient in a fresh ``python3`` kernel
(cell timeout 600 s), with the notebook's folder as working directory. The
notebook is changed in memory only: a first cell registers a listener for
the time spans JAX reports through ``jax.monitoring`` while it compiles, and
a last cell prints them. JAX 0.10 reports three phases per compiled program,
``/jax/core/compile/jaxpr_trace_duration``,
``/jax/core/compile/jaxpr_to_mlir_module_duration`` and
``/jax/core/compile/backend_compile_duration``; tracing an outer ``jit``
traces the inner ones inside it, so the spans nest, and the compile time
reported is the length of their union, not their sum. Eager operations
compile too (once per operation and shape) and count.

Columns: ``wall`` is the whole run (kernel start, every cell, shutdown);
``cells`` the sum of the cells' execution times from nbclient's timing
metadata, the injected first cell (which imports JAX, as the chapter would)
included and the last one excluded; ``JAX compile`` the union above, and
``XLA compile`` its backend part alone.

Run ``python benchmarks/book.py --help`` for the options. The script exits
with status 1 if a chapter fails.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import (
    CellExecutionError,
    CellTimeoutError,
    DeadKernelError,
)
from report import render  # benchmarks/report.py, beside this script

CHAPTERS = Path(__file__).resolve().parent.parent / "chapters"
CHAPTER_TARGET_S = 15.0
BOOK_TARGET_S = 90.0
MARKER = "LRBOOK_BENCHMARK_SPANS "
COMPILE_EVENTS = "/jax/core/compile/"
BACKEND_EVENT = "/jax/core/compile/backend_compile_duration"

# Names start with _lrbook_benchmark so that no chapter variable is touched.
PREAMBLE = """\
import jax.monitoring as _lrbook_benchmark_monitoring

_lrbook_benchmark_spans = []
_lrbook_benchmark_monitoring.register_event_time_span_listener(
    lambda event, start, end, **_: _lrbook_benchmark_spans.append(
        (event, start, end)
    )
)
"""

REPORT = f"""\
import json as _lrbook_benchmark_json
import sys as _lrbook_benchmark_sys

print({MARKER!r} + _lrbook_benchmark_json.dumps({{
    "python": _lrbook_benchmark_sys.executable,
    "spans": _lrbook_benchmark_spans,
}}))
"""


def union_length(spans: list[tuple[float, float]]) -> float:
    """Total length covered by possibly overlapping intervals (start, end)."""
    total, reach = 0.0, float("-inf")
    for start, end in sorted(spans):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


def _cell_seconds(cell) -> float:
    timing = cell.get("metadata", {}).get("execution", {})
    try:
        start = datetime.datetime.fromisoformat(timing["iopub.execute_input"])
        end = datetime.datetime.fromisoformat(timing["shell.execute_reply"])
    except KeyError:
        return 0.0
    return (end - start).total_seconds()


def run_notebook(path: Path, timeout: int) -> dict:
    """Execute one notebook in memory and return its timings."""
    notebook = nbformat.read(path, as_version=4)
    n_code = sum(cell.cell_type == "code" for cell in notebook.cells)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(PREAMBLE))
    notebook.cells.append(nbformat.v4.new_code_cell(REPORT))
    client = NotebookClient(
        notebook, timeout=timeout, kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    error = ""
    start = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as exc:
        error = f"{exc.ename}: {exc.evalue}"
    except (CellTimeoutError, DeadKernelError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    wall = time.perf_counter() - start

    spans, python = None, ""
    last = notebook.cells[-1]
    text = "".join(output.get("text", "") for output in last.get("outputs", [])
                   if output.get("name") == "stdout")
    for line in text.splitlines():
        if line.startswith(MARKER):
            payload = json.loads(line[len(MARKER):])
            spans, python = payload["spans"], payload["python"]
    if spans is None:
        # The report cell did not run (a cell failed): compile time unknown.
        jax_compile = xla_compile = None
    else:
        jax_compile = union_length([(s, e) for event, s, e in spans
                                    if event.startswith(COMPILE_EVENTS)])
        xla_compile = union_length([(s, e) for event, s, e in spans
                                    if event == BACKEND_EVENT])
    return {
        "chapter": path.name,
        "code_cells": n_code,
        "status": "ok" if not error else "failed",
        "error": error,
        "wall_s": wall,
        "cells_s": sum(_cell_seconds(cell) for cell in notebook.cells[:-1]),
        "jax_compile_s": jax_compile,
        "xla_compile_s": xla_compile,
        "kernel_python": python,
    }


def _number(value: float | None, digits: int) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def report(results: list[dict], fmt: str) -> str:
    keys = ["wall_s", "cells_s", "jax_compile_s", "xla_compile_s"]
    if fmt == "csv":
        headers = ["chapter", "code_cells", "status", *keys, "error"]
        rows = [[_number(r[h], 3) if h in keys else str(r[h]) for h in headers]
                for r in results]
        return render(headers, rows, fmt)

    rows = [[r["chapter"], str(r["code_cells"]), r["status"],
             *(_number(r[k], 1) for k in keys)] for r in results]
    totals = {k: sum(r[k] for r in results if r[k] is not None) for k in keys}
    rows.append(["total", str(sum(r["code_cells"] for r in results)), "",
                 *(f"{totals[k]:.1f}" for k in keys)])
    headers = ["chapter", "code cells", "status", "wall (s)", "cells (s)",
               "JAX compile (s)", "XLA compile (s)"]
    slow = [r["chapter"] for r in results if r["wall_s"] >= CHAPTER_TARGET_S]
    pythons = sorted({r["kernel_python"] for r in results if r["kernel_python"]})
    bullet = "- " if fmt == "markdown" else ""
    lines = [
        "# Book execution time" if fmt == "markdown" else "Book execution time",
        "",
        f"{bullet}date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        f"{bullet}kernel python: {', '.join(pythons) or 'unknown'}",
        "",
        render(headers, rows, fmt),
        f"{bullet}every chapter under {CHAPTER_TARGET_S:g} s (wall): "
        + ("yes" if not slow else "no, " + ", ".join(slow)),
        f"{bullet}whole book under {BOOK_TARGET_S:g} s (wall): "
        + ("yes" if totals["wall_s"] < BOOK_TARGET_S else "no"),
    ]
    lines += [f"{bullet}{r['chapter']} failed: {r['error']}"
              for r in results if r["error"]]
    return "\n".join(lines) + "\n"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Execute every chapter and time it.")
    parser.add_argument("--chapters", type=Path, default=CHAPTERS,
                        help="folder of notebooks to run (default chapters/)")
    parser.add_argument("--format", choices=["markdown", "csv", "text"],
                        default="markdown")
    parser.add_argument("--output", type=Path,
                        help="write the report here instead of to stdout")
    parser.add_argument("--timeout", type=int, default=600,
                        help="per-cell timeout in seconds (default 600)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    paths = sorted(args.chapters.glob("*.ipynb"))
    if not paths:
        print(f"no notebooks in {args.chapters}; pass --chapters DIR.",
              file=sys.stderr)
        return 1
    results = []
    for path in paths:
        print(f"running {path.name} ...", file=sys.stderr, flush=True)
        results.append(run_notebook(path, args.timeout))
        print(f"  {results[-1]['status']} in {results[-1]['wall_s']:.1f} s",
              file=sys.stderr, flush=True)

    text = report(results, args.format)
    if args.output:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 1 if any(r["error"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
