// The demo page: streams a scripted LLM answer through stream-guard and renders what the server
// says about it, live. No build step: this file, ../stream-guard.js and ./scenario.js are served
// as they are.

import { HandshakeError, StreamGuard } from "../stream-guard.js";
import { answer, evidence, question, tokens } from "./scenario.js";

const params = new URLSearchParams(location.search);
const preset = globalThis.STREAM_GUARD_DEMO ?? {};
const config = {
  // Served by `stream-guard serve` the server is this page's own host.
  server: params.get("server") ?? preset.server ??
    `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/v1/stream`,
  // Your backend's endpoint that answers POST with {"ticket": ...}; none for auth_disabled.
  ticketUrl: params.get("ticketUrl") ?? preset.ticketUrl ?? null,
  delay: Number(params.get("delay") ?? preset.delay ?? 40),
};

const $ = (selector) => document.querySelector(selector);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function fetchTicket() {
  const response = await fetch(config.ticketUrl, { method: "POST" });
  if (!response.ok) {
    // The backend's status says whether to retry (503: stream-guard cannot issue one right now)
    // or to stop (its key refused: retrying would not change it).
    const { error } = await response.json().catch(() => ({}));
    const retryAfter = Number(response.headers.get("Retry-After")) || null;
    throw new HandshakeError(response.status, `ticket endpoint: ${error ?? ""}`, retryAfter);
  }
  return (await response.json()).ticket;
}

const guard = new StreamGuard({
  url: config.server,
  getTicket: config.ticketUrl ? fetchTicket : null,
  onConnectionChange(state) {
    const badge = $("#connection");
    badge.textContent = state === "open" ? "connected" : state;
    badge.className = `badge ${state}`;
  },
});

let current = null; // the run on screen: { mode, stream, verdicts }

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Text up to `cut`, each checked window underlined by its label. */
function windows(stream, verdicts, cut) {
  const parts = [];
  let pos = 0;
  for (const v of verdicts) {
    if (v.start >= cut) break;
    if (v.start > pos) parts.push(document.createTextNode(stream.slice(pos, v.start)));
    const end = Math.min(v.end, cut);
    parts.push(el("span", v.label === "supported" ? "supported" : "unsupported",
      stream.slice(v.start, end)));
    pos = end;
  }
  return { parts, pos };
}

function renderAnswer() {
  const { mode, stream, verdicts } = current;
  const box = $("#answer");
  if (!stream) {
    box.replaceChildren();
    return;
  }
  const halt = stream.halt;
  if (mode === "holdback") {
    // Only released (verified) text is ever put on the page.
    const { parts, pos } = windows(stream, verdicts, stream.released);
    if (pos < stream.released) parts.push(document.createTextNode(stream.slice(pos, stream.released)));
    if (!halt && !stream.done) parts.push(el("span", "verifying", " verifying…"));
    box.replaceChildren(...parts);
    return;
  }
  const cut = halt ? halt.at : stream.chars;
  const { parts, pos } = windows(stream, verdicts, cut);
  if (pos < cut) {
    parts.push(halt ? document.createTextNode(stream.slice(pos, cut))
      : el("span", "pending", stream.slice(pos, cut)));
  }
  if (halt) {
    // Everything from `at` on is retracted; the offending claim stays visible, struck out.
    const claim = el("del", "halted-claim", halt.text || stream.slice(halt.at));
    claim.dataset.at = String(halt.at);
    parts.push(claim);
  }
  box.replaceChildren(...parts);
}

function renderHalt() {
  const panel = $("#halt");
  const halt = current.stream?.halt;
  if (!halt) {
    panel.hidden = true;
    panel.replaceChildren();
    return;
  }
  const heading = current.mode === "holdback"
    ? `A claim was withheld (${halt.reason}): it was never shown.`
    : `Halted (${halt.reason}): the struck-out claim was retracted, and everything after it.`;
  const list = el("ul", "halt-evidence");
  for (const item of halt.evidence) {
    const li = el("li");
    li.append(el("code", "", `${item.id} (${item.score.toFixed(2)}) `), item.text);
    list.append(li);
  }
  panel.replaceChildren(el("h3", "", heading),
    el("p", "", halt.evidence.length ? "Evidence it was checked against:" : "No evidence found."),
    list);
  panel.hidden = false;
}

function logVerdict(v) {
  const li = el("li");
  li.append(el("span", `label-${v.label}`, `${v.label} ${v.score.toFixed(2)}`), ` “${v.text}”`);
  $("#verdicts").append(li);
}

/** Stream the scripted answer; resolves with a summary once the server sent `done`. */
async function run(mode = $("#holdback").checked ? "holdback" : "observe") {
  $("#ask").disabled = true;
  $("#holdback").checked = mode === "holdback";
  $("#verdicts").replaceChildren();
  $("#mode-note").textContent = mode === "holdback"
    ? "holdback: only verified text is shown" : "observe: text is shown at once, retracted on halt";
  document.body.dataset.state = "streaming";
  current = { mode, stream: null, verdicts: [] };
  renderAnswer();
  renderHalt();
  let halted;
  const haltSignal = new Promise((resolve) => { halted = resolve; });
  try {
    const stream = await guard.start({
      context: evidence,
      prompt: question,
      mode,
      onVerdict(v) { current.verdicts.push(v); logVerdict(v); renderAnswer(); },
      onRelease() { renderAnswer(); },
      onHalt() { halted(); renderAnswer(); renderHalt(); },
      onDone() { renderAnswer(); },
      onError(error) { if (error.fatal !== false) console.error(error); },
    });
    current.stream = stream;
    for (const token of tokens()) {
      if (stream.halt) break; // the "LLM" stops generating the moment the halt arrives
      stream.send(token);
      renderAnswer();
      await Promise.race([sleep(config.delay), haltSignal]);
    }
    stream.end(); // after a halt too: the server then closes the stream with `done`
    const done = await stream.finished;
    document.body.dataset.state = "done";
    return {
      mode, halted: done.halted, at: stream.halt?.at ?? null, reason: stream.halt?.reason ?? null,
      sent: stream.text, shown: $("#answer").innerText,
    };
  } catch (error) {
    document.body.dataset.state = "error";
    $("#answer").replaceChildren(el("span", "unsupported", `error: ${error.message}`));
    throw error;
  } finally {
    $("#ask").disabled = false;
  }
}

$("#question").textContent = question;
for (const item of evidence) {
  const li = el("li");
  li.append(el("code", "", `${item.id} `), item.text);
  $("#evidence").append(li);
}
$("#holdback").checked = params.get("mode") === "holdback";
$("#ask").addEventListener("click", () => run().catch(() => {}));

// For tests and the console: `await demo.run("holdback")`.
globalThis.demo = { run, config, answer, guard };
document.body.dataset.ready = "true";
if (params.get("autorun")) run().catch(() => {});
