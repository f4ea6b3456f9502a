// npm run docs: regenerates docs/commands.md and docs/checks.md from the code.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { commandReference, checkCatalogue } from '../src/docs/generate.js';
import { loadChecks } from '../src/checks/loader.js';

const docs = fileURLToPath(new URL('../../docs/', import.meta.url));
const { checks } = await loadChecks();
await writeFile(docs + 'commands.md', await commandReference());
await writeFile(docs + 'checks.md', checkCatalogue(checks));
console.log(`wrote docs/commands.md and docs/checks.md (${checks.length} checks)`);
