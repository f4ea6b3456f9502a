// Writes oclif.manifest.json after every build. Without it oclif imports every command module to
// list the commands, so `kscan manifests` paid for client-node, trivy, audit and PDF code it never
// runs. With it, only the command invoked is loaded.
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Config } from '@oclif/core';

const root = fileURLToPath(new URL('../../', import.meta.url));
const manifestFile = path.join(root, 'oclif.manifest.json');
// oclif reads an existing manifest whatever the options say: remove it so the commands are scanned.
await rm(manifestFile, { force: true });
const config = await Config.load({ root });
const plugin = config.getPluginsList().find((p) => path.resolve(p.root) === path.resolve(root));
if (!plugin) throw new Error(`no oclif plugin at ${root}`);
const commandsDir = path.join('dist', 'src', 'commands');
const commands: Record<string, unknown> = {};
for (const command of plugin.commands) {
  const { id } = command;
  // Where oclif finds the command without scanning: <id parts>.js, or <id parts>/index.js for a topic command.
  const parts = id.split(':');
  const file = existsSync(path.join(root, commandsDir, ...parts) + '.js') ? [...parts.slice(0, -1), `${parts.at(-1)}.js`] : [...parts, 'index.js'];
  // The cached form oclif itself builds (flags, args, descriptions), without the loader function.
  const { load: _load, ...cached } = command as typeof command & { load?: unknown };
  commands[id] = { ...cached, isESM: true, relativePath: [...commandsDir.split(path.sep), ...file] };
}
await writeFile(manifestFile, JSON.stringify({ commands, version: plugin.version }, null, 2) + '\n');
