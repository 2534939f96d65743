"""ShuffleNetV2 (Ma et al. 2018) x0.5/x1.0/x1.5/x2.0 with torchvision's module names."""

from __future__ import annotations

import ember
from ember import nn

from ._api import load_weights, register_model


def channel_shuffle(x, groups: int):
    """Interleave the channels of ``groups`` equal groups."""
    b, c, h, w = x.shape
    x = x.reshape(b, groups, c // groups, h, w).transpose(1, 2)
    return x.reshape(b, c, h, w)


class InvertedResidual(nn.Module):
    def __init__(self, inp, oup, stride):
        super().__init__()
        if not 1 <= stride <= 3:
            raise ValueError("illegal stride value")
        self.stride = stride
        bf = oup // 2
        if stride == 1 and inp != bf << 1:
            raise ValueError(f"Invalid combination of stride {stride}, inp {inp} and oup {oup} values. "
                             "If stride == 1 then inp should be equal to oup // 2 << 1.")
        if stride > 1:
            self.branch1 = nn.Sequential(
                self.depthwise_conv(inp, inp, kernel_size=3, stride=stride, padding=1), nn.BatchNorm2d(inp),
                nn.Conv2d(inp, bf, kernel_size=1, stride=1, padding=0, bias=False), nn.BatchNorm2d(bf),
                nn.ReLU(inplace=True),
            )
        else:
            self.branch1 = nn.Sequential()
        self.branch2 = nn.Sequential(
            nn.Conv2d(inp if stride > 1 else bf, bf, kernel_size=1, stride=1, padding=0, bias=False), nn.BatchNorm2d(bf),
            nn.ReLU(inplace=True),
            self.depthwise_conv(bf, bf, kernel_size=3, stride=stride, padding=1), nn.BatchNorm2d(bf),
            nn.Conv2d(bf, bf, kernel_size=1, stride=1, padding=0, bias=False), nn.BatchNorm2d(bf), nn.ReLU(inplace=True),
        )

    @staticmethod
    def depthwise_conv(i, o, kernel_size, stride=1, padding=0, bias=False):
        return nn.Conv2d(i, o, kernel_size, stride, padding, bias=bias, groups=i)

    def forward(self, x):
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            out = ember.cat((x1, self.branch2(x2)), dim=1)
        else:
            out = ember.cat((self.branch1(x), self.branch2(x)), dim=1)
        return channel_shuffle(out, 2)


class ShuffleNetV2(nn.Module):
    """ShuffleNetV2 with three stages of ``stages_repeats`` blocks and widths ``stages_out_channels`` (5 values)."""

    def __init__(self, stages_repeats, stages_out_channels, num_classes=1000, inverted_residual=InvertedResidual):
        super().__init__()
        if len(stages_repeats) != 3:
            raise ValueError("expected stages_repeats as list of 3 positive ints")
        if len(stages_out_channels) != 5:
            raise ValueError("expected stages_out_channels as list of 5 positive ints")
        self._stage_out_channels = stages_out_channels
        c = stages_out_channels[0]
        self.conv1 = nn.Sequential(nn.Conv2d(3, c, 3, 2, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True))
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        for name, repeats, out in zip(("stage2", "stage3", "stage4"), stages_repeats, stages_out_channels[1:]):
            seq = [inverted_residual(c, out, 2)] + [inverted_residual(out, out, 1) for _ in range(repeats - 1)]
            setattr(self, name, nn.Sequential(*seq))
            c = out
        out = stages_out_channels[-1]
        self.conv5 = nn.Sequential(nn.Conv2d(c, out, 1, 1, 0, bias=False), nn.BatchNorm2d(out), nn.ReLU(inplace=True))
        self.fc = nn.Linear(out, num_classes)

    def forward(self, x):
        x = self.stage4(self.stage3(self.stage2(self.maxpool(self.conv1(x)))))
        return self.fc(self.conv5(x).mean([2, 3]))


def _shufflenetv2(weights, progress, repeats, channels, kwargs):
    return load_weights(ShuffleNetV2(repeats, channels, **kwargs), weights, progress)


@register_model()
def shufflenet_v2_x0_5(*, weights=None, progress=True, **kwargs):
    """ShuffleNetV2 with 0.5x output channels."""
    return _shufflenetv2(weights, progress, [4, 8, 4], [24, 48, 96, 192, 1024], kwargs)


@register_model()
def shufflenet_v2_x1_0(*, weights=None, progress=True, **kwargs):
    """ShuffleNetV2 with 1.0x output channels."""
    return _shufflenetv2(weights, progress, [4, 8, 4], [24, 116, 232, 464, 1024], kwargs)


@register_model()
def shufflenet_v2_x1_5(*, weights=None, progress=True, **kwargs):
    """ShuffleNetV2 with 1.5x output channels."""
    return _shufflenetv2(weights, progress, [4, 8, 4], [24, 176, 352, 704, 1024], kwargs)


@register_model()
def shufflenet_v2_x2_0(*, weights=None, progress=True, **kwargs):
    """ShuffleNetV2 with 2.0x output channels."""
    return _shufflenetv2(weights, progress, [4, 8, 4], [24, 244, 488, 976, 2048], kwargs)
