"""The API reference: every public object documented, and quartodoc builds."""

import importlib
import inspect
import logging
import pkgutil
import re
import shutil
import subprocess
import sys
from pathlib import Path

import griffe
import pytest
import yaml

import lrbook

ROOT = Path(__file__).resolve().parent.parent
QUARTODOC = yaml.safe_load((ROOT / "_quarto.yml").read_text())["quartodoc"]

MODULES = sorted(
    info.name for info in pkgutil.iter_modules(lrbook.__path__)
    if not info.name.startswith("_")
)


def public_objects():
    for module_name in MODULES:
        module = importlib.import_module(f"lrbook.{module_name}")
        for name in module.__all__:
            yield module_name, name, getattr(module, name)


PUBLIC = list(public_objects())
DOCUMENTED = [
    (module, name, obj) for module, name, obj in PUBLIC
    if inspect.isfunction(obj) or inspect.isclass(obj)
]


def listed_in_reference() -> set[str]:
    return {
        entry if isinstance(entry, str) else entry["name"]
        for section in QUARTODOC["sections"]
        for entry in section["contents"]
    }


def test_every_module_declares_its_public_names():
    for module_name in MODULES:
        module = importlib.import_module(f"lrbook.{module_name}")
        assert hasattr(module, "__all__"), f"lrbook.{module_name} lacks __all__"
        assert module.__doc__, f"lrbook.{module_name} lacks a module docstring"


def test_every_public_function_and_class_is_in_the_reference():
    listed = listed_in_reference()
    missing = [
        f"{module}.{name}" for module, name, _ in DOCUMENTED
        if f"{module}.{name}" not in listed
    ]
    assert not missing, f"add these to the quartodoc sections: {missing}"


@pytest.mark.parametrize(
    ("module", "name", "obj"), DOCUMENTED, ids=[f"{m}.{n}" for m, n, _ in DOCUMENTED]
)
def test_docstring_is_complete_and_parses(module, name, obj, caplog):
    doc = inspect.getdoc(obj)
    assert doc, f"lrbook.{module}.{name} has no docstring"
    # An exception or warning class is shown where it is raised, not run.
    if not (inspect.isclass(obj) and issubclass(obj, BaseException)):
        assert re.search(r"^Examples\n-{8}", doc, flags=re.M), "no Examples"
        assert ">>>" in doc, "the Examples section has no runnable example"
    assert re.search(r"\b[Cc]hapters? \d", doc), "no line naming the chapter"

    try:
        parameters = inspect.signature(obj).parameters.values()
    except ValueError:  # exception classes with C-level constructors
        parameters = []
    takes_arguments = any(p.name not in ("self", "cls") for p in parameters)
    with caplog.at_level(logging.WARNING):
        sections = griffe.Docstring(doc, lineno=1).parse("numpy")
    warnings = [r.getMessage() for r in caplog.records if "griffe" in r.name]
    assert not warnings, warnings
    kinds = {section.kind.value for section in sections}
    if takes_arguments:
        # A result class documents its fields as attributes.
        expected = {"parameters", "attributes"} if inspect.isclass(obj) else {
            "parameters"
        }
        assert kinds & expected, "no Parameters section"


def test_quartodoc_builds_the_reference(tmp_path):
    shutil.copy(ROOT / "_quarto.yml", tmp_path / "_quarto.yml")
    result = subprocess.run(
        [sys.executable, "-m", "quartodoc", "build", "--config", "_quarto.yml"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    pages = {path.stem for path in (tmp_path / "reference").glob("*.qmd")}
    assert "index" in pages
    for entry in listed_in_reference():
        assert entry in pages, f"no page for {entry}"
