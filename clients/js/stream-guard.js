/**
 * stream-guard browser client: a dependency-free ES module (works from a <script type="module">
 * or a bundler). Types are in stream-guard.d.ts.
 *
 * A page never holds an API key: its own backend mints a single-use ticket (POST /v1/tickets)
 * and the page passes `getTicket` to fetch one for every connection attempt, so reconnecting
 * after a drop, a restart or a "try again later" (1013) just works.
 *
 * Offsets in server events are Unicode code points; JavaScript strings index UTF-16 units. The
 * stream converts for you: callbacks receive ready-made text slices, and `stream.slice(start,
 * end)` cuts the stream's text by code-point offsets.
 *
 * @module stream-guard
 */

const STREAM_PATH = "/v1/stream";
// About 16 s of waiting in all on average (31 s at most): a restarted server is back within it
// (with 8 attempts, 5.7 s: a review saw a server restarted 3 s after it was killed given up on).
// The attempts take time too, up to openTimeout each where a server accepts no connection:
// connecting gives up once openTimeout plus the policy's longest wait has passed since its
// first attempt (41 s; a review saw a stopped server keep a start waiting 133 s).
const DEFAULT_BACKOFF = Object.freeze({ initial: 100, maximum: 5000, factor: 2, attempts: 12 });
// The server's default max_frame_bytes: a start over it is refused before it is sent.
const DEFAULT_MAX_FRAME_BYTES = 65536;
// A protocol ping after this long without a frame from the server while streams are open, and
// the connection given up when that long passes again with nothing heard (browsers send no
// WebSocket pings of their own): a server that stopped answering is found in seconds.
const DEFAULT_KEEPALIVE_MS = 5000;
// With this page's writes still unsent the keepalive's wait is not counted (a busy server may
// leave its socket unread), but a server silent for this many keepalives while it reads nothing
// is gone all the same (a review: a stopped server whose socket buffers filled was never given up).
const UNREAD_KEEPALIVES = 6;
// Close codes after which a new connection is expected to work, possibly after a pause:
// 1006 is a drop without a close frame, 1009 a spent budget that a new connection resets.
const RETRYABLE_CLOSE = new Set([1000, 1001, 1006, 1009, 1011, 1012, 1013]);
// The reason of a 1009 close for a spent character budget (protocol/errors.py's
// BUDGET_SPENT_REASON); any other 1009 is a frame over the size limit.
const BUDGET_SPENT = "character budget spent";
// Error frames after which a stream goes on (as the Python client's guard judges them): a window
// that could not be scored, and a delta that crossed the halt on the wire. Any other error
// addressed to a started stream means a frame of it was not taken (dropped rate_limited,
// refused bad_seq, bad_frame, ...): the stream is failed, but for SERVER_ENDS.
const BENIGN_ERRORS = new Set(["internal", "stream_halted"]);
// Error frames after which the server ends the stream itself (its drain, or the connection's
// budget spent twice): what it took is still checked, and its verdicts, any halt and a done
// (drained) follow: the stream is not failed (`GuardStream.endedByServer`).
const SERVER_ENDS = new Set(["draining", "budget_exceeded"]);
/** Error codes after which the same request may succeed once the client backs off. */
const RETRYABLE_ERRORS = new Set(["rate_limited", "overloaded", "draining"]);
// The error codes a cancel is answered with when the server has no such stream open.
const CANCEL_ANSWERS = new Set(["unknown_stream", "draining"]);
const MAX_STREAM_ID = 128; // code points (docs/protocol.md): a longer one the server cannot name
// The close a page sends for a frame it cannot read: WHATWG's close() takes only 1000 and
// 3000-4999 (1002 throws InvalidAccessError, which in a listener kills a Node process).
const UNREADABLE_CLOSE = 4002;
// Not printable, as the server judges it (Python's str.isprintable): Unicode's "Other" and
// "Separator" categories, the ASCII space excepted.
const UNPRINTABLE = /(?! )[\p{C}\p{Z}]/u;
/**
 * HTTP statuses a refused upgrade can answer (docs/protocol.md, "Handshake answers"), and
 * whether a later attempt may succeed. Browsers hide them from pages (every refused upgrade is
 * a close 1006, retried with backoff and a fresh ticket), but a `getTicket` that calls
 * `POST /v1/tickets` sees them, and a Node WebSocket implementation may too: throw a
 * `HandshakeError` from `getTicket` and a fatal one stops the retries at once.
 */
export const HANDSHAKE_STATUSES = Object.freeze({
  400: false, // malformed upgrade
  401: false, // missing, unknown, expired or used credential
  403: false, // Origin not allowed
  404: false, // wrong path
  405: false, // wrong method
  414: false, // request line over 8 KiB
  426: false, // not a WebSocket upgrade
  429: true, // too many handshakes from this address: wait Retry-After
  431: false, // request head over 64 KiB, a header line over 8 KiB or over 128 header fields
  502: true, // proxy
  503: true, // draining, or shared state unavailable / ticket not checkable: wait Retry-After
  504: true, // proxy
  505: false, // an upgrade sent as HTTP/1.0
});

/**
 * An `error` frame from the server; `code` is the protocol's error code. `retryable` is true for
 * `rate_limited`, `overloaded` and `draining`: start the stream again after a backoff.
 */
export class StreamGuardError extends Error {
  constructor(code, message, streamId = null) {
    super(streamId ? `[${streamId}] ${message}` : message);
    this.name = "StreamGuardError";
    this.code = code;
    this.streamId = streamId;
    this.retryable = RETRYABLE_ERRORS.has(code);
  }
}

/**
 * The connection ended; `streamId` is set when raised for a stream that was in flight.
 * `retryable` by the close code: a server killed or restarted (1006, 1001, 1012) is, this
 * client's own fault (1007, 1008) is not. `started`: the server had taken the stream's start;
 * one it had not (a connection refused 1013 at capacity) lost nothing.
 */
