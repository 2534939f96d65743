"""Train a text classifier: ``python -m embertext.train`` (or ``embertext-train``).

With no arguments it trains a bidirectional LSTM on the SST-2 subset bundled with embertext
(6,000 training / 872 dev sentences) in a few minutes on a laptop CPU and prints the dev accuracy.
Everything is a flag: dataset (SST-2, IMDB, AG_NEWS, or your own TSV/CSV of text,label), tokenizer,
model, epochs, batch size, optimizer, learning-rate schedule, gradient clipping, workers, device,
checkpoints (the last and the best epoch, resume). ``python -m embertext.predict CHECKPOINT "text"``
then labels new sentences.
"""

from __future__ import annotations

import argparse
import csv
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
from ember.utils.data import BatchSampler, DataLoader, RandomSampler

from . import datasets
from .data import BucketBatchSampler
from ._classifier import MODELS, TOKENIZERS, TextEncoder, build_model, collate

DATASETS = ("sst2-small", "sst2", "imdb", "ag_news")
CHECKPOINT_FORMAT = "embertext-classifier/1"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="embertext-train", description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--dataset", default="sst2-small", choices=DATASETS,
                   help="sst2-small is bundled; the others are read from (or downloaded to) --data-root")
    p.add_argument("--data-root", default=".data", help="torchtext-style root: files under DATA_ROOT/datasets/<NAME>")
    p.add_argument("--train-file", default=None, help="a .tsv or .csv of text,label (an optional header names "
                                                      "the columns 'text'/'sentence' and 'label'); overrides --dataset")
    p.add_argument("--dev-file", default=None, help="the dev/test file for --train-file")
    p.add_argument("--tokenizer", default="basic_english", choices=TOKENIZERS)
    p.add_argument("--vocab-size", type=int, default=8000, help="subword vocabulary size (bpe, wordpiece)")
    p.add_argument("--min-freq", type=int, default=1, help="keep words seen at least this often (basic_english)")
    p.add_argument("--max-length", type=int, default=256, help="cut sentences to this many tokens")
    p.add_argument("--model", default="lstm", choices=MODELS)
    p.add_argument("--embed-dim", type=int, default=128, help="embedding size (d_model for the transformer)")
    p.add_argument("--hidden-size", type=int, default=128, help="LSTM/GRU size per direction; CNN filters per width")
    p.add_argument("--num-layers", type=int, default=None, help="recurrent or encoder layers (default 1; transformer 2)")
    p.add_argument("--heads", type=int, default=4, help="attention heads (transformer)")
    p.add_argument("--pooling", default=None, choices=["last", "mean", "max", "cls"],
                   help="LSTM/GRU: last/mean/max (default last); transformer: cls/mean/max (default max)")
    p.add_argument("--positions", default="none", choices=["sinusoidal", "none"],
                   help="transformer: sinusoidal position codes, or none (order-free encoder; generalises better "
                        "from SST-2's short training phrases to long sentences)")
    p.add_argument("--unidirectional", action="store_true", help="LSTM/GRU: forward direction only")
    p.add_argument("--dropout", type=float, default=None, help="default 0.5")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--test-batch-size", type=int, default=256)
    p.add_argument("--bucketing", action="store_true", help="batch sentences of similar length together "
                                                            "(embertext.data.BucketBatchSampler: less padding, faster)")
    p.add_argument("--optimizer", default="adam", choices=["sgd", "adam", "adamw", "rmsprop"])
    p.add_argument("--lr", type=float, default=None, help="learning rate (default 2e-3 for adam/adamw/rmsprop, "
                                                          "1e-3 for the transformer, 0.1 for sgd)")
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--scheduler", default="onecycle", choices=["none", "step", "cosine", "onecycle", "linear"],
                   help="linear: 10%% warm-up then linear decay to 0")
    p.add_argument("--clip-grad", type=float, default=1.0, help="clip the gradient norm to this (0: off)")
    p.add_argument("--label-smoothing", type=float, default=0.0)
    p.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    p.add_argument("--device", default="cuda" if ember.cuda.is_available() else "cpu")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--limit-train", type=int, default=None, help="use only the first N training examples")
    p.add_argument("--limit-dev", type=int, default=None, help="use only the first N dev examples")
    p.add_argument("--output-dir", default="runs/embertext", help="where checkpoints and history.json go")
    p.add_argument("--checkpoint", default=None, help="written after every epoch (default OUTPUT_DIR/checkpoint.ember); "
                                                      "the best epoch also goes to OUTPUT_DIR/best.ember")
    p.add_argument("--resume", default=None, help="resume from this checkpoint (may ask for more --epochs)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars (one line per epoch)")
    _data_parallel.add_argument(p)
    _onnx_deploy.add_argument(p, "batch size and length")
    return p


