// `kscan rbac`: subjects ranked by power and privileged workloads with powerful accounts, on the demo.
import { expect } from 'chai';
import type { RbacReport } from '../../src/rbac/report.js';
import { runKscan } from '../support/cli.js';
import { DEMO } from './fixtures.js';

describe('kscan rbac (overview)', () => {
  it('ranks subjects by power with the path to each risky permission, and chains risky workloads', async () => {
    const run = await runKscan(['rbac', '--snapshot', DEMO, '--json', '--top', '5']);
    expect(run.code, run.stderr).to.equal(0);
    const report = JSON.parse(run.stdout) as RbacReport;
    expect(report.subjects).to.have.length(5);
    const powers = report.subjects.map((s) => s.power);
    expect(powers).to.deep.equal([...powers].sort((a, b) => b - a));
    expect(report.summary.auditEvents, 'the snapshot audit/ is read').to.be.greaterThan(1000);
    const crm = report.subjects.find((s) => s.id === 'serviceaccount/legacy-crm/crm-app');
    expect(crm?.risks.map((r) => r.checkId)).to.include('KS-RBAC-110');
    for (const risk of report.subjects.flatMap((s) => s.risks)) expect(risk.grants[0]).to.match(/Binding .+ → (Cluster)?Role .+ → /);
    const chain = report.riskyWorkloads.find((w) => w.workload === 'Deployment legacy-crm/crm-app');
    expect(chain?.chain.slice(0, 3)).to.deep.equal(['Deployment legacy-crm/crm-app', 'ServiceAccount legacy-crm/crm-app', 'ClusterRoleBinding crm-admin-binding']);
    const text = await runKscan(['rbac', '--snapshot', DEMO]);
    expect(text.stdout).to.match(/^RBAC: effective permissions\n/);
    expect(text.stdout).to.include('Subjects ranked by power:');
  });
});