export class ConnectionClosedError extends Error {
  constructor(code, reason, streamId = null, started = true) {
    const what = !streamId ? "connection closed"
      : started ? `stream ${streamId} lost: its connection closed`
        : `stream ${streamId} not started: its connection closed`;
    super(`${what} with code ${code}${reason ? ` (${reason})` : ""}` +
      (streamId && started ? "; its state is gone server-side, start a new stream" : ""));
    this.name = "ConnectionClosedError";
    this.code = code;
    this.reason = reason;
    this.streamId = streamId;
    this.retryable = RETRYABLE_CLOSE.has(code);
  }
}

/**
 * A use of a stream that this client already ended or cancelled, or that is done, or of a
 * `StreamGuard` after its `close()` (the Python client's `StreamClosedError`).
 */
export class StreamClosedError extends Error {
  constructor(message) {
    super(message);
    this.name = "StreamClosedError";
    this.retryable = false;
  }
}

/**
 * The server did not answer a `start` within `startTimeout` ms (the start is then cancelled
 * there, so it holds no stream slot).
 */
export class StartTimeoutError extends Error {
  constructor(message) {
    super(message);
    this.name = "StartTimeoutError";
    this.retryable = false;
  }
}

/** A refused upgrade or ticket request, by HTTP status; `retryable` from HANDSHAKE_STATUSES. */
export class HandshakeError extends Error {
  constructor(status, message = "", retryAfter = null) {
    super(`HTTP ${status}${message ? `: ${message}` : ""}`);
    this.name = "HandshakeError";
    this.status = status;
    this.retryable = HANDSHAKE_STATUSES[status] === true;
    /** Seconds, from the Retry-After header when there was one. */
    this.retryAfter = retryAfter;
  }
}

/**
 * No connection could be opened within the backoff policy; `cause` is the last failure.
 * `retryable` when that failure was an answer saying "not now" (a close 1013: at capacity, its
 * scorer loading, its shared state away; a start refused `draining`; an HTTP 429 or 503 from
 * `getTicket`): the same call may succeed later. Not when nothing answered, which a wrong
 * address looks like as much as a server down; nor for a refused upgrade, which a browser's
 * WebSocket shows as a close 1006 whatever its status (the Python client sees the status).
 */
export class ConnectError extends Error {
  constructor(message, cause) {
    super(message, { cause });
    this.name = "ConnectError";
    this.retryable = (cause instanceof ConnectionClosedError && cause.code === 1013)
      || (cause instanceof StreamGuardError && cause.code === "draining")
      || (cause instanceof HandshakeError && (cause.status === 429 || cause.status === 503));
  }
}

/**
 * Reconnection delays in milliseconds: capped exponential backoff with full jitter, so many
 * pages that lost the same server do not come back in lockstep.
 */
export function* backoffDelays({ initial, maximum, factor, attempts } = DEFAULT_BACKOFF) {
  let bound = initial;
  for (let i = 1; i < attempts; i++) {
    yield Math.random() * bound;
    bound = Math.min(maximum, bound * factor);
  }
}

/** The most `backoffDelays` wait in all, ms: the sum of their bounds. */
export function longestWait({ initial, maximum, factor, attempts } = DEFAULT_BACKOFF) {
  let total = 0;
  let bound = initial;
  for (let i = 1; i < attempts; i++) {
    total += bound;
    bound = Math.min(maximum, bound * factor);
  }
  return total;
}

/** A pause of `ms`; an abort of `signal` ends it at once, rejecting with the signal's reason. */
function sleep(ms, signal = null) {
  return unlessAborted(new Promise((resolve) => {
    // An abandoned pause must not keep its timer (and a Node process) alive, nor a pause
    // that ran its course its listener on a signal that outlives it (a chat's, say).
    const stop = () => clearTimeout(timer);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", stop);
      resolve();
    }, ms);
    signal?.addEventListener("abort", stop, { once: true });
  }), signal);
}

/**
 * `promise`, or a rejection with `signal`'s reason as soon as it is aborted. What `promise`
 * stands for goes on: a connection being opened is shared by every start waiting for it.
 */
function unlessAborted(promise, signal) {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  let onAbort;
  const aborted = new Promise((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  return Promise.race([promise, aborted]).finally(() => {
    signal.removeEventListener("abort", onAbort);
  });
}

const closedClient = () => new StreamClosedError("this StreamGuard was closed");

function report(error) {
  if (typeof globalThis.reportError === "function") globalThis.reportError(error);
  else console.error(error);
}

/** UTF-16 index of code-point offset `offset` in `text`. */
function utf16Index(text, offset) {
  let index = 0;
  for (let cp = 0; cp < offset && index < text.length; cp++) {
    const unit = text.charCodeAt(index);
    index += unit >= 0xd800 && unit <= 0xdbff && index + 1 < text.length ? 2 : 1;
  }
  return index;
}

/** A surrogate pair, or a lone half of one (not text: a frame with one is unreadable JSON). */
const SURROGATES = /[\ud800-\udbff][\udc00-\udfff]|[\ud800-\udfff]/g;

/** `text` with every lone surrogate replaced by U+FFFD, as toWellFormed() (not everywhere yet). */
function wellFormed(text) {
  return text.replace(SURROGATES, (match) => (match.length === 2 ? match : "\ufffd"));
}

function codePoints(text) {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) n -= 1;
  }
  return n;
}

/**
 * The most UTF-16 units a delta of stream `id` carries: `maxDeltaChars`, and no more than its
 * frame holds within `maxFrameBytes` whatever they are (one takes at most 6 bytes of the
 * frame's JSON: a control character is escaped \u001f; a surrogate pair is 4 bytes of UTF-8).
 * A review: deltas were cut by `maxDeltaChars` alone, and 8,192 Chinese characters (24 KB)
 * sent to a server with a 4 KiB limit closed the connection under every stream on it.
 */
function deltaChars(id, maxDeltaChars, maxFrameBytes) {
  const frame = JSON.stringify({ type: "delta", stream_id: id, seq: Number.MAX_SAFE_INTEGER,
    text: "" });
  const room = Math.floor((maxFrameBytes - new TextEncoder().encode(frame).length) / 6);
  return Math.max(1, Math.min(maxDeltaChars, room));
}

