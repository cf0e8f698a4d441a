"""contrib/docker-compose.yml's two own services, run with podman as the
compose file says (pid namespace, restart policy, init, group, volumes, cgroup
rules are read from it), against the real modem emulator and a real mosquitto:
sms-sentinel sees the gammu-smsd of the other container through the shared
pid namespace and pidfile volume, an SMS goes from the emulated modem through
gammu-smsd's container to MQTT and is archived across volumes, and
restart_smsd stops gammu-smsd with a signal across containers, after which the
restart policy brings it back and the recovery is reported "recovered".

Deviations from compose, because this machine has no Docker engine: host
network with the test's broker on 127.0.0.1 instead of the mosquitto service
and its DNS name, the emulator's pty bind-mounted instead of `devices:` (a pty
node mknod'ed by `devices:` would not open), verify_timeout = 5, and host
paths that do not exist here (/dev/bus/usb on a VM) are left out.
Run by container_compose.sh; exit 77 = skipped."""

import json
import os
import re
import subprocess
import sys
import uuid

import yaml

from harness import Env, log, wait_until

SRC = os.environ["SRC_DIR"]
TOOL = os.path.join(SRC, "..", "shared", "tools", "container-build")
WORKDIR = os.environ.get("CONTAINER_WORKDIR", "/tmp/ctr-sms-sentinel")
CONTRIB = os.path.join(SRC, "contrib")
PODMAN_ENV = dict(os.environ, CONTAINERS_STORAGE_CONF=os.path.join(WORKDIR, "storage.conf"),
                  CONTAINERS_CONF=os.path.join(WORKDIR, "containers.conf"))
SKIP_HINTS = ("operation not permitted", "cannot mount", "cannot unshare", "no space left")


def skip(why):
    print("%s: skipped" % why)
    sys.exit(77)


