"""Classify images with a checkpoint of the trainer: ``python -m embervision.predict CHECKPOINT IMAGE...``.

The model is rebuilt from the configuration stored in the checkpoint (model name, number of classes,
input channels and size, normalisation, class names) and each image goes through the trainer's test-time
preprocessing: converted to grey or RGB, resized and centre-cropped when training did so (or when its size
differs from the training size), ``ToTensor`` and ``Normalize`` with the training statistics.
"""

from __future__ import annotations

import argparse
import os
import sys

from PIL import Image

import ember

from . import transforms

_BATCH = 64


def checkpoint_config(state) -> dict:
    """What :func:`load_model` needs, from a trainer checkpoint.

    Checkpoints written before the trainer stored ``config`` are read from their ``args`` and the
    trainer's dataset table; the number of classes then comes from the last 2-D weight (the classifier)
    and the classes are shown by index."""
    if state.get("config"):
        return dict(state["config"])
    from .train import DATASETS, default_model_name

    args = state.get("args") or {}
    if args.get("dataset") not in DATASETS:
        raise ValueError("this checkpoint has neither the trainer's config nor its dataset name: "
                         "was it written by embervision.train?")
    _, channels, size, mean, std = DATASETS[args["dataset"]]
    image_size = args.get("image_size") or (size if size is not None else 64)
    weights = [v for v in state["model"].values() if v.ndim == 2]
    return {"model": args.get("model") or default_model_name(channels, image_size), "num_classes": int(weights[-1].shape[0]),
            "in_channels": channels, "image_size": image_size, "resize": image_size != size,
            "mean": list(mean), "std": list(std), "classes": None, "dataset": args["dataset"]}


def load_model(checkpoint, device="cpu"):
    """The trained model (in eval mode) and its config, from a checkpoint of ``embervision.train``."""
    from .train import make_model

    state = ember.load(checkpoint, map_location=device)
    if not isinstance(state, dict) or "model" not in state:
        raise ValueError(f"{checkpoint} is not a checkpoint of embervision.train (no 'model' entry)")
    config = checkpoint_config(state)
    model = make_model(config["model"], config["in_channels"], config["image_size"], config["num_classes"])
    model.load_state_dict(state["model"])
    return model.to(device).eval(), config


def preprocess(config):
    """The test-time transform of the training run: PIL image -> normalised (C, H, W) tensor."""
    size = config["image_size"]
    to_tensor = transforms.Compose([transforms.ToTensor(), transforms.Normalize(config["mean"], config["std"])])
    resize = transforms.Compose([transforms.Resize(size), transforms.CenterCrop(size)])
    mode = "L" if config["in_channels"] == 1 else "RGB"

    def apply(img):
        img = img.convert(mode)
        if config["resize"] or img.size != (size, size):
            img = resize(img)
        return to_tensor(img)

    return apply


def predict(model, config, images, device="cpu", topk=1):
    """Probabilities of the ``topk`` classes for each PIL image: a list of [(class name, probability), ...]."""
    prep = preprocess(config)
    names = config.get("classes") or [str(i) for i in range(config["num_classes"])]
    topk = min(topk, len(names))
    out = []
    with ember.no_grad():
        for start in range(0, len(images), _BATCH):
            batch = ember.stack([prep(img) for img in images[start:start + _BATCH]]).to(device)
            probs, idx = model(batch).softmax(1).topk(topk, dim=1)
            out += [[(names[i], float(p)) for p, i in zip(ps, ix)] for ps, ix in zip(probs.tolist(), idx.tolist())]
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="embervision-predict", description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("checkpoint", help="checkpoint written by embervision.train (e.g. runs/embervision/checkpoint.ember)")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files (any format PIL reads)")
    p.add_argument("--topk", type=int, default=1, help="how many of the most likely classes to print per image")
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    return p


def main(argv=None) -> list:
    args = build_parser().parse_args(argv)
    if not os.path.isfile(args.checkpoint):
        raise SystemExit(f"error: checkpoint {args.checkpoint} does not exist (train one with python -m embervision.train)")
    try:
        model, config = load_model(args.checkpoint, args.device)
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from None
    images = []
    for path in args.images:
        try:
            with Image.open(path) as img:
                img.load()
                images.append(img)
        except (OSError, ValueError) as exc:
            raise SystemExit(f"error: cannot read image {path}: {exc}") from None
    results = predict(model, config, images, args.device, args.topk)
    for path, top in zip(args.images, results):
        print(f"{path}: " + ", ".join(f"{name} ({100 * p:.1f}%)" for name, p in top))
    return results


def cli() -> None:
    """Console-script entry point (``embervision-predict``): exit status 0 on success, not ``main``'s return value."""
    main(sys.argv[1:])


if __name__ == "__main__":
    cli()
