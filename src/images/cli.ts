// From the shared image flags (src/cli/flags.ts imageFlags) to pipeline options.
import type { ImagePipelineOptions } from './pipeline.js';

export interface ImageFlagValues {
  'image-results'?: string[];
  trivy: string;
  'trivy-timeout': number;
  'trivy-concurrency': number;
  'trivy-scanners': string;
  'offline-scan': boolean;
  'skip-db-update': boolean;
  'skip-java-db-update': boolean;
  'cache-dir'?: string;
  'base-catalogue'?: string;
  'ignore-file'?: string;
  'latest-only': boolean;
}

export function imagePipelineOptions(flags: ImageFlagValues, scan: boolean): ImagePipelineOptions {
  return {
    results: flags['image-results'],
    scan,
    trivy: {
      binary: flags.trivy,
      timeoutMs: flags['trivy-timeout'] * 1000,
      concurrency: flags['trivy-concurrency'],
      scanners: flags['trivy-scanners'].split(',').map((s) => s.trim()).filter(Boolean),
      offlineScan: flags['offline-scan'],
      skipDbUpdate: flags['skip-db-update'],
      skipJavaDbUpdate: flags['skip-java-db-update'],
      ...(flags['cache-dir'] ? { cacheDir: flags['cache-dir'] } : {}),
    },
    catalogue: flags['base-catalogue'],
    ignoreFile: flags['ignore-file'],
    latestOnly: flags['latest-only'],
  };
}
