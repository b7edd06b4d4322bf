"""Checks on the book as a whole.

The chapter list in ``_quarto.yml``, each chapter's front matter and stored
state, figure options, cross-references, citations and local links.

Each ``check_*`` function takes a notebook, text or path and returns a list of
problems, each a sentence that names the place, the rule and the fix. The
tests near the end run them on every chapter, parametrised so that a failure
names the chapter; the tests at the very end run them on small notebooks
written to ``tmp_path``, so the checkers themselves are tested too.
"""

from __future__ import annotations

import functools
import re
import textwrap
from collections.abc import Iterable
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
QUARTO_CONFIG = ROOT / "_quarto.yml"
BIBLIOGRAPHY = ROOT / "references.bib"
CHAPTER_DIR = ROOT / "chapters"
KERNEL_NAME = "python3"

# Quarto's cross-reference types: `@fig-x` refers to a label, while an `@key`
# without one of these prefixes is a citation.
CROSSREF_TYPES = (
    "fig", "tbl", "eq", "sec", "lst", "thm", "lem", "cor",
    "prp", "cnj", "def", "exm", "exr", "sol", "rem",
)  # fmt: skip
_TYPES = "|".join(CROSSREF_TYPES)

# A pandoc citation key: punctuation may sit inside a key but not end it, so
# "@fig-loss." refers to `fig-loss`. The look-behind skips e-mail addresses
# (a word character before `@`), "@@" and an escaped "\@".
AT_REFERENCE = re.compile(r"(?<![\w@\\])@(\w(?:\w|[-:.#$%&+?<>~/](?=\w))*)")

# Labels: `{#eq-x}` after `$$`, `{#sec-x}` on a heading, `{#fig-x}` on an
# image or div, and `#| label: fig-x` in a code cell or chunk.
ATTRIBUTE_LABEL = re.compile(rf"\{{#((?:{_TYPES})-[\w-]+)")
OPTION_LABEL = re.compile(rf"^#\|\s*label:\s*[\"']?((?:{_TYPES})-[\w-]+)", re.MULTILINE)

FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
INLINE_CODE = re.compile(r"(`+).+?\1", re.DOTALL)
HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
URL = re.compile(r"<?[a-zA-Z][\w+.-]*://[^\s>)]*>?")
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")

# Lines that look pasted from a cell's output rather than computed by one.
HARDCODED_OUTPUT = (
    (re.compile(r"^\s*Out\[\d*\]:"), "a Jupyter 'Out[n]:' prompt"),
    (re.compile(r"^\s*>>> "), "a Python '>>>' prompt"),
    (re.compile(r"^\s*(?:Array|DeviceArray|array)\(\["), "a printed array"),
    (re.compile(r"\], dtype=\w+\)"), "a printed array's dtype"),
    (re.compile(r"^\s*={20,}\s*$"), "a rule from a printed summary table"),
    (re.compile(r"Regression Results\s*$"), "a statsmodels summary title"),
    (re.compile(r"^\s*<(?:Figure size|ggplot)"), "a printed figure object"),
    (re.compile(r"^\s*Traceback \(most recent call last\)"), "a traceback"),
)

Markdown = list[tuple[str, str]]  # (where, text) pairs


# ---------------------------------------------------------------- loading


def load_config(path: Path = QUARTO_CONFIG) -> dict:
    """Return the parsed ``_quarto.yml``."""
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def listed_files(config: dict) -> list[str]:
    """Return the files that ``book: chapters`` and ``appendices`` list.

    Parts are walked; a part given as a file (``part: intro.qmd``) counts
    as a listed file too.
    """
    book = config.get("book") or {}
    found: list[str] = []

    def walk(items: Iterable) -> None:
        for item in items or ():
            if isinstance(item, str):
                found.append(item)
            elif isinstance(item, dict) and "part" in item:
                part = str(item["part"])
                if part.endswith((".qmd", ".ipynb", ".md")):
                    found.append(part)
                walk(item.get("chapters"))
            elif isinstance(item, dict):
                target = item.get("href") or item.get("file")
                if target:
                    found.append(str(target))

    walk(book.get("chapters"))
    walk(book.get("appendices"))
    return found


def generated_dirs(config: dict) -> tuple[str, ...]:
    """Return folders that a build step writes (the API reference)."""
    quartodoc = config.get("quartodoc") or {}
    return (str(quartodoc.get("dir", "reference")).strip("/") + "/",)


