"""``python -m embertext`` runs the trainer (same as ``python -m embertext.train``)."""

from .train import main

main()
