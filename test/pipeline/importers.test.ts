import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { esciLabel, importEsci } from '../../pipeline/data/importers/esci.ts';
import { importWands, wandsLabel } from '../../pipeline/data/importers/wands.ts';

const ESCI = join(import.meta.dirname, '../../../shared/data/esci-sample');
const dir = mkdtempSync(join(tmpdir(), 'csrm-import-'));
const quiet = () => {};
// The real extracts live beside the checkout (shared/data), not in it; without them those tests are skipped, visibly.
const realData = it.skipIf(!existsSync(ESCI));

describe('ESCI importer', () => {
  it('maps E, S, C, I to the paper\'s levels, C by a flag', () => {
    expect([esciLabel('E'), esciLabel('S'), esciLabel('C'), esciLabel('I')]).toEqual([2, 1, 0, 0]);
    expect(esciLabel('C', 1)).toBe(1);
    expect(esciLabel('X')).toBeNull();
  });

  realData('reads the real one-query extract with all four letters (shared/data/esci-sample)', () => {
    const res = importEsci(join(ESCI, 'esci_us_one_query_99rows_ESCI.csv'), { mode: 'fail-fast', log: quiet });
    expect(res.records).toHaveLength(99);
    const count = (l: number) => res.records.filter((r) => r.label === l).length;
    // E 76, S 5, I 17, C 1 → exact 76, substitute 5, irrelevant 18.
    expect([count(2), count(1), count(0)]).toEqual([76, 5, 18]);
    expect(res.records[0].query).toBe('iphone charger');
    expect(res.records[0].product_title).toMatch(/^iPhone Charger,YEFOOT/);
    const asSubstitute = importEsci(join(ESCI, 'esci_us_one_query_99rows_ESCI.csv'), { mode: 'fail-fast', complementLabel: 1, log: quiet });
    expect(asSubstitute.records.filter((r) => r.label === 1)).toHaveLength(6);
  });

  realData('reads the full merged schema with multi-line quoted descriptions (shared/data/esci-sample)', () => {
    const logged: string[] = [];
    const res = importEsci(join(ESCI, 'esci_us_exact_sample485.csv'), { mode: 'skip', log: (l) => logged.push(l) });
    expect(res.records).toHaveLength(485);
    expect(logged[0]).toMatch(/485 rows read, 0 bad rows skipped/);
    expect(res.records.every((r) => r.label === 2 && r.market === 'us' && r.language === 'en')).toBe(true);
    const first = res.records[0];
    expect(first.query).toBe('6 dining chairs');
    expect(first.product_id).toBe('B08CZ6TC2L');
    expect(first.product_brand).toBe('Yaheetech');
    expect(res.records.some((r) => r.product_description.includes('\n') || r.product_title.includes(','))).toBe(true);
  });

  realData('needs assumeLabel for label-less extracts, and reads both locales with it (shared/data/esci-sample)', () => {
    const f = join(ESCI, 'esci_exact_sample100_us_es.csv');
    const without = importEsci(f, { mode: 'skip', log: quiet });
    expect(without.records).toHaveLength(0);
    expect(without.bad[0].reason).toMatch(/esci_label/);
    const withE = importEsci(f, { mode: 'skip', assumeLabel: 'E', log: quiet });
    expect(withE.records.length + withE.bad.length).toBe(100);
    const langs = new Set(withE.records.map((r) => r.language));
    expect(langs).toEqual(new Set(['en', 'es']));
  });

  it('reports unknown letters and missing columns in a file the test writes', () => {
    const f = join(dir, 'esci.csv');
    writeFileSync(f, 'query,product_title,product_brand,product_locale,esci_label\n'
      + 'red shoes,"Nike Air, red",Nike,us,E\n'
      + 'red shoes,Adidas,Adidas,us,X\n'
      + 'red shoes,,Puma,us,S\n'
      + 'blue,"multi\nline",B,us,I\n');
    const res = importEsci(f, { mode: 'skip', log: quiet });
    expect(res.records.map((r) => [r.product_title, r.label])).toEqual([['Nike Air, red', 2], ['', 1], ['multi\nline', 0]]);
    expect(res.bad).toEqual([{ file: f, row: 3, reason: "unknown ESCI label 'X'" }]);
  });
});

describe('WANDS importer', () => {
  it('joins the three tab-separated files and maps Exact/Partial/Irrelevant', () => {
    const q = join(dir, 'query.csv'), p = join(dir, 'product.csv'), l = join(dir, 'label.csv');
    writeFileSync(q, 'query_id\tquery\tquery_class\n0\tsalon chair\tMassage Chairs\n1\twood desk\tDesks\n');
    writeFileSync(p, 'product_id\tproduct_name\tproduct_class\tcategory hierarchy\tproduct_description\n'
      + '10\tcharlie salon chair\tChairs\tFurniture / Chairs\ta chair\n11\toak writing desk\tDesks\tFurniture / Desks\t"desk, oak"\n');
    writeFileSync(l, 'id\tquery_id\tproduct_id\tlabel\n0\t0\t10\tExact\n1\t0\t11\tIrrelevant\n2\t1\t11\tPartial\n3\t1\t99\tExact\n4\t1\t10\tMaybe\n');
    expect([wandsLabel('Exact'), wandsLabel('Partial'), wandsLabel('Irrelevant')]).toEqual([2, 1, 0]);
    const res = importWands({ queryFile: q, productFile: p, labelFile: l }, { mode: 'skip', log: quiet });
    expect(res.records.map((r) => [r.query, r.product_title, r.label])).toEqual([
      ['salon chair', 'charlie salon chair', 2], ['salon chair', 'oak writing desk', 0], ['wood desk', 'oak writing desk', 1]]);
    expect(res.records[2].product_description).toBe('desk, oak');
    expect(res.bad.map((b) => [b.row, b.reason])).toEqual([[5, "unknown product_id '99'"], [6, "unknown WANDS label 'Maybe'"]]);
  });
});