# -- data ------------------------------------------------------------------------------------------
def _read_labelled_file(path: str):
    """Rows of a .tsv/.csv file as (text, label string) pairs."""
    delimiter = "\t" if path.lower().endswith((".tsv", ".tab")) else ","
    try:
        with open(path, encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f, delimiter=delimiter))
    except FileNotFoundError:
        raise SystemExit(f"error: {path} does not exist") from None
    except UnicodeDecodeError as exc:
        raise SystemExit(f"error: {path} is not UTF-8 text ({exc})") from None
    if not rows:
        raise SystemExit(f"error: {path} is empty")
    text_col, label_col, start = 0, 1, 0
    header = [h.strip().lower() for h in rows[0]]
    if "label" in header:
        label_col = header.index("label")
        names = [n for n in ("text", "sentence", "review") if n in header]
        text_col = header.index(names[0]) if names else 1 - label_col
        start = 1
    out = []
    for line, row in enumerate(rows[start:], start=start + 1):
        if len(row) <= max(text_col, label_col):
            raise SystemExit(f"error: {path}, line {line}: expected the columns text{delimiter!r}label, got {row!r}")
        out.append((row[text_col], row[label_col].strip()))
    return out


def _label_order(labels):
    unique = set(labels)
    try:
        return sorted(unique, key=int)
    except ValueError:
        return sorted(unique)


def load_records(args):
    """(train, dev, label names): lists of (text, label index)."""
    if args.train_file:
        if not args.dev_file:
            raise SystemExit("error: --train-file needs a --dev-file to measure accuracy on")
        train, dev = _read_labelled_file(args.train_file), _read_labelled_file(args.dev_file)
        names = _label_order([label for _, label in train])
        index = {name: i for i, name in enumerate(names)}
        for line, (_, label) in enumerate(dev, start=1):
            if label not in index:
                raise SystemExit(f"error: {args.dev_file}: unknown label {label!r} (example {line}); "
                                 f"the training file has the labels {names}")
        return ([(t, index[lab]) for t, lab in train], [(t, index[lab]) for t, lab in dev], [str(n) for n in names])
    try:
        if args.dataset == "sst2-small":
            train, dev = datasets.sst2_small(("train", "dev"))
        elif args.dataset == "sst2":
            train, dev = datasets.SST2(args.data_root, split=("train", "dev"))
        elif args.dataset == "imdb":
            train, dev = datasets.IMDB(args.data_root, split=("train", "test"))
        else:
            train, dev = datasets.AG_NEWS(args.data_root, split=("train", "test"))
        train, dev = list(train), list(dev)
    except (RuntimeError, OSError) as exc:
        raise SystemExit(f"error: {exc}") from None
    if args.dataset.startswith("sst2"):
        return train, dev, list(datasets.sst2.LABELS)
    module = datasets.imdb if args.dataset == "imdb" else datasets.ag_news
    # torchtext numbers these labels from 1
    return ([(t, y - 1) for y, t in train], [(t, y - 1) for y, t in dev], list(module.LABELS))


class EncodedDataset(ember.utils.data.Dataset):
    """(ids, label) pairs, encoded once up front."""

    def __init__(self, records, encoder: TextEncoder) -> None:
        self.items = [(encoder.encode(text), label) for text, label in records]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index):
        return self.items[index]


# -- model, optimizer, schedule ----------------------------------------------------------------------
def model_config(args) -> dict:
    dropout = args.dropout if args.dropout is not None else 0.5
    if args.model in ("lstm", "gru"):
        return {"embed_dim": args.embed_dim, "hidden_size": args.hidden_size, "num_layers": args.num_layers or 1,
                "bidirectional": not args.unidirectional, "dropout": dropout, "pooling": args.pooling or "last"}
    if args.model == "cnn":
        return {"embed_dim": args.embed_dim, "num_filters": args.hidden_size, "dropout": dropout}
    pooling = args.pooling or "max"
    if pooling not in ("cls", "mean", "max"):
        raise SystemExit(f"error: the transformer pools with 'cls', 'mean' or 'max', not {pooling!r}")
    return {"d_model": args.embed_dim, "nhead": args.heads, "num_layers": args.num_layers or 2, "dropout": dropout,
            "max_len": args.max_length, "pooling": pooling, "positions": args.positions}


