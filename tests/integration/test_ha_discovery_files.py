"""ha-discovery/ holds the exact payloads the daemon publishes: regenerates them
from `sms-sentinel discovery -c ha-discovery/example.conf` with the built binary
and fails on any difference (missing, extra or changed file). sw_version is
compared against the binary's --version, and masked in the file comparison.
The dashboard, automation and script examples may only name entities that
exist in those payloads."""

import difflib
import json
import os
import re
import subprocess
import sys

from harness import SMS_SENTINEL, SRC_DIR, log

sys.path.insert(0, os.path.join(SRC_DIR, "ha-discovery"))
import update  # noqa: E402

REFRESH = "refresh them with: python3 ha-discovery/update.py %s" % SMS_SENTINEL


def main():
    version = subprocess.run([SMS_SENTINEL, "--version"], capture_output=True, text=True,
                             check=True).stdout.split()[-1]
    fresh = update.generate(SMS_SENTINEL)
    assert len(fresh) > 10, fresh.keys()
    for line in fresh["discovery.tsv"].splitlines():
        assert line.count('"sw_version":"%s"' % version) == 2, "sw_version is not %s in %s" % (version, line)
    log("%d payloads, sw_version %s" % (len(fresh) - 1, version))
    stored = update.existing()
    problems = []
    for rel in sorted(set(fresh) | set(stored)):
        if rel not in stored:
            problems.append("ha-discovery/%s is missing" % rel)
            continue
        if rel not in fresh:
            problems.append("ha-discovery/%s is no longer generated" % rel)
            continue
        want, got = update.mask_version(stored[rel]), update.mask_version(fresh[rel])
        if want != got:
            diff = difflib.unified_diff(want.splitlines(), got.splitlines(), "stored/" + rel, "generated/" + rel,
                                        lineterm="", n=1)
            problems.append("\n".join(list(diff)[:40]))
    entity_ids = {json.loads(line.partition("\t")[2])["default_entity_id"]
                  for line in fresh["discovery.tsv"].splitlines()}
    for name in ("dashboard-card.yaml", "automations.yaml", "scripts.yaml"):
        with open(os.path.join(update.HERE, name), encoding="utf-8") as f:
            named = set(re.findall(r"\b(?:sensor|binary_sensor|button|event|notify)\.sms_sentinel_\w+", f.read()))
        assert named, name
        for eid in sorted(named - entity_ids):
            problems.append("ha-discovery/%s names %s, which is not discovered" % (name, eid))
    if problems:
        raise AssertionError("ha-discovery/ differs from `sms-sentinel discovery`:\n%s\n%s"
                             % ("\n".join(problems), REFRESH))
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
