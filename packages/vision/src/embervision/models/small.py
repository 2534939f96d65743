"""Small networks for 28x28 grey images (not in torchvision): the trainer's default model."""

from __future__ import annotations

from ember import nn

from ._api import load_weights, register_model


class MNISTNet(nn.Module):
    """The convolutional network of pytorch/examples' MNIST example (about 1.2M parameters).

    Two 3x3 convolutions, max pooling, dropout and two linear layers; reaches 99% on MNIST's test set
    after a few epochs.
    """

    def __init__(self, num_classes=10, in_channels=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, num_classes)

    def forward(self, x):
        F = nn.functional
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = self.dropout1(x).flatten(1)
        x = self.dropout2(F.relu(self.fc1(x)))
        return self.fc2(x)


@register_model()
def mnist_cnn(*, weights=None, progress=True, **kwargs):
    """The pytorch/examples MNIST CNN (for 1x28x28 inputs)."""
    return load_weights(MNISTNet(**kwargs), weights, progress)
