import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { en, ko } from './strings';

// The error codes the engine (core, client), the shell and the server can hand the screens, read
// from their Rust sources (test modules left out): a code added there fails here until it has a
// text in both languages.
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const crates = ['core/src', 'client/src', 'src-tauri/src', 'sync-server/src'];

/** `code: "x"`, `AppError::new("x"`, the server's `invalid`/`rule`/`conflict`/`forbidden("x"`,
 * the outbox's `Refused("x"`, and defaults such as `|| "x".into()` or `Some("x".into())`. */
const MADE = /(?:\bcode:\s*|AppError::new\(\s*|\b(?:invalid|rule|conflict|forbidden)\(\s*|\bRefused\(\s*)"([a-z]+(?:_[a-z]+)*)"|(?:\|\|\s*|Some\()"([a-z]+(?:_[a-z]+)*)"\.into\(\)/g;
/** The arms of a `fn code(&self)` and of the chat frames' `ErrorCode::as_str`. */
const TABLES = /(?:fn code\(&self\)|impl ErrorCode \{\s*pub fn as_str\(self\))[^{]*\{([\s\S]*?)\n {4}\}/g;
const ARM = /=>\s*"([a-z]+(?:_[a-z]+)*)"/g;

function rustFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.rs') && !/(^|\/)tests?(\.rs|\/)/.test(name))
    .map((name) => join(root, dir, name));
}

function codesInRust(): Set<string> {
  const codes = new Set<string>();
  for (const file of crates.flatMap(rustFiles)) {
    const source = readFileSync(file, 'utf8').split('#[cfg(test)]')[0];
    for (const m of source.matchAll(MADE)) codes.add(m[1] ?? m[2]);
    for (const table of source.matchAll(TABLES)) {
      for (const m of table[1].matchAll(ARM)) codes.add(m[1]);
    }
  }
  return codes;
}

describe('error codes', () => {
  const codes = codesInRust();

  it('finds the codes of the engine, the shell and the server', () => {
    const some = [
      'routine_name_taken', // core
      'network_failed', 'unexpected_response', 'document_unavailable', 'invalid_callback', 'unconfirmed', // client
      'browser_failed', // shell
      'invalid_grant', 'invalid_id_token', 'meetup_changed', 'invalid_address', 'unsupported_image', // server
      'upload_quota_exceeded', 'forbidden', 'too_many_rooms', 'invalid_text', // server
    ];
    expect(some.filter((code) => !codes.has(code))).toEqual([]);
  });

  it('has a text in Korean and in English for every code', () => {
    const missing = [...codes].filter((code) => !(`error.${code}` in ko) || !(`error.${code}` in en));
    expect(missing).toEqual([]);
  });
});
