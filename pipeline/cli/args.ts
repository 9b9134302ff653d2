// A small flag parser for the csrm sub-commands: --name value, --flag (boolean), unknown flags are errors.
export interface FlagSpec {
  [name: string]: 'string' | 'number' | 'boolean';
}

export function parseFlags(cmd: string, argv: string[], spec: FlagSpec, usage: string): Record<string, string | number | boolean | undefined> {
  const out: Record<string, string | number | boolean | undefined> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`csrm ${cmd}: unexpected argument "${a}"\n${usage}`);
    const name = a.slice(2);
    const type = spec[name];
    if (!type) throw new Error(`csrm ${cmd}: unknown option ${a}\n${usage}`);
    if (type === 'boolean') {
      out[name] = true;
      continue;
    }
    const v = argv[++i];
    if (v === undefined || v.startsWith('--')) throw new Error(`csrm ${cmd}: ${a} needs a value\n${usage}`);
    if (type === 'number') {
      const n = Number(v);
      if (!Number.isFinite(n)) throw new Error(`csrm ${cmd}: ${a} must be a number, got "${v}"\n${usage}`);
      out[name] = n;
    } else out[name] = v;
  }
  return out;
}

export function req<T>(cmd: string, v: T | undefined, name: string, usage: string): T {
  if (v === undefined) throw new Error(`csrm ${cmd}: --${name} is required\n${usage}`);
  return v;
}
