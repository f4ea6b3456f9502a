// The image pipeline shared by `kscan images` and `kscan cluster --images`: fleet from the
// inventory → results (snapshot images/, --image-results, trivy) → lineage, attribution, risk.
import type { Collection, InputError } from '../model/types.js';
import type { Inventory } from '../inventory/inventory.js';
import type { ScanExtension } from '../scan/scan.js';
import { checkInFrameworks } from '../checks/frameworks.js';
import { buildFleet, type FleetImage } from './fleet.js';
import { ingestImageResults, ingestTexts } from './ingest.js';
import { runTrivy, type TrivyOptions } from './trivy.js';
import { analyzeImages, type ImageAnalysis } from './analyze.js';
import { loadBaseCatalogue } from './lineage.js';
import { loadIgnoreList } from './ignore.js';
import { imageFindings, IMAGE_FINDING_SOURCES } from './findings.js';
import { imagesReportSection, imagesResult } from './section.js';
import type { ImageReport } from './report.js';
import { compareTags } from './reference.js';

export interface ImagePipelineOptions {
  /** Directories or files of trivy JSON / CycloneDX. */
  results?: string[];
  /** Run trivy on running images that have no result yet. */
  scan?: boolean;
  trivy?: TrivyOptions;
  catalogue?: string;
  ignoreFile?: string;
  latestOnly?: boolean;
  now?: Date;
  onProgress?: (done: number, total: number) => void;
}

export interface ImagePipelineResult {
  analysis: ImageAnalysis;
  errors: InputError[];
}

/** Keeps, per repository, only the images of its newest tag (digest-only references stay). */
export function latestOnly(fleet: FleetImage[]): FleetImage[] {
  const newest = new Map<string, string>();
  for (const image of fleet) {
    const tag = image.reference.tag;
    if (!tag) continue;
    const current = newest.get(image.repository);
    if (current === undefined || compareTags(tag, current) > 0) newest.set(image.repository, tag);
  }
  return fleet.filter((image) => !image.reference.tag || image.reference.tag === newest.get(image.repository));
}

function covered(image: FleetImage, reports: ImageReport[]): boolean {
  return reports.some((r) => (image.digest && r.digests.includes(image.digest)) || (image.imageId && r.imageId === image.imageId));
}

export async function runImagePipeline(collection: Collection, inventory: Inventory, options: ImagePipelineOptions): Promise<ImagePipelineResult> {
  let fleet = buildFleet(inventory);
  if (options.latestOnly) fleet = latestOnly(fleet);
  const ingested = ingestTexts(collection.images ?? []);
  if (options.results?.length) {
    const more = await ingestImageResults(options.results);
    ingested.reports.push(...more.reports);
    ingested.errors.push(...more.errors);
  }
  const failures = new Map<string, string>();
  if (options.scan) {
    const pending = fleet.filter((image) => !covered(image, ingested.reports));
    const targets = pending.map((image) => ({ key: image.digest ?? image.key, image: image.digest ? `${image.repository}@${image.digest}` : image.reference.raw }));
    const outcomes = await runTrivy(targets, options.trivy, options.onProgress);
    outcomes.forEach((outcome, index) => {
      if (outcome.report) {
        // A pulled image's report names it by reference; keep the digest we asked for so it matches.
        if (pending[index].digest && !outcome.report.digests.includes(pending[index].digest!)) outcome.report.digests.push(pending[index].digest!);
        if (!ingested.reports.includes(outcome.report)) ingested.reports.push(outcome.report);
      } else failures.set(pending[index].key, outcome.error ?? 'trivy failed');
    });
  }
  const catalogue = options.catalogue ? await loadBaseCatalogue(options.catalogue) : [];
  const ignore = options.ignoreFile ? await loadIgnoreList(options.ignoreFile, options.now) : { rules: [], errors: [] };
  const analysis = analyzeImages(fleet, ingested.reports, { catalogue, ignore: ignore.rules, failures });
  return { analysis, errors: [...ingested.errors, ...ignore.errors] };
}

/**
 * The ScanExtension for `kscan cluster`: image findings on the workloads (kept under --framework
 * only when the framework maps them), `result.images`, and a generic report section.
 */
export function imageScanExtension(options: ImagePipelineOptions): ScanExtension {
  return {
    name: 'images',
    async run(context) {
      const { analysis, errors } = await runImagePipeline(context.collection, context.inventory, options);
      context.result.coverage.errors.push(...errors);
      const sources = context.frameworks.length ? IMAGE_FINDING_SOURCES.filter((s) => checkInFrameworks(s.controls, context.frameworks)) : IMAGE_FINDING_SOURCES;
      context.findings.push(...imageFindings(analysis.images, sources));
      const images = imagesResult(analysis);
      context.result.images = images;
      context.result.sections = [...(context.result.sections ?? []), imagesReportSection(images)];
    },
  };
}
