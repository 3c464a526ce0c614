/**
 * The one place a stack is assembled. Three shapes, one set of launchers (infra/processes/):
 *   supervised.ts  npm start (and the demo, the web UI test): every piece a child of one supervisor that restarts
 *                  what dies, data kept in a folder across restarts;
 *   in-process.ts  the saga suites: services and workers in this process, on a server and databases the caller gives;
 *   killable.ts    the chaos run, the explorer and the crash tests: every piece started here and stopped,
 *                  SIGKILLed or restarted on purpose by the caller.
 */
export * from './supervised';
export * from './killable';
export * from './in-process';
export * from './data-dir-lock';