/** A `getTicket` that resolved to no ticket: the caller's bug, never retried (and it says
 *  so, `retryable: false`, as every error of the client does). */
class NoTicketError extends TypeError {
  get retryable() { return false; }
}

function withTicket(url, ticket) {
  if (typeof ticket !== "string" || ticket === "") {
    // A getTicket that read a refusal's body (`.ticket` of {"error": ...}) would connect with
    // "?ticket=undefined" and retry into an opaque 1006: this is the caller's bug, said at once.
    throw new NoTicketError(`getTicket must resolve to a ticket string, not ${ticket === "" ? "\"\""
      : typeof ticket}; throw a HandshakeError when the ticket endpoint refuses`);
  }
  const u = new URL(url);
  u.searchParams.set("ticket", ticket);
  return u.toString();
}

function streamUrl(url) {
  const u = new URL(url, globalThis.location?.href);
  if (u.protocol === "http:") u.protocol = "ws:";
  if (u.protocol === "https:") u.protocol = "wss:";
  if (u.pathname === "" || u.pathname === "/") u.pathname = STREAM_PATH;
  return u.toString();
}

/**
 * One guarded stream. Send text with `send`, finish with `end`; events arrive through the
 * callbacks given to `StreamGuard.start`. `finished` resolves with the `done` frame, or rejects
 * with a `ConnectionClosedError` when the connection is lost first, or with the
 * `StreamGuardError` of a frame of the stream the server did not take (`failed`): its text is
 * then not all checked, so no `done` can vouch for it.
 */
export class GuardStream {
  constructor(link, id, options, maxDelta) {
    this.id = id;
    this.mode = options.mode ?? "observe";
    // UTF-16 units a delta carries at most (deltaChars): the pieces a send is cut into, and
    // the most the connection joins while they wait.
    this._maxDelta = maxDelta;
    // Text counts as sent at send(), also while it waits in the connection's outbox: the
    // server's offsets index into the whole text, and text that waits only ever follows what
    // the server has (dropped from the outbox, it stays at the end, after every offset).
    /** Everything sent so far. */
    this.text = "";
    /** Characters (code points) sent so far. */
    this.chars = 0;
    /** Holdback: text before this code-point offset is verified. */
    this.released = 0;
    this.halt = null;
    this.done = null;
    this.ended = false;
    this.lost = null;
    /** The fatal error that failed the stream: a frame of it the server did not take. */
    this.failed = null;
    /** The error that said the server ends the stream itself; its done follows. */
    this.endedByServer = null;
    this._cancelled = false; // a cancel is sent: the done it brings is all that is left
    this._link = link;
    this._options = options;
    this._seq = 0; // the next delta's seq, taken when the delta is written
    this._queued = null; // the newest of its deltas still in the outbox, not written yet
    this._astral = false; // any surrogate pair sent: offsets need converting
    // A high surrogate a send() ended on: the first half of a character whose second half the
    // next send() brings (a delta with a lone half is refused as not text).
    this._half = "";
    this.finished = new Promise((resolve, reject) => {
      this._resolve = resolve;
      this._reject = reject;
    });
    this.finished.catch(() => {}); // a lost stream is reported through onError as well
    this.started = new Promise((resolve, reject) => {
      this._startedResolve = resolve;
      this._startedReject = reject;
    });
    this._isStarted = false;
  }

  /** The stream's text between two code-point offsets (as event offsets are). */
  slice(start, end = this.chars) {
    if (!this._astral) return this.text.slice(start, end);
    return this.text.slice(utf16Index(this.text, start), utf16Index(this.text, end));
  }

  /**
   * Send the next piece of output; `seq` is numbered for you. Throws once halted, ended, done,
   * lost or failed, or once its `StreamGuard` is closed, and a TypeError for a `text` that is
   * not a string.
   * Pieces may be cut anywhere, between the two halves of a character too. Over the
   * connection's message rate a piece waits, joined to the stream's pieces waiting before it;
   * it counts in `text` and `chars` at once all the same.
   */
  send(text) {
    // String(undefined) would send the word "undefined", and have it checked as output.
    if (typeof text !== "string") throw new TypeError(`text must be a string, not ${typeof text}`);
    if (this.lost) throw this.lost;
    // Before the close event: the text would join `text` and never reach the server.
    if (this._link.closedByClient) throw closedClient();
    // The server did not take a frame of this stream: a delta after it would be refused bad_seq
    // and its text never checked.
    if (this.failed) throw this.failed;
    // The server ends the stream (its drain): it takes no more text, its done follows.
    if (this.endedByServer && !this.done) throw this.endedByServer;
    if (this.ended) throw new StreamClosedError(`stream ${this.id} was already ended or cancelled`);
    // The server forgot the stream at its done (a drain ends streams so): a delta would be
    // refused unknown_stream, and its text never checked.
    if (this.done) throw new StreamClosedError(`stream ${this.id} is done; start a new stream`);
    if (this.halt) {
      throw new StreamGuardError("stream_halted",
        `stream was halted at offset ${this.halt.at}; end it`, this.id);
    }
    text = this._half + text;
    this._half = "";
    const tail = text.charCodeAt(text.length - 1);
    if (tail >= 0xd800 && tail <= 0xdbff) {
      this._half = text.slice(-1);
      text = text.slice(0, -1);
      if (!text) return;
    }
    // A lone half anywhere else (a string cut by UTF-16 index upstream) makes the frame
    // unreadable JSON to the server, refused with an error that cannot name the stream.
    text = wellFormed(text);
    const max = this._maxDelta;
    let i = 0;
    do {
      let j = Math.min(text.length, i + max);
      const last = text.charCodeAt(j - 1);
      if (j < text.length && last >= 0xd800 && last <= 0xdbff) {
        j += j - 1 > i ? -1 : 1; // keep pairs whole: a lone pair is one character, sent whole
      }
      const piece = text.slice(i, j);
      this._link.sendDelta(this, piece);
      this.text += piece;
      this.chars += codePoints(piece);
      this._astral ||= this.chars !== this.text.length;
      i = j;
    } while (i < text.length);
  }

