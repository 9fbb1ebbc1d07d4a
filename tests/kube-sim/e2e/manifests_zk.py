"""ZooKeeper checks for the manifests_*.sh scenarios, from inside the cluster
network (run through `kube-sim run`), with a real client (kazoo) and the
four-letter words.

  manifests_zk.py conf HOST:PORT               the server's `conf`: key=value lines,
                                               then its membership (server.N lines, version=)
  manifests_zk.py members HOST:PORT            only the membership: sorted server ids, then version
  manifests_zk.py mode HOST:PORT               the server's Mode (srvr)
  manifests_zk.py reconfig HOSTS PASSWORD (--add LINE | --remove ID)
                                               incremental reconfig as the super user; prints the
                                               new membership like `members`
  manifests_zk.py write HOSTS PATH VALUE       create or set PATH
  manifests_zk.py read HOSTS PATH              PATH's value (after sync)
"""
import socket
import sys

from kazoo.client import KazooClient


def four_letter(hostport, word):
    host, port = hostport.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(word.encode())
        chunks = []
        while True:
            data = s.recv(4096)
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks).decode()


def membership(config_text):
    """Sorted server ids and the version of a dynamic configuration text."""
    ids, version = [], "?"
    for line in config_text.splitlines():
        line = line.strip()
        if line.startswith("server."):
            ids.append(int(line.split("=", 1)[0].split(".", 1)[1]))
        elif line.startswith("version="):
            version = line.split("=", 1)[1]
    return "servers " + ",".join(str(i) for i in sorted(ids)) + "\nversion " + version


def client(hosts, auth=None):
    zk = KazooClient(hosts=hosts, timeout=10, auth_data=auth,
                     connection_retry={"max_tries": 5, "delay": 0.5})
    zk.start(timeout=20)
    return zk


def main(argv):
    cmd = argv[1]
    if cmd == "conf":
        print(four_letter(argv[2], "conf"), end="")
    elif cmd == "members":
        print(membership(four_letter(argv[2], "conf")))
    elif cmd == "mode":
        reply = four_letter(argv[2], "srvr")
        print(next((l.split(": ", 1)[1] for l in reply.splitlines() if l.startswith("Mode: ")), reply.strip()))
    elif cmd == "reconfig":
        hosts, password, how, what = argv[2], argv[3], argv[4], argv[5]
        zk = client(hosts, auth=[("digest", "super:" + password)])
        if how == "--add":
            data, _ = zk.reconfig(joining=what, leaving=None, new_members=None)
        elif how == "--remove":
            data, _ = zk.reconfig(joining=None, leaving=what, new_members=None)
        else:
            sys.exit(f"reconfig: --add LINE or --remove ID, not {how}")
        zk.stop()
        print(membership(data.decode()))
    elif cmd == "write":
        zk = client(argv[2])
        zk.ensure_path(argv[3])
        zk.set(argv[3], argv[4].encode())
        zk.stop()
        print("written")
    elif cmd == "read":
        zk = client(argv[2])
        zk.sync(argv[3])
        data, _ = zk.get(argv[3])
        zk.stop()
        print(data.decode())
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv)
