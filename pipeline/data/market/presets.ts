// Sizes of a generated market. `demo` is sized for the CPU demo (a tiny decoder; enough source labels
// that it generalises instead of memorising: 3,000 were too few, measured), target = 10% of source;
// `paper` keeps the paper's ratios (section 4.1) at 1/100 scale: target labels = 10% of source
// labels, translation sets 50K : 50K : 700K : 30K against 5M labels. Its dev and test sets are
// larger than 1/100 of the paper's 20K: with 5,000 test samples (about 620 queries) per market, the
// paired 95% interval of a difference is ±1.1 F1 points when 15% of the samples are discordant and
// err independently (1.96·√(0.15/5000)); wider when a query's samples err together.

export type PresetName = 'tiny' | 'demo' | 'paper';
export const PRESETS: readonly PresetName[] = ['tiny', 'demo', 'paper'];

export interface MarketSize {
  /** Product concepts; each is listed in one or both markets. */
  products: number;
  sourceTrain: number;
  targetTrain: number;
  /** Dev and test samples per market; the two markets' dev and test sets are translations of each other. */
  dev: number;
  test: number;
  /** Products judged per query. */
  perQuery: number;
  /** Human-label noise on training splits. */
  noiseRate: number;
  /** Share of alias queries among all queries. */
  aliasShare: number;
  sourceSessions: number;
  targetSessions: number;
  /** Pairs per translation kind; `word` pairs come from the dictionary bridge and need one. */
  translations: { category: number; brand: number; title: number; query: number; word: number };
}

export const PRESET_SIZES: Record<PresetName, MarketSize> = {
  tiny: {
    products: 200, sourceTrain: 320, targetTrain: 64, dev: 48, test: 64, perQuery: 4,
    noiseRate: 0.1, aliasShare: 0.15, sourceSessions: 1500, targetSessions: 150,
    translations: { category: 80, brand: 80, title: 80, query: 40, word: 0 },
  },
  demo: {
    products: 1000, sourceTrain: 12000, targetTrain: 1200, dev: 300, test: 400, perQuery: 4,
    noiseRate: 0.1, aliasShare: 0.15, sourceSessions: 120000, targetSessions: 8000,
    translations: { category: 400, brand: 200, title: 1500, query: 600, word: 0 },
  },
  paper: {
    products: 3000, sourceTrain: 50000, targetTrain: 5000, dev: 2000, test: 5000, perQuery: 5,
    noiseRate: 0.1, aliasShare: 0.1, sourceSessions: 100000, targetSessions: 8000,
    translations: { category: 500, brand: 500, title: 7000, query: 300, word: 0 },
  },
};
