// Meta-tests on the built-in corpus: every check loads, is documented, and passes its own fixtures.
import { expect } from 'chai';
import path from 'node:path';
import { loadChecks, BUILTIN_CHECKS_DIR, type Check } from '../../src/checks/loader.js';
import { orphanFixtures, testChecks } from '../../src/checks/fixtures.js';

describe('built-in check corpus', () => {
  let checks: Check[];

  before(async () => {
    const loaded = await loadChecks();
    expect(loaded.errors, 'load errors').to.deep.equal([]);
    checks = loaded.checks;
  });

  it('has at least 20 checks', () => {
    expect(checks.length).to.be.at.least(20);
  });

  it('names each file after its id and places it in its category directory', () => {
    for (const check of checks) {
      expect(path.basename(check.file), check.id).to.equal(`${check.id}.yaml`);
      expect(path.basename(path.dirname(check.file)), check.id).to.equal(check.category);
      expect(check.id, check.file).to.match(/^KS-[A-Z]+-\d{3}$/);
    }
  });

  it('documents every check: description, remediation as a sentence, framework controls', () => {
    for (const check of checks) {
      expect(check.description, `${check.id} description`).to.be.a('string').and.not.be.empty;
      expect(check.remediation.trim(), `${check.id} remediation`).to.match(/[.]$/);
      expect(check.remediation.trim()[0], `${check.id} remediation`).to.match(/[A-Z]/);
      expect(Object.keys(check.controls).length, `${check.id} controls`).to.be.greaterThan(0);
    }
  });

  it('passes every pass fixture and fails every fail fixture, at the expected paths', async () => {
    const outcomes = await testChecks(checks);
    const failures = outcomes.filter((o) => !o.ok).map((o) => `${o.checkId} ${o.fixture}: ${o.problems.join('; ')}`);
    expect(failures).to.deep.equal([]);
    expect(outcomes.length).to.equal(checks.length * 2);
  });

  it('has no fixture without a check', async () => {
    expect((await orphanFixtures([BUILTIN_CHECKS_DIR], checks)).map((o) => o.file)).to.deep.equal([]);
  });
});
