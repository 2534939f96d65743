"""``embertext.models``: text classifiers (LSTM/GRU, CNN, transformer), a small GPT-style language
model, and RoBERTa with torchtext's ``state_dict`` layout."""

from .cnn_classifier import CNNClassifier
from .gpt import GPTLanguageModel
from .rnn_classifier import RNNClassifier
from .roberta import RobertaClassificationHead, RobertaEncoder, RobertaEncoderConf, RobertaModel
from .transformer_classifier import PositionalEncoding, TransformerClassifier

__all__ = [
    "CNNClassifier", "GPTLanguageModel", "PositionalEncoding", "RNNClassifier", "RobertaClassificationHead",
    "RobertaEncoder", "RobertaEncoderConf", "RobertaModel", "TransformerClassifier",
]
