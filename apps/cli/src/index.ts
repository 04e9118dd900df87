export { CliError, action, printJson, numberOption } from './lib/run';
