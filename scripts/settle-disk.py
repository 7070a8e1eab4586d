"""Waits until creating a file in DIR is fast again: three probes in a row
under 100 us per file (at most 120 s). Prints how long that took.

Why: ext4 does not hand out an inode deleted in the last ~30 s (the
`recently_deleted` check of its inode allocator). After many deletions
(a benchmark removing the previous run's files), each file created scans
past them, in the kernel: 0.5-1 ms instead of 20 us, until they age out.
The probe itself deletes nothing: its files stay in DIR/.probe until the
next run's cleanup."""
import os
import sys
import time

folder = os.path.join(sys.argv[1] if len(sys.argv) > 1 else ".", ".probe")
os.makedirs(folder, exist_ok=True)
limit_us = float(os.environ.get("SETTLE_US", "100"))
start = time.monotonic()
quiet, n = 0, 0
while True:
    total = 0.0
    for _ in range(50):
        n += 1
        path = os.path.join(folder, f"{os.getpid()}-{n}")
        t = time.perf_counter()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        total += time.perf_counter() - t
        os.close(fd)
    per_us = total / 50 * 1e6
    waited = time.monotonic() - start
    quiet = quiet + 1 if per_us < limit_us else 0
    if quiet == 3 or waited > 120:
        print(f"disk settled after {waited:.0f} s ({per_us:.0f} us per file created)",
              file=sys.stderr)
        break
    time.sleep(1)
