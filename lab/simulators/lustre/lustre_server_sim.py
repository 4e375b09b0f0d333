"""Test double of a Lustre server (MGS + MDS + OSS) for the aifabric lab. Test-side only.

Listens on TCP (988, the port of Lustre's socklnd) and answers one JSON line per connection
(the lab's own protocol, not LNet): {"op": "mount", "fsname": F} -> {"ok": true, "fsname": F,
"targets": [{"name", "kind", "index", "kbytes", "used", "avail"}]} or {"ok": false, "errno": 2,
"error": ...} for a file system it does not serve. A connection that sends nothing (the
lnetctl ping double's bare connect) is accepted and closed. Python 3 standard library only.
"""
import argparse
import json
import socketserver
import sys

TIB_KB = 1024 ** 3  # 1 TiB in 1K-blocks
# the file systems served: fsname -> targets; sizes in 1K-blocks (total, used); avail as
# ldiskfs reports it (total - used - a reserve)
FILESYSTEMS = {
    "scratch": [
        ("MDT", 0, 1 * TIB_KB, 12582912),
        ("OST", 0, 8 * TIB_KB, 2638827904),
        ("OST", 1, 8 * TIB_KB, 3164627072),
    ],
}


def describe(fsname):
    targets = []
    for kind, index, total, used in FILESYSTEMS[fsname]:
        reserve = total // 100
        targets.append({"name": "%s-%s%04x" % (fsname, kind, index), "kind": kind, "index": index,
                        "kbytes": total, "used": used, "avail": total - used - reserve})
    return {"ok": True, "fsname": fsname, "targets": targets}


def answer(request):
    if request.get("op") == "mount":
        fsname = request.get("fsname")
        if fsname in FILESYSTEMS:
            return describe(fsname)
        return {"ok": False, "errno": 2, "error": "no file system %r on this MGS" % fsname}
    return {"ok": False, "errno": 22, "error": "unknown op %r" % request.get("op")}


class Handler(socketserver.StreamRequestHandler):
    timeout = 10

    def handle(self):
        try:
            line = self.rfile.readline(65536)
        except OSError:
            return
        if not line.strip():
            return  # a bare connect (lnetctl ping): accepted and closed
        try:
            reply = answer(json.loads(line))
        except ValueError:
            reply = {"ok": False, "errno": 22, "error": "not JSON"}
        self.wfile.write((json.dumps(reply) + "\n").encode())


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listen", default="0.0.0.0")
    ap.add_argument("--port", type=int, default=988)
    args = ap.parse_args()
    with Server((args.listen, args.port), Handler) as server:
        print("lustre_server_sim: MGS/MDS/OSS of %s listening on %s:%d" % (
            ", ".join(sorted(FILESYSTEMS)), args.listen, server.server_address[1]), flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
