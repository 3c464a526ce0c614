import * as cancel from './cancel';
import * as deadLetters from './dead-letters';
import * as list from './list';
import * as recover from './recover';
import * as replay from './replay';
import * as result from './result';
import * as start from './start';
import * as status from './status';

/** The CLI's commands, one module each: a new command is a module with `register(program)`, listed here. */
export const COMMANDS: { register(program: import('commander').Command): void }[] = [
  start,
  status,
  cancel,
  result,
  list,
  deadLetters,
  recover,
  replay,
];
