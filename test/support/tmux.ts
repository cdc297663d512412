// A real terminal for the CLI: a tmux server of its own (own socket), one
// pane running the command. The screen is read with capture-pane; every byte
// the command wrote is kept with pipe-pane, to check for escape sequences.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_BIN } from './cli.js';

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export class TerminalRun {
  readonly #socket: string;
  readonly #log: string;

  private constructor(socket: string, log: string) {
    this.#socket = socket;
    this.#log = log;
  }

  /**
   * Starts `planet-auth <args>` in a 160x50 terminal with exactly `env` (plus
   * PATH). The pane stays open after the command exits and shows its exit code.
   */
  static start(args: string[], env: Record<string, string>): TerminalRun {
    const dir = mkdtempSync(join(tmpdir(), 'planet-tmux-'));
    const log = join(dir, 'output.log');
    writeFileSync(log, '');
    const assignments = Object.entries({ PATH: process.env['PATH'] ?? '', ...env }).map(([k, v]) => `${k}=${quote(v)}`);
    // The command waits for a line on its terminal first, so that pipe-pane records from its first byte.
    const script = `read _go; exec env -i ${assignments.join(' ')} ${quote(process.execPath)} ${quote(CLI_BIN)} ${args.map(quote).join(' ')}`;
    const run = new TerminalRun(`planet-test-${process.pid}-${Math.random().toString(36).slice(2)}`, log);
    run.#tmux('-f', '/dev/null', 'new-session', '-d', '-s', 'cli', '-x', '160', '-y', '50', `sh -c ${quote(`${script}`)}; echo "[exit $?]"; read _done`);
    run.#tmux('set-option', '-t', 'cli', 'remain-on-exit', 'on');
    run.#tmux('pipe-pane', '-t', 'cli', '-o', `cat >> ${quote(log)}`);
    run.keys('Enter');
    return run;
  }

  #tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.#socket, ...args], { encoding: 'utf8' });
  }

  /** The visible screen, wrapped lines joined, trailing blanks trimmed. */
  screen(): string {
    return this.#tmux('capture-pane', '-p', '-J', '-t', 'cli').replace(/\s+$/, '');
  }

  /** Every byte the command wrote to the terminal so far. */
  output(): string {
    return readFileSync(this.#log, 'utf8');
  }

  keys(...keys: string[]): void {
    this.#tmux('send-keys', '-t', 'cli', ...keys);
  }

  /** Types `text` literally. */
  type(text: string): void {
    this.#tmux('send-keys', '-t', 'cli', '-l', text);
  }

  /** Polls the screen until `test` accepts it (at most 600 looks, 50 ms apart); returns the screen. */
  async waitFor(what: string, test: (screen: string) => boolean): Promise<string> {
    let screen = '';
    for (let i = 0; i < 600; i++) {
      screen = this.screen();
      if (test(screen)) return screen;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`the terminal never showed ${what}; it shows:\n${screen}`);
  }

  /** Waits for the command to exit; its exit code. */
  async exitCode(): Promise<number> {
    const screen = await this.waitFor('the exit code', (s) => /\[exit \d+\]/.test(s));
    return Number(/\[exit (\d+)\]/.exec(screen)![1]);
  }

  close(): void {
    try {
      this.#tmux('kill-server');
    } catch {
      // Already gone.
    }
  }
}
