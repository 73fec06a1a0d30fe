"""The course as a product: run every lesson headless for a class, build the book, make the students' notebooks.

    python -m cyclegan_lite.course batch --params class.yaml --out class-run/   # all lessons, one summary table
    python -m cyclegan_lite.course book --out site/                           # the lessons with their outputs
    python -m cyclegan_lite.course student notebooks/*.ipynb --out student/   # solutions replaced by stubs

``batch`` runs the lessons with papermill, one parameter file (YAML) per class, and collects each lesson's
``metrics.json`` into ``summary.csv`` and ``summary.md``. ``book`` executes the lessons (smoke mode by default, or
reuses a ``batch`` folder) and builds a static site with mkdocs-jupyter: the README as front page, one page per
lesson with its figures, run time and Colab badge, and the students' notebooks as a download. Everything it
serves (MathJax included) is local, so the site builds and reads offline.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import io
import json
import math
import re
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .fileio import atomic_write

BEGIN_SOLUTION, END_SOLUTION = "# BEGIN SOLUTION", "# END SOLUTION"
STUB = 'raise NotImplementedError("exercise: write your solution here")'
COLAB_BADGE_SVG = "https://colab.research.google.com/assets/colab-badge.svg"
STUDENT_ZIP = "cyclegan-lite-student-notebooks.zip"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
# Seconds one cell may run before a headless run gives up: a stuck cell fails instead of hanging a class's run.
CELL_TIMEOUT_S = {"smoke": 300, "default": 3600}


# -- the students' version --------------------------------------------------------------------------------------

def strip_solutions(source: str, where: str = "cell") -> str:
    """Replace each ``# BEGIN SOLUTION`` ... ``# END SOLUTION`` block of a code cell by one ``raise
    NotImplementedError`` stub, indented like the BEGIN marker. Raises ValueError on unpaired or nested markers."""
    out, indent, start = [], None, 0
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        marker = line.strip()
        if marker.startswith(BEGIN_SOLUTION):
            if indent is not None:
                raise ValueError(f"{where}, line {number}: {BEGIN_SOLUTION} inside the block opened on line {start}")
            indent, start = line[:len(line) - len(line.lstrip())], number
        elif marker.startswith(END_SOLUTION):
            if indent is None:
                raise ValueError(f"{where}, line {number}: {END_SOLUTION} without a {BEGIN_SOLUTION} before it")
            out.append(f"{indent}{STUB}\n")
            indent = None
        elif indent is None:
            out.append(line)
    if indent is not None:
        raise ValueError(f"{where}, line {start}: {BEGIN_SOLUTION} is never closed by {END_SOLUTION}")
    return "".join(out)


def student_notebook(nb, name: str = "notebook"):
    """A copy of ``nb`` without outputs, each solution replaced by a stub (see :func:`strip_solutions`)."""
    import copy

    nb = copy.deepcopy(nb)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            cell.source = strip_solutions(cell.source, f"{name}, cell {index}")
            cell.outputs, cell.execution_count = [], None
    return nb


def write_student_notebooks(paths: list[Path], out: Path) -> list[Path]:
    """The students' version of each notebook, written atomically to ``out/`` under the same name."""
    import nbformat

    written = []
    for path in paths:
        nb = student_notebook(nbformat.read(path, as_version=4), path.name)
        target = out / path.name
        with atomic_write(target, "w") as f:
            nbformat.write(nb, f)
        written.append(target)
    return written


# -- headless runs for a class ----------------------------------------------------------------------------------

