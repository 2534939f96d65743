"""One rank under ``ember.distributed.run``: set torchrun's environment from MPI's, run the script, and on an
uncaught exception print it and abort the whole job (so no rank waits forever for a dead peer)."""

from __future__ import annotations

import os
import runpy
import sys
import traceback


def _set_env() -> None:
    rank = os.environ.get("PMI_RANK", os.environ.get("OMPI_COMM_WORLD_RANK", "0"))
    size = os.environ.get("PMI_SIZE", os.environ.get("OMPI_COMM_WORLD_SIZE", os.environ.get("WORLD_SIZE", "1")))
    per_node = int(os.environ.get("EMBER_RUN_NPROC_PER_NODE", size))
    local = os.environ.get("MPI_LOCALRANKID", os.environ.get("OMPI_COMM_WORLD_LOCAL_RANK", str(int(rank) % per_node)))
    os.environ.update(RANK=rank, WORLD_SIZE=size, LOCAL_RANK=local, GROUP_RANK=str(int(rank) // per_node))


def main() -> None:
    mode, target, *args = sys.argv[1:]
    _set_env()
    sys.argv = [target, *args]
    try:
        if mode == "-m":
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            sys.path.insert(0, os.path.dirname(os.path.abspath(target)))
            runpy.run_path(target, run_name="__main__")
    except SystemExit as exc:
        if exc.code in (None, 0):
            return
        _abort(exc.code if isinstance(exc.code, int) else 1, None if isinstance(exc.code, int) else exc.code)
    except BaseException:
        _abort(1, traceback.format_exc())


def _abort(code: int, message) -> None:
    rank = os.environ.get("RANK", "?")
    sys.stdout.flush()
    if message:
        text = f"[rank {rank}] {message}" if str(message).endswith("\n") else f"[rank {rank}] {message}\n"
        report_dir = os.environ.get("EMBER_RUN_REPORT_DIR")
        if report_dir and os.path.isdir(report_dir):
            # MPI's abort can tear the job down before its stdio forwarding drains, so the launcher prints this
            with open(os.path.join(report_dir, f"rank-{rank}.err"), "w") as f:
                f.write(text)
        else:
            sys.stderr.write(text)
    sys.stderr.flush()
    from . import _mpi

    _mpi.mpi().COMM_WORLD.Abort(code)


if __name__ == "__main__":
    main()
