"""The project's set-up: lock files, CI script, workflows, lint."""

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def requirements(*extras: str) -> dict[str, Requirement]:
    project = PYPROJECT["project"]
    lines = list(project["dependencies"])
    for extra in extras:
        lines += project["optional-dependencies"][extra]
    parsed = [Requirement(line) for line in lines]
    return {canonicalize_name(req.name): req for req in parsed}


def locked(path: Path) -> dict[str, list[str]]:
    """Package name -> pinned versions (one per environment marker)."""
    pins: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
        if match:
            name = canonicalize_name(match.group(1))
            pins.setdefault(name, []).append(match.group(2))
    return pins


@pytest.mark.parametrize(
    ("lock", "extras"),
    [("test.lock", ("test",)), ("book.lock", ("test", "book", "bench"))],
)
def test_lock_pins_every_dependency_within_its_bounds(lock, extras):
    pins = locked(ROOT / "requirements" / lock)
    wanted = requirements(*extras)
    missing = sorted(set(wanted) - set(pins))
    assert not missing, f"{lock} lacks {missing}; regenerate it (see its header)"
    for name, requirement in wanted.items():
        for version in pins[name]:
            assert requirement.specifier.contains(version, prereleases=True), (
                f"{lock} pins {name}=={version}, outside {requirement}"
            )


def test_ci_never_installs_quarto_cli():
    assert "quarto-cli" not in locked(ROOT / "requirements" / "test.lock")
    assert "quarto-cli" not in {
        canonicalize_name(Requirement(r).name)
        for r in PYPROJECT["project"]["optional-dependencies"]["test"]
    }


def test_ci_script_sets_up_from_the_lock_and_runs_the_readme_command():
    script = (ROOT / ".ci" / "run").read_text()
    assert "python3 -m venv" in script
    assert "-r requirements/test.lock" in script
    readme = (ROOT / "README.md").read_text()
    # The README's test command is the last command of its quick start.
    commands = re.findall(r"```bash\n(.*?)\n```", readme, flags=re.S)
    assert "pytest" in commands
    assert script.rstrip().splitlines()[-1] == "pytest"


@pytest.mark.parametrize("workflow", ["test.yml", "publish.yml"])
def test_workflows_are_valid_and_name_real_actions(workflow):
    text = (ROOT / ".github" / "workflows" / workflow).read_text()
    config = yaml.safe_load(text)
    assert config["jobs"]
    uses = re.findall(r"uses:\s*([\w\-./]+)@([\w.\-]+)", text)
    known = {
        "actions/checkout", "actions/setup-python", "actions/upload-pages-artifact",
        "actions/deploy-pages", "actions/configure-pages",
        "quarto-dev/quarto-actions/setup",
    }
    assert uses, "a workflow with no actions"
    for action, version in uses:
        assert action in known, f"unexpected action {action}"
        assert re.fullmatch(r"v\d+(\.\d+)*", version), f"{action}@{version}"


def test_test_workflow_installs_from_the_lock_on_two_pythons():
    config = yaml.safe_load((ROOT / ".github/workflows/test.yml").read_text())
    text = (ROOT / ".github/workflows/test.yml").read_text()
    versions = config["jobs"]["locked"]["strategy"]["matrix"]["python-version"]
    assert set(versions) == {"3.11", "3.12"}
    assert "requirements/test.lock" in text and "schedule" in text


def test_ruff_is_clean():
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    result = subprocess.run(
        [ruff, "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
