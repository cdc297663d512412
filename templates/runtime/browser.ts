// Opening the user's browser. `BROWSER`, when set, names the command to run
// (`%s` stands for the URL, else the URL is appended), as many Unix tools
// honour it; otherwise the platform's opener is used through `open`.
import { spawn } from 'node:child_process';

/** The words of a `BROWSER` entry; no shell quoting, as other tools that read it do. */
function splitCommand(command: string): string[] {
  return command.trim().split(/\s+/).filter(Boolean);
}

/** Starts one `BROWSER` command detached, so the browser outlives a short-lived program; true once it started. */
function runBrowserCommand(command: string, url: string): Promise<boolean> {
  const words = splitCommand(command);
  if (words.length === 0) return Promise.resolve(false);
  const args = words.slice(1);
  const hasPlaceholder = args.some((a) => a.includes('%s'));
  const finalArgs = hasPlaceholder ? args.map((a) => a.replace(/%s/g, url)) : [...args, url];
  return new Promise((resolve) => {
    const child = spawn(words[0]!, finalArgs, { stdio: 'ignore', detached: true, env: process.env });
    child.once('error', () => resolve(false));
    child.once('spawn', () => {
      child.unref();
      resolve(true);
    });
  });
}

/**
 * Tries to show `url` in a browser: each command listed in `BROWSER`
 * (separated by `:`) in turn, else the platform's opener. Resolves false,
 * and never rejects, when no browser could be started, so the caller can
 * print the URL for the user to open instead.
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
    return await new Promise<boolean>((resolve) => {
      child.once('error', () => resolve(false));
      child.once('spawn', () => resolve(true));
      setTimeout(() => resolve(child.pid !== undefined), 1000).unref();
    });
  } catch {
    return false;
  }
}
