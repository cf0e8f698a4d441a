"""The soak of tests/soak/soak.py, short: about 3 minutes with a sample every
10 s, one modem hang (TIMEOUT -> rebind recovery), broker restarts, received
and sent SMS; fails on fd growth, RssAnon growth or a daemon that died (see
soak.py for how growth is judged)."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "soak"))
import soak  # noqa: E402


def main():
    soak.run(minutes=3, sample_s=10, hang_every_s=3600, rss_slope_limit=soak.RSS_SLOPE_SHORT)
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
