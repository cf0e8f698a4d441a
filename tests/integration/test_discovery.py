"""Home Assistant discovery on a real broker, the real daemon and gammu-smsd on
the modem emulator (so that the restart_smsd button has a gammu-smsd to
restart); the modem's USB facts come from a fake sysfs tree:
- the retained configs on the broker are exactly `sms-sentinel discovery`; when
  the USB stick appears they are published again with its manufacturer/product;
- every payload follows HA's rules (a table taken from HA's MQTT docs and code);
- with jinja2 installed, the templates are rendered like HA does against what
  the daemon really publishes (state, a received SMS) and the notify template's
  output is accepted by the daemon's send_sms;
- pressing the restart_smsd button (its payload_press on its command_topic)
  gets a response;
- `online` on homeassistant/status brings every config again;
- after a restart without default_recipients the notify config is emptied;
- a broker restart (retained messages lost) brings them back;
- default_recipients set again and SIGHUP: the notify config is back;
- after a restart with discovery = no every config is emptied."""

import json
import os
import re
import signal
import subprocess
import time

from harness import Env, fake_sysfs, log, read, wait_until

PREFIX = "homeassistant"
NOTIFY = "homeassistant/notify/test/send_sms/config"
RECIPIENTS = "[sms]\ndefault_recipients = +33612345678\n"
RECOVERY = """[recovery]
usb_device = 19d2:0031
sysfs_root = {sysfs}
settle_timeout = 2
verify_timeout = 2
cooldown = 1
"""

# --- HA's rules, from homeassistant/components/mqtt/{sensor,binary_sensor,button,
# event,notify}.py, mqtt/schemas.py and the sensor/binary_sensor/button device
# class docs (home-assistant.io, integrations/sensor, binary_sensor, button).
SENSOR_UNITS = {  # device class -> allowed units; None = no unit allowed
    "signal_strength": {"dB", "dBm"},
    "battery": {"%"},
    "duration": {"d", "h", "min", "s", "ms"},
    "data_size": {"B", "kB", "MB", "GB", "KiB", "MiB", "GiB"},
    "timestamp": None,
    "date": None,
    "enum": None,
}
NON_NUMERIC = {"timestamp", "date", "enum"}  # no unit, no state_class
STATE_CLASSES = {"measurement", "total", "total_increasing"}
BINARY_CLASSES = {"battery", "battery_charging", "carbon_monoxide", "cold", "connectivity", "door", "garage_door",
                  "gas", "heat", "light", "lock", "moisture", "motion", "moving", "occupancy", "opening", "plug",
                  "power", "presence", "problem", "running", "safety", "smoke", "sound", "tamper", "update",
                  "vibration", "window"}
BUTTON_CLASSES = {"identify", "restart", "update"}
CATEGORIES = {"config", "diagnostic"}
REQUIRED = {
    "sensor": {"state_topic"},
    "binary_sensor": {"state_topic"},
    "button": {"command_topic"},
    "event": {"state_topic", "event_types"},
    "notify": {"command_topic"},
}
# Keys HA's discovery schemas know for these platforms (anything else would be
# silently dropped by REMOVE_EXTRA, i.e. a typo).
COMMON_KEYS = {"name", "unique_id", "default_entity_id", "icon", "entity_category", "qos", "availability_topic",
               "payload_available", "payload_not_available", "device", "origin", "json_attributes_topic",
               "json_attributes_template", "enabled_by_default", "encoding"}
PLATFORM_KEYS = {
    "sensor": {"device_class", "state_class", "unit_of_measurement", "state_topic", "value_template", "options",
               "expire_after", "force_update", "suggested_display_precision"},
    "binary_sensor": {"device_class", "state_topic", "value_template", "payload_on", "payload_off", "expire_after"},
    "button": {"device_class", "command_topic", "command_template", "payload_press", "retain"},
    "event": {"device_class", "state_topic", "value_template", "event_types"},
    "notify": {"command_topic", "command_template", "retain"},
}
DEVICE_KEYS = {"identifiers", "connections", "manufacturer", "model", "model_id", "name", "hw_version",
               "serial_number", "sw_version", "via_device", "suggested_area", "configuration_url"}
ORIGIN_KEYS = {"name", "sw_version", "support_url"}
TOPIC_RE = re.compile(r"^%s/(\w+)/([a-zA-Z0-9_-]+)/([a-zA-Z0-9_-]+)/config$" % PREFIX)


