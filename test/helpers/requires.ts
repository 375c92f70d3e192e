/**
 * Suites that need something this machine may lack (root, tinyproxy, docker-compose). On a
 * developer's machine without it they are skipped, saying why; in CI (CI=true) a missing
 * prerequisite is a FAILED test naming it, never a silent skip: `npm run test:all` installs
 * everything the tiers need (test/setup-debian.sh), so a missing piece there is a broken setup.
 */
import { describe, it } from 'vitest';

export function inCi(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CI === 'true' || env.CI === '1';
}

export function describeIf(available: boolean, needs: string, name: string, body: () => void): void {
  if (available) describe(name, body);
  else if (inCi()) {
    describe(name, () => {
      it(`needs ${needs}`, () => {
        throw new Error(`CI=true, but this machine lacks ${needs}: run test/setup-debian.sh (npm run test:all does)`);
      });
    });
  } else describe.skip(`${name} (skipped: needs ${needs})`, body);
}