def podman(*args, check=True, timeout=120):
    r = subprocess.run(["podman"] + list(args), capture_output=True, text=True, env=PODMAN_ENV, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError("podman %s: exit %d\n%s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
    return r


def build(context, tag):
    r = subprocess.run([TOOL, context, tag, "--version"], capture_output=True, text=True,
                       env=dict(os.environ, WORKDIR=WORKDIR), timeout=900)
    out = r.stdout + r.stderr
    if r.returncode != 0:
        if any(h in out.lower() for h in SKIP_HINTS):
            skip("buildah cannot run here")
        raise AssertionError("building %s failed:\n%s" % (context, out[-3000:]))
    log("built %s" % tag)


def run_args(service, spec, names, volumes, conf, pty):
    """podman run arguments for one compose service."""
    args = ["run", "-d", "--name", names[service], "--network", "host"]
    if spec.get("restart"):
        args += ["--restart", "always" if spec["restart"] == "always" else "unless-stopped"]
    if spec.get("init"):
        args.append("--init")
    pid = spec.get("pid", "")
    if pid.startswith("service:"):
        args += ["--pid", "container:" + names[pid[len("service:"):]]]
    for g in spec.get("group_add", []):
        args += ["--group-add", str(g)]
    for rule in spec.get("device_cgroup_rules", []):
        args += ["--device-cgroup-rule", rule]
    for v in spec.get("volumes", []):
        parts = v.split(":")
        host, path, mode = parts[0], parts[1], (parts[2] if len(parts) > 2 else "rw")
        if host.startswith("./"):
            host = conf if path == "/etc/sms-sentinel.conf" else os.path.normpath(os.path.join(CONTRIB, host))
        elif not host.startswith("/"):
            host = volumes[host]
        elif not os.path.exists(host):
            log("%s: %s does not exist here, not mounted" % (service, host))
            continue
        args += ["-v", "%s:%s:%s" % (host, path, mode)]
    for d in spec.get("devices", []):
        d = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", d)  # ${MODEM:-/dev/ttyUSB2} -> its default
        path, mode = d.split(":")[1], (d.split(":")[2] if d.count(":") > 1 else "rw")
        args += ["-v", "%s:%s:%s" % (pty, path, "ro" if mode == "r" else "rw")]
    return args


def pidfile(names):
    return podman("exec", names["sms-sentinel"], "cat", "/run/gammu/gammu-smsd.pid", check=False).stdout.strip()


def main():
    if not os.access(TOOL, os.X_OK):
        skip("container-build not found at %s" % TOOL)
    if os.geteuid() != 0:
        skip("container-build needs root")
    with open(os.path.join(CONTRIB, "docker-compose.yml")) as f:
        compose = yaml.safe_load(f)
    services = compose["services"]
    assert services["gammu-smsd"]["pid"] == "service:sms-sentinel", "gammu-smsd must join sms-sentinel's pid namespace"

    build(SRC, "localhost/sms-sentinel:compose")
    build(os.path.join(CONTRIB, "docker", "gammu-smsd"), "localhost/gammu-smsd:compose")
    suffix = uuid.uuid4().hex[:8]
    names = {s: "sms-compose-%s-%s" % (s, suffix) for s in ("sms-sentinel", "gammu-smsd")}
    volumes = {v: "sms-compose-%s-%s" % (v, suffix) for v in compose["volumes"]}
    images = {"sms-sentinel": "localhost/sms-sentinel:compose", "gammu-smsd": "localhost/gammu-smsd:compose"}
    passed = 0
    try:
        with Env("compose") as env:
            broker = env.broker()
            sub = env.subscribe(broker.port, "sms-sentinel/#")
            emu = env.emulator()
            pty = os.path.realpath(emu.link)
            os.chmod(pty, 0o666)  # gammu-smsd runs as uid 990 in the container
            with open(os.path.join(CONTRIB, "docker", "sms-sentinel.conf")) as f:
                text = f.read()
            assert "\nhost = mosquitto\n" in text, "the compose config names the mosquitto service"
            text = text.replace("\nhost = mosquitto\n", "\nhost = 127.0.0.1\nport = %d\n" % broker.port)
            text = text.replace("\n[recovery]\n", "\n[recovery]\nverify_timeout = 5\n")
            conf = os.path.join(env.dir, "sms-sentinel.conf")
            with open(conf, "w") as f:
                f.write(text)
            os.chmod(conf, 0o644)
            os.chmod(env.dir, 0o755)
            for service in ("sms-sentinel", "gammu-smsd"):  # depends_on order
                podman(*(run_args(service, services[service], names, volumes, conf, pty) + [images[service]]))

            state = sub.wait_json("sms-sentinel/sms/state", lambda s: s["smsd_running"] is True, 60,
                                  "smsd_running true: gammu-smsd of the other container seen")
            first_pid = pidfile(names)
            log("sms-sentinel sees gammu-smsd (pid %s in the shared namespace), health %s"
                % (first_pid, state["health"]))
            passed += 1

            r = emu.client.inject("+33612345678", "Grüße über Container")
            assert r.get("ok"), r
            m = sub.wait_json("sms-sentinel/sms/sms/received", lambda m: m["number"] == "+33612345678", 90,
                              "the SMS on MQTT")
            assert m["text"] == "Grüße über Container", m
            wait_until(lambda: m["id"] in podman("exec", names["sms-sentinel"], "ls", "/var/lib/sms-sentinel/archive",
                                                 check=False).stdout.split(), 20, "the inbox file in the state volume")
            inbox = podman("exec", names["sms-sentinel"], "ls", "-A", "/var/spool/gammu/inbox").stdout.split()
            assert inbox == [], inbox
            log("SMS through gammu-smsd's container to MQTT, archived from the spool volume to the state volume")
            passed += 1

            sub.wait_json("sms-sentinel/sms/state", lambda s: s["health"] in ("ok", "degraded"), 60, "health ok")
            broker_pub = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-t",
                          "sms-sentinel/sms/request/restart_smsd", "-m", json.dumps({"transaction": "c1"})]
            subprocess.run(broker_pub, check=True, timeout=10)
            resp = sub.wait_json("sms-sentinel/sms/response/restart_smsd", lambda p: p.get("transaction") == "c1",
                                 120, "the restart_smsd response")
            assert resp["status"] == "ok" and resp["data"]["result"] == "recovered", resp
            second_pid = pidfile(names)
            assert second_pid and second_pid != first_pid, (first_pid, second_pid)
            running = podman("inspect", "-f", "{{.State.Running}}", names["gammu-smsd"]).stdout.strip()
            assert running == "true", running
            log("restart_smsd: SIGTERM across containers, restart policy started gammu-smsd again "
                "(pid %s -> %s), result recovered in %d ms" % (first_pid, second_pid, resp["data"]["duration_ms"]))
            passed += 1
    finally:
        for service in ("gammu-smsd", "sms-sentinel"):
            podman("rm", "-f", "-t", "2", names[service], check=False)
        for v in volumes.values():
            podman("volume", "rm", "-f", v, check=False)
        podman("rmi", "-f", *images.values(), check=False)  # no dangling images left by the next run
    print("%d passed, 0 failed" % passed)


if __name__ == "__main__":
    main()
