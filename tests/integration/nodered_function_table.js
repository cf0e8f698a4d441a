// Table test of the Node-RED example's function node (examples/node-red/flows.json):
// its code run under node with a fake clock, env and flow context, for what the
// integration test cannot wait for (the reply window running out, the hourly cap)
// and the edge cases (number rules, cutting a long forward). Usage: node this FLOWS
"use strict";
const fs = require("fs");
const flows = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const fn = flows.find((n) => n.type === "function");
const tab = flows.find((n) => n.type === "tab");
const MIN = 60000;

function rig(overrides) {
    const env = {};
    for (const e of tab.env) env[e.name] = e.type === "num" ? Number(e.value) : e.value;
    Object.assign(env, { FORWARD_TO: "+33799999999" }, overrides || {});
    const store = {};
    const clock = { t: 1e12 };
    const warnings = [];
    const run = new Function("msg", "env", "flow", "node", "Date", fn.func);
    const ctx = {
        env: { get: (k) => env[k] },
        flow: { get: (k) => store[k], set: (k, v) => { store[k] = JSON.parse(JSON.stringify(v)); } },
        node: { warn: (w) => warnings.push(w), status: () => {} },
        Date: { now: () => clock.t },
    };
    let n = 0;
    return {
        warnings,
        at(minutes) { clock.t = 1e12 + minutes * MIN; return this; },
        sms(number, text) {
            n += 1;
            const msg = { topic: "sms-sentinel/pi/sms/received",
                          payload: { id: "IN" + n + ".txt", number: number, text: text === undefined ? "hi" : text } };
            const out = run(msg, ctx.env, ctx.flow, ctx.node, ctx.Date);
            if (out === null) return null;
            return { kinds: out[0].map((m) => m.payload.transaction.split("-")[1] + ":" + m.payload.number),
                     topics: out[0].map((m) => m.topic), texts: out[0].map((m) => m.payload.text),
                     line: out[1].payload };
        },
    };
}

let failed = 0;
function expect(name, got, want) {
    const g = JSON.stringify(got), w = JSON.stringify(want);
    if (g !== w) {
        failed += 1;
        console.log("FAIL " + name + ": got " + g + ", want " + w);
    } else {
        console.log("ok   " + name);
    }
}

let r = rig();
expect("first SMS: reply then forward", r.at(0).sms("+33611111111").kinds, ["reply:+33611111111", "forward:+33799999999"]);
expect("requests go to the base the SMS came from", rig().sms("+33611111111").topics,
       ["sms-sentinel/pi/request/send_sms", "sms-sentinel/pi/request/send_sms"]);
expect("within the window: forward only", r.at(59).sms("+33611111111").kinds, ["forward:+33799999999"]);
expect("window over: reply again", r.at(61).sms("+33611111111").kinds, ["reply:+33611111111", "forward:+33799999999"]);

r = rig({ REPLY_MAX_PER_HOUR: 2, REPLY_WINDOW_MINUTES: 5 });
r.at(0).sms("+33600000001");
r.at(1).sms("+33600000002");
expect("hourly cap reached", r.at(2).sms("+33600000003").kinds, ["forward:+33799999999"]);
expect("hourly cap says why", /REPLY_MAX_PER_HOUR/.test(r.at(3).sms("+33600000004").line), true);
expect("an hour later: replies again", r.at(61).sms("+33600000005").kinds[0], "reply:+33600000005");

r = rig();
expect("alphanumeric sender: no reply", r.sms("Vodafone").kinds, ["forward:+33799999999"]);
expect("short code: no reply", r.sms("36665").kinds, ["forward:+33799999999"]);
expect("short number with +: no reply", r.sms("+1234567").kinds, ["forward:+33799999999"]);
expect("national format: no reply", r.sms("0611111111").kinds, ["forward:+33799999999"]);
expect("the forward number: nothing", r.sms("+33799999999").kinds, []);

expect("FORWARD_TO empty: reply only", rig({ FORWARD_TO: "" }).sms("+33611111111").kinds, ["reply:+33611111111"]);
r = rig({ FORWARD_TO: "+33XXXXXXXXX" });
expect("placeholder FORWARD_TO: reply only", r.sms("+33611111111").kinds, ["reply:+33611111111"]);
expect("placeholder FORWARD_TO: a warning", r.warnings.length, 1);
expect("REPLY_TEXT empty: forward only", rig({ REPLY_TEXT: "" }).sms("+33611111111").kinds, ["forward:+33799999999"]);
expect("number not a string: nothing", rig().sms(7), null);
expect("text not a string: nothing", rig().sms("+33611111111", 5), null);

const prefix = "From +33622222222: ";
const emojiAtCut = "x".repeat(400 - 3 - prefix.length - 1) + "😀" + "y".repeat(50);
let t = rig().sms("+33622222222", emojiAtCut).texts[1];
expect("cut forward: 400 units at most", t.length <= 400 && t.endsWith("..."), true);
expect("cut forward: no half emoji", /[\ud800-\udbff](?![\udc00-\udfff])/.test(t), false);
t = rig().sms("+33622222222", "short").texts[1];
expect("short forward: whole", t, "From +33622222222: short");

console.log(failed ? failed + " failed" : "all passed");
process.exit(failed ? 1 : 0);
