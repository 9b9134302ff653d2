// `csrm serve --embeddings FILE [--catalogue FILE] [--em SPEC] [--defect SPEC] [--host H] [--port P]
//   [--threshold T] [--cache-size N] [--max-ids N] [--max-body-bytes N]`
// Serves the EM and defect towers over HTTP (pipeline/online/serve.ts) until SIGTERM or SIGINT, then
// drains in-flight requests and exits. With --catalogue, the product embeddings are first computed
// from the catalogue's titles with the two towers and written to --embeddings.
import { pathToFileURL } from 'node:url';
import { readRecords } from '../data/records.ts';
import { embedCatalogue, writeEmbeddings } from '../online/embeddings-file.ts';
import { startServer } from '../online/serve.ts';
import { loadTower, towerKinds } from '../online/tower-registry.ts';

export const SERVE_USAGE =
  'usage: csrm serve --embeddings FILE [--catalogue FILE] [--em SPEC] [--defect SPEC] [--host 127.0.0.1] [--port 8080]\n' +
  '                  [--threshold 0.5] [--cache-size 10000] [--max-ids 1000] [--max-body-bytes 1048576]\n' +
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
  maxIds: number;
  maxBodyBytes: number;
}

const FLAGS = ['embeddings', 'catalogue', 'em', 'defect', 'host', 'port', 'threshold', 'cache-size', 'max-ids', 'max-body-bytes'];

export function parseServeArgs(argv: string[]): ServeArgs {
  const v = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
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
  return {
    embeddings,
    catalogue: v.get('catalogue'),
    em: v.get('em') ?? 'hashed:dim=128,n=3',
    defect: v.get('defect') ?? 'hashed:dim=128,n=3,invert=1',
    host: v.get('host') ?? '127.0.0.1',
    port: num('port', 8080, (x) => int(x) && x < 65536),
    threshold: num('threshold', 0.5, (x) => x > 0 && x < 1),
    cacheSize: num('cache-size', 10_000, int),
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
