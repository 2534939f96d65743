"""``python -m ember.distributed.run``: start N ranks of a script, torchrun-style, on the MPI launcher.

    python -m ember.distributed.run --nproc-per-node 2 train.py --epochs 3

Each rank gets ``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``LOCAL_WORLD_SIZE``, ``MASTER_ADDR`` and
``MASTER_PORT`` as torchrun sets them. If a rank raises, its traceback is printed, every other rank is
stopped and the launcher exits non-zero. Across machines, give ``--nnodes`` and a ``--hostfile`` (one host
per line) and run the command on one node: MPI's launcher starts the ranks on the others.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ember.distributed.run", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--nproc-per-node", "--nproc_per_node", type=int, default=1, help="ranks started on each node")
    p.add_argument("--nnodes", type=int, default=1, help="number of nodes")
    p.add_argument("--node-rank", "--node_rank", type=int, default=0, help="this node's index (informational: "
                   "MPI places ranks on the hosts of --hostfile)")
    p.add_argument("--hostfile", default=None, help="MPI host file listing the nodes (needed when --nnodes > 1)")
    p.add_argument("--master-addr", "--master_addr", default="127.0.0.1", help="MASTER_ADDR given to the ranks")
    p.add_argument("--master-port", "--master_port", type=int, default=29500, help="MASTER_PORT given to the ranks")
    p.add_argument("--standalone", action="store_true", help="accepted for torchrun compatibility (single node)")
    p.add_argument("-m", "--module", action="store_true", help="run the script argument as a Python module")
    p.add_argument("--no-python", "--no_python", action="store_true", help="run the script argument as a program")
    p.add_argument("script", help="the training script (or module with -m)")
    p.add_argument("script_args", nargs=argparse.REMAINDER, help="arguments for the script")
    return p


def find_mpiexec() -> str:
    """The ``mpiexec`` next to this Python (the mpich wheel's) or on PATH."""
    here = os.path.dirname(sys.executable)
    found = shutil.which("mpiexec", path=os.pathsep.join([here, os.environ.get("PATH", "")]))
    if found is None:
        raise SystemExit("ember.distributed.run: mpiexec was not found; install it with pip install \"ember[mpi]\"")
    return found


def command(args) -> list[str]:
    world = args.nproc_per_node * args.nnodes
    if args.nnodes > 1 and not args.hostfile:
        raise SystemExit("ember.distributed.run: --nnodes > 1 needs --hostfile listing the nodes")
    cmd = [find_mpiexec(), "-n", str(world)]
    if args.hostfile:
        cmd += ["-f", args.hostfile, "-ppn", str(args.nproc_per_node)]
    env = {"MASTER_ADDR": args.master_addr, "MASTER_PORT": str(args.master_port), "WORLD_SIZE": str(world),
           "LOCAL_WORLD_SIZE": str(args.nproc_per_node), "EMBER_RUN_NPROC_PER_NODE": str(args.nproc_per_node)}
    for key, value in env.items():
        cmd += ["-genv", key, value]
    if args.no_python:
        target = [args.script]
    else:
        target = [sys.executable, "-m", "ember.distributed._rank", "-m" if args.module else "--", args.script]
    return cmd + target + list(args.script_args)


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if args.nproc_per_node < 1 or args.nnodes < 1:
        raise SystemExit("ember.distributed.run: --nproc-per-node and --nnodes must be at least 1")
    with tempfile.TemporaryDirectory(prefix="ember-run-") as report_dir:
        code = _run(command(args), report_dir)
        for name in sorted(os.listdir(report_dir)):  # the failing ranks' tracebacks
            with open(os.path.join(report_dir, name)) as f:
                sys.stderr.write(f.read())
    if code != 0:
        print(f"ember.distributed.run: a rank failed (exit code {code}); all ranks were stopped", file=sys.stderr)
    return 1 if code < 0 else code


def _run(cmd: list[str], report_dir: str) -> int:
    cmd = cmd[:3] + ["-genv", "EMBER_RUN_REPORT_DIR", report_dir] + cmd[3:]
    proc = subprocess.Popen(cmd, start_new_session=True)

    def forward(signum, _frame):
        try:
            os.killpg(proc.pid, signum)
        except ProcessLookupError:
            pass

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        code = proc.wait()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        try:  # no orphans: whatever is left of the job goes with the launcher
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    return code


if __name__ == "__main__":
    sys.exit(main())