def chapter_notebooks() -> list[Path]:
    return sorted(CHAPTER_DIR.glob("*.ipynb"))


def qmd_files() -> list[Path]:
    return sorted(ROOT.glob("*.qmd")) + sorted(CHAPTER_DIR.glob("*.qmd"))


def read_notebook(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def bib_keys(path: Path = BIBLIOGRAPHY) -> list[str]:
    """Return the entry keys of a BibTeX file, in order, repeats included."""
    text = path.read_text(encoding="utf-8")
    return re.findall(r"^\s*@\w+\s*\{\s*([^,\s]+)\s*,", text, re.MULTILINE)


def markdown_cells(nb: nbformat.NotebookNode) -> Markdown:
    return [
        (f"cell {i}", cell.source)
        for i, cell in enumerate(nb.cells, start=1)
        if cell.cell_type == "markdown"
    ]


def notebook_labels(nb: nbformat.NotebookNode) -> list[str]:
    """Return every cross-reference label a notebook defines."""
    labels = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            labels += ATTRIBUTE_LABEL.findall(cell.source)
        elif cell.cell_type == "code":
            labels += OPTION_LABEL.findall(cell.source)
    return labels


def text_labels(text: str) -> list[str]:
    """Return every cross-reference label a ``.qmd`` file defines."""
    return ATTRIBUTE_LABEL.findall(text) + OPTION_LABEL.findall(text)


def cell_options(source: str) -> dict:
    """Parse the ``#|`` option lines at the top of a code cell as YAML."""
    lines = []
    for line in source.splitlines():
        if not line.startswith("#|"):
            break
        lines.append(line[2:])
    if not lines:
        return {}
    options = yaml.safe_load(textwrap.dedent("\n".join(lines)))
    return options if isinstance(options, dict) else {}


def drop_code_blocks(text: str) -> str:
    """Remove fenced code blocks (and so code chunks in a ``.qmd``)."""
    kept, fence = [], ""
    for line in text.splitlines():
        match = FENCE.match(line)
        if not fence:
            if match:
                fence = match.group(1)
            else:
                kept.append(line)
        elif match and match.group(1)[0] == fence[0]:
            # A fence closes on the same character, at least as long.
            if len(match.group(1)) >= len(fence):
                fence = ""
    return "\n".join(kept)


def prose_only(text: str, keep_urls: bool = False) -> str:
    """Drop code blocks, code spans, comments and (optionally) URLs.

    What is left is where pandoc looks for citations and cross-references,
    so decorators such as ``@jax.jit`` in code are not mistaken for them.
    """
    prose = HTML_COMMENT.sub("", drop_code_blocks(text))
    prose = INLINE_CODE.sub("", prose)
    return prose if keep_urls else URL.sub("", prose)


# ---------------------------------------------------------------- checks


def check_front_matter(
    nb: nbformat.NotebookNode, quarto_keys: Iterable[str] = ()
) -> list[str]:
    """The first cell is a raw cell of YAML between ``---`` lines, with a
    ``title`` and no key that ``_quarto.yml`` already sets."""
    fix = "Make the first cell a raw cell: '---', 'title: ...', '---'."
    if not nb.cells or nb.cells[0].cell_type != "raw":
        kind = nb.cells[0].cell_type if nb.cells else "no cell"
        return [f"The first cell must be a raw front-matter cell; found {kind}. {fix}"]
    lines = nb.cells[0].source.strip().splitlines()
    if len(lines) < 2 or lines[0].strip() != "---" or lines[-1].strip() != "---":
        return [f"The front matter must start and end with a '---' line. {fix}"]
    try:
        meta = yaml.safe_load("\n".join(lines[1:-1]))
    except yaml.YAMLError as err:
        return [f"The front matter is not valid YAML ({err}). {fix}"]
    if not isinstance(meta, dict):
        return [f"The front matter must be a YAML mapping; got {meta!r}. {fix}"]
    problems = []
    title = meta.get("title")
    if not isinstance(title, str) or not title.strip():
        problems.append(f"The front matter needs a non-empty 'title'; got {title!r}.")
    repeated = sorted(set(meta) & set(quarto_keys) - {"title"})
    if repeated:
        problems.append(
            f"The front matter repeats keys that _quarto.yml sets: {repeated}. "
            "Set them once, in _quarto.yml."
        )
    return problems


def check_stored_without_outputs(nb: nbformat.NotebookNode) -> list[str]:
    """Code cells carry no outputs and no execution count."""
    problems = []
    for i, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code":
            continue
        stored = []
        if cell.get("outputs"):
            stored.append(f"{len(cell.outputs)} output(s)")
        if cell.get("execution_count") is not None:
            stored.append(f"execution count {cell.execution_count}")
        if stored:
            problems.append(
                f"cell {i} is stored with {' and '.join(stored)}. "
                "Strip outputs with nbstripout (the pre-commit hook does it)."
            )
    return problems


def check_kernelspec(nb: nbformat.NotebookNode) -> list[str]:
    name = (nb.metadata.get("kernelspec") or {}).get("name")
    if name != KERNEL_NAME:
        return [
            f"The kernelspec name must be {KERNEL_NAME!r}; got {name!r}. "
            f"Select the {KERNEL_NAME!r} kernel and save the notebook."
        ]
    return []


def check_figure_options(nb: nbformat.NotebookNode) -> list[str]:
    """Every code cell labelled ``fig-…`` has a non-empty caption and alt."""
    problems = []
    for i, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code":
            continue
        try:
            options = cell_options(cell.source)
        except yaml.YAMLError as err:
            problems.append(f"cell {i}: its '#|' options are not valid YAML ({err}).")
            continue
        label = str(options.get("label", ""))
        if not label.startswith("fig-"):
            continue
        for key in ("fig-cap", "fig-alt"):
            value = options.get(key)
            texts = value if isinstance(value, list) else [value]
            if not all(isinstance(t, str) and t.strip() for t in texts):
                problems.append(
                    f"cell {i} ({label}) needs a non-empty '#| {key}:'; got {value!r}."
                )
    return problems


def check_cross_references(markdown: Markdown, labels: Iterable[str]) -> list[str]:
    """Every ``@fig-…``, ``@eq-…``, ``@sec-…``, ``@tbl-…`` names a label."""
    known, problems = set(labels), []
    for where, text in markdown:
        for ref in AT_REFERENCE.findall(prose_only(text)):
            kind = ref.split("-", 1)[0]
            if kind in CROSSREF_TYPES and "-" in ref and ref not in known:
                problems.append(
                    f"{where}: @{ref} matches no label in the book. "
                    f"Define the label {ref!r} or fix the reference."
                )
    return problems


def check_citations(markdown: Markdown, keys: Iterable[str]) -> list[str]:
    """Every ``@key`` that is not a cross-reference is in references.bib."""
    known, problems = set(keys), []
    for where, text in markdown:
        for ref in AT_REFERENCE.findall(prose_only(text)):
            kind = ref.split("-", 1)[0]
            if kind in CROSSREF_TYPES and "-" in ref:
                continue
            if ref not in known:
                problems.append(
                    f"{where}: @{ref} is not a key in references.bib. "
                    "Add the entry or fix the key."
                )
    return problems


def check_no_hardcoded_output(markdown: Markdown) -> list[str]:
    """Markdown holds no lines pasted from a cell's output."""
    problems = []
    for where, text in markdown:
        for line in HTML_COMMENT.sub("", text).splitlines():
            for pattern, what in HARDCODED_OUTPUT:
                if pattern.search(line):
                    problems.append(
                        f"{where}: {line.strip()!r} looks like {what}. "
                        "Compute it in a code cell instead of pasting it."
                    )
                    break
    return problems


def check_local_links(
    markdown: Markdown, base: Path, skip: Iterable[str] = ()
) -> list[str]:
    """Relative links and images point at files that exist.

    ``skip`` holds folders, relative to the book's root, that a build step
    writes (such as the API reference), so links into them are not checked.
    """
    problems = []
    for where, text in markdown:
        for target in LINK.findall(prose_only(text, keep_urls=True)):
            path_part = re.split(r"[#?]", target, maxsplit=1)[0]
            if not path_part or re.match(r"[a-zA-Z][\w+.-]*:", target):
                continue  # an anchor on this page, or a URL
            if path_part.startswith("/"):
                path = ROOT / path_part.lstrip("/")  # relative to the book
            else:
                path = base / path_part
            relative = path.resolve().as_posix()
            root = ROOT.resolve().as_posix() + "/"
            if any(relative.startswith(root + folder) for folder in skip):
                continue
            if not path.exists():
                problems.append(
                    f"{where}: the link target {target!r} does not exist. "
                    "Fix the path or add the file."
                )
    return problems


def notebook_problems(
    path: Path,
    labels: Iterable[str],
    keys: Iterable[str],
    quarto_keys: Iterable[str] = (),
) -> list[str]:
    """Run every per-notebook check on the notebook at ``path``."""
    nb = read_notebook(path)
    markdown = markdown_cells(nb)
    labels = set(labels) | set(notebook_labels(nb))
    return (
        check_front_matter(nb, quarto_keys)
        + check_stored_without_outputs(nb)
        + check_kernelspec(nb)
        + check_figure_options(nb)
        + check_cross_references(markdown, labels)
        + check_citations(markdown, keys)
        + check_no_hardcoded_output(markdown)
        + check_local_links(markdown, path.parent)
    )


# ------------------------------------------------------- the book's state


@functools.cache
def book_config() -> dict:
    return load_config()


@functools.cache
def book_labels() -> dict[str, list[str]]:
    """Map every label in the book to the places that define it."""
    places: dict[str, list[str]] = {}
    for path in chapter_notebooks():
        for label in notebook_labels(read_notebook(path)):
            places.setdefault(label, []).append(path.name)
    for path in qmd_files():
        for label in text_labels(path.read_text(encoding="utf-8")):
            places.setdefault(label, []).append(path.name)
    return places


def _report(problems: list[str], where: str) -> str:
    return f"{where}:\n  " + "\n  ".join(problems)


NOTEBOOKS = chapter_notebooks()
QMD_FILES = qmd_files()
LISTED = listed_files(load_config()) if QUARTO_CONFIG.exists() else []
GENERATED = generated_dirs(load_config()) if QUARTO_CONFIG.exists() else ()
by_name = pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
qmd_by_name = pytest.mark.parametrize("path", QMD_FILES, ids=lambda p: p.name)


# ----------------------------------------------------- tests: the config


def test_quarto_config_executes_and_freezes():
    execute = book_config().get("execute") or {}
    assert execute.get("enabled") is True, (
        f"_quarto.yml must set execute: enabled: true; got {execute!r}."
    )
    assert execute.get("freeze") == "auto", (
        f"_quarto.yml must set execute: freeze: auto; got {execute!r}."
    )


def test_quarto_config_is_a_book_with_a_bibliography():
    config = book_config()
    assert (config.get("project") or {}).get("type") == "book"
    assert config.get("bibliography") == BIBLIOGRAPHY.name
    assert BIBLIOGRAPHY.exists()


def test_bibliography_keys_are_unique():
    keys = bib_keys()
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    assert keys, "references.bib holds no entries."
    assert not repeated, f"references.bib defines these keys twice: {repeated}."


def test_references_page_places_the_bibliography():
    text = (ROOT / "references.qmd").read_text(encoding="utf-8")
    assert re.search(r"^::: *\{#refs\}", text, re.MULTILINE), (
        "references.qmd needs a '::: {#refs}' div where the bibliography goes."
    )


@pytest.mark.parametrize("listed", [p for p in LISTED if not p.startswith(GENERATED)])
def test_listed_file_exists(listed):
    assert (ROOT / listed).exists(), (
        f"_quarto.yml lists {listed}, which does not exist. "
        "Add the file or remove it from book: chapters."
    )


def test_no_file_is_listed_twice():
    repeated = sorted({p for p in LISTED if LISTED.count(p) > 1})
    assert not repeated, f"_quarto.yml lists these files twice: {repeated}."


@by_name
def test_notebook_is_listed(path):
    relative = path.relative_to(ROOT).as_posix()
    assert relative in LISTED, (
        f"{relative} is not listed in _quarto.yml. "
        "Add it under the right part in book: chapters."
    )


def test_labels_are_unique_across_the_book():
    repeated = {k: v for k, v in book_labels().items() if len(v) > 1}
    assert not repeated, f"Labels defined more than once: {repeated}."


# --------------------------------------------------- tests: each chapter


@by_name
def test_notebook_is_valid_nbformat(path):
    nbformat.validate(read_notebook(path))


@by_name
def test_front_matter(path):
    problems = check_front_matter(read_notebook(path), set(book_config()))
    assert not problems, _report(problems, path.name)


@by_name
def test_stored_without_outputs(path):
    problems = check_stored_without_outputs(read_notebook(path))
    assert not problems, _report(problems, path.name)


@by_name
def test_kernelspec(path):
    problems = check_kernelspec(read_notebook(path))
    assert not problems, _report(problems, path.name)


@by_name
def test_figures_have_caption_and_alt_text(path):
    problems = check_figure_options(read_notebook(path))
    assert not problems, _report(problems, path.name)


@by_name
def test_cross_references_resolve(path):
    markdown = markdown_cells(read_notebook(path))
    problems = check_cross_references(markdown, book_labels())
    assert not problems, _report(problems, path.name)


@by_name
def test_citations_are_in_the_bibliography(path):
    markdown = markdown_cells(read_notebook(path))
    problems = check_citations(markdown, bib_keys())
    assert not problems, _report(problems, path.name)


@by_name
def test_no_hardcoded_output(path):
    problems = check_no_hardcoded_output(markdown_cells(read_notebook(path)))
    assert not problems, _report(problems, path.name)


@by_name
def test_local_links_resolve(path):
    markdown = markdown_cells(read_notebook(path))
    problems = check_local_links(markdown, path.parent, GENERATED)
    assert not problems, _report(problems, path.name)


@qmd_by_name
def test_qmd_references_citations_and_links(path):
    markdown = [(path.name, path.read_text(encoding="utf-8"))]
    problems = (
        check_cross_references(markdown, book_labels())
        + check_citations(markdown, bib_keys())
        + check_no_hardcoded_output(markdown)
        + check_local_links(markdown, path.parent, GENERATED)
    )
    assert not problems, _report(problems, path.name)


# ------------------------------------------------ tests: the checkers


def _notebook(cells, kernel=KERNEL_NAME) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": kernel,
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def _front(title="A chapter") -> nbformat.NotebookNode:
    return nbformat.v4.new_raw_cell(f"---\ntitle: {title}\n---")


GOOD_FIGURE = """\
#| label: fig-loss
#| fig-cap: The loss falls fast, then levels off.
#| fig-alt: >-
#|   A curve that drops steeply over the first ten steps
#|   and is flat after fifty.
plot_loss_curves(history)"""


def _good_notebook() -> nbformat.NotebookNode:
    return _notebook(
        [
            _front(),
            nbformat.v4.new_markdown_cell(
                "We follow @mccullagh1989 [see also @nocedal2006, ch. 2].\n"
                "Write to someone@example.com; @fig-loss shows the fit.\n"
                "$$\nJ = -\\frac{1}{n}\\sum_i \\ell_i\n$$ {#eq-loss}\n"
                "Minimising @eq-loss with `@jax.jit` is quick."
            ),
            nbformat.v4.new_code_cell("@jax.jit\ndef step(x):\n    return x"),
            nbformat.v4.new_code_cell(GOOD_FIGURE),
            nbformat.v4.new_markdown_cell(
                "## Summary {#sec-summary}\n\nSee @sec-summary."
            ),
        ]
    )


def _write(nb: nbformat.NotebookNode, path: Path) -> Path:
    nbformat.write(nb, path)
    return path


@pytest.fixture
def good_notebook(tmp_path) -> Path:
    return _write(_good_notebook(), tmp_path / "01-good.ipynb")


@pytest.fixture
def bad_notebook(tmp_path) -> Path:
    figure = nbformat.v4.new_code_cell(
        "#| label: fig-probability\n#| fig-cap: The curve is S-shaped.\nplot()"
    )
    figure.execution_count = 3
    figure.outputs = [nbformat.v4.new_output("stream", name="stdout", text="done\n")]
    nb = _notebook(
        [
            _front(),
            nbformat.v4.new_markdown_cell(
                "As @fig-missing shows, and as @nobody2099 argued.\n"
                "```\nOut[3]: Array([0.5, 0.7], dtype=float32)\n```"
            ),
            figure,
        ]
    )
    return _write(nb, tmp_path / "02-bad.ipynb")


KEYS = ("mccullagh1989", "nocedal2006")


def test_good_notebook_passes_every_check(good_notebook):
    assert notebook_problems(good_notebook, labels=(), keys=KEYS) == []


def test_bad_notebook_fails_the_right_checks(bad_notebook):
    problems = "\n".join(notebook_problems(bad_notebook, labels=(), keys=KEYS))
    assert "@fig-missing matches no label" in problems
    assert "@nobody2099 is not a key" in problems
    assert "'#| fig-alt:'" in problems
    assert "'#| fig-cap:'" not in problems
    assert "1 output(s) and execution count 3" in problems
    assert "looks like a Jupyter 'Out[n]:' prompt" in problems


def test_labels_are_collected_from_cells_and_attributes():
    labels = set(notebook_labels(_good_notebook()))
    assert labels == {"fig-loss", "eq-loss", "sec-summary"}


def test_labels_in_other_chapters_resolve_cross_references():
    markdown = [("cell 2", "Compare @fig-elsewhere with @tbl-coef.")]
    assert check_cross_references(markdown, {"fig-elsewhere", "tbl-coef"}) == []
    assert len(check_cross_references(markdown, {"fig-elsewhere"})) == 1


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("[@a2020; @b-c2021, p. 3]", ["a2020", "b-c2021"]),
        ("[-@a2020] said so.", ["a2020"]),
        ("@fig-loss. Then", ["fig-loss"]),
        ("mail me@example.org", []),
        ("escaped \\@name", []),
        ("code `@jax.jit` here", []),
        ("```python\n@jax.jit\ndef f(x): ...\n```", []),
        ("see <https://example.org/@handle>", []),
        ("<!-- @draft2020 -->", []),
    ],
)
def test_reference_pattern(text, found):
    assert AT_REFERENCE.findall(prose_only(text)) == found


