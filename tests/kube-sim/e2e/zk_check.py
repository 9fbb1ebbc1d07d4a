"""Checks a ZooKeeper ensemble from inside the cluster network with a real
client (kazoo) and the four-letter words. Run through `kube-sim run`.

  zk_check.py write HOST:PORT PATH VALUE     create or set PATH
  zk_check.py read HOST:PORT PATH            print PATH's value (after sync)
  zk_check.py modes HOST:PORT[,HOST:PORT...] print each server's Mode, one per line
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


def client(hosts):
    zk = KazooClient(hosts=hosts, timeout=10, connection_retry={"max_tries": 5, "delay": 0.5})
    zk.start(timeout=20)
    return zk


def main(argv):
    cmd = argv[1]
    if cmd == "write":
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
    elif cmd == "modes":
        for hp in argv[2].split(","):
            reply = four_letter(hp, "srvr")
            mode = next((l.split(": ", 1)[1] for l in reply.splitlines() if l.startswith("Mode: ")), reply.strip())
            print(f"{hp} {mode}")
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv)
