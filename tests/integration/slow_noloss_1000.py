"""No loss under stress: 1000 SMS go through the emulated modem and the real
gammu-smsd (ReceiveFrequency = 1, so the SIM's 30 slots drain about 20 SMS a
second) while the broker is stopped for 30 s and, once it is back, the daemon
is killed with -9 in the middle of publishing the backlog and started again.
Every SMS must come out on <base>/sms/received at least once, every copy of one
SMS with the same id, no two SMS with one id, and every inbox file released to
the archive. Each SMS has its own sender and text; every 100th is a 2-part UCS-2
text. The subscriber is a persistent QoS 1 session on a broker with persistence,
so what the broker acknowledged while nobody listened is still delivered to it.
Prints the duplicates and the total time; passes on correctness only."""

import json
import os
import signal
import time

from harness import Env, log, wait_until

N = 1000
LONG_EVERY = 100
OUTAGE_AT = 200   # SMS injected before the broker goes down
OUTAGE_S = 30
KILL_AFTER = 5    # SMS seen after the broker came back before the kill -9


def sms(i):
    number = "+336%08d" % i
    if i % LONG_EVERY == LONG_EVERY - 1:
        return number, ("noloss %04d \u2713 " % i) + "two UCS-2 parts " * 6
    return number, "noloss %04d from %s" % (i, number)


def received(sub):
    with sub.lock:
        msgs = list(sub.messages)
    return [json.loads(p) for t, p in msgs if t.endswith("/sms/received")]


def main():
    with Env("noloss1000") as env:
        broker = env.broker(persistent=True)
        sub = env.subscribe(broker.port, "sms-sentinel/test/#", args=("-q", "1", "-c", "-i", "noloss-subscriber"))
        emu = env.emulator()
        smsd = env.smsd(emu.link)
        with open(smsd.rc) as f:
            rc = f.read()
        with open(smsd.rc, "w") as f:
            f.write(rc.replace("receivefrequency = 5", "receivefrequency = 1"))
        env.start_smsd(smsd)
        d = env.start_daemon(env.daemon(broker.port, smsd))
        wait_until(lambda: sub.find("/availability", lambda p: p == "online"), 15, "availability online")
        wait_until(lambda: "Starting phone communication" in smsd.log(), 30, "gammu-smsd init")
        inbox = os.path.join(smsd.spool, "inbox")
        archive = os.path.join(d.state_dir, "archive")
        expected = dict(sms(i) for i in range(N))
        t0 = time.monotonic()
        injected, phase, t_phase, seen_at_restart, max_inbox = 0, "before", t0, 0, 0
        while injected < N or phase != "restarted":
            room = 30 - emu.client.status()["stored_sms"]
            while injected < N and room > 0:
                number, text = sms(injected)
                r = emu.client.inject(number, text)
                if not r.get("ok"):
                    break  # storage full: gammu-smsd has not drained it yet
                room -= r["parts"]
                injected += 1
            now = time.monotonic()
            max_inbox = max(max_inbox, len(os.listdir(inbox)))
            if phase == "before" and injected >= OUTAGE_AT:
                broker.stop()
                phase, t_phase = "down", now
                log("broker stopped after %d SMS injected" % injected)
            elif phase == "down" and now - t_phase >= OUTAGE_S:
                broker.start()
                phase, seen_at_restart = "up", len(received(sub))
                log("broker back after %.0f s; %d SMS injected, %d in the inbox"
                    % (now - t_phase, injected, len(os.listdir(inbox))))
            elif phase == "up" and len(received(sub)) >= seen_at_restart + KILL_AFTER:
                d.proc.signal(signal.SIGKILL)
                d.proc.p.wait(5)
                env.procs.remove(d.proc)
                os.rename(d.proc.out_path, d.proc.out_path + ".killed")
                left = len(os.listdir(inbox))
                env.start_daemon(d)
                phase = "restarted"
                log("daemon killed with -9 while publishing (%d SMS seen, %d files in the inbox); restarted"
                    % (len(received(sub)), left))
            time.sleep(0.005 if phase == "up" else 0.1)  # the backlog goes out in about a second
        log("all %d SMS injected after %.0f s" % (N, time.monotonic() - t0))

        def complete():
            return {m["text"] for m in received(sub)} >= set(expected.values()) and not os.listdir(inbox)
        try:
            wait_until(complete, 300, "every SMS published and the inbox empty")
        except AssertionError:
            missing = sorted(set(expected.values()) - {m["text"] for m in received(sub)})
            log("%d never published, e.g. %s; inbox: %s" % (len(missing), missing[:5], sorted(os.listdir(inbox))[:5]))
            raise
        total_s = time.monotonic() - t0
        msgs = received(sub)
        ids_of = {}
        for m in msgs:
            assert expected.get(m["number"]) == m["text"], m
            ids_of.setdefault(m["text"], set()).add(m["id"])
        split = [t for t, ids in ids_of.items() if len(ids) != 1]
        assert not split, "copies of one SMS with different ids: %s" % split[:5]
        ids = [next(iter(s)) for s in ids_of.values()]
        assert len(ids) == N and len(set(ids)) == N, (len(ids), len(set(ids)))
        longs = [m for m in msgs if m["parts"] != 1]
        assert {m["parts"] for m in longs} == {2} and len({m["id"] for m in longs}) == N // LONG_EVERY, longs[:3]
        files = os.listdir(archive)
        assert len(files) == N + N // LONG_EVERY, len(files)
        assert not [m for t, m in sub.messages if t.endswith("/event") and '"inbox_error"' in m]
        assert sub.p.poll() is None, "the subscriber died"
        for path in (d.proc.out_path, d.proc.out_path + ".killed"):
            with open(path, errors="replace") as f:
                out = f.read()
            assert "not released" not in out and "left in place" not in out, out[-3000:]
        dups = len(msgs) - N
        log("archive holds %d files; inbox peaked at %d files" % (len(files), max_inbox))
        print("noloss_1000: %d SMS (%d in 2 parts), broker down %d s, one kill -9: %d publishes, "
              "%d duplicates (same id), 0 lost, total %.0f s" % (N, N // LONG_EVERY, OUTAGE_S, len(msgs), dups,
                                                                total_s))
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
