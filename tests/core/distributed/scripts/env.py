import os

print("env", os.environ["RANK"], os.environ["LOCAL_RANK"], os.environ["WORLD_SIZE"], os.environ["MASTER_ADDR"],
      os.environ["MASTER_PORT"], flush=True)
