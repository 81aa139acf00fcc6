// Drives ZITADEL's own JavaScript SDKs against a running `twofold start`:
//   - @zitadel/node   (nice-grpc + ts-proto, native gRPC over h2c)
//   - @zitadel/client (connect-es gRPC transport from @connectrpc/connect-node, h2c)
//   - @zitadel/client over connect-es' Connect transport (createConnectTransport,
//     HTTP/1.1), JSON and binary, for AdminService and the v2 UserService
//
// Env: TWOFOLD_URL (e.g. http://127.0.0.1:18090), TWOFOLD_PAT (an admin token)
// and, optionally, TWOFOLD_ORG_ID: an org with a custom login policy whose
// second factors are exactly [U2F]; the management part then runs against it
// with x-zitadel-orgid.
// Prints one line per check; exits non-zero if any check fails. Each SDK part
// leaves the login policy's second factors as it found them.
//
// Run by crates/server/tests/it/js_sdk.rs; by hand: npm ci && TWOFOLD_URL=... TWOFOLD_PAT=... node sdk.mjs

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import { createAccessTokenInterceptor, createAdminClient, createManagementClient } from "@zitadel/node/dist/api/index.js";
// nice-grpc comes with @zitadel/node; its Metadata carries x-zitadel-orgid.
import { Metadata } from "nice-grpc";
import { NewAuthorizationBearerInterceptor } from "@zitadel/client";
import { createServerTransport } from "@zitadel/client/node";
import { createAdminServiceClient } from "@zitadel/client/v1";
import { createUserServiceClient } from "@zitadel/client/v2";
// connect-node comes with @zitadel/client; its Connect transport is what ZITADEL's
// docs pair with NewAuthorizationBearerInterceptor.
import { createConnectTransport } from "@connectrpc/connect-node";

const url = process.env.TWOFOLD_URL;
const pat = process.env.TWOFOLD_PAT;
const customOrg = process.env.TWOFOLD_ORG_ID;
if (!url || !pat) {
  console.error("set TWOFOLD_URL (e.g. http://127.0.0.1:18090) and TWOFOLD_PAT");
  process.exit(2);
}

// zitadel.policy.v1.SecondFactorType
const UNSPECIFIED = 0;
const OTP = 1;
const U2F = 2;
const OTP_EMAIL = 3;

// gRPC status codes (nice-grpc's Status and connect's Code share the numbering).
const CODES = {
  3: "INVALID_ARGUMENT",
  5: "NOT_FOUND",
  6: "ALREADY_EXISTS",
  7: "PERMISSION_DENIED",
  9: "FAILED_PRECONDITION",
  16: "UNAUTHENTICATED",
};
const INVALID_ARGUMENT = 3;
const NOT_FOUND = 5;
const ALREADY_EXISTS = 6;
const PERMISSION_DENIED = 7;
const FAILED_PRECONDITION = 9;
const UNAUTHENTICATED = 16;

let failures = 0;

const version = (pkg) =>
  JSON.parse(readFileSync(new URL(`./node_modules/${pkg}/package.json`, import.meta.url), "utf8")).version;
console.log(`# ${url}: @zitadel/node ${version("@zitadel/node")}, @zitadel/client ${version("@zitadel/client")}`);

/** Runs one check and prints its line; returns the check's value, or throws to abort the SDK part. */
async function check(sdk, name, fn) {
  try {
    const value = await fn();
    console.log(`ok   [${sdk}] ${name}`);
    return value;
  } catch (e) {
    failures++;
    console.log(`FAIL [${sdk}] ${name}: ${describe(e)}`);
    throw new Aborted();
  }
}

class Aborted extends Error {}

function describe(e) {
  // Keep to one line: assert appends "\n\nactual !== expected" to custom messages.
  if (e instanceof assert.AssertionError) return e.message.replace(/\s*\n\s*/g, " ");
  // nice-grpc ClientError: code, details; connect ConnectError: code, rawMessage, metadata.
  if (e?.code !== undefined) return `${e.name}: ${e.message} (code=${e.code})`;
  return e?.stack ?? String(e);
}

/**
 * Awaits a call that must fail with the given gRPC status code and, when given,
 * a message containing `id` (ZITADEL's error id, e.g. "INSTANCE-2B0ps").
 */
