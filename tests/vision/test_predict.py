"""``python -m embervision.predict``: a trainer checkpoint classifies image files."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import ember
from embervision import datasets, models, predict, train, transforms


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One tiny training run (128 images, 1 epoch), its checkpoint and five test digits saved as PNGs."""
    root = tmp_path_factory.mktemp("predict")
    out = train.main(["--epochs", "1", "--limit-train", "128", "--limit-test", "32", "--no-progress", "--scheduler", "none",
                      "--output-dir", str(root)])
    test_set = datasets.mnist_small(train=False)
    paths = []
    for i in range(5):
        test_set[i][0].save(root / f"digit{i}.png")
        paths.append(str(root / f"digit{i}.png"))
    return out["checkpoint"], paths, [test_set[i][0] for i in range(5)]


def _reference(checkpoint, images):
    """The trained model applied by hand with the trainer's MNIST normalisation."""
    model = models.mnist_cnn(num_classes=10)
    model.load_state_dict(ember.load(checkpoint)["model"])
    model.eval()
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    with ember.no_grad():
        return model(ember.stack([tf(img) for img in images])).softmax(1).numpy()


def test_prints_class_and_probability_per_image(run, capsys):
    checkpoint, paths, images = run
    results = predict.main([checkpoint, *paths, "--topk", "3"])
    lines = capsys.readouterr().out.splitlines()
    probs = _reference(checkpoint, images)
    names = datasets.MNIST.classes
    assert len(lines) == len(paths) == len(results)
    for path, line, top, p in zip(paths, lines, results, probs):
        order = np.argsort(-p)[:3]
        assert [name for name, _ in top] == [names[i] for i in order]
        np.testing.assert_allclose([q for _, q in top], p[order], rtol=1e-5)
        assert line == f"{path}: " + ", ".join(f"{names[i]} ({100 * p[i]:.1f}%)" for i in order)


def test_colour_and_larger_images_are_converted_like_training(run, tmp_path):
    checkpoint, paths, images = run
    grey = np.asarray(images[0])
    Image.fromarray(np.stack([grey] * 3, axis=-1)).save(tmp_path / "rgb.png")  # same digit as RGB
    Image.fromarray(grey).resize((56, 56)).save(tmp_path / "big.png")
    model, config = predict.load_model(checkpoint)
    with Image.open(tmp_path / "rgb.png") as rgb, Image.open(tmp_path / "big.png") as big:
        (rgb_top,), (big_top,) = predict.predict(model, config, [rgb], topk=10), predict.predict(model, config, [big], topk=10)
    np.testing.assert_allclose(sorted(q for _, q in rgb_top), sorted(_reference(checkpoint, images[:1])[0]), rtol=1e-5)
    assert len(big_top) == 10 and sum(q for _, q in big_top) == pytest.approx(1.0, abs=1e-5)
    with Image.open(tmp_path / "big.png") as big:
        assert predict.preprocess(config)(big).shape == (1, 28, 28)


def test_checkpoints_without_a_stored_config_still_load(run, tmp_path, capsys):
    checkpoint, paths, images = run
    state = ember.load(checkpoint)
    del state["config"]  # what the trainer wrote before it stored the config
    ember.save(state, tmp_path / "old.ember")
    results = predict.main([str(tmp_path / "old.ember"), paths[0], "--topk", "2"])
    p = _reference(checkpoint, images[:1])[0]
    order = np.argsort(-p)[:2]
    assert [name for name, _ in results[0]] == [str(i) for i in order]  # classes shown by index
    np.testing.assert_allclose([q for _, q in results[0]], p[order], rtol=1e-5)


def test_missing_checkpoint_or_image_is_a_clear_exit(run, tmp_path):
    checkpoint, paths, _ = run
    with pytest.raises(SystemExit, match="checkpoint .*nope.ember does not exist"):
        predict.main([str(tmp_path / "nope.ember"), paths[0]])
    with pytest.raises(SystemExit, match="cannot read image .*missing.png"):
        predict.main([checkpoint, str(tmp_path / "missing.png")])
    ember.save({"weights": 1}, tmp_path / "other.ember")
    with pytest.raises(SystemExit, match="not a checkpoint of embervision.train"):
        predict.main([str(tmp_path / "other.ember"), paths[0]])


def test_console_scripts_exit_cleanly(run, monkeypatch, capsys):
    """``embervision-predict`` / ``embervision-train`` run ``sys.exit(entry())``: the entry must return None."""
    import pathlib

    checkpoint, paths, _ = run
    pyproject = pathlib.Path(__file__).resolve().parents[2] / "packages" / "vision" / "pyproject.toml"
    text = pyproject.read_text()
    assert 'embervision-train = "embervision.train:cli"' in text and 'embervision-predict = "embervision.predict:cli"' in text
    monkeypatch.setattr("sys.argv", ["embervision-predict", checkpoint, paths[0]])
    assert predict.cli() is None
    assert capsys.readouterr().out.startswith(paths[0])
