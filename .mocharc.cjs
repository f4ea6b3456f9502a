// Tests are TypeScript compiled by `npm run build` into dist/test; the CLI under test is bin/run.js.
module.exports = {
  spec: process.env.KSCAN_TEST_SPEC ? process.env.KSCAN_TEST_SPEC.split(',') : ['dist/test/**/*.test.js'],
  reporter: './test/support/summary-reporter.cjs',
  timeout: 20000,
  'forbid-only': Boolean(process.env.CI),
};
