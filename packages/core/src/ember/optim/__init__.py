"""``ember.optim``: optimizers and learning-rate schedulers (PyTorch's ``torch.optim``)."""

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .lbfgs import LBFGS
from .nadam import NAdam
from .optimizer import (
    Optimizer,
    register_optimizer_step_post_hook,
    register_optimizer_step_pre_hook,
)
from .radam import RAdam
from .rmsprop import RMSprop
from .sgd import SGD


def _not_implemented(name):
    def __init__(self, *args, **kwargs):
        raise NotImplementedError(
            f"ember.optim.{name} is not implemented yet; available optimizers: SGD, Adam, AdamW, RMSprop, "
            "Adagrad, Adamax, NAdam, RAdam, LBFGS"
        )

    return type(name, (Optimizer,), {"__init__": __init__, "__doc__": f"Not implemented in ember yet ({name})."})


Adadelta = _not_implemented("Adadelta")
ASGD = _not_implemented("ASGD")
Rprop = _not_implemented("Rprop")
SparseAdam = _not_implemented("SparseAdam")

__all__ = [
    "LBFGS",
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "NAdam",
    "Optimizer",
    "RAdam",
    "RMSprop",
    "lr_scheduler",
    "register_optimizer_step_post_hook",
    "register_optimizer_step_pre_hook",
]

from .._missing import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr(__name__)  # PyTorch names Ember lacks: "ember.X is not implemented yet"
