#!/usr/bin/env python3
"""Regenerates the payloads in this folder from `sms-sentinel discovery -c
example.conf`: discovery.tsv (the exact lines: topic TAB payload) and one
pretty-printed payloads/<component>-<object_id>.json per entity.

    python3 ha-discovery/update.py [path/to/sms-sentinel]

tests/integration/test_ha_discovery_files.py runs the same generation and fails
on any difference. sw_version is masked in that comparison and checked against
the built binary's --version instead, so a version bump alone needs no refresh."""

import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CONF = os.path.join(HERE, "example.conf")
VERSION_RE = re.compile(r'("sw_version": ?)"[^"]*"')


def cli_output(binary):
    r = subprocess.run([binary, "discovery", "-c", CONF], capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise SystemExit("%s discovery failed (%d): %s" % (binary, r.returncode, r.stderr))
    return r.stdout


def generate(binary):
    """{relative path: content} of every generated file."""
    raw = cli_output(binary)
    files = {"discovery.tsv": raw}
    for line in raw.splitlines():
        topic, _, payload = line.partition("\t")
        _, component, _node, object_id, _ = topic.split("/")
        pretty = json.dumps(json.loads(payload), indent=2, ensure_ascii=False) + "\n"
        files[os.path.join("payloads", "%s-%s.json" % (component, object_id))] = pretty
    return files


def existing():
    files = {}
    for rel in ["discovery.tsv"] + [os.path.join("payloads", n) for n in sorted(os.listdir(os.path.join(HERE, "payloads")))]:
        path = os.path.join(HERE, rel)
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                files[rel] = f.read()
    return files


def mask_version(text):
    return VERSION_RE.sub(r'\1"@VERSION@"', text)


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "build-release", "sms-sentinel")
    files = generate(binary)
    os.makedirs(os.path.join(HERE, "payloads"), exist_ok=True)
    for rel in existing():
        if rel not in files:
            os.remove(os.path.join(HERE, rel))
    for rel, content in files.items():
        with open(os.path.join(HERE, rel), "w", encoding="utf-8") as f:
            f.write(content)
    print("wrote %d files in %s" % (len(files), HERE))


if __name__ == "__main__":
    main()
