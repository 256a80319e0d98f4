#!/usr/bin/python3
"""bench/stall.py SECONDS: a stall meter for the machine the benchmark runs
on. Sleeps 1 ms at a time for SECONDS and prints how often it woke 5 and
10 ms late, and the worst, as one line:

    stalls wakes=N late5=N late10=N worst_ms=X

It uses next to no CPU, so the scheduler wakes it at once whenever a core
is there to run it: a wake tens of ms late means no core ran anything of
this machine's for that long (on this VM under load: both vCPUs held up
by the host; an idle run shows none). Printed beside the long tail's p99,
which such a stall of both event loops decides."""
import sys
import time


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    end = time.monotonic() + seconds
    wakes = late5 = late10 = 0
    worst = 0.0
    while True:
        t0 = time.monotonic()
        if t0 >= end:
            break
        time.sleep(0.001)
        late = (time.monotonic() - t0 - 0.001) * 1000.0
        wakes += 1
        worst = max(worst, late)
        late5 += late >= 5.0
        late10 += late >= 10.0
    print("stalls wakes=%d late5=%d late10=%d worst_ms=%.1f" % (wakes, late5, late10, worst))


if __name__ == "__main__":
    main()
