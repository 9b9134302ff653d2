// The report's "Table 3 — online model" section (paper Table 3 and section 6.2), read from
// ${run}/online/result.json written by `csrm distill-online`; nothing when the stage has not run.
// In a study it shows seed 1's towers; the paired comparisons beside it pool every seed.
import { join } from 'node:path';
import { readJsonIf } from '../io/files.ts';
import type { OnlineStageResult } from '../stages/online-stage.ts';
import { mdTable } from './svg.ts';

const f4 = (x: number) => x.toFixed(4);

export function onlineSection(runDir: string, seeds = 1): string[] {
  const r = readJsonIf<OnlineStageResult>(join(runDir, 'online', 'result.json'));
  if (!r) return [];
  const md: string[] = ['## Table 3 — online model (twin towers, section 3.5)', ''];
  md.push(
    `Teacher: \`${r.teacher}\`. KD data: ${r.queries} target-market queries from the behaviour logs (test-set queries held out), ${r.pairs.total} pairs ` +
      `(${r.pairs.impressed} top-${r.sizes.M} impressed + ${r.pairs.ebr} retrieved, N = ${r.sizes.N}; retriever: ${r.retriever}). ` +
      `Mean teacher triple ⟨p_irr, p_sub, p_exact⟩ = ⟨${f4(r.teacherMeans.p_irr)}, ${f4(r.teacherMeans.p_sub)}, ${f4(r.teacherMeans.p_exact)}⟩. ` +
      `Baseline: the same towers on ${r.baselineTrainPairs} hard-labelled target training pairs. Towers: dim ${r.config.model.dim}, ${r.config.model.nLayers} layer(s), output ${r.config.model.outDim}, ${r.config.steps} steps each, s = ${r.config.scale}.`,
    '',
  );
  const rows = (['baseline', 'teacher', 'distilled'] as const).map((k) => [
    k === 'teacher' ? `Teacher LLM (${r.teacher})` : k === 'baseline' ? 'Baseline (hard labels)' : 'Distilled (eq. 4)',
    f4(r.table3[k].defect.accuracy), f4(r.table3[k].defect.f1), f4(r.table3[k].exactMatch.accuracy), f4(r.table3[k].exactMatch.f1),
  ]);
  md.push(`On ${r.testPairs} clean target test pairs (threshold 0.5${seeds > 1 ? `; seed 1 of ${seeds}` : ''}):`, '');
  md.push(mdTable(['Model', 'Defect accuracy', 'Defect F1', 'EM accuracy', 'EM F1'], rows), '');
  md.push(`Ranking simulation on ${r.testQueries} held-out test queries (drop defect ≥ 0.5, order by EM):`, '');
  md.push(
    mdTable(['Model', 'EM@1', 'Defect@5 (share without defect)', 'Defect rate @5', 'Empty pages'],
      (['baseline', 'teacher', 'distilled'] as const).map((k) => [k, f4(r.ranking[k].em1), f4(r.ranking[k].defect5), f4(r.ranking[k].defectRate5), f4(r.ranking[k].empty)])),
    '',
  );
  md.push(`Serve the distilled towers: \`csrm serve --embeddings ${r.files.embeddings} --em twin:${r.files.em} --defect twin:${r.files.defect}\`.`, '');
  return md;
}
