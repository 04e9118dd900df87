import { Command, CommanderError } from 'commander';
import { commands } from './commands';
import { packageVersion } from './lib/package-root';
import { configureErrorOutput, reportError, USAGE_HINT, wantsJson } from './lib/run';

const version = packageVersion();

const program = new Command('fedsnell')
  .description('Federated fine-tuning of vision transformers with SNELL sparse adapters')
  .version(version)
  .showHelpAfterError(USAGE_HINT)
  .exitOverride();
configureErrorOutput(program);

for (const register of commands) register(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode;
    return;
  }
  reportError('', err, wantsJson());
});
