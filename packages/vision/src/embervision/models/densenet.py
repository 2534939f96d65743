"""DenseNet-121/161/169/201 (Huang et al. 2017) with torchvision's module names."""

from __future__ import annotations

import re
from collections import OrderedDict

import ember
from ember import nn
from ember.nn import functional as F
from ember.utils.checkpoint import checkpoint

from ._api import load_weights, register_model


class _DenseLayer(nn.Module):
    def __init__(self, num_input_features, growth_rate, bn_size, drop_rate, memory_efficient=False):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(num_input_features)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(num_input_features, bn_size * growth_rate, kernel_size=1, stride=1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, kernel_size=3, stride=1, padding=1, bias=False)
        self.drop_rate = float(drop_rate)
        self.memory_efficient = memory_efficient

    def bn_function(self, inputs):
        return self.conv1(self.relu1(self.norm1(ember.cat(list(inputs), 1))))

    def forward(self, input):
        prev = [input] if isinstance(input, ember.Tensor) else input
        if self.memory_efficient and any(t.requires_grad for t in prev):
            # recompute the concatenated bottleneck in backward instead of storing it
            out = checkpoint(lambda *xs: self.bn_function(xs), *prev, use_reentrant=False)
        else:
            out = self.bn_function(prev)
        new = self.conv2(self.relu2(self.norm2(out)))
        if self.drop_rate > 0:
            new = F.dropout(new, p=self.drop_rate, training=self.training)
        return new


class _DenseBlock(nn.ModuleDict):
    _version = 2

    def __init__(self, num_layers, num_input_features, bn_size, growth_rate, drop_rate, memory_efficient=False):
        super().__init__()
        for i in range(num_layers):
            self.add_module(f"denselayer{i + 1}", _DenseLayer(num_input_features + i * growth_rate, growth_rate=growth_rate,
                                                              bn_size=bn_size, drop_rate=drop_rate,
                                                              memory_efficient=memory_efficient))

    def forward(self, init_features):
        features = [init_features]
        for _, layer in self.items():
            features.append(layer(features))
        return ember.cat(features, 1)


class _Transition(nn.Sequential):
    def __init__(self, num_input_features, num_output_features):
        super().__init__()
        self.norm = nn.BatchNorm2d(num_input_features)
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(num_input_features, num_output_features, kernel_size=1, stride=1, bias=False)
        self.pool = nn.AvgPool2d(kernel_size=2, stride=2)


class DenseNet(nn.Module):
    """DenseNet-BC: dense blocks of ``block_config`` layers, each adding ``growth_rate`` channels."""

    def __init__(self, growth_rate=32, block_config=(6, 12, 24, 16), num_init_features=64, bn_size=4, drop_rate=0,
                 num_classes=1000, memory_efficient=False):
        super().__init__()
        self.features = nn.Sequential(OrderedDict([
            ("conv0", nn.Conv2d(3, num_init_features, kernel_size=7, stride=2, padding=3, bias=False)),
            ("norm0", nn.BatchNorm2d(num_init_features)),
            ("relu0", nn.ReLU(inplace=True)),
            ("pool0", nn.MaxPool2d(kernel_size=3, stride=2, padding=1)),
        ]))
        n = num_init_features
        for i, num_layers in enumerate(block_config):
            self.features.add_module(f"denseblock{i + 1}", _DenseBlock(num_layers, n, bn_size, growth_rate, drop_rate,
                                                                       memory_efficient))
            n += num_layers * growth_rate
            if i != len(block_config) - 1:
                self.features.add_module(f"transition{i + 1}", _Transition(n, n // 2))
                n //= 2
        self.features.add_module("norm5", nn.BatchNorm2d(n))
        self.classifier = nn.Linear(n, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        out = F.adaptive_avg_pool2d(F.relu(self.features(x)), (1, 1))
        return self.classifier(ember.flatten(out, 1))


# torchvision's published DenseNet checkpoints predate the module renaming: "norm.1" is today's "norm1"
_LEGACY = re.compile(r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$")


def _remap_legacy(state):
    out = {}
    for k, v in state.items():
        m = _LEGACY.match(k)
        out[m.group(1) + m.group(2) if m else k] = v
    return out


def _densenet(growth_rate, block_config, num_init_features, weights, progress, kwargs):
    model = DenseNet(growth_rate, block_config, num_init_features, **kwargs)
    return load_weights(model, weights, progress, remap=_remap_legacy)


@register_model()
def densenet121(*, weights=None, progress=True, **kwargs):
    """DenseNet-121."""
    return _densenet(32, (6, 12, 24, 16), 64, weights, progress, kwargs)


@register_model()
def densenet161(*, weights=None, progress=True, **kwargs):
    """DenseNet-161."""
    return _densenet(48, (6, 12, 36, 24), 96, weights, progress, kwargs)


@register_model()
def densenet169(*, weights=None, progress=True, **kwargs):
    """DenseNet-169."""
    return _densenet(32, (6, 12, 32, 32), 64, weights, progress, kwargs)


@register_model()
def densenet201(*, weights=None, progress=True, **kwargs):
    """DenseNet-201."""
    return _densenet(32, (6, 12, 48, 32), 64, weights, progress, kwargs)
