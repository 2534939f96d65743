"""RegNet X and Y (Radosavovic et al. 2020) with torchvision's module names and stage widths."""

from __future__ import annotations

import math
from collections import OrderedDict
from functools import partial

import numpy as np

from ember import nn

from ..ops.misc import Conv2dNormActivation, SqueezeExcitation
from ._api import load_weights, register_model
from .mobilenetv2 import _make_divisible


class SimpleStemIN(Conv2dNormActivation):
    """ImageNet stem: 3x3 stride-2 conv, norm, activation."""

    def __init__(self, width_in, width_out, norm_layer, activation_layer):
        super().__init__(width_in, width_out, kernel_size=3, stride=2, norm_layer=norm_layer,
                         activation_layer=activation_layer)


class BottleneckTransform(nn.Sequential):
    """1x1, grouped 3x3 (+ squeeze-excitation), 1x1."""

    def __init__(self, width_in, width_out, stride, norm_layer, activation_layer, group_width, bottleneck_multiplier,
                 se_ratio):
        layers = OrderedDict()
        w_b = int(round(width_out * bottleneck_multiplier))
        layers["a"] = Conv2dNormActivation(width_in, w_b, kernel_size=1, stride=1, norm_layer=norm_layer,
                                           activation_layer=activation_layer)
        layers["b"] = Conv2dNormActivation(w_b, w_b, kernel_size=3, stride=stride, groups=w_b // group_width,
                                           norm_layer=norm_layer, activation_layer=activation_layer)
        if se_ratio:
            layers["se"] = SqueezeExcitation(w_b, int(round(se_ratio * width_in)), activation=activation_layer)
        layers["c"] = Conv2dNormActivation(w_b, width_out, kernel_size=1, stride=1, norm_layer=norm_layer,
                                           activation_layer=None)
        super().__init__(layers)


class ResBottleneckBlock(nn.Module):
    """``activation(proj(x) + f(x))`` with a projection shortcut when the shape changes."""

    def __init__(self, width_in, width_out, stride, norm_layer, activation_layer, group_width=1,
                 bottleneck_multiplier=1.0, se_ratio=None):
        super().__init__()
        self.proj = None
        if width_in != width_out or stride != 1:
            self.proj = Conv2dNormActivation(width_in, width_out, kernel_size=1, stride=stride, norm_layer=norm_layer,
                                             activation_layer=None)
        self.f = BottleneckTransform(width_in, width_out, stride, norm_layer, activation_layer, group_width,
                                     bottleneck_multiplier, se_ratio)
        self.activation = activation_layer(inplace=True)

    def forward(self, x):
        return self.activation((self.proj(x) if self.proj is not None else x) + self.f(x))


class AnyStage(nn.Sequential):
    """A stage of ``depth`` blocks named ``block{stage}-{i}``."""

    def __init__(self, width_in, width_out, stride, depth, block_constructor, norm_layer, activation_layer,
                 group_width, bottleneck_multiplier, se_ratio=None, stage_index=0):
        super().__init__()
        for i in range(depth):
            self.add_module(f"block{stage_index}-{i}", block_constructor(
                width_in if i == 0 else width_out, width_out, stride if i == 0 else 1, norm_layer, activation_layer,
                group_width, bottleneck_multiplier, se_ratio))


class BlockParams:
    """Per-stage depths, widths, group widths, bottleneck multipliers and strides."""

    def __init__(self, depths, widths, group_widths, bottleneck_multipliers, strides, se_ratio=None):
        self.depths = depths
        self.widths = widths
        self.group_widths = group_widths
        self.bottleneck_multipliers = bottleneck_multipliers
        self.strides = strides
        self.se_ratio = se_ratio

    @classmethod
    def from_init_params(cls, depth, w_0, w_a, w_m, group_width, bottleneck_multiplier=1.0, se_ratio=None, **kwargs):
        """The quantized linear width rule of the paper (section 3.3)."""
        if w_a < 0 or w_0 <= 0 or w_m <= 1 or w_0 % 8 != 0:
            raise ValueError("Invalid RegNet settings")
        # float32 throughout, as torchvision computes it, so that rounding ties land the same way
        f32 = np.float32
        widths_cont = np.arange(depth).astype(f32) * f32(w_a) + f32(w_0)
        capacity = np.round(np.log(widths_cont / f32(w_0)) / f32(math.log(w_m))).astype(f32)
        block_widths = (np.round((f32(w_0) * np.power(f32(w_m), capacity)) / f32(8)) * 8).astype(np.int64).tolist()
        num_stages = len(set(block_widths))
        splits = [w != wp for w, wp in zip(block_widths + [0], [0] + block_widths)]
        stage_widths = [w for w, t in zip(block_widths, splits[:-1]) if t]
        stage_depths = np.diff([d for d, t in enumerate(splits) if t]).astype(int).tolist()
        multipliers = [bottleneck_multiplier] * num_stages
        stage_widths, group_widths = cls._adjust_widths_groups_compatibilty(stage_widths, multipliers,
                                                                             [group_width] * num_stages)
        return cls(stage_depths, stage_widths, group_widths, multipliers, [2] * num_stages, se_ratio)

    def _get_expanded_params(self):
        return zip(self.widths, self.strides, self.depths, self.group_widths, self.bottleneck_multipliers)

    @staticmethod
    def _adjust_widths_groups_compatibilty(stage_widths, bottleneck_ratios, group_widths):
        widths = [int(w * b) for w, b in zip(stage_widths, bottleneck_ratios)]
        group_widths_min = [min(g, w) for g, w in zip(group_widths, widths)]
        ws_bot = [_make_divisible(w, g) for w, g in zip(widths, group_widths_min)]
        return [int(w / b) for w, b in zip(ws_bot, bottleneck_ratios)], group_widths_min


