// What every kscan command shares: user errors become one line on stderr and exit code 2.
import { Command, Errors } from '@oclif/core';
import { InputFailure } from '../util/errors.js';

import { EXIT } from './exit.js';

export { EXIT };

export abstract class KscanCommand extends Command {
  protected override async catch(error: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    if (error instanceof InputFailure) {
      process.stderr.write(`kscan: ${error.message}\n`);
      return this.exit(EXIT.usage);
    }
    // Flag and argument errors from oclif's parser are usage errors too.
    if (error instanceof Errors.CLIError && error.oclif?.exit === undefined) error.oclif = { ...(error.oclif ?? {}), exit: EXIT.usage };
    return super.catch(error);
  }
}