def build_optimizer(args, params):
    default = 0.1 if args.optimizer == "sgd" else (1e-3 if args.model == "transformer" else 2e-3)
    lr = args.lr if args.lr is not None else default
    if args.optimizer == "sgd":
        return ember.optim.SGD(params, lr=lr, momentum=args.momentum, weight_decay=args.weight_decay)
    if args.optimizer == "adam":
        return ember.optim.Adam(params, lr=lr, weight_decay=args.weight_decay)
    if args.optimizer == "adamw":
        return ember.optim.AdamW(params, lr=lr, weight_decay=args.weight_decay or 0.01)
    return ember.optim.RMSprop(params, lr=lr, momentum=args.momentum, weight_decay=args.weight_decay)


def build_scheduler(args, optimizer, steps_per_epoch):
    """(scheduler, "batch" | "epoch" | None) for ``args.epochs`` epochs of ``steps_per_epoch`` steps."""
    sched = ember.optim.lr_scheduler
    total = args.epochs * steps_per_epoch
    if args.scheduler == "step":
        return sched.StepLR(optimizer, step_size=max(1, args.epochs // 3), gamma=0.1), "epoch"
    if args.scheduler == "cosine":
        return sched.CosineAnnealingLR(optimizer, T_max=args.epochs), "epoch"
    if args.scheduler == "onecycle":
        return sched.OneCycleLR(optimizer, max_lr=optimizer.param_groups[0]["lr"], total_steps=total), "batch"
    if args.scheduler == "linear":
        warmup = max(1, total // 10)
        return sched.LambdaLR(optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup)))), "batch"
    return None, None


def _fast_forward(scheduler, steps: int) -> None:
    """Replay ``steps`` scheduler steps (a resumed run with a different length rebuilds its schedule)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "scheduler.step() before optimizer.step()": no training happens here
        for _ in range(steps):
            scheduler.step()


# -- the loop ----------------------------------------------------------------------------------------
def run_epoch(model, loader, loss_fn, device, optimizer=None, scheduler=None, per_batch=False, clip=0.0,
              desc="", progress=True, parallel=None):
    """One pass over ``loader``: trains when ``optimizer`` is given, else evaluates. Returns (loss, accuracy),
    over every rank's share when ``parallel`` (a data-parallel place) is given."""
    training = optimizer is not None
    model.train(training)
    total_loss, correct, seen = 0.0, 0, 0
    bar = tqdm(loader, desc=desc, leave=False, disable=None if progress else True, dynamic_ncols=True)
    with ember.set_grad_enabled(training):
        for ids, lengths, targets in bar:
            ids, targets = ids.to(device), targets.to(device)
            logits = model(ids, lengths)
            loss = loss_fn(logits, targets)
            if training:
                optimizer.zero_grad()
                loss.backward()
                if clip > 0:
                    nn.utils.clip_grad_norm_(model.parameters(), clip)
                optimizer.step()
                if per_batch and scheduler is not None:
                    scheduler.step()
            n = targets.shape[0]
            total_loss += loss.item() * n
            correct += int((logits.argmax(1) == targets).sum().item())
            seen += n
            bar.set_postfix(loss=f"{total_loss / seen:.4f}", acc=f"{100.0 * correct / seen:.2f}%")
    bar.close()
    if parallel is not None:
        total_loss, correct, seen = parallel.sum(total_loss, correct, seen)
    return total_loss / max(seen, 1), correct / max(seen, 1)


def save_checkpoint(path, state) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    ember.save(state, path)  # ember.save writes to a temporary name and renames


def _plain_args(args) -> dict:
    return {k: v for k, v in vars(args).items() if isinstance(v, (int, float, str, bool, type(None)))}


