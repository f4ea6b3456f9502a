import { Flags } from '@oclif/core';
import { KscanCommand, EXIT } from '../../cli/base.js';
import { scanFlags } from '../../cli/flags.js';
import { loadForCli } from '../../cli/checks.js';
import { orphanFixtures, testChecks } from '../../checks/fixtures.js';
import { InputFailure } from '../../util/errors.js';

export default class ChecksTest extends KscanCommand {
  static override summary = "Run every check's pass and fail fixtures.";
  static override description = 'Each check needs <id>.pass.yaml (no finding allowed) and <id>.fail.yaml (every matching document must produce a finding, with the exact paths listed in a kscan.io/test-expect annotation when present). Exit code 1 when any fixture fails.';
  static override examples = ['<%= config.bin %> checks test', '<%= config.bin %> checks test --check KS-WL-001', '<%= config.bin %> checks test --checks-dir ./my-checks'];
  static override flags = {
    check: Flags.string({ description: "Only run this check's fixtures (repeatable).", multiple: true }),
    'checks-dir': scanFlags['checks-dir'],
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ChecksTest);
    const { checks, dirs, loadErrors } = await loadForCli(flags['checks-dir']);
    const wanted = flags.check?.map((id) => id.toLowerCase());
    const selected = wanted ? checks.filter((c) => wanted.includes(c.id.toLowerCase())) : checks;
    if (wanted && selected.length !== wanted.length) throw new InputFailure(`unknown check id in --check ${flags.check!.join(', ')}`);
    const outcomes = [...(await testChecks(selected)), ...(wanted ? [] : await orphanFixtures(dirs, checks))];
    for (const outcome of outcomes) {
      process.stdout.write(`${outcome.ok ? 'ok  ' : 'FAIL'} ${outcome.checkId} ${outcome.fixture} ${outcome.file}\n`);
      for (const problem of outcome.problems) process.stdout.write(`       ${problem}\n`);
    }
    for (const error of loadErrors) process.stdout.write(`FAIL load ${error}\n`);
    const failed = outcomes.filter((o) => !o.ok).length + loadErrors.length;
    process.stdout.write(`${outcomes.length - outcomes.filter((o) => !o.ok).length} fixtures passed, ${failed} failed (${selected.length} checks)\n`);
    if (loadErrors.length) this.exit(EXIT.usage);
    if (failed) this.exit(EXIT.findings);
  }
}
