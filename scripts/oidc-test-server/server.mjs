// A real, certified OpenID Provider (oidc-provider) for the OIDC client tests.
//
//   node server.mjs <port> <state dir>
//
// One confidential client ("nexios-test", PKCE required, the redirect URIs in
// OIDC_REDIRECT_URIS, comma separated), devInteractions (any login/password signs in as
// that account id), and the test accounts below. The RSA signing key is generated at
// start and its private JWK written to <state dir>/signing-key.json, so a test can mint
// ID tokens the provider's JWKS verifies (forged-claim rows) - never do that outside tests.
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Provider from 'oidc-provider';

const port = Number(process.argv[2]);
const stateDir = process.argv[3];
const issuer = `http://127.0.0.1:${port}`;
const redirectUris = (process.env.OIDC_REDIRECT_URIS || 'https://testserver/auth/oidc/test/callback')
  .split(',');

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-rs256', alg: 'RS256', use: 'sig' };
writeFileSync(join(stateDir, 'signing-key.json'), JSON.stringify(signingKey));

// login id -> claims; "mallory" claims alice's address, unverified (the takeover row)
const ACCOUNTS = {
  alice: { email: 'alice@example.com', email_verified: true, name: 'Alice' },
  bob: { email: 'bob@example.com', email_verified: true, name: 'Bob' },
  mallory: { email: 'alice@example.com', email_verified: false, name: 'Mallory' },
};

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'nexios-test',
    client_secret: process.env.OIDC_CLIENT_SECRET || 'nexios-test-secret-0123456789abcdef',
    redirect_uris: redirectUris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [signingKey] },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  conformIdTokenClaims: false, // claims in the ID token itself (what the client reads)
  async findAccount(ctx, id) {
    const claims = ACCOUNTS[id] || { email: `${id}@example.com`, email_verified: true };
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
});
provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
