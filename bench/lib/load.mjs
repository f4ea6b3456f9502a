// How busy the machine is: benchmarks record it, and warn when other work competes for the CPUs
// (on a shared 2-core machine a compiler or test run elsewhere easily doubles wall times).
import { readFileSync } from 'node:fs';
import os from 'node:os';

export function machineLoad() {
  let cpuPressureAvg10;
  try {
    // Linux PSI: share of time some runnable task waited for a CPU, averaged over 10 s.
    const m = /some avg10=([\d.]+)/.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
    if (m) cpuPressureAvg10 = Number(m[1]);
  } catch {
    // not Linux, or PSI disabled
  }
  const [load1, load5] = os.loadavg();
  return { load1, load5, cpus: os.cpus().length, cpuPressureAvg10 };
}

/** A one-line warning when the machine was busy before a benchmark started, else undefined. */
export function busyWarning(load) {
  const busy = load.load1 > load.cpus * 0.75 || (load.cpuPressureAvg10 ?? 0) > 20;
  if (!busy) return undefined;
  return `warning: the machine is busy (load ${load.load1.toFixed(1)} on ${load.cpus} CPUs${load.cpuPressureAvg10 !== undefined ? `, CPU pressure ${load.cpuPressureAvg10}%` : ''}); wall times will be inflated and noisy`;
}