  /**
   * The output is complete: the last window is scored, then `onDone`. On a failed stream its
   * output can no longer be checked: `end` cancels it, which frees its place on the server. On
   * a stream the server ends itself (`endedByServer`) it does nothing: its done follows.
   */
  end() {
    if (this.lost) throw this.lost;
    if (this._link.closedByClient) throw closedClient();
    if (this.ended) throw new StreamClosedError(`stream ${this.id} was already ended or cancelled`);
    if (this.failed && !this.done) {
      this.cancel();
      return;
    }
    if (this.endedByServer) {
      this.ended = true;
      return;
    }
    const half = this._half;
    this._half = "";
    if (half && !this.halt && !this.done) {
      this.send("\ufffd"); // a half that never got its pair: the replacement character
    }
    this.ended = true;
    if (!this.done) this._link.sendFrame({ type: "end", stream_id: this.id });
  }

  /**
   * Abandon the stream: pending windows are dropped, `onDone` follows at once. The server
   * takes a cancel after `end` until its `done` (a user's Stop while the last windows are
   * scored); on a stream that is done, lost or already cancelled there is nothing to abandon,
   * and it does nothing.
   */
  cancel() {
    if (this.lost || this.done || this._cancelled) return;
    this._half = "";
    this.ended = true;
    this._cancelled = true;
    // Its deltas still waiting are abandoned with it: they never leave.
    this._link.dropDeltas(this);
    this._link.sendFrame({ type: "cancel", stream_id: this.id });
  }

  _call(name, ...args) {
    const callback = this._options[name];
    if (typeof callback !== "function") return;
    try {
      callback(...args);
    } catch (error) {
      report(error);
    }
  }

  /** Called by the connection for every frame addressed to this stream. */
  _deliver(frame) {
    switch (frame.type) {
      case "started":
        this._isStarted = true;
        this._startedResolve();
        this._call("onStarted", { streamId: this.id });
        break;
      case "verdict":
        this._call("onVerdict", {
          streamId: this.id, start: frame.start, end: frame.end, score: frame.score,
          label: frame.label, evidence: frame.evidence, text: this.slice(frame.start, frame.end),
          degraded: frame.degraded === true,
        });
        break;
      case "release": {
        const from = this.released;
        if (frame.upto <= from) break;
        this.released = frame.upto;
        this._call("onRelease", frame.upto, this.slice(from, frame.upto));
        break;
      }
      case "halt": {
        const window = frame.window ? { start: frame.window.start, end: frame.window.end } : null;
        this.halt = {
          streamId: this.id, at: frame.at, text: frame.text, reason: frame.reason,
          score: frame.score, evidence: frame.evidence, window,
          degraded: frame.degraded === true,
          valid: this.slice(0, frame.at), retracted: this.slice(frame.at),
        };
        // The server refuses deltas after a halt (send throws now): those still waiting never
        // leave. Their text stays in `text`, after `at`: retracted with the rest.
        this._link.dropDeltas(this);
        this._call("onHalt", this.halt);
        break;
      }
      case "done":
        // A done before this client's end (a drain's) forgot the stream: its deltas still
        // waiting would be refused unknown_stream.
        this._link.dropDeltas(this);
        this.done = {
          streamId: this.id, halted: frame.halted, chars: frame.chars, windows: frame.windows,
          cancelled: frame.cancelled === true, drained: frame.drained === true,
        };
        this._call("onDone", this.done);
        this._resolve(this.done);
        break;
      case "error": {
        const error = new StreamGuardError(frame.code, frame.message, frame.stream_id ?? null);
        if (!this._isStarted) {
          this._startedReject(error);
          return;
        }
        error.fatal = !BENIGN_ERRORS.has(frame.code);
        // An error no stream id names (say, a frame the server could not read) may be any
        // stream's: reported, but it fails none; the stream whose frame it was is told again
        // by name (bad_seq at its next delta).
        if (error.fatal && frame.stream_id != null && !this.done) {
          if (SERVER_ENDS.has(frame.code)) {
            // Not failed (a review: finished rejected, and a halt the drain's last check
            // found reached no one waiting on it): finished resolves with the done.
            error.fatal = false;
            if (!this.endedByServer) {
              this.endedByServer = error;
              this._link.dropDeltas(this);
            }
          } else {
            this._fail(error);
          }
        }
        this._call("onError", error);
        if (this.failed === error) this._reject(error);
        break;
      }
      default:
        break;
    }
  }

  /**
   * The server did not take a frame of this stream (a dropped or refused delta, end or cancel):
   * its text is no longer all checked, so `send` throws and `finished` rejects with `error`.
   * It is still open on the server: `end` and `cancel` may be called again (the one that was
   * dropped may have been theirs) to close it there.
   */
  _fail(error) {
    // The server refuses its later deltas bad_seq: those still waiting never leave.
    this._link.dropDeltas(this);
    this.failed ??= error;
    this.ended = false;
    this._cancelled = false;
  }

  _lose(error) {
    if (!this._isStarted) {
      this._startedReject(error);
      return;
    }
    if (this.done || this.lost) return;
    this.lost = error;
    this._call("onError", error);
    this._reject(error);
  }
}

/**
 * One WebSocket and the streams multiplexed on it.
 *
 * The server drops a message over the connection's rate (`rate_limited`), and the stream it was
 * for is no longer checked: a fast model sending a delta per token trips it. So frames are
 * paced here by a token bucket like the server's (`maxMessagesPerSecond`, `messageBurst`; null
 * rate: none), one token a frame. A frame without a token waits in the outbox, first in first
 * out, and goes when a token comes; a delta that waits takes in its stream's next ones, so a
 * stream sends one delta per token however many sends it gets, and text waits no longer than
 * the rate makes it.
 */
