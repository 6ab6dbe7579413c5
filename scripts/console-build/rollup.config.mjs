// The console's bundle: its modules as the browser loads them. With an empty cache, every file
// on the first list's path cost the browser about 4 ms on a 2-core machine (bench/console.py):
// the first screen was 23 modules. Built, it is two files: app.js (the console's root) and
// console.js (every other module of the first screen, boot.js's among them, which the page runs
// as soon as it arrives). The other screens stay apart, loaded when first opened or once the
// page is idle, each with the modules it alone needs; what two of them share, in a file of its
// own. BUILD.json records what each file was built from, for tests/console/test_assets.py.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SOURCES = path.resolve(HERE, '../../roster/static/console');
const OUT = path.join(SOURCES, 'bundle');
const ROOT = path.join(SOURCES, 'app.js');
const ROLLUP = JSON.parse(readFileSync(path.join(HERE, 'node_modules/rollup/package.json')));
const BANNER = [
  `// Built from roster/static/console/ by scripts/build-console (rollup ${ROLLUP.version}): do not`,
  '// edit; change the modules and build again. Preact (MIT), htm (Apache-2.0) and graphql-ws (MIT)',
  '// are part of it: their licences are in roster/static/console/vendor/.',
].join('\n');

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Whether module `id` is on the first screen: imported without import() from the root. */
function firstScreen(getModuleInfo) {
  const known = new Map();
  const reached = (id) => {
    if (known.has(id)) return known.get(id);
    known.set(id, false); // an import cycle does not reach the root through itself
    const yes = id === ROOT || getModuleInfo(id).importers.some(reached);
    known.set(id, yes);
    return yes;
  };
  return reached;
}

/** BUILD.json: each source's digest, and each built file's with the sources it holds. */
function recordBuild() {
  return {
    name: 'record-build',
    writeBundle(_, bundle) {
      const sources = new Set();
      const files = {};
      for (const name of Object.keys(bundle).sort()) {
        const modules = (bundle[name].moduleIds ?? []).map((id) => path.relative(SOURCES, id));
        for (const module of modules) sources.add(module);
        files[name] = { sha256: sha256(path.join(OUT, name)), modules: modules.sort() };
      }
      const digests = [...sources].sort().map((s) => [s, sha256(path.join(SOURCES, s))]);
      const record = { sources: Object.fromEntries(digests), files };
      writeFileSync(path.join(OUT, 'BUILD.json'), `${JSON.stringify(record, null, 2)}\n`);
    },
  };
}

let onFirstScreen;

export default {
  input: ROOT,
  plugins: [recordBuild()],
  output: {
    dir: OUT,
    format: 'es',
    banner: BANNER,
    entryFileNames: '[name].js',
    chunkFileNames: '[name].js',
    manualChunks(id, { getModuleInfo }) {
      onFirstScreen ??= firstScreen(getModuleInfo);
      return id !== ROOT && onFirstScreen(id) ? 'console' : undefined;
    },
  },
};