def check_rules(topic, p):
    m = TOPIC_RE.match(topic)
    assert m, topic
    component = m.group(1)
    assert component in REQUIRED, topic
    missing = REQUIRED[component] - set(p)
    assert not missing, (topic, missing)
    unknown = set(p) - COMMON_KEYS - PLATFORM_KEYS[component]
    assert not unknown, (topic, unknown)
    assert p["unique_id"] and p["availability_topic"].endswith("/availability"), topic
    assert p["origin"]["name"] and set(p["origin"]) <= ORIGIN_KEYS, topic
    assert p["device"]["identifiers"] and set(p["device"]) <= DEVICE_KEYS, topic
    assert p.get("entity_category") in CATEGORIES | {None}, topic
    assert not p.get("retain"), topic
    dc = p.get("device_class")
    if component == "sensor":
        assert p.get("entity_category") != "config", topic
        if dc in NON_NUMERIC:
            assert "unit_of_measurement" not in p and "state_class" not in p, topic
        if dc in SENSOR_UNITS:
            allowed = SENSOR_UNITS[dc]
            unit = p.get("unit_of_measurement")
            assert (unit is None) if allowed is None else (unit in allowed), (topic, unit)
        if dc == "enum":
            assert p.get("options"), topic
        else:
            assert "options" not in p, topic
        assert p.get("state_class") in STATE_CLASSES | {None}, topic
    elif component == "binary_sensor":
        assert dc in BINARY_CLASSES | {None}, topic
    elif component == "button":
        assert dc in BUTTON_CLASSES | {None}, topic
    elif component == "event":
        assert p["event_types"] and all(isinstance(t, str) for t in p["event_types"]), topic
    return component


def retained(port, pattern="%s/#" % PREFIX):
    """{topic: payload} of what the broker holds retained under pattern now."""
    r = subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-t", pattern, "-v", "-F", "%t\t%p",
                        "--retained-only", "-W", "2"], capture_output=True, text=True, timeout=20)
    out = {}
    for line in r.stdout.splitlines():
        topic, _, payload = line.partition("\t")
        out[topic] = payload
    return out


def cli_discovery(d):
    r = d.run("discovery")
    assert r.returncode == 0, r.stderr
    out = {}
    for line in r.stdout.splitlines():
        topic, tab, payload = line.partition("\t")
        assert tab, line
        out[topic] = payload
    return out


def pub(port, topic, payload, retain=False):
    argv = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-t", topic, "-m", payload, "-q", "1"]
    subprocess.run(argv + (["-r"] if retain else []), check=True, timeout=10)


def jinja_env():
    """A Jinja environment like HA's for MQTT templates (sandboxed, to_json)."""
    try:
        import jinja2.sandbox
    except ImportError:
        return None
    env = jinja2.sandbox.ImmutableSandboxedEnvironment()
    env.filters["to_json"] = lambda v: json.dumps(v, ensure_ascii=False)
    return env


def render(env, template, value=None, value_json=None):
    return env.from_string(template).render(value=value, value_json=value_json)


def check_templates(env, configs, state, port, sub):
    """Renders every template against what the daemon publishes."""
    for topic, text in configs.items():
        p = json.loads(text)
        component = TOPIC_RE.match(topic).group(1)
        if p.get("state_topic", "").endswith("/state"):
            out = render(env, p["value_template"], value_json=state)
            if component == "binary_sensor":
                assert out in ("ON", "OFF", "None"), (topic, out)
            elif p.get("device_class") == "enum":
                assert out in p["options"], (topic, out)
            elif p.get("device_class") == "timestamp":
                assert out == "None" or re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$", out), (topic, out)
            elif "state_class" in p:
                assert out == "None" or float(out) >= 0, (topic, out)
            else:
                assert out and len(out) <= 255, (topic, out)
            if "json_attributes_template" in p:
                attrs = json.loads(render(env, p["json_attributes_template"], value_json=state))
                assert isinstance(attrs, dict), (topic, attrs)
            log("  %s -> %r" % (p["unique_id"], out))
    ev = json.loads(configs["%s/event/test/incoming_sms/config" % PREFIX])
    sms = {"id": "IN20261206_120000_00_+33611111111_00", "number": "+33611111111",
           "text": 'caf\u00e9 "quoted" {{ not a template }}', "received_at": "2026-12-06T12:00:00+01:00", "parts": 1}
    event = json.loads(render(env, ev["value_template"], value_json=sms))
    assert event.pop("event_type") in ev["event_types"], event
    assert event == sms, event
    log("event template -> event_type received with %s" % sorted(event))
    nt = json.loads(configs[NOTIFY])
    message = 'Door "open" \\ at 12:00\nline two \u00e9 {{ x }}'
    payload = render(env, nt["command_template"], value=message)
    assert json.loads(payload) == {"text": message}, payload
    pub(port, nt["command_topic"], payload)
    resp = sub.wait_json("sms-sentinel/test/response/send_sms", lambda r: True, 15, "send_sms response")
    assert resp["status"] == "ok", resp
    log("notify template output accepted by send_sms: %s" % resp)


def check_equal(port, d, what):
    want = cli_discovery(d)
    got = wait_until(lambda: (lambda r: r if r == want else None)(retained(port)), 20, what)
    assert got == want
    return want


