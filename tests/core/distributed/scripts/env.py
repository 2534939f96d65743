import os

line = " ".join(["env", os.environ["RANK"], os.environ["LOCAL_RANK"], os.environ["WORLD_SIZE"],
                 os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"]])
os.write(1, (line + "\n").encode())  # one write: the two ranks share the launcher's stdout
