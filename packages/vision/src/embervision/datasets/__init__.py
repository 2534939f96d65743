"""``embervision.datasets``: torchvision's image datasets on Ember."""

import os as _os

from .cifar import CIFAR10, CIFAR100
from .fakedata import FakeData
from .folder import IMG_EXTENSIONS, DatasetFolder, ImageFolder, default_loader
from .mnist import EMNIST, KMNIST, MNIST, FashionMNIST
from .svhn import SVHN
from .vision import VisionDataset

BUNDLED_MNIST_ROOT = _os.path.join(_os.path.dirname(_os.path.dirname(__file__)), "_data", "mnist_small")


def mnist_small(train: bool = True, transform=None, target_transform=None) -> MNIST:
    """The small MNIST subset that ships with embervision (6,000 train / 1,000 test images)."""
    return MNIST(BUNDLED_MNIST_ROOT, train=train, transform=transform, target_transform=target_transform)


__all__ = [
    "VisionDataset", "MNIST", "FashionMNIST", "KMNIST", "EMNIST", "CIFAR10", "CIFAR100", "SVHN",
    "DatasetFolder", "ImageFolder", "FakeData", "IMG_EXTENSIONS", "default_loader", "mnist_small",
    "BUNDLED_MNIST_ROOT",
]
