// @ts-check
// Authorization codes: what /authorize approved, taken once by the token endpoint.

import { randomBytes } from "node:crypto";

const CODE_LIFETIME_MS = 60_000;

/**
 * @typedef {object} CodeGrant what /authorize approved, waiting for its exchange
 * @property {string} user
 * @property {string} device
 * @property {string} redirectUri
 * @property {string} codeChallenge
 * @property {string} scope
 * @property {string | undefined} nonce
 * @property {string | undefined} dpopJkt
 * @property {number} expiresAt
 * @property {boolean} used
 * @property {string | undefined} familyId the sign-in it became
 */

export class AuthorizationCodes {
  /** @type {Map<string, CodeGrant>} */
  #grants = new Map();
  #now;

  /** @param {() => number} now */
  constructor(now) {
    this.#now = now;
  }

  /** @param {Omit<CodeGrant, "expiresAt" | "used" | "familyId">} grant @returns {string} the code */
  issue(grant) {
    const code = randomBytes(24).toString("base64url");
    this.#grants.set(code, { ...grant, expiresAt: this.#now() + CODE_LIFETIME_MS, used: false, familyId: undefined });
    return code;
  }

  /**
   * Takes a code once. A second use is refused and reported with the sign-in the first made,
   * which RFC 6749 §4.1.2 says to revoke: the code leaked.
   * @param {string} code
   * @returns {{ grant: CodeGrant } | { refusal: string, familyId?: string }}
   */
  take(code) {
    const grant = this.#grants.get(code);
    if (!grant) return { refusal: "unknown authorization code" };
    if (grant.used) return { refusal: "authorization code reuse", familyId: grant.familyId };
    grant.used = true;
    if (this.#now() >= grant.expiresAt) return { refusal: "authorization code expired" };
    return { grant };
  }
}
