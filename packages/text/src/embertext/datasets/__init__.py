"""``embertext.datasets``: torchtext's text datasets as plain Ember datasets (no torchdata).

Each builder takes torchtext's ``root`` (default ``.data``; files under ``<root>/datasets/<NAME>``) and
``split`` (one name returns one dataset, a tuple returns a tuple), downloads what is missing with a
progress bar, resume and a checksum check, and returns a map-style dataset that also streams when iterated.
"""

import os as _os

from .ag_news import AG_NEWS
from .amazonreviewpolarity import AmazonReviewPolarity
from .imdb import IMDB
from .multi30k import Multi30k
from .penntreebank import PennTreebank
from .sst2 import SST2
from .wikitext2 import WikiText2
from .yelpreviewpolarity import YelpReviewPolarity

BUNDLED_SST2_ROOT = _os.path.join(_os.path.dirname(_os.path.dirname(__file__)), "_data", "sst2_small")


def sst2_small(split="train"):
    """The small SST-2 subset that ships with embertext (6,000 train / 872 dev sentences), read by
    :func:`SST2`; yields ``(text, label)``. Splits: ``"train"``, ``"dev"``."""
    if split not in ("train", "dev") and not (isinstance(split, tuple) and set(split) <= {"train", "dev"}):
        raise ValueError(f"sst2_small has the splits 'train' and 'dev', not {split!r}")
    return SST2(BUNDLED_SST2_ROOT, split=split)


DATASETS = {
    "AG_NEWS": AG_NEWS,
    "AmazonReviewPolarity": AmazonReviewPolarity,
    "IMDB": IMDB,
    "Multi30k": Multi30k,
    "PennTreebank": PennTreebank,
    "SST2": SST2,
    "WikiText2": WikiText2,
    "YelpReviewPolarity": YelpReviewPolarity,
}

__all__ = list(DATASETS) + ["DATASETS", "sst2_small", "BUNDLED_SST2_ROOT"]
