"""Each rank records its pid in the directory given as argument, then sleeps (until the launcher stops it)."""

import os
import pathlib
import sys
import time

pathlib.Path(sys.argv[1], f"rank-{os.environ['RANK']}.pid").write_text(str(os.getpid()))
time.sleep(120)
