// Generated docs must match the code: run `npm run docs` after changing commands or checks.
import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { commandReference, checkCatalogue } from '../src/docs/generate.js';
import { loadChecks } from '../src/checks/loader.js';

const read = (name: string) => readFile(new URL(`../../docs/${name}`, import.meta.url), 'utf8');

describe('generated docs', () => {
  it('docs/commands.md matches the commands (run npm run docs)', async () => {
    expect(await read('commands.md')).to.equal(await commandReference());
  });

  it('docs/checks.md matches the check corpus (run npm run docs)', async () => {
    const { checks } = await loadChecks();
    expect(await read('checks.md')).to.equal(checkCatalogue(checks));
  });
});
