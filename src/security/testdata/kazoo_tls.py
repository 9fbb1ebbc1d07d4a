#!/usr/bin/python3
"""A kazoo client over TLS for the PKI integration tests.

usage: kazoo_tls.py HOSTS CA_FILE CERT_FILE KEY_FILE TIMEOUT ACTION [PATH]
CERT_FILE and KEY_FILE may be "-" (no client certificate).
ACTION:
  create-read PATH  create PATH, read it back, delete it; prints "read: <data>"
  guard PATH        create PATH with ACL world:anyone:r and PATH/child under it
  delete PATH       delete PATH; prints "deleted"
An action an ACL refuses prints "NoAuthError" (exit 3).
Exit codes: 0 done, 3 refused by an ACL, 4 could not connect, 2 usage.
"""
import sys

from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError
from kazoo.security import make_acl


def main(argv):
    if len(argv) < 7:
        print(__doc__, file=sys.stderr)
        return 2
    hosts, ca, cert, key, timeout, action = argv[1:7]
    path = argv[7] if len(argv) > 7 else None
    client = KazooClient(hosts=hosts, use_ssl=True, verify_certs=True, ca=ca,
                         certfile=None if cert == "-" else cert,
                         keyfile=None if key == "-" else key,
                         connection_retry={"max_tries": 2}, timeout=float(timeout))
    try:
        client.start(timeout=float(timeout))
    except Exception as e:  # a refused handshake surfaces as a timeout
        print("connect failed: %s: %s" % (type(e).__name__, e))
        return 4
    try:
        if action == "create-read":
            client.create(path, b"over-tls")
            data, _ = client.get(path)
            client.delete(path)
            print("read: %s" % data.decode())
        elif action == "guard":
            client.create(path, b"guarded", acl=[make_acl("world", "anyone", read=True)])
            client.create(path + "/child", b"child")
            print("guarded")
        elif action == "delete":
            client.delete(path)
            print("deleted")
        else:
            print("unknown action %s" % action, file=sys.stderr)
            return 2
        return 0
    except NoAuthError:
        print("NoAuthError")
        return 3
    finally:
        client.stop()
        client.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
