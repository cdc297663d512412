// Production shapes of Redis for tests and `npm run stress:fleet`, from
// Debian's redis-server in temporary folders on free ports of 127.0.0.1:
// a Cluster of three masters with a replica each, and a Sentinel set of one
// master, one replica and three sentinels. Each can fail its master over.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { freePort, redisServerPath } from './redis.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Node {
  readonly port: number;
  readonly dir: string;
  readonly args: string[];
  child: ChildProcess;
  exited: Promise<void>;
}

function launch(args: string[], dir: string, port: number): Node {
  mkdirSync(dir, { recursive: true });
  const child = spawn(redisServerPath()!, args, { cwd: dir, stdio: 'ignore' });
  return { port, dir, args, child, exited: new Promise((resolve) => child.once('exit', () => resolve())) };
}

/** Starts a killed node again with its arguments and folder; it comes back as a replica of whoever took over. */
async function relaunch(node: Node): Promise<void> {
  const again = launch(node.args, node.dir, node.port);
  node.child = again.child;
  node.exited = again.exited;
  await until(`node ${node.port} is a replica in sync again`, async () => String(await ask(node.port, 'INFO', 'replication')).includes('master_link_status:up'));
}

async function kill(node: Node, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (node.child.exitCode === null && node.child.signalCode === null) {
    node.child.kill(signal);
    await node.exited;
  }
}

/** Sends one command to 127.0.0.1:`port` and returns its answer; undefined when the node does not answer. */
export async function ask(port: number, ...command: string[]): Promise<unknown> {
  const client = createClient({ socket: { host: '127.0.0.1', port, connectTimeout: 1000, reconnectStrategy: false } });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.sendCommand(command);
  } catch {
    return undefined;
  } finally {
    client.destroy();
  }
}

async function until(what: string, check: () => Promise<boolean>, attempts = 600): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting until ${what}`);
}

const NODE_ARGS = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'];

export interface RunningCluster {
  /** One node per master, to start a cluster client from. */
  readonly rootNodes: readonly { url: string }[];
  /**
   * Kills (SIGKILL) the master that serves `key`'s slot and waits until its
   * replica serves the slot.
   */
  failOver(key: string): Promise<{ killedPort: number; promotedPort: number }>;
  /** Starts the node killed last again; it comes back as a replica, so the next failover has one. */
  rejoin(): Promise<void>;
  stop(): Promise<void>;
}

/** Three masters and three replicas, every slot covered. */
export async function startCluster(): Promise<RunningCluster> {
  const root = mkdtempSync(join(tmpdir(), 'planet-redis-cluster-'));
  const ports: number[] = [];
  while (ports.length < 6) {
    const port = await freePort();
    // A cluster node also listens on port + 10000.
    if (!ports.includes(port) && port + 10000 < 65536) ports.push(port);
  }
  const nodes = ports.map((port) => {
    const dir = join(root, String(port));
    return launch(['--port', String(port), ...NODE_ARGS, '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '1000', '--dir', dir], dir, port);
  });
  const stop = async () => {
    await Promise.all(nodes.map((n) => kill(n)));
    rmSync(root, { recursive: true, force: true });
  };
  try {
    for (const node of nodes) await until(`node ${node.port} answers`, async () => (await ask(node.port, 'PING')) === 'PONG');
    const created = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes'], { encoding: 'utf8' });
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}\n${created.stderr}`);
    for (const node of nodes) await until(`node ${node.port} sees the cluster ok`, async () => String(await ask(node.port, 'CLUSTER', 'INFO')).includes('cluster_state:ok'));
    // A replica that never synced with its master cannot take over from it.
    for (const node of nodes) {
      await until(`node ${node.port} is a master or a replica in sync`, async () => {
        const info = String(await ask(node.port, 'INFO', 'replication'));
        return info.includes('role:master') || info.includes('master_link_status:up');
      });
    }
    await until('every master lists its replica', async () => {
      const shards = (await ask(ports[0]!, 'CLUSTER', 'SLOTS')) as unknown[][] | undefined;
      return shards !== undefined && shards.length === 3 && shards.every((shard) => shard.length >= 4);
    });
  } catch (error) {
    await stop();
    throw error;
  }
  const alive = () => nodes.filter((n) => n.child.exitCode === null && n.child.signalCode === null);
  const masterOf = async (slot: number, among: Node[]) => {
    for (const node of among) {
      const shards = (await ask(node.port, 'CLUSTER', 'SLOTS')) as [number, number, [string, number]][] | undefined;
      const owner = shards?.find(([from, to]) => slot >= from && slot <= to);
      if (owner) return Number(owner[2][1]);
    }
    return undefined;
  };
  let lastKilled: Node | undefined;
  return {
    rejoin: async () => {
      if (lastKilled) await relaunch(lastKilled);
      lastKilled = undefined;
    },
    rootNodes: ports.slice(0, 3).map((p) => ({ url: `redis://127.0.0.1:${p}` })),
    async failOver(key) {
      const slot = Number(await ask(alive()[0]!.port, 'CLUSTER', 'KEYSLOT', key));
      const master = await masterOf(slot, alive());
      const victim = nodes.find((n) => n.port === master)!;
      await kill(victim);
      let promoted: number | undefined;
      await until('a replica serves the slot', async () => {
        const others = alive();
        promoted = await masterOf(slot, others);
        return promoted !== undefined && promoted !== victim.port && String(await ask(promoted, 'ROLE')).startsWith('master') && String(await ask(promoted, 'CLUSTER', 'INFO')).includes('cluster_state:ok');
      });
      lastKilled = victim;
      return { killedPort: victim.port, promotedPort: promoted! };
    },
    stop,
  };
}

