// @ts-check
// OpenID Connect discovery: the document at /.well-known/openid-configuration. (The JWKS it
// points to is the signer's, served at /jwks.)

/**
 * @param {{ origin: string, issuer: string, passwordGrant: boolean, dpop: boolean }} issuer
 */
export function discoveryDocument({ origin, issuer, passwordGrant, dpop }) {
  const grants = ["authorization_code", "refresh_token", ...(passwordGrant ? ["password"] : [])];
  return {
    issuer,
    authorization_endpoint: `${origin}/authorize`,
    token_endpoint: `${origin}/token`,
    revocation_endpoint: `${origin}/revoke`,
    jwks_uri: `${origin}/jwks`,
    response_types_supported: ["code"],
    grant_types_supported: grants,
    code_challenge_methods_supported: ["S256"],
    token_endpoint_auth_methods_supported: ["none"],
    revocation_endpoint_auth_methods_supported: ["none"],
    scopes_supported: ["openid", "profile", "offline_access"],
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: ["ES256"],
    authorization_response_iss_parameter_supported: true,
    ...(dpop && { dpop_signing_alg_values_supported: ["ES256"] }),
  };
}
