/**
 * Checked element access for tests (the project builds with `noUncheckedIndexedAccess`): `items[index]`,
 * typed as present. An index out of range fails the test right here, naming the index, rather than as a
 * TypeError on `undefined` further on.
 */
export function at<T>(items: readonly T[], index: number): T {
  if (!Number.isInteger(index) || index < 0 || index >= items.length) {
    throw new Error(`no element at index ${index} (length ${items.length})`);
  }
  return items[index] as T;
}
