"""A long-lived gRPC C-core xDS client of xds:///<keyspace>, driven by
test/e2e/ccore_test.go. It runs on Debian's python3-grpcio (gRPC C-core),
so the control plane is tested against the C-core xDS client that Python,
C++, Ruby and PHP share. The xDS bootstrap comes from the environment
(GRPC_XDS_BOOTSTRAP_CONFIG), as C-core reads it.

Each stdin line is a command, {"n":20,"headers":{"x-shard":"-80"}}: make n
sequential UnaryCalls with those headers (2 s deadline each). Each command
is answered with one stdout line, in test/node/client.js's format:
  {"peers":[{"peer":"","server_id":"zone1-..."}, ...],
   "errors":[{"code":14,"details":"..."}, ...]}
C-core's Python API does not expose a call's peer on the client side, so
"peer" is empty and the tablet is known from the server_id it answers.

No generated stubs: grpc.testing.TestService/UnaryCall is called with an
empty SimpleRequest (zero bytes) and SimpleResponse's server_id (field 4)
is read from the wire bytes.
"""

import json
import sys

import grpc

METHOD = "/grpc.testing.TestService/UnaryCall"
SERVER_ID_FIELD = 4


def varint(buf, i):
    """Decodes the varint at buf[i:]; returns (value, next index)."""
    v, shift = 0, 0
    while True:
        b = buf[i]
        i += 1
        v |= (b & 0x7F) << shift
        if b < 0x80:
            return v, i
        shift += 7


def server_id(buf):
    """Returns SimpleResponse.server_id from its wire encoding."""
    i, out = 0, ""
    while i < len(buf):
        key, i = varint(buf, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            _, i = varint(buf, i)
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        elif wire == 2:
            n, i = varint(buf, i)
            if field == SERVER_ID_FIELD:
                out = buf[i:i + n].decode("utf-8")
            i += n
        else:
            raise ValueError("unsupported wire type %d" % wire)
    return out


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: client.py <keyspace>\n")
        sys.exit(2)
    channel = grpc.insecure_channel("xds:///" + sys.argv[1])
    call = channel.unary_unary(METHOD, request_serializer=None, response_deserializer=None)
    for line in sys.stdin:
        cmd = json.loads(line)
        md = list((cmd.get("headers") or {}).items())
        out = {"peers": [], "errors": []}
        for _ in range(cmd["n"]):
            try:
                resp = call(b"", timeout=2, metadata=md)
                out["peers"].append({"peer": "", "server_id": server_id(resp)})
            except grpc.RpcError as e:
                out["errors"].append({"code": e.code().value[0], "details": e.details() or ""})
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()
    channel.close()


if __name__ == "__main__":
    main()
