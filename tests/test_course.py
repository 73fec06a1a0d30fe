"""The course as a product: one repository URL behind every badge and Colab cell, the same help in every lesson,
the students' notebooks, and the instructors' batch with its summary table."""

from __future__ import annotations

import csv
import re
import sys
import types
from pathlib import Path

import pytest
import tomllib

nbformat = pytest.importorskip("nbformat")

from cyclegan_lite import course  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
LESSONS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
URL = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
OWNER_REPO = URL.removeprefix("https://github.com/")
README = (REPO / "README.md").read_text()


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def _colab_cell(nb):
    return next(c for c in nb.cells if c.cell_type == "code")


# -- one repository URL -----------------------------------------------------------------------------------------

def test_the_repository_url_is_set_in_pyproject():
    assert re.fullmatch(r"https://github\.com/[A-Za-z0-9-]+/cyclegan-lite", URL), URL


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_title_has_a_colab_badge_for_this_lesson(path):
    title = _read(path).cells[0]
    link = f"https://colab.research.google.com/github/{OWNER_REPO}/blob/main/notebooks/{path.name}"
    assert title.cell_type == "markdown" and f"]({link})" in title.source, (
        f"{path.name}: the title cell needs the badge [![Open In Colab]({course.COLAB_BADGE_SVG})]({link}), "
        f"built from pyproject's [project.urls] Repository")


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_first_code_cell_installs_the_package_on_colab_only(path, monkeypatch):
    from IPython.core.inputtransformer2 import TransformerManager

    cell = _colab_cell(_read(path))
    assert f"git+{URL}\"" in cell.source, f"{path.name}: the Colab cell must install from {URL} (pyproject)"
    code = TransformerManager().transform_cell(cell.source)
    calls = []
    shell = types.SimpleNamespace(run_line_magic=lambda name, line: calls.append((name, line)))
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(code, {"get_ipython": lambda: shell})
    assert calls == [], f"{path.name}: the Colab cell must do nothing outside Colab"
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    exec(code, {"get_ipython": lambda: shell})
    assert len(calls) == 1 and calls[0][0] == "pip" and "cyclegan_lite" in calls[0][1] and URL in calls[0][1]


def test_readme_badges_and_urls_agree_with_pyproject():
    for path in LESSONS:
        link = f"https://colab.research.google.com/github/{OWNER_REPO}/blob/main/notebooks/{path.name}"
        assert f"]({link})" in README, f"README: no Colab badge for {path.name} ({link})"
    texts = {"README.md": README, **{p.name: p.read_text() for p in LESSONS}}
    for name, text in texts.items():
        for found in re.findall(r"github(?:\.com)?/([A-Za-z0-9-]+/cyclegan-lite)", text):
            assert found == OWNER_REPO, f"{name} points at {found}; pyproject says {OWNER_REPO}"


def test_readme_set_up_starts_with_the_clone_command():
    from test_packaging import _code_blocks

    lines = _code_blocks(README, "Set up")
    assert lines[:2] == [f"git clone {URL}", "cd cyclegan-lite"], lines[:2]


def test_device_and_smoke_help_is_the_same_in_every_lesson():
    import papermill

    helps = {p.stem: papermill.inspect_notebook(str(p)) for p in LESSONS}
    for name in ("DEVICE", "SMOKE"):
        texts = {lesson: params[name]["help"] for lesson, params in helps.items()}
        assert len(set(texts.values())) == 1, f"{name} is explained differently: {texts}"
    assert "mps" in helps[LESSONS[0].stem]["DEVICE"]["help"]


# -- the students' version --------------------------------------------------------------------------------------

def _exercise_notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# BEGIN SOLUTION in markdown is prose, left alone"),
                nbformat.v4.new_code_cell("def f(x):\n    # BEGIN SOLUTION\n    y = x * 2\n    return y\n"
                                          "    # END SOLUTION\n\n\nassert f(2) == 4"),
                nbformat.v4.new_code_cell("# BEGIN SOLUTION\nanswer = 42\n# END SOLUTION\nprint(answer)"),
                nbformat.v4.new_code_cell("print('no exercise here')", outputs=[
                    nbformat.v4.new_output("stream", text="no exercise here\n")], execution_count=3)]
    nbformat.write(nb, path)
    return path


