"""Training steps (and one inference pass) of whole models, side by side."""

from __future__ import annotations

from . import models
from .harness import Case


def _data(lib, device, kind, batch):
    lib.manual_seed(0)
    if kind == "mnist":
        x = lib.randn(batch, 1, 28, 28, device=device)
        y = lib.randint(0, 10, (batch,), device=device)
    elif kind == "cifar":
        x = lib.randn(batch, 3, 32, 32, device=device)
        y = lib.randint(0, 10, (batch,), device=device)
    elif kind.startswith("tokens"):
        x = lib.randint(0, 20000, (batch, int(kind[len("tokens"):])), device=device)
        y = lib.randint(0, 2, (batch,), device=device)
    elif kind == "wikitext2":  # the word-language-model example's (bptt, batch) token ids and next tokens
        x = lib.randint(0, 33278, (35, batch), device=device)
        y = lib.randint(0, 33278, (35 * batch,), device=device)
    elif kind == "audio":
        x = lib.randn(batch, 1, 8000, device=device)
        y = lib.randint(0, 35, (batch,), device=device)
    return x, y


def train_step(build, kind, batch, loss="ce"):
    def make(lib, device):
        lib.manual_seed(0)
        model = build(lib).to(device)
        model.train()
        opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        x, y = _data(lib, device, kind, batch)
        lossf = lib.nn.functional.nll_loss if loss == "nll" else lib.nn.functional.cross_entropy

        def step():
            opt.zero_grad()
            out = lossf(model(x), y)
            out.backward()
            opt.step()

        return step

    return make


def wlm_train_step(batch=20, lr=20.0, clip=0.25):
    """One step of word_language_model/main.py's ``train()``: NLL over the flattened log-probabilities,
    gradient clipping at 0.25 and its hand-written SGD update."""

    def make(lib, device):
        lib.manual_seed(0)
        model = models.word_language_model(lib).to(device)
        model.train()
        params = list(model.parameters())
        x, y = _data(lib, device, "wikitext2", batch)

        def step():
            model.zero_grad()
            out = model(x)
            loss = lib.nn.functional.nll_loss(out.view(-1, out.size(-1)), y)
            loss.backward()
            lib.nn.utils.clip_grad_norm_(params, clip)
            for p in params:
                if p.grad is not None:
                    p.data.add_(p.grad, alpha=-lr)

        return step

    return make


def inference(build, kind, batch):
    def make(lib, device):
        lib.manual_seed(0)
        model = build(lib).to(device).eval()
        x, _ = _data(lib, device, kind, batch)

        def run():
            with lib.no_grad():
                model(x)

        return run

    return make


_WLM = "WLM transformer wikitext-2 (V33278 bptt35 b20 2x200)"

CASES = [
    Case("MLP 784-512-256-10 b128 step", "models", train_step(models.mlp, "mnist", 128), number=10),
    Case("MLP 784-512-256-10 b128 inference", "models", inference(models.mlp, "mnist", 128), number=10),
    Case("MNIST CNN b64 step", "models", train_step(models.mnist_cnn, "mnist", 64), number=2, repeat=5),
    Case("MNIST CNN b64 inference", "models", inference(models.mnist_cnn, "mnist", 64), number=2, repeat=5),
    Case("ResNet-18 CIFAR b32 step", "models", train_step(models.resnet18_cifar, "cifar", 32), repeat=3),
    Case("ResNet-18 CIFAR b32 inference", "models", inference(models.resnet18_cifar, "cifar", 32), repeat=3),
    Case("VGG-11-BN CIFAR b32 step", "models", train_step(models.vgg11_bn_cifar, "cifar", 32), repeat=3),
    Case("VGG-11-BN CIFAR b32 inference", "models", inference(models.vgg11_bn_cifar, "cifar", 32), repeat=3),
    Case("LSTM classifier b32 T200 step", "models", train_step(models.lstm_classifier, "tokens200", 32), repeat=3),
    Case("LSTM classifier b32 T200 inference", "models", inference(models.lstm_classifier, "tokens200", 32), repeat=3),
    Case("Transformer encoder b32 T128 step", "models", train_step(models.transformer_classifier, "tokens128", 32), repeat=3),
    Case("Transformer encoder b32 T128 inference", "models", inference(models.transformer_classifier, "tokens128", 32), repeat=3),
    Case(f"{_WLM} step", "models", wlm_train_step(), repeat=5),
    Case(f"{_WLM} inference", "models", inference(models.word_language_model, "wikitext2", 20), repeat=5),
    # M5's samples take milliseconds, each after a 0.15 s pause: 3 of them gave 1.97x-4.46x for one build
    Case("M5 audio b32 step", "models", train_step(models.m5, "audio", 32, loss="nll"), repeat=9),
    Case("M5 audio b32 inference", "models", inference(models.m5, "audio", 32), repeat=9),
]