class RegNet(nn.Module):
    """RegNet from :class:`BlockParams`."""

    def __init__(self, block_params, num_classes=1000, stem_width=32, stem_type=None, block_type=None,
                 norm_layer=None, activation=None):
        super().__init__()
        stem_type = stem_type or SimpleStemIN
        norm_layer = norm_layer or nn.BatchNorm2d
        block_type = block_type or ResBottleneckBlock
        activation = activation or nn.ReLU
        self.stem = stem_type(3, stem_width, norm_layer, activation)
        width = stem_width
        blocks = []
        for i, (w_out, stride, depth, gw, bm) in enumerate(block_params._get_expanded_params()):
            blocks.append((f"block{i + 1}", AnyStage(width, w_out, stride, depth, block_type, norm_layer, activation, gw,
                                                     bm, block_params.se_ratio, stage_index=i + 1)))
            width = w_out
        self.trunk_output = nn.Sequential(OrderedDict(blocks))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(in_features=width, out_features=num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                nn.init.normal_(m.weight, mean=0.0, std=math.sqrt(2.0 / fan_out))
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, mean=0.0, std=0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        return self.fc(self.avgpool(self.trunk_output(self.stem(x))).flatten(start_dim=1))


# name: (depth, w_0, w_a, w_m, group_width, se_ratio)
_PARAMS = {
    "regnet_y_400mf": (16, 48, 27.89, 2.09, 8, 0.25), "regnet_y_800mf": (14, 56, 38.84, 2.4, 16, 0.25),
    "regnet_y_1_6gf": (27, 48, 20.71, 2.65, 24, 0.25), "regnet_y_3_2gf": (21, 80, 42.63, 2.66, 24, 0.25),
    "regnet_y_8gf": (17, 192, 76.82, 2.19, 56, 0.25), "regnet_y_16gf": (18, 200, 106.23, 2.48, 112, 0.25),
    "regnet_y_32gf": (20, 232, 115.89, 2.53, 232, 0.25), "regnet_y_128gf": (27, 456, 160.83, 2.52, 264, 0.25),
    "regnet_x_400mf": (22, 24, 24.48, 2.54, 16, None), "regnet_x_800mf": (16, 56, 35.73, 2.28, 16, None),
    "regnet_x_1_6gf": (18, 80, 34.01, 2.25, 24, None), "regnet_x_3_2gf": (25, 88, 26.31, 2.25, 48, None),
    "regnet_x_8gf": (23, 80, 49.56, 2.88, 120, None), "regnet_x_16gf": (22, 216, 55.59, 2.1, 128, None),
    "regnet_x_32gf": (23, 320, 69.86, 2.0, 168, None),
}


def _builder(arch):
    depth, w_0, w_a, w_m, gw, se = _PARAMS[arch]

    def build(*, weights=None, progress=True, **kwargs):
        params = BlockParams.from_init_params(depth=depth, w_0=w_0, w_a=w_a, w_m=w_m, group_width=gw, se_ratio=se,
                                              **{k: kwargs.pop(k) for k in ("bottleneck_multiplier",) if k in kwargs})
        norm_layer = kwargs.pop("norm_layer", partial(nn.BatchNorm2d, eps=1e-05, momentum=0.1))
        return load_weights(RegNet(params, norm_layer=norm_layer, **kwargs), weights, progress)

    build.__name__ = build.__qualname__ = arch
    build.__doc__ = f"{arch} with torchvision's configuration."
    return register_model(arch)(build)


regnet_y_400mf = _builder("regnet_y_400mf")
regnet_y_800mf = _builder("regnet_y_800mf")
regnet_y_1_6gf = _builder("regnet_y_1_6gf")
regnet_y_3_2gf = _builder("regnet_y_3_2gf")
regnet_y_8gf = _builder("regnet_y_8gf")
regnet_y_16gf = _builder("regnet_y_16gf")
regnet_y_32gf = _builder("regnet_y_32gf")
regnet_y_128gf = _builder("regnet_y_128gf")
regnet_x_400mf = _builder("regnet_x_400mf")
regnet_x_800mf = _builder("regnet_x_800mf")
regnet_x_1_6gf = _builder("regnet_x_1_6gf")
regnet_x_3_2gf = _builder("regnet_x_3_2gf")
regnet_x_8gf = _builder("regnet_x_8gf")
regnet_x_16gf = _builder("regnet_x_16gf")
regnet_x_32gf = _builder("regnet_x_32gf")
