#!/usr/bin/env bash
# Retrains the committed sentencepiece model (pipeline/tokenizer/csrm-spm.{model,vocab}) and writes its
# record (csrm-spm.json: the lexicon it was made from) with `csrm tokenizer` on the default lexicon
# (corpus: pipeline/tokenizer/tokenizer-corpus.ts; flags: pipeline/stages/tokenizer-stage.ts).
# Deterministic: fixed seed, one thread, no sampling or shuffling of the input, so a rerun writes the
# same bytes. Needs spm_train (Debian package `sentencepiece`; scripts/setup.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsx pipeline/cli/csrm.ts tokenizer --lexicon pipeline/data/lexicon/kr-tw.json --out pipeline/tokenizer
sha256sum pipeline/tokenizer/csrm-spm.model pipeline/tokenizer/csrm-spm.vocab
