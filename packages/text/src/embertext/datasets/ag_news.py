"""AG's news topic classification, torchtext's ``AG_NEWS``."""

from __future__ import annotations

import os

from ._parsers import csv_label_text
from ._utils import TextFileDataset, fetch_file, wrap_split

URL = {
    "train": "https://raw.githubusercontent.com/mhjabreel/CharCnn_Keras/master/data/ag_news_csv/train.csv",
    "test": "https://raw.githubusercontent.com/mhjabreel/CharCnn_Keras/master/data/ag_news_csv/test.csv",
}
MD5 = {"train": "b1a00f826fdfbd249f79597b59e1dc12", "test": "d52ea96a97a2d943681189a97654912d"}
NUM_LINES = {"train": 120000, "test": 7600}
DATASET_NAME = "AG_NEWS"
LABELS = ("World", "Sports", "Business", "Sci/Tech")


@wrap_split(("train", "test"), DATASET_NAME)
def AG_NEWS(root, split):
    """AG_NEWS: news titles and descriptions in 4 classes (1 World, 2 Sports, 3 Business, 4 Sci/Tech).

    Files: ``<root>/datasets/AG_NEWS/{train,test}.csv`` (downloaded when missing, MD5-checked).
    Lines per split: train 120000, test 7600.

    Returns:
        a dataset (or a tuple of them) yielding ``(label, text)`` with ``label`` in 1..4 and ``text`` the
        CSV's remaining fields joined by spaces.
    """
    path = fetch_file(URL[split], os.path.join(root, split + ".csv"), md5=MD5[split])
    return TextFileDataset(DATASET_NAME, split, path, csv_label_text)
