// Opening the user's browser. `BROWSER`, when set, names the command to run
// (`%s` stands for the URL, else the URL is appended), as many Unix tools
// honour it; otherwise the platform's opener is used through `open`.
// An opener that fails at once (such as `xdg-open` on a machine without a
// desktop, which exits 3) counts as no browser, so the caller says so.
import { spawn, type ChildProcess } from 'node:child_process';

/** How long an opener may take to fail before it counts as started. */
export const OPENER_GRACE_MS = 1000;

/** The words of a `BROWSER` entry; no shell quoting, as other tools that read it do. */
function splitCommand(command: string): string[] {
  return command.trim().split(/\s+/).filter(Boolean);
}

/**
 * Resolves true when `child` is still running after the grace time or left
 * with exit code 0 before it; false when it could not start or exited
 * non-zero (or on a signal) within it.
 */
export function openerOutcome(child: ChildProcess, graceMs = OPENER_GRACE_MS): Promise<boolean> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.unref();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(child.pid !== undefined && child.exitCode === null ? true : child.exitCode === 0), graceMs);
    timer.unref();
    child.once('error', () => finish(false));
    child.once('exit', (code) => finish(code === 0));
    if (child.exitCode !== null) finish(child.exitCode === 0);
  });
}

/** Starts one `BROWSER` command detached, so the browser outlives a short-lived program; true unless it failed. */
function runBrowserCommand(command: string, url: string): Promise<boolean> {
  const words = splitCommand(command);
  if (words.length === 0) return Promise.resolve(false);
  const args = words.slice(1);
  const hasPlaceholder = args.some((a) => a.includes('%s'));
  const finalArgs = hasPlaceholder ? args.map((a) => a.replace(/%s/g, url)) : [...args, url];
  const child = spawn(words[0]!, finalArgs, { stdio: 'ignore', detached: true, env: process.env });
  return openerOutcome(child);
}

/**
 * Tries to show `url` in a browser: each command listed in `BROWSER`
 * (separated by `:`) in turn, else the platform's opener. Resolves within
 * about a second, false (and never rejects) when no browser could be
 * started or the opener failed, so the caller can tell the user.
 */
export async function openBrowser(url: string): Promise<boolean> {
  const fromEnv = process.env['BROWSER'];
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    for (const command of fromEnv.split(':')) {
      if (await runBrowserCommand(command, url)) return true;
    }
    return false;
  }
  try {
    const { default: open } = await import('open');
    const child = await open(url, { wait: false });
    return await openerOutcome(child);
  } catch {
    return false;
  }
}
