"""The course notebooks: their parameters cells, their stored form, and a smoke run of each with papermill.

nbval (``pytest --nbval-lax notebooks/``, see notebooks/conftest.py) runs every cell and the notebooks' own assert
cells; these tests check what instructors and CI rely on besides: the parameters papermill shows and accepts,
notebooks committed without outputs, and the ``metrics.json`` each run leaves in its OUTPUT_DIR.
"""

from __future__ import annotations

import ast
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
papermill = pytest.importorskip("papermill")

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
NOTEBOOK_IDS = [p.stem for p in NOTEBOOKS]

# The lessons, in order (README, "The lessons").
LESSONS = ("01_gan", "02_dcgan", "03_discogan", "04_cyclegan", "05_cyclegan_faces", "06_pix2pix",
           "07_ugatit")

# Parameters every notebook must take (README, "The lessons": the first code cell), with the default each must have
# (None: any default).
REQUIRED_PARAMETERS = {"SEED": None, "DEVICE": "auto", "SMOKE": False, "DATA_DIR": "", "OUTPUT_DIR": None}
# ... and one parameter of each of these kinds, recognised by its name.
REQUIRED_KINDS = {"steps or epochs": r"STEPS|EPOCHS", "image size": r"IMAGE_SIZE", "batch size": r"BATCH_SIZE"}

# metrics.json: keys every lesson writes, and the lesson's own scores (finite numbers) where it has them.
COMMON_METRICS = ("steps", "seconds", "final_losses")
LESSON_METRICS = {
    "01_gan": ("modes_covered", "modes_total"),
    "03_discogan": ("d_real_bce", "d_fake_bce", "d_b_fooled"),
    "04_cyclegan": ("round_trip_l1",),
    "05_cyclegan_faces": ("round_trip_l1",),
    "06_pix2pix": ("pix2pix_l1",),
    "07_ugatit": ("ugatit_kid",),
}

# Lessons whose metrics.json must list their exercise checks (``"exercises": {name: passed}``, from
# cyclegan_lite.exercises.results()), at least this many; in the instructor version every one must pass.
EXERCISE_LESSONS = {"01_gan": 3, "02_dcgan": 3, "03_discogan": 3, "04_cyclegan": 4, "05_cyclegan_faces": 3,
                    "06_pix2pix": 3, "07_ugatit": 3}

