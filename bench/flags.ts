// Command-line flags of the stand-alone bench scripts (`--name value` pairs): every flag must be a
// known one with a value, and a bad value is an error naming the script, the flag and the value.
export interface ScriptFlags {
  /** The flag's value, or `dflt` when absent. */
  opt(name: string, dflt: string): string;
  /** The flag's value as a positive integer. */
  posInt(name: string, dflt: string): number;
  /** The flag's value as a comma-separated list of positive integers. */
  posInts(name: string, dflt: string): number[];
}

export function scriptFlags(script: string, argv: readonly string[], flags: readonly string[]): ScriptFlags {
  for (let i = 0; i < argv.length; i += 2) {
    const f = argv[i]!.replace(/^--/, '');
    if (!argv[i]!.startsWith('--') || !flags.includes(f) || argv[i + 1] === undefined) {
      throw new Error(`${script}: unknown flag or missing value: ${argv[i]} (flags: ${flags.map((x) => `--${x}`).join(' ')})`);
    }
  }
  const opt = (name: string, dflt: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1]! : dflt;
  };
  const posInts = (name: string, dflt: string) =>
    opt(name, dflt)
      .split(',')
      .map((x) => {
        const v = Number(x);
        if (x.trim() === '' || !Number.isInteger(v) || v < 1) throw new Error(`${script}: --${name}: "${x}" is not a positive integer`);
        return v;
      });
  const posInt = (name: string, dflt: string) => {
    const v = posInts(name, dflt);
    if (v.length !== 1) throw new Error(`${script}: --${name}: "${opt(name, dflt)}" is not one positive integer`);
    return v[0]!;
  };
  return { opt, posInt, posInts };
}