class Link {
  constructor(ws, maxMessagesPerSecond, messageBurst, keepalive = null) {
    this.ws = ws;
    this.streams = new Map();
    this.closed = null;
    // The client's close() closed it: its streams take no more text, though the socket's close
    // event (which loses them) comes later.
    this.closedByClient = false;
    this._pongs = [];
    this._ghosts = new Map(); // id -> cancelled starts whose frames are still to come
    this._rate = maxMessagesPerSecond;
    this._burst = messageBurst;
    this._tokens = messageBurst; // full, as the server's bucket starts
    this._refilled = performance.now();
    // Entries { frame, stream } not written yet; `stream` is set for a delta, whose seq is
    // taken when written. Never holds one without a timer set to write it.
    this._outbox = [];
    this._timer = null;
    ws.addEventListener("message", (event) => this._onMessage(event));
    ws.addEventListener("close", (event) => this._onClose(event.code, event.reason));
    this._keepalive = keepalive;
    this._heard = performance.now();
    this._probe = null; // when the keepalive's ping went out, while it waits for an answer
    this._asked = 0; // (moved on while the page's writes wait to go out; this one is not)
    this._watch = keepalive ? setInterval(() => this._checkAlive(), keepalive / 4) : null;
  }

  /**
   * With streams open (or a `ping()` waiting: a review saw one wait for ever on a stopped
   * server) and nothing heard for `keepalive` ms, ping; with nothing heard as long
   * again, the server is taken for gone (1006, retryable): a review stopped a server mid-answer
   * and the guarded text went on being shown, unchecked. Any frame heard counts as an answer
   * (a server working through this page's backlog sends its verdicts), and the wait counts
   * only while nothing this page wrote still waits to go out (the ping waits behind it), up to
   * UNREAD_KEEPALIVES keepalives of silence in all.
   */
  _checkAlive() {
    if (this.closed) return;
    const now = performance.now();
    if (this._probe !== null) {
      const unread = now - this._asked >= UNREAD_KEEPALIVES * this._keepalive;
      if ((this._outbox.length || this.ws.bufferedAmount > 0) && !unread) {
        this._probe = now; // still going out: the server cannot have answered yet
      } else if (now - this._probe >= this._keepalive || unread) {
        const reason = "keepalive ping timeout";
        try {
          this.ws.close(4000, reason);
        } catch (closing) {
          report(closing);
        }
        this._onClose(1006, reason);
      }
      return;
    }
    if ((this.streams.size || this._pongs.length) && now - this._heard >= this._keepalive) {
      this._probe = this._asked = now;
      this._pongs.push({ resolve() {}, reject() {} }); // answered in order, like ping()'s
      this.sendFrame({ type: "ping" });
    }
  }

  get alive() {
    return this.closed === null;
  }

  /**
   * Write `frame` now if the rate allows and nothing waits before it, else after what waits.
   * It is made JSON here, so a frame that cannot be throws to its caller, not later from the
   * timer (a review: that stalled every frame behind it). Returns the waiting entry (for
   * `withdraw`), or null when written.
   */
  sendFrame(frame) {
    const entry = { frame, data: JSON.stringify(frame), stream: null };
    return this._post(entry) ? null : entry;
  }

  /** Take a waiting entry back before it is written: true if it was still waiting. */
  withdraw(entry) {
    const at = this._outbox.indexOf(entry);
    if (at < 0) return false;
    this._outbox.splice(at, 1);
    return true;
  }

  /**
   * A delta of `stream`. One that has to wait joins the stream's delta already waiting while
   * both fit in one (the stream's delta size; send cut both at whole characters): it goes as
   * one frame, with one seq.
   */
  sendDelta(stream, text) {
    if (this.closed) throw this.closed;
    const waiting = stream._queued;
    if (waiting && waiting.frame.text.length + text.length <= stream._maxDelta) {
      waiting.frame.text += text;
      return;
    }
    const entry = { frame: { type: "delta", stream_id: stream.id, text }, stream };
    if (!this._post(entry)) stream._queued = entry;
  }

  /** Take `stream`'s deltas not written yet out of the outbox: they are never sent. */
  dropDeltas(stream) {
    // Entries are written in order: with its newest delta written, all of them are.
    if (stream._queued === null) return;
    stream._queued = null;
    this._outbox = this._outbox.filter((entry) => entry.stream !== stream);
  }

  /** Write `entry` at once (true) or queue it (false). */
  _post(entry) {
    if (this.closed) throw this.closed;
    if (this._outbox.length === 0 && this._take()) {
      this._write(entry);
      return true;
    }
    this._outbox.push(entry);
    this._schedule();
    return false;
  }

  _write({ frame, data, stream }) {
    if (stream) {
      // Numbered as written, not as sent: a delta that took in others is one number, and one
      // dropped from the outbox leaves no gap the server would refuse bad_seq.
      frame.seq = stream._seq++;
      if (stream._queued?.frame === frame) stream._queued = null;
    }
    this.ws.send(data ?? JSON.stringify(frame));
  }

  /** Whether a frame may be written now, spending the token if so. */
  _take() {
    if (this._rate === null) return true;
    const now = performance.now();
    this._tokens = Math.min(this._burst,
      this._tokens + (now - this._refilled) * this._rate / 1000);
    this._refilled = now;
    if (this._tokens < 1) return false;
    this._tokens -= 1;
    return true;
  }

  _flush() {
    this._timer = null;
    try {
      while (this._outbox.length && this._take()) this._write(this._outbox.shift());
    } finally {
      this._schedule(); // whatever a write did, what waits behind it keeps its timer
    }
  }

  _schedule() {
    if (this._timer !== null || this._outbox.length === 0) return;
    // Wake when the next token is due (the last _take just counted them), not before; at most
    // setTimeout's longest delay, past which it fires at once (a tiny rate woke it every ms).
    const wait = Math.min(Math.ceil((1 - this._tokens) * 1000 / this._rate), 2 ** 31 - 1);
    this._timer = setTimeout(() => this._flush(), wait);
  }

  /**
   * Cancel a start given up on while the server may take it (or has): else it holds a stream
   * slot and its id until the connection ends. Its frames still to come are dropped, not
   * taken for those of a new stream with its id (a start retried after a timeout, say).
   */
  cancelStart(id) {
    this.sendFrame({ type: "cancel", stream_id: id });
    this._ghosts.set(id, (this._ghosts.get(id) ?? 0) + 1);
  }

