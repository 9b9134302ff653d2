// `npm run demo`: the main job. For now the engine demo; the CSRM pipeline replaces it.
import { shutdownGpu } from '../../engine/index.ts';
import { runEngineDemo } from './engine-demo.ts';

const { first, last } = await runEngineDemo();
await shutdownGpu();
if (!(last < first)) process.exit(1);
