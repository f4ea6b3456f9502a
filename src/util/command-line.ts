// Command-line flags of Kubernetes components (kube-apiserver, kubelet, etcd, ...) as a map, so
// checks read `flags['profiling']` instead of scanning argument lists. The components use pflag:
// `--name=value`, `--name value` for non-boolean flags, and a bare `--name` for a true boolean.

/**
 * Parses `--name=value`, `--name value` and bare `--name` (→ "true"). A flag given twice keeps
 * its last value, as pflag does for scalar flags. Arguments that are not flags are ignored.
 */
export function parseCommandLineFlags(args: readonly string[]): Record<string, string> {
  const flags: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const match = /^--?([A-Za-z0-9][\w.-]*)(?:=(.*))?$/s.exec(arg);
    if (!match) continue;
    const name = match[1]!;
    if (match[2] !== undefined) flags[name] = match[2];
    else if (i + 1 < args.length && !args[i + 1]!.startsWith('-')) flags[name] = args[++i]!;
    else flags[name] = 'true';
  }
  return flags;
}