  _onMessage(event) {
    if (this.closed) return; // failed for an unreadable frame: what follows is not read either
    this._heard = performance.now();
    this._probe = null;
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch (error) {
      report(error);
      // Which stream's frame it was is unknown, and so whether any stream lost a frame: every
      // one on this connection is failed now, not when (or if) the close completes.
      try {
        this.ws.close(UNREADABLE_CLOSE, "unreadable frame");
      } catch (closing) {
        report(closing);
      }
      this._onClose(1002, "unreadable frame from the server");
      return;
    }
    if (frame.type === "pong") {
      this._pongs.shift()?.resolve();
      return;
    }
    if (frame.type === "error" && frame.stream_id == null) {
      if (frame.code === "rate_limited" && this._pongs.length) {
        // A dropped ping: the server names the stream of any other frame it drops, and
        // answers pings in order, so this is the oldest waiter's answer (no pong follows).
        this._pongs.shift().reject(new StreamGuardError(frame.code, frame.message));
        return;
      }
      // Not addressed: any started stream may have lost a message.
      for (const stream of this.streams.values()) if (stream._isStarted) stream._deliver(frame);
      return;
    }
    const ghosts = this._ghosts.get(frame.stream_id);
    if (ghosts) {
      // Frames of a cancelled start come before any of a new stream with its id (the cancel
      // went out first): they end with its done, or with the error answering the cancel when
      // the server no longer had it open.
      if (frame.type === "done" || (frame.type === "error" && CANCEL_ANSWERS.has(frame.code))) {
        if (ghosts === 1) this._ghosts.delete(frame.stream_id);
        else this._ghosts.set(frame.stream_id, ghosts - 1);
      }
      return;
    }
    const stream = this.streams.get(frame.stream_id);
    if (!stream) return; // a late frame for a stream this page already forgot
    const refused = frame.type === "error" && !stream._isStarted;
    stream._deliver(frame);
    if (refused || frame.type === "done") this.streams.delete(stream.id);
  }

  _onClose(code, reason) {
    if (this.closed) return;
    this.closed = new ConnectionClosedError(code, reason);
    clearInterval(this._watch);
    // What waits has no connection to go on: its streams and pings learn the loss below.
    clearTimeout(this._timer);
    this._timer = null;
    this._outbox = [];
    const streams = [...this.streams.values()];
    this.streams.clear();
    for (const stream of streams) {
      stream._lose(new ConnectionClosedError(code, reason, stream.id, stream._isStarted));
    }
    for (const pong of this._pongs.splice(0)) pong.reject(this.closed);
  }
}

/**
 * A connection to a stream-guard server, opened on demand and reopened (with backoff and a fresh
 * ticket) for new streams after it drops.
 *
 * Frames are paced to `maxMessagesPerSecond` per connection (bursts of `messageBurst`), under
 * the server's limit (1,000 a second, bursts of 2,000, by default), over which it drops a
 * stream's message and stops checking the stream. Frames over the pace wait, in order, and a
 * stream's deltas that wait go as one: a stream sending a token at a time sends fewer, larger
 * deltas under load. A `maxMessagesPerSecond` of null writes every frame at once.
 */
