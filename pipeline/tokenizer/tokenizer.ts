// The project's sentencepiece model (trained by scripts/train-tokenizer.sh, committed next to this
// file) loaded through sentencepiece-js (sentencepiece compiled to WebAssembly). The wrapper only
// exposes encode and decode; the piece table comes from the .vocab file written with the model.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import sentencepiece from 'sentencepiece-js';

export const DEFAULT_MODEL = fileURLToPath(new URL('./csrm-spm.model', import.meta.url));

export interface Tokenizer {
  encode(text: string): number[];
  decode(ids: number[]): string;
  pieces(text: string): string[];
  /** Id of a piece, or the unk id when the vocabulary lacks it. */
  pieceId(piece: string): number;
  piece(id: number): string;
  count(text: string): number;
  readonly vocabSize: number;
  readonly pad: number;
  readonly unk: number;
  readonly bos: number;
  readonly eos: number;
  /** Ids of the label tokens "0" (irrelevant), "1" (substitute), "2" (exact). */
  readonly labelTokenIds: readonly [number, number, number];
}

// Each load instantiates an emscripten module, which adds process listeners that rethrow any
// uncaught exception or unhandled rejection from inside its own minified source: Node then prints
// that one 750 kB line instead of the error. The listeners serve no purpose outside emscripten's
// own exit handling, so the ones a load adds are removed again.
async function loadWithoutProcessHooks(load: () => Promise<void>): Promise<void> {
  const ex = new Set(process.listeners('uncaughtException'));
  const rej = new Set(process.listeners('unhandledRejection'));
  try {
    await load();
  } finally {
    for (const l of process.listeners('uncaughtException')) if (!ex.has(l)) process.removeListener('uncaughtException', l);
    for (const l of process.listeners('unhandledRejection')) if (!rej.has(l)) process.removeListener('unhandledRejection', l);
  }
}

export async function loadTokenizer(modelPath: string = DEFAULT_MODEL): Promise<Tokenizer> {
  // The package is CommonJS: under ESM its exports arrive as the default import.
  const sp = new sentencepiece.SentencePieceProcessor();
  await loadWithoutProcessHooks(() => sp.load(modelPath));
  const vocab = readFileSync(modelPath.replace(/\.model$/, '.vocab'), 'utf8').split('\n').filter((l) => l !== '').map((l) => l.split('\t')[0]);
  const ids = new Map(vocab.map((p, i) => [p, i]));
  const id = (p: string) => {
    const v = ids.get(p);
    if (v === undefined) throw new Error(`tokenizer ${modelPath}: no piece '${p}'`);
    return v;
  };
  const unk = id('<unk>');
  const labelTokenIds = [id('0'), id('1'), id('2')] as const;
  // The .vocab must describe this .model: the label tokens must encode to their own ids.
  for (const [k, tid] of labelTokenIds.entries()) {
    const enc = sp.encodeIds(String(k));
    if (enc[enc.length - 1] !== tid) throw new Error(`tokenizer ${modelPath}: .vocab does not match .model`);
  }
  return {
    encode: (text) => (text === '' ? [] : sp.encodeIds(text)),
    decode: (xs) => (xs.length === 0 ? '' : sp.decodeIds(xs)),
    pieces: (text) => (text === '' ? [] : sp.encodePieces(text)),
    pieceId: (p) => ids.get(p) ?? unk,
    piece: (i) => vocab[i] ?? '<unk>',
    count: (text) => (text === '' ? 0 : sp.encodeIds(text).length),
    vocabSize: vocab.length,
    pad: id('<pad>'),
    unk,
    bos: id('<s>'),
    eos: id('</s>'),
    labelTokenIds,
  };
}
