// Where `csrm serve` finds its models: a spec "kind:key=value,…" names a loader. The hashed tower
// registers here now; the distilled twin towers register under their own kind when they land.
import { createHashedTower } from './hashed-tower.ts';
import type { TowerModel } from './types.ts';

export type TowerOptions = Record<string, string>;
export type TowerLoader = (options: TowerOptions) => Promise<TowerModel>;

const loaders = new Map<string, TowerLoader>();

export function registerTower(kind: string, loader: TowerLoader): void {
  if (!/^[a-z][a-z0-9-]*$/.test(kind)) throw new Error(`tower kind '${kind}' must be lower-case letters, digits, '-'`);
  loaders.set(kind, loader);
}

export function towerKinds(): string[] {
  return [...loaders.keys()].sort();
}

/** "kind:a=1,b=x" → {kind, options}; a bare value without '=' is taken as `path`. */
export function parseTowerSpec(spec: string): { kind: string; options: TowerOptions } {
  const colon = spec.indexOf(':');
  const kind = colon < 0 ? spec : spec.slice(0, colon);
  const rest = colon < 0 ? '' : spec.slice(colon + 1);
  const options: TowerOptions = {};
  for (const part of rest.split(',').filter((p) => p !== '')) {
    const eq = part.indexOf('=');
    if (eq < 0) options.path = part;
    else options[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return { kind, options };
}

export async function loadTower(spec: string): Promise<TowerModel> {
  const { kind, options } = parseTowerSpec(spec);
  const loader = loaders.get(kind);
  if (!loader) throw new Error(`unknown tower kind '${kind}' in '${spec}' (known: ${towerKinds().join(', ')})`);
  return loader(options);
}

function num(options: TowerOptions, key: string): number | undefined {
  const v = options[key];
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isFinite(x)) throw new Error(`tower option ${key}=${v} is not a number`);
  return x;
}

// hashed:dim=128,scale=8,n=2+3,seed=0,invert=1
registerTower('hashed', async (o) => {
  const known = new Set(['dim', 'scale', 'n', 'seed', 'invert']);
  for (const k of Object.keys(o)) if (!known.has(k)) throw new Error(`hashed tower: unknown option '${k}' (known: ${[...known].join(', ')})`);
  return createHashedTower({
    dim: num(o, 'dim'),
    scale: num(o, 'scale'),
    seed: num(o, 'seed'),
    ngrams: o.n === undefined ? undefined : o.n.split('+').map(Number),
    invert: o.invert === '1' || o.invert === 'true',
  });
});

// twin:PATH — a distilled twin tower checkpoint written by `csrm distill-online` (online/em.ckpt,
// online/defect.ckpt), with the tokenizer it was trained with (the one it records, checked by hash).
registerTower('twin', async (o) => {
  for (const k of Object.keys(o)) if (k !== 'path') throw new Error(`twin tower: unknown option '${k}' (give twin:PATH)`);
  if (!o.path) throw new Error('twin tower: no checkpoint path (give twin:PATH)');
  const [{ loadTwinTower, twinTowerModel }, { loadTokenizer }, { recordedTokenizer }] = await Promise.all([
    import('./twin-tower-model.ts'), import('../tokenizer/tokenizer.ts'), import('../tokenizer/tokenizer-record.ts'),
  ]);
  const { model, meta, digest } = await loadTwinTower(o.path);
  const tok = recordedTokenizer(`twin tower ${o.path}`, o.path, meta.tokenizer);
  return twinTowerModel(model, await loadTokenizer(tok.path), meta.scale, digest);
});