def main(argv=None) -> dict:
    args = build_parser().parse_args(argv)
    if args.epochs < 1:
        raise SystemExit("error: --epochs must be at least 1")
    ember.manual_seed(args.seed)
    np.random.seed(args.seed)
    device = ember.device(args.device)
    parallel = _data_parallel.setup(args.distributed, args.batch_size)
    log = parallel.log
    train_records, dev_records, labels = load_records(args)
    if args.limit_train:
        train_records = train_records[: args.limit_train]
    if args.limit_dev:
        dev_records = dev_records[: args.limit_dev]
    if not train_records or not dev_records:
        raise SystemExit("error: the training and dev sets must not be empty")

    resume = None
    if args.resume:
        try:
            resume = ember.load(args.resume, map_location=device)
        except (OSError, RuntimeError) as exc:
            raise SystemExit(f"error: cannot read checkpoint {args.resume}: {exc}") from None
        if not isinstance(resume, dict) or resume.get("format") != CHECKPOINT_FORMAT:
            raise SystemExit(f"error: {args.resume} is not an embertext-train checkpoint")
        if list(resume["labels"]) != labels:
            raise SystemExit(f"error: {args.resume} was trained on the labels {resume['labels']}, this data has {labels}")
        encoder = TextEncoder.from_state(resume["text"])
        model_name, config = resume["model_name"], dict(resume["model_config"])
    else:
        try:
            encoder = TextEncoder.fit(args.tokenizer, [t for t, _ in train_records], args.max_length,
                                      min_freq=args.min_freq, vocab_size=args.vocab_size)
        except RuntimeError as exc:
            raise SystemExit(f"error: {exc}") from None
        model_name, config = args.model, model_config(args)
    train_set, dev_set = EncodedDataset(train_records, encoder), EncodedDataset(dev_records, encoder)
    shuffle_gen = ember.Generator()
    if args.bucketing or parallel.enabled:
        if args.bucketing:
            sampler = BucketBatchSampler([len(ids) for ids, _ in train_set.items], args.batch_size, generator=shuffle_gen)
        else:  # the batches DataLoader(shuffle=True) makes, each rank taking its share
            sampler = BatchSampler(RandomSampler(train_set, generator=shuffle_gen), args.batch_size, drop_last=False)
        if parallel.enabled:
            sampler = _data_parallel.ShardedBatchSampler(sampler, parallel)
        # without bucketing the loader draws its worker seed from shuffle_gen first, as with shuffle=True
        train_loader = DataLoader(train_set, batch_sampler=sampler, num_workers=args.workers, collate_fn=collate,
                                  generator=None if args.bucketing else shuffle_gen, persistent_workers=args.workers > 0)
    else:
        train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, num_workers=args.workers,
                                  collate_fn=collate, generator=shuffle_gen, persistent_workers=args.workers > 0)
    dev_loader = DataLoader(dev_set, batch_size=args.test_batch_size, shuffle=False, num_workers=args.workers,
                            collate_fn=collate)

    model = build_model(model_name, len(encoder), len(labels), config).to(device)
    trained = parallel.wrap(model)
    optimizer = build_optimizer(args, model.parameters())
    base_lr = optimizer.param_groups[0]["lr"]
    loss_fn = nn.CrossEntropyLoss(label_smoothing=args.label_smoothing)
    checkpoint = args.checkpoint or os.path.join(args.output_dir, "checkpoint.ember")
    best_path = os.path.join(args.output_dir, "best.ember")
    history = {"train_loss": [], "train_acc": [], "dev_loss": [], "dev_acc": [], "epoch_seconds": []}
    start_epoch, best = 0, -1.0
    if resume is not None:
        model.load_state_dict(resume["model"])
        optimizer.load_state_dict(resume["optimizer"])
        for group in optimizer.param_groups:  # the schedule is rebuilt below from the base rate
            group["lr"] = base_lr
            group.pop("initial_lr", None)
        history, start_epoch, best = resume["history"], int(resume["epoch"]), float(resume["best_dev_acc"])
        ember.set_rng_state(resume["rng_state"])
        if start_epoch >= args.epochs:
            log(f"{args.resume} has already trained {start_epoch} epochs; ask for more with --epochs")
    scheduler, sched_unit = build_scheduler(args, optimizer, len(train_loader))
    if scheduler is not None and start_epoch:
        _fast_forward(scheduler, start_epoch * (len(train_loader) if sched_unit == "batch" else 1))
    if resume is not None:
        log(f"resumed from {args.resume} at epoch {start_epoch}")

    n_params = sum(p.numel() for p in model.parameters())
    source = args.train_file or args.dataset
    log(f"embertext-train: {model_name} ({n_params:,} parameters) on {source} ({len(train_set)} train / "
          f"{len(dev_set)} dev examples, {len(labels)} classes), {encoder.kind} tokenizer ({len(encoder)} ids), "
          f"device {device}{f' x {parallel.world} ranks' if parallel.enabled else ''}, {args.optimizer} lr={base_lr:g} ({args.scheduler} schedule), {args.epochs} epochs",
          flush=True)
    progress = not args.no_progress and parallel.is_main
    for epoch in range(start_epoch, args.epochs):
        t0 = time.perf_counter()
        shuffle_gen.manual_seed(args.seed * 1000 + epoch)  # per-epoch order: a resumed run sees the same batches
        train_loss, train_acc = run_epoch(trained, train_loader, loss_fn, device, optimizer, scheduler,
                                          per_batch=sched_unit == "batch", clip=args.clip_grad,
                                          desc=f"epoch {epoch + 1}/{args.epochs} train", progress=progress,
                                          parallel=parallel if parallel.enabled else None)
        if sched_unit == "epoch":
            scheduler.step()
        dev_loss, dev_acc = run_epoch(model, dev_loader, loss_fn, device, desc=f"epoch {epoch + 1}/{args.epochs} dev",
                                      progress=progress)
        seconds = time.perf_counter() - t0
        for key, value in (("train_loss", train_loss), ("train_acc", train_acc), ("dev_loss", dev_loss),
                           ("dev_acc", dev_acc), ("epoch_seconds", seconds)):
            history[key].append(value)
        improved = dev_acc > best
        best = max(best, dev_acc)
        log(f"epoch {epoch + 1}/{args.epochs}: train loss {train_loss:.4f} acc {100 * train_acc:.2f}% | "
            f"dev loss {dev_loss:.4f} acc {100 * dev_acc:.2f}%{' (best)' if improved else ''} | {seconds:.1f}s",
            flush=True)
        state = {
            "format": CHECKPOINT_FORMAT, "epoch": epoch + 1, "model_name": model_name, "model_config": config,
            "labels": labels, "text": encoder.state(), "model": model.state_dict(),
            "optimizer": optimizer.state_dict(), "history": history, "best_dev_acc": best,
            "args": _plain_args(args), "rng_state": ember.get_rng_state(),
        }
        if not parallel.is_main:
            continue
        save_checkpoint(checkpoint, state)
        if improved:
            save_checkpoint(best_path, {k: v for k, v in state.items() if k not in ("optimizer", "rng_state")})

    final = history["dev_acc"][-1] if history["dev_acc"] else float("nan")
    parallel.close()
    if not parallel.is_main:
        return {"dev_acc": final, "best_dev_acc": best, "history": history, "checkpoint": None, "best": None,
                "rank": parallel.rank}
    print(f"final dev accuracy: {100 * final:.2f}% (best {100 * max(best, 0):.2f}%; checkpoints: {checkpoint}, {best_path})")
    os.makedirs(args.output_dir, exist_ok=True)
    with open(os.path.join(args.output_dir, "history.json"), "w") as f:
        json.dump(history, f, indent=1)
    result = {"dev_acc": final, "best_dev_acc": best, "history": history, "checkpoint": checkpoint, "best": best_path}
    if args.export_onnx:
        result["onnx"] = export_onnx(model, args.export_onnx, model_name, encoder)
    return result


def export_onnx(model, path, model_name, encoder):
    """Write the classifier to ``path`` as ONNX with dynamic batch size and length, and print how to run it in
    ONNX Runtime (the token ids come from the checkpoint's tokenizer, as ``embertext.predict`` makes them)."""
    example = (ember.tensor([[2, 3, 4, 5], [2, 3, 0, 0]], dtype=ember.int64), ember.tensor([4, 2], dtype=ember.int64))
    return _onnx_deploy.export_onnx(
        model, example, path,
        [("ids", f"int64 [batch, length]: token ids from the checkpoint's {encoder.kind} tokenizer "
                 f"(at most {encoder.max_length}), padded with 0 (see embertext.predict)"),
         ("lengths", "int64 [batch]: each sentence's number of tokens (at least 1)")],
        dynamic={"ids": {1: "length"}}, what=f"[batch, classes] class scores of the {model_name} classifier")


def cli() -> None:
    """Console-script entry point: exit status 0 on success, not ``main``'s return value."""
    main(sys.argv[1:])


if __name__ == "__main__":
    cli()