def test_front_matter_problems():
    missing_title = _notebook([nbformat.v4.new_raw_cell("---\nauthor: x\n---")])
    assert "non-empty 'title'" in check_front_matter(missing_title)[0]
    markdown_first = _notebook([nbformat.v4.new_markdown_cell("# Title")])
    assert "found markdown" in check_front_matter(markdown_first)[0]
    no_fences = _notebook([nbformat.v4.new_raw_cell("title: x")])
    assert "'---'" in check_front_matter(no_fences)[0]
    repeats = _notebook([nbformat.v4.new_raw_cell("---\ntitle: x\nexecute: {}\n---")])
    assert "['execute']" in check_front_matter(repeats, {"execute", "book"})[0]


def test_kernelspec_problem():
    assert check_kernelspec(_notebook([], kernel="jax")) != []
    assert check_kernelspec(_notebook([])) == []


def test_figure_cell_with_empty_alt_or_bad_yaml():
    empty_alt = nbformat.v4.new_code_cell(
        "#| label: fig-x\n#| fig-cap: A finding.\n#| fig-alt: ''\nplot()"
    )
    bad_yaml = nbformat.v4.new_code_cell("#| label: [fig-x\nplot()")
    problems = check_figure_options(_notebook([empty_alt, bad_yaml]))
    assert "needs a non-empty '#| fig-alt:'" in problems[0]
    assert "not valid YAML" in problems[1]


