import { z } from 'zod';

/**
 * The input schema a saga definition may give: any Standard Schema (https://standardschema.dev; zod 4, valibot and
 * arktype implement it). Declared here rather than imported, as the specification intends, so the kit needs no
 * package for it. Only synchronous validation is supported (the workflow and the client check inputs in place).
 */
export interface InputSchema<Output = unknown> {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (
      value: unknown,
    ) =>
      | { readonly value: Output; readonly issues?: undefined }
      | { readonly issues: ReadonlyArray<InputIssue> }
      | Promise<unknown>;
    readonly types?: { readonly input: unknown; readonly output: Output };
  };
}

interface InputIssue {
  readonly message: string;
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }>;
}

/** The input as the schema returns it, or the problems in one line. Without a schema, the input as given. */
export function checkInput<I>(schema: InputSchema<I> | undefined, raw: unknown): { value: I } | { problem: string } {
  if (!schema) return { value: raw as I };
  const result = schema['~standard'].validate(raw);
  if (result instanceof Promise)
    return { problem: 'the input schema validates asynchronously; the kit needs a synchronous one' };
  const checked = result as { value: I; issues?: undefined } | { issues: ReadonlyArray<InputIssue> };
  if (!checked.issues) return { value: checked.value };
  // zod's layout ("✖ message → at path"), whichever library produced the issues.
  return { problem: z.prettifyError({ issues: checked.issues } as never).replace(/\n/g, '; ') };
}
