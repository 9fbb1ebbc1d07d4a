"""ZooKeeper reads for the operator_*.sh scenarios that manifests_zk.py does
not offer, from inside the cluster network (run through `kube-sim run`).

  operator_zk.py srvr HOST:PORT    "mode M" and "version V" (V without the build suffix)
"""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the sources
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from manifests_zk import four_letter  # noqa: E402


def main(argv):
    if len(argv) == 3 and argv[1] == "srvr":
        reply = four_letter(argv[2], "srvr")
        for line in reply.splitlines():
            if line.startswith("Mode: "):
                print("mode " + line.split(": ", 1)[1])
            elif line.startswith("Zookeeper version: "):
                print("version " + line.split(": ", 1)[1].split("-", 1)[0])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
