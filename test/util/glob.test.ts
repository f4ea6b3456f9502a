// Exception and ignore-list patterns: `*` is the only wildcard, everything else literal.
import { expect } from 'chai';
import { globMatch, globMatcher } from '../../src/util/glob.js';
import { renderJson } from '../../src/report/json.js';
import type { ScanResult } from '../../src/scan/result.js';

describe('glob patterns', () => {
  it('matches * as any run of characters and everything else literally', () => {
    const cases: [string, string, boolean][] = [
      ['KS-WL-*', 'KS-WL-001', true],
      ['KS-WL-*', 'KS-NET-001', false],
      ['api-*', 'api-', true],
      ['*-gateway', 'edge-gateway', true],
      ['calico-*-node', 'calico-x-node', true],
      ['a.b', 'axb', false],
      ['(a|b)', '(a|b)', true],
      ['*', '', true],
      ['', '', true],
      ['', 'x', false],
      ['**a**', 'bab', true],
      ['a*b*c', 'abacbc', true],
      ['a*b*c', 'abacb', false],
    ];
    for (const [pattern, value, expected] of cases) expect(globMatch(pattern, value), `${pattern} ~ ${value}`).to.equal(expected);
    expect(globMatcher(undefined)).to.equal(undefined);
    expect(globMatcher(['x', 'y*'])!('yes')).to.equal(true);
  });

  it('answers patterns that would make a backtracking regex take seconds', () => {
    // As a regular expression this pair took 4.7 s; the mocha timeout is the guard, the answers are the test.
    const name = 'a'.repeat(50);
    expect(globMatch('*a*a*a*a*a*a*a*a*b', name)).to.equal(false);
    expect(globMatch('*a*a*a*a*a*a*a*a*a', name)).to.equal(true);
    expect(globMatch('*a*a*a*a*a*a*a*a*b', 'a'.repeat(5000) + 'b')).to.equal(true);
  });

  it('escapes C1 control characters in JSON output, keeping the value', () => {
    const result = { findings: [{ message: 'x\u009b31mred' }] } as unknown as ScanResult;
    const text = renderJson(result);
    expect(text).to.contain('x\\u009b31mred');
    expect(/[\u0080-\u009f]/.test(text)).to.equal(false);
    expect((JSON.parse(text) as { findings: { message: string }[] }).findings[0].message).to.equal('x\u009b31mred');
  });
});
