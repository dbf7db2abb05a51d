/**
 * Calls to the gateway that served the console (same origin, so the CSP's connect-src 'self'
 * holds). A gateway that does not answer and an RFC 9457 problem are told apart, so every page
 * can say which one happened.
 */
import type { Problem } from "../../server/core/apiResponses.ts";
import type { DutyTypeEntry } from "../../server/core/dutyType.ts";
import { hasMessage, t } from "./i18n.ts";

export type { GatewayInfo } from "../../server/core/apiResponses.ts";
export type { DutyTypeEntry, FieldDefinition } from "../../server/core/dutyType.ts";

/** A problem as the console reads it: whatever of RFC 9457's members the answer carries. */
export type ProblemAnswer = Partial<Problem> & { status: number };

export class ApiError extends Error {
  /** "network": the gateway did not answer; "problem": it answered with an error. */
  readonly kind: "network" | "problem";
  readonly problem?: ProblemAnswer;

  constructor(kind: "network" | "problem", message: string, problem?: ProblemAnswer) {
    super(message);
    this.name = "ApiError";
    this.kind = kind;
    this.problem = problem;
  }
}

export interface ApiResponse<T> {
  status: number;
  body: T;
}

/** Sends a request; throws ApiError("network") when the gateway does not answer. */
export async function request<T = unknown>(
  path: string,
  init: { method?: string; body?: unknown; token?: string; timeoutMs?: number } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (init.body !== undefined) headers["content-type"] = "application/json";
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), init.timeoutMs ?? 30_000);
  let response: Response;
  try {
    response = await fetch(path, {
      method: init.method ?? (init.body === undefined ? "GET" : "POST"),
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: controller.signal,
      cache: "no-store",
    });
  } catch {
    throw new ApiError("network", t("error.gatewayDown"));
  } finally {
    clearTimeout(timer);
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    // A proxy's error page, or a gateway cut off mid-answer.
    throw new ApiError("network", t("error.gatewayDown"));
  }
  return { status: response.status, body: body as T };
}

/** Like `request`, but any status of 400 or more throws ApiError("problem"). */
export async function requestOk<T = unknown>(
  path: string,
  init: Parameters<typeof request>[1] = {},
): Promise<ApiResponse<T>> {
  const result = await request<T>(path, init);
  if (result.status >= 400) {
    const problem = { status: result.status, ...(result.body as object) } as ProblemAnswer;
    throw new ApiError("problem", problem.detail ?? problem.title ?? `HTTP ${result.status}`, problem);
  }
  return result;
}

/** One sentence for a user, in the current language, for any error a page meets. */
export function errorText(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.kind === "network") return t("error.gatewayDown");
    const code = error.problem?.code;
    if (code === "chain.unreachable") return t("error.chainDown");
    const key = `problem.${code}`;
    if (code && hasMessage(key)) {
      const errors = error.problem?.errors as Array<{ path: string; message: string }> | undefined;
      const detail = errors?.map((e) => `${e.path}: ${e.message}`).join("; ");
      return t(key) + (detail && code === "request.invalid" ? ` (${detail})` : "");
    }
    return error.message;
  }
  return t("error.unexpected", { detail: error instanceof Error ? error.message : String(error) });
}

let catalogPromise: Promise<DutyTypeEntry[]> | null = null;

/** The gateway's duty-type catalog, fetched once per page load (retried after a failure). */
export function dutyTypes(): Promise<DutyTypeEntry[]> {
  catalogPromise ??= requestOk<{ dutyTypes: DutyTypeEntry[] }>("/v1/duty-types").then(
    (r) => r.body.dutyTypes,
    (error: unknown) => {
      catalogPromise = null;
      throw error;
    },
  );
  return catalogPromise;
}
