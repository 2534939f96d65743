"""emberaudio benchmarks (issue 11): MelSpectrogram, MFCC and Resample throughput in seconds of audio per second,
and the M5 training step, side by side with torchaudio when torch/torchaudio are importable.

``python -m benchmarks --suite bench_audio`` (ms per call, ratio), or ``python -m benchmarks.bench_audio`` for the
throughput table (seconds of audio processed per wall-clock second, higher is better).
"""

from __future__ import annotations

import importlib
import sys

from .harness import Case, _torch, blas_threads, format_table, run_case

SR = 16000
BATCH, SECONDS = 16, 1.0  # 16 clips of 1 s at 16 kHz per call
AUDIO_SECONDS = BATCH * SECONDS


def _audio(lib):
    return importlib.import_module("emberaudio" if lib.__name__ == "ember" else "torchaudio")


def _mel(lib, device):
    ta = _audio(lib)
    t = ta.transforms.MelSpectrogram(SR, n_fft=400, hop_length=160, n_mels=80).to(device)
    x = lib.randn(BATCH, int(SR * SECONDS), device=device)
    return lambda: t(x)


def _mfcc(lib, device):
    ta = _audio(lib)
    t = ta.transforms.MFCC(SR, n_mfcc=40, melkwargs=dict(n_fft=400, hop_length=160, n_mels=80)).to(device)
    x = lib.randn(BATCH, int(SR * SECONDS), device=device)
    return lambda: t(x)


def _resample(orig, new):
    def make(lib, device):
        ta = _audio(lib)
        t = ta.transforms.Resample(orig, new).to(device)
        x = lib.randn(BATCH, int(orig * SECONDS), device=device)
        return lambda: t(x)

    return make


class _M5Factory:
    """The torchaudio tutorial's M5 for either library (emberaudio ships it; for torch it is rebuilt here)."""

    @staticmethod
    def build(lib, n_output=35):
        if lib.__name__ == "ember":
            return importlib.import_module("emberaudio.models").M5(n_input=1, n_output=n_output)
        nn, F = lib.nn, lib.nn.functional

        class M5(nn.Module):
            def __init__(self, n_input=1, n_output=35, stride=16, n_channel=32):
                super().__init__()
                c = n_channel
                self.conv1, self.bn1, self.pool1 = nn.Conv1d(n_input, c, 80, stride=stride), nn.BatchNorm1d(c), nn.MaxPool1d(4)
                self.conv2, self.bn2, self.pool2 = nn.Conv1d(c, c, 3), nn.BatchNorm1d(c), nn.MaxPool1d(4)
                self.conv3, self.bn3, self.pool3 = nn.Conv1d(c, 2 * c, 3), nn.BatchNorm1d(2 * c), nn.MaxPool1d(4)
                self.conv4, self.bn4, self.pool4 = nn.Conv1d(2 * c, 2 * c, 3), nn.BatchNorm1d(2 * c), nn.MaxPool1d(4)
                self.fc1 = nn.Linear(2 * c, n_output)

            def forward(self, x):
                for i in range(1, 5):
                    x = getattr(self, f"pool{i}")(F.relu(getattr(self, f"bn{i}")(getattr(self, f"conv{i}")(x))))
                x = F.avg_pool1d(x, x.shape[-1]).permute(0, 2, 1)
                return F.log_softmax(self.fc1(x), dim=2)

        return M5(n_output=n_output)


def _m5_step(lib, device):
    lib.manual_seed(0)
    model = _M5Factory.build(lib).to(device)
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    x = lib.randn(64, 1, 8000, device=device)
    y = lib.randint(0, 35, (64,), device=device)

    def run():
        out = model(x).squeeze(1)
        loss = lib.nn.functional.nll_loss(out, y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return run


def _torchaudio_ok():
    try:
        importlib.import_module("torchaudio")
        return True
    except ImportError:
        return False


_TA = _torchaudio_ok()
CASES = [
    Case(f"MelSpectrogram {BATCH}x1s@16k n_fft=400 hop=160 n_mels=80", "audio", _mel, number=3, torch_ok=_TA),
    Case(f"MFCC {BATCH}x1s@16k n_mfcc=40 n_mels=80", "audio", _mfcc, number=3, torch_ok=_TA),
    Case(f"Resample 16k->8k {BATCH}x1s", "audio", _resample(16000, 8000), number=3, torch_ok=_TA),
    Case(f"Resample 44.1k->16k {BATCH}x1s", "audio", _resample(44100, 16000), number=1, torch_ok=_TA),
    Case("M5 train step b64 x 8000 samples", "audio", _m5_step, number=1, repeat=5, note="Adam, nll_loss"),
]
_AUDIO_SECONDS = {0: AUDIO_SECONDS, 1: AUDIO_SECONDS, 2: AUDIO_SECONDS, 3: AUDIO_SECONDS, 4: 64 * 8000 / 8000}


def main(argv=None):
    torch = _torch()
    if torch is not None:
        torch.set_num_threads(blas_threads())
    results = [run_case(c) for c in CASES]
    print(format_table(results))
    print("\nthroughput: seconds of audio per second (higher is better)")
    for i, r in enumerate(results):
        sec = _AUDIO_SECONDS[i]
        ember_tp = sec / (r.ember_ms / 1000)
        torch_tp = "-" if r.torch_ms is None else f"{sec / (r.torch_ms / 1000):.0f}"
        print(f"  {r.name}: ember {ember_tp:.0f} s/s, torch {torch_tp} s/s")


if __name__ == "__main__":
    main(sys.argv[1:])