def main():
    passed = 0
    with Env("discovery") as env:
        broker = env.broker()
        sub = env.subscribe(broker.port, "#")
        sysfs = os.path.join(env.dir, "sys")
        os.makedirs(sysfs)
        emu = env.emulator()
        smsd = env.start_smsd(env.smsd(emu.link))
        recovery = RECOVERY.format(sysfs=sysfs)
        d = env.start_daemon(env.daemon(broker.port, smsd, recovery + RECIPIENTS))
        wait_until(lambda: sub.find("/availability", lambda p: p == "online"), 15, "availability online")

        first = check_equal(broker.port, d, "retained configs equal to `sms-sentinel discovery`")
        assert "model" not in json.loads(first[NOTIFY])["device"], first[NOTIFY]
        log("%d retained configs equal the CLI output, no USB modem found yet" % len(first))
        passed += 1

        dev = fake_sysfs(sysfs)  # the stick appears: its facts are read within the probe period
        for name, value in (("manufacturer", "ZTE,Incorporated"), ("product", "ZTE WCDMA Technologies MSM")):
            with open(os.path.join(dev, name), "w") as f:
                f.write(value + "\n")
        wait_until(lambda: "model" in json.loads(retained(broker.port).get(NOTIFY, "{}")).get("device", {}), 30,
                   "configs republished with the modem's model")
        configs = check_equal(broker.port, d, "retained configs equal to `sms-sentinel discovery`")
        assert NOTIFY in configs and len(configs) >= 17, sorted(configs)
        device = json.loads(configs[NOTIFY])["device"]
        assert device["model"] == "ZTE WCDMA Technologies MSM" and device["model_id"] == "19d2:0031", device
        log("modem found: configs republished, equal to the CLI output; device %s" % device)
        passed += 1

        components = [check_rules(t, json.loads(p)) for t, p in configs.items()]
        assert sorted(set(components)) == ["binary_sensor", "button", "event", "notify", "sensor"], components
        log("every payload follows HA's rules")
        passed += 1

        state = json.loads(wait_until(lambda: sub.last("sms-sentinel/test/state"), 15, "state"))
        env_j = jinja_env()
        if env_j:
            check_templates(env_j, configs, state, broker.port, sub)
            passed += 1
        else:
            log("jinja2 is not installed: templates not rendered (apt install python3-jinja2)")

        button = json.loads(configs["%s/button/test/restart_smsd/config" % PREFIX])
        pub(broker.port, button["command_topic"], button["payload_press"])
        resp = sub.wait_json("sms-sentinel/test/response/restart_smsd", lambda r: True, 120, "restart_smsd response")
        assert resp["status"] in ("ok", "error"), resp
        assert resp["status"] == "error" or resp["data"]["method"] == "restart_smsd", resp
        log("button press answered: %s" % resp)
        passed += 1

        def config_count():
            with sub.lock:
                return sum(1 for t, _ in sub.messages if t.startswith(PREFIX + "/") and t.endswith("/config"))
        before = config_count()
        pub(broker.port, PREFIX + "/status", "online")
        wait_until(lambda: config_count() >= before + len(configs), 15, "configs published again after online")
        wait_until(lambda: "home assistant is online" in d.proc.output(), 5, "log line")
        pub(broker.port, PREFIX + "/status", "offline")
        log("'online' on %s/status: %d configs again" % (PREFIX, config_count() - before))
        passed += 1

        d.proc.stop()
        saved = json.loads(read(os.path.join(d.state_dir, "discovery.json")))
        assert sorted(saved["published"]) == sorted(configs), saved
        d = env.start_daemon(env.daemon(broker.port, smsd, recovery))
        now = check_equal(broker.port, d, "configs without notify")
        assert NOTIFY not in now and len(now) == len(configs) - 1, sorted(now)
        wait_until(lambda: sub.last(NOTIFY) == "", 10, "empty retained notify config")
        log("default_recipients removed: notify config emptied, %d remain" % len(now))
        passed += 1

        broker.stop()
        broker.start()
        check_equal(broker.port, d, "configs back after a broker restart")
        log("broker restarted (no persistence): configs republished")
        passed += 1

        with open(d.conf, "a") as f:
            f.write(RECIPIENTS)
        d.proc.signal(signal.SIGHUP)
        again = check_equal(broker.port, d, "notify config back after SIGHUP")
        assert again == configs, sorted(set(configs) ^ set(again))
        log("default_recipients set again, SIGHUP: notify config published, %d configs" % len(again))
        passed += 1

        d.proc.stop()
        d = env.start_daemon(env.daemon(broker.port, smsd, recovery + "[homeassistant]\ndiscovery = no\n"))
        wait_until(lambda: retained(broker.port) == {}, 20, "every config emptied with discovery = no")
        assert cli_discovery(d) == {}
        assert json.loads(read(os.path.join(d.state_dir, "discovery.json")))["published"] == []
        log("discovery = no: every config emptied")
        passed += 1
    print("%d passed, 0 failed" % passed)


if __name__ == "__main__":
    main()
