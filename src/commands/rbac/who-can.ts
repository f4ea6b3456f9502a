import { Args, Flags } from '@oclif/core';
import { KscanCommand } from '../../cli/base.js';
import { loadRbacInput, rbacInputFlags, reportProblems } from '../../rbac/input.js';
import { parseResourceArg } from '../../rbac/resources.js';
import { renderWhoCan, whoCanView } from '../../rbac/views.js';
import { InputFailure } from '../../util/errors.js';

export default class WhoCan extends KscanCommand {
  static override summary = 'List every subject that can perform an action, with the binding → role → rule path.';
  static override description =
    'Answers "who can <verb> <resource>" from the RBAC objects of a snapshot or live cluster: users, groups and service accounts, through which bindings and roles, with aggregated ClusterRoles resolved, wildcards, resourceNames (a grant limited to names the question did not ask about is shown as such) and subresources (pods/exec, nodes/proxy, serviceaccounts/token). Resources take kubectl\'s form: pods, deployments.apps, pods/exec, or a non-resource URL such as /metrics. Without --namespace, grants in every namespace are listed with their scope.';
  static override examples = [
    '<%= config.bin %> rbac who-can create pods/exec --snapshot fixtures/demo',
    '<%= config.bin %> rbac who-can list secrets -n payments --snapshot fixtures/demo',
    '<%= config.bin %> rbac who-can get secrets --resource-name db-credentials -n payments --snapshot fixtures/demo --json',
    '<%= config.bin %> rbac who-can get /metrics --context prod',
  ];
  static override args = {
    verb: Args.string({ description: 'Verb: get, list, watch, create, update, patch, delete, escalate, bind, impersonate, approve, *.', required: true }),
    resource: Args.string({ description: 'Resource (pods, deployments.apps, pods/exec) or non-resource URL (/metrics).', required: true }),
  };
  static override flags = {
    ...rbacInputFlags,
    namespace: Flags.string({ char: 'n', description: 'Namespace of the request (default: grants in any namespace are listed).' }),
    'resource-name': Flags.string({ description: 'Name of the object the request is about (matters for rules with resourceNames).' }),
    'hide-system': Flags.boolean({ description: 'Leave out system components and bootstrap-policy grants.' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(WhoCan);
    const input = await loadRbacInput(flags);
    const parsed = parseResourceArg(args.resource, input.catalog);
    if (typeof parsed === 'string') throw new InputFailure(parsed);
    const clusterScoped = !parsed.resource.startsWith('/') && input.catalog.namespaced(parsed.group, parsed.resource) === false;
    const request = {
      verb: args.verb,
      ...parsed,
      ...(flags.namespace !== undefined && !clusterScoped ? { namespace: flags.namespace } : {}),
      ...(flags['resource-name'] ? { name: flags['resource-name'] } : {}),
    };
    const view = whoCanView(input.analysis, request, { clusterScoped, includeSystem: !flags['hide-system'] });
    reportProblems(input.problems);
    process.stdout.write(flags.json ? JSON.stringify(view, null, 2) + '\n' : renderWhoCan(view));
  }
}