def test_student_version_replaces_solutions_with_stubs_and_drops_outputs(tmp_path):
    source = _exercise_notebook(tmp_path / "07_exercises.ipynb")
    assert course.main(["student", str(source), "--out", str(tmp_path / "student")]) == 0
    nb = _read(tmp_path / "student" / "07_exercises.ipynb")
    nbformat.validate(nb)
    assert nb.cells[0].source == "# BEGIN SOLUTION in markdown is prose, left alone"
    assert nb.cells[1].source == f"def f(x):\n    {course.STUB}\n\n\nassert f(2) == 4"
    assert nb.cells[2].source == f"{course.STUB}\nprint(answer)"
    assert nb.cells[3].source == "print('no exercise here')"
    assert all(not c.outputs and c.execution_count is None for c in nb.cells if c.cell_type == "code")
    namespace = {}
    with pytest.raises(NotImplementedError, match="exercise"):
        exec(nb.cells[2].source, namespace)


@pytest.mark.parametrize("source, message", [
    ("# BEGIN SOLUTION\nx = 1\n", r"line 1: # BEGIN SOLUTION is never closed"),
    ("x = 1\n# END SOLUTION\n", r"line 2: # END SOLUTION without a # BEGIN SOLUTION"),
    ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION\n",
     r"line 2: # BEGIN SOLUTION inside the block opened on line 1"),
])
def test_unpaired_solution_markers_are_refused_with_the_line(source, message):
    with pytest.raises(ValueError, match=r"lesson, cell 3, " + message):
        course.strip_solutions(source, "lesson, cell 3")


def test_the_lessons_convert_to_a_student_version(tmp_path):
    written = course.write_student_notebooks(LESSONS, tmp_path)
    assert [p.name for p in written] == [p.name for p in LESSONS]


# -- the instructors' batch -------------------------------------------------------------------------------------

def test_class_parameters_go_to_the_lessons_that_have_them(tmp_path):
    params = tmp_path / "class.yaml"
    params.write_text("DEVICE: cuda\nIMAGE_SIZE: 64\nlessons:\n  04_cyclegan:\n    DATA_DIR: /data/horse2zebra\n")
    common, per_lesson = course.read_class_parameters(params)
    got = course.lesson_parameters(LESSONS, common, per_lesson, str(params))
    assert got["04_cyclegan"] == {"DEVICE": "cuda", "IMAGE_SIZE": 64, "DATA_DIR": "/data/horse2zebra"}
    assert got["01_gan"] == {"DEVICE": "cuda", "IMAGE_SIZE": 64}


@pytest.mark.parametrize("text, message", [
    ("DEVCE: cuda\n", "no lesson has a parameter DEVCE"),
    ("lessons:\n  04_cyclegan:\n    EPOCHZ: 3\n", "lesson 04_cyclegan has no parameter EPOCHZ"),
    ("lessons:\n  99_no_such_lesson:\n    EPOCHS: 3\n", "no lesson named 99_no_such_lesson"),
])
def test_a_typo_in_the_class_file_fails_before_anything_runs(tmp_path, text, message):
    params = tmp_path / "class.yaml"
    params.write_text(text)
    with pytest.raises(SystemExit, match=message):
        course.main(["batch", "--params", str(params), "--out", str(tmp_path / "out"),
                     "--notebooks", str(REPO / "notebooks")])
    assert not (tmp_path / "out").exists()


def test_smoke_batch_collects_every_lesson_into_one_table(smoke_batch):
    with open(smoke_batch.out / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["lesson"] for r in rows] == [p.stem for p in LESSONS]
    assert all(r["status"] == "ok" and float(r["wall_seconds"]) > 0 and float(r["seconds"]) > 0 for r in rows), rows
    by_lesson = {r["lesson"]: r for r in rows}
    assert float(by_lesson["04_cyclegan"]["round_trip_l1"]) >= 0
    assert float(by_lesson["01_gan"]["modes_total"]) == 8
    table = (smoke_batch.out / "summary.md").read_text().splitlines()
    assert table[0].startswith("| lesson | status | run time |") and len(table) == 2 + len(LESSONS)
    assert all(f"| {p.stem} | ok | " in "\n".join(table) for p in LESSONS)
