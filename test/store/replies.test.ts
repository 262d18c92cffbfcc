/** Script replies are decoded by checked shapes: a wrong shape throws ScriptReplyError naming the script and the field. */
import { describe, expect, it } from "vitest";
import { SCRIPT_REPLIES } from "../../src/store/replies";
import { decodeReply, ScriptReplyError } from "../../src/store/replyDecoder";

function replyError(f: () => unknown): ScriptReplyError {
  try {
    f();
  } catch (err) {
    if (err instanceof ScriptReplyError) return err;
    throw err;
  }
  throw new Error("expected a ScriptReplyError");
}

describe("script reply decoders", () => {
  it("decode a well-formed reply, with cjson's {} as an empty array", () => {
    const out = decodeReply(
      "enqueuePlayers",
      SCRIPT_REPLIES.enqueuePlayers,
      '{"results":[{"outcome":"queued","sessionId":"eu.1","sessionReady":false}],"ready":{},"backfills":0}',
    );
    expect(out).toEqual({ results: [{ outcome: "queued", sessionId: "eu.1", sessionReady: false }], ready: [], backfills: 0 });
  });

  it("name the script and the field of a wrong shape", () => {
    const e = replyError(() =>
      decodeReply(
        "enqueuePlayers",
        SCRIPT_REPLIES.enqueuePlayers,
        '{"results":[{"outcome":"queued","sessionId":"eu.1","sessionReady":false},{"outcome":"queued","sessionId":7}],"ready":[]}',
      ),
    );
    expect(e.script).toBe("enqueuePlayers");
    expect(e.field).toBe("results[1].sessionId");
    expect(e.message).toMatch(/enqueuePlayers.*results\[1\]\.sessionId.*string/);
    expect(replyError(() => decodeReply("leaveQueue", SCRIPT_REPLIES.leaveQueue, '{"results":[{"outcome":"constructor"}]}')).field).toBe("results[0].outcome");
    expect(replyError(() => decodeReply("readStats", SCRIPT_REPLIES.readStats, "not json")).field).toBe("(reply)");
    expect(replyError(() => decodeReply("readStats", SCRIPT_REPLIES.readStats, 42)).field).toBe("(reply)");
    const stats = replyError(() =>
      decodeReply(
        "readStats",
        SCRIPT_REPLIES.readStats,
        JSON.stringify({
          waitingByMode: { duel: "x" },
          waiting: 0,
          sessionsOpen: 0,
          sessionsReady: 0,
          sessionsAnnouncing: 0,
          serversAvailable: 0,
          serversAllocated: 0,
          oldestWaitMs: 0,
          matchTimes: [],
        }),
      ),
    );
    expect(stats.field).toBe("waitingByMode.duel");
    expect(
      replyError(() => decodeReply("registerServer", SCRIPT_REPLIES.registerServer, '{"outcome":"registered","server":{"address":"a:1","state":"gone"}}'))
        .field,
    ).toBe("server.state");
  });

  it("look up tags and fields as own properties only", () => {
    expect(replyError(() => decodeReply("deregisterServer", SCRIPT_REPLIES.deregisterServer, '{"outcome":"toString"}')).field).toBe("outcome");
    expect(replyError(() => decodeReply("confirmAnnounced", SCRIPT_REPLIES.confirmAnnounced, "{}")).field).toBe("removed");
  });
});
