import type { Client } from '@temporalio/client';
import { CommanderError, type Command } from 'commander';
import { connectTemporal, resolveConfig, type CliConfig, type GlobalOptions } from './connect';
import { flushTracing } from '../runtime/telemetry/tracing';
import { certificateName, CliError, EXIT, toCliError } from './errors';

/**
 * Runs one command: resolves the configuration, connects only when the command asks for a client (so bad
 * arguments are reported before any connection attempt), prints the outcome (text, or one JSON document with
 * --json), maps errors to one line on stderr and the exit code, and closes the connection.
 */
export interface CommandContext {
  config: CliConfig;
  json: boolean;
  /** Connects on first use; throws the CLI's "cannot reach" error. */
  client(): Promise<Client>;
  /** Prints human-readable text (nothing with --json). */
  say(text: string): void;
}

/** What a command hands back: its exit code and, for --json, its document. */
export interface CommandResult {
  exitCode: number;
  json: unknown;
}

export type Handler<O> = (ctx: CommandContext, options: O, ...args: string[]) => Promise<CommandResult>;

function writeJson(doc: unknown): void {
  process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
}

function report(error: CliError, json: boolean, original: unknown): void {
  process.stderr.write(`error: ${error.message}\n`);
  if (error.exitCode === EXIT.INTERNAL && original instanceof Error && original.stack)
    process.stderr.write(`${original.stack}\n`);
  if (json) writeJson({ error: { kind: error.kind, message: error.message, exitCode: error.exitCode } });
}

/** Adapts a handler to commander's action signature: (...arguments, options, command). */
export function action<O>(handler: Handler<O>) {
  return async (...params: unknown[]): Promise<void> => {
    const command = params.at(-1) as Command;
    const args = params.slice(0, -2) as string[];
    const options = command.optsWithGlobals<O & GlobalOptions>();
    const json = options.json === true;
    let config: CliConfig | undefined;
    let connecting: ReturnType<typeof connectTemporal> | undefined;
    try {
      config = resolveConfig(options);
      const resolved = config;
      const ctx: CommandContext = {
        config,
        json,
        client: async () => (await (connecting ??= connectTemporal(resolved))).client,
        say: (text) => {
          if (!json) process.stdout.write(`${text}\n`);
        },
      };
      const result = await handler(ctx, options, ...args);
      if (json) writeJson(result.json);
      process.exitCode = result.exitCode;
    } catch (err) {
      const error = toCliError(err, {
        address: config?.address ?? options.address,
        namespace: config?.namespace,
        certificate: config?.tls?.clientCertPath && certificateName(config.tls.clientCertPath),
      });
      report(error, json, err);
      process.exitCode = error.exitCode;
    } finally {
      const connection = await connecting?.catch(() => undefined);
      await connection?.close().catch(() => undefined);
      await flushTracing(); // the CLI is short-lived: send its spans before it exits
    }
  };
}

/**
 * Parses the command line and runs the command. Commander's own errors (unknown option, missing option, an
 * argument parser's InvalidArgumentError) exit 64; help and --version exit 0.
 */
export async function runCli(program: Command, argv: string[] = process.argv): Promise<void> {
  const override = (command: Command): void => {
    command.exitOverride();
    command.commands.forEach(override);
  };
  override(program);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    if (err.exitCode === 0) {
      process.exitCode = 0;
      return;
    }
    // commander already printed the message on stderr
    if (argv.includes('--json'))
      writeJson({ error: { kind: 'usage', message: err.message.replace(/^error: /, ''), exitCode: EXIT.USAGE } });
    process.exitCode = EXIT.USAGE;
  }
}
