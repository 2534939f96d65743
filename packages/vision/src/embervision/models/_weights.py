"""Pretrained-weight enums (``ResNet18_Weights.DEFAULT``), built from torchvision's recorded weight tables.

Checkpoints are read from ``<ember.hub.get_dir()>/checkpoints/<file name of the URL>``; a missing file is
downloaded there, and offline the error names the URL and that path.
"""

from __future__ import annotations

import enum
import json
import lzma
import os
import pathlib
from dataclasses import dataclass
from functools import partial

import ember

_META = json.loads(lzma.decompress((pathlib.Path(__file__).parent / "_weights_meta.json.xz").read_bytes()))
_IMAGENET_CATEGORIES = _META["imagenet_categories"]


@dataclass(eq=False)
class Weights:
    """A checkpoint URL, the inference transform that goes with it, and its metadata."""

    url: str
    transforms: object
    meta: dict


class WeightsEnum(enum.Enum):
    """Base of the ``*_Weights`` enums; members' values are :class:`Weights`."""

    @classmethod
    def verify(cls, obj):
        if obj is None or isinstance(obj, cls):
            return obj
        if isinstance(obj, str):
            name = obj.replace(cls.__name__ + ".", "")
            if name not in cls.__members__:
                raise ValueError(f"Failed to find Weights {obj} in {cls.__name__}.")
            return cls.__members__[name]
        raise TypeError(f"Invalid Weight class provided; expected {cls.__name__} but received {obj.__class__.__name__}.")

    @property
    def url(self):
        return self.value.url

    @property
    def transforms(self):
        return self.value.transforms

    @property
    def meta(self):
        return self.value.meta

    def checkpoint_path(self):
        """Where the checkpoint is looked for (and downloaded to)."""
        return os.path.join(ember.hub.get_dir(), "checkpoints", os.path.basename(self.url))

    def get_state_dict(self, progress: bool = True, check_hash: bool = False):
        """Load the checkpoint from the hub cache, downloading it first when it is not there."""
        path = self.checkpoint_path()
        if not os.path.exists(path):
            stem = os.path.basename(self.url).rsplit(".", 1)[0]
            prefix = stem.rsplit("-", 1)[-1] if check_hash and "-" in stem else None
            ember.hub.download_url_to_file(self.url, path, hash_prefix=prefix, progress=progress)
        return ember.load(path, map_location="cpu", weights_only=True)

    def __repr__(self):
        return f"{self.__class__.__name__}.{self._name_}"


def _make_enum(name, table):
    from ..transforms._presets import ImageClassification
    from ..transforms.functional import InterpolationMode

    members = {}
    for member, spec in table["members"].items():
        kw = dict(spec["transforms"])
        if "interpolation" in kw:
            kw["interpolation"] = InterpolationMode(kw["interpolation"])
        meta = dict(spec["meta"])
        if meta.get("categories") == "imagenet":
            meta["categories"] = list(_IMAGENET_CATEGORIES)
        if "min_size" in meta:
            meta["min_size"] = tuple(meta["min_size"])
        members[member] = Weights(spec["url"], partial(ImageClassification, **kw), meta)
    cls = WeightsEnum(name, members, module=__name__)
    if table["default"] is not None:
        # an alias member, as torchvision's ``DEFAULT = IMAGENET1K_V1``
        cls._member_map_["DEFAULT"] = cls[table["default"]]
    return cls


WEIGHTS = {name: _make_enum(name, table) for name, table in _META["enums"].items()}
_BUILDER_WEIGHTS = _META["builders"]


def get_model_weights(name):
    """The weights enum of the builder ``name`` (a string or the builder itself)."""
    key = name if isinstance(name, str) else getattr(name, "__name__", "")
    key = key.lower()
    if key not in _BUILDER_WEIGHTS:
        raise ValueError(f"Unknown model {name}")
    return WEIGHTS[_BUILDER_WEIGHTS[key]]


def get_weight(name: str):
    """A weights member from its full name, e.g. ``"ResNet50_Weights.IMAGENET1K_V2"``."""
    try:
        enum_name, member = name.split(".")
        return WEIGHTS[enum_name].verify(member)
    except (ValueError, KeyError):
        raise ValueError(f"Invalid weight name provided: '{name}'.") from None
