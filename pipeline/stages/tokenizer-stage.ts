// `csrm tokenizer`: a sentencepiece model for a market, trained by spm_train (Debian package
// `sentencepiece`, installed by scripts/setup.sh) on the corpus of tokenizer-corpus.ts — from the
// market's lexicon when it has one (the lexicon recorded in its summary.json, or --lexicon), else from
// the market folder's own text. Deterministic (fixed seed, one thread, no sampling or shuffling, the
// corpus under a fixed relative name), so a rerun writes the same bytes. Writes <out>/csrm-spm.model,
// .vocab and the record (.json) the demo checks before reusing it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lexiconHash } from '../data/market/fingerprint.ts';
import { loadLexicon } from '../data/market/lexicon.ts';
import { LEXICON_RECIPE, lexiconCorpus, MARKET_TEXT_RECIPE, marketTextCorpus, type TokenizerCorpus } from '../tokenizer/tokenizer-corpus.ts';
import { vocabPath, writeTokenizerRecord, type TokenizerRecord } from '../tokenizer/tokenizer-record.ts';
import { loadMarketData, readMarketFingerprint } from './market-data.ts';
import { marketDataHash } from './provenance.ts';

export const TOKENIZER_NAME = 'csrm-spm';
export const DEFAULT_VOCAB = 3000;

export interface TokenizerOpts {
  /** A lexicon file: the corpus comes from it. */
  lexicon?: string;
  /** A market folder: its lexicon (from summary.json) when it has one, else its own text. */
  data?: string;
  out: string;
  vocabSize?: number;
  log?: (s: string) => void;
}

/** The market folder's lexicon file as its summary records it, checked against the recorded hash. */
function marketLexicon(data: string): string | null {
  const fp = readMarketFingerprint(data);
  const file = fp?.lexicon.file;
  if (!fp || !file) return null;
  if (!existsSync(file)) throw new Error(`${data}/summary.json: the market was generated from lexicon ${file}, which is gone; pass --lexicon FILE`);
  const h = lexiconHash(loadLexicon(file));
  if (h !== fp.lexicon.sha256) throw new Error(`${file} changed since ${data} was generated from it (lexicon sha256 ${h.slice(0, 12)}… now, ${fp.lexicon.sha256.slice(0, 12)}… recorded): regenerate the market, or pass --lexicon FILE`);
  return file;
}

function spmTrain(dir: string, vocabSize: number, hardLimit: boolean): void {
  if (spawnSync('spm_train', ['--help'], { encoding: 'utf8' }).error) throw new Error('csrm tokenizer: spm_train not found (Debian package `sentencepiece`); run `bash scripts/setup.sh`, which installs it');
  // unigram; every character of the curated corpus kept (coverage 1.0: rare Hanja/Hangul stay characters,
  // not byte pieces); label tokens and the prompts' fixed words user-defined (one piece each); digits
  // split; byte fallback and identity normalisation make decode(encode(text)) == text for any text.
  const args = [
    '--input=corpus.txt', `--model_prefix=${TOKENIZER_NAME}`, '--model_type=unigram', `--vocab_size=${vocabSize}`,
    '--character_coverage=1.0', '--user_defined_symbols_file=corpus.symbols', '--split_digits=true', '--byte_fallback=true',
    '--normalization_rule_name=identity', '--remove_extra_whitespaces=false', '--pad_id=0', '--unk_id=1', '--bos_id=2', '--eos_id=3',
    '--num_threads=1', '--input_sentence_size=0', '--shuffle_input_sentence=false', '--random_seed=20240601', '--minloglevel=1',
    ...(hardLimit ? [] : ['--hard_vocab_limit=false']),
  ];
  const r = spawnSync('spm_train', args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`csrm tokenizer: spm_train failed (exit ${r.status}): ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' / ')}`);
}

export async function trainTokenizer(o: TokenizerOpts): Promise<{ model: string; record: TokenizerRecord; lines: number }> {
  const log = o.log ?? ((s: string) => console.error(s));
  if (!o.lexicon && !o.data) throw new Error('csrm tokenizer: give --data DIR (a market folder) or --lexicon FILE');
  const vocabSize = o.vocabSize ?? DEFAULT_VOCAB;
  const lexFile = o.lexicon ?? marketLexicon(o.data!);
  let corpus: TokenizerCorpus;
  let lexicon: TokenizerRecord['lexicon'] = null;
  if (lexFile) {
    const lex = loadLexicon(lexFile);
    corpus = lexiconCorpus(lex);
    lexicon = { name: lex.name, sha256: lexiconHash(lex) };
  } else {
    const d = await loadMarketData(o.data!);
    corpus = marketTextCorpus({
      catalogue: Object.values(d.catalogue).flat(), relevance: Object.values(d.relevance).flatMap((s) => [...s.train, ...s.dev, ...s.test]),
      translations: d.translations, source: d.relevance[d.source]!.train[0]!.language, target: d.relevance[d.target]!.train[0]!.language,
    });
  }
  mkdirSync(o.out, { recursive: true });
  const text = join(o.out, 'corpus.txt'), symbols = join(o.out, 'corpus.symbols');
  writeFileSync(text, corpus.lines.join('\n') + '\n');
  writeFileSync(symbols, corpus.symbols.join('\n') + '\n');
  try {
    spmTrain(o.out, vocabSize, lexFile !== null);
  } finally {
    rmSync(text, { force: true });
    rmSync(symbols, { force: true });
  }
  const model = join(o.out, `${TOKENIZER_NAME}.model`);
  const market = o.data ? { fingerprint: readMarketFingerprint(o.data)?.sha256 ?? null, data: marketDataHash(o.data) } : null;
  const pieces = readFileSync(vocabPath(model), 'utf8').split('\n').filter((l) => l !== '').length; // at most vocabSize from a small corpus
  const record = writeTokenizerRecord(model, { lexicon, market, recipe: lexFile ? LEXICON_RECIPE : MARKET_TEXT_RECIPE, vocabSize: pieces });
  log(`tokenizer: ${corpus.lines.length} corpus lines (${record.recipe}${lexicon ? `, lexicon ${lexicon.name}` : ''}) → ${model} (sha256 ${record.model.slice(0, 12)}…)`);
  return { model, record, lines: corpus.lines.length };
}
