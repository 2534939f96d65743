"""Run the programs of this folder with ember (``import ember as torch``); each one's loss must fall.
Under tox -e parity each program's source is also run with PyTorch (``ember`` replaced by ``torch``)."""

import importlib.util
import pathlib
import sys

import numpy as np
import pytest

from . import (dcgan, hogwild, meta_shapes, policy_gradient, siamese, spatial_transformer, time_series, transformer_lm, vae,
               word_lm)

HERE = pathlib.Path(__file__).parent


def falls(losses, factor=0.8, k=3):
    """The mean of the last ``k`` losses is below ``factor`` times the mean of the first ``k``."""
    first, last = np.mean(losses[:k]), np.mean(losses[-k:])
    assert np.isfinite(losses).all()
    assert last < factor * first, (first, last)
    return first, last


def test_mnist_adadelta_steplr_accelerator(shared_datasets):
    from . import mnist_adadelta

    falls(mnist_adadelta.main(str(shared_datasets)), 0.8)


def test_vae():
    falls(vae.main(), 0.8)


def test_dcgan_steps():
    err_d, err_g = dcgan.main()
    falls(err_d, 0.9)
    falls(err_g, 0.9)


def test_word_language_model_saved_and_reloaded_whole(tmp_path):
    losses, ppl = word_lm.main(tmp_path / "model.pt")
    falls(losses, 0.7)
    assert ppl < 20  # below a uniform guess over the 20 tokens


def test_transformer_language_model():
    falls(transformer_lm.main(), 0.7)


def test_time_series_lstm_with_lbfgs(tmp_path):
    falls(time_series.main(tmp_path), 0.7, k=1)


def test_siamese_network():
    falls(siamese.main(), 0.7)


def test_spatial_transformer_network():
    falls(spatial_transformer.main(), 0.8)


def test_hogwild_workers_train_a_shared_model():
    before, after = hogwild.main()
    assert after < 0.8 * before


def test_policy_gradient():
    lengths = policy_gradient.main()
    falls(lengths, 0.6, k=10)  # episodes get shorter


def test_meta_device_shape_reasoning():
    shapes, losses = meta_shapes.main()
    assert shapes == {"params": 1_010_500_432, "logits": (2, 16, 50_000), "device": "meta"}
    falls(losses, 0.7)


# ---- the same sources with PyTorch ------------------------------------------------------------------

def _torch_version(name):
    source = (HERE / f"{name}.py").read_text().replace("embervision", "torchvision").replace("ember", "torch")
    spec = importlib.util.spec_from_loader(f"torch_program_{name}", loader=None)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # spawned workers (hogwild) import their target by module name
    exec(compile(source, f"<torch {name}>", "exec"), module.__dict__)
    return module


@pytest.mark.parity
@pytest.mark.parametrize("name", ["vae", "dcgan", "transformer_lm", "siamese", "policy_gradient", "meta_shapes",
                                  "spatial_transformer"])
def test_parity_programs_behave_the_same_with_pytorch(name):
    pytest.importorskip("torch")
    ours, theirs = globals()[name].main(), _torch_version(name).main()
    if name in ("dcgan", "meta_shapes"):
        if name == "meta_shapes":
            assert ours[0] == theirs[0]
        ours, theirs = (ours[0], theirs[0]) if name == "dcgan" else (ours[1], theirs[1])
    k = 10 if name == "policy_gradient" else 3
    f_ours, f_theirs = falls(ours, 0.9, k), falls(theirs, 0.9, k)
    # the two runs start from different random weights: compare where they end, relative to the start
    assert abs(f_ours[1] / f_ours[0] - f_theirs[1] / f_theirs[0]) < 0.35
