/**
 * Second pass of the dependency check (issue 17): cycles between folders of production code
 * (edge admin <-> sla, provisioner api <-> dashboard), tests left out since a test may import
 * from anywhere. The module-level rules are in .dependency-cruiser.cjs.
 */
const base = require('./.dependency-cruiser.cjs');

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-folder-cycles',
      severity: 'error',
      comment: 'A feature folder depends on another one way only: move what both share to where both can import it.',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    ...base.options,
    exclude: { path: '(^|/)(node_modules|dist|\\.wrangler|\\.data|test)/|\\.test\\.ts$' },
  },
};
