"""SVHN (Street View House Numbers), cropped 32x32 digits, from the official .mat files."""

from __future__ import annotations

import os

import numpy as np
from PIL import Image

from ._matlab import MatFileError, loadmat
from .utils import check_integrity, download_url
from .vision import VisionDataset


class SVHN(VisionDataset):
    """`SVHN <http://ufldl.stanford.edu/housenumbers/>`_ with ``split`` in train, test, extra; label 10 maps to 0."""

    split_list = {
        "train": ["http://ufldl.stanford.edu/housenumbers/train_32x32.mat", "train_32x32.mat", "e26dedcc434d2e4c54c9b2d4a06d8373"],
        "test": ["http://ufldl.stanford.edu/housenumbers/test_32x32.mat", "test_32x32.mat", "eb5a983be6a315427106f1b164d9cef3"],
        "extra": ["http://ufldl.stanford.edu/housenumbers/extra_32x32.mat", "extra_32x32.mat", "a93ce644f1a588dc4d68dda5feec44a7"],
    }

    def __init__(self, root, split: str = "train", transform=None, target_transform=None, download: bool = False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        if split not in self.split_list:
            raise ValueError(f"Unknown value '{split}' for argument split. Valid values are {{'train', 'test', 'extra'}}.")
        self.split = split
        self.url, self.filename, self.file_md5 = self.split_list[split]
        if download:
            self.download()
        if not self._check_integrity():
            raise RuntimeError(
                f"Dataset not found or corrupted. You can use download=True to download it, or place "
                f"{self.filename} in {self.root}"
            )
        path = os.path.join(self.root, self.filename)
        try:
            mat = loadmat(path)
        except MatFileError as exc:
            raise RuntimeError(str(exc)) from exc
        if "X" not in mat or "y" not in mat:
            raise RuntimeError(f"{path} has no 'X' and 'y' arrays; it is not an SVHN file")
        self.data = np.ascontiguousarray(np.transpose(mat["X"], (3, 2, 0, 1)))
        self.labels = mat["y"].astype(np.int64).squeeze(1) if mat["y"].ndim == 2 else mat["y"].astype(np.int64)
        self.labels[self.labels == 10] = 0

    def __getitem__(self, index):
        img, target = self.data[index], int(self.labels[index])
        img = Image.fromarray(np.transpose(img, (1, 2, 0)))
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return len(self.data)

    def _check_integrity(self) -> bool:
        return check_integrity(os.path.join(self.root, self.filename), self.file_md5)

    def download(self) -> None:
        download_url(self.url, self.root, self.filename, self.file_md5)

    def extra_repr(self) -> str:
        return f"Split: {self.split}"