def this_python_kernel():
    """A kernel manager for "python3" run by this interpreter, whatever "python3" kernels a user has installed."""
    import ipykernel.kernelspec
    from jupyter_client import KernelManager
    from jupyter_client.kernelspec import KernelSpecManager

    class ThisPythonSpecs(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            return self.kernel_spec_class(resource_dir=ipykernel.kernelspec.RESOURCES,
                                          **ipykernel.kernelspec.get_kernel_dict())

    return KernelManager(kernel_name="python3", kernel_spec_manager=ThisPythonSpecs())


def read_class_parameters(path: Path | None) -> tuple[dict, dict[str, dict]]:
    """A class's parameter file: top-level ``NAME: value`` pairs go to every lesson that has the parameter, and
    ``lessons: {LESSON: {NAME: value}}`` to one lesson (LESSON is the notebook's name without .ipynb)."""
    if path is None:
        return {}, {}
    import yaml

    data = yaml.safe_load(Path(path).read_text()) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected NAME: value pairs and an optional 'lessons:' mapping")
    per_lesson = data.pop("lessons", None) or {}
    if not isinstance(per_lesson, dict) or not all(isinstance(v, dict) for v in per_lesson.values()):
        raise ValueError(f"{path}: 'lessons:' must map a lesson name (e.g. 04_cyclegan) to NAME: value pairs")
    return data, per_lesson


def lesson_parameters(notebooks: list[Path], common: dict, per_lesson: dict[str, dict], source: str) -> dict:
    """{lesson: parameters} checked against what each notebook declares, so a typo fails before hours of work."""
    import papermill

    declared = {nb.stem: set(papermill.inspect_notebook(str(nb))) for nb in notebooks}
    unknown_lessons = set(per_lesson) - set(declared)
    if unknown_lessons:
        raise ValueError(f"{source}: no lesson named {', '.join(sorted(unknown_lessons))}; "
                         f"lessons: {', '.join(declared)}")
    nowhere = [name for name in common if not any(name in d for d in declared.values())]
    if nowhere:
        raise ValueError(f"{source}: no lesson has a parameter {', '.join(nowhere)} "
                         f"(`papermill --help-notebook NOTEBOOK` lists them)")
    result = {}
    for lesson, names in declared.items():
        own = per_lesson.get(lesson, {})
        bad = sorted(set(own) - names)
        if bad:
            raise ValueError(f"{source}: lesson {lesson} has no parameter {', '.join(bad)}; it has "
                             f"{', '.join(sorted(names))}")
        result[lesson] = {**{k: v for k, v in common.items() if k in names}, **own}
    return result


@dataclass
class LessonRun:
    lesson: str
    executed: Path
    output_dir: Path
    wall_seconds: float
    error: str = ""
    metrics: dict = field(default_factory=dict)


def run_lessons(notebooks: list[Path], out: Path, parameters: dict[str, dict], *, cell_timeout: float,
                progress: bool = True) -> list[LessonRun]:
    """Execute each notebook with papermill into ``out/LESSON.ipynb`` with ``OUTPUT_DIR=out/LESSON`` and the
    working folder ``out/``; a failed lesson is recorded and the next one runs."""
    import papermill

    out.mkdir(parents=True, exist_ok=True)
    runs = []
    for nb in notebooks:
        lesson_out = out / nb.stem
        params = {**parameters.get(nb.stem, {}), "OUTPUT_DIR": str(lesson_out.resolve())}
        executed = out / nb.name
        print(f"{nb.stem}: running with {params}", flush=True)
        started, error = time.perf_counter(), ""
        try:
            papermill.execute_notebook(str(nb), str(executed), parameters=params, kernel_name="python3",
                                       km=this_python_kernel(), cwd=str(out), progress_bar=progress,
                                       execution_timeout=cell_timeout)
        except Exception as exc:  # a failed or timed-out lesson: report it and go on with the class's run
            error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"
        run = LessonRun(nb.stem, executed, lesson_out, time.perf_counter() - started, error)
        metrics_file = lesson_out / "metrics.json"
        if metrics_file.is_file():
            run.metrics = json.loads(metrics_file.read_text())
        elif not error:
            run.error = f"no {metrics_file}"
        print(f"{nb.stem}: {'FAILED ' + run.error if run.error else 'ok'} in {run.wall_seconds:.0f} s", flush=True)
        runs.append(run)
    return runs


def _scores(metrics: dict, prefix: str = "") -> dict[str, float]:
    """The finite numbers of a metrics.json, nested keys joined with dots, except the run's settings."""
    flat = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and key != "settings":
            flat.update(_scores(value, name + "."))
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            flat[name] = value
    return flat


def write_summary(runs: list[LessonRun], out: Path) -> tuple[Path, Path]:
    """``summary.csv`` (one row per lesson, one column per number of its metrics.json) and ``summary.md`` (run
    times and each lesson's top-level scores; nested ones such as final losses are in the CSV)."""
    rows = [{"lesson": r.lesson, "status": r.error or "ok", "wall_seconds": round(r.wall_seconds, 1),
             **_scores(r.metrics)} for r in runs]
    columns = list(dict.fromkeys(k for row in rows for k in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    with atomic_write(out / "summary.csv", "w") as f:
        f.write(buffer.getvalue())
    lines = ["| lesson | status | run time | training steps | training time | scores |", "|---|---|---|---|---|---|"]
    for row in rows:
        scores = ", ".join(f"{k} {v:.4g}" for k, v in row.items()  # the lesson's own top-level numbers
                           if "." not in k and k not in ("lesson", "status", "wall_seconds", "steps", "seconds"))
        training = f"{row['seconds']:.0f} s" if "seconds" in row else ""
        lines.append(f"| {row['lesson']} | {row['status']} | {row['wall_seconds']:.0f} s | {row.get('steps', '')} | "
                     f"{training} | {scores} |")
    with atomic_write(out / "summary.md", "w") as f:
        f.write("\n".join(lines) + "\n")
    return out / "summary.csv", out / "summary.md"


def run_batch(notebooks: list[Path], out: Path, params_file: Path | None = None, *, smoke: bool = False,
              cell_timeout: float | None = None, progress: bool = True) -> list[LessonRun]:
    """``batch``: every lesson with the class's parameters, then the summary table."""
    common, per_lesson = read_class_parameters(params_file)
    if smoke:
        common["SMOKE"] = True
    parameters = lesson_parameters(notebooks, common, per_lesson, str(params_file or "--smoke"))
    timeout = cell_timeout or CELL_TIMEOUT_S["smoke" if smoke else "default"]
    runs = run_lessons(notebooks, out, parameters, cell_timeout=timeout, progress=progress)
    write_summary(runs, out)
    return runs


# -- the book ---------------------------------------------------------------------------------------------------

def _mathjax_dir() -> Path:
    try:
        import jupyter_server_mathjax
    except ImportError:
        raise SystemExit("error: the book serves MathJax itself (offline) from jupyter-server-mathjax; "
                         "pip install -e \".[book]\"") from None
    return Path(jupyter_server_mathjax.__file__).parent / "static"


# jupyter-server-mathjax ships MathJax 2 with the STIX-Web fonts only (as Jupyter's classic notebook used it). The
# book asks for Chromium's own MathML rendering (native since Chrome 109) and points the fonts MathJax would fetch
# for double-struck, script and fraktur letters, and its HTML-CSS fallback, at STIX-Web; its blank test font is
# looked up locally instead of at about:blank, which Chromium refuses with a console error. No request can fail.
_STIX = "[MathJax]/fonts/HTML-CSS/STIX-Web/woff/STIXMathJax_"
_WEB_FONTS = {1: ("Caligraphic", "Script-Regular"), 2: ("Caligraphic", "Script-BoldItalic"),
              3: ("AMS", "DoubleStruck-Regular"), 4: ("Script", "Script-Regular"),
              5: ("Fraktur", "Fraktur-Regular"), 6: ("Fraktur", "Fraktur-Bold")}
MATHJAX_FONTS = ("MathJax.Hub.Config({MMLorHTML: {prefer: \"MML\"}, NativeMML: {styles: {"
                 + ", ".join(f'"@font-face /*{i}*/": {{"font-family": "MathJax_{name}-WEB", '
                             f'src: "url(\'" + MathJax.Ajax.fileURL("{_STIX}{stix}.woff") + "\')"}}'
                             for i, (name, stix) in _WEB_FONTS.items())
                 + '}}, "HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null, '
                 'styles: {"@font-face": {"font-family": "MathJax_Blank", src: "local(\'MathJax_Blank\')"}}}});\n'
                 'MathJax.Ajax.loadComplete("[MathJax]/config/local/book.js");\n')
MATHJAX_URL = "assets/mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe,local/book"

COLAB_BADGE_LOCAL = """<svg xmlns="http://www.w3.org/2000/svg" width="117" height="20" role="img" \
aria-label="Open in Colab"><rect width="117" height="20" rx="3" fill="#555"/><rect x="24" width="93" height="20" \
rx="3" fill="#f9ab00"/><circle cx="12" cy="10" r="6" fill="none" stroke="#f9ab00" stroke-width="3"/>\
<text x="70" y="14" fill="#000" font-family="Verdana,sans-serif" font-size="11" text-anchor="middle">\
Open in Colab</text></svg>
"""


def book_notebook(executed: Path, run: LessonRun, mode: str):
    """A lesson as the book shows it: its outputs, a run-time line under the title, widgets as a note (the static
    figure drawn before each widget stays), the Colab badge image served from the site."""
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    nb.metadata.pop("widgets", None)  # widget state would pull the widget manager from a CDN; see above
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = cell.source.replace(COLAB_BADGE_SVG, "assets/colab-badge.svg")
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_MIME in data:
                output["data"] = {"text/markdown": "*An interactive widget: run the notebook (locally or in Colab) "
                                                   "to use it. The figure above shows one of its settings.*"}
    where = "smoke mode: a few steps on tiny data, so the pictures show that it runs, not what it learns" \
        if mode == "smoke" else "default settings"
    status = f"**failed**: {run.error}" if run.error else "ran without errors"
    line = (f"*This page was executed on {time.strftime('%Y-%m-%d')} in {run.wall_seconds:.0f} s ({where}); "
            f"{status}.*")
    nb.cells.insert(1, nbformat.v4.new_markdown_cell(line))
    return nb


def _front_page(readme: str) -> str:
    """The README as the site's front page: lesson links go to the lesson pages."""
    text = readme.replace(COLAB_BADGE_SVG, "assets/colab-badge.svg")
    return re.sub(r"\(notebooks/(\d\d_[a-z0-9_]+)\.ipynb\)", r"(\1.ipynb)", text)


def build_book(notebooks: list[Path], readme: Path, site: Path, *, work: Path, mode: str = "smoke",
               executed: Path | None = None, cell_timeout: float | None = None, progress: bool = True) -> Path:
    """Execute the lessons (or reuse a ``batch`` folder), then build the static site into ``site``."""
    import nbformat

    if importlib.util.find_spec("mkdocs_jupyter") is None:
        raise SystemExit('error: the book is built with mkdocs-jupyter; pip install -e ".[book]"')
    if executed is None:
        executed = work / "executed"
        runs = run_batch(notebooks, executed, smoke=mode == "smoke", cell_timeout=cell_timeout, progress=progress)
    else:
        runs = []
        for nb in notebooks:
            if not (executed / nb.name).is_file():
                raise SystemExit(f"error: {executed / nb.name} not found; run `python -m cyclegan_lite.course batch "
                                 f"--out {executed}` first, or build without --executed")
            metrics_file = executed / nb.stem / "metrics.json"
            metrics = json.loads(metrics_file.read_text()) if metrics_file.is_file() else {}
            runs.append(LessonRun(nb.stem, executed / nb.name, executed / nb.stem,
                                  _executed_seconds(executed / nb.name), "" if metrics else "no metrics.json",
                                  metrics))
    docs = work / "docs"
    shutil.rmtree(docs, ignore_errors=True)
    (docs / "assets").mkdir(parents=True)
    shutil.copytree(_mathjax_dir(), docs / "assets" / "mathjax")
    (docs / "assets" / "mathjax" / "config" / "local").mkdir(exist_ok=True)
    (docs / "assets" / "mathjax" / "config" / "local" / "book.js").write_text(MATHJAX_FONTS)
    (docs / "assets" / "colab-badge.svg").write_text(COLAB_BADGE_LOCAL)
    (docs / "index.md").write_text(_front_page(readme.read_text()))
    for run in runs:
        nbformat.write(book_notebook(run.executed, run, mode), docs / run.executed.name)
    student = work / "student"
    shutil.rmtree(student, ignore_errors=True)
    paths = write_student_notebooks(notebooks, student)
    (docs / "downloads").mkdir()
    with zipfile.ZipFile(docs / "downloads" / STUDENT_ZIP, "w", zipfile.ZIP_DEFLATED) as z:
        for path in paths:
            z.write(path, f"cyclegan-lite-lessons/{path.name}")
    (docs / "downloads.md").write_text(
        "# Downloads\n\n"
        f"* [The students' notebooks]({'downloads/' + STUDENT_ZIP}) ({len(paths)} lessons, without outputs, each "
        "exercise's solution replaced by a `raise NotImplementedError` stub): unzip, then `jupyter lab`.\n"
        "* The lessons with their outputs, as shown in this book: the download button at the top of each lesson "
        "page.\n")
    config = {
        "site_name": "Image GANs, from GAN to CycleGAN",
        "docs_dir": str(docs.resolve()),
        "site_dir": str(site.resolve()),
        "use_directory_urls": False,  # every page at the top level: relative asset links work, also from file://
        "theme": {"name": "material", "font": False},  # font: False, or the theme loads Google Fonts online
        "nav": [{"Home": "index.md"}, *[{r.lesson.replace("_", " "): r.executed.name} for r in runs],
                {"Downloads": "downloads.md"}],
        "plugins": [{"mkdocs-jupyter": {
            "execute": False, "include_requirejs": False, "ignore_h1_titles": False,
            "custom_mathjax_url": MATHJAX_URL,
            "include_source": True}}],
    }
    config_file = work / "mkdocs.yml"
    config_file.write_text(json.dumps(config, indent=2))  # JSON is YAML
    build = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--clean", "--quiet", "-f", str(config_file)],
                           capture_output=True, text=True)
    if build.returncode:
        raise SystemExit(f"error: mkdocs build failed:\n{build.stdout}{build.stderr}")
    failed = [r.lesson for r in runs if r.error]
    if failed:
        print(f"warning: lessons that failed (their pages show the error): {', '.join(failed)}", file=sys.stderr)
    return site


def _executed_seconds(path: Path) -> float:
    """The run time papermill recorded in an executed notebook."""
    import nbformat

    return float(nbformat.read(path, as_version=4).metadata.get("papermill", {}).get("duration") or 0.0)


# -- command line -----------------------------------------------------------------------------------------------

def _lesson_paths(folder: Path) -> list[Path]:
    paths = sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        raise SystemExit(f"error: no lesson notebooks (NN_name.ipynb) in {folder}")
    return paths


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cyclegan_lite.course", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    batch = sub.add_parser("batch", help="run every lesson headless with a class's parameters; summary table",
                           description="Run every lesson with papermill, then collect each lesson's metrics.json "
                           "into OUT/summary.csv and OUT/summary.md (run time and scores per lesson).")
    batch.add_argument("--params", type=Path, help="the class's YAML file: NAME: value for every lesson that has "
                       "the parameter (DEVICE, IMAGE_SIZE, ...), and 'lessons: {04_cyclegan: {DATA_DIR: ...}}' for "
                       "one lesson; `papermill --help-notebook NOTEBOOK` lists a lesson's parameters")
    batch.add_argument("--out", type=Path, required=True, help="folder for the executed notebooks (LESSON.ipynb), "
                       "each lesson's OUTPUT_DIR (LESSON/) and the summary")
    batch.add_argument("--smoke", action="store_true", help="SMOKE=True for every lesson: checks that all run")
    batch.add_argument("--notebooks", type=Path, default=Path("notebooks"),
                       help="folder of the lesson notebooks (default: notebooks)")
    book = sub.add_parser("book", help="build the static site of the lessons with their outputs",
                          description="Execute the lessons (or reuse a batch folder) and build a static site with "
                          "mkdocs-jupyter: the README as front page, a page per lesson with its outputs and run time, "
                          "the students' notebooks as a download. Builds and reads offline.")
    book.add_argument("--out", type=Path, default=Path("build/site"), help="site folder (default: build/site); "
                      "open OUT/index.html, or serve it: python -m http.server -d OUT")
    book.add_argument("--mode", choices=["smoke", "default"], default="smoke",
                      help="smoke: every lesson in seconds on tiny data (default); default: the lessons' own "
                      "settings, the real pictures (minutes to a quarter hour per lesson on a CPU)")
    book.add_argument("--executed", type=Path, help="reuse the executed notebooks of a `batch --out` folder "
                      "instead of running the lessons")
    book.add_argument("--work", type=Path, default=Path("build/book"),
                      help="scratch folder for the site's sources and executed notebooks (default: build/book)")
    book.add_argument("--notebooks", type=Path, default=Path("notebooks"),
                      help="folder of the lesson notebooks (default: notebooks)")
    book.add_argument("--readme", type=Path, default=Path("README.md"), help="the front page (default: README.md)")
    for p in (batch, book):
        p.add_argument("--cell-timeout", type=float, help="seconds one cell may run before the lesson fails "
                       f"(default: {CELL_TIMEOUT_S['smoke']} in smoke mode, {CELL_TIMEOUT_S['default']} otherwise)")
        p.add_argument("--quiet", action="store_true", help="hide papermill's progress bars")
    student = sub.add_parser("student", help="the students' notebooks: solutions replaced by stubs, no outputs",
                             description=f"Copy notebooks without outputs, each code block between "
                             f"'{BEGIN_SOLUTION}' and '{END_SOLUTION}' replaced by `{STUB}`.")
    student.add_argument("notebooks", type=Path, nargs="+", help="notebooks to convert")
    student.add_argument("--out", type=Path, required=True, help="folder for the converted notebooks (same names)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "student":
            for path in write_student_notebooks(args.notebooks, args.out):
                print(path)
        elif args.command == "batch":
            runs = run_batch(_lesson_paths(args.notebooks), args.out, args.params, smoke=args.smoke,
                             cell_timeout=args.cell_timeout, progress=not args.quiet)
            print((args.out / "summary.md").read_text(), end="")
            print(f"-> {args.out / 'summary.csv'}, {args.out / 'summary.md'}")
            return 1 if any(r.error for r in runs) else 0
        else:
            site = build_book(_lesson_paths(args.notebooks), args.readme, args.out, work=args.work, mode=args.mode,
                              executed=args.executed, cell_timeout=args.cell_timeout, progress=not args.quiet)
            print(f"-> {site / 'index.html'} (serve it: python -m http.server -d {site})")
    except (ValueError, FileNotFoundError) as exc:
        raise SystemExit(f"error: {exc}") from None
    return 0


if __name__ == "__main__":
    sys.exit(main())
