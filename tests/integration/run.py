#!/usr/bin/python3
"""Integration test runner (stdlib only).

Discovers tests/integration/test_*.py, runs every test_* function in file
order against one demo site served by a real `kiji serve` (see kiji.py),
prints `ok name` or `FAIL name` with the traceback, and as its last line
`integration: N passed, N failed` (`integration-pg:` with KIJI_TEST_PG,
every site then in a PostgreSQL database). Exit status 1 on any failure.

  KIJI_BIN=build/asan/kiji /usr/bin/python3 tests/integration/run.py [-k SUBSTR]...
"""

import importlib
import sys

sys.dont_write_bytecode = True  # keep tests/ free of __pycache__

import signal
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import kiji  # noqa: E402

TEST_TIMEOUT = 120  # seconds per test
SUITE = "integration-pg" if kiji.PG else "integration"


class TestTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise TestTimeout("test took more than %d s" % TEST_TIMEOUT)


def discover(filters):
    """The tests to run; those a PostgreSQL pass or a binary without the
    test hooks cannot run are named on a "--" line and left out."""
    tests = []
    hooks = kiji.has_hooks()
    for f in sorted(HERE.glob("test_*.py")):
        mod = importlib.import_module(f.stem)
        if kiji.PG and getattr(mod, "SQLITE_ONLY", None):
            print("-- %s: SQLite only (%s)" % (f.stem, mod.SQLITE_ONLY))
            continue
        if not kiji.PG and getattr(mod, "PG_ONLY", None):
            print("-- %s: PostgreSQL only (%s)" % (f.stem, mod.PG_ONLY))
            continue
        for name, fn in vars(mod).items():
            if name.startswith("test_") and callable(fn):
                full = "%s.%s" % (f.stem, name)
                if filters and not any(s in full for s in filters):
                    continue
                if kiji.PG and getattr(fn, "sqlite_only", None):
                    print("-- %s: SQLite only (%s)" % (full, fn.sqlite_only))
                elif not hooks and getattr(fn, "needs_hooks", False):
                    print("-- %s: needs the test hooks (the ASan build)" % full)
                else:
                    tests.append((full, fn))
    return tests


def main(argv):
    filters = []
    i = 0
    while i < len(argv):
        if argv[i] == "-k" and i + 1 < len(argv):
            filters.append(argv[i + 1])
            i += 2
        else:
            filters.append(argv[i])
            i += 1
    passed = failed = 0
    sys.stdout.reconfigure(line_buffering=True)
    signal.signal(signal.SIGALRM, _alarm)
    try:
        tests = discover(filters)
    except Exception:
        print("FAIL discover")
        traceback.print_exc(file=sys.stdout)
        print("%s: 0 passed, 1 failed" % SUITE)
        return 1

    t0 = time.monotonic()
    try:
        signal.alarm(900)
        st = kiji.setup()
        signal.alarm(0)
        print("ok setup (demo --now %s, %d articles, port %d, %.1f s)" % (
            st.now_arg, kiji.ARTICLES, st.port, time.monotonic() - t0))
        passed += 1
    except Exception:
        signal.alarm(0)
        print("FAIL setup")
        traceback.print_exc(file=sys.stdout)
        for p in kiji.teardown():
            print(p)
        print("%s: %d passed, %d failed" % (SUITE, passed, 1))
        return 1

    for name, fn in tests:
        start = time.monotonic()
        try:
            signal.alarm(TEST_TIMEOUT)
            fn()
            signal.alarm(0)
            print("ok %s (%.2f s)" % (name, time.monotonic() - start))
            passed += 1
        except Exception:
            signal.alarm(0)
            print("FAIL %s" % name)
            traceback.print_exc(file=sys.stdout)
            failed += 1
        if not kiji.server_alive():
            print("FAIL %s: kiji serve died (exit %s)\n%s" % (
                name, kiji.state().proc.poll(), kiji.read_stderr()[-4000:]))
            failed += 1
            try:
                kiji.start_server(kiji.state())
                print("   (server restarted for the remaining tests)")
            except Exception as e:
                print("   could not restart the server: %s" % e)
                break

    problems = kiji.teardown()
    if problems:
        print("FAIL teardown (clean exit, no sanitizer reports)")
        for p in problems:
            print("  " + p.replace("\n", "\n  "))
        failed += 1
    else:
        print("ok teardown (clean exit, no sanitizer reports)")
        passed += 1
    print("%s: %d passed, %d failed" % (SUITE, passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
