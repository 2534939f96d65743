"""Train an image classifier: ``python -m embervision.train`` (or ``embervision-train``).

With no arguments it trains the pytorch/examples MNIST CNN on the MNIST subset bundled with
embervision and finishes in a few minutes on a laptop CPU. Everything is a flag: dataset (incl. an
image folder), model, epochs, batch size, optimizer, learning-rate schedule, augmentation, workers,
device, checkpoints (save every epoch, resume), a PNG of sample predictions and of the curves.
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
from ember.utils.data import DataLoader, Subset

from . import datasets, models, transforms

# name -> (constructor(root, train, transform), channels, image size, normalisation mean, std)
_MNIST_STATS = ((0.1307,), (0.3081,))
_CIFAR_STATS = ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))
DATASETS = {
    "mnist-small": (lambda root, train, tf: datasets.mnist_small(train=train, transform=tf), 1, 28, *_MNIST_STATS),
    "mnist": (lambda root, train, tf: datasets.MNIST(root, train=train, transform=tf, download=_download), 1, 28, *_MNIST_STATS),
    "fashion-mnist": (lambda root, train, tf: datasets.FashionMNIST(root, train=train, transform=tf, download=_download), 1, 28, (0.2860,), (0.3530,)),
    "kmnist": (lambda root, train, tf: datasets.KMNIST(root, train=train, transform=tf, download=_download), 1, 28, (0.1918,), (0.3483,)),
    "cifar10": (lambda root, train, tf: datasets.CIFAR10(root, train=train, transform=tf, download=_download), 3, 32, *_CIFAR_STATS),
    "cifar100": (lambda root, train, tf: datasets.CIFAR100(root, train=train, transform=tf, download=_download), 3, 32, (0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
    "svhn": (lambda root, train, tf: datasets.SVHN(root, split="train" if train else "test", transform=tf, download=_download), 3, 32, (0.4377, 0.4438, 0.4728), (0.1980, 0.2010, 0.1970)),
    "imagefolder": (lambda root, train, tf: datasets.ImageFolder(os.path.join(root, "train" if train else _val_dir(root)), transform=tf), 3, None, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    "fake": (lambda root, train, tf: datasets.FakeData(512 if train else 128, (3, 32, 32), 10, transform=tf, random_offset=0 if train else 10**6), 3, 32, (0.5,) * 3, (0.25,) * 3),
}
_download = False


def _val_dir(root):
    for name in ("val", "test", "valid"):
        if os.path.isdir(os.path.join(root, name)):
            return name
    raise FileNotFoundError(f"{root} needs a train/ folder and a val/ (or test/) folder, each with one sub-folder per class")


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Appends "(default: X)" to an option's help unless the help already explains the default
    (options whose default is computed) or the option is an off-by-default flag."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def _plural(n, word):
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="embervision-train", description=__doc__.splitlines()[0], formatter_class=_HelpFormatter)
    p.add_argument("--dataset", default="mnist-small", choices=sorted(DATASETS), metavar="NAME",
                   help="dataset, one of: %(choices)s")
    p.add_argument("--data-root", default="./data", help="dataset root (for imagefolder: a folder with train/ and val/)")
    p.add_argument("--download", action="store_true", help="download the dataset if it is missing")
    p.add_argument("--model", default=None, type=str.lower, choices=models.list_models(), metavar="NAME",
                   help="model builder from embervision.models, one of: %(choices)s "
                        "(default: mnist_cnn for 28x28 grey images, resnet18 otherwise)")
    p.add_argument("--image-size", type=int, default=None, metavar="N",
                   help="resize (and centre-crop) images to NxN (default: the dataset's size; 64 for imagefolder)")
    p.add_argument("--epochs", type=int, default=4, help="total number of epochs (with --resume: including those already done)")
    p.add_argument("--batch-size", type=int, default=64, help="training batch size")
    p.add_argument("--test-batch-size", type=int, default=256, help="evaluation batch size")
    p.add_argument("--optimizer", default="adam", choices=["sgd", "adam", "adamw", "rmsprop"], help="optimizer")
    p.add_argument("--lr", type=float, default=None,
                   help="learning rate; the peak rate with --scheduler onecycle (default: 1e-3 for adam/adamw/rmsprop, 0.05 for sgd)")
    p.add_argument("--momentum", type=float, default=0.9, help="momentum of sgd (Nesterov when > 0) and rmsprop")
    p.add_argument("--weight-decay", type=float, default=None,
                   help="weight decay (default: 0.01 for adamw, 0 otherwise)")
    p.add_argument("--scheduler", default="onecycle", choices=["none", "step", "cosine", "onecycle"],
                   help="learning-rate schedule: onecycle steps every batch, step (x0.1 every third of the epochs) "
                        "and cosine every epoch")
    p.add_argument("--augment", default="none", choices=["none", "basic", "autoaugment", "randaugment", "trivialaugment"],
                   help="training augmentation: basic is random crop+flip (colour) or a small affine (grey); "
                        "the policies add AutoAugment/RandAugment/TrivialAugmentWide on top")
    p.add_argument("--label-smoothing", type=float, default=0.0, help="label smoothing of the cross-entropy loss")
    p.add_argument("--workers", type=int, default=0, help="DataLoader worker processes (0: load in the main process)")
    p.add_argument("--device", default="cuda" if ember.cuda.is_available() else "cpu",
                   help="cpu, cuda or cuda:N (cuda when a GPU is available)")
    p.add_argument("--seed", type=int, default=1, help="random seed (weights, shuffling, augmentation)")
    p.add_argument("--limit-train", type=int, default=None, metavar="N",
                   help="use only the first N training samples (default: all)")
    p.add_argument("--limit-test", type=int, default=None, metavar="N", help="use only the first N test samples (default: all)")
    p.add_argument("--output-dir", default="runs/embervision", help="where checkpoints, history.json and PNGs go")
    p.add_argument("--checkpoint", default=None, metavar="PATH",
                   help="checkpoint written after every epoch (default: OUTPUT_DIR/checkpoint.ember)")
    p.add_argument("--resume", default=None, metavar="PATH",
                   help="continue from this checkpoint; a larger --epochs trains further (the schedule is rebuilt for it) "
                        "(default: start from scratch)")
    p.add_argument("--save-predictions", action="store_true", help="write OUTPUT_DIR/predictions.png")
    p.add_argument("--save-curves", action="store_true", help="write OUTPUT_DIR/curves.png")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bars, only one line per epoch (bars are off anyway when stderr is not a terminal)")
    _data_parallel.add_argument(p)
    _onnx_deploy.add_argument(p)
    p.add_argument("--amp", action="store_true",
                   help="automatic mixed precision (ember.autocast) for the forward passes and the loss: bfloat16 on CPU, "
                        "float16 with a GradScaler on CUDA (see --amp-dtype)")
    p.add_argument("--amp-dtype", default=None, choices=["bfloat16", "float16"],
                   help="the autocast dtype with --amp (default: bfloat16 on CPU, float16 on CUDA)")
    return p


def build_transforms(args, channels, size, mean, std):
    resize = []
    if args.image_size or size is None:
        target = args.image_size or 64
        resize = [transforms.Resize(target), transforms.CenterCrop(target)]
        size = target
    train = list(resize)
    if args.augment != "none":
        if channels == 3:
            train += [transforms.RandomCrop(size, padding=size // 8), transforms.RandomHorizontalFlip()]
        else:
            train += [transforms.RandomAffine(degrees=10, translate=(0.1, 0.1))]
        policy = {
            "autoaugment": lambda: transforms.AutoAugment(),
            "randaugment": lambda: transforms.RandAugment(),
            "trivialaugment": lambda: transforms.TrivialAugmentWide(),
        }.get(args.augment)
        if policy is not None:
            train.append(policy())
    tail = [transforms.ToTensor(), transforms.Normalize(mean, std)]
    return transforms.Compose(train + tail), transforms.Compose(resize + tail), size


def default_model_name(channels, size):
    return "mnist_cnn" if channels == 1 and size == 28 else "resnet18"


def make_model(name, channels, size, num_classes):
    """The model ``name`` for ``channels`` x ``size`` x ``size`` images and ``num_classes`` classes."""
    if name == "mnist_cnn":
        if size != 28:
            raise SystemExit(f"mnist_cnn needs 28x28 images; this dataset gives {size}x{size} (pick --model resnet18)")
        return models.mnist_cnn(num_classes=num_classes, in_channels=channels)
    if channels != 3:
        raise SystemExit(f"{name} expects 3-channel images; use mnist_cnn for grey 28x28 data")
    return models.get_model(name, num_classes=num_classes)


def build_model(args, channels, size, num_classes):
    name = args.model or default_model_name(channels, size)
    return name, make_model(name, channels, size, num_classes)


def build_optimizer(args, params):
    lr = args.lr if args.lr is not None else (0.05 if args.optimizer == "sgd" else 1e-3)
    wd = args.weight_decay if args.weight_decay is not None else (0.01 if args.optimizer == "adamw" else 0.0)
    if args.optimizer == "sgd":
        return ember.optim.SGD(params, lr=lr, momentum=args.momentum, weight_decay=wd, nesterov=args.momentum > 0)
    if args.optimizer == "adam":
        return ember.optim.Adam(params, lr=lr, weight_decay=wd)
    if args.optimizer == "adamw":
        return ember.optim.AdamW(params, lr=lr, weight_decay=wd)
    return ember.optim.RMSprop(params, lr=lr, momentum=args.momentum, weight_decay=wd)


def build_scheduler(args, optimizer, steps_per_epoch):
    """The schedule for ``args.epochs`` epochs, and whether it steps per "batch" or per "epoch"."""
    sched = ember.optim.lr_scheduler
    if args.scheduler == "step":
        return sched.StepLR(optimizer, step_size=max(1, args.epochs // 3), gamma=0.1), "epoch"
    if args.scheduler == "cosine":
        return sched.CosineAnnealingLR(optimizer, T_max=args.epochs), "epoch"
    if args.scheduler == "onecycle":
        max_lr = optimizer.param_groups[0]["lr"]
        return sched.OneCycleLR(optimizer, max_lr=max_lr, epochs=args.epochs, steps_per_epoch=steps_per_epoch), "batch"
    return None, None


# scheduler attributes that track the position in the schedule rather than define it
_SCHEDULE_POSITION = {"last_epoch", "_step_count", "_last_lr", "_get_lr_called_within_step", "_is_initial"}
# param-group entries a schedule writes (and the optimizer's state_dict carries along)
_SCHEDULE_GROUP_KEYS = ("lr", "initial_lr", "max_lr", "min_lr", "momentum", "betas")


def _same_schedule(scheduler, saved):
    if scheduler is None or saved is None:
        return scheduler is None and saved is None
    mine = {k: v for k, v in scheduler.state_dict().items() if k not in _SCHEDULE_POSITION}
    theirs = {k: v for k, v in saved.items() if k not in _SCHEDULE_POSITION}
    return mine == theirs


def resume_schedule(args, optimizer, scheduler, fresh_groups, saved, steps_per_epoch, done_epochs, saved_args=None):
    """Continue the checkpoint's schedule, or rebuild it when the arguments define a different one.

    The optimizer state is already loaded. When the new arguments (usually a larger ``--epochs``)
    define another schedule than the checkpoint's, the schedule is rebuilt from the arguments and moved
    to ``done_epochs``: the learning rate is the one a run started with these arguments would have now.
    Returns the scheduler and a message for the log (None when the checkpoint's schedule continues)."""
    if _same_schedule(scheduler, saved):
        if scheduler is not None:
            scheduler.load_state_dict(saved)
        return scheduler, None
    # the param groups' schedule entries come from the new arguments again, not from the checkpoint
    for group, fresh in zip(optimizer.param_groups, fresh_groups):
        for key in _SCHEDULE_GROUP_KEYS:
            group.pop(key, None)
            if key in fresh:
                group[key] = fresh[key]
    scheduler, unit = build_scheduler(args, optimizer, steps_per_epoch)
    if scheduler is None:
        return None, f"no schedule now: lr {optimizer.param_groups[0]['lr']:g} from here on"
    steps = done_epochs * (steps_per_epoch if unit == "batch" else 1)
    with warnings.catch_warnings():  # stepping the schedule alone is the point here
        warnings.filterwarnings("ignore", message="Detected call of `lr_scheduler.step", category=UserWarning)
        for _ in range(steps):
            scheduler.step()
    old = saved_args or {}
    was = (f"the checkpoint's {old['scheduler']} schedule was built for {_plural(old['epochs'], 'epoch')}"
           if "scheduler" in old and old.get("epochs") != args.epochs
           else "the checkpoint's schedule differs from the arguments' (schedule, lr or batches per epoch)")
    return scheduler, (f"{was}: rebuilt the {args.scheduler} schedule from the arguments for "
                       f"{_plural(args.epochs, 'epoch')} and moved it to epoch {done_epochs} (lr now {scheduler.get_last_lr()[0]:.3g})")


def _setup_distributed(args, train_set):
    """(data-parallel place, DistributedSampler or None): the sampler when training data-parallel."""
    parallel = _data_parallel.setup(args.distributed, args.batch_size)
    if not parallel.enabled:
        return parallel, None
    from ember.utils.data import DistributedSampler

    return parallel, DistributedSampler(train_set, num_replicas=parallel.world, rank=parallel.rank, shuffle=True,
                                        seed=args.seed)


def _limit(ds, n):
    return Subset(ds, range(min(n, len(ds)))) if n else ds


def run_epoch(model, loader, loss_fn, device, optimizer=None, scheduler=None, per_batch=False, desc="", progress=True,
              parallel=None, amp_dtype=None, scaler=None):
    """One pass over ``loader``: trains when ``optimizer`` is given, else evaluates. Returns (loss, accuracy),
    over every rank's share when ``parallel`` (a data-parallel place) is given. ``amp_dtype``: run forward and
    loss under ``ember.autocast`` in that dtype; ``scaler``: an ``ember.amp.GradScaler`` for the backward pass
    (float16)."""
    training = optimizer is not None
    model.train(training)
    total_loss, correct, seen = 0.0, 0, 0
    # disable=None: no bar when stderr is not a terminal (a log file gets the per-epoch lines only)
    bar = tqdm(loader, desc=desc, leave=False, disable=None if progress else True, dynamic_ncols=True, mininterval=0.5)
    with ember.set_grad_enabled(training):
        for images, targets in bar:
            images, targets = images.to(device), targets.to(device)
            with ember.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
                logits = model(images)
                loss = loss_fn(logits, targets)
            if training:
                optimizer.zero_grad()
                if scaler is not None:
                    scaler.scale(loss).backward()
                    scaler.step(optimizer)
                    scaler.update()
                else:
                    loss.backward()
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


def save_checkpoint(path, model, optimizer, scheduler, epoch, history, args, config=None):
    """Write the training state; ``config`` is what ``embervision.predict`` needs to rebuild the model
    and its preprocessing (model name, classes, image size, normalisation)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    state = {
        "epoch": epoch,
        "config": config,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "history": history,
        "args": {k: v for k, v in vars(args).items() if isinstance(v, (int, float, str, bool, type(None)))},
        "rng_state": ember.get_rng_state(),
    }
    tmp = path + ".tmp"
    ember.save(state, tmp)
    os.replace(tmp, path)


def _collect_predictions(model, dataset, device, n=32):
    model.eval()
    items = [dataset[i] for i in range(min(n, len(dataset)))]
    batch = ember.stack([x for x, _ in items])
    with ember.no_grad():
        preds = model(batch.to(device)).argmax(1).cpu().numpy()
    imgs = batch.numpy()
    imgs = (imgs - imgs.min()) / max(imgs.max() - imgs.min(), 1e-8)
    return imgs, preds, [t for _, t in items]


def main(argv=None) -> dict:
    global _download
    args = build_parser().parse_args(argv)
    _download = args.download
    ember.manual_seed(args.seed)
    np.random.seed(args.seed)
    device = ember.device(args.device)
    build, channels, size, mean, std = DATASETS[args.dataset]
    train_tf, test_tf, image_size = build_transforms(args, channels, size, mean, std)
    try:
        train_set = build(args.data_root, True, train_tf)
        test_set = build(args.data_root, False, test_tf)
    except (RuntimeError, FileNotFoundError) as exc:
        raise SystemExit(f"error: {exc}") from None
    classes = getattr(train_set, "classes", None)
    num_classes = len(classes) if classes else 10
    train_set, test_set = _limit(train_set, args.limit_train), _limit(test_set, args.limit_test)
    parallel, sampler = _setup_distributed(args, train_set)
    rank, world, log = parallel.rank, parallel.world, parallel.log
    shuffle_gen = ember.Generator()
    if sampler is None:
        train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, num_workers=args.workers,
                                  generator=shuffle_gen, persistent_workers=args.workers > 0)
    else:
        train_loader = DataLoader(train_set, batch_size=args.batch_size // world, sampler=sampler,
                                  num_workers=args.workers, persistent_workers=args.workers > 0)
    test_loader = DataLoader(test_set, batch_size=args.test_batch_size, shuffle=False, num_workers=args.workers)

    model_name, model = build_model(args, channels, image_size, num_classes)
    model.to(device)
    config = {"model": model_name, "num_classes": num_classes, "in_channels": channels, "image_size": image_size,
              "resize": image_size != size, "mean": list(mean), "std": list(std),
              "classes": list(classes) if classes else None, "dataset": args.dataset}
    trained = parallel.wrap(model)
    optimizer = build_optimizer(args, model.parameters())
    fresh_groups = [{k: v for k, v in g.items() if k != "params"} for g in optimizer.param_groups]
    base_lr = optimizer.param_groups[0]["lr"]
    scheduler, sched_unit = build_scheduler(args, optimizer, len(train_loader))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=args.label_smoothing)
    amp_dtype = None
    scaler = None
    if args.amp:
        amp_dtype = getattr(ember, args.amp_dtype or ("float16" if device.type == "cuda" else "bfloat16"))
        if amp_dtype is ember.float16:  # float16's narrow range needs loss scaling; bfloat16's does not
            scaler = ember.amp.GradScaler(device.type)
    checkpoint = args.checkpoint or os.path.join(args.output_dir, "checkpoint.ember")
    history = {"train_loss": [], "train_acc": [], "test_loss": [], "test_acc": [], "epoch_seconds": []}
    start_epoch = 0
    if args.resume:
        state = ember.load(args.resume, map_location=device)
        model.load_state_dict(state["model"])
        history = state["history"]
        start_epoch = int(state["epoch"])
        ember.set_rng_state(state["rng_state"])
        log(f"resumed from {args.resume} after {_plural(start_epoch, 'epoch')}")
        if start_epoch < args.epochs:
            optimizer.load_state_dict(state["optimizer"])
            scheduler, note = resume_schedule(args, optimizer, scheduler, fresh_groups, state.get("scheduler"),
                                              len(train_loader), start_epoch, state.get("args"))
            if note:
                log(note)

    n_params = sum(p.numel() for p in model.parameters())
    log(f"embervision-train: {model_name} ({n_params:,} parameters) on {args.dataset} "
          f"({len(train_set)} train / {len(test_set)} test images), device {device}"
          f"{f' x {world} ranks' if sampler is not None else ''}, "
          f"{args.optimizer} lr={base_lr:g} "
          f"({args.scheduler} schedule), {_plural(args.epochs, 'epoch')}"
          f"{f', autocast {amp_dtype}' if amp_dtype is not None else ''}")
    if start_epoch >= args.epochs:
        log(f"nothing left to train: the checkpoint has {_plural(start_epoch, 'epoch')} and --epochs is {args.epochs} "
              "(pass a larger --epochs to train further)")
    progress = not args.no_progress and rank == 0
    written = None
    for epoch in range(start_epoch, args.epochs):
        t0 = time.perf_counter()
        shuffle_gen.manual_seed(args.seed * 1000 + epoch)  # per-epoch order: a resumed run sees the same batches
        if sampler is not None:
            sampler.set_epoch(epoch)
        train_loss, train_acc = run_epoch(trained, train_loader, loss_fn, device, optimizer, scheduler,
                                          per_batch=sched_unit == "batch", desc=f"epoch {epoch + 1}/{args.epochs} train",
                                          progress=progress, parallel=parallel if sampler is not None else None,
                                          amp_dtype=amp_dtype, scaler=scaler)
        if sched_unit == "epoch":
            scheduler.step()
        test_loss, test_acc = run_epoch(model, test_loader, loss_fn, device, desc=f"epoch {epoch + 1}/{args.epochs} test",
                                        progress=progress, amp_dtype=amp_dtype)
        seconds = time.perf_counter() - t0
        for key, value in (("train_loss", train_loss), ("train_acc", train_acc), ("test_loss", test_loss), ("test_acc", test_acc), ("epoch_seconds", seconds)):
            history[key].append(value)
        log(f"epoch {epoch + 1}/{args.epochs}: train loss {train_loss:.4f} acc {100 * train_acc:.2f}% | "
            f"test loss {test_loss:.4f} acc {100 * test_acc:.2f}% | {seconds:.1f}s", flush=True)
        if rank == 0:
            save_checkpoint(checkpoint, model, optimizer, scheduler, epoch + 1, history, args, config)
            written = checkpoint
    if sampler is not None:
        parallel.close()
        if rank != 0:
            return {"test_acc": history["test_acc"][-1] if history["test_acc"] else float("nan"), "history": history,
                    "checkpoint": None, "rank": rank}

    final = history["test_acc"][-1] if history["test_acc"] else float("nan")
    if written:
        print(f"final test accuracy: {100 * final:.2f}%  (checkpoint: {written})")
    else:
        print(f"test accuracy in the checkpoint: {100 * final:.2f}%  (no new checkpoint written)")
    os.makedirs(args.output_dir, exist_ok=True)
    if args.save_curves:
        from ._plot import save_curves

        path = os.path.join(args.output_dir, "curves.png")
        save_curves(history, path)
        print(f"wrote {path}")
    if args.save_predictions:
        from ._plot import save_predictions

        imgs, preds, targets = _collect_predictions(model, test_set, device)
        path = os.path.join(args.output_dir, "predictions.png")
        save_predictions(imgs, preds, targets, classes, path)
        print(f"wrote {path}")
    with open(os.path.join(args.output_dir, "history.json"), "w") as f:
        json.dump(history, f, indent=1)
    result = {"test_acc": final, "history": history, "checkpoint": written}
    if args.export_onnx:
        result["onnx"] = export_onnx(model, args.export_onnx, channels, image_size, mean, std)
    return result


def export_onnx(model, path, channels, size, mean, std):
    """Write ``model`` (eval mode, on the CPU) to ``path`` as ONNX with a dynamic batch size, and print how
    to run it in ONNX Runtime."""
    norm = f"mean {tuple(round(m, 4) for m in mean)}, std {tuple(round(s, 4) for s in std)}"
    return _onnx_deploy.export_onnx(
        model, (ember.zeros(1, channels, size, size),), path,
        [("image", f"float32 [batch, {channels}, {size}, {size}]: pixels in [0, 1], normalized with {norm}")],
        what="[batch, classes] class scores")


def cli() -> None:
    """Console-script entry point (``embervision-train``): exit status 0 on success, not ``main``'s return value."""
    main(sys.argv[1:])


if __name__ == "__main__":
    cli()
