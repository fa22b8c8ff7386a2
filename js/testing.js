// @ts-check
// tokenkeeper/testing: a real OAuth 2.0 authorization server on loopback, for an app's own
// tests (Node >= 20). Authorization code with PKCE, refresh-token rotation with reuse
// detection, revocation, a protected API, DPoP, CORS, a skewable clock and failure drills.
// Node built-ins only: the package has no runtime dependencies.
//
// Rule kept throughout: no error message, log line or stats entry carries token text.
//
// The code is in ./testing/, one concern per file: issuer.js (the HTTP server, routing and
// endpoints; startTestIssuer), options.js, sessions.js (refresh-token families, rotation,
// reuse detection), codes.js (authorization codes), signing.js (the issuer's tokens),
// jose.js (JWS and thumbprints), dpop.js (proofs and nonces), failures.js (failNext),
// cors.js, static.js, discovery.js, http.js (reading requests), make-jwt.js (makeJwt,
// testJwks). Its public types are testing.d.ts.

export { startTestIssuer } from "./testing/issuer.js";
export { makeJwt, testJwks } from "./testing/make-jwt.js";
