// The warm generator: `npm run generate` starts one in the background after a
// run that had none (unless GENERATOR_SERVER=0 or CI=true), and later runs
// hand their command line to it over a socket in .cache/generate/, so the
// compiler, its parsed declaration files and the compiled schemas are already
// loaded. It runs exactly the code of the bundle the caller would run (a
// caller with another bundle makes it exit), one request at a time, and exits
// after IDLE_MS without one. Output and exit code are the in-process run's.
import { existsSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { paths, parseArgs, runReporting, UsageError, USAGE, type Io, type Warm } from './main.js';

export const IDLE_MS = 10 * 60_000;

export function socketPath(root: string): string {
  return join(root, '.cache', 'generate', 'server.sock');
}

interface Request {
  readonly argv: string[];
  readonly cwd: string;
  readonly bundle: string;
}

/** Whether a server answers on the socket. */
function answering(path: string): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

/** Serves until idle for IDLE_MS or asked by a caller with another bundle. */
export async function serve(root: string, bundle: string): Promise<void> {
  const path = socketPath(root);
  if (await answering(path)) return; // another one serves already
  if (existsSync(path)) rmSync(path, { force: true });
  const warm: Warm = {};
  let queue = Promise.resolve();
  let idle: NodeJS.Timeout | undefined;
  const server = createServer((socket) => {
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const end = buffer.indexOf('\n');
      if (end < 0) return;
      const request = JSON.parse(buffer.slice(0, end)) as Request;
      queue = queue.then(() => answer(request, socket));
    });
    socket.on('error', () => undefined);
  });
  const stop = () => {
    clearTimeout(idle);
    server.close();
  };
  const rearm = () => {
    clearTimeout(idle);
    idle = setTimeout(stop, IDLE_MS);
    idle.unref();
  };
  const answer = async (request: Request, socket: Socket) => {
    const send = (message: object) => socket.write(JSON.stringify(message) + '\n');
    if (request.bundle !== bundle) {
      send({ stale: true });
      socket.end();
      stop();
      return;
    }
    rearm();
    const io: Io = { out: (text) => send({ out: text }), err: (text) => send({ err: text }) };
    let code: number;
    try {
      process.chdir(request.cwd);
      const args = parseArgs(request.argv);
      code = args.mode === 'watch' ? 2 : await runReporting(args, paths(root, args), io, warm);
    } catch (error) {
      if (error instanceof UsageError) {
        if (error.message) io.err(`generator: ${error.message}`);
        io.err(USAGE);
        code = error.message ? 2 : 0;
      } else {
        io.err(`generator failed: ${error instanceof Error ? error.message : String(error)}`);
        code = 2;
      }
    }
    send({ exit: code });
    socket.end();
    rearm();
  };
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(path, () => done());
  });
  rearm();
  await new Promise<void>((done) => server.once('close', () => done()));
}
