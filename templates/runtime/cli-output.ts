// How the CLI writes: results to stdout (plain lines, or JSON with --json),
// progress and errors to stderr. Escape sequences (colour, redrawn progress
// lines) only on a terminal that wants them: never with NO_COLOR, TERM=dumb
// or a pipe.

export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  readonly env: NodeJS.ProcessEnv;
}

/**
 * Text that came from a server or a file, made safe to print: control
 * characters (escape sequences, carriage returns, line breaks) are dropped
 * or turned into spaces, so nothing received can redraw or recolour the
 * user's terminal.
 */
export function printable(text: string): string {
  return (
    text
      .replace(/[\t\n\r\v\f]+/g, ' ')
      // eslint-disable-next-line no-control-regex -- strips control characters from text printed to a terminal
      .replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '')
  );
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export class Output {
  constructor(
    readonly io: CliIo,
    readonly json: boolean,
  ) {}

  /** Animated progress: stderr is a terminal that is not "dumb". Asked when first needed, so a command that writes no progress never makes the stderr stream. */
  get animate(): boolean {
    return this.io.stderr.isTTY === true && this.io.env['TERM'] !== 'dumb';
  }

  /** Colour and in-place redraws: a terminal on stderr, NO_COLOR unset, TERM not "dumb". */
  get escapes(): boolean {
    return this.animate && !('NO_COLOR' in this.io.env);
  }

  /** A line of the result (ignored in JSON mode, where `data` says it all). */
  result(text: string): void {
    if (!this.json) this.io.stdout.write(`${text}\n`);
  }

  /** The result as JSON in JSON mode. */
  data(value: unknown): void {
    if (this.json) this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** Progress or advice for the person at the terminal; stderr, in both modes. */
  info(text: string): void {
    this.io.stderr.write(`${text}\n`);
  }

  strong(text: string): string {
    return this.escapes ? `\u001b[1m${text}\u001b[22m` : text;
  }

  error(name: string, message: string, hint: string | undefined): void {
    const label = this.escapes ? '\u001b[31merror\u001b[39m' : 'error';
    this.io.stderr.write(`${name}: ${label}: ${printable(message)}\n${hint ? `${name}: hint: ${printable(hint)}\n` : ''}`);
  }

  /**
   * A progress line redrawn in place while something is awaited. Without a
   * terminal it is written once; with NO_COLOR it is redrawn with a carriage
   * return and padding instead of escape sequences. Returns the function
   * that ends it.
   */
  progress(render: (spinner: string) => string): () => void {
    if (!this.animate) {
      this.info(render('-'));
      return () => undefined;
    }
    let tick = 0;
    let width = 0;
    const clear = () => (this.escapes ? '\r\u001b[2K' : `\r${' '.repeat(width)}\r`);
    const draw = () => {
      const line = render(SPINNER[tick++ % SPINNER.length]!);
      this.io.stderr.write(`${clear()}${line}`);
      width = line.length;
    };
    draw();
    const timer = setInterval(draw, 100);
    timer.unref();
    return () => {
      clearInterval(timer);
      this.io.stderr.write(clear());
    };
  }
}

/** Reads a line from the terminal without echoing it; Ctrl-C or Ctrl-D gives undefined. */
export function promptHidden(io: CliIo, question: string): Promise<string | undefined> {
  const stdin = io.stdin;
  io.stderr.write(question);
  return new Promise((resolve) => {
    let answer = '';
    const finish = (value: string | undefined) => {
      stdin.removeListener('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      io.stderr.write('\n');
      resolve(value);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString()) {
        if (ch === '\r' || ch === '\n') return finish(answer.trim());
        if (ch === '\u0003' || ch === '\u0004') return finish(undefined);
        if (ch === '\u007f' || ch === '\b') answer = answer.slice(0, -1);
        else if (ch >= ' ') answer += ch;
      }
    };
    stdin.setRawMode?.(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}

/** Asks a yes/no question on the terminal; only "y" or "yes" is yes. */
export async function confirm(io: CliIo, question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline');
  const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: false });
  io.stderr.write(question);
  return new Promise((resolve) => {
    let answered = false;
    rl.once('line', (line) => {
      answered = true;
      rl.close();
      resolve(/^\s*y(es)?\s*$/i.test(line));
    });
    rl.once('close', () => {
      if (!answered) resolve(false);
    });
  });
}
