// Prompts for the four auxiliary translation tasks (section 3.2): the kind and the language pair
// are named, the source text follows, and the answer is the target text.
import type { TranslationKind, TranslationPair } from '../data/schema.ts';

export const TRANSLATION_INSTRUCTION: Record<TranslationKind, string> = {
  category: 'Translate category',
  brand: 'Translate brand',
  title: 'Translate title',
  query: 'Translate query',
  word: 'Translate word',
};
export const TARGET_SLOT = 'target:';

export interface TranslationPrompt {
  prompt: string;
  answer: string;
}

export function translationInstruction(kind: TranslationKind, source: string, target: string): string {
  return `${TRANSLATION_INSTRUCTION[kind]} ${source} > ${target}`;
}

export function buildTranslationPrompt(p: TranslationPair): TranslationPrompt {
  return {
    prompt: `${translationInstruction(p.kind, p.source_language, p.target_language)}\nsource: ${p.source}\n${TARGET_SLOT}`,
    answer: p.target,
  };
}
