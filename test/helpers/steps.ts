/**
 * Named steps of a scenario test. A suite whose checks are one story (a log is sealed, then its
 * successor anchors, then a verifier follows the succession) is one `it`: mocha runs each `it` on
 * its own under `--grep`, so a later `it` may not rely on what an earlier one did. Each step of
 * the story runs under `step`, and a failure names the step it happened in.
 */

/**
 * Runs `body` as the step called `name` and returns what it returns; an error thrown inside
 * carries `step "name": ` in front of its message, so the report of a failed scenario says where.
 */
export async function step<T>(name: string, body: () => Promise<T> | T): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof Error && !error.message.startsWith("step ")) {
      error.message = `step "${name}": ${error.message}`;
    }
    throw error;
  }
}
