import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

/**
 * `npm run build`: the app as plain JavaScript in `packages/app/dist/`, what `npm start` runs.
 *
 * Why: under tsx every start transpiles every source file and carries tsx's loader (a worker
 * with esbuild) for the life of the process: +1.5 s to ready and +50 MB of RSS, measured in
 * docs/performance.md. The workspace's own packages (`@shop/*`) are bundled; npm packages stay
 * external and load from node_modules as usual. Tests and `npm run dev`-style runs keep using
 * tsx on the sources, so nothing needs a build to be tested.
 *
 * Two things a bundle would otherwise break, handled here:
 * - `import.meta.url` in a source file (modules find their `migrations/` next to their `src/`)
 *   is rewritten to that file's own URL, relative to the bundle, so it still points at the source tree;
 * - an npm package a workspace resolves from its own `node_modules` (a version nested there)
 *   is imported by its path from the bundle, since the bundle's folder would find another one.
 */
const ROOT = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
const OUT_DIR = path.join(ROOT, 'packages/app/dist');

/**
 * npm packages bundled too: pure ESM, loaded by nothing but our code (so there is one copy), and
 * made of many small files whose one-by-one loading was most of a start (importing each alone:
 * TypeBox ~230 ms, Kysely ~170 ms, jose ~60 ms). Start-to-ready went from 1.8–2.3 s to 1.5–1.8 s
 * (bench footprint group, alternated). Each is exercised through the build by build.test.ts.
 */
const BUNDLED_PACKAGES = new Set(['typebox', 'kysely', 'jose']);

/** The folder of `name` as Node finds it from `from`: the nearest `node_modules/<name>` up the tree. */
function packageDir(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

const workspaceBundled: Plugin = {
  name: 'workspace-bundled',
  setup(builder) {
    builder.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('node:') || args.path.startsWith('@shop/')) return undefined;
      const name = packageName(args.path);
      if (BUNDLED_PACKAGES.has(name)) return undefined;
      const fromImporter = packageDir(name, args.resolveDir);
      if (!fromImporter || fromImporter === packageDir(name, OUT_DIR)) return { path: args.path, external: true };
      // Nested under a workspace: point at the file Node would load for it (CommonJS resolution).
      const file = createRequire(path.join(args.resolveDir, 'noop.js')).resolve(args.path);
      const relative = path.relative(OUT_DIR, file).split(path.sep).join('/');
      return { path: relative.startsWith('.') ? relative : `./${relative}`, external: true };
    });
    builder.onLoad({ filter: /\.ts$/ }, async (args) => {
      let contents = await readFile(args.path, 'utf8');
      if (contents.includes('import.meta.url')) {
        const own = path.relative(OUT_DIR, args.path).split(path.sep).join('/');
        contents = contents.replaceAll('import.meta.url', `new URL(${JSON.stringify(own)}, import.meta.url).href`);
      }
      return { contents, loader: 'ts' };
    });
  },
};

const result = await build({
  // migrate: the migrations alone, then exit; what the Kubernetes migration Job runs (deploy/).
  entryPoints: { main: path.join(ROOT, 'packages/app/src/main.ts'), migrate: path.join(ROOT, 'packages/app/src/migrate-main.ts') },
  outdir: OUT_DIR,
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20.19',
  sourcemap: true,
  logLevel: 'warning',
  metafile: true,
  absWorkingDir: ROOT,
  plugins: [workspaceBundled],
});

// Chunk names carry a hash: what an earlier build left and this one did not write goes. Files are
// overwritten in place, not the folder emptied first, so a process of the same checkout starting
// meanwhile (a second `npm start`, as in the extraction guide) never finds its chunks missing.
const written = new Set(Object.keys(result.metafile.outputs).map((file) => path.resolve(ROOT, file)));
for (const file of await readdir(OUT_DIR)) {
  if (!written.has(path.join(OUT_DIR, file))) await rm(path.join(OUT_DIR, file), { force: true });
}
