"""A small SMTP server on loopback for the mail tests (stdlib only): it
keeps every message it accepts, and can be told to fail like a real
server does for a while (451 to MAIL FROM, or hold the connection open
without a word).

    sink = SmtpSink().start()
    ... kiji sends to smtp://127.0.0.1:<sink.port> ...
    msgs = sink.wait(lambda m: len(m) >= 1, timeout=20)
    sink.stop()
"""

import email
import email.policy
import socket
import threading
import time


class Message:
    def __init__(self, mail_from, rcpts, data):
        self.mail_from = mail_from
        self.rcpts = rcpts
        self.data = data  # bytes as received (dot-unstuffed, CRLF)
        self.msg = email.message_from_bytes(data, policy=email.policy.default)

    @property
    def subject(self):
        return str(self.msg["Subject"])

    @property
    def body(self):
        return self.msg.get_content()

    def header(self, name):
        v = self.msg[name]
        return None if v is None else str(v)

    def __repr__(self):
        return "<Message to %s: %r>" % (self.rcpts, self.subject)


class SmtpSink:
    def __init__(self):
        self.mode = "ok"  # "ok", "451" (MAIL FROM refused for now), "stall"
        self.messages = []
        self.attempts = 0  # connections seen
        self._cv = threading.Condition()
        self._sock = None
        self._stop = False
        self.port = None

    def start(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        s.settimeout(0.5)
        self._sock = s
        self.port = s.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def stop(self):
        self._stop = True
        if self._sock:
            self._sock.close()

    @property
    def url(self):
        return "smtp://127.0.0.1:%d" % self.port

    def clear(self):
        with self._cv:
            self.messages = []

    def wait(self, cond, timeout=20.0):
        """Waits until cond(messages) holds; returns the messages (also when
        the time ran out: the caller asserts)."""
        end = time.monotonic() + timeout
        with self._cv:
            while not cond(self.messages):
                left = end - time.monotonic()
                if left <= 0:
                    break
                self._cv.wait(left)
            return list(self.messages)

    def to(self, addr):
        with self._cv:
            return [m for m in self.messages if addr in m.rcpts]

    # ---- the server ---------------------------------------------------------
    def _serve(self):
        while not self._stop:
            try:
                c, _ = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._cv:
                self.attempts += 1
                self._cv.notify_all()
            threading.Thread(target=self._session, args=(c,), daemon=True).start()

    def _session(self, c):
        c.settimeout(30)
        f = c.makefile("rb")
        mode = self.mode

        def say(line):
            c.sendall(line.encode() + b"\r\n")

        try:
            if mode == "stall":
                # a server that accepts and never speaks: the client times out
                end = time.monotonic() + 25
                while not self._stop and time.monotonic() < end and self.mode == "stall":
                    time.sleep(0.1)
                return
            say("220 sink.test ESMTP")
            mail_from, rcpts = None, []
            while True:
                line = f.readline(4096)
                if not line:
                    return
                cmd = line.decode("ascii", "replace").rstrip("\r\n")
                verb = cmd[:4].upper()
                if verb in ("EHLO", "HELO"):
                    say("250 sink.test")
                elif verb == "MAIL":
                    if mode == "451":
                        say("451 4.3.0 try again later")
                        continue
                    mail_from = cmd.split(":", 1)[1].strip()
                    rcpts = []
                    say("250 OK")
                elif verb == "RCPT":
                    rcpts.append(cmd.split(":", 1)[1].strip().strip("<>"))
                    say("250 OK")
                elif verb == "DATA":
                    say("354 go on")
                    data = []
                    while True:
                        l = f.readline(1 << 20)
                        if not l or l in (b".\r\n", b".\n"):
                            break
                        if l.startswith(b".."):
                            l = l[1:]
                        data.append(l)
                    with self._cv:
                        self.messages.append(Message(mail_from, rcpts, b"".join(data)))
                        self._cv.notify_all()
                    say("250 OK queued")
                elif verb == "RSET" or verb == "NOOP":
                    say("250 OK")
                elif verb == "QUIT":
                    say("221 bye")
                    return
                else:
                    say("502 not here")
        except OSError:
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass
