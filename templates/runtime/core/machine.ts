// The session's states and the events that move it between them, as plain
// data. The transition table is the whole of the state machine: the engine
// (engine.ts) only ever changes state through `next`, the simulator checks
// every step against it, and the docs page draws its diagram from it.
import { REFRESH_AT_LIFETIME_SHARE } from '../token.js';

/** Where a session stands. */
export type SessionState =
  /** No tokens known (never logged in, logged out, or storage not read yet). */
  | 'none'
  /** A token that is handed out without any check until its refresh time (3/4 of its lifetime). */
  | 'fresh'
  /** Past its refresh time, or expired: handed out while still valid, refreshed in the background or before use. */
  | 'due'
  /** A turn is held and the token endpoint is being asked. */
  | 'refreshing'
  /** The API rejected the current token (HTTP 401): the next use refreshes it. */
  | 'rejected'
  /** New tokens that storage has not taken yet: the turn stays held and the write is tried again until it lands. */
  | 'unsaved'
  /** The server refused the refresh token for good: calls fail fast until a login or newer tokens in storage. */
  | 'ended';

/** What happens to a session. */
export type SessionEvent =
  | 'found-fresh'
  | 'found-due'
  | 'found-nothing'
  | 'refresh-time'
  | 'request-sent'
  | 'tokens-saved'
  | 'tokens-unsaved'
  | 'save-landed'
  | 'superseded'
  | 'request-failed'
  | 'grant-ended'
  | 'api-rejected'
  | 'logged-in'
  | 'logged-out';

/** Every allowed transition: state -> event -> next state. Anything not listed is a bug in the engine. */
export const TRANSITIONS: { readonly [S in SessionState]: { readonly [E in SessionEvent]?: SessionState } } = {
  none: { 'found-fresh': 'fresh', 'found-due': 'due', 'found-nothing': 'none', 'request-sent': 'refreshing', 'logged-in': 'fresh', 'tokens-unsaved': 'unsaved', 'logged-out': 'none' },
  fresh: { 'refresh-time': 'due', 'api-rejected': 'rejected', 'found-fresh': 'fresh', 'found-due': 'due', 'found-nothing': 'none', 'logged-in': 'fresh', 'tokens-unsaved': 'unsaved', 'logged-out': 'none' },
  due: { 'request-sent': 'refreshing', 'api-rejected': 'rejected', 'found-fresh': 'fresh', 'found-due': 'due', 'found-nothing': 'none', 'logged-in': 'fresh', 'tokens-unsaved': 'unsaved', 'logged-out': 'none' },
  refreshing: { 'save-landed': 'refreshing', 'tokens-saved': 'fresh', 'tokens-unsaved': 'unsaved', superseded: 'fresh', 'request-failed': 'due', 'grant-ended': 'ended', 'logged-out': 'none' },
  rejected: { superseded: 'fresh', 'request-sent': 'refreshing', 'found-fresh': 'fresh', 'found-due': 'due', 'found-nothing': 'none', 'logged-in': 'fresh', 'tokens-unsaved': 'unsaved', 'logged-out': 'none' },
  unsaved: { 'save-landed': 'fresh', superseded: 'fresh', 'request-sent': 'refreshing', 'api-rejected': 'unsaved', 'logged-in': 'fresh', 'tokens-unsaved': 'unsaved', 'logged-out': 'none' },
  ended: { 'found-fresh': 'fresh', 'found-due': 'due', 'found-nothing': 'ended', 'logged-in': 'fresh', 'tokens-unsaved': 'unsaved', 'logged-out': 'none' },
};

/** The state after `event` in `state`, or undefined when the table does not allow it. */
export function next(state: SessionState, event: SessionEvent): SessionState | undefined {
  return TRANSITIONS[state][event];
}

/** The table as a Mermaid state diagram (the docs page shows it). */
export function mermaidDiagram(): string {
  const lines = ['stateDiagram-v2', '    [*] --> none'];
  for (const [from, events] of Object.entries(TRANSITIONS)) {
    const byTarget = new Map<string, string[]>();
    for (const [event, to] of Object.entries(events)) {
      if (to === from) continue;
      byTarget.set(to, [...(byTarget.get(to) ?? []), event]);
    }
    for (const [to, names] of byTarget) lines.push(`    ${from} --> ${to}: ${names.join(', ')}`);
  }
  return lines.join('\n');
}

/** A token as the engine holds it: times on the monotonic clock of this process. */
export interface HeldToken<File> {
  readonly accessToken: string;
  /** Monotonic ms at which it becomes due for refresh (Infinity when nothing states its lifetime). */
  readonly refreshAt: number;
  /** Monotonic ms at which it expires (Infinity when unknown). */
  readonly expiresAt: number;
  readonly file: File;
}

/**
 * Times of a token, counted from `sentAt` (monotonic ms when its request
 * was sent, so a slow answer shortens it rather than stretching it).
 */
export function tokenTimes(sentAt: number, lifetimeSeconds: number | undefined): { refreshAt: number; expiresAt: number } {
  if (lifetimeSeconds === undefined) return { refreshAt: Infinity, expiresAt: Infinity };
  return { refreshAt: sentAt + lifetimeSeconds * 1000 * REFRESH_AT_LIFETIME_SHARE, expiresAt: sentAt + lifetimeSeconds * 1000 };
}

/**
 * Times of a persisted token (`_iat`/`_exp`, wall-clock seconds) on this
 * process's monotonic clock. A token issued after `wallNow` means the wall
 * clock stepped back since: how long ago it really was is unknown, so it
 * counts as expired rather than as valid for longer.
 */
export function storedTimes(iat: number | undefined, exp: number | undefined, wallNow: number, monoNow: number): { refreshAt: number; expiresAt: number } {
  if (exp === undefined) return { refreshAt: Infinity, expiresAt: Infinity };
  const issued = iat !== undefined && iat <= exp ? iat : exp;
  if (issued * 1000 > wallNow + 1000) return { refreshAt: monoNow - 1, expiresAt: monoNow - 1 };
  const refreshWall = (issued + (exp - issued) * REFRESH_AT_LIFETIME_SHARE) * 1000;
  return { refreshAt: monoNow + (refreshWall - wallNow), expiresAt: monoNow + (exp * 1000 - wallNow) };
}

/** Margin before the real expiry at which a token counts as expired: 10 s, less for short-lived tokens. */
export function expiryMargin(token: { refreshAt: number; expiresAt: number }): number {
  if (!Number.isFinite(token.expiresAt)) return 0;
  return Math.min(10_000, Math.max(0, (token.expiresAt - token.refreshAt) * 0.4));
}

/** Whether `token` may still be handed to a caller at monotonic time `now`. */
export function handable(token: { accessToken: string; refreshAt: number; expiresAt: number }, now: number): boolean {
  return token.accessToken !== '' && now < token.expiresAt - expiryMargin(token);
}
