// Prints the autotune cache: `npx tsx bench/autotune-show.ts`.
import { printAutotune } from '../engine/autotune.ts';

console.log(printAutotune());
