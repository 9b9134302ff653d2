// `csrm serve --processes N`: N serve processes behind one port (Node's cluster module: the
// primary owns the listening socket and hands connections to the processes in turn). The primary
// only supervises: it computes the embeddings once when --catalogue is given, forks the processes,
// says where they listen, restarts one that dies, passes a refresh on to all of them (an
// /admin/refresh answered by one process, or SIGHUP to the primary), and on SIGTERM/SIGINT lets
// every process drain and exits 0.
import cluster, { type Address, type Worker } from 'node:cluster';

export interface ClusterMessage {
  csrm: 'refreshed' | 'refresh';
}

export async function runServePrimary(processes: number, log: (s: string) => void = (s) => process.stderr.write(`${s}\n`)): Promise<number> {
  let stopping = false;
  const listening = new Map<number, Address>();
  let announced = false;
  const fork = (): Worker => {
    const w = cluster.fork();
    w.on('message', (m: ClusterMessage) => {
      if (m?.csrm !== 'refreshed') return;
      for (const other of Object.values(cluster.workers ?? {})) if (other && other.id !== w.id) other.send({ csrm: 'refresh' } satisfies ClusterMessage);
    });
    return w;
  };
  const ready = new Promise<Address>((resolve) => {
    cluster.on('listening', (w, address) => {
      listening.set(w.id, address);
      if (!announced && listening.size === processes) {
        announced = true;
        resolve(address);
      }
    });
  });
  cluster.on('exit', (w, code, signal) => {
    listening.delete(w.id);
    if (stopping) return;
    log(`serve: process ${w.process.pid} exited (${signal ?? code}); starting another`);
    fork();
  });
  for (let i = 0; i < processes; i++) fork();
  const a = await ready;
  const host = a.addressType === 6 ? `[${a.address}]` : a.address;
  process.stdout.write(`listening http://${host}:${a.port} (${processes} processes)\n`);
  process.on('SIGHUP', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.send({ csrm: 'refresh' } satisfies ClusterMessage);
  });
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      log(`serve: ${sig}, draining ${processes} processes`);
      const alive = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w);
      let left = alive.length;
      if (left === 0) resolve();
      for (const w of alive) {
        w.once('exit', () => --left === 0 && resolve());
        w.process.kill('SIGTERM');
      }
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}
