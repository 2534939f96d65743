"""EfficientNet B0-B7 (Tan & Le 2019) and EfficientNetV2 S/M/L (Tan & Le 2021) with torchvision's module names."""

from __future__ import annotations

import copy
import math
from functools import partial

import ember
from ember import nn

from ..ops.misc import Conv2dNormActivation, SqueezeExcitation
from ..ops.stochastic_depth import StochasticDepth
from ._api import load_weights, register_model
from .mobilenetv2 import _make_divisible


class _MBConvConfig:
    def __init__(self, expand_ratio, kernel, stride, input_channels, out_channels, num_layers, block):
        self.expand_ratio = expand_ratio
        self.kernel = kernel
        self.stride = stride
        self.input_channels = input_channels
        self.out_channels = out_channels
        self.num_layers = num_layers
        self.block = block

    @staticmethod
    def adjust_channels(channels, width_mult, min_value=None):
        return _make_divisible(channels * width_mult, 8, min_value)


class MBConvConfig(_MBConvConfig):
    """A stage of MBConv blocks; channels and depth scaled by ``width_mult`` / ``depth_mult``."""

    def __init__(self, expand_ratio, kernel, stride, input_channels, out_channels, num_layers, width_mult=1.0,
                 depth_mult=1.0, block=None):
        super().__init__(expand_ratio, kernel, stride, self.adjust_channels(input_channels, width_mult),
                         self.adjust_channels(out_channels, width_mult), self.adjust_depth(num_layers, depth_mult),
                         block or MBConv)

    @staticmethod
    def adjust_depth(num_layers, depth_mult):
        return int(math.ceil(num_layers * depth_mult))


class FusedMBConvConfig(_MBConvConfig):
    """A stage of Fused-MBConv blocks (EfficientNetV2)."""

    def __init__(self, expand_ratio, kernel, stride, input_channels, out_channels, num_layers, block=None):
        super().__init__(expand_ratio, kernel, stride, input_channels, out_channels, num_layers, block or FusedMBConv)


