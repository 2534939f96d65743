"""Model registry and ``weights=`` handling (a local checkpoint path or a state dict)."""

from __future__ import annotations

import os

import ember

BUILTIN_MODELS: dict = {}


def register_model(name=None):
    def wrapper(fn):
        key = name or fn.__name__
        if key in BUILTIN_MODELS:
            raise ValueError(f"An entry is already registered under the name '{key}'.")
        BUILTIN_MODELS[key] = fn
        return fn

    return wrapper


def list_models(module=None, include=None, exclude=None):
    """Names of the registered model builders (optionally filtered with fnmatch patterns)."""
    import fnmatch

    names = sorted(BUILTIN_MODELS)
    if module is not None:  # e.g. embervision.models: the builders defined in that package
        prefix = module.__name__ if hasattr(module, "__name__") else str(module)
        names = [n for n in names if (BUILTIN_MODELS[n].__module__ + ".").startswith(prefix + ".")]
    if include:
        names = [n for n in names if any(fnmatch.fnmatch(n, p) for p in ([include] if isinstance(include, str) else include))]
    if exclude:
        names = [n for n in names if not any(fnmatch.fnmatch(n, p) for p in ([exclude] if isinstance(exclude, str) else exclude))]
    return names


def get_model_builder(name: str):
    try:
        return BUILTIN_MODELS[name.lower()]
    except KeyError:
        raise ValueError(f"Unknown model {name}") from None


def get_model(name: str, **config):
    return get_model_builder(name)(**config)


def read_state_dict(weights):
    """The state dict that ``weights`` (a state dict, or a path to an Ember or PyTorch checkpoint) holds."""
    from ._weights import WeightsEnum

    if isinstance(weights, WeightsEnum):
        state = weights.get_state_dict(progress=True, check_hash=True)
    elif isinstance(weights, (str, os.PathLike)):
        state = ember.load(weights, map_location="cpu", weights_only=True)
    elif isinstance(weights, dict):
        state = weights
    else:
        raise NotImplementedError(
            f"weights={weights!r}: expected a *_Weights enum member (e.g. ResNet18_Weights.DEFAULT), a local "
            "checkpoint path (a torchvision .pth works) or a state dict"
        )
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    return state


def load_weights(model, weights, progress: bool = True, remap=None):
    """Load ``weights`` (None, a state dict, or a path to an Ember or PyTorch checkpoint) strictly into ``model``.

    Pretrained weight enums that need a download (``ResNet18_Weights.IMAGENET1K_V1``) are not available
    offline: convert the torchvision checkpoint once and pass its path.
    """
    if weights is None:
        return model
    state = read_state_dict(weights)
    if remap is not None:
        state = remap(state)
    model.load_state_dict(state, strict=True)
    return model
