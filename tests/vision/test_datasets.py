"""embervision.datasets: file formats, checksums, downloads (from a local HTTP server), errors."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import os
import pickle
import struct
import tarfile
import threading

import numpy as np
import pytest
from PIL import Image

from embervision import datasets
from embervision.datasets import _matlab
from embervision.datasets.utils import check_integrity, extract_archive


def _idx_bytes(arr: np.ndarray) -> bytes:
    return bytes([0, 0, 8, arr.ndim]) + struct.pack(">" + "i" * arr.ndim, *arr.shape) + arr.astype(np.uint8).tobytes()


def _write_mnist(raw: str, n=12, gz=True, prefix=("train", "t10k")):
    os.makedirs(raw, exist_ok=True)
    rng = np.random.default_rng(0)
    out = {}
    for split in prefix:
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        for kind, arr in (("images-idx3", images), ("labels-idx1", labels)):
            name = f"{split}-{kind}-ubyte"
            data = _idx_bytes(arr)
            if gz:
                with gzip.open(os.path.join(raw, name + ".gz"), "wb") as f:
                    f.write(data)
            else:
                with open(os.path.join(raw, name), "wb") as f:
                    f.write(data)
        out[split] = (images, labels)
    return out


def test_bundled_mnist_small():
    train = datasets.mnist_small(train=True)
    test = datasets.mnist_small(train=False)
    assert len(train) == 6000 and len(test) == 1000
    img, target = train[0]
    assert isinstance(img, Image.Image) and img.mode == "L" and img.size == (28, 28)
    assert isinstance(target, int) and 0 <= target <= 9
    counts = np.bincount(train.targets.numpy(), minlength=10)
    assert counts.tolist() == [600] * 10
    assert train.data.dtype.name == "uint8" and tuple(train.data.shape) == (6000, 28, 28)
    assert "Split: Train" in repr(train) and "Number of datapoints: 6000" in repr(train)


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_reads_plain_and_gz_idx(tmp_path, gz):
    expected = _write_mnist(str(tmp_path / "MNIST" / "raw"), gz=gz)
    ds = datasets.MNIST(str(tmp_path), train=False)
    img, target = ds[3]
    np.testing.assert_array_equal(np.asarray(img), expected["t10k"][0][3])
    assert target == int(expected["t10k"][1][3])
    assert ds.targets.dtype.name == "int64"


def test_mnist_missing_says_where_to_put_files(tmp_path):
    with pytest.raises(RuntimeError, match=r"Dataset not found\. You can use download=True .* in .*MNIST.raw"):
        datasets.MNIST(str(tmp_path))


def test_truncated_idx_gives_clear_error(tmp_path):
    raw = tmp_path / "FashionMNIST" / "raw"
    _write_mnist(str(raw), gz=False)
    path = raw / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(RuntimeError, match="truncated or corrupt"):
        datasets.FashionMNIST(str(tmp_path))
    path.write_bytes(b"\x01\x02\x03\x04garbage")
    with pytest.raises(RuntimeError, match="not an IDX file"):
        datasets.FashionMNIST(str(tmp_path))


def test_mnist_full_shared(shared_datasets):
    ds = datasets.MNIST(str(shared_datasets), train=False)
    assert len(ds) == 10000
    assert np.bincount(ds.targets.numpy()).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


class _Server:
    """A local HTTP server on 127.0.0.1 serving one folder (or failing with 404)."""

    def __init__(self, folder):
        handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(folder), **k)  # noqa: E731
        http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def _md5(path):
    with open(path, "rb") as f:
        return hashlib.md5(f.read()).hexdigest()


def test_mnist_download_from_local_mirror(tmp_path, monkeypatch):
    served = tmp_path / "served"
    expected = _write_mnist(str(served))
    resources = [(name, _md5(served / name)) for name, _ in datasets.MNIST.resources]
    monkeypatch.setattr(datasets.MNIST, "resources", resources)
    with _Server(served) as server:
        monkeypatch.setattr(datasets.MNIST, "mirrors", ["http://127.0.0.1:9/", server.url])  # first mirror is dead
        ds = datasets.MNIST(str(tmp_path / "root"), train=True, download=True)
    assert len(ds) == 12
    np.testing.assert_array_equal(np.asarray(ds[5][0]), expected["train"][0][5])
    assert (tmp_path / "root" / "MNIST" / "raw" / "train-images-idx3-ubyte").exists()


def test_download_checksum_mismatch_is_refused(tmp_path, monkeypatch):
    served = tmp_path / "served"
    _write_mnist(str(served))
    monkeypatch.setattr(datasets.MNIST, "resources", [(n, "0" * 32) for n, _ in datasets.MNIST.resources])
    with _Server(served) as server:
        monkeypatch.setattr(datasets.MNIST, "mirrors", [server.url])
        with pytest.raises(RuntimeError, match="MD5 mismatch"):
            datasets.MNIST(str(tmp_path / "root"), download=True)


def test_download_offline_says_where_to_place_file(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets.MNIST, "mirrors", ["http://127.0.0.1:9/"])
    with pytest.raises(RuntimeError, match=r"place the file at .*train-images-idx3-ubyte\.gz"):
        datasets.MNIST(str(tmp_path), download=True)


def _cifar_batch(path, n, rng, labels_key="labels"):
    entry = {"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), labels_key: rng.integers(0, 10, n).tolist(), "batch_label": "x"}
    with open(path, "wb") as f:
        pickle.dump(entry, f)
    return entry


def test_cifar10_download_extract_and_read(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    build = tmp_path / "build" / "cifar-10-batches-py"
    build.mkdir(parents=True)
    batches = {name: _cifar_batch(build / name, 4, rng) for name in ["data_batch_1", "data_batch_2", "test_batch"]}
    with open(build / "batches.meta", "wb") as f:
        pickle.dump({"label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]}, f)
    served = tmp_path / "served"
    served.mkdir()
    with tarfile.open(served / "cifar-10-python.tar.gz", "w:gz") as tar:
        tar.add(build, arcname="cifar-10-batches-py")
    monkeypatch.setattr(datasets.CIFAR10, "train_list", [[n, _md5(build / n)] for n in ["data_batch_1", "data_batch_2"]])
    monkeypatch.setattr(datasets.CIFAR10, "test_list", [["test_batch", _md5(build / "test_batch")]])
    monkeypatch.setattr(datasets.CIFAR10, "tgz_md5", _md5(served / "cifar-10-python.tar.gz"))
    with _Server(served) as server:
        monkeypatch.setattr(datasets.CIFAR10, "url", server.url + "cifar-10-python.tar.gz")
        ds = datasets.CIFAR10(str(tmp_path / "root"), train=True, download=True)
    assert len(ds) == 8 and ds.classes[0] == "airplane"
    img, target = ds[5]
    expected = batches["data_batch_2"]["data"][1].reshape(3, 32, 32).transpose(1, 2, 0)
    np.testing.assert_array_equal(np.asarray(img), expected)
    assert target == batches["data_batch_2"]["labels"][1]
    test = datasets.CIFAR10(str(tmp_path / "root"), train=False)
    assert len(test) == 4


def test_cifar_refuses_malicious_pickle(tmp_path, monkeypatch):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()

    class Evil:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    for name in ["data_batch_1", "batches.meta"]:
        with open(folder / name, "wb") as f:
            pickle.dump({"data": Evil()}, f)
    monkeypatch.setattr(datasets.CIFAR10, "train_list", [["data_batch_1", None]])
    monkeypatch.setattr(datasets.CIFAR10, "test_list", [])
    with pytest.raises(RuntimeError, match="forbidden global"):
        datasets.CIFAR10(str(tmp_path))
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("compress", [False, True])
def test_svhn_reads_mat_files(tmp_path, monkeypatch, compress):
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (32, 32, 3, 5), dtype=np.uint8)
    y = np.array([[10], [1], [2], [10], [9]], dtype=np.uint8)
    _matlab.savemat(str(tmp_path / "test_32x32.mat"), {"X": X, "y": y}, compress=compress)
    split = dict(datasets.SVHN.split_list)
    split["test"] = [split["test"][0], "test_32x32.mat", _md5(tmp_path / "test_32x32.mat")]
    monkeypatch.setattr(datasets.SVHN, "split_list", split)
    ds = datasets.SVHN(str(tmp_path), split="test")
    assert len(ds) == 5 and ds.labels.tolist() == [0, 1, 2, 0, 9]
    img, target = ds[1]
    np.testing.assert_array_equal(np.asarray(img), X[:, :, :, 1])
    assert target == 1


def test_matlab_reader_rejects_garbage(tmp_path):
    p = tmp_path / "x.mat"
    p.write_bytes(b"not a mat file" * 20)
    with pytest.raises(_matlab.MatFileError, match="not a MATLAB level-5 file"):
        _matlab.loadmat(str(p))


def test_image_folder(tmp_path):
    for cls, color in (("cat", 10), ("dog", 200)):
        (tmp_path / cls).mkdir()
        for i in range(3):
            Image.new("RGB", (8, 6), (color, i, 0)).save(tmp_path / cls / f"{i}.png")
    (tmp_path / "dog" / "notes.txt").write_text("ignored")
    ds = datasets.ImageFolder(str(tmp_path))
    assert ds.classes == ["cat", "dog"] and ds.class_to_idx == {"cat": 0, "dog": 1}
    assert len(ds) == 6 and ds.targets == [0, 0, 0, 1, 1, 1]
    img, target = ds[4]
    assert img.mode == "RGB" and img.size == (8, 6) and target == 1
    assert img.getpixel((0, 0)) == (200, 1, 0)


def test_image_folder_empty_class_is_an_error(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    Image.new("RGB", (2, 2)).save(tmp_path / "a" / "x.png")
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes b"):
        datasets.ImageFolder(str(tmp_path))
    assert len(datasets.ImageFolder(str(tmp_path), allow_empty=True)) == 1


def test_fake_data_is_reproducible():
    ds = datasets.FakeData(size=4, image_size=(3, 5, 7), num_classes=3)
    a, ta = ds[2]
    b, tb = ds[2]
    assert a.size == (7, 5) and np.array_equal(np.asarray(a), np.asarray(b)) and ta == tb
    with pytest.raises(IndexError):
        ds[4]


def test_extract_refuses_path_traversal(tmp_path):
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        data = b"x"
        info = tarfile.TarInfo("../escaped.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    with pytest.raises(RuntimeError, match="outside"):
        extract_archive(str(evil), str(tmp_path / "out"))
    assert not (tmp_path / "escaped.txt").exists()


def test_check_integrity(tmp_path):
    p = tmp_path / "f"
    p.write_bytes(b"abc")
    assert check_integrity(str(p), "900150983cd24fb0d6963f7d28e17f72")
    assert not check_integrity(str(p), "0" * 32) and not check_integrity(str(tmp_path / "missing"))
