"""Checks for the lessons' exercises: code the student writes, tested against the library's own version.

A lesson defines the exercise's function (its solution sits between ``# BEGIN SOLUTION`` and ``# END SOLUTION``;
the student version of the notebook replaces it with ``raise NotImplementedError``), then a check cell runs::

    check("01.non_saturating_loss", non_saturating_loss)

which prints a pass, or a hint naming what differs, and never a traceback: an unfinished exercise or a crash in
the student's code is a message too. Each lesson's checks live in its own module (``lesson01.py`` ...), each
registered with :func:`exercise`. ``results()`` tells which checks passed so far (lessons write it to
``metrics.json``).
"""

from __future__ import annotations

import importlib
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

MARK_PASS, MARK_FAIL, MARK_TODO = "\u2713", "\u2717", "\u2026"


@dataclass(frozen=True)
class Exercise:
    """One exercise: its title and the test that returns None when a student's function is right, else a hint."""

    name: str
    title: str
    test: Callable[[Callable], str | None]


EXERCISES: dict[str, Exercise] = {}
_results: dict[str, bool] = {}


def exercise(name: str, title: str):
    """Register the decorated test under ``name`` (``"01.non_saturating_loss"``: lesson number, then a name)."""
    def register(test: Callable[[Callable], str | None]) -> Callable[[Callable], str | None]:
        EXERCISES[name] = Exercise(name, title, test)
        return test
    return register


def _lookup(name: str) -> Exercise:
    if name not in EXERCISES:
        lesson = name.split(".")[0]
        try:
            importlib.import_module(f"{__name__}.lesson{lesson}")
        except ModuleNotFoundError:
            pass
    if name not in EXERCISES:
        known = ", ".join(sorted(EXERCISES)) or "none loaded"
        raise KeyError(f"no exercise named {name!r} (known: {known})")
    return EXERCISES[name]


def check(name: str, solution: Callable) -> bool:
    """Test ``solution`` for exercise ``name``; print one line saying it passed, or what to look at. Never raises
    for the student's mistakes (an unknown exercise name is the lesson's mistake, and does)."""
    ex = _lookup(name)
    try:
        hint = ex.test(solution)
    except NotImplementedError:
        print(f"{MARK_TODO} {ex.title}: not done yet. Replace `raise NotImplementedError` with your code, then run "
              f"this cell again.")
        _results[name] = False
        return False
    except Exception as e:  # the student's code crashed: say where, in one line
        frames = traceback.extract_tb(e.__traceback__)
        theirs = [f for f in frames if not _is_library(f.filename)] or frames
        hint = f"your code raised {type(e).__name__}: {e} (line {theirs[-1].lineno}: {theirs[-1].line})"
    _results[name] = hint is None
    print(f"{MARK_PASS} {ex.title}: passed." if hint is None else f"{MARK_FAIL} {ex.title}: {hint}")
    return hint is None


def _is_library(filename: str) -> bool:
    """True for frames of installed packages or of this library (the student's code is in a notebook cell)."""
    return "site-packages" in filename or Path(__file__).parents[1] in Path(filename).parents


def results() -> dict[str, bool]:
    """Which checks ran in this session and whether they passed (the last run of each)."""
    return dict(_results)


def compare(got, expected, what: str, atol: float = 1e-5, rtol: float = 1e-4) -> str | None:
    """A hint when ``got`` differs from ``expected`` (tensors or numbers): the type, the shape, or the values."""
    if not isinstance(got, torch.Tensor):
        if isinstance(expected, torch.Tensor) and isinstance(got, (int, float)):
            got = torch.tensor(float(got), dtype=expected.dtype)
        else:
            return f"{what} should be a tensor, got {type(got).__name__}"
    expected = torch.as_tensor(expected)
    if got.shape != expected.shape:
        return f"{what} has shape {tuple(got.shape)}; expected {tuple(expected.shape)}"
    if not got.dtype.is_floating_point and expected.dtype.is_floating_point:
        return f"{what} has dtype {got.dtype}; expected a floating-point tensor"
    got, expected = got.detach().double(), expected.detach().double()
    if torch.allclose(got, expected, atol=atol, rtol=rtol):
        return None
    if not torch.isfinite(got).all():
        return f"{what} holds inf or nan; expected finite values (log of 0? use the logits form)"
    diff = (got - expected).abs()
    i = int(diff.flatten().argmax())
    index = tuple(int(k) for k in torch.unravel_index(torch.tensor(i), got.shape))
    where = "" if got.dim() == 0 else f" at index {index}"
    return (f"{what} differs{where}: expected {expected.flatten()[i].item():.6g}, got {got.flatten()[i].item():.6g}")
