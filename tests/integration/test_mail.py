"""sms2mail on real parts: a received SMS whose text tries to add mail headers
is published on MQTT and mailed through a sendmail stand-in (argv -t -i, no
shell): one Subject naming the sender (RFC 2047 when not ASCII), no injected
header, the body (base64 UTF-8) equal to the SMS text; mail_forwarded counted."""

import base64
import email
import email.header
import email.policy
import os
import stat

from harness import Env, log, wait_until

TEXT = "Hi!\nSubject: evil\nBcc: victim@example.org\n\n.\nGrüße 😀"


def main():
    with Env("mail") as env:
        outdir = os.path.join(env.dir, "mails")
        os.makedirs(outdir)
        fake = os.path.join(env.dir, "sendmail")
        with open(fake, "w") as f:
            f.write('#!/bin/sh\necho "$@" > "%s/argv.$$"\ncat > "%s/mail.$$"\n' % (outdir, outdir))
        os.chmod(fake, stat.S_IRWXU)
        broker = env.broker()
        sub = env.subscribe(broker.port, "sms-sentinel/#")
        emu = env.emulator()
        smsd = env.start_smsd(env.smsd(emu.link))
        env.start_daemon(env.daemon(broker.port, smsd, "[sms]\nforward_mail = ops@example.org\nsendmail = %s\n" % fake))
        wait_until(lambda: sub.find("/availability", lambda p: p == "online"), 15, "availability online")
        emu.client.inject("+33612345678", TEXT)
        m = sub.wait_json("sms-sentinel/test/sms/received", lambda m: True, 60, "the SMS on MQTT")
        assert m["text"] == TEXT, m
        mails = wait_until(lambda: [n for n in os.listdir(outdir) if n.startswith("mail.")], 30, "a mail")
        argv = [n for n in os.listdir(outdir) if n.startswith("argv.")]
        assert open(os.path.join(outdir, argv[0])).read().split() == ["-t", "-i"]
        raw = open(os.path.join(outdir, mails[0]), "rb").read()
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert msg["To"] == "ops@example.org", msg["To"]
        assert "+33612345678" in str(msg["Subject"]), msg["Subject"]
        assert msg.get_all("Bcc") is None and len(msg.get_all("Subject")) == 1, raw[:400]
        body = msg.get_content()
        assert TEXT.replace("\n", "\r\n") in body or TEXT in body.replace("\r\n", "\n"), body
        sub.wait_json("sms-sentinel/test/state", lambda s: s.get("mail_forwarded") == 1, 15, "mail_forwarded 1")
        log("mailed with -t -i; headers not injectable; body exact; Subject %r" % str(msg["Subject"]))
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