async function expectCode(call, code, id) {
  let err;
  try {
    await call();
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected ${CODES[code]} (${code}), but the call succeeded`);
  assert.equal(
    err.code,
    code,
    `expected ${CODES[code]} (${code}), got code ${err.code} (${err.name}: ${err.message})`,
  );
  if (id) assert.ok(err.message.includes(id), `expected the message to carry ${id}: ${err.message}`);
}

/** int64/uint64 fields: Long in @zitadel/node (ts-proto), bigint in @zitadel/client (protobuf-es). */
const num = (v) => Number(String(v));

/**
 * The shared scenario. `admin` is an AdminService client with a valid token,
 * `badAdmin` one with an invalid token; both take plain request objects.
 */
async function scenario(name, { admin, badAdmin }) {
  let before;
  let added = false;
  try {
    before = await check(name, "ListLoginPolicySecondFactors", async () => {
      const res = await admin.listLoginPolicySecondFactors({});
      assert.ok(Array.isArray(res.result), "result is an array");
      assert.ok(res.details, "details present");
      assert.equal(num(res.details.totalResult), res.result.length, "details.totalResult matches result");
      assert.ok(!res.result.includes(OTP_EMAIL), `OTP_EMAIL must not be enabled yet: [${res.result}]`);
      return [...res.result];
    });

    await check(name, "AddSecondFactorToLoginPolicy(OTP_EMAIL)", async () => {
      const res = await admin.addSecondFactorToLoginPolicy({ type: OTP_EMAIL });
      added = true;
      assert.ok(res.details, "details present");
      assert.ok(res.details.resourceOwner, "details.resourceOwner set");
    });

    await check(name, "list contains OTP_EMAIL", async () => {
      const res = await admin.listLoginPolicySecondFactors({});
      assert.deepEqual([...res.result].sort(), [...before, OTP_EMAIL].sort());
    });

    await check(name, "add OTP_EMAIL again -> ALREADY_EXISTS", () =>
      expectCode(() => admin.addSecondFactorToLoginPolicy({ type: OTP_EMAIL }), ALREADY_EXISTS, "INSTANCE-2B0ps"),
    );

    await check(name, "RemoveSecondFactorFromLoginPolicy(OTP_EMAIL)", async () => {
      const res = await admin.removeSecondFactorFromLoginPolicy({ type: OTP_EMAIL });
      added = false;
      assert.ok(res.details, "details present");
    });

    await check(name, "remove OTP_EMAIL again -> NOT_FOUND", () =>
      expectCode(() => admin.removeSecondFactorFromLoginPolicy({ type: OTP_EMAIL }), NOT_FOUND, "INSTANCE-3M9od"),
    );

    await check(name, "add UNSPECIFIED (0) -> INVALID_ARGUMENT", () =>
      expectCode(() => admin.addSecondFactorToLoginPolicy({ type: UNSPECIFIED }), INVALID_ARGUMENT),
    );

    await check(name, "bad token -> UNAUTHENTICATED", () =>
      expectCode(() => badAdmin.listLoginPolicySecondFactors({}), UNAUTHENTICATED, "AUTH-7fs1e"),
    );

    await check(name, "list is back to where it started", async () => {
      const res = await admin.listLoginPolicySecondFactors({});
      assert.deepEqual([...res.result], before);
    });
  } catch (e) {
    if (!(e instanceof Aborted)) throw e;
    if (added) {
      // Leave the policy as we found it for the next part.
      await admin.removeSecondFactorFromLoginPolicy({ type: OTP_EMAIL }).catch(() => {});
    }
  }
}

const BAD_TOKEN = "not-a-valid-token";

// @zitadel/node: createAdminClient(endpoint, ...interceptors) on a nice-grpc channel.
// An http:// endpoint gives an insecure channel (h2c, prior knowledge).
await scenario("@zitadel/node", {
  admin: createAdminClient(url, createAccessTokenInterceptor(pat)),
  badAdmin: createAdminClient(url, createAccessTokenInterceptor(BAD_TOKEN)),
});

// @zitadel/client: createServerTransport(token, opts) wraps connect-node's
// createGrpcTransport with a bearer interceptor; createAdminServiceClient binds
// zitadel.admin.v1.AdminService to it.
const transport = (token) => createServerTransport(token, { baseUrl: url, httpVersion: "2" });
await scenario("@zitadel/client", {
  admin: createAdminServiceClient(transport(pat)),
  badAdmin: createAdminServiceClient(transport(BAD_TOKEN)),
});

// The Connect protocol: the same scenario, JSON and binary.
const connectTransport = (token, useBinaryFormat) =>
  createConnectTransport({
    baseUrl: url,
    httpVersion: "1.1",
    useBinaryFormat,
    interceptors: [NewAuthorizationBearerInterceptor(token)],
  });
for (const [format, binary] of [
  ["JSON", false],
  ["binary", true],
]) {
  await scenario(`@zitadel/client connect ${format}`, {
    admin: createAdminServiceClient(connectTransport(pat, binary)),
    badAdmin: createAdminServiceClient(connectTransport(BAD_TOKEN, binary)),
  });
  await userScenario(`@zitadel/client connect ${format} v2`, createUserServiceClient(connectTransport(pat, binary)), format);
}

/** AddHumanUser, GetUserByID and ListUsers of the v2 UserService. */
async function userScenario(name, users, format) {
  const username = `connect-${format.toLowerCase()}-${Date.now()}`;
  try {
    const id = await check(name, "AddHumanUser", async () => {
      const res = await users.addHumanUser({
        username,
        profile: { givenName: "Grace", familyName: "Hopper" },
        email: { email: `${username}@example.com`, verification: { case: "isVerified", value: true } },
        passwordType: { case: "password", value: { password: "Secr3t!pass-Twofold" } },
      });
      assert.ok(res.userId, "userId set");
      return res.userId;
    });
    await check(name, "GetUserByID", async () => {
      const res = await users.getUserByID({ userId: id });
      assert.equal(res.user.username, username);
      assert.equal(res.user.type.case, "human");
      assert.equal(res.user.type.value.profile.givenName, "Grace");
    });
    await check(name, "ListUsers by user name", async () => {
      const res = await users.listUsers({
        queries: [{ query: { case: "userNameQuery", value: { userName: username } } }],
      });
      assert.deepEqual(
        res.result.map((u) => u.userId),
        [id],
      );
    });
    await check(name, "GetUserByID of an unknown user -> NOT_FOUND", () =>
      expectCode(() => users.getUserByID({ userId: "404" }), NOT_FOUND, "QUERY-Dfbg2"),
    );
  } catch (e) {
    if (!(e instanceof Aborted)) throw e;
  }
}

// @zitadel/node's ManagementService in an org context given by x-zitadel-orgid.
async function managementScenario(name, mgmt, org) {
  const inOrg = (id) => ({ metadata: Metadata({ "x-zitadel-orgid": id }) });
  try {
    await check(name, "GetLoginPolicy of the custom-policy org", async () => {
      const res = await mgmt.getLoginPolicy({}, inOrg(org));
      assert.equal(res.policy.isDefault, false);
      assert.equal(res.policy.details.resourceOwner, org);
      assert.deepEqual([...res.policy.secondFactors], [U2F]);
    });
    await check(name, "AddSecondFactorToLoginPolicy(OTP) in the org", async () => {
      const res = await mgmt.addSecondFactorToLoginPolicy({ type: OTP }, inOrg(org));
      assert.equal(res.details.resourceOwner, org);
    });
    await check(name, "org list is [U2F, OTP]", async () => {
      const res = await mgmt.listLoginPolicySecondFactors({}, inOrg(org));
      assert.deepEqual([...res.result], [U2F, OTP]);
    });
    await check(name, "add OTP again -> ALREADY_EXISTS", () =>
      expectCode(() => mgmt.addSecondFactorToLoginPolicy({ type: OTP }, inOrg(org)), ALREADY_EXISTS, "Org-2B0ps"),
    );
    await check(name, "RemoveSecondFactorFromLoginPolicy(OTP) in the org", () =>
      mgmt.removeSecondFactorFromLoginPolicy({ type: OTP }, inOrg(org)),
    );
    await check(name, "remove OTP again -> NOT_FOUND", () =>
      expectCode(() => mgmt.removeSecondFactorFromLoginPolicy({ type: OTP }, inOrg(org)), NOT_FOUND, "Org-3M9od"),
    );
    await check(name, "own org (default policy) -> FAILED_PRECONDITION", () =>
      expectCode(() => mgmt.addSecondFactorToLoginPolicy({ type: OTP_EMAIL }), FAILED_PRECONDITION, "Org-4Rf9x"),
    );
    await check(name, "unknown x-zitadel-orgid -> PERMISSION_DENIED", () =>
      expectCode(() => mgmt.listLoginPolicySecondFactors({}, inOrg("123")), PERMISSION_DENIED, "AUTH-Bs7Ds"),
    );
  } catch (e) {
    if (!(e instanceof Aborted)) throw e;
  }
}

if (customOrg) {
  await managementScenario("@zitadel/node mgmt", createManagementClient(url, createAccessTokenInterceptor(pat)), customOrg);
}

if (failures > 0) {
  console.log(`${failures} check(s) failed`);
  process.exit(1);
}
console.log("all checks passed");
process.exit(0);
