/**
 * Dependency rules (issue 17), checked by `npm run lint` and so by CI:
 * no import cycles (type-only imports included), and one-way package directions:
 * contracts <- edge; contracts <- platform <- provisioner <- functions (the Azure host composes them);
 * app-runtime stands beside them. Nothing under a `src` folder imports test code.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'Import cycles (type-only imports included): move what both sides share to where both can import it.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'edge-stays-on-the-edge',
      severity: 'error',
      comment: 'The edge worker is bundled on its own: it may import contracts/, never the Node-side packages.',
      from: { path: '^edge/' },
      to: { path: '^(functions|provisioner|platform|app-runtime|scripts|bench)/' },
    },
    {
      name: 'platform-imports-no-api',
      severity: 'error',
      comment:
        'platform/ is the shared layer under every API: it never imports an API, the provisioner or app-runtime.',
      from: { path: '^platform/' },
      to: { path: '^(functions|provisioner|app-runtime|edge)/' },
    },
    {
      name: 'provisioner-imports-no-functions',
      severity: 'error',
      comment: 'The provisioner depends on platform/, never on the functions host that composes it.',
      from: { path: '^provisioner/' },
      to: { path: '^(functions|app-runtime|edge|scripts|bench)/' },
    },
    {
      name: 'contracts-stand-alone',
      severity: 'error',
      comment: 'contracts/ is dependency-free: importable by the edge bundle and the Node side alike.',
      from: { path: '^contracts/' },
      to: { pathNot: '^contracts/' },
    },
    {
      name: 'src-imports-no-tests',
      severity: 'error',
      comment: 'Code under a src folder never imports a test folder or a test file: test code stays out of dist.',
      from: { path: '(^|/)src/', pathNot: '\\.test\\.ts$' },
      to: { path: '((^|/)test/|\\.test\\.ts$)' },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      comment: 'A relative import that resolves to no file.',
      from: {},
      to: { couldNotResolve: true, pathNot: '^cloudflare:' },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '(^|/)(node_modules|dist|\\.wrangler|\\.data)/' },
    doNotFollow: { path: 'node_modules' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.d.ts', '.json'],
    },
    skipAnalysisNotInRules: true,
  },
};
