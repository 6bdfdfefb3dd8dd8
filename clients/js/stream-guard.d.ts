// Type declarations for stream-guard.js (protocol v1). Offsets are Unicode code points.

export type Mode = "observe" | "holdback";
export type Label = "supported" | "unsupported" | "contradicted";
export type HaltReason = "contradicted" | "unsupported" | "unsupported_run" | "unchecked" |
  "operator";
export type ConnectionState = "connecting" | "open" | "closed";

export interface EvidenceItem {
  id: string;
  text: string;
  score: number;
}

/** A string, or an item with its own id: 1 to 128 printable characters, or an integer. */
export type ContextItem = string | { id?: string | number; text: string };

export interface Verdict {
  streamId: string;
  start: number;
  end: number;
  score: number;
  label: Label;
  evidence: EvidenceItem[];
  /** The window's text. */
  text: string;
  /** True when the server, overloaded, scored this window with its lexical tier only. */
  degraded: boolean;
}

export interface Halt {
  streamId: string;
  /** Everything from this offset on must be retracted (observe) or never shown (holdback). */
  at: number;
  /** The first unverified window's text. */
  text: string;
  reason: HaltReason;
  /** null for an operator halt. */
  score: number | null;
  evidence: EvidenceItem[];
  /** The window whose verdict triggered the halt; null for an operator halt. */
  window: { start: number; end: number } | null;
  /** True when the halting verdict came from the lexical tier only (server overloaded). */
  degraded: boolean;
  /** The stream's text before `at`: still valid. */
  valid: string;
  /** The stream's text from `at` on, as sent so far: to be taken back. */
  retracted: string;
}

export interface Done {
  streamId: string;
  halted: boolean;
  chars: number;
  windows: number;
  cancelled: boolean;
  /** Ended by the server's shutdown: the output was not fully checked; start it again. */
  drained: boolean;
}

export interface Backoff {
  /** Upper bound of the first delay, ms. */
  initial: number;
  /** Largest delay bound, ms. */
  maximum: number;
  factor: number;
  /** Connection attempts per call, the first included (made within `openTimeout` plus
   *  `longestWait` of the first). */
  attempts: number;
}

export interface StreamCallbacks {
  onStarted?(info: { streamId: string }): void;
  onVerdict?(verdict: Verdict): void;
  /** Holdback: text before `upto` is verified; `text` is the newly released slice. */
  onRelease?(upto: number, text: string): void;
  onHalt?(halt: Halt): void;
  onDone?(done: Done): void;
  /** Error frames (`StreamGuardError`, `fatal` false for `internal`/`stream_halted`) and a
   *  lost connection (`ConnectionClosedError`). */
  onError?(error: StreamGuardError | ConnectionClosedError): void;
}

export interface StartOptions extends StreamCallbacks {
  /** 1 to 128 printable characters (code points), else `start` rejects with a RangeError;
   *  defaults to a random UUID. */
  streamId?: string;
  context?: ContextItem[];
  collection?: string;
  prompt?: string;
  mode?: Mode;
  threshold?: number | null;
  verdicts?: boolean;
  /** Aborted before `started`, the start rejects with the signal's reason wherever it waits
   *  (a connection, a backoff, the server's answer; a start already sent is cancelled on the
   *  server); aborted later, it cancels the stream. Pass the signal that stops the model's own
   *  request, and one abort stops both. */
  signal?: AbortSignal;
}