def test_hardcoded_output_patterns():
    markdown = [
        ("cell 1", ">>> fit(X, y)"),
        ("cell 2", "=========================================="),
        ("cell 3", "                 Logit Regression Results"),
        ("cell 4", "We pass `dtype=jnp.float32` to keep memory low."),
    ]
    problems = check_no_hardcoded_output(markdown)
    assert [p.split(":")[0] for p in problems] == ["cell 1", "cell 2", "cell 3"]


def test_local_links(tmp_path):
    (tmp_path / "02-next.ipynb").write_text("{}", encoding="utf-8")
    markdown = [
        (
            "cell 1",
            "See [the next chapter](02-next.ipynb#sec-a), "
            "[the docs](https://jax.readthedocs.io), [above](#sec-b) "
            "and [a lost one](03-gone.ipynb).",
        )
    ]
    problems = check_local_links(markdown, tmp_path)
    assert len(problems) == 1 and "'03-gone.ipynb'" in problems[0]


def test_listed_files_walks_parts_and_appendices():
    config = {
        "book": {
            "chapters": [
                "index.qmd",
                {"part": "intro.qmd", "chapters": ["a.ipynb"]},
                {"part": "Fitting", "chapters": ["b.ipynb", {"href": "c.ipynb"}]},
                "references.qmd",
            ],
            "appendices": ["reference/index.qmd"],
        }
    }
    assert listed_files(config) == [
        "index.qmd", "intro.qmd", "a.ipynb", "b.ipynb", "c.ipynb",
        "references.qmd", "reference/index.qmd",
    ]  # fmt: skip
