// `npm run build`: the two esbuild bundles of bin/drydock.js, from an empty dist/.
//   dist/cli.js    the full CLI; each command its own lazily imported chunk (dist/chunks/)
//   dist/main.js   the bin's entry: `allowlist check` answered without commander, one file, no
//                  shared chunks (every module file costs start-up time); everything else
//                  imports dist/cli.js (kept external)
// Both are ESM for Node 20+, with a `require` for the CommonJS dependencies that need one.
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
  // kubernetes-models' validator asks for `punycode`, which Node 21+ deprecates with a warning on
  // every run: bundle the userland package of the same name instead (`punycode/`, as it documents).
  alias: { punycode: 'punycode/' },
  logLevel: 'info',
};

rmSync(dist, { recursive: true, force: true });
await build({ ...common, entryPoints: [join(root, 'lib/cli.ts')], splitting: true, outdir: dist, chunkNames: 'chunks/[name]-[hash]' });
await build({ ...common, entryPoints: [join(root, 'lib/main.ts')], outfile: join(dist, 'main.js'), external: ['./cli.js'] });
