"""``embervision.ops``: building blocks shared by the model zoo (torchvision.ops names)."""

from .misc import MLP, Conv2dNormActivation, Permute, SqueezeExcitation
from .stochastic_depth import StochasticDepth, stochastic_depth

__all__ = ["MLP", "Conv2dNormActivation", "Permute", "SqueezeExcitation", "StochasticDepth", "stochastic_depth"]
