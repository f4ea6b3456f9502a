import { Flags } from '@oclif/core';
import { writeStdout } from '../cli/stdout.js';
import { EXIT, KscanCommand } from '../cli/base.js';
import { connectionFlags, imageFlags, scanFlags } from '../cli/flags.js';
import { collectLive } from '../collect/live.js';
import { readSnapshot } from '../collect/snapshot.js';
import { collectFiles } from '../collect/files.js';
import { Inventory } from '../inventory/inventory.js';
import { runImagePipeline } from '../images/pipeline.js';
import { imagePipelineOptions } from '../images/cli.js';
import { buildFleet } from '../images/fleet.js';
import { imagesResult } from '../images/section.js';
import { cveView, listView, readImageList, vulnsView, zombieImages } from '../images/views.js';
import { rankBases } from '../images/analyze.js';
import { terminalSafe } from '../report/sanitize.js';
import { SEVERITY_RANK, emptyCollection, type Collection, type Severity } from '../model/types.js';
import { findingClasses } from '../images/findings.js';

export default class Images extends KscanCommand {
  static override summary = 'List the images workloads run, with digests, workloads, replicas, base images and vulnerabilities.';
  static override description = 'Reads the cluster (or --snapshot, or --manifests), finds every container image of every workload, and joins scan results from the snapshot\'s images/, --image-results, or trivy (--scan). With --image-results and no --snapshot, --manifests, --kubeconfig, --context or --in-cluster, the results are analysed alone, without contacting a cluster (a CI gate before deployment). Views: the list (default), --vulns (top vulnerable images and the base images to fix first), --cve (which images and workloads carry one vulnerability), --registry-list (images no workload uses).';
  static override examples = [
    '<%= config.bin %> images --snapshot fixtures/demo',
    '<%= config.bin %> images --snapshot fixtures/demo --vulns',
    '<%= config.bin %> images --snapshot fixtures/demo --cve CVE-2024-5535',
    '<%= config.bin %> images --scan --skip-db-update --trivy /usr/local/bin/trivy',
    '<%= config.bin %> images --manifests k8s/ --image-results trivy-reports/ --format json',
    '<%= config.bin %> images --image-results trivy-reports/ --ignore-file accepted.yaml --fail-on critical',
  ];
  static override flags = {
    ...connectionFlags,
    snapshot: Flags.string({ description: 'Read a snapshot (directory or .tar.gz) instead of a live cluster; its images/ results are used.', exclusive: ['kubeconfig', 'context', 'in-cluster', 'manifests'] }),
    manifests: Flags.string({ description: 'Read images from manifest files or directories instead of a cluster (repeatable).', multiple: true, exclusive: ['kubeconfig', 'context', 'in-cluster'] }),
    scan: Flags.boolean({ description: 'Run trivy on every image that has no result yet.' }),
    vulns: Flags.boolean({ description: 'Show the top vulnerable images and the base images to fix first.' }),
    cve: Flags.string({ description: 'Show the images carrying this vulnerability and the workloads running them.' }),
    'registry-list': Flags.string({ description: 'File of image references (one per line) in your registry: lists those no workload uses.' }),
    limit: Flags.integer({ description: 'Rows in the --vulns tables.', default: 20, min: 1 }),
    format: Flags.string({ char: 'f', description: 'text or json.', options: ['text', 'json'], default: 'text' }),
    'fail-on': { ...scanFlags['fail-on'], description: 'Exit with code 1 when an image finding (KS-IMG-*: critical/high vulnerabilities with a fix, critical without, images not scanned) has this severity or worse.' },
    ...imageFlags,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Images);
    let collection: Collection;
    if (flags.snapshot) collection = await readSnapshot(flags.snapshot);
    else if (flags.manifests?.length) collection = await collectFiles(flags.manifests);
    // Results alone (a CI gate before deployment): no cluster is contacted unless one is named.
    else if (flags['image-results']?.length && !flags.kubeconfig && !flags.context && !flags['in-cluster']) collection = emptyCollection(new Date());
    else collection = await collectLive({ kubeconfig: flags.kubeconfig, context: flags.context, inCluster: flags['in-cluster'], kubeletConfigz: false });
    const inventory = new Inventory(collection.objects);
    const progress = flags.format === 'text' && process.stderr.isTTY && !process.env.CI ? (done: number, total: number) => process.stderr.write(`\r\u001b[Kscanning images ${done}/${total}${done === total ? '\n' : ''}`) : undefined;
    const { analysis, errors } = await runImagePipeline(collection, inventory, { ...imagePipelineOptions(flags, flags.scan), onProgress: progress });
    const zombies = flags['registry-list'] ? zombieImages(await readImageList(flags['registry-list']), buildFleet(inventory)) : undefined;
    const problems = [...collection.coverage.errors, ...errors];
    if (flags.format === 'json') {
      const json = { ...imagesResult(analysis, flags.limit), ...(zombies ? { zombies } : {}), errors: problems };
      await writeStdout(JSON.stringify(json, null, 2) + '\n');
    } else {
      const out: string[] = [];
      if (flags.cve) out.push(...cveView(analysis, flags.cve));
      else if (flags.vulns) {
        out.push('Top vulnerable images (risk: README "Image risk"):', ...vulnsView(analysis, flags.limit), '', 'Fix these base images first:');
        for (const r of rankBases(analysis).filter((b) => b.fixableSerious).slice(0, flags.limit)) {
          out.push(`  ${terminalSafe(r.base.name)}: upgrading removes ${r.fixableSerious} critical/high vulnerabilities from ${r.workloads.length} workloads (${r.images.length} images, risk ${r.risk})`);
          for (const fix of r.fixes.slice(0, 5)) out.push(`    ${terminalSafe(fix.pkg)} ${terminalSafe(fix.installed)} → ${terminalSafe(fix.fixed)} (${fix.ids.join(', ')})`);
        }
      } else out.push(...listView(analysis));
      if (zombies) out.push('', `Images in ${terminalSafe(flags['registry-list']!)} used by no workload (${zombies.length}):`, ...zombies.map((z) => `  ${terminalSafe(z)}`));
      if (problems.length) out.push('', `Input problems (${problems.length}):`, ...problems.map((p) => `  ${terminalSafe(p.source)}${p.line ? `:${p.line}` : ''}: ${terminalSafe(p.message)}`));
      await writeStdout(out.join('\n') + '\n');
    }
    // Problems go to stderr as well when stdout is JSON, so they are never missed.
    if (flags.format === 'json') for (const p of problems) process.stderr.write(`kscan: ${p.source}${p.line ? `:${p.line}` : ''}: ${p.message}\n`);
    if (collection.objects.length === 0 && !analysis.images.length && problems.length) this.exit(EXIT.usage);
    const failOn = flags['fail-on'];
    // Every analyzed image counts, those no workload runs too (CI results gated before deployment).
    if (failOn !== 'none' && analysis.images.some((i) => findingClasses(i).some(([s]) => SEVERITY_RANK[s.severity] >= SEVERITY_RANK[failOn as Severity]))) this.exit(EXIT.findings);
  }
}