export interface StreamGuardOptions {
  /** ws(s)://host:port (with or without /v1/stream); http(s) URLs are converted. */
  url: string;
  /** Asked for a fresh single-use ticket on every connection attempt; omit for a dev server
   *  running with auth_disabled. */
  getTicket?: (() => Promise<string>) | null;
  backoff?: Partial<Backoff>;
  /** Longer sends are split into several deltas (the server limits frame size); a positive
   *  integer, in UTF-16 code units (a surrogate pair is never split). */
  maxDeltaChars?: number;
  /** Frames written per second on a connection (900), under the server's `rate_per_s` (1000
   *  by default), over which it drops a frame and the stream it was for is no longer checked.
   *  Frames over it wait in order, a stream's waiting deltas joined into one (up to
   *  `maxDeltaChars`); every frame counts (start, delta, end, cancel, ping). A positive
   *  finite number, or null to write every frame at once. */
  maxMessagesPerSecond?: number | null;
  /** Frames a connection may write at once before `maxMessagesPerSecond` paces them (1000,
   *  under the server's `rate_burst`); a positive integer. */
  messageBurst?: number;
  /** The server's `max_frame_bytes` (65536, its default): a `start` frame over it is refused
   *  with a `StreamGuardError` `frame_too_large` before it is sent, and deltas are cut to fit
   *  it (and `maxDeltaChars`) whatever their characters. */
  maxFrameBytes?: number;
  /** With streams open (or a `ping()` waiting) and nothing heard from the server for this many ms (5000), a protocol
   *  ping goes out; with nothing heard as long again (no pong, no frame), the connection is
   *  given up (`ConnectionClosedError` 1006, "keepalive ping timeout"). null sends none. */
  keepalive?: number | null;
  /** ms to wait for `started`. */
  startTimeout?: number;
  /** Milliseconds to wait for a connection to open before it counts as failed (10000); a
   *  `getTicket` that has not answered within it counts as a failed attempt too (retried).
   *  The attempts end by `openTimeout` plus the backoff's `longestWait` after the first
   *  began (41 s with the defaults, against a server that accepts no connection). */
  openTimeout?: number;
  onConnectionChange?: ((state: ConnectionState) => void) | null;
  /** A WebSocket implementation (defaults to globalThis.WebSocket). */
  WebSocket?: typeof WebSocket;
}

export class StreamGuardError extends Error {
  constructor(code: string, message: string, streamId?: string | null);
  readonly code: string;
  readonly streamId: string | null;
  /** `rate_limited`, `overloaded` and `draining`: the same request may succeed after a
   *  backoff (`draining`: on a new connection, which `start` opens by itself). */
  readonly retryable: boolean;
  /** Set on errors delivered to onError: false when the stream goes on regardless (and for
   *  `draining` or `budget_exceeded` naming it: the server ends it, `GuardStream.endedByServer`).
   *  True for any other: when it names the stream, a frame of it was not taken and the stream
   *  failed (`GuardStream.failed`). */
  fatal?: boolean;
}

/** `retryable` by the close code: 1000, 1001, 1006, 1009, 1011, 1012, 1013. */
export class ConnectionClosedError extends Error {
  /** `started`: the server had taken the stream's start (the message says "lost" only then). */
  constructor(code: number, reason: string, streamId?: string | null, started?: boolean);
  readonly code: number;
  readonly reason: string;
  readonly streamId: string | null;
  readonly retryable: boolean;
}

/** A use of a stream already ended, cancelled or done, or of a `StreamGuard` after `close()`. */
export class StreamClosedError extends Error {
  constructor(message: string);
  readonly retryable: false;
}

/** No `started` within `startTimeout` ms (the start is cancelled on the server). */
export class StartTimeoutError extends Error {
  constructor(message: string);
  readonly retryable: false;
}

/**
 * No connection within the backoff policy. `retryable` when the last failure (`cause`) said
 * "not now": a close 1013, a start refused `draining`, or a `HandshakeError` 429 or 503 from
 * `getTicket` (a browser shows a refused upgrade as a close 1006: not retryable).
 */
export class ConnectError extends Error {
  constructor(message: string, cause?: unknown);
  readonly retryable: boolean;
}

/** Every HTTP status a refused upgrade can answer, and whether retrying may help. */
export const HANDSHAKE_STATUSES: Readonly<Record<number, boolean>>;

