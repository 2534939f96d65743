"""Train a spoken-digit / keyword classifier: ``python -m emberaudio.train`` (or ``emberaudio-train``).

With no arguments it trains a small CNN on log-mel spectrograms of the Free Spoken Digit Dataset clips bundled
with emberaudio and prints the test accuracy after a few minutes on a 2-core CPU. Flags choose the dataset
(FSDD, YESNO words, Speech Commands, a folder of labelled WAVs), the features (waveform for M5, mel or MFCC for
the CNN), SpecAugment, epochs, optimizer, schedule, checkpoints (--resume) and where the confusion-matrix PNG goes;
``--export-onnx PATH`` writes waveform -> class scores (feature step included) as ONNX for ONNX Runtime.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings

import numpy as np
from tqdm.auto import tqdm

import ember
from ember import nn
from ember.utils import _data_parallel, _onnx_deploy

from . import _train_data, models, transforms

DATASETS = sorted(_train_data.LOADERS)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="emberaudio-train", description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--dataset", default="fsdd-small", choices=DATASETS,
                   help="fsdd-small is bundled; fsdd/yesno/speechcommands read DATA_ROOT as torchaudio lays them out; "
                        "folder reads DATA_ROOT/train/<class>/*.wav and DATA_ROOT/test/<class>/*.wav")
    p.add_argument("--data-root", default="./data")
    p.add_argument("--feature", default="mel", choices=["waveform", "mel", "mfcc"],
                   help="waveform trains M5 on raw audio; mel/mfcc train the mel CNN")
    p.add_argument("--sample-rate", type=int, default=8000, help="clips are resampled to this rate")
    p.add_argument("--clip-seconds", type=float, default=1.0, help="clips are cropped/padded to this length")
    p.add_argument("--n-mels", type=int, default=40)
    p.add_argument("--n-mfcc", type=int, default=20)
    p.add_argument("--channels", type=int, default=16, help="width of the CNN (M5: n_channel)")
    p.add_argument("--specaugment", action="store_true", help="time and frequency masking of training features")
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--optimizer", default="adamw", choices=["adam", "adamw", "sgd"])
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--weight-decay", type=float, default=1e-2)
    p.add_argument("--scheduler", default="onecycle", choices=["none", "cosine", "onecycle"])
    p.add_argument("--device", default="cuda" if ember.cuda.is_available() else "cpu")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--limit-train", type=int, default=None, help="use only N training clips (a random subset)")
    p.add_argument("--limit-test", type=int, default=None, help="use only N test clips (a random subset)")
    p.add_argument("--output-dir", default="runs/emberaudio", help="checkpoint, history.json and confusion.png go here")
    p.add_argument("--checkpoint", default=None, help="checkpoint written after every epoch (default OUTPUT_DIR/checkpoint.ember)")
    p.add_argument("--resume", default=None, help="continue from this checkpoint (more --epochs extends the run)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars (one line per epoch)")
    _data_parallel.add_argument(p)
    _onnx_deploy.add_argument(p, "batch size and length; waveform in, class scores out")
    return p


class Features(nn.Module):
    """Waveform batch (N, 1, T) -> model input: the waveform itself, or per-clip normalised log-mel / MFCC."""

    def __init__(self, kind, sample_rate, n_mels, n_mfcc):
        super().__init__()
        self.kind = kind
        n_fft, hop = int(0.032 * sample_rate), int(0.010 * sample_rate)
        melkwargs = dict(n_fft=n_fft, hop_length=hop, n_mels=n_mels)
        if kind == "mel":
            self.extract = nn.Sequential(transforms.MelSpectrogram(sample_rate, **melkwargs), transforms.AmplitudeToDB(top_db=80.0))
        elif kind == "mfcc":
            self.extract = transforms.MFCC(sample_rate, n_mfcc=n_mfcc, melkwargs=melkwargs)
        else:
            self.extract = None

    def forward(self, wave):
        if self.extract is None:
            peak = wave.abs().amax(dim=-1, keepdim=True).clamp(min=1e-4)
            return wave / peak
        f = self.extract(wave)
        mean = f.mean(dim=(-2, -1), keepdim=True)
        std = f.std(dim=(-2, -1), keepdim=True).clamp(min=1e-5)
        return (f - mean) / std


def build_model(args, num_classes):
    if args.feature == "waveform":
        return "M5", models.M5(n_input=1, n_output=num_classes, n_channel=max(args.channels, 8) * 2)
    n_in = args.n_mels if args.feature == "mel" else args.n_mfcc
    return "MelCNN", models.MelCNN(n_mels=n_in, n_output=num_classes, n_channel=args.channels)


def build_optimizer(args, params):
    if args.optimizer == "sgd":
        return ember.optim.SGD(params, lr=args.lr, momentum=0.9, nesterov=True, weight_decay=args.weight_decay)
    if args.optimizer == "adam":
        return ember.optim.Adam(params, lr=args.lr, weight_decay=args.weight_decay)
    return ember.optim.AdamW(params, lr=args.lr, weight_decay=args.weight_decay)


def build_scheduler(args, optimizer, steps_per_epoch):
    """(scheduler, unit) for ``args.epochs`` epochs: OneCycle steps per batch, cosine per epoch."""
    sched = ember.optim.lr_scheduler
    if args.scheduler == "onecycle":
        return sched.OneCycleLR(optimizer, max_lr=args.lr, epochs=args.epochs, steps_per_epoch=steps_per_epoch), "batch"
    if args.scheduler == "cosine":
        return sched.CosineAnnealingLR(optimizer, T_max=args.epochs), "epoch"
    return None, None


def _logits(model, x):
    out = model(x)
    return out.squeeze(1) if out.dim() == 3 else out  # M5 returns (N, 1, classes) log-probabilities


def _batches(n, batch_size, gen=None):
    order = ember.randperm(n, generator=gen).numpy() if gen is not None else np.arange(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def run_epoch(model, features, data, loss_fn, device, batch_size, optimizer=None, scheduler=None, per_batch=False,
              augment=None, gen=None, desc="", progress=True, parallel=None):
    """One pass: trains when ``optimizer`` is given, else evaluates. Returns (loss, accuracy, predictions);
    with ``parallel`` (a data-parallel place) each rank runs its share of every batch, and the loss and
    accuracy are over all ranks (the predictions are this rank's)."""
    x_all, y_all = data
    training = optimizer is not None
    model.train(training)
    total, correct, seen, preds = 0.0, 0, 0, []
    batches = _batches(len(y_all), batch_size, gen if training else None)
    if parallel is not None:
        batches = _data_parallel.ShardedBatchSampler(batches, parallel)
    bar = tqdm(batches, desc=desc, leave=False, disable=None if progress else True, dynamic_ncols=True)
    with ember.set_grad_enabled(training):
        for idx in bar:
            idx_t = ember.from_numpy(idx.astype(np.int64))
            x, y = x_all.index_select(0, idx_t).to(device), y_all.index_select(0, idx_t).to(device)
            with ember.no_grad():
                f = features(x)
                if augment is not None:
                    f = augment(f)
            logits = _logits(model, f)
            loss = loss_fn(logits, y)
            if training:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                if per_batch and scheduler is not None:
                    scheduler.step()
            pred = logits.argmax(1)
            preds.append(pred.cpu().numpy())
            total += loss.item() * len(idx)
            correct += int((pred == y).sum().item())
            seen += len(idx)
            bar.set_postfix(loss=f"{total / seen:.4f}", acc=f"{100.0 * correct / seen:.2f}%")
    bar.close()
    if parallel is not None:
        total, correct, seen = parallel.sum(total, correct, seen)
    return total / max(seen, 1), correct / max(seen, 1), np.concatenate(preds) if preds else np.zeros(0, np.int64)


def save_checkpoint(path, model, optimizer, scheduler, epoch, history, args):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    state = {"epoch": epoch, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
             "scheduler": scheduler.state_dict() if scheduler is not None else None, "history": history,
             "args": {k: v for k, v in vars(args).items() if isinstance(v, (int, float, str, bool, type(None)))},
             "rng_state": ember.get_rng_state()}
    ember.save(state, path + ".tmp")
    os.replace(path + ".tmp", path)


def _limit(data, n, seed):
    if not n or n >= len(data[1]):
        return data
    idx = ember.from_numpy(np.sort(np.random.default_rng(seed).permutation(len(data[1]))[:n]).astype(np.int64))
    return data[0].index_select(0, idx), data[1].index_select(0, idx)


def _restore(args, state, model, optimizer, steps_per_epoch):
    """Load model/optimizer state, then rebuild the LR schedule for this run's --epochs and move it to where the
    checkpoint stopped (a stored schedule is reused only when the total length is unchanged)."""
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    for group in optimizer.param_groups:  # the new schedule starts from this run's settings
        group["lr"] = args.lr
        group.pop("initial_lr", None)
    scheduler, unit = build_scheduler(args, optimizer, steps_per_epoch)
    done = int(state["epoch"])
    same = state.get("args", {}).get("epochs") == args.epochs and state.get("args", {}).get("scheduler") == args.scheduler
    if scheduler is not None:
        if same and state.get("scheduler") is not None:
            scheduler.load_state_dict(state["scheduler"])
        else:
            with warnings.catch_warnings():  # replaying the schedule: no optimizer.step() happens in between
                warnings.filterwarnings("ignore", message="Detected call of `lr_scheduler.step", category=UserWarning)
                for _ in range(done * (steps_per_epoch if unit == "batch" else 1)):
                    scheduler.step()
    return scheduler, unit, done


def main(argv=None) -> dict:
    args = build_parser().parse_args(argv)
    ember.manual_seed(args.seed)
    np.random.seed(args.seed)
    device = ember.device(args.device)
    length = int(round(args.clip_seconds * args.sample_rate))
    root = os.path.expanduser(args.data_root)
    t_load = time.perf_counter()
    try:
        x_tr, y_tr, classes = _train_data.load(args.dataset, root, True, args.sample_rate, length)
        x_te, y_te, _ = _train_data.load(args.dataset, root, False, args.sample_rate, length)
    except (RuntimeError, FileNotFoundError) as exc:
        raise SystemExit(f"error: {exc}") from None
    train, test = _limit((x_tr, y_tr), args.limit_train, args.seed), _limit((x_te, y_te), args.limit_test, args.seed + 1)
    t_load = time.perf_counter() - t_load
    parallel = _data_parallel.setup(args.distributed, args.batch_size)
    log = parallel.log

    features = Features(args.feature, args.sample_rate, args.n_mels, args.n_mfcc).to(device)
    augment = None
    if args.specaugment and args.feature != "waveform":
        augment = transforms.SpecAugment(n_time_masks=2, time_mask_param=max(2, length // args.sample_rate * 10),
                                         n_freq_masks=2, freq_mask_param=max(2, (args.n_mels if args.feature == "mel" else args.n_mfcc) // 8),
                                         zero_masking=True)
    model_name, model = build_model(args, len(classes))
    model.to(device)
    trained = parallel.wrap(model)
    optimizer = build_optimizer(args, model.parameters())
    steps = (len(train[1]) + args.batch_size - 1) // args.batch_size
    loss_fn = nn.CrossEntropyLoss()
    checkpoint = args.checkpoint or os.path.join(args.output_dir, "checkpoint.ember")
    history = {"train_loss": [], "train_acc": [], "test_loss": [], "test_acc": [], "epoch_seconds": []}
    start_epoch = 0
    if args.resume:
        state = ember.load(args.resume, map_location=device)
        scheduler, unit, start_epoch = _restore(args, state, model, optimizer, steps)
        history = state["history"]
        ember.set_rng_state(state["rng_state"])
        log(f"resumed from {args.resume} at epoch {start_epoch}")
    else:
        scheduler, unit = build_scheduler(args, optimizer, steps)

    n_params = sum(p.numel() for p in model.parameters())
    log(f"emberaudio-train: {model_name} ({n_params:,} parameters) on {args.feature} features of {args.dataset} "
          f"({len(train[1])} train / {len(test[1])} test clips of {args.clip_seconds:g} s at {args.sample_rate} Hz, "
          f"{len(classes)} classes, loaded in {t_load:.1f}s), device {device}"
          f"{f' x {parallel.world} ranks' if parallel.enabled else ''}, {args.optimizer} lr={args.lr:g} "
          f"({args.scheduler}), {args.epochs} epochs{', SpecAugment' if augment else ''}", flush=True)
    gen = ember.Generator()
    preds = None
    progress = not args.no_progress and parallel.is_main
    for epoch in range(start_epoch, args.epochs):
        t0 = time.perf_counter()
        gen.manual_seed(args.seed * 1000 + epoch)  # the same batches whether or not the run was resumed
        tr_loss, tr_acc, _ = run_epoch(trained, features, train, loss_fn, device, args.batch_size, optimizer, scheduler,
                                       per_batch=unit == "batch", augment=augment, gen=gen,
                                       desc=f"epoch {epoch + 1}/{args.epochs} train", progress=progress,
                                       parallel=parallel if parallel.enabled else None)
        if unit == "epoch":
            scheduler.step()
        te_loss, te_acc, preds = run_epoch(model, features, test, loss_fn, device, 256,
                                           desc=f"epoch {epoch + 1}/{args.epochs} test", progress=progress)
        seconds = time.perf_counter() - t0
        for key, value in (("train_loss", tr_loss), ("train_acc", tr_acc), ("test_loss", te_loss), ("test_acc", te_acc),
                           ("epoch_seconds", seconds)):
            history[key].append(value)
        log(f"epoch {epoch + 1}/{args.epochs}: train loss {tr_loss:.4f} acc {100 * tr_acc:.2f}% | "
            f"test loss {te_loss:.4f} acc {100 * te_acc:.2f}% | {seconds:.1f}s", flush=True)
        if parallel.is_main:
            save_checkpoint(checkpoint, model, optimizer, scheduler, epoch + 1, history, args)

    final = history["test_acc"][-1] if history["test_acc"] else float("nan")
    parallel.close()
    if not parallel.is_main:
        return {"test_acc": final, "history": history, "checkpoint": None, "classes": classes, "rank": parallel.rank}
    print(f"final test accuracy: {100 * final:.2f}%  (checkpoint: {checkpoint})")
    os.makedirs(args.output_dir, exist_ok=True)
    result = {"test_acc": final, "history": history, "checkpoint": checkpoint, "classes": classes}
    if preds is not None:
        from ._png import confusion_png

        n = len(classes)
        matrix = np.zeros((n, n), dtype=np.int64)
        np.add.at(matrix, (test[1].numpy(), preds), 1)
        path = os.path.join(args.output_dir, "confusion.png")
        confusion_png(matrix, path)
        print(f"wrote {path} (rows: true class, columns: prediction; classes {', '.join(classes)})")
        result["confusion"] = matrix
    with open(os.path.join(args.output_dir, "history.json"), "w") as f:
        json.dump(history, f, indent=1)
    if args.export_onnx:
        result["onnx"] = export_onnx(model, args.export_onnx, args, length, classes)
    return result


def export_onnx(model, path, args, length, classes):
    """Write the deployable model, waveform -> class scores (the feature step and the classifier in one graph,
    :class:`Deployed`), to ``path`` as ONNX with dynamic batch size and length, and print how to score a WAV
    file with it in ONNX Runtime."""
    deployed = Deployed(Features(args.feature, args.sample_rate, args.n_mels, args.n_mfcc), model)
    example = ember.randn(2, length, generator=ember.Generator().manual_seed(0)) * 0.1
    labels = ", ".join(repr(c) for c in classes)
    setup = [
        f"import wave  # a mono or stereo 16-bit PCM WAV at {args.sample_rate} Hz (resample other rates first)",
        "with wave.open('clip.wav') as w:",
        "    pcm = np.frombuffer(w.readframes(w.getnframes()), '<i2').reshape(-1, w.getnchannels())",
        "waveform = (pcm.mean(1) / 32768.0).astype(np.float32)[None]  # [batch, samples]",
        f"short = max(0, {length} - waveform.shape[1])  # trained on {length}-sample clips: centre a shorter one "
        "in zeros (longer ones run as they are)",
        "waveform = np.pad(waveform, ((0, 0), (short // 2, short - short // 2)))",
    ]
    after = [f"print([{labels}][predictions[0]])"]
    return _onnx_deploy.export_onnx(
        deployed, (example,), path,
        [("waveform", f"float32 [batch, samples]: mono clips at {args.sample_rate} Hz in [-1, 1]")],
        dynamic={"waveform": {1: "samples"}}, setup=setup, after=after,
        what=f"[batch, {len(classes)}] class scores: the {args.feature} feature step and the {type(model).__name__} "
             "classifier in one graph, batch size and length dynamic")


class Deployed(nn.Module):
    """Waveform ``(batch, samples)`` -> class scores ``(batch, classes)``: ``features`` (peak normalisation, or
    per-clip normalised log-mel / MFCC) then ``model``, with M5's (N, 1, classes) output squeezed, as training
    reads it. This is what ``--export-onnx`` writes."""

    def __init__(self, features, model) -> None:
        super().__init__()
        self.features, self.model = features, model

    def forward(self, waveform):
        return _logits(self.model, self.features(waveform.unsqueeze(1)))


def cli() -> None:
    """Console-script entry point (``emberaudio-train``): run :func:`main`, exit status 0."""
    main(sys.argv[1:])


if __name__ == "__main__":
    cli()
