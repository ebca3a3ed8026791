/** The error `p` rejects with (a KoncliError's kind and details readable); fails the test when `p` resolves. */
export async function rejection(p: Promise<unknown>): Promise<Error & { kind?: string; details?: Record<string, unknown> }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { kind?: string; details?: Record<string, unknown> };
  }
  throw new Error('expected a failure');
}
