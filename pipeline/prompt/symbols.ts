// The fixed words of every prompt, which the tokenizer keeps as single pieces (sentencepiece
// user-defined symbols). A tiny model's context is short: the constant instruction of each task
// costs one token, and each field name with its colon one more, instead of a dozen sub-word pieces.
import type { TranslationKind } from '../data/schema.ts';
import { ANSWER_SLOT, FIELD_NAMES, RELEVANCE_INSTRUCTION } from './relevance-prompt.ts';
import { TARGET_SLOT, translationInstruction } from './translation-prompt.ts';

/** The three label tokens, first: their ids must be stable and each must be one piece. */
export const LABEL_SYMBOLS = ['0', '1', '2'] as const;

export function promptSymbols(sourceLanguage: string, targetLanguage: string): string[] {
  const kinds: TranslationKind[] = ['category', 'brand', 'title', 'query', 'word'];
  return [
    ...LABEL_SYMBOLS,
    // Instructions open the prompt, where sentencepiece's dummy prefix puts a space before them.
    ` ${RELEVANCE_INSTRUCTION}`,
    ...kinds.map((k) => ` ${translationInstruction(k, sourceLanguage, targetLanguage)}`),
    ...Object.values(FIELD_NAMES).map((n) => `${n}:`),
    ANSWER_SLOT,
    'source:',
    TARGET_SLOT,
  ];
}
