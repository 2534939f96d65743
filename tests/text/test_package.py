import embertext


def test_version():
    assert embertext.__version__ == "0.1.0"
