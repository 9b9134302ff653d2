// sentencepiece-js ships no types; this is the part of its API the tokenizer uses.
declare module 'sentencepiece-js' {
  export class SentencePieceProcessor {
    load(path: string): Promise<void>;
    encodeIds(text: string): number[];
    encodePieces(text: string): string[];
    decodeIds(ids: number[]): string;
  }
  export function cleanText(text: string): string;
  const _default: { SentencePieceProcessor: typeof SentencePieceProcessor; cleanText: typeof cleanText };
  export default _default;
}