export interface RunningSentinel {
  readonly name: string;
  readonly sentinels: readonly { host: string; port: number }[];
  /**
   * Kills (SIGKILL) the current master and waits until the sentinels name the
   * replica as master.
   */
  failOver(): Promise<{ killedPort: number; promotedPort: number }>;
  /** Starts the node killed last again; the sentinels make it a replica, so the next failover has one. */
  rejoin(): Promise<void>;
  stop(): Promise<void>;
}

/** One master, one replica, three sentinels (quorum 2). */
export async function startSentinel(): Promise<RunningSentinel> {
  const root = mkdtempSync(join(tmpdir(), 'planet-redis-sentinel-'));
  const name = 'planet-auth';
  const [masterPort, replicaPort, ...sentinelPorts] = await Promise.all(Array.from({ length: 5 }, () => freePort()));
  const master = launch(['--port', String(masterPort), ...NODE_ARGS, '--dir', join(root, 'master')], join(root, 'master'), masterPort!);
  const replica = launch(['--port', String(replicaPort), ...NODE_ARGS, '--dir', join(root, 'replica'), '--replicaof', '127.0.0.1', String(masterPort)], join(root, 'replica'), replicaPort!);
  const sentinels = sentinelPorts.map((port) => {
    const dir = join(root, `sentinel-${port}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'sentinel.conf'),
      [`port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, `sentinel monitor ${name} 127.0.0.1 ${masterPort} 2`, `sentinel down-after-milliseconds ${name} 1000`, `sentinel failover-timeout ${name} 3000`, ''].join('\n'),
    );
    return launch([join(dir, 'sentinel.conf'), '--sentinel', '--loglevel', 'warning'], dir, port);
  });
  const all = [master, replica, ...sentinels];
  const stop = async () => {
    await Promise.all(all.map((n) => kill(n)));
    rmSync(root, { recursive: true, force: true });
  };
  const currentMaster = async () => {
    for (const s of sentinels) {
      const answer = (await ask(s.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)) as string[] | undefined;
      if (answer) return Number(answer[1]);
    }
    return undefined;
  };
  try {
    await until('the replica is in sync', async () => String(await ask(replicaPort!, 'INFO', 'replication')).includes('master_link_status:up'));
    await until('every sentinel knows the replica and the others', async () => {
      for (const s of sentinels) {
        const info = String(await ask(s.port, 'INFO', 'sentinel'));
        if (!/slaves=1,sentinels=3/.test(info)) return false;
      }
      return true;
    });
  } catch (error) {
    await stop();
    throw error;
  }
  let lastKilled: Node | undefined;
  return {
    rejoin: async () => {
      if (lastKilled) await relaunch(lastKilled);
      lastKilled = undefined;
    },
    name,
    sentinels: sentinelPorts.map((port) => ({ host: '127.0.0.1', port })),
    async failOver() {
      const before = await currentMaster();
      const victim = [master, replica].find((n) => n.port === before)!;
      await kill(victim);
      let promoted: number | undefined;
      await until('the sentinels promote the replica', async () => {
        promoted = await currentMaster();
        return promoted !== undefined && promoted !== victim.port && String(await ask(promoted, 'ROLE')).startsWith('master');
      });
      lastKilled = victim;
      return { killedPort: victim.port, promotedPort: promoted! };
    },
    stop,
  };
}
