/**
 * The module boundaries, as rules that read as sentences. `npm run check` fails on any
 * violation; packages/app/test/boundaries.test.ts shows each rule catching a seeded one.
 * (Package `exports` close the other door: `@shop/inventory/src/...` does not resolve.)
 */
const fs = require('node:fs');
const path = require('node:path');

/** The modules, found by their anatomy (a package with a `contract/` folder) as scripts/modules.ts finds them: a new module is covered without an edit here. */
const MODULES = fs
  .readdirSync(path.join(__dirname, 'packages'))
  .filter((name) => fs.existsSync(path.join(__dirname, 'packages', name, 'contract')))
  .join('|');

/** @type {import('dependency-cruiser').IConfiguration['forbidden']} */
const forbidden = [
  {
    name: 'module-reaches-only-contracts',
    comment: "A module uses another module only through that module's contract, never its implementation.",
    severity: 'error',
    from: { path: `^packages/(${MODULES})/(src|test|migrations)/` },
    to: { path: `^packages/(${MODULES})/(src|migrations)/`, pathNot: '^packages/$1/' },
  },
  {
    name: 'contract-is-a-leaf',
    comment: 'A contract depends on no module: only on itself and the contract kit.',
    severity: 'error',
    from: { path: '^packages/([^/]+)/contract/' },
    to: { path: '^packages/', pathNot: ['^packages/$1/contract/', '^packages/contract-kit/'] },
  },
  {
    name: 'platform-knows-no-module',
    comment: 'platform holds cross-cutting pieces; it never imports a module or the app.',
    severity: 'error',
    from: { path: '^packages/(platform|contract-kit)/' },
    to: { path: '^packages/', pathNot: '^packages/(platform|contract-kit)/' },
  },
  {
    name: 'only-app-composes',
    comment: 'app is the composition root: nothing imports it.',
    severity: 'error',
    from: { path: '^packages/', pathNot: '^packages/app/' },
    to: { path: '^packages/app/' },
  },
  {
    name: 'modules-never-leave-the-process',
    comment:
      "Where a module runs is the composition root's business: a module never imports the distribution machinery (remote calls, shadow, traffic split, control plane, NATS) or the platform's internals.",
    severity: 'error',
    from: { path: `^packages/(${MODULES})/` },
    to: { path: ['^packages/distribution/', '^packages/platform/src/internals[.]ts$'] },
  },
  {
    name: 'distribution-knows-no-module',
    comment: 'The distribution machinery builds on platform and contract-kit only: it reaches a module through its contract at run time, never its code.',
    severity: 'error',
    from: { path: '^packages/distribution/' },
    to: { path: '^packages/', pathNot: '^packages/(distribution|platform|contract-kit)/' },
  },
  {
    name: 'no-cycles',
    comment: 'No cycle between files, hence none between modules.',
    severity: 'error',
    from: { path: '^packages/' },
    to: { circular: true },
  },
  {
    name: 'no-unresolvable',
    comment: 'Every import resolves (a path not in package exports does not).',
    severity: 'error',
    from: { path: '^packages/' },
    to: { couldNotResolve: true },
  },
];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['packages/app/test/fixtures/', '^release/'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'default'], extensions: ['.ts', '.js'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
