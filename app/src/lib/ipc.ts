// The one door from the UI to the engine: every Tauri command goes through `call`, every engine
// event through `listenTo`. A command that fails rejects with a `CommandError` carrying the
// engine's stable `code` (the shell serializes every error as `{code, message}`; a refused import
// adds `reason` and `details`, see `importRefusalText`).
import { invoke, type InvokeArgs, type InvokeOptions } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';

/** What a refused import names, for its sentence (src-tauri/src/error.rs, `ImportDetails`). */
export interface ImportDetails {
  routine?: string;
  /** "YYYY-MM-DD" */
  date?: string;
  version?: number;
  max?: number;
}

export class CommandError extends Error {
  readonly code: string;
  /** Why an import was refused (`invalid_import` only). */
  readonly reason?: string;
  readonly details?: ImportDetails;
  constructor(code: string, message: string, reason?: string, details?: ImportDetails) {
    super(message);
    this.name = 'CommandError';
    this.code = code;
    this.reason = reason;
    this.details = details;
  }
}

function isCodedError(value: unknown): value is { code: string; message: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { code?: unknown }).code === 'string' &&
    typeof (value as { message?: unknown }).message === 'string'
  );
}

/**
 * Calls a command of the shell; rejects with a `CommandError`. `args` are named arguments, or
 * raw bytes (a `Uint8Array`, sent as the request's body) with what goes with them in `options`
 * headers.
 */
export async function call<T>(command: string, args?: InvokeArgs, options?: InvokeOptions): Promise<T> {
  try {
    return await invoke<T>(command, args, options);
  } catch (error) {
    if (isCodedError(error)) {
      const { reason, details } = error as { reason?: unknown; details?: unknown };
      throw new CommandError(
        error.code,
        error.message,
        typeof reason === 'string' ? reason : undefined,
        typeof details === 'object' && details !== null ? (details as ImportDetails) : undefined,
      );
    }
    throw new CommandError('internal', String(error));
  }
}

/** Follows an event the shell emits (`sync-status`, `social`, …); returns the unsubscribe. */
export function listenTo<T>(event: string, handler: (payload: T) => void): Promise<UnlistenFn> {
  return listen<T>(event, (e) => handler(e.payload));
}
