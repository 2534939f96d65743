"""embervision.transforms: deterministic outputs equal torchvision's (recorded once in
fixtures/transforms_ref.npz by fixtures/make_fixtures.py), plus random transforms' contracts."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
from PIL import Image

import ember
from embervision import transforms as T
from embervision.transforms import functional as F

REF = np.load(pathlib.Path(__file__).parent / "fixtures" / "transforms_ref.npz")
IMG = REF["image"]
PIL = Image.fromarray(IMG)
TEN = ember.from_numpy(IMG.transpose(2, 0, 1).copy())

PIL_CASES = {
    "resize_pil_bilinear_7x5": lambda im: F.resize(im, [7, 5]),
    "resize_pil_bicubic_16": lambda im: F.resize(im, 16, F.InterpolationMode.BICUBIC),
    "resize_pil_nearest_5": lambda im: F.resize(im, 5, F.InterpolationMode.NEAREST),
    "center_crop_pil_6": lambda im: F.center_crop(im, 6),
    "center_crop_pil_15x4": lambda im: F.center_crop(im, [15, 4]),
    "pad_pil_reflect": lambda im: F.pad(im, [2, 1, 3, 2], padding_mode="reflect"),
    "pad_pil_edge": lambda im: F.pad(im, 2, padding_mode="edge"),
    "pad_pil_constant": lambda im: F.pad(im, [1, 2], fill=(10, 20, 30)),
    "pad_pil_symmetric": lambda im: F.pad(im, [3, 1], padding_mode="symmetric"),
    "hflip_pil": F.hflip,
    "vflip_pil": F.vflip,
    "rotate_pil_30": lambda im: F.rotate(im, 30.0),
    "rotate_pil_45_bilinear_expand": lambda im: F.rotate(im, 45.0, F.InterpolationMode.BILINEAR, expand=True),
    "affine_pil": lambda im: F.affine(im, 15.0, [2, -1], 1.1, [5.0, 3.0]),
    "grayscale_pil": lambda im: F.rgb_to_grayscale(im),
    "brightness_pil": lambda im: F.adjust_brightness(im, 1.4),
    "contrast_pil": lambda im: F.adjust_contrast(im, 0.6),
    "saturation_pil": lambda im: F.adjust_saturation(im, 1.7),
    "hue_pil": lambda im: F.adjust_hue(im, 0.2),
    "gamma_pil": lambda im: F.adjust_gamma(im, 0.7),
    "sharpness_pil": lambda im: F.adjust_sharpness(im, 2.0),
    "autocontrast_pil": F.autocontrast,
    "equalize_pil": F.equalize,
    "posterize_pil": lambda im: F.posterize(im, 3),
    "solarize_pil": lambda im: F.solarize(im, 128),
    "invert_pil": F.invert,
    "gaussian_blur_pil": lambda im: F.gaussian_blur(im, [3, 5], [0.8, 1.3]),
}

# (name, fn, max abs difference allowed: 0 = exact; 1 = off-by-one rounding on a few uint8 pixels)
TENSOR_CASES = [
    ("resize_tensor_bilinear_7x5", lambda x: F.resize(x, [7, 5]), 1),
    ("resize_tensor_bilinear_up_16", lambda x: F.resize(x, 16), 1),
    ("resize_tensor_bicubic_6", lambda x: F.resize(x, 6, F.InterpolationMode.BICUBIC), 1),
    ("resize_tensor_nearest_5", lambda x: F.resize(x, 5, F.InterpolationMode.NEAREST), 0),
    ("resize_tensor_float_bilinear_7x5", lambda x: F.resize(x.float() / 255, [7, 5]), 1e-5),
    ("rotate_tensor_30", lambda x: F.rotate(x, 30.0), 0),
    ("rotate_tensor_30_bilinear", lambda x: F.rotate(x.float() / 255, 30.0, F.InterpolationMode.BILINEAR), 1e-5),
    ("affine_tensor", lambda x: F.affine(x, 15.0, [2, -1], 1.1, [5.0, 3.0]), 0),
    ("grayscale_tensor", lambda x: F.rgb_to_grayscale(x), 0),
    ("brightness_tensor", lambda x: F.adjust_brightness(x, 1.4), 0),
    ("contrast_tensor", lambda x: F.adjust_contrast(x, 0.6), 0),
    ("saturation_tensor", lambda x: F.adjust_saturation(x, 1.7), 0),
    ("hue_tensor", lambda x: F.adjust_hue(x, 0.2), 1),
    ("gamma_tensor", lambda x: F.adjust_gamma(x, 0.7), 0),
    ("sharpness_tensor", lambda x: F.adjust_sharpness(x, 2.0), 0),
    ("autocontrast_tensor", F.autocontrast, 0),
    ("equalize_tensor", F.equalize, 0),
    ("posterize_tensor", lambda x: F.posterize(x, 3), 0),
    ("solarize_tensor", lambda x: F.solarize(x, 128), 0),
    ("invert_tensor", F.invert, 0),
    ("gaussian_blur_tensor", lambda x: F.gaussian_blur(x, [3, 5], [0.8, 1.3]), 1),
    ("pad_tensor_reflect", lambda x: F.pad(x, [2, 1, 3, 2], padding_mode="reflect"), 0),
    ("center_crop_tensor_15x4", lambda x: F.center_crop(x, [15, 4]), 0),
    ("normalize", lambda x: F.normalize(x.float() / 255, [0.5, 0.4, 0.3], [0.2, 0.25, 0.3]), 1e-5),
    ("to_tensor", lambda x: F.to_tensor(PIL), 1e-7),
    ("convert_float_to_uint8", lambda x: F.convert_image_dtype(x.float() / 255, ember.uint8), 0),
]


@pytest.mark.parametrize("name", sorted(PIL_CASES))
def test_pil_ops_match_torchvision(name):
    out = np.asarray(PIL_CASES[name](PIL))
    np.testing.assert_array_equal(out, REF[name])


@pytest.mark.parametrize("name,fn,tol", TENSOR_CASES, ids=[c[0] for c in TENSOR_CASES])
def test_tensor_ops_match_torchvision(name, fn, tol):
    out = fn(TEN).numpy()
    ref = REF[name]
    assert out.shape == ref.shape and out.dtype == ref.dtype, (out.shape, out.dtype, ref.shape, ref.dtype)
    diff = np.abs(out.astype(np.float64) - ref.astype(np.float64))
    assert diff.max() <= tol, f"{name}: max difference {diff.max()} (allowed {tol}) at {np.unravel_index(diff.argmax(), diff.shape)}"


def test_compose_to_tensor_normalize_repr_and_values():
    tf = T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,))])
    out = tf(Image.fromarray(np.full((2, 3), 255, dtype=np.uint8)))
    assert out.shape == (1, 2, 3) and out.dtype is ember.float32
    assert out.tolist() == [[[1.0] * 3] * 2]
    assert repr(tf) == "Compose(\n    ToTensor()\n    Normalize(mean=(0.5,), std=(0.5,))\n)"


def test_normalize_zero_std_is_an_error():
    with pytest.raises(ValueError, match="std evaluated to zero"):
        F.normalize(ember.zeros(3, 2, 2), [0, 0, 0], [1, 0, 1])


def test_random_transforms_are_seeded_by_ember():
    tf = T.Compose([T.RandomResizedCrop(8), T.RandomHorizontalFlip(), T.ColorJitter(0.4, 0.4, 0.4, 0.1), T.ToTensor()])
    ember.manual_seed(3)
    a = tf(PIL)
    ember.manual_seed(3)
    b = tf(PIL)
    assert a.shape == (3, 8, 8) and np.array_equal(a.numpy(), b.numpy())


def test_random_crop_padding_and_pad_if_needed():
    out = T.RandomCrop(20, pad_if_needed=True)(PIL)
    assert out.size == (20, 20)
    out = T.RandomCrop((11, 13), padding=4)(TEN)
    assert tuple(out.shape) == (3, 11, 13)
    with pytest.raises(ValueError, match="larger than input image size"):
        T.RandomCrop(20)(PIL)


def test_flips_with_probability_one_and_zero():
    assert np.array_equal(np.asarray(T.RandomHorizontalFlip(1.0)(PIL)), IMG[:, ::-1])
    assert np.array_equal(np.asarray(T.RandomVerticalFlip(0.0)(PIL)), IMG)


@pytest.mark.parametrize("aug", [T.AutoAugment(), T.AutoAugment(T.AutoAugmentPolicy.CIFAR10), T.RandAugment(), T.TrivialAugmentWide()])
def test_auto_augment_policies_keep_size_and_mode(aug):
    ember.manual_seed(0)
    for _ in range(10):
        out = aug(PIL)
        assert out.size == PIL.size and out.mode == "RGB"
        t = aug(TEN)
        assert tuple(t.shape) == (3, 11, 13) and t.dtype is ember.uint8


def test_random_erasing_changes_a_rectangle():
    x = ember.ones(3, 16, 16)
    ember.manual_seed(1)
    out = T.RandomErasing(p=1.0, value=0)(x)
    zeros = (out.numpy() == 0).all(axis=0)
    assert zeros.any() and not zeros.all()
    ys, xs = np.nonzero(zeros)
    assert zeros[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].all()


def test_grayscale_and_random_grayscale_channels():
    assert T.Grayscale(3)(PIL).mode == "RGB"
    assert tuple(T.Grayscale()(TEN).shape) == (1, 11, 13)
    assert T.RandomGrayscale(p=1.0)(PIL).mode == "RGB"


def test_misc_transforms():
    assert T.Lambda(lambda im: 5)(PIL) == 5
    ember.manual_seed(0)
    assert T.RandomApply([T.Lambda(lambda im: "x")], p=1.0)(PIL) == "x"
    assert T.RandomChoice([T.Lambda(lambda im: "a")])(PIL) == "a"
    out = T.RandomOrder([T.Pad(1), T.CenterCrop(5)])(PIL)
    assert out.size == (5, 5)
    assert len(T.FiveCrop(4)(PIL)) == 5 and len(T.TenCrop(4)(PIL)) == 10
    assert T.ToPILImage()(T.ToTensor()(PIL)).size == PIL.size
    assert T.PILToTensor()(PIL).dtype is ember.uint8
    assert T.ConvertImageDtype(ember.float32)(TEN).dtype is ember.float32
    assert T.GaussianBlur(3)(PIL).size == PIL.size
    assert T.RandomRotation(10)(PIL).size == PIL.size
    assert T.RandomAffine(10, translate=(0.1, 0.1), scale=(0.9, 1.1), shear=5)(TEN).shape == TEN.shape
    assert T.Resize(5)(PIL).size == (5, 5) or T.Resize(5)(PIL).size[1] == 5
