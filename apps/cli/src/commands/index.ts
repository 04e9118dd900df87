import type { Command } from 'commander';
import { registerCoordinator } from './coordinator';
import { registerClient } from './client';
import { registerData } from './data';
import { registerDelta } from './delta';
import { registerDemo } from './demo';
import { registerEval } from './eval';
import { registerMerge } from './merge';
import { registerPretrain } from './pretrain';
import { registerPull } from './pull';
import { registerSimulate } from './simulate';
import { registerTrain } from './train';

/** Each subcommand lives in its own file and adds itself to the program. */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [registerTrain, registerEval, registerMerge, registerDelta, registerData, registerCoordinator, registerClient, registerPull, registerDemo, registerSimulate, registerPretrain];
