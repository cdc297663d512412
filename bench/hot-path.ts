// Token hot path: operations per second of getting a valid, cached access
// token, measured in one process beside the async floor and google-auth-library.
import { OAuth2Client } from 'google-auth-library';
import type { RunningServer } from '../test/server/auth-server.js';

type Op = () => Promise<unknown>;

async function opsPerSecond(op: Op, windowMs = 250): Promise<number> {
  let count = 0;
  const started = performance.now();
  let now = started;
  while (now - started < windowMs) {
    for (let i = 0; i < 2000; i++) await op();
    count += 2000;
    now = performance.now();
  }
  return (count * 1000) / (now - started);
}

async function median(op: Op): Promise<number> {
  await opsPerSecond(op, 300); // warm-up
  const runs: number[] = [];
  for (let i = 0; i < 5; i++) runs.push(await opsPerSecond(op));
  return runs.sort((a, b) => a - b)[2]!;
}

export interface HotPathFigures {
  floor: number;
  sdk: number;
  googleGetAccessToken: number;
  googleGetRequestHeaders: number;
  fetchMs: number;
  sessionFetchMs: number;
}

export async function measureHotPath(server: RunningServer, getAccessToken: Op, sessionFetch: (path: string) => Promise<Response>): Promise<HotPathFigures> {
  const expiry = Date.now() + 3600_000;
  const token = await getAccessToken();
  const floor = async () => (Date.now() < expiry ? (token as string) : '');
  const google = new OAuth2Client();
  google.setCredentials({ access_token: 'cached-token', expiry_date: expiry });

  const figures = {
    floor: await median(floor),
    sdk: await median(getAccessToken),
    googleGetAccessToken: await median(() => google.getAccessToken()),
    googleGetRequestHeaders: await median(() => google.getRequestHeaders()),
  };

  // Per-request cost of session.fetch over a plain fetch carrying the same header, against the demo API.
  const url = `${server.apiBaseUrl}/data/v1/searches`;
  const plain = async () => (await fetch(url, { headers: { authorization: `Bearer ${String(token)}` } })).arrayBuffer();
  const viaSession = async () => (await sessionFetch('/data/v1/searches')).arrayBuffer();
  const meanMs = async (op: Op, n: number) => {
    for (let i = 0; i < 50; i++) await op();
    const samples: number[] = [];
    for (let round = 0; round < 5; round++) {
      const t = performance.now();
      for (let i = 0; i < n; i++) await op();
      samples.push((performance.now() - t) / n);
    }
    return samples.sort((a, b) => a - b)[2]!;
  };
  const fetchMs = await meanMs(plain, 300);
  const sessionFetchMs = await meanMs(viaSession, 300);
  return { ...figures, fetchMs, sessionFetchMs };
}