class MBConv(nn.Module):
    def __init__(self, cnf, stochastic_depth_prob, norm_layer, se_layer=SqueezeExcitation):
        super().__init__()
        if not 1 <= cnf.stride <= 2:
            raise ValueError("illegal stride value")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        expanded = cnf.adjust_channels(cnf.input_channels, cnf.expand_ratio)
        layers = []
        if expanded != cnf.input_channels:
            layers.append(Conv2dNormActivation(cnf.input_channels, expanded, kernel_size=1, norm_layer=norm_layer,
                                               activation_layer=nn.SiLU))
        layers.append(Conv2dNormActivation(expanded, expanded, kernel_size=cnf.kernel, stride=cnf.stride, groups=expanded,
                                           norm_layer=norm_layer, activation_layer=nn.SiLU))
        layers.append(se_layer(expanded, max(1, cnf.input_channels // 4), activation=partial(nn.SiLU, inplace=True)))
        layers.append(Conv2dNormActivation(expanded, cnf.out_channels, kernel_size=1, norm_layer=norm_layer,
                                           activation_layer=None))
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")
        self.out_channels = cnf.out_channels

    def forward(self, input):
        result = self.block(input)
        if self.use_res_connect:
            result = self.stochastic_depth(result) + input
        return result


class FusedMBConv(nn.Module):
    def __init__(self, cnf, stochastic_depth_prob, norm_layer):
        super().__init__()
        if not 1 <= cnf.stride <= 2:
            raise ValueError("illegal stride value")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        expanded = cnf.adjust_channels(cnf.input_channels, cnf.expand_ratio)
        if expanded != cnf.input_channels:
            layers = [
                Conv2dNormActivation(cnf.input_channels, expanded, kernel_size=cnf.kernel, stride=cnf.stride,
                                     norm_layer=norm_layer, activation_layer=nn.SiLU),
                Conv2dNormActivation(expanded, cnf.out_channels, kernel_size=1, norm_layer=norm_layer,
                                     activation_layer=None),
            ]
        else:
            layers = [Conv2dNormActivation(cnf.input_channels, cnf.out_channels, kernel_size=cnf.kernel,
                                           stride=cnf.stride, norm_layer=norm_layer, activation_layer=nn.SiLU)]
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")
        self.out_channels = cnf.out_channels

    def forward(self, input):
        result = self.block(input)
        if self.use_res_connect:
            result = self.stochastic_depth(result) + input
        return result


class EfficientNet(nn.Module):
    """EfficientNet from a list of (Fused)MBConv stage configs."""

    def __init__(self, inverted_residual_setting, dropout, stochastic_depth_prob=0.2, num_classes=1000,
                 norm_layer=None, last_channel=None):
        super().__init__()
        if not inverted_residual_setting:
            raise ValueError("The inverted_residual_setting should not be empty")
        if not all(isinstance(s, _MBConvConfig) for s in inverted_residual_setting):
            raise TypeError("The inverted_residual_setting should be List[MBConvConfig]")
        norm_layer = norm_layer or nn.BatchNorm2d
        layers = [Conv2dNormActivation(3, inverted_residual_setting[0].input_channels, kernel_size=3, stride=2,
                                       norm_layer=norm_layer, activation_layer=nn.SiLU)]
        total = sum(cnf.num_layers for cnf in inverted_residual_setting)
        block_id = 0
        for cnf in inverted_residual_setting:
            stage = []
            for _ in range(cnf.num_layers):
                bc = copy.copy(cnf)
                if stage:
                    bc.input_channels, bc.stride = bc.out_channels, 1
                stage.append(bc.block(bc, stochastic_depth_prob * float(block_id) / total, norm_layer))
                block_id += 1
            layers.append(nn.Sequential(*stage))
        last_in = inverted_residual_setting[-1].out_channels
        last_out = last_channel if last_channel is not None else 4 * last_in
        layers.append(Conv2dNormActivation(last_in, last_out, kernel_size=1, norm_layer=norm_layer,
                                           activation_layer=nn.SiLU))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout, inplace=True), nn.Linear(last_out, num_classes))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                r = 1.0 / math.sqrt(m.out_features)
                nn.init.uniform_(m.weight, -r, r)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        return self.classifier(ember.flatten(self.avgpool(self.features(x)), 1))


def _efficientnet_conf(arch, width_mult=1.0, depth_mult=1.0):
    if arch.startswith("efficientnet_b"):
        b = partial(MBConvConfig, width_mult=width_mult, depth_mult=depth_mult)
        return [b(1, 3, 1, 32, 16, 1), b(6, 3, 2, 16, 24, 2), b(6, 5, 2, 24, 40, 2), b(6, 3, 2, 40, 80, 3),
                b(6, 5, 1, 80, 112, 3), b(6, 5, 2, 112, 192, 4), b(6, 3, 1, 192, 320, 1)], None
    F, M = FusedMBConvConfig, MBConvConfig
    if arch.startswith("efficientnet_v2_s"):
        return [F(1, 3, 1, 24, 24, 2), F(4, 3, 2, 24, 48, 4), F(4, 3, 2, 48, 64, 4), M(4, 3, 2, 64, 128, 6),
                M(6, 3, 1, 128, 160, 9), M(6, 3, 2, 160, 256, 15)], 1280
    if arch.startswith("efficientnet_v2_m"):
        return [F(1, 3, 1, 24, 24, 3), F(4, 3, 2, 24, 48, 5), F(4, 3, 2, 48, 80, 5), M(4, 3, 2, 80, 160, 7),
                M(6, 3, 1, 160, 176, 14), M(6, 3, 2, 176, 304, 18), M(6, 3, 1, 304, 512, 5)], 1280
    if arch.startswith("efficientnet_v2_l"):
        return [F(1, 3, 1, 32, 32, 4), F(4, 3, 2, 32, 64, 7), F(4, 3, 2, 64, 96, 7), M(4, 3, 2, 96, 192, 10),
                M(6, 3, 1, 192, 224, 19), M(6, 3, 2, 224, 384, 25), M(6, 3, 1, 384, 640, 7)], 1280
    raise ValueError(f"Unsupported model type {arch}")


# name: (width_mult, depth_mult, dropout, batch-norm kwargs)
_CONFIGS = {
    "efficientnet_b0": (1.0, 1.0, 0.2, None), "efficientnet_b1": (1.0, 1.1, 0.2, None),
    "efficientnet_b2": (1.1, 1.2, 0.3, None), "efficientnet_b3": (1.2, 1.4, 0.3, None),
    "efficientnet_b4": (1.4, 1.8, 0.4, None), "efficientnet_b5": (1.6, 2.2, 0.4, {"eps": 0.001, "momentum": 0.01}),
    "efficientnet_b6": (1.8, 2.6, 0.5, {"eps": 0.001, "momentum": 0.01}),
    "efficientnet_b7": (2.0, 3.1, 0.5, {"eps": 0.001, "momentum": 0.01}),
    "efficientnet_v2_s": (1.0, 1.0, 0.2, {"eps": 1e-03}), "efficientnet_v2_m": (1.0, 1.0, 0.3, {"eps": 1e-03}),
    "efficientnet_v2_l": (1.0, 1.0, 0.4, {"eps": 1e-03}),
}


def _efficientnet(arch, weights, progress, kwargs):
    width, depth, dropout, bn = _CONFIGS[arch]
    setting, last_channel = _efficientnet_conf(arch, width, depth)
    if bn is not None:
        kwargs.setdefault("norm_layer", partial(nn.BatchNorm2d, **bn))
    model = EfficientNet(setting, kwargs.pop("dropout", dropout), last_channel=last_channel, **kwargs)
    return load_weights(model, weights, progress)


def _builder(arch):
    def build(*, weights=None, progress=True, **kwargs):
        return _efficientnet(arch, weights, progress, kwargs)

    build.__name__ = build.__qualname__ = arch
    build.__doc__ = f"{arch} with torchvision's configuration."
    return register_model(arch)(build)


efficientnet_b0 = _builder("efficientnet_b0")
efficientnet_b1 = _builder("efficientnet_b1")
efficientnet_b2 = _builder("efficientnet_b2")
efficientnet_b3 = _builder("efficientnet_b3")
efficientnet_b4 = _builder("efficientnet_b4")
efficientnet_b5 = _builder("efficientnet_b5")
efficientnet_b6 = _builder("efficientnet_b6")
efficientnet_b7 = _builder("efficientnet_b7")
efficientnet_v2_s = _builder("efficientnet_v2_s")
efficientnet_v2_m = _builder("efficientnet_v2_m")
efficientnet_v2_l = _builder("efficientnet_v2_l")
