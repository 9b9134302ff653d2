// A peer that fails to load becomes a visible note (its reason), never a crash of the run.
/** Why `load` fails here, or null when it loads. */
export function unavailable(load: () => Promise<unknown>): Promise<string | null> {
  return load().then(
    () => null,
    (e: unknown) => String((e as Error)?.message ?? e),
  );
}
