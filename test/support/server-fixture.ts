// One embedded server per test file and a fresh temporary HOME per test,
// with the SDK's environment pointed at both.
import { startAuthServer, type RunningServer } from '../server/auth-server.js';
import { tempHome } from './env.js';

export interface ServerFixture {
  readonly server: () => RunningServer;
  readonly home: () => string;
}

export function useEmbeddedServer(extraEnv: Record<string, string> = {}): ServerFixture {
  let server: RunningServer | undefined;
  let home = '';
  beforeAll(async () => {
    server = await startAuthServer();
    Object.assign(process.env, server.env(), extraEnv);
  });
  afterAll(() => server?.close());
  beforeEach(() => {
    home = tempHome();
    process.env['HOME'] = home;
    server!.resetCounts();
  });
  return { server: () => server!, home: () => home };
}
