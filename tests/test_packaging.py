"""The install story: environment.yml, pyproject.toml, README and CI agree with each other."""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

import tomllib
import yaml
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def _code_blocks(markdown: str, section: str) -> list[str]:
    """Lines of the fenced code blocks under the ``## section`` heading of the README."""
    part = re.split(r"^## ", markdown, flags=re.M)
    body = next(p for p in part if p.lower().startswith(section.lower()))
    blocks = re.findall(r"```(?:bash|sh)?\n(.*?)```", body, flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def test_environment_yml_lists_the_same_requirements_as_pyproject():
    project = _pyproject()["project"]
    extras = project["optional-dependencies"]
    expected = set(project["dependencies"]) | {r for name, reqs in extras.items() if name != "all" for r in reqs}
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = {r for r in pip_section if not r.startswith("-e ")}
    assert listed == expected
    assert "-e .[all]" in pip_section
    assert "python=3.11" in env["dependencies"] and "conda-forge" in env["channels"]


def test_installed_releases_satisfy_the_pins():
    """torch and torchvision as installed by the README's set-up, and every other dependency, fit pyproject's pins."""
    requirements = [Requirement(d) for d in _pyproject()["project"]["dependencies"]]
    assert {"torch", "torchvision"} <= {r.name for r in requirements}
    for requirement in requirements:
        installed = version(requirement.name)
        assert requirement.specifier.contains(installed, prereleases=True), f"{requirement.name} {installed}"


def test_opencv_is_pinned_below_5_which_dropped_cascade_classifier():
    opencv = next(Requirement(d) for d in _pyproject()["project"]["dependencies"] if d.startswith("opencv"))
    assert not opencv.specifier.contains("5.0") and opencv.specifier.contains("4.10")


def test_ci_runs_the_readme_set_up_and_test_command():
    readme = (REPO / "README.md").read_text()
    ci = [line.strip() for line in (REPO / ".ci" / "run").read_text().splitlines()]
    set_up = [line for line in _code_blocks(readme, "Set up") if line.startswith("pip install")]
    assert set_up and all(line in ci for line in set_up)
    test_command = next(line for line in _code_blocks(readme, "Run") if "pytest" in line)
    assert [line for line in ci if line and not line.startswith("#")][-1] == test_command
