"""A ZooKeeper client as an application uses it, with or without SASL
DIGEST-MD5 (kazoo with pure-sasl), from inside the cluster network. Run
through `kube-sim run`.

  auth_zk.py create HOST:PORT PATH USER PASSWORD  create PATH (ACL sasl:USER), then read it
  auth_zk.py read HOST:PORT PATH USER PASSWORD    read PATH as USER
  auth_zk.py anonymous HOST:PORT PATH             read PATH without authenticating

Prints "read <data> acl <scheme:id:perms,...>" or "refused <exception>".
Every wait is bounded: kazoo 2.8 does not know ZooKeeper's error -124
(SESSIONCLOSEDREQUIRESASLAUTH, an enforcing server's answer to an anonymous
request); its I/O thread dies on it and a plain get() would wait forever.
"""
import sys

from kazoo.client import KazooClient
from kazoo.security import make_acl


def main(argv):
    mode, host, path = argv[1:4]
    user, password = (argv[4], argv[5]) if mode != "anonymous" else (None, None)
    sasl = {"mechanism": "DIGEST-MD5", "username": user, "password": password} if user else None
    zk = KazooClient(hosts=host, sasl_options=sasl, timeout=10)
    try:
        zk.start(timeout=30)
        if mode == "create":
            zk.create_async(path, b"hello", acl=[make_acl("sasl", user, all=True)]).get(timeout=20)
        data, _ = zk.get_async(path).get(timeout=20)
        acl, _ = zk.get_acls_async(path).get(timeout=20)
        print("read " + data.decode() + " acl " +
              ",".join("%s:%s:%d" % (a.id.scheme, a.id.id, a.perms) for a in acl))
    except Exception as e:  # what the caller checks for
        print("refused " + type(e).__name__)
    finally:
        try:
            zk.stop()
        except Exception:
            pass


if __name__ == "__main__":
    main(sys.argv)
