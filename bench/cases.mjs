// The benchmark cases, shared by Node and Chromium: short (~350 chars, ordinary claims),
// typical (~440 chars, two audiences) and large (~11 KB) tokens, the same token over and over
// or many distinct ones.
export function cases(tk, jose, jwtDecode, tokens) {
  const rows = [];
  for (const size of ["short", "typical", "large"]) {
    for (const workload of ["same", "distinct"]) {
      const inputs = workload === "same" ? [tokens[size][0]] : tokens[size];
      const group = (what) => `${what} ${size} ${workload}`;
      rows.push(
        { group: group("decode"), impl: "tokenkeeper decodeJwt", fn: tk.decodeJwt, inputs },
        { group: group("decode"), impl: "jose decodeJwt", fn: jose.decodeJwt, inputs },
        { group: group("decode"), impl: "jwt-decode jwtDecode", fn: jwtDecode, inputs },
        { group: group("exp"), impl: "tokenkeeper expiresAt", fn: tk.expiresAt, inputs },
        { group: group("exp"), impl: "tokenkeeper isExpired", fn: tk.isExpired, inputs },
        { group: group("exp"), impl: "jose decodeJwt(t).exp", fn: (t) => jose.decodeJwt(t).exp, inputs },
        { group: group("exp"), impl: "jwt-decode jwtDecode(t).exp", fn: (t) => jwtDecode(t).exp, inputs },
      );
    }
  }
  return rows;
}
