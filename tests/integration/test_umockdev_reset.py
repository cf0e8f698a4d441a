#!/usr/bin/env python3
"""USB reset through libusb against umockdev's fake bus.

Runs the cmocka executable test_usb_reset_umockdev (built next to the daemon)
twice with tests/fixtures/usb/zte_mf112.umockdev (a ZTE MF112 19d2:0031 at 1-1):

1. under `umockdev-run`, with root_hub_port1.ioctl on the root hub, so the
   port_power fallback must send exactly ClearPortFeature/SetPortFeature
   (PORT_POWER, port 1);
2. in a umockdev testbed built here through GObject introspection, with an
   ioctl handler on /dev/bus/usb/001/002 that counts USBDEVFS_RESET: the reset
   must reach the device exactly once (the stale-ref case must not reset).

Part 2 needs python3-gi and gir1.2-umockdev-1.0; when this interpreter lacks
them, it re-runs itself with /usr/bin/python3, or skips part 2 with a message.
Exit 0 with "skipped" when umockdev is not installed at all.
"""
import os
import shutil
import subprocess
import sys
import time

SRC = os.environ.get("SRC_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
FIX = os.path.join(SRC, "tests", "fixtures", "usb")
DEVICE_FILE = os.path.join(FIX, "zte_mf112.umockdev")
HUB_IOCTL = os.path.join(FIX, "root_hub_port1.ioctl")
USBDEVFS_RESET = 0x5514  # _IO('U', 20)
TIMEOUT = 60


def probe_exe():
    daemon = os.environ.get("SMS_SENTINEL")
    if not daemon:
        sys.exit("SMS_SENTINEL is not set (run through ctest)")
    exe = os.path.join(os.path.dirname(daemon), "tests", "test_usb_reset_umockdev")
    if not os.access(exe, os.X_OK):
        sys.exit(f"missing {exe}")
    return exe


def check_cmocka(name, rc, out):
    sys.stdout.write(out)
    if rc != 0:
        sys.exit(f"{name}: exit status {rc}")
    if "[  PASSED  ]" not in out:
        sys.exit(f"{name}: no PASSED line")


def child_env(**extra):
    """The preload library goes first in LD_PRELOAD; a gcc ASan build (dynamic
    runtime) would refuse to start unless told that this is fine."""
    env = dict(os.environ, **extra)
    asan = env.get("ASAN_OPTIONS", "")
    env["ASAN_OPTIONS"] = (asan + ":" if asan else "") + "verify_asan_link_order=0"
    return env


def run_umockdev_run(exe):
    cmd = ["umockdev-run", "--device", DEVICE_FILE, "--ioctl", "/dev/bus/usb/001/001=" + HUB_IOCTL, "--", exe]
    env = child_env(SMS_UMOCKDEV_HUB="1")
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=TIMEOUT)
    check_cmocka("umockdev-run", p.returncode, p.stdout)
    if "SKIPPED" in p.stdout:
        sys.exit("umockdev-run: tests skipped although umockdev was active")


def have_gi():
    try:
        import gi

        gi.require_version("UMockdev", "1.0")
        return True
    except (ImportError, ValueError):
        return False


def run_with_reset_counter(exe):
    import gi

    gi.require_version("UMockdev", "1.0")
    from gi.repository import GLib, UMockdev

    resets = []

    class ResetCounter(UMockdev.IoctlBase):
        def do_handle_ioctl(self, client):
            if client.get_request() != USBDEVFS_RESET:
                return False  # umockdev's default answer
            resets.append(time.monotonic())
            client.complete(0, 0)
            return True

    testbed = UMockdev.Testbed.new()
    testbed.add_from_file(DEVICE_FILE)
    handler = ResetCounter()
    testbed.attach_ioctl("/dev/bus/usb/001/002", handler)
    env = child_env(UMOCKDEV_DIR=testbed.get_root_dir(), LD_PRELOAD="libumockdev-preload.so.0")
    env.pop("SMS_UMOCKDEV_HUB", None)
    p = subprocess.Popen([exe], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # The handler runs in this process's GLib main context: spin it until the
    # child is done.
    ctx = GLib.MainContext.default()
    deadline = time.monotonic() + TIMEOUT
    while p.poll() is None:
        if time.monotonic() > deadline:
            p.kill()
            sys.exit("testbed: timeout")
        ctx.iteration(False)
        time.sleep(0.001)
    check_cmocka("testbed", p.returncode, p.stdout.read())
    if len(resets) != 1:
        sys.exit(f"testbed: expected 1 USBDEVFS_RESET on /dev/bus/usb/001/002, saw {len(resets)}")
    print("USBDEVFS_RESET reached the device once")


def main():
    if not shutil.which("umockdev-run"):
        print("skipped: umockdev-run not installed (apt-get install umockdev)")
        return
    exe = probe_exe()
    if not have_gi():
        system = "/usr/bin/python3"
        if os.path.realpath(sys.executable) != os.path.realpath(system) and os.access(system, os.X_OK) \
                and not os.environ.get("SMS_UMOCKDEV_REEXEC"):
            os.environ["SMS_UMOCKDEV_REEXEC"] = "1"
            os.execv(system, [system, os.path.abspath(__file__)])
    run_umockdev_run(exe)
    if have_gi():
        run_with_reset_counter(exe)
    else:
        print("part 2 skipped: python3-gi / gir1.2-umockdev-1.0 missing")
    print("ok")


if __name__ == "__main__":
    main()
