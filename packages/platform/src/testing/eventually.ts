/** Retries an assertion until it passes or `timeoutMs` runs out (then throws its last error). */
export async function eventually<T>(assertion: () => Promise<T> | T, timeoutMs = 5_000, intervalMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await assertion();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}
