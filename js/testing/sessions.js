// @ts-check
// Sessions: refresh-token families, rotation, and reuse detection (a spent refresh token
// presented again revokes its whole family).

/** @import { SessionInfo } from "../testing.js" */

import { randomBytes, randomUUID } from "node:crypto";

/**
 * @typedef {object} Family
 * @property {string} id
 * @property {string} user
 * @property {string} device
 * @property {string} scope
 * @property {number} ttlSeconds
 * @property {string | undefined} jkt the DPoP key the family is bound to
 * @property {number} createdAt
 * @property {number} expiresAt
 * @property {number | undefined} lastRefreshAt
 * @property {number} refreshes
 * @property {boolean} revoked
 */

/** @typedef {{ family: Family } | { refusal: string, family?: Family }} Redemption */

export class SessionStore {
  /** @type {Map<string, Family>} */
  #families = new Map();
  /** @type {Map<string, { familyId: string, spent: boolean }>} */
  #refreshTokens = new Map();
  #now;
  #sessionMs;

  /** @param {() => number} now issuer clock, epoch ms @param {number} sessionSeconds */
  constructor(now, sessionSeconds) {
    this.#now = now;
    this.#sessionMs = sessionSeconds * 1000;
  }

  /** @param {{ user: string, device: string, scope: string, ttlSeconds: number, jkt: string | undefined }} what */
  open(what) {
    const createdAt = this.#now();
    /** @type {Family} */
    const family = {
      id: randomUUID(),
      ...what,
      createdAt,
      expiresAt: createdAt + this.#sessionMs,
      lastRefreshAt: undefined,
      refreshes: 0,
      revoked: false,
    };
    this.#families.set(family.id, family);
    return family;
  }

  /** @param {string} id */
  family(id) {
    return this.#families.get(id);
  }

  /** @param {Family} family */
  newRefreshToken(family) {
    const token = `rt_${randomBytes(32).toString("base64url")}`;
    this.#refreshTokens.set(token, { familyId: family.id, spent: false });
    return token;
  }

  /**
   * Checks a presented refresh token and, when it passes, spends it (with rotation).
   * A spent token presented again revokes its whole family: someone holds a stolen copy.
   * @param {string} token
   * @param {{ rotate: boolean, proofJkt: string | undefined }} how
   * @returns {Redemption}
   */
  redeem(token, { rotate, proofJkt }) {
    const entry = this.#refreshTokens.get(token);
    const family = entry && this.#families.get(entry.familyId);
    if (!entry || !family) return { refusal: "unknown refresh token" };
    if (entry.spent) {
      family.revoked = true;
      return { refusal: "refresh token reuse", family };
    }
    if (family.revoked) return { refusal: "session revoked", family };
    if (this.#now() >= family.expiresAt) return { refusal: "session expired", family };
    if (family.jkt !== undefined && family.jkt !== proofJkt) return { refusal: "DPoP key mismatch", family };
    if (rotate) entry.spent = true;
    return { family };
  }

  /** Revokes the family of a refresh token; false when the token is unknown. @param {string} token */
  revokeByRefreshToken(token) {
    const entry = this.#refreshTokens.get(token);
    return entry !== undefined && this.revoke(entry.familyId);
  }

  /** @param {string} id */
  revoke(id) {
    const family = this.#families.get(id);
    if (family) family.revoked = true;
    return family !== undefined;
  }

  /** @returns {SessionInfo[]} */
  list() {
    return [...this.#families.values()].map((f) => ({
      id: f.id,
      user: f.user,
      device: f.device,
      createdAt: f.createdAt,
      expiresAt: f.expiresAt,
      ...(f.lastRefreshAt !== undefined && { lastRefreshAt: f.lastRefreshAt }),
      refreshes: f.refreshes,
      revoked: f.revoked,
      ...(f.jkt !== undefined && { jkt: f.jkt }),
    }));
  }
}
