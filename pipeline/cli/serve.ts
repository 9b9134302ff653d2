// `csrm serve --embeddings FILE [--catalogue FILE] [--em SPEC] [--defect SPEC] [--host H] [--port P]
//   [--threshold T] [--cache-size N] [--cache-bytes N] [--max-ids N] [--max-body-bytes N]
//   [--admin-token-file FILE | --insecure-admin]`
// /admin/* takes the token from --admin-token-file or else the CSRM_ADMIN_TOKEN environment
// variable (never from the command line, where `ps` shows it); without one it is disabled.
// Serves the EM and defect towers over HTTP (pipeline/online/serve.ts) until SIGTERM or SIGINT, then
// drains in-flight requests and exits. With --catalogue, the product embeddings are first computed
// from the catalogue's titles with the two towers and written to --embeddings.
import { pathToFileURL } from 'node:url';
import { readFileNamedSync } from '../../engine/read-file.ts';
import { readRecords } from '../data/records.ts';
import { embedCatalogue, writeEmbeddings } from '../online/embeddings-file.ts';
import { startServer } from '../online/serve.ts';
import { loadTower, towerKinds } from '../online/tower-registry.ts';

export const SERVE_USAGE =
  'usage: csrm serve --embeddings FILE [--catalogue FILE] [--em SPEC] [--defect SPEC] [--host 127.0.0.1] [--port 8080]\n' +
  '                  [--threshold 0.5] [--cache-size 10000] [--cache-bytes 67108864] [--max-ids 1000] [--max-body-bytes 1048576]\n' +
  '                  [--admin-token-file FILE | --insecure-admin]   (or the token in CSRM_ADMIN_TOKEN; /admin/* is disabled without one)\n' +
  '  SPEC is kind:key=value,… (kinds: ' + towerKinds().join(', ') + '), e.g. hashed:dim=128,n=3 and hashed:dim=128,n=3,invert=1';

export interface ServeArgs {
  embeddings: string;
  catalogue?: string;
  em: string;
  defect: string;
  host: string;
  port: number;
  threshold: number;
  cacheSize: number;
  cacheBytes: number;
  adminToken?: string;
  insecureAdmin: boolean;
  maxIds: number;
  maxBodyBytes: number;
}

const FLAGS = ['embeddings', 'catalogue', 'em', 'defect', 'host', 'port', 'threshold', 'cache-size', 'cache-bytes', 'max-ids', 'max-body-bytes', 'admin-token-file'];

/** The admin token: the file's first line, else CSRM_ADMIN_TOKEN; none when neither is set. */
function adminToken(file: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (file === undefined) return env.CSRM_ADMIN_TOKEN || undefined;
  const t = readFileNamedSync(file, 'admin token file').toString('utf8').split('\n')[0]!.trim();
  if (t === '') throw new Error(`admin token file ${file}: empty`);
  return t;
}

export function parseServeArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): ServeArgs {
  const v = new Map<string, string>();
  let insecureAdmin = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--insecure-admin') {
      insecureAdmin = true;
      continue;
    }
    const name = a.startsWith('--') ? a.slice(2) : '';
    if (!FLAGS.includes(name)) throw new Error(`unknown argument '${a}'\n${SERVE_USAGE}`);
    const val = argv[++i];
    if (val === undefined) throw new Error(`${a} needs a value\n${SERVE_USAGE}`);
    v.set(name, val);
  }
  const num = (k: string, d: number, ok: (x: number) => boolean) => {
    const s = v.get(k);
    if (s === undefined) return d;
    const x = Number(s);
    if (!ok(x)) throw new Error(`--${k} ${s} is out of range\n${SERVE_USAGE}`);
    return x;
  };
  const int = (x: number) => Number.isInteger(x) && x >= 0;
  const embeddings = v.get('embeddings');
  if (!embeddings) throw new Error(`--embeddings is required\n${SERVE_USAGE}`);
  const token = adminToken(v.get('admin-token-file'), env);
  if (token !== undefined && insecureAdmin) throw new Error(`--insecure-admin with an admin token: choose one\n${SERVE_USAGE}`);
  return {
    embeddings,
    catalogue: v.get('catalogue'),
    em: v.get('em') ?? 'hashed:dim=128,n=3',
    defect: v.get('defect') ?? 'hashed:dim=128,n=3,invert=1',
    host: v.get('host') ?? '127.0.0.1',
    port: num('port', 8080, (x) => int(x) && x < 65536),
    threshold: num('threshold', 0.5, (x) => x > 0 && x < 1),
    cacheSize: num('cache-size', 10_000, int),
    cacheBytes: num('cache-bytes', 64 * 2 ** 20, int),
    ...(token === undefined ? {} : { adminToken: token }),
    insecureAdmin,
    maxIds: num('max-ids', 1000, (x) => int(x) && x > 0),
    maxBodyBytes: num('max-body-bytes', 1 << 20, (x) => int(x) && x > 0),
  };
}

/** Runs until SIGTERM/SIGINT; resolves with the exit code once every connection is closed. */
export async function runServe(argv: string[]): Promise<number> {
  const args = parseServeArgs(argv);
  const models = { em: await loadTower(args.em), defect: await loadTower(args.defect) };
  if (args.catalogue) {
    const { records } = await readRecords(args.catalogue, { mode: 'fail-fast', kind: 'catalogue' });
    const rows = await embedCatalogue(models, records.map((r) => ({ id: r.product_id, text: r.product_title })));
    const version = writeEmbeddings(args.embeddings, rows);
    process.stderr.write(`serve: wrote ${rows.ids.length} product embeddings to ${args.embeddings} (version ${version})\n`);
  }
  const server = await startServer({
    models,
    embeddingsFile: args.embeddings,
    host: args.host,
    port: args.port,
    threshold: args.threshold,
    cacheSize: args.cacheSize,
    cacheBytes: args.cacheBytes,
    adminToken: args.adminToken,
    insecureAdmin: args.insecureAdmin,
    maxIds: args.maxIds,
    maxBodyBytes: args.maxBodyBytes,
  });
  process.stdout.write(`listening ${server.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      process.stderr.write(`serve: ${sig}, draining\n`);
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await server.close();
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runServe(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`${(e as Error).message}\n`);
      process.exit(2);
    },
  );
}
