"""Node-RED for the integration tests: installs node-red@4 with npm into a cache
folder kept between runs (${SMS_NODE_RED_CACHE:-~/.cache/sms-sentinel/node-red4}),
then runs it headless (examples/node-red/settings.js) on a flows file, as a
child killed at teardown. Not a test by itself (no test_ prefix)."""

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys

from harness import SRC_DIR, Proc, log

EXAMPLE_DIR = os.path.join(SRC_DIR, "examples", "node-red")
CACHE = os.environ.get("SMS_NODE_RED_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "sms-sentinel",
                                                             "node-red4")
MIN_NODE = (18, 5)  # node-red 4's "engines"; Debian 12 ships 18.20


def skip_or_fail(reason):
    """Missing tools fail the test, unless SMS_SKIP_NODERED=1 (exit 77: skipped)."""
    if os.environ.get("SMS_SKIP_NODERED") == "1":
        print("SKIPPED (SMS_SKIP_NODERED=1): " + reason)
        sys.exit(77)
    raise SystemExit("FAIL: %s (scripts/install-deps.sh installs node and npm; SMS_SKIP_NODERED=1 skips "
                     "this test)" % reason)


def node_version(node):
    out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    m = re.match(r"v(\d+)\.(\d+)", out)
    return (int(m.group(1)), int(m.group(2))) if m else None, out


def ensure_node_red():
    """Returns (node, red.js), installing node-red@4 into CACHE when it is not there yet."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        skip_or_fail("node and npm are needed to run Node-RED, missing: " +
                     " ".join(n for n, p in (("node", node), ("npm", npm)) if not p))
    version, text = node_version(node)
    if version is None or version < MIN_NODE:
        skip_or_fail("Node-RED 4 needs Node.js >= %d.%d, this is %s" % (MIN_NODE + (text,)))
    red = os.path.join(CACHE, "node_modules", "node-red", "red.js")
    os.makedirs(CACHE, exist_ok=True)
    with open(os.path.join(CACHE, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two builds' suites may install at once
        if not installed_v4():
            log("installing node-red@4 into %s with npm" % CACHE)
            r = subprocess.run([npm, "install", "--prefix", CACHE, "--no-audit", "--no-fund", "--omit=dev",
                                "--no-save", "node-red@4"], capture_output=True, text=True, timeout=600)
            if r.returncode != 0 or not installed_v4():
                raise SystemExit("FAIL: npm install node-red@4 into %s failed (exit %d):\n%s\n%s"
                                 % (CACHE, r.returncode, r.stdout[-3000:], r.stderr[-3000:]))
    return node, red


def installed_v4():
    try:
        with open(os.path.join(CACHE, "node_modules", "node-red", "package.json")) as f:
            return json.load(f)["version"].startswith("4.")
    except (OSError, ValueError, KeyError):
        return False


def red_version():
    with open(os.path.join(CACHE, "node_modules", "node-red", "package.json")) as f:
        return json.load(f)["version"]


class NodeRed:
    """node red.js --userDir DIR --settings settings.js FLOWS (never through npx:
    killing npx leaves node running)."""

    def __init__(self, env, flows):
        node, red = ensure_node_red()
        self.flows = os.path.join(env.dir, "flows.json")
        with open(self.flows, "w") as f:
            json.dump(flows, f, indent=1)
        user_dir = os.path.join(env.dir, "node-red")
        os.makedirs(user_dir, exist_ok=True)
        self.proc = env.track(Proc("node-red", [node, red, "--userDir", user_dir, "--settings",
                                                os.path.join(EXAMPLE_DIR, "settings.js"), self.flows], env.dir))

    def output(self):
        return self.proc.output()

    def alive(self):
        return self.proc.alive()
