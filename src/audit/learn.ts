// `kscan audit baseline --learn`: one streaming pass that feeds every request to the learner.
import type { Readable } from 'node:stream';
import { BaselineLearner, observe, type BaselineProfile } from './baseline.js';
import { eventTime, resourceKey } from './event.js';
import { readAuditLogs, type ReadStats } from './reader.js';

export async function learnBaseline(inputs: string[], options: { stdin?: Readable } = {}): Promise<{ profile: BaselineProfile; stats: ReadStats }> {
  const learner = new BaselineLearner();
  let from: string | undefined;
  let to: string | undefined;
  const stats = await readAuditLogs(inputs, (event) => {
    if (event.stage === 'RequestReceived' || event.stage === 'ResponseStarted') return;
    const time = eventTime(event);
    if (time && (from === undefined || time < from)) from = time;
    if (time && (to === undefined || time > to)) to = time;
    learner.add(observe(event, event.user?.username ?? '(unknown)', event.verb ?? '(none)', resourceKey(event), time), event.responseStatus?.code);
  }, options);
  return { profile: learner.profile({ from, to, sources: stats.sources }), stats };
}
