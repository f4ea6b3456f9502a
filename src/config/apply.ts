// Flags win over the config file, the config file over the flags' defaults: a setting from
// .kscan.yaml applies exactly where the user did not give the flag.
import { loadConfig, type LoadedConfig } from './config.js';

/** oclif's parse metadata: which flags took their default value. */
export interface FlagMetadata {
  flags: Record<string, { setFromDefault?: boolean } | undefined>;
}

type Settable = Record<string, unknown> & { config?: string };

export async function withConfig<T extends Settable>(flags: T, metadata: FlagMetadata): Promise<{ flags: T; config?: LoadedConfig }> {
  const loaded = await loadConfig(flags.config);
  if (!loaded) return { flags };
  const { config } = loaded;
  const merged: Record<string, unknown> = { ...flags };
  const unset = (name: string) => merged[name] === undefined || metadata.flags[name]?.setFromDefault === true;
  const fill = (name: string, value: unknown) => {
    if (value !== undefined && unset(name)) merged[name] = value;
  };
  fill('format', config.formats?.join(','));
  if (!merged.output) fill('output-dir', config.outputDir);
  fill('framework', config.frameworks);
  fill('fail-on', config.failOn);
  fill('default-exceptions', config.defaultExceptions);
  // Check directories add up: the file's and the command line's.
  if (config.checksDirs?.length) merged['checks-dir'] = [...config.checksDirs, ...((flags['checks-dir'] as string[] | undefined) ?? [])];
  fill('image-results', config.images?.results);
  fill('trivy', config.images?.trivy);
  fill('ignore-file', config.images?.ignoreFile);
  fill('base-catalogue', config.images?.baseCatalogue);
  fill('latest-only', config.images?.latestOnly);
  return { flags: merged as T, config: loaded };
}
