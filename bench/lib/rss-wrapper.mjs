#!/usr/bin/env node
// Fallback for machines without GNU time: runs a Node script in this same process and, when the
// process exits (however it exits: oclif calls process.exit), writes its peak RSS in KiB and CPU time
// (process.resourceUsage(): the same getrusage figures GNU time reports) to a file as JSON.
//
//   node bench/lib/rss-wrapper.mjs <rss-file> <script> [args...]
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [rssFile, script, ...args] = process.argv.slice(2);
if (!rssFile || !script) {
  console.error('usage: rss-wrapper.mjs <rss-file> <script> [args...]');
  process.exit(2);
}
process.on('exit', () => {
  const { maxRSS, userCPUTime, systemCPUTime } = process.resourceUsage();
  writeFileSync(rssFile, JSON.stringify({ maxRSS, userCPUTime, systemCPUTime }));
});
process.argv = [process.argv[0], path.resolve(script), ...args];
await import(pathToFileURL(path.resolve(script)).href);
