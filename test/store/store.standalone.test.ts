import { inject } from "vitest";
import { defineStoreSuite } from "./storeSuite";
import { defineRulesSuite } from "./rulesSuite";

defineStoreSuite("standalone redis-server", () => ({ kind: "standalone", url: inject("redisUrl") }));
defineRulesSuite("standalone redis-server", () => ({ kind: "standalone", url: inject("redisUrl") }));
