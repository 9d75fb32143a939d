"""A real SMTP server for usher's tests (aiosmtpd), started by the Rust test harness.

Every accepted message is written to DIR as <n>.eml with the envelope in <n>.json.
Recipients whose local part starts with "reject" get 550, with "tempfail" get 451.
With --faults N:MODE the first N DATA commands fail, then all succeed; MODE is 421 or 451
(that reply), 550 (a permanent refusal), drop (the connection closed before any reply) or stall (no reply for 6 s,
then the connection closed). A failed DATA never stores the message. With --delay-ms N every accepted message takes
N ms before its 250, as a slow relay does (so that a test can stop usher mid-send); with
--store-first too the message is stored before that wait, as a relay that has taken the
message and not yet said so: the window in which a sender's death leaves it in doubt.
With --tls starttls|implicit (and --cert, --key) it speaks TLS; with --auth USER:PASS it
requires that login (over TLS) and records who authenticated.
The server prints "READY <port>" once listening and exits when its stdin closes, so it
never outlives the test that started it.
"""
import argparse, asyncio, json, os, sys, threading, itertools, time

import ssl

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

counter = itertools.count(1)
lock = threading.Lock()


class Handler:
    def __init__(self, outdir, faults=0, mode="451", delay_ms=0, store_first=False):
        self.outdir = outdir
        self.store_first = store_first
        self.delay = delay_ms / 1000.0
        self.faults = faults
        self.mode = mode

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("reject"):
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        if local.startswith("tempfail"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with lock:
            fault = self.faults > 0
            if fault:
                self.faults -= 1
        if fault:
            with open(os.path.join(self.outdir, "faults.log"), "a") as f:
                f.write(self.mode + "\n")
            if self.mode == "421":
                return "421 4.3.2 shutting down, try later"
            if self.mode == "451":
                return "451 4.3.0 local error, try later"
            if self.mode == "550":
                return "550 5.7.1 message refused by policy"
            if self.mode == "stall":
                await asyncio.sleep(6)
            server.transport.close()
            return "421 gone"
        if self.delay and not self.store_first:
            await asyncio.sleep(self.delay)
        with lock:
            n = next(counter)
        base = os.path.join(self.outdir, "%06d" % n)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        with open(base + ".json", "w") as f:
            auth = session.auth_data
            if isinstance(auth, bytes):
                auth = auth.decode()
            json.dump({"from": envelope.mail_from, "to": envelope.rcpt_tos, "auth": auth,
                       "tls": server.transport.get_extra_info("ssl_object") is not None}, f)
        os.rename(base + ".eml.tmp", base + ".eml")
        if self.delay and self.store_first:
            await asyncio.sleep(self.delay)
        return "250 Message accepted"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--dir", required=True)
    p.add_argument("--tls", choices=["none", "starttls", "implicit"], default="none")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--auth")
    p.add_argument("--faults", default="0:451")
    p.add_argument("--delay-ms", type=int, default=0)
    p.add_argument("--store-first", action="store_true")
    a = p.parse_args()
    faults, mode = a.faults.split(":", 1)
    os.makedirs(a.dir, exist_ok=True)
    port = a.port
    if port == 0:
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
    kwargs = {}
    if a.tls != "none":
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.cert, a.key)
        if a.tls == "starttls":
            kwargs.update(tls_context=ctx, require_starttls=True)
        else:
            kwargs.update(ssl_context=ctx)
    if a.auth:
        user, password = a.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, data):
            ok = isinstance(data, LoginPassword) and data.login.decode() == user \
                and data.password.decode() == password
            return AuthResult(success=ok, handled=False, auth_data=data.login if ok else None)

        # aiosmtpd counts only STARTTLS as TLS here; over implicit TLS every byte already is.
        kwargs.update(authenticator=authenticator, auth_required=True,
                      auth_require_tls=a.tls == "starttls")
    c = Controller(Handler(a.dir, int(faults), mode, a.delay_ms, a.store_first), hostname="127.0.0.1", port=port, **kwargs)
    c.start()
    print("READY %d" % port, flush=True)
    try:
        sys.stdin.read()
    finally:
        c.stop()


if __name__ == "__main__":
    main()