export class StreamGuard {
  /**
   * @param {import("./stream-guard").StreamGuardOptions} options
   */
  constructor({
    url, getTicket = null, backoff = DEFAULT_BACKOFF, maxDeltaChars = 8192,
    maxMessagesPerSecond = 900, messageBurst = 1000, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES,
    keepalive = DEFAULT_KEEPALIVE_MS,
    startTimeout = 10000, openTimeout = 10000, onConnectionChange = null,
    WebSocket: WS = globalThis.WebSocket,
  }) {
    if (typeof WS !== "function") {
      throw new TypeError("no WebSocket implementation: this runtime has no global WebSocket " +
        "(Node.js before 22 needs --experimental-websocket); pass one as the WebSocket option");
    }
    if (!Number.isInteger(maxDeltaChars) || maxDeltaChars < 1) {
      throw new RangeError(`maxDeltaChars must be a positive integer, got ${maxDeltaChars}`);
    }
    if (maxMessagesPerSecond !== null &&
        !(Number.isFinite(maxMessagesPerSecond) && maxMessagesPerSecond > 0)) {
      throw new RangeError("maxMessagesPerSecond must be a positive number or null, got " +
        `${maxMessagesPerSecond}`);
    }
    if (!Number.isInteger(messageBurst) || messageBurst < 1) {
      throw new RangeError(`messageBurst must be a positive integer, got ${messageBurst}`);
    }
    if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 1) {
      throw new RangeError(`maxFrameBytes must be a positive integer, got ${maxFrameBytes}`);
    }
    if (keepalive !== null && !(Number.isFinite(keepalive) && keepalive > 0)) {
      throw new RangeError(`keepalive must be a positive number of ms or null, got ${keepalive}`);
    }
    this.url = streamUrl(url);
    this.openTimeout = openTimeout;
    this.getTicket = getTicket;
    this.backoff = { ...DEFAULT_BACKOFF, ...backoff };
    this.maxDeltaChars = maxDeltaChars;
    this.maxMessagesPerSecond = maxMessagesPerSecond;
    this.messageBurst = messageBurst;
    this.maxFrameBytes = maxFrameBytes;
    this.keepalive = keepalive;
    this.startTimeout = startTimeout;
    this.onConnectionChange = onConnectionChange;
    /** How many connections this client has opened. */
    this.connectionsOpened = 0;
    this._WebSocket = WS;
    this._link = null;
    this._retired = new Set(); // draining connections with streams still on them
    // Connections that refused a stream for holding the server's cap of streams, with how many
    // they held then: a new stream goes to one of them again once one has ended.
    this._full = new Map();
    // The server's cap of streams a connection, once a refusal told it (the streams it had
    // started on that connection): starts past it go to another connection, not to the
    // server to be refused (a review: 150 concurrent starts sent hundreds of start frames).
    this._streamCap = null;
    this._connecting = null;
    this._closed = false;
    this._streamIds = 0;
  }

  get connected() {
    return this._link !== null && this._link.alive;
  }

  /** Open the connection now (`start` opens it on demand). */
  async connect() {
    await this._liveLink(backoffDelays(this.backoff));
  }

  /**
   * Open a stream and wait for the server to accept it. A refusal rejects with a
   * `StreamGuardError`; a connection that ends before `started` is replaced and the start
   * retried, and a start refused `overloaded` or `draining` is retried (on a new connection
   * when draining), within the backoff policy; one refused `too_many_streams` goes to another
   * connection at once. An invalid `streamId` is a RangeError, thrown before anything is sent.
   * `options.signal` (an `AbortSignal`, such as the one that stops the model's own request)
   * aborted before `started` rejects the start with its reason, wherever it waits (a
   * connection, a backoff, the server's answer; a start already sent is cancelled on the
   * server); aborted later, it cancels the stream.
   */
  async start(options = {}) {
    const id = options.streamId ?? globalThis.crypto?.randomUUID?.() ??
      `s${Date.now().toString(36)}${(this._streamIds++).toString(36)}`;
    // The server cannot name such an id in its refusal: the start would wait out its timeout.
    if (typeof id !== "string") throw new TypeError(`streamId must be a string, got ${typeof id}`);
    if (!id || [...id].length > MAX_STREAM_ID || UNPRINTABLE.test(id)) {
      throw new RangeError(`streamId must be 1 to ${MAX_STREAM_ID} printable characters`);
    }
    const frame = { type: "start", stream_id: id };
    if (options.context !== undefined) frame.context = options.context;
    if (options.collection !== undefined) frame.collection = options.collection;
    if (options.prompt !== undefined) frame.prompt = options.prompt;
    const opts = {};
    if (options.mode && options.mode !== "observe") opts.mode = options.mode;
    if (options.threshold !== undefined && options.threshold !== null) {
      opts.threshold = options.threshold;
    }
    if (options.verdicts === false) opts.verdicts = false;
    if (Object.keys(opts).length) frame.options = opts;
    const size = new TextEncoder().encode(JSON.stringify(frame)).length;
    if (size > this.maxFrameBytes) {
      // Sent, the server would close the connection (1009) under every stream on it, a strike
      // toward this address's abuse penalty.
      throw new StreamGuardError("frame_too_large", `the start frame is ${size} bytes, over ` +
        `the server's limit of ${this.maxFrameBytes} (maxFrameBytes); it was not sent: send ` +
        "less context, or index it as a collection (stream-guard index add) and name that", id);
    }

    const signal = options.signal ?? null;
    signal?.throwIfAborted();
    const delays = backoffDelays(this.backoff);
    let tooBig = 0;
    for (;;) {
      const link = this._linkWithRoom() ?? await unlessAborted(this._liveLink(delays), signal);
      if (this._streamCap !== null && link.streams.size >= this._streamCap) {
        // full by the cap a refusal told (checked here, where _open registers the stream
        // before anything else runs): another connection, before anything is sent
        this._full.set(link, this._streamCap);
        if (this._link === link) this._link = null;
        continue;
      }
      try {
        return await this._open(link, frame, options);
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        const refusal = error instanceof StreamGuardError ? error.code : null;
        if (refusal === "too_many_streams") {
          // This connection holds the server's cap of streams: new streams go to another
          // connection, and to this one again once one of its streams has ended.
          // with the starts cancelled here whose done has not come: the server may still
          // count them (without, a cap learnt one short never rose again: a review)
          let started = 0;
          for (const stream of link.streams.values()) if (stream._isStarted) started += 1;
          for (const count of link._ghosts.values()) started += count;
          this._streamCap = Math.max(1, started);
          this._full.set(link, this._streamCap);
          if (this._link === link) this._link = null;
          continue;
        }
        if (refusal === "overloaded") {
          // No new stream until the server's load falls (the connection is fine): the same
          // start after a backoff; this refusal itself once the policy's attempts are spent.
          await this._pause(delays, error, true, signal);
          continue;
        }
        if (refusal === "draining") {
          // The server is shutting down: start elsewhere. Its connection stays open for the
          // streams already on it, which the drain lets finish (the server then closes it).
          this._retire(link);
        } else if (!(error instanceof ConnectionClosedError) || !RETRYABLE_CLOSE.has(error.code)) {
          throw error;
        } else if (error.code === 1009 && (tooBig += error.reason === BUDGET_SPENT ? 1 : 2) > 1) {
          // 1009 is a spent character budget (a new connection resets it) or this start frame
          // over the server's size limit, told apart by the close reason: the frame would be
          // refused again, each time a strike toward this address's abuse penalty (the Python
          // client does the same). A budget spent once more on a new connection is this start's too.
          throw error;
        }
        await this._pause(delays, error, false, signal);
      }
    }
  }

  async _open(link, frame, options) {
    const id = frame.stream_id;
    if (link.streams.has(id)) {
      throw new StreamGuardError("duplicate_stream", `stream ${id} is already open`, id);
    }
    const stream = new GuardStream(link, id, options,
      deltaChars(id, this.maxDeltaChars, this.maxFrameBytes));
    link.streams.set(id, stream);
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new StartTimeoutError(`no answer to start within ${this.startTimeout} ms`)),
        this.startTimeout);
    });
    let waiting = null;
    let posted = false; // a frame that cannot be made JSON is never posted, nor cancelled
    try {
      waiting = link.sendFrame(frame);
      posted = true;
      await unlessAborted(Promise.race([stream.started, timeout]), options.signal);
    } catch (error) {
      if (link.streams.get(id) === stream) {
        link.streams.delete(id);
        // A start still waiting for the rate is taken back: the server never saw it, and a
        // cancel would only cost two messages (a review). One written may be taken there.
        const withdrawn = waiting !== null && link.withdraw(waiting);
        if (posted && !withdrawn && link.alive && !(error instanceof StreamGuardError)) {
          link.cancelStart(id);
        }
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
    const signal = options.signal;
    if (signal) {
      const cancel = () => stream.cancel();
      signal.addEventListener("abort", cancel, { once: true });
      if (signal.aborted) cancel(); // aborted between `started` and here
      // A signal that outlives the stream (one per chat session, say) must not keep it.
      stream.finished.finally(() => signal.removeEventListener("abort", cancel)).catch(() => {});
    }
    return stream;
  }

  /**
   * Protocol round trip in milliseconds, any wait for the message rate included. A ping the
   * server dropped for the connection's rate rejects with a `StreamGuardError` `rate_limited`
   * (retryable).
   */
  async ping() {
    const link = await this._liveLink(backoffDelays(this.backoff));
    const began = performance.now();
    await new Promise((resolve, reject) => {
      // Waiters line up as their pings are written (the outbox keeps the order of frames),
      // which is the order the server answers them in.
      link._pongs.push({ resolve, reject });
      link.sendFrame({ type: "ping" });
    });
    return performance.now() - began;
  }

  /** Close the connection; streams still open end with a `ConnectionClosedError`. */
  close() {
    this._closed = true;
    for (const link of [...this._retired, ...this._full.keys(), this._link]) {
      if (!link) continue;
      link.closedByClient = true;
      link.ws.close(1000, "client closed");
    }
    this._retired.clear();
    this._full.clear();
  }

  /** A connection that was full and has had a stream end since, if there is one. */
  _linkWithRoom() {
    for (const [link, held] of this._full) {
      if (!link.alive) this._full.delete(link);
      else if (link.streams.size < held) return link;
    }
    return null;
  }

  _retire(link) {
    if (this._link === link) this._link = null;
    this._full.delete(link);
    for (const old of this._retired) if (!old.alive) this._retired.delete(old);
    if (link.alive) this._retired.add(link);
  }

  async _liveLink(delays) {
    if (this._closed) throw closedClient();
    if (this.connected) return this._link;
    // One connection attempt at a time, however many streams are starting.
    this._connecting ??= this._reconnect(delays).finally(() => {
      this._connecting = null;
    });
    return this._connecting;
  }

  async _reconnect(delays) {
    // The attempts end by openTimeout plus the policy's longest wait after the first began.
    const deadline = performance.now() + this.openTimeout + longestWait(this.backoff);
    const left = () => Math.min(this.openTimeout, deadline - performance.now());
    for (;;) {
      if (this._closed) throw closedClient(); // close() ran during the backoff's pause
      this._notify("connecting");
      let ws;
      try {
        const url = this.getTicket ? withTicket(this.url, await this._ticket(left())) : this.url;
        ws = await this._openSocket(url, left());
      } catch (error) {
        this._notify("closed");
        if (error instanceof HandshakeError && !error.retryable) throw error;
        if (error instanceof NoTicketError) throw error;
        await this._pause(delays, error, false, null, deadline);
        continue;
      }
      if (this._closed) {
        // close() ran while this connection was opening: it must not outlive the client.
        ws.close(1000, "client closed");
        this._notify("closed");
        throw closedClient();
      }
      const link = new Link(ws, this.maxMessagesPerSecond,
        this.messageBurst, this.keepalive);
      this._link = link;
      this.connectionsOpened += 1;
      this._notify("open");
      // A retired (draining) or full connection closes after its replacement opened: not news.
      ws.addEventListener("close", () => {
        if (this._link === link) this._notify("closed");
      });
      return link;
    }
  }

  /**
   * A ticket from `getTicket`, within `openTimeout`: a ticket endpoint that never answers is a
   * failed connection attempt (retried with backoff), not a start that waits for ever.
   */
  _ticket(ms = this.openTimeout) {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new ConnectionClosedError(1006,
        `no ticket from getTicket within ${Math.round(ms)} ms`)), Math.max(0, ms));
    });
    const ticket = Promise.resolve().then(() => this.getTicket());
    ticket.catch(() => {}); // a late refusal, after the timeout, is nobody's
    return Promise.race([ticket, timeout]).finally(() => clearTimeout(timer));
  }

  _openSocket(url, ms = this.openTimeout) {
    return new Promise((resolve, reject) => {
      const ws = new this._WebSocket(url);
      let settled = false;
      const settle = (error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        ws.removeEventListener("close", fail);
        ws.removeEventListener("error", fail);
        if (error === null) {
          resolve(ws);
        } else {
          reject(error);
          try { ws.close(); } catch { /* already closing */ }
        }
      };
      // Browsers do not say why a handshake failed (a 401 looks like a network error), and
      // some runtimes (Node's WebSocket) fire only "error" for it, never "close".
      const fail = (event) => settle(new ConnectionClosedError(event?.code ?? 1006,
        event?.reason ?? ""));
      const timer = setTimeout(() => settle(new ConnectionClosedError(1006,
        `no connection within ${Math.round(ms)} ms`)), Math.max(0, ms));
      ws.addEventListener("close", fail);
      ws.addEventListener("error", fail);
      ws.addEventListener("open", () => settle(null), { once: true });
    });
  }

  /**
   * The next backoff delay, never less than the server's Retry-After. When the policy's
   * attempts are spent, or the delay would end past the `deadline` of connection attempts
   * (performance.now()): a ConnectError, or `cause` itself (`giveUpWithCause`: a refusal the
   * connection did not cause, such as `overloaded`).
   */
  async _pause(delays, cause, giveUpWithCause = false, signal = null, deadline = null) {
    const next = delays.next();
    if (next.done) {
      if (giveUpWithCause) throw cause;
      throw new ConnectError(`giving up after ${this.backoff.attempts} attempts: ${cause.message}`,
        cause);
    }
    const floor = cause instanceof HandshakeError && cause.retryAfter ? 1000 * cause.retryAfter
      : 0;
    const delay = Math.max(next.value, floor);
    if (deadline !== null && performance.now() + delay >= deadline) {
      throw new ConnectError("giving up: no connection within the backoff policy's time "
        + `(openTimeout and its longest wait): ${cause.message}`, cause);
    }
    await sleep(delay, signal);
  }

  _notify(state) {
    if (typeof this.onConnectionChange === "function") {
      try {
        this.onConnectionChange(state);
      } catch (error) {
        report(error);
      }
    }
  }
}

export default StreamGuard;
