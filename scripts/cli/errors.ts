/**
 * How a command ends: every failure is a `CliError` carrying its exit code, chosen where the
 * failure is known (a usage check, a problem document's status, an unreachable endpoint), never
 * by matching message text. `main` prints the message as one line and exits with the code.
 */

/** The exit codes of every command, as `dutyproof --help` lists them. */
export const exitCodes = {
  /** The command did what was asked; verify: valid; replay: clean. */
  ok: 0,
  /** Refused or failed: invalid evidence, replay findings, the gateway or ledger said no. */
  failed: 1,
  /** A usage error: unknown command or flag, missing or malformed argument, unreadable file. */
  usage: 2,
  /** The chain node or the gateway does not answer (or answers that it cannot serve now). */
  unreachable: 3,
} as const;

export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];

/** A failure with the exit code it ends the command with; `message` is one line for the user. */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  constructor(message: string, exitCode: ExitCode = exitCodes.failed, options?: ErrorOptions) {
    super(message, options);
    this.exitCode = exitCode;
  }
}

/** A usage error: exit 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, exitCodes.usage);
  }
}

/** An endpoint that does not answer: exit 3. */
export class UnreachableError extends CliError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, exitCodes.unreachable, options);
  }
}

/** The command already printed its outcome (an invalid verdict, findings); only the code is left. */
export class SilentExit extends CliError {
  constructor(exitCode: ExitCode) {
    super(`exit ${exitCode}`, exitCode);
  }
}

/** `--help` was asked for: the text goes to stdout and the command ends with 0. */
export class HelpRequested extends Error {
  readonly text: string;
  constructor(text: string) {
    super("help");
    this.text = text;
  }
}

/** What the API says in an RFC 9457 problem document (server/core/errors.ts codes). */
export interface Problem {
  status: number;
  code?: string;
  title?: string;
  detail?: string;
  errors?: Array<{ path: string; message: string }>;
}

/**
 * The exit code of a problem the gateway answered with, by HTTP status: the gateway or its chain
 * being unable to serve now is "unreachable" (the same command may work later); every other
 * refusal is "failed".
 */
const exitCodeByStatus: Record<number, ExitCode> = {
  502: exitCodes.unreachable,
  503: exitCodes.unreachable,
  504: exitCodes.unreachable,
};

/** The gateway refused a request: the problem document, typed, and its exit code. */
export class GatewayRefusal extends CliError {
  readonly problem: Problem;
  constructor(problem: Problem) {
    const errors = problem.errors?.map((e) => `${e.path}: ${e.message}`).join("; ");
    super(
      `refused (${problem.status}${problem.code ? ` ${problem.code}` : ""}): ${problem.detail ?? problem.title ?? "no detail"}${errors ? ` — ${errors}` : ""}`,
      exitCodeByStatus[problem.status] ?? exitCodes.failed,
    );
    this.problem = problem;
  }
}
