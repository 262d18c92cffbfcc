/** Ticket tokens: expiry, key ids, several keys at once (rotation), and the public development key. */
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { signTicketToken, verifyTicketToken } from "../../src/usecases/ticketToken";
import { parseTicketKeys, PUBLIC_DEVELOPMENT_KEYS } from "../../src/identity/ticketKeys";
import { ConfigError, loadSettings } from "../../src/config/settings";

const NAMES = { keys: "TICKET_SIGNING_KEYS", single: "TICKET_SIGNING_KEY" };
const K1 = "first-signing-key-0123456789abcdef0123";
const K2 = "second-signing-key-0123456789abcdef012";
const NOW = Date.UTC(2026, 11, 1, 10, 0, 0);
const facts = { ticketId: "t1", playerId: "p1", region: "westeurope", mode: "duel", rat: NOW };

describe("ticket signing keys", () => {
  it("reads JSON and kid:key lists in order, and TICKET_SIGNING_KEY as the one key 'default'", () => {
    expect(
      parseTicketKeys(
        JSON.stringify([
          { kid: "2026-12", key: K1 },
          { kid: "2026-11", key: K2 },
        ]),
        "",
        NAMES,
      ),
    ).toEqual({
      keys: [
        { kid: "2026-12", key: K1 },
        { kid: "2026-11", key: K2 },
      ],
      problems: [],
    });
    // A key may itself contain ":" (base64 does not, but a passphrase may): only the first colon splits.
    expect(parseTicketKeys(`new:${K1}, old:${K2}:x`, "", NAMES).keys).toEqual([
      { kid: "new", key: K1 },
      { kid: "old", key: `${K2}:x` },
    ]);
    expect(parseTicketKeys("", K1, NAMES)).toEqual({ keys: [{ kid: "default", key: K1 }], problems: [] });
  });

  it("names every problem without echoing a key", () => {
    const cases: [string, string, RegExp][] = [
      [`a:${K1}`, K2, /not both/],
      ["", "", /TICKET_SIGNING_KEYS \(or TICKET_SIGNING_KEY\) must be set/],
      ["", "short", /TICKET_SIGNING_KEY must be set to a secret of at least 32/],
      ["a:short", "", /entry 1 \(a\): key must be at least 32/],
      [`a:${K1},a:${K2}`, "", /kid a is listed twice/],
      [`bad kid!:${K1}`, "", /kid must be 1-32 characters/],
      ["[1,2", "", /not JSON/],
      ['{"kid":"a"}', "", /kid must be/],
      ["[]", "", /lists no key/],
      [`constructor:${K1}`, "", /^$/],
      ["@Microsoft.KeyVault(SecretUri=https://v.vault.azure.net/secrets/ticket-signing-keys/)", "", /unresolved Key Vault reference.*Key Vault Secrets User/],
    ];
    for (const [keys, single, problem] of cases) {
      const r = parseTicketKeys(keys, single, NAMES);
      expect(r.problems.join("; "), `${keys} / ${single}`).toMatch(problem);
      for (const p of r.problems) expect(p).not.toContain(K1.slice(0, 20));
    }
  });
});

describe("ticket tokens with expiry and key ids", () => {
  it("the first key signs; a token of a second listed key still verifies; a removed key's token is refused", () => {
    const ring = [
      { kid: "new", key: K1 },
      { kid: "old", key: K2 },
    ];
    const fresh = signTicketToken(facts, ring, 600, NOW);
    const check = verifyTicketToken(fresh, ring, NOW);
    expect(check.ok && check.claims.kid).toBe("new");
    const older = signTicketToken(facts, [{ kid: "old", key: K2 }], 600, NOW);
    expect(verifyTicketToken(older, ring, NOW)).toMatchObject({ ok: true, claims: { kid: "old" } });
    // The rotation's last step drops the old key: its tokens stop working, the new key's keep working.
    expect(verifyTicketToken(older, [{ kid: "new", key: K1 }], NOW)).toMatchObject({
      ok: false,
      error: "invalid_token",
      detail: /not \(or no longer\) accepted/,
    });
    expect(verifyTicketToken(fresh, [{ kid: "new", key: K1 }], NOW).ok).toBe(true);
    // The kid is signed: relabelling a token with another accepted kid breaks its MAC.
    const [payload, mac] = older.split(".") as [string, string];
    const relabelled = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, "base64url").toString()), kid: "new" })).toString("base64url");
    expect(verifyTicketToken(`${relabelled}.${mac}`, ring, NOW)).toMatchObject({ ok: false, detail: "token signature does not match" });
  });

  it("expires: valid until exp, token_expired from then on", () => {
    const token = signTicketToken(facts, [{ kid: "k", key: K1 }], 600, NOW);
    expect(verifyTicketToken(token, [{ kid: "k", key: K1 }], NOW + 599_000).ok).toBe(true);
    expect(verifyTicketToken(token, [{ kid: "k", key: K1 }], NOW + 600_000)).toMatchObject({ ok: false, error: "token_expired" });
  });

  it("refuses a token from before key ids (no kid), even with a valid MAC", () => {
    const payload = Buffer.from(JSON.stringify({ ticketId: "t1", playerId: "p1", region: "westeurope", mode: "duel", iat: NOW / 1000 })).toString("base64url");
    const mac = createHmac("sha256", K1).update(payload).digest("base64url");
    expect(verifyTicketToken(`${payload}.${mac}`, [{ kid: "default", key: K1 }], NOW)).toMatchObject({ ok: false, detail: /names no signing key/ });
  });
});

describe("the public development key", () => {
  const base = { MATCH_MODES: '{"duel":2}', MATCH_REGIONS: '["westeurope"]' };
  it("is refused at start-up outside local development, with an error that says what to do", () => {
    for (const env of [
      { ...base, TICKET_SIGNING_KEY: PUBLIC_DEVELOPMENT_KEYS[0] },
      { ...base, TICKET_SIGNING_KEYS: `new:${K1},dev:${PUBLIC_DEVELOPMENT_KEYS[0]}` },
      { ...base, TICKET_SIGNING_KEY: PUBLIC_DEVELOPMENT_KEYS[0], AZURE_FUNCTIONS_ENVIRONMENT: "Production" },
    ]) {
      let err: unknown;
      try {
        loadSettings(env);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toMatch(/public development key of local.settings.json .* AZURE_FUNCTIONS_ENVIRONMENT=Development/);
    }
  });

  it("is accepted under local development (Core Tools, npm start), and a key of one's own anywhere", () => {
    expect(
      loadSettings({ ...base, TICKET_SIGNING_KEY: PUBLIC_DEVELOPMENT_KEYS[0], AZURE_FUNCTIONS_ENVIRONMENT: "Development" }).identity.ticketKeys,
    ).toHaveLength(1);
    expect(loadSettings({ ...base, TICKET_SIGNING_KEYS: `a:${K1}` }).identity.ticketKeys).toEqual([{ kid: "a", key: K1 }]);
  });
});
