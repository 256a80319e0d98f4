"""The soak (tests/soak/soak.py) for one minute on the ASan build: every
abuse case at once beside legitimate readers, posters and likers; no 5xx
or failed request for the legitimate ones, the server up, a clean exit,
no sanitizer report. Correctness only: `make soak` runs ten minutes on
the release build and prints latency, RSS and open files over time."""

import subprocess
import sys

import kiji

SQLITE_ONLY = "soak.py builds and serves a SQLite site of its own"


def test_soak_one_minute():
    r = subprocess.run([sys.executable, str(kiji.ROOT / "tests/soak/soak.py"),
                        "--duration", "60", "--every", "15", "--kiji", str(kiji.kiji_bin())],
                       capture_output=True, timeout=110, cwd=kiji.ROOT)
    out = r.stdout.decode("utf-8", "replace")
    print("\n".join("    " + ln for ln in out.splitlines()[1:7]))
    assert r.returncode == 0 and out.rstrip().endswith("5 passed, 0 failed"), \
        out[-3000:] + r.stderr.decode("utf-8", "replace")[-2000:]