/** A refused upgrade or ticket request; throw it from `getTicket` to stop (or pace) retries. */
export class HandshakeError extends Error {
  constructor(status: number, message?: string, retryAfter?: number | null);
  readonly status: number;
  readonly retryable: boolean;
  /** Seconds from Retry-After, when the server sent it. */
  readonly retryAfter: number | null;
}

export function backoffDelays(backoff?: Backoff): Generator<number, void, unknown>;
/** The most `backoffDelays` wait in all, ms (31300 for the defaults): connecting gives up once
 *  `openTimeout` plus this has passed since its first attempt. */
export function longestWait(backoff?: Backoff): number;

export class GuardStream {
  readonly id: string;
  readonly mode: Mode;
  /** Everything sent so far, as given to `send`: also text still waiting to be written for
   *  `maxMessagesPerSecond`, so the server's offsets always index into it. Waiting text a
   *  halt, cancel or lost connection kept from being written stays here, after every offset
   *  the server reports (`Halt.retracted` includes it). */
  readonly text: string;
  /** Code points sent so far (of `text`); `Done.chars` counts those the server took. */
  readonly chars: number;
  /** Holdback: text before this offset is verified. */
  readonly released: number;
  readonly halt: Halt | null;
  readonly done: Done | null;
  readonly ended: boolean;
  readonly lost: ConnectionClosedError | null;
  /** The fatal error that failed the stream: the server did not take a frame of it (dropped
   *  `rate_limited`, refused `bad_seq`, `bad_frame`, ...), so its text is not all checked.
   *  `send` then throws it; `end` and `cancel` may be called (again) to close the stream on
   *  the server, and both cancel it. Not `draining` or `budget_exceeded`: the server ends the
   *  stream itself and checks what it took (`endedByServer`). */
  readonly failed: StreamGuardError | null;
  /** The error (`draining` or `budget_exceeded`) that said the server ends the stream itself:
   *  sends throw it, `end` does nothing, and `finished` resolves with its done (drained), after
   *  the verdicts and any halt its last check finds. */
  readonly endedByServer: StreamGuardError | null;
  /** Resolves with `done`; rejects with a ConnectionClosedError if the connection is lost, or
   *  with the StreamGuardError that failed the stream (never a `done` over unchecked text). */
  readonly finished: Promise<Done>;
  /** The stream's text between two code-point offsets. */
  slice(start: number, end?: number): string;
  /** Send the next piece of output. Throws once halted, ended, done, lost or failed, or once
   *  its `StreamGuard` is closed (`StreamClosedError`), and a TypeError when `text` is not a
   *  string. Lone surrogates are sent as U+FFFD (a trailing
   *  high one waits for its pair in the next piece). Over `maxMessagesPerSecond` the piece
   *  waits, joined to the stream's pieces waiting before it, and goes before its `end`. */
  send(text: string): void;
  /** The output is complete. Throws once ended (unless failed since) or lost, or once its
   *  `StreamGuard` is closed. */
  end(): void;
  /** Abandon the stream, also after `end` until `done`; does nothing once done, lost or
   *  cancelled. Its pieces still waiting for `maxMessagesPerSecond` are not sent. */
  cancel(): void;
}

export class StreamGuard {
  constructor(options: StreamGuardOptions);
  readonly url: string;
  readonly connected: boolean;
  readonly connectionsOpened: number;
  connect(): Promise<void>;
  /** Resolves once the server accepted the stream. Retried within the backoff policy: a
   *  connection lost first, a refusal `overloaded` (given up with that error) or `draining`
   *  (on a new connection). A refusal `too_many_streams` opens another connection at once; a
   *  close 1009 for a frame too large rejects with it at once (the start frame is over the
   *  server's size limit), one for a spent character budget is retried once on a new
   *  connection. */
  start(options?: StartOptions): Promise<GuardStream>;
  /** Protocol round trip, ms, any wait for `maxMessagesPerSecond` included. Rejects with a
   *  `StreamGuardError` `rate_limited` when the server dropped the ping for the connection's
   *  message rate. */
  ping(): Promise<number>;
  close(): void;
}

export default StreamGuard;