needs_notebooks = pytest.mark.skipif(not NOTEBOOKS, reason=f"no notebooks in {NOTEBOOKS_DIR}")


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def _parameters_cell(nb):
    """The code cell after the Colab set-up cell (tests/test_course.py checks that one)."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    return code[1] if len(code) > 1 else None


# -- the lessons are all there, numbered in order -------------------------------------------------------------

@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_notebook_exists(lesson):
    path = NOTEBOOKS_DIR / f"{lesson}.ipynb"
    assert path.is_file(), f"lesson notebook missing: {path}"


def test_notebooks_are_numbered_01_to_n_without_gaps():
    numbers = []
    for path in NOTEBOOKS:
        match = re.fullmatch(r"(\d\d)_[a-z0-9_]+", path.stem)
        assert match, f"{path.name}: notebook names are NN_lowercase_words.ipynb (e.g. 01_gan.ipynb)"
        numbers.append(int(match.group(1)))
    assert numbers == list(range(1, len(numbers) + 1)), (
        f"notebooks in {NOTEBOOKS_DIR} are numbered {numbers}; expected 1..{len(numbers)} with no gap or repeat")


# -- parameters ------------------------------------------------------------------------------------------------

@needs_notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=NOTEBOOK_IDS)
def test_parameters_cell_follows_the_colab_cell_and_holds_literals(path):
    cell = _parameters_cell(_read(path))
    assert cell is not None, f"{path.name}: no code cell after the Colab set-up cell"
    assert "parameters" in cell.metadata.get("tags", []), (
        f"{path.name}: the code cell after the Colab set-up cell must be tagged 'parameters' "
        f"(cell metadata {{\"tags\": [\"parameters\"]}})")
    for node in ast.parse(cell.source).body:
        assert isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None, (
            f"{path.name}: parameters cell line {node.lineno}: expected `NAME: type = value  # help`")
        try:
            ast.literal_eval(node.value)
        except ValueError:
            pytest.fail(f"{path.name}: parameter {node.target.id} must be a literal (papermill replaces it), "
                        f"found {ast.unparse(node.value)!r}")


@needs_notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=NOTEBOOK_IDS)
def test_papermill_shows_the_required_parameters_with_help(path):
    params = papermill.inspect_notebook(str(path))
    for name, default in REQUIRED_PARAMETERS.items():
        assert name in params, f"{path.name}: parameter {name} missing; papermill sees {sorted(params)}"
        if default is not None:
            assert ast.literal_eval(params[name]["default"]) == default, (
                f"{path.name}: {name} should default to {default!r}, not {params[name]['default']}")
    assert params["OUTPUT_DIR"]["default"].strip("'\"").startswith("outputs/"), (
        f"{path.name}: OUTPUT_DIR should default to outputs/<notebook name>")
    for kind, pattern in REQUIRED_KINDS.items():
        assert any(re.search(pattern, name) for name in params), (
            f"{path.name}: no {kind} parameter (a name matching {pattern}); papermill sees {sorted(params)}")
    for name, info in params.items():
        assert info["help"].strip(), f"{path.name}: parameter {name} has no `# help` comment"
        assert info["inferred_type_name"] != "None", f"{path.name}: parameter {name} has no type annotation"


# -- stored form -----------------------------------------------------------------------------------------------

@needs_notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=NOTEBOOK_IDS)
def test_notebook_is_valid_and_stored_without_outputs(path):
    nb = _read(path)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", f"{path.name}: kernelspec must be python3"
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, (f"{path.name}: code cells {dirty} hold outputs or execution counts; "
                       f"run `nbstripout notebooks/{path.name}` before committing")


@needs_notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=NOTEBOOK_IDS)
def test_nbstripout_would_not_change_the_notebook(path):
    pytest.importorskip("nbstripout")
    run = subprocess.run([sys.executable, "-m", "nbstripout", "--verify", str(path)], capture_output=True,
                         text=True)
    assert run.returncode == 0, (f"{path.name}: not stripped (metadata, outputs or cell ids); run "
                                 f"`nbstripout notebooks/{path.name}`\n{run.stdout}{run.stderr}")


@needs_notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=NOTEBOOK_IDS)
def test_widgets_are_drawn_with_browse_not_interact(path):
    """``interact`` draws into a widget while its cell runs, which can leave a headless run (papermill, nbval)
    waiting; ``cyclegan_lite.viz.browse`` draws an ordinary figure first and redraws only when a control moves."""
    code = "\n".join(c.source for c in _read(path).cells if c.cell_type == "code")
    assert "interact(" not in code, f"{path.name}: use cyclegan_lite.viz.browse instead of ipywidgets.interact"
    if "widgets." in code:
        assert "browse(" in code, f"{path.name}: builds widgets but never shows them with browse(...)"


# -- a smoke run with papermill ----------------------------------------------------------------------------------

def _finite_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@needs_notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=NOTEBOOK_IDS)
def test_papermill_smoke_run_writes_metrics(path, smoke_batch):
    """The instructors' batch in smoke mode (tests/conftest.py) ran each lesson with papermill in an empty folder
    outside the repository, as on Colab or in a student's folder: nothing a lesson needs lives beside it."""
    run = next(r for r in smoke_batch.runs if r.lesson == path.stem)
    assert not run.error, f"{path.name} failed in smoke mode: {run.error} (see {run.executed})"
    out_dir, executed = smoke_batch.out, run.executed
    metrics_file = out_dir / path.stem / "metrics.json"
    assert metrics_file.is_file(), f"{path.name}: the last cell must write OUTPUT_DIR/metrics.json"
    metrics = json.loads(metrics_file.read_text())
    for key in COMMON_METRICS + LESSON_METRICS.get(path.stem, ()):
        assert key in metrics, f"{path.name}: metrics.json lacks {key!r}; it has {sorted(metrics)}"
    assert isinstance(metrics["steps"], int) and metrics["steps"] > 0, f"steps: {metrics['steps']!r}"
    assert _finite_number(metrics["seconds"]) and metrics["seconds"] > 0, f"seconds: {metrics['seconds']!r}"
    losses = metrics["final_losses"]
    assert isinstance(losses, dict) and losses, f"final_losses must name at least one loss: {losses!r}"
    bad = {k: v for k, v in losses.items() if not _finite_number(v)}
    assert not bad, f"{path.name}: final losses that are not finite numbers: {bad}"
    for key in LESSON_METRICS.get(path.stem, ()):
        assert _finite_number(metrics[key]), f"{path.name}: metrics[{key!r}] = {metrics[key]!r}"

    exercises = metrics.get("exercises")
    if path.stem in EXERCISE_LESSONS:
        assert isinstance(exercises, dict) and len(exercises) >= EXERCISE_LESSONS[path.stem], (
            f"{path.name}: metrics.json should list at least {EXERCISE_LESSONS[path.stem]} exercise checks under "
            f"'exercises', found {exercises!r}")
    failed = sorted(name for name, passed in (exercises or {}).items() if passed is not True)
    assert not failed, f"{path.name}: exercise checks that did not pass with the notebook's solutions: {failed}"

    nb = _read(executed)
    pictures = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert pictures > 0, f"{path.name}: the smoke run drew no figure"


@needs_notebooks
@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.stem in EXERCISE_LESSONS],
                         ids=[p.stem for p in NOTEBOOKS if p.stem in EXERCISE_LESSONS])
def test_student_version_runs_and_each_check_says_not_done_yet(path, student_smoke_batch):
    """The students' notebook (solutions replaced by ``raise NotImplementedError``) runs top to bottom: each check
    cell prints that its exercise is not done yet, never a traceback, and metrics.json records none as passed."""
    run = next(r for r in student_smoke_batch.runs if r.lesson == path.stem)
    assert not run.error, f"the students' {path.name} failed in smoke mode: {run.error} (see {run.executed})"
    exercises = run.metrics.get("exercises")
    assert isinstance(exercises, dict) and len(exercises) >= EXERCISE_LESSONS[path.stem], exercises
    assert not any(exercises.values()), f"a stub passed its check: {exercises}"
    checks = [c for c in _read(run.executed).cells if c.cell_type == "code" and re.search(r'^check\("', c.source, re.M)]
    said = ["".join(o.get("text", "") for o in c.outputs) for c in checks]
    assert len(said) == len(exercises) and all("not done yet" in text for text in said), said
