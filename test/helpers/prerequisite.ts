// Tests that need a program from outside the repository (a Debian package) say so through here:
// without it they are skipped on a developer's machine, with the reason, but under CI (where
// .ci/run installs every prerequisite) the file fails at once naming the package: a missing
// prerequisite never turns into a silent skip where the suite is the evidence.

/** CI as the CI systems set it: any value but empty, "0" and "false". */
export const underCi = (env: NodeJS.ProcessEnv = process.env): boolean => !!env.CI && env.CI !== '0' && env.CI !== 'false';

/**
 * For `describe.skipIf` / `it.skipIf`: false when `found`; when missing, throws under CI and
 * otherwise warns and returns true. `what` names the program, `install` the command that adds it.
 */
export function missingPrerequisite(what: string, found: boolean, install: string): boolean {
  if (found) return false;
  const message = `${what} not found; install it with \`${install}\` (.ci/run does)`;
  if (underCi()) throw new Error(`${message}. Under CI a missing prerequisite fails the test instead of skipping it.`);
  console.warn(`[skipped] ${message}.`);
  return true;
}
