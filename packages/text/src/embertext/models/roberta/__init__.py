"""RoBERTa with torchtext's module layout and ``state_dict`` keys."""

from .model import RobertaClassificationHead, RobertaEncoder, RobertaEncoderConf, RobertaModel

__all__ = ["RobertaClassificationHead", "RobertaEncoder", "RobertaEncoderConf", "RobertaModel"]
