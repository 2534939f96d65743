import emberaudio


def test_version():
    assert emberaudio.__version__ == "0.1.0"
