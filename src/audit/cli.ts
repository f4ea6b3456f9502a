// Flags shared by `kscan audit` and `kscan cluster --audit`.
import { Flags } from '@oclif/core';

export const auditFlags = {
  'audit-baseline': Flags.string({ description: 'Baseline profile from `kscan audit baseline --learn`: flag what principals never did before, and compare rates with the learning period.' }),
  'rule-params': Flags.string({ description: 'YAML or JSON file mapping audit rule ids to parameters that replace the rule\'s own (allowlists, pod CIDRs), e.g. "KS-AUD-013: { podCIDRs: [10.32.0.0/12] }".' }),
};
