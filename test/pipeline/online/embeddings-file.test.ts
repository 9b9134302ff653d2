import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createHashedTower } from '../../../pipeline/online/hashed-tower.ts';
import { embedCatalogue, readEmbeddings, writeEmbeddings } from '../../../pipeline/online/embeddings-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'csrm-emb-'));
const models = { em: createHashedTower({ dim: 24 }), defect: createHashedTower({ dim: 24, invert: true, seed: 3 }) };
const items = ['lake salt', 'wall paint', '湖鹽 500g', 'potato chips lake salt flavour'].map((text, i) => ({ id: `p${i}`, text }));

describe('product embeddings file', () => {
  it('round-trips both formats bit for bit, with a content version', async () => {
    const rows = await embedCatalogue(models, items, 3);
    for (const name of ['e.jsonl', 'e.bin']) {
      const file = join(dir, name);
      const version = writeEmbeddings(file, rows);
      const t = await readEmbeddings(file);
      expect(t.version).toBe(version);
      expect(t.ids).toEqual(items.map((i) => i.id));
      expect(t.dim).toBe(24);
      for (let i = 0; i < items.length; i++) {
        expect(Array.from(t.em.subarray(i * 24, (i + 1) * 24))).toEqual(Array.from(rows.em[i]!));
        expect(Array.from(t.defect.subarray(i * 24, (i + 1) * 24))).toEqual(Array.from(rows.defect[i]!));
        expect(t.index.get(items[i]!.id)).toBe(i);
      }
    }
    expect(readFileSync(join(dir, 'e.bin')).subarray(0, 8).toString('latin1')).toBe('CSRMEMB1');
  });

  it('rejects duplicates, wrong norms, truncation and bad lines with the reason', async () => {
    const rows = await embedCatalogue(models, items);
    const dup = join(dir, 'dup.jsonl');
    writeEmbeddings(dup, { ...rows, ids: ['a', 'b', 'a', 'c'] });
    await expect(readEmbeddings(dup)).rejects.toThrow(/duplicate product id 'a'/);
    const scaled = join(dir, 'scaled.bin');
    writeEmbeddings(scaled, { ...rows, em: rows.em.map((r) => r.map((x) => 2 * x)) });
    await expect(readEmbeddings(scaled)).rejects.toThrow(/norm 2/);
    const cut = join(dir, 'cut.bin');
    writeFileSync(cut, readFileSync(join(dir, 'e.bin')).subarray(0, 200));
    await expect(readEmbeddings(cut)).rejects.toThrow(/data bytes|truncated/);
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"product_id":"a","em":[1],"defect":[1]}\n{"product_id":"b","em":[1],"defect":"x"}\n');
    await expect(readEmbeddings(bad)).rejects.toThrow(/line 2: 'defect'/);
  });
});
