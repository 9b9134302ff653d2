#!/usr/bin/env bash
# Retrains the committed sentencepiece model (pipeline/tokenizer/csrm-spm.{model,vocab}) from the
# generated bilingual corpus. Deterministic: fixed seed, one thread, no sampling or shuffling of the
# input, so a rerun writes the same bytes. Needs spm_train (Debian package `sentencepiece`).
set -euo pipefail
cd "$(dirname "$0")/.."
# A fixed, repository-relative work directory: spm_train records its input paths in the model.
tmp=runs/tokenizer-corpus
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
npx tsx scripts/tokenizer-corpus.ts "$tmp/corpus.txt"
# unigram, ~3K pieces for the small models here; the corpus is curated text, so every character in
# it (all CJK characters of the lexicon, rare ones such as 神 in 神仙水 included) is kept: coverage 1.0
# rather than the usual 0.9995, which would push rare Hanja/Hangul to byte pieces. The label
# tokens 0, 1, 2 and the prompts' fixed words (pipeline/prompt/symbols.ts) are user-defined so each
# is always one piece; digits split so numbers are regular;
# byte fallback and identity normalisation make decode(encode(text)) == text for any text.
spm_train \
  --input="$tmp/corpus.txt" \
  --model_prefix=pipeline/tokenizer/csrm-spm \
  --model_type=unigram \
  --vocab_size=3000 \
  --character_coverage=1.0 \
  --user_defined_symbols_file="$tmp/corpus.symbols" \
  --split_digits=true \
  --byte_fallback=true \
  --normalization_rule_name=identity \
  --remove_extra_whitespaces=false \
  --pad_id=0 --unk_id=1 --bos_id=2 --eos_id=3 \
  --num_threads=1 \
  --input_sentence_size=0 \
  --shuffle_input_sentence=false \
  --random_seed=20240601 \
  --minloglevel=1
sha256sum pipeline/tokenizer/csrm-spm.model pipeline/tokenizer/csrm-spm.vocab
