// Ground truth for retrieval accuracy (section 5.2) in the synthetic market. The written market
// keeps product facts (truth/products.jsonl) but not what each query requires, so a retrieved
// product is judged by:
//   1. the generator's true_label of the relevance record (query, product), where it was judged;
//   2. otherwise exact (2) if its facts equal those of a product judged exact for the query — the
//      judge decides on facts alone, so identical facts get the identical label;
//   3. otherwise unknown, counted as not carrying the intent (0).
// Rule 3 makes the accuracy a lower bound, the same for every retriever compared.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readFileNamedSync } from '../../engine/read-file.ts';
import { verifyMarketFile } from '../data/market/manifest.ts';
import type { Label, RelevanceRecord } from '../data/schema.ts';
import type { Truth } from './accuracy.ts';

/** The facts the judge reads, as one comparable string (id, markets and rendering style left out). */
function factKey(p: Record<string, unknown>): string {
  return JSON.stringify(['type', 'brand', 'line', 'audience', 'colour', 'material', 'size', 'pack'].map((k) => p[k] ?? null));
}

export function readProductFacts(dataDir: string): Map<string, string> {
  const f = join(dataDir, 'truth', 'products.jsonl');
  const out = new Map<string, string>();
  if (!existsSync(f)) return out; // imported data has no hidden truth: rule 2 then never applies
  const bytes = readFileNamedSync(f);
  verifyMarketFile(f, bytes);
  bytes.toString('utf8').split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let p: Record<string, unknown>;
    try {
      p = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`${f}:${i + 1}: not JSON`);
    }
    if (typeof p.id !== 'string') throw new Error(`${f}:${i + 1}: product without a string "id"`);
    out.set(p.id, factKey(p));
  });
  return out;
}

export function marketTruth(records: readonly RelevanceRecord[], facts: ReadonlyMap<string, string>): Truth {
  const judged = new Map<string, Label>();
  const exactFacts = new Map<string, Set<string>>();
  for (const r of records) {
    if (r.true_label === -1) continue;
    judged.set(`${r.query_id}|${r.product_id}`, r.true_label);
    const f = facts.get(r.product_id);
    if (r.true_label === 2 && f) {
      if (!exactFacts.has(r.query_id)) exactFacts.set(r.query_id, new Set());
      exactFacts.get(r.query_id)!.add(f);
    }
  }
  return (q, p) => {
    const l = judged.get(`${q}|${p}`);
    if (l !== undefined) return l;
    const f = facts.get(p);
    return f !== undefined && exactFacts.get(q)?.has(f) ? 2 : 0;
  };
}
