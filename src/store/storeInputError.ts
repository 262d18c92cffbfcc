/** Bad input to a single-entity store call. `error`/`detail` are the API's 4xx body. */
export class StoreInputError extends Error {
  constructor(
    public readonly error: string,
    public readonly detail: string,
  ) {
    super(`${error}: ${detail}`);
    this.name = "StoreInputError";
  }
}

/** A script refused its input (`BADINPUT <script> <field>: <detail>`): the store's own checks let something through. */
export function scriptInputError(err: unknown): StoreInputError | undefined {
  const m = err instanceof Error ? /^BADINPUT (\S+) ([^:]+): (.*?)(?: script: [0-9a-f]+, on @user_script:\d+\.)?$/s.exec(err.message) : null;
  return m ? new StoreInputError(`invalid_${m[2]!.replace(/[^A-Za-z0-9_]/g, "_")}`, `${m[2]} ${m[3]} (refused by ${m[1]})`) : undefined;
}
