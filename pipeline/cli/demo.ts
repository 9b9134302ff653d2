// `npm run demo`: the whole CSRM method on the embedded synthetic market (see pipeline/stages/method.ts).
// `npm run demo -- --preset tiny|demo|gpu` picks the size; the run folder is runs/<preset>.
import { shutdownGpu } from '../../engine/index.ts';
import { csrm } from './csrm.ts';

let code = 1;
try {
  code = await csrm(['demo', ...process.argv.slice(2)]);
} catch (e) {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
} finally {
  await shutdownGpu();
}
process.exit(code);
