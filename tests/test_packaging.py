"""The install story: environment.yml, pyproject.toml, README and CI agree with each other."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

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


def test_torch_pins_admit_the_installed_release():
    deps = _pyproject()["project"]["dependencies"]
    assert "torch>=2.4,<=2.14.1" in deps and "torchvision>=0.19,<=0.29.1" in deps
    assert any(d.startswith("opencv-python-headless") and "<5" in d for d in deps)  # 5 dropped CascadeClassifier


def test_ci_runs_the_readme_set_up_and_test_command():
    readme = (REPO / "README.md").read_text()
    ci = [line.strip() for line in (REPO / ".ci" / "run").read_text().splitlines()]
    set_up = [line for line in _code_blocks(readme, "Set up") if line.startswith("pip install")]
    assert set_up and all(line in ci for line in set_up)
    test_command = next(line for line in _code_blocks(readme, "Run") if "pytest" in line)
    assert [line for line in ci if line and not line.startswith("#")][-1] == test_command
