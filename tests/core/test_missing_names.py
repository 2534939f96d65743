"""PyTorch names Ember lacks: ``NotImplementedError`` that is also an ``AttributeError``; unknown names: plain
``AttributeError``; dunder lookups stay fast and plain; star and submodule imports unaffected."""

from __future__ import annotations

import importlib
import pickle
import subprocess
import sys

import pytest

import ember
import ember.nn.functional as F
from ember._missing import NotImplementedYetError
from ember._torch_names import TORCH_NAMES


@pytest.mark.parametrize("module, name", [(ember, "fx"), (ember, "export"), (ember, "quantize_per_tensor"),
                                          (ember.nn, "AdaptiveLogSoftmaxWithLoss"), (F, "scaled_grouped_mm"),
                                          (ember.optim, "Adafactor")])
def test_pytorch_names_ember_lacks_say_not_implemented_yet(module, name):
    with pytest.raises(NotImplementedError, match=rf"^{module.__name__}\.{name} is not implemented yet$") as info:
        getattr(module, name)
    assert type(info.value) is NotImplementedYetError and isinstance(info.value, AttributeError) and info.value.name == name
    assert not hasattr(module, name)  # feature detection: False, not an exception
    assert getattr(module, name, None) is None


@pytest.mark.parametrize("module", [ember, ember.nn, F, ember.optim])
def test_names_pytorch_does_not_have_are_plain_attribute_errors(module):
    with pytest.raises(AttributeError) as info:
        module.no_such_thing
    assert type(info.value) is AttributeError
    assert str(info.value) == f"module '{module.__name__}' has no attribute 'no_such_thing'"
    assert not hasattr(module, "no_such_thing")


def test_existing_names_are_untouched():
    assert hasattr(ember, "compile") and ember.nn.Conv2d is ember.nn.modules.Conv2d and ember.optim.SGD
    assert {"linalg", "compile", "bfloat16", "fx"} <= set(TORCH_NAMES["ember"]) and "Conv2d" in TORCH_NAMES["ember.nn"]
    assert "os" not in TORCH_NAMES["ember"] and "Optional" not in TORCH_NAMES["ember.nn.functional"]


@pytest.mark.parametrize("name", ["__path__", "__wrapped__", "__signature__", "_fields", "__torch_function__"])
def test_dunder_and_private_lookups_are_plain_attribute_errors(name):
    with pytest.raises(AttributeError) as info:
        getattr(F, name)  # a module, not a package: no __path__
    assert type(info.value) is AttributeError
    if name != "__path__":
        assert type(pytest.raises(AttributeError, getattr, ember, name).value) is AttributeError


def test_dunder_lookups_do_not_load_the_name_list():
    code = ("import sys, ember, inspect; hasattr(ember, '__wrapped__'); inspect.unwrap(ember); "
            "hasattr(ember.nn, '__signature__'); print('ember._torch_names' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_star_and_submodule_imports():
    namespace = {}
    exec("from ember import *", namespace)
    assert namespace["tensor"] is ember.tensor and "fx" not in namespace
    with pytest.raises(ModuleNotFoundError, match="No module named 'ember.fx'"):
        importlib.import_module("ember.fx")
    with pytest.raises(ImportError):
        exec("from ember import fx", {})
    from ember.optim import lr_scheduler  # real submodules still import

    assert lr_scheduler is ember.optim.lr_scheduler


def test_a_submodule_not_imported_yet_is_imported_on_access(tmp_path, monkeypatch):
    (tmp_path / "fx.py").write_text("def norm(x):\n    return 'norm'\n")
    monkeypatch.setattr(ember, "__path__", [*ember.__path__, str(tmp_path)])
    try:
        assert ember.fx.norm(None) == "norm" and hasattr(ember, "fx")
    finally:
        sys.modules.pop("ember.fx", None)
        vars(ember).pop("fx", None)
        monkeypatch.undo()
    assert not hasattr(ember, "fx")


def test_pickling_and_inspection_still_work():
    layer = ember.nn.Linear(2, 3)
    clone = pickle.loads(pickle.dumps(layer))
    assert ember.equal(clone.weight, layer.weight)
    import inspect

    names = dict(inspect.getmembers(ember.nn))
    assert "Conv2d" in names and "AdaptiveLogSoftmaxWithLoss" not in names
