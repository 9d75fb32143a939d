"""A tiny authoritative DNS server for usher's tests (standard library only), started by
the Rust test harness: it answers TXT queries from --txt NAME=VALUE arguments (repeatable),
over UDP on 127.0.0.1. Any other name is NXDOMAIN; a known name asked for another type
has no answers. It prints "READY <port>" once listening and exits when its stdin closes.
"""
import argparse, socket, struct, sys, threading


def parse_name(msg, at):
    labels = []
    while msg[at]:
        n = msg[at]
        labels.append(msg[at + 1:at + 1 + n].decode("ascii", "replace").lower())
        at += n + 1
    return ".".join(labels), at + 1


def answer(query, records):
    qid, _flags, qd = struct.unpack("!HHH", query[:6])
    name, end = parse_name(query, 12)
    qtype, _qclass = struct.unpack("!HH", query[end:end + 4])
    question = query[12:end + 4]
    values = records.get(name)
    if values is None:
        return struct.pack("!HHHHHH", qid, 0x8583, 1, 0, 0, 0) + question
    found = values if qtype == 16 else []
    out = struct.pack("!HHHHHH", qid, 0x8580, 1, len(found), 0, 0) + question
    for v in found:
        data = v.encode()
        rdata = b"".join(bytes([len(data[i:i + 255])]) + data[i:i + 255]
                         for i in range(0, max(len(data), 1), 255))
        out += struct.pack("!HHHIH", 0xC00C, 16, 1, 60, len(rdata)) + rdata
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--txt", action="append", default=[])
    args = ap.parse_args()
    records = {}
    for r in args.txt:
        name, value = r.split("=", 1)
        records.setdefault(name.lower().rstrip("."), []).append(value)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))

    def serve():
        while True:
            query, peer = sock.recvfrom(4096)
            try:
                sock.sendto(answer(query, records), peer)
            except Exception as e:  # a malformed query gets no answer
                print("dns stub:", e, file=sys.stderr)

    threading.Thread(target=serve, daemon=True).start()
    print("READY", sock.getsockname()[1], flush=True)
    sys.stdin.read()


main()
