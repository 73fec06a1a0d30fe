"""``browse``: the lessons' widgets draw a static figure at once and redraw only when a control moves."""

import pytest

widgets = pytest.importorskip("ipywidgets")

from cyclegan_lite.viz import BROWSE_CLASS, browse  # noqa: E402


def test_browse_draws_once_now_then_again_for_each_change_of_any_control():
    calls = []
    index = widgets.IntSlider(min=0, max=9, value=3)
    direction = widgets.ToggleButtons(options=["AtoB", "BtoA"], value="AtoB")
    box = browse(lambda index, direction: calls.append((index, direction)), index=index, direction=direction)
    assert calls == [(3, "AtoB")], "the static figure is drawn once, for the controls' starting values"
    assert box.children[:2] == (index, direction) and isinstance(box.children[2], widgets.Output)
    assert BROWSE_CLASS in box._dom_classes  # what the browser test finds it by
    index.value = 7
    direction.value = "BtoA"
    assert calls == [(3, "AtoB"), (7, "AtoB"), (7, "BtoA")]


def test_browse_without_a_control_says_what_it_needs():
    with pytest.raises(TypeError, match="at least one control"):
        browse(lambda: None)
