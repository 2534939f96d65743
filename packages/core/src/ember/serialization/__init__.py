"""Saving and loading tensors and state dicts (filled in by the save/load change)."""


def save(obj, f, **kwargs):
    raise NotImplementedError("ember.save is not implemented yet")


def load(f, map_location=None, weights_only=True, **kwargs):
    raise NotImplementedError("ember.load is not implemented yet")


__all__ = ["save", "load"]
