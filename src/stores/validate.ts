/** Argument checks shared by both implementations: a bad argument is a programming error (TypeError). */

export const MAX_KEY_PART_LENGTH = 1_024;

export function assertKeyPart(name: string, value: string): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_KEY_PART_LENGTH) {
    throw new TypeError(`${name} must be a non-empty string of at most ${MAX_KEY_PART_LENGTH} characters`);
  }
}

export function assertPositiveInt(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0) throw new TypeError(`${name} must be a positive integer`);
}

export function assertPage(page: { offset: number; limit: number }): void {
  if (!Number.isSafeInteger(page.offset) || page.offset < 0) throw new TypeError('offset must be a non-negative integer');
  assertPositiveInt('limit', page.limit);
}
